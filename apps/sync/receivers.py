"""What the sync does when lower apps tell it something (they never import us)."""

from __future__ import annotations

from apps.sync.models import SyncJob


def sync_after_catalog_change(sender, user_id: int, product_ids=None, **kwargs) -> None:
    """A product changed in Evotor (webhook) or a refresh found changes: publish them soon.

    The sync's own catalog refresh is ignored: the run that did it publishes the changes.
    """
    from apps.sync.services import serving_user
    from apps.sync.tasks import request_sync

    if serving_user.get() == user_id:
        return
    request_sync(user_id, SyncJob.Trigger.WEBHOOK, if_enabled=True)


def stop_syncing(sender, user, **kwargs) -> None:
    """account_deleting: no further run. VK items stay where they are (docs/architecture.md)."""
    from apps.sync.services import stop_for_user

    stop_for_user(user)


def publishing_states(sender, user, products, stores=(), groups=(), **kwargs):
    """catalog_page: what each row of a catalog page will do in VK (apps/sync/publishing.py)."""
    from apps.sync.publishing import states_for_page

    return states_for_page(user, products, stores, groups)
