"""Sync incident e-mails: one per incident, in the merchant's language, claimed once."""

from __future__ import annotations

import pytest
from django.core import mail
from model_bakery import baker

from apps.sync import notify
from apps.sync.models import SyncConfig, SyncJob
from apps.sync.services import _after_run, config_for

pytestmark = pytest.mark.django_db
S = SyncJob.Status


@pytest.fixture
def config(merchant):
    merchant.language = "en"
    merchant.save()
    return config_for(merchant)


def run(config, status, code=""):
    job = baker.make(SyncJob, user=config.user, status=status, error_code=code,
                     error_summary="technical english")
    _after_run(config, job)
    config.refresh_from_db()
    return job


def subjects() -> list[str]:
    return [m.subject for m in mail.outbox]


def test_one_failed_run_is_not_an_incident(config):
    run(config, S.FAILED, "vk_unavailable")
    assert mail.outbox == []


def test_failing_runs_email_once_with_a_link_to_the_run(config, settings):
    run(config, S.FAILED, "vk_unavailable")
    job = run(config, S.FAILED, "vk_unavailable")
    run(config, S.FAILED, "vk_unavailable")
    assert subjects() == ["Your goods are not being updated in VK"]
    body = mail.outbox[0].body
    assert f"/sync/jobs/{job.pk}" in body and "The last 2 sync runs failed" in body
    assert "technical english" not in body
    assert config.incident_state == "failing"


def test_pausing_escalates_and_recovery_closes_the_incident(config, settings):
    settings.SYNC_MAX_CONSECUTIVE_FAILURES = 3
    for _ in range(3):
        run(config, S.FAILED, "vk_auth")
    assert config.is_paused
    assert subjects() == ["Your goods are not being updated in VK", "Sync to VK is paused"]
    assert "paused itself after 3 failed runs" in mail.outbox[1].body
    run(config, S.FAILED, "vk_auth")  # still paused: nothing new to say
    assert len(mail.outbox) == 2
    SyncConfig.objects.filter(pk=config.pk).update(paused_reason="", consecutive_failures=0)
    run(config, S.SUCCESS)
    assert subjects()[-1] == "Sync to VK works again"
    run(config, S.SUCCESS)
    assert len(mail.outbox) == 3
    assert config.incident_state == ""


def test_success_without_an_incident_sends_nothing(config):
    run(config, S.SUCCESS)
    run(config, S.PARTIAL)
    run(config, S.SKIPPED)
    assert mail.outbox == []


def test_the_claim_lets_only_one_worker_send(config):
    SyncConfig.objects.filter(pk=config.pk).update(consecutive_failures=2)
    job = baker.make(SyncJob, user=config.user, status=S.FAILED)
    stale = SyncConfig.objects.get(pk=config.pk)
    assert notify.notify_after_run(config.pk, job) == "sync_failing"
    # A second worker that read the same state before the first one claimed it:
    SyncConfig.objects.filter(pk=config.pk).update(incident_state="")
    SyncConfig.objects.filter(pk=config.pk).update(incident_state="failing")
    assert stale.incident_state == ""
    assert notify.notify_after_run(config.pk, job) is None
    assert len(mail.outbox) == 1


def test_a_failed_send_gives_the_claim_back(config, monkeypatch):
    SyncConfig.objects.filter(pk=config.pk).update(consecutive_failures=2)
    job = baker.make(SyncJob, user=config.user, status=S.FAILED)

    def broken(*args, **kwargs):
        raise OSError("SMTP down")

    monkeypatch.setattr(notify, "send_email", broken)
    assert notify.notify_after_run(config.pk, job) is None
    assert SyncConfig.objects.get(pk=config.pk).incident_state == ""
    monkeypatch.undo()
    assert notify.notify_after_run(config.pk, job) == "sync_failing"


def test_emails_are_in_the_merchants_language(config):
    config.user.language = "ru"
    config.user.save()
    SyncConfig.objects.filter(pk=config.pk).update(consecutive_failures=2)
    job = baker.make(SyncJob, user=config.user, status=S.FAILED)
    notify.notify_after_run(config.pk, job)
    assert mail.outbox[0].to == [config.user.email]


def test_an_email_failure_never_fails_the_run(config, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(notify, "notify_after_run", broken)
    run(config, S.FAILED)  # no exception
    assert config.consecutive_failures == 1
