"""What the catalog does when connections tell it something."""

from __future__ import annotations

from apps.connections.models import EvotorConnection


def refresh_after_evotor_connects(sender, connection: EvotorConnection, **kwargs) -> None:
    """The first refresh runs right after Evotor connects (installed, linked or pasted)."""
    from apps.catalog.tasks import enqueue_refresh

    enqueue_refresh(connection.user_id, full=True)
