"""Old sync runs go with the daily prune (connections' ``pruning`` signal, prune_logs).

A finished run older than SYNC_JOB_RETENTION_DAYS is deleted with its item errors, except each
merchant's last run: the pages and the admin show it as "the last sync", however long ago it
was. Runs still going are never touched, whatever their age (close_interrupted ends them).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import OuterRef, Subquery

from apps.accounts.models import User
from apps.sync.models import SyncItemError, SyncJob


def last_run_ids():
    """Each merchant's latest run, as a subquery (it stays in the database)."""
    latest = SyncJob.objects.filter(user=OuterRef("pk")).order_by("-started_at", "-id")
    return (
        User.objects.annotate(last=Subquery(latest.values("pk")[:1]))
        .filter(last__isnull=False)
        .values("last")
    )


def prune_old_runs(now: datetime) -> dict[str, int]:
    """Delete what is past its retention; {"sync runs": n, "sync item errors": m}."""
    cutoff = now - timedelta(days=settings.SYNC_JOB_RETENTION_DAYS)
    old = SyncJob.objects.filter(started_at__lt=cutoff, status__in=SyncJob.FINISHED).exclude(
        pk__in=last_run_ids()
    )
    _total, per_model = old.delete()
    return {
        "sync runs": per_model.get(SyncJob._meta.label, 0),
        "sync item errors": per_model.get(SyncItemError._meta.label, 0),
    }


def prune_on_signal(sender, now: datetime, **kwargs) -> dict[str, int]:
    """Receiver of apps.connections.signals.pruning."""
    return prune_old_runs(now)
