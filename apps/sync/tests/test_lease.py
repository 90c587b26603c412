"""The per-merchant lease: conditional UPDATEs decide who runs; nothing waits, nothing is lost."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.sync import lease
from apps.sync.models import SyncConfig

pytestmark = pytest.mark.django_db


@pytest.fixture
def config(merchant) -> SyncConfig:
    return SyncConfig.objects.create(user=merchant)


def test_only_one_claimant_wins(config):
    assert lease.claim(config.pk, "a")
    assert not lease.claim(config.pk, "b")


def test_an_expired_lease_can_be_taken_over(config, settings):
    settings.SYNC_LEASE_SECONDS = 60
    assert lease.claim(config.pk, "a")
    later = timezone.now() + timedelta(seconds=61)
    assert lease.claim(config.pk, "b", now=later)
    assert not lease.renew(config.pk, "a")  # the old holder learns it lost the lease


def test_only_the_holder_releases(config):
    lease.claim(config.pk, "a")
    assert not lease.release(config.pk, "b")
    assert lease.holds(config.pk, "a")
    assert lease.release(config.pk, "a")
    assert lease.claim(config.pk, "b")


def test_a_trigger_during_the_run_keeps_the_holder_running(config):
    lease.claim(config.pk, "a")
    lease.start_serving(config.pk, "a", timezone.now())
    lease.request(config.pk, "webhook")
    assert not lease.release(config.pk, "a")
    assert lease.holds(config.pk, "a")
    lease.start_serving(config.pk, "a", timezone.now())
    assert lease.release(config.pk, "a")


def test_serving_clears_only_triggers_older_than_the_pass(config):
    lease.claim(config.pk, "a")
    started = timezone.now()
    lease.request(config.pk, "manual", now=started + timedelta(seconds=1))
    lease.start_serving(config.pk, "a", started)
    assert SyncConfig.objects.get(pk=config.pk).requested_at is not None


def test_one_queued_task_is_enough(config):
    assert lease.claim_queue_slot(config.pk, stale_after=60)
    assert not lease.claim_queue_slot(config.pk, stale_after=60)
    lease.free_queue_slot(config.pk)
    assert lease.claim_queue_slot(config.pk, stale_after=60)


def test_a_lost_queued_task_does_not_block_triggers_forever(config):
    assert lease.claim_queue_slot(config.pk, stale_after=60)
    later = timezone.now() + timedelta(seconds=61)
    assert lease.claim_queue_slot(config.pk, stale_after=60, now=later)


def test_request_and_claim_queues_once_and_stamps_every_trigger(config):
    first = timezone.now()
    assert lease.request_and_claim(config.pk, "webhook", now=first, stale_after=60)
    later = first + timedelta(seconds=5)
    assert not lease.request_and_claim(config.pk, "webhook", now=later, stale_after=60)
    config.refresh_from_db()
    assert config.requested_at == later and config.task_queued_at == first
    much_later = first + timedelta(seconds=61)  # the queued task was lost
    assert lease.request_and_claim(config.pk, "manual", now=much_later, stale_after=60)


def test_request_if_queued_stamps_only_while_a_run_is_queued(config):
    first, user_id = timezone.now(), config.user_id
    assert not lease.request_if_queued(user_id, "webhook", now=first, stale_after=60)
    assert SyncConfig.objects.get(pk=config.pk).requested_at is None  # the caller queues
    assert lease.request_and_claim_slot(config.pk, "webhook", now=first, stale_after=60)
    later = first + timedelta(seconds=5)
    assert lease.request_if_queued(user_id, "webhook", now=later, stale_after=60)
    config.refresh_from_db()
    assert (config.requested_at, config.requested_trigger) == (later, "webhook")
    assert config.task_queued_at == first
    lost = first + timedelta(seconds=61)  # the queued task is presumed lost: queue another
    assert not lease.request_if_queued(user_id, "webhook", now=lost, stale_after=60)


@pytest.mark.parametrize("change", [{"is_enabled": False}, {"paused_reason": "failures"}])
def test_request_if_queued_enabled_only_skips_a_sync_that_is_off_or_paused(config, change):
    SyncConfig.objects.filter(pk=config.pk).update(is_enabled=True)
    assert lease.request_and_claim_slot(config.pk, "manual", stale_after=60)
    assert lease.request_if_queued(config.user_id, "webhook", enabled_only=True, stale_after=60)
    SyncConfig.objects.filter(pk=config.pk).update(**change)
    stamp = SyncConfig.objects.get(pk=config.pk).requested_at
    assert not lease.request_if_queued(config.user_id, "webhook", enabled_only=True,
                                       stale_after=60)
    assert SyncConfig.objects.get(pk=config.pk).requested_at == stamp


def test_request_if_queued_touches_only_that_merchant(config, other_merchant):
    other = SyncConfig.objects.create(user=other_merchant)
    assert lease.request_and_claim_slot(other.pk, "manual", stale_after=60)
    assert not lease.request_if_queued(config.user_id, "webhook", stale_after=60)
    assert SyncConfig.objects.get(pk=other.pk).requested_trigger == "manual"


def test_request_and_claim_slot_records_the_trigger_when_another_caller_won(config):
    first = timezone.now()
    assert lease.request_and_claim_slot(config.pk, "webhook", now=first, stale_after=60)
    later = first + timedelta(seconds=1)
    assert not lease.request_and_claim_slot(config.pk, "schedule", now=later, stale_after=60)
    config.refresh_from_db()
    assert (config.requested_at, config.requested_trigger) == (later, "schedule")
    assert config.task_queued_at == first
