"""django-q entry points for the catalog (thin: the work is in services.py).

Tasks take primary keys only; they may run twice (the ORM broker delivers at least once) and a
refresh is idempotent, so that is harmless.
"""

from __future__ import annotations

from django_q.tasks import async_task

from apps.accounts.models import User
from apps.catalog.services import RefreshSkipped, refresh_catalog
from apps.connections.models import ConnectionState, EvotorConnection

REFRESH_TASK = "apps.catalog.tasks.refresh_catalog_for_user"


def enqueue_refresh(user_id: int, *, full: bool = False) -> str:
    return async_task(REFRESH_TASK, user_id, full=full, group="catalog-refresh")


def refresh_all_catalogs() -> int:
    """Hourly: one refresh task per merchant whose Evotor connection is usable."""
    user_ids = list(
        EvotorConnection.objects.filter(
            user__isnull=False, user__is_active=True, user__is_staff=False
        )
        .exclude(state=ConnectionState.REVOKED)
        .exclude(cloud_token_encrypted="")
        .values_list("user_id", flat=True)
    )
    for user_id in user_ids:
        enqueue_refresh(user_id)
    return len(user_ids)


def refresh_catalog_for_user(user_id: int, full: bool = False) -> str:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return f"skipped: no active user {user_id}"
    try:
        run = refresh_catalog(user, full=full)
    except RefreshSkipped as exc:
        return f"skipped: {exc}"
    return f"{run.status}: {run.products} products, {run.removed} removed, {run.error}".strip()
