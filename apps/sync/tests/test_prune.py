"""prune_logs: old runs and their item errors go, each merchant's last run and runs still going
stay; audit entries go after their own retention."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.models import AuditEntry
from apps.connections import health, tasks
from apps.sync.models import SyncItemError, SyncJob

pytestmark = pytest.mark.django_db


def _job(user, days_ago: float, status=SyncJob.Status.SUCCESS, errors: int = 0) -> SyncJob:
    job = SyncJob.objects.create(
        user=user, triggered_by=SyncJob.Trigger.SCHEDULE, status=status,
        started_at=timezone.now() - timedelta(days=days_ago),
    )
    for n in range(errors):
        SyncItemError.objects.create(job=job, evotor_product_id=f"p{n}", code="vk:100")
    return job


def test_old_runs_go_with_their_item_errors_but_each_merchants_last_run_stays(
    settings, merchant, other_merchant
):
    settings.SYNC_JOB_RETENTION_DAYS = 90
    old = _job(merchant, 120, SyncJob.Status.PARTIAL, errors=2)
    older = _job(merchant, 200, SyncJob.Status.FAILED, errors=1)
    recent = _job(merchant, 10)
    last_of_other = _job(other_merchant, 300, SyncJob.Status.PARTIAL, errors=1)
    stuck = _job(other_merchant, 400, SyncJob.Status.RUNNING)
    result = health.prune_old_logs()
    assert result.others == {"sync runs": 2, "sync item errors": 3}
    remaining = set(SyncJob.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, last_of_other.pk, stuck.pk}
    assert not remaining & {old.pk, older.pk}
    assert SyncItemError.objects.get().job == last_of_other


def test_a_merchant_whose_runs_are_all_old_keeps_the_latest(settings, merchant):
    settings.SYNC_JOB_RETENTION_DAYS = 30
    _job(merchant, 100)
    latest = _job(merchant, 40)
    health.prune_old_logs()
    assert list(SyncJob.objects.all()) == [latest]


def test_retention_is_a_setting(settings, merchant):
    settings.SYNC_JOB_RETENTION_DAYS = 5
    _job(merchant, 6)
    _job(merchant, 1)
    assert health.prune_old_logs().others["sync runs"] == 1


def test_audit_entries_go_after_their_retention(settings, merchant):
    settings.AUDIT_RETENTION_DAYS = 365
    now = timezone.now()
    for days in (400, 300):
        entry = audit.record("sync.paused", subject=merchant)
        AuditEntry.objects.filter(pk=entry.pk).update(created_at=now - timedelta(days=days))
    assert health.prune_old_logs().audit_entries == 1
    assert AuditEntry.objects.count() == 1


def test_command_and_daily_task_report_the_counts(settings, merchant, capsys):
    settings.SYNC_JOB_RETENTION_DAYS = 90
    _job(merchant, 200, errors=1)
    _job(merchant, 1)
    call_command("prune_logs")
    out = capsys.readouterr().out
    assert "1 sync runs, 1 sync item errors" in out and "0 audit log entries" in out
    assert "0 sync runs" in tasks.prune_old_logs()
