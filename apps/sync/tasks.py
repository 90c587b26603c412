"""django-q entry points for the sync (thin: the work is in services.py).

Tasks get primary keys only, never tokens. The broker delivers at least once and a task may be
killed at any line: the lease (lease.py) keeps two runs of one merchant apart, and the run
itself is idempotent (executor.py), so a repeated task costs a few reads at most.
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone
from django_q.tasks import async_task

from apps.accounts.models import User
from apps.connections.models import ConnectionState
from apps.sync import lease
from apps.sync.models import SyncConfig, SyncJob
from apps.sync.services import config_for, run_sync

log = logging.getLogger(__name__)

RUN_TASK = "apps.sync.tasks.run_sync_for_user"
# Whole-run failures worth trying again soon: the provider was down or answered nonsense.
RETRY_SOON_CODES = frozenset({"vk_unavailable", "vk_bad_reply", "evotor_unavailable"})
# A queued task not started after this long is presumed lost; another may be queued.
QUEUE_STALE_SECONDS = 15 * 60
POLL_SECONDS = 0.25


def request_sync(
    user_id: int, trigger: str, *, only: list[str] | None = None, if_enabled: bool = False
) -> bool:
    """Record a trigger and queue a run unless one is queued already (it will serve this
    trigger too). True when a task was queued. ``if_enabled``: only for a merchant whose sync
    is on and not paused.

    While a run is queued (a burst of webhooks: every delivery after the first) this is one
    UPDATE and nothing is enqueued (the queue slot, docs/architecture.md)."""
    if only is None and lease.request_if_queued(user_id, trigger, enabled_only=if_enabled,
                                                stale_after=QUEUE_STALE_SECONDS):
        return False
    configs = SyncConfig.objects.filter(user_id=user_id)
    if if_enabled:
        configs = configs.filter(is_enabled=True, paused_reason="")
    config_id = configs.values_list("pk", flat=True).first()
    if config_id is None:
        return False
    if only is not None:
        lease.request(config_id, trigger)
    elif not lease.request_and_claim_slot(config_id, trigger, stale_after=QUEUE_STALE_SECONDS):
        return False
    async_task(RUN_TASK, user_id, trigger, only, group="sync", task_name=f"sync-{user_id}")
    return True


def run_sync_for_user(user_id: int, trigger: str = "manual", only: list[str] | None = None) -> str:
    """Run one merchant's sync (incremental catalog refresh, plan, execute, record)."""
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        return f"skipped: no active user {user_id}"
    config = config_for(user)
    if only is None:
        lease.free_queue_slot(config.pk)
    if trigger == SyncJob.Trigger.WEBHOOK:
        _debounce(config.pk)
    job = run_sync(
        user, trigger, only=frozenset(only) if only else None,
        on_continue=lambda: request_sync(user_id, SyncJob.Trigger.CONTINUATION),
    )
    if job is None:
        return "skipped: another run holds the lease and will serve this trigger"
    retry_later(job)
    return (
        f"{job.status}: {job.items_created} created, {job.items_updated} updated, "
        f"{job.items_hidden} hidden, {job.items_deleted} deleted, {job.items_failed} failed"
        + (f" ({job.error_summary})" if job.error_summary else "")
    )


def retry_later(job: SyncJob) -> None:
    """A run that failed because VK or Evotor was unreachable is tried again soon (1, 2, 4 …
    minutes, at most 30), not only at the next hourly run: the merchant should not wait an hour
    for a network blip. One pending retry per merchant (a ONCE schedule, replaced)."""
    if job.status != SyncJob.Status.FAILED or job.error_code not in RETRY_SOON_CODES:
        return
    from django_q.models import Schedule

    failures = SyncConfig.objects.filter(user_id=job.user_id).values_list(
        "consecutive_failures", flat=True
    ).first() or 1
    delay = min(60 * 2 ** (failures - 1), 30 * 60)
    Schedule.objects.update_or_create(
        name=f"sync-retry-{job.user_id}",
        defaults={
            "func": RUN_TASK,
            "args": repr((job.user_id, SyncJob.Trigger.AUTO_RETRY)),
            "schedule_type": Schedule.ONCE,
            "repeats": -1,
            "next_run": timezone.now() + timedelta(seconds=delay),
        },
    )


def _debounce(config_id: int) -> None:
    """Wait for a quiet moment: an Evotor edit session sends many webhooks in a few seconds,
    and one run should carry them all (bounded, so a constant stream cannot starve VK)."""
    quiet, longest = settings.SYNC_DEBOUNCE_SECONDS, settings.SYNC_DEBOUNCE_MAX_SECONDS
    deadline = time.monotonic() + longest
    while time.monotonic() < deadline:
        stamp = SyncConfig.objects.filter(pk=config_id).values_list("requested_at", flat=True)
        last = stamp.first()
        if last is None or (timezone.now() - last).total_seconds() >= quiet:
            return
        time.sleep(POLL_SECONDS)


def eligible_user_ids() -> list[int]:
    """Merchants whose sync is on, not paused, with both connections usable (not staff)."""
    usable_evotor = Q(user__evotor_connection__state__in=[ConnectionState.ONLINE,
                                                          ConnectionState.OFFLINE]) & ~Q(
        user__evotor_connection__cloud_token_encrypted=""
    )
    usable_vk = (
        Q(user__vk_connection__group_id__isnull=False)
        & ~Q(user__vk_connection__state=ConnectionState.REVOKED)
        & ~Q(user__vk_connection__access_token_encrypted="")
    )
    return list(
        SyncConfig.objects.filter(
            usable_evotor, usable_vk, is_enabled=True, paused_reason="",
            user__is_active=True, user__is_staff=False,
        ).values_list("user_id", flat=True)
    )


def run_sync_all() -> int:
    """Hourly at :00: a run for every eligible merchant."""
    user_ids = eligible_user_ids()
    for user_id in user_ids:
        request_sync(user_id, SyncJob.Trigger.SCHEDULE)
    return len(user_ids)
