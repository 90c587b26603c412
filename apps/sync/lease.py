"""The per-merchant lease and the trigger flags on SyncConfig (docs/architecture.md, "Lease").

One sync per merchant at a time, whatever triggered it, across processes and machines. Every
step is one conditional UPDATE whose row count says who won, so it works the same on SQLite and
MariaDB, needs no long transaction and survives crashes: a lease whose holder died expires.

Triggers never wait for the lease. Each one stamps ``requested_at``; the run that holds the
lease clears the stamp when it starts serving it and checks it again before releasing, so a
trigger that arrives during a run is served by one more pass of the same holder, never lost.
"""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta
from functools import cache

from django.conf import settings
from django.db import connection
from django.db.models import Q
from django.utils import timezone

from apps.sync.models import SyncConfig


def new_owner() -> str:
    return secrets.token_hex(16)


def _expiry(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.SYNC_LEASE_SECONDS)


def claim(config_id: int, owner: str, *, now: datetime | None = None) -> bool:
    """Take the lease if it is free or expired. True when this caller holds it now."""
    now = now or timezone.now()
    free = Q(lease_owner="") | Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now)
    won = SyncConfig.objects.filter(free, pk=config_id).update(
        lease_owner=owner, lease_expires_at=_expiry(now)
    )
    return won == 1


def renew(config_id: int, owner: str, *, now: datetime | None = None) -> bool:
    """Extend the lease; False when it was lost (expired and taken by another run)."""
    now = now or timezone.now()
    kept = SyncConfig.objects.filter(pk=config_id, lease_owner=owner).update(
        lease_expires_at=_expiry(now)
    )
    return kept == 1


def start_serving(config_id: int, owner: str, started: datetime) -> None:
    """Clear the triggers this pass serves: those stamped before it started."""
    SyncConfig.objects.filter(pk=config_id, lease_owner=owner, requested_at__lte=started).update(
        requested_at=None, requested_trigger=""
    )


def release(config_id: int, owner: str) -> bool:
    """Give the lease back unless a trigger arrived meanwhile.

    True: released. False: a trigger is pending (``requested_at`` set) and the caller still
    holds the lease, so it must run again; or the lease was lost (check :func:`holds`).
    """
    released = SyncConfig.objects.filter(
        pk=config_id, lease_owner=owner, requested_at__isnull=True
    ).update(lease_owner="", lease_expires_at=None)
    return released == 1


def holds(config_id: int, owner: str) -> bool:
    return SyncConfig.objects.filter(pk=config_id, lease_owner=owner).exists()


def force_release(config_id: int, owner: str) -> None:
    """Release whatever is pending (the run cannot go on: disabled, connection lost)."""
    SyncConfig.objects.filter(pk=config_id, lease_owner=owner).update(
        lease_owner="", lease_expires_at=None
    )


def is_running(config: SyncConfig, *, now: datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(config.lease_owner) and (
        config.lease_expires_at is None or config.lease_expires_at >= now
    )


def request(config_id: int, trigger: str, *, now: datetime | None = None) -> None:
    """Record a trigger: the next (or current) run serves it."""
    now = now or timezone.now()
    SyncConfig.objects.filter(pk=config_id).update(requested_at=now, requested_trigger=trigger)


def claim_queue_slot(config_id: int, *, now: datetime | None = None, stale_after: float) -> bool:
    """True when the caller should enqueue a run task: none is queued (or the queued one is
    older than ``stale_after`` seconds, e.g. lost with a dead broker row)."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=stale_after)
    slot = Q(task_queued_at__isnull=True) | Q(task_queued_at__lt=stale)
    return SyncConfig.objects.filter(slot, pk=config_id).update(task_queued_at=now) == 1


def free_queue_slot(config_id: int) -> None:
    SyncConfig.objects.filter(pk=config_id).update(task_queued_at=None)


@cache
def _request_if_queued_statement(vendor: str, enabled_only: bool) -> str:
    """The UPDATE of :func:`request_if_queued`, from the model's metadata (``vendor`` keys the
    quoting). Written out: the ORM spends ~0.4 ms of CPU building it, and every webhook
    delivery runs it."""
    quote, meta = connection.ops.quote_name, SyncConfig._meta

    def column(name: str) -> str:
        return quote(meta.get_field(name).column)

    # Names from the model's metadata, every value a parameter (hence the noqa: S608).
    # A NULL task_queued_at fails the comparison: no task queued.
    where = f"{column('user')} = %s AND {column('task_queued_at')} >= %s"
    if enabled_only:
        where += f" AND {column('is_enabled')} = %s AND {column('paused_reason')} = %s"
    stamp = f"{column('requested_at')} = %s, {column('requested_trigger')} = %s"
    return f"UPDATE {quote(meta.db_table)} SET {stamp} WHERE {where}"  # noqa: S608


def request_if_queued(user_id: int, trigger: str, *, enabled_only: bool = False,
                      now: datetime | None = None, stale_after: float) -> bool:
    """:func:`request` for the merchant ``user_id`` if a run task is queued for them already:
    True when one was, and then the trigger is recorded and nothing more is to be done.
    ``enabled_only``: only if their sync is on and not paused. One UPDATE: what every delivery
    of a burst of webhooks after the first costs the sync."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=stale_after)
    field = SyncConfig._meta.get_field
    params = [
        field("requested_at").get_db_prep_value(now, connection), trigger, user_id,
        field("task_queued_at").get_db_prep_value(stale, connection),
    ]
    if enabled_only:
        params += [field("is_enabled").get_db_prep_value(True, connection), ""]
    with connection.cursor() as cursor:
        cursor.execute(_request_if_queued_statement(connection.vendor, enabled_only), params)
        return cursor.rowcount == 1


def request_and_claim_slot(config_id: int, trigger: str, *, now: datetime | None = None,
                           stale_after: float) -> bool:
    """:func:`request` and :func:`claim_queue_slot` in one UPDATE, for a caller that found no
    run queued (:func:`request_if_queued`). True when the caller should enqueue a run task."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=stale_after)
    slot = Q(task_queued_at__isnull=True) | Q(task_queued_at__lt=stale)
    stamp = {"requested_at": now, "requested_trigger": trigger}
    if SyncConfig.objects.filter(slot, pk=config_id).update(**stamp, task_queued_at=now):
        return True
    request(config_id, trigger, now=now)  # another caller queued one in between
    return False


def request_and_claim(config_id: int, trigger: str, *, now: datetime | None = None,
                      stale_after: float) -> bool:
    """:func:`request` then :func:`claim_queue_slot`, in one UPDATE while a run is queued
    already. True when the caller should enqueue a run task."""
    now = now or timezone.now()
    stale = now - timedelta(seconds=stale_after)
    queued = Q(task_queued_at__isnull=False, task_queued_at__gte=stale)
    if SyncConfig.objects.filter(queued, pk=config_id).update(requested_at=now,
                                                              requested_trigger=trigger):
        return False
    return request_and_claim_slot(config_id, trigger, now=now, stale_after=stale_after)
