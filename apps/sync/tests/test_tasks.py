"""Triggers and tasks: who gets a run, how webhooks start one, the commands."""

from __future__ import annotations

from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.models import OrmQ

from apps.connections.models import ConnectionState
from apps.sandbox.services import outbound
from apps.sandbox.services.seed import change_product
from apps.sandbox.services.world import set_config
from apps.sync import tasks
from apps.sync.models import SyncConfig, SyncJob
from apps.sync.tests.conftest import connect

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NO_WAIT = outbound.Delivery(attempts=1, sleep=lambda seconds: None, timeout=10.0)


def test_the_hourly_job_picks_enabled_merchants_with_both_connections(shop, other_merchant,
                                                                      staff_user):
    other = connect(other_merchant)
    SyncConfig.objects.filter(pk=other.config.pk).update(paused_reason="5 failed runs")
    assert tasks.eligible_user_ids() == [shop.user.pk]

    SyncConfig.objects.filter(pk=shop.config.pk).update(is_enabled=False)
    assert tasks.eligible_user_ids() == []


def test_a_revoked_connection_takes_the_merchant_out_of_the_hourly_job(shop):
    vk = shop.user.vk_connection
    vk.state = ConnectionState.REVOKED
    vk.save()
    assert tasks.eligible_user_ids() == []


def test_the_hourly_job_runs_every_eligible_merchant(shop, catalog):
    assert tasks.run_sync_all() == 1  # tasks run inline in tests
    job = SyncJob.objects.get(user=shop.user)
    assert job.triggered_by == SyncJob.Trigger.SCHEDULE and job.items_created == 5


def test_an_evotor_product_change_reaches_vk_through_the_webhook(shop, catalog, sandbox,
                                                                 settings):
    shop.sync()
    set_config(evotor_events_url=f"{sandbox}/api/v2/evotor/events",
               evotor_events_secret=settings.EVOTOR_HOOK_SECRET)
    tea = change_product(catalog["tea"], price=Decimal("99.00"))

    delivered = outbound.send_product_event(tea, "updated", delivery=NO_WAIT)

    assert delivered.status_code == 200
    assert shop.item(tea).price == 9900
    job = SyncJob.objects.filter(user=shop.user).first()
    assert job.triggered_by == SyncJob.Trigger.WEBHOOK and job.items_updated == 1


def test_a_disabled_sync_ignores_webhooks(shop, catalog, sandbox, settings):
    SyncConfig.objects.filter(pk=shop.config.pk).update(is_enabled=False)
    set_config(evotor_events_url=f"{sandbox}/api/v2/evotor/events",
               evotor_events_secret=settings.EVOTOR_HOOK_SECRET)

    outbound.send_product_event(catalog["tea"], "updated", delivery=NO_WAIT)

    assert not SyncJob.objects.exists()
    assert shop.items().count() == 0


def test_sync_user_prints_the_summary(shop, catalog):
    out = StringIO()
    call_command("sync_user", shop.user.email, stdout=out)
    assert "created 5" in out.getvalue()


def test_sync_user_dry_run_writes_nothing_to_vk(shop, catalog):
    out = StringIO()
    call_command("sync_user", shop.user.email, "--dry-run", stdout=out)
    assert "create 5" in out.getvalue() and "nothing was written" in out.getvalue()
    assert shop.items().count() == 0


def test_sync_user_exits_non_zero_when_the_run_failed(shop, catalog):
    shop.vk.token.is_revoked = True
    shop.vk.token.save()
    with pytest.raises(CommandError, match="failed"):
        call_command("sync_user", shop.user.email, stdout=StringIO())
    assert shop.user.vk_connection.__class__.objects.get(user=shop.user).state == "revoked"


def test_sync_user_refuses_an_unknown_email(db):
    with pytest.raises(CommandError, match="No account"):
        call_command("sync_user", "nobody@example.com")


def test_refresh_catalog_command_fills_the_cache(shop, catalog):
    out = StringIO()
    call_command("refresh_catalog", shop.user.email, "--full", stdout=out)
    assert "5 products written" in out.getvalue()


def test_five_failed_runs_pause_the_sync(shop, catalog, settings):
    settings.SYNC_MAX_CONSECUTIVE_FAILURES = 2
    shop.vk.group.market_enabled = False
    shop.vk.group.save()

    first, second = shop.sync(), shop.sync()

    assert first.status == second.status == SyncJob.Status.FAILED
    assert first.error_code == "market_disabled"
    config = SyncConfig.objects.get(pk=shop.config.pk)
    assert config.consecutive_failures == 2 and "2 failed runs" in config.paused_reason
    assert shop.sync().status == SyncJob.Status.SKIPPED  # paused: nothing is attempted


def test_a_run_that_could_not_reach_vk_is_retried_within_minutes(shop, catalog):
    from django_q.models import Schedule

    from apps.sandbox.services.world import inject_fault

    inject_fault("vk", "market.get", count=None, http_status=503)
    assert "failed" in tasks.run_sync_for_user(shop.user.pk, "manual")

    retry = Schedule.objects.get(name=f"sync-retry-{shop.user.pk}")
    assert retry.func == tasks.RUN_TASK and retry.schedule_type == Schedule.ONCE
    assert 0 < (retry.next_run - timezone.now()).total_seconds() <= 61


def test_a_run_refused_for_good_is_not_retried_in_a_loop(shop, catalog):
    from django_q.models import Schedule

    shop.vk.token.is_revoked = True
    shop.vk.token.save()
    tasks.run_sync_for_user(shop.user.pk, "manual")
    assert not Schedule.objects.filter(name__startswith="sync-retry-").exists()


def test_a_webhook_while_a_run_is_queued_is_one_update_and_queues_nothing(
    merchant, django_assert_num_queries
):
    config = SyncConfig.objects.create(user=merchant, is_enabled=True,
                                       task_queued_at=timezone.now())
    with django_assert_num_queries(1):
        assert not tasks.request_sync(merchant.pk, SyncJob.Trigger.WEBHOOK, if_enabled=True)
    config.refresh_from_db()
    assert config.requested_trigger == SyncJob.Trigger.WEBHOOK and config.requested_at
    assert not OrmQ.objects.exists() and not SyncJob.objects.exists()


def test_a_webhook_for_a_disabled_or_paused_sync_stamps_nothing(merchant):
    queued = timezone.now()
    config = SyncConfig.objects.create(user=merchant, is_enabled=False, task_queued_at=queued)
    assert not tasks.request_sync(merchant.pk, SyncJob.Trigger.WEBHOOK, if_enabled=True)
    SyncConfig.objects.filter(pk=config.pk).update(is_enabled=True, paused_reason="failures")
    assert not tasks.request_sync(merchant.pk, SyncJob.Trigger.WEBHOOK, if_enabled=True)
    config.refresh_from_db()
    assert config.requested_at is None and config.task_queued_at == queued
