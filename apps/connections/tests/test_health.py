"""The health job: who is checked, what is logged, one email per incident, tokens kept out of
task arguments and logs; pruning; the commands and schedules around it."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.utils import timezone
from django_q.conf import Conf
from django_q.models import OrmQ, Task
from django_q.signals import pre_enqueue
from django_q.signing import SignedPackage
from model_bakery import baker

from apps.connections import health, tasks
from apps.connections.models import (
    ConnectionState,
    EvotorConnection,
    HealthCheckLog,
    VkConnection,
    WebhookEvent,
)
from apps.connections.tests.conftest import (
    CLOUD_TOKEN,
    VK_REFRESH,
    VK_TOKEN,
    evotor_stores,
    group_json,
    make_vk_connection,
    store_json,
    vk_groups,
    vk_reply,
    vkid_tokens,
)
from evosync.schedules import SCHEDULES

pytestmark = pytest.mark.django_db

SECRETS = (CLOUD_TOKEN, VK_TOKEN, VK_REFRESH, "vk2.a.ACCESS-2", "vk2.a.REFRESH-2")


@pytest.fixture
def enqueued():
    """Every task package handed to django-q (sync or not), as django-q would pickle it."""
    packages: list[dict] = []

    def record(sender, task, **kwargs):
        packages.append(dict(task))

    pre_enqueue.connect(record, dispatch_uid="test-health-enqueued")
    yield packages
    pre_enqueue.disconnect(dispatch_uid="test-health-enqueued")


@pytest.fixture
def healthy(api, evotor_connection, vk_connection):
    evotor_stores(api, store_json())
    vk_groups(api, group_json())
    return evotor_connection, vk_connection


def _events(service: str | None = None) -> list[str]:
    rows = HealthCheckLog.objects.order_by("id")
    if service:
        rows = rows.filter(service=service)
    return list(rows.values_list("event", flat=True))


def _merchant_with_connection(email: str, number: int, **user_fields) -> EvotorConnection:
    user = baker.make("accounts.User", email=email, **user_fields)
    connection = EvotorConnection(user=user, evotor_user_id=f"01-{number:015d}")
    connection.cloud_token = CLOUD_TOKEN
    connection.save()
    return connection


# --- who is checked -----------------------------------------------------------------------------


def test_only_active_merchants_with_something_to_check_are_enqueued(
    merchant, evotor_connection, enqueued, api, monkeypatch
):
    monkeypatch.setattr(Conf, "SYNC", False)
    staff = _merchant_with_connection("ops@example.com", 1, is_staff=True)
    gone = _merchant_with_connection("gone@example.com", 2, is_active=False)
    EvotorConnection.objects.create(evotor_user_id="01-000000000000999")  # unclaimed
    announced = _merchant_with_connection("quiet@example.com", 3)
    announced.state = ConnectionState.REVOKED
    announced.state_changed_at = timezone.now() - timedelta(hours=1)
    announced.incident_notified_at = timezone.now()
    announced.save()
    assert tasks.check_all_connections() == 1
    assert [(p["func"], p["args"], p["kwargs"]) for p in enqueued] == [
        (tasks.CHECK_USER_TASK, (merchant.pk,), {})
    ]
    assert staff.user_id and gone.user_id  # present, and left alone
    assert len(api.calls) == 0


def test_task_arguments_and_results_never_carry_tokens(healthy, merchant, enqueued):
    tasks.check_all_connections()  # Q_CLUSTER sync in tests: the per-user task runs inline
    assert [p["args"] for p in enqueued] == [(merchant.pk,)]
    rows = list(Task.objects.all())
    assert [row.func for row in rows] == [tasks.CHECK_USER_TASK]
    stored = repr([(p["args"], p["kwargs"]) for p in enqueued]) + repr(
        [(row.args, row.kwargs, row.result) for row in rows]
    )
    for secret in SECRETS:
        assert secret not in stored
    assert rows[0].result == f"user {merchant.pk}: evotor online, vk online"


def test_queued_packages_hold_the_primary_key_only(healthy, merchant, monkeypatch):
    monkeypatch.setattr(Conf, "SYNC", False)
    tasks.check_all_connections()
    payloads = [SignedPackage.loads(row.payload) for row in OrmQ.objects.all()]
    assert [(p["func"], p["args"], p["kwargs"]) for p in payloads] == [
        (tasks.CHECK_USER_TASK, (merchant.pk,), {})
    ]


def test_a_healthy_merchant_is_checked_and_nothing_is_logged(healthy, merchant):
    result = health.check_user(merchant.pk)
    assert [(r.service, r.state) for r in result.results] == [("evotor", "online"),
                                                              ("vk", "online")]
    assert _events() == [] and mail.outbox == []
    for connection in healthy:
        connection.refresh_from_db()
        assert connection.last_checked_at is not None


def test_revoked_connections_are_not_called_again(api, merchant, evotor_connection):
    evotor_connection.state = ConnectionState.REVOKED
    evotor_connection.incident_notified_at = timezone.now()
    evotor_connection.state_changed_at = timezone.now() - timedelta(minutes=5)
    evotor_connection.save()
    assert health.check_user(merchant.pk).results == []
    assert len(api.calls) == 0


# --- incidents ----------------------------------------------------------------------------------


def test_revoked_in_evotor_emails_once_over_many_cycles(api, merchant, evotor_connection):
    evotor_stores(api, status=403)
    for _cycle in range(3):
        tasks.check_all_connections()
    evotor_connection.refresh_from_db()
    assert evotor_connection.state == ConnectionState.REVOKED
    assert evotor_connection.incident_notified_at is not None
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [merchant.email]
    assert "/evotor" in message.body
    assert _events("evotor") == ["revoked"]
    assert len([c for c in api.calls if c.request.url.endswith("/stores")]) == 1


def test_offline_emails_once_and_back_online_closes_the_incident(api, merchant,
                                                                  evotor_connection):
    evotor_stores(api, status=503)
    tasks.check_all_connections()
    tasks.check_all_connections()
    assert len(mail.outbox) == 1
    evotor_stores(api, store_json())
    tasks.check_all_connections()
    evotor_connection.refresh_from_db()
    assert evotor_connection.state == ConnectionState.ONLINE
    assert evotor_connection.incident_notified_at is None
    evotor_stores(api, status=503)
    tasks.check_all_connections()
    assert len(mail.outbox) == 2
    assert _events("evotor") == ["offline", "online", "offline"]


def test_offline_then_revoked_is_worth_a_second_email(api, merchant, evotor_connection):
    evotor_stores(api, status=503)
    tasks.check_all_connections()
    evotor_stores(api, status=401)
    tasks.check_all_connections()
    tasks.check_all_connections()
    assert len(mail.outbox) == 2
    assert _events("evotor") == ["offline", "revoked"]


def test_an_incident_found_elsewhere_is_still_emailed(api, merchant, evotor_connection):
    """The uninstall webhook or a catalog refresh may revoke; the next cycle tells the merchant."""
    evotor_connection.state = ConnectionState.REVOKED
    evotor_connection.state_changed_at = timezone.now()
    evotor_connection.save()
    tasks.check_all_connections()
    tasks.check_all_connections()
    assert len(mail.outbox) == 1 and len(api.calls) == 0


def test_a_failed_email_is_tried_again_next_cycle(api, merchant, evotor_connection, monkeypatch):
    evotor_stores(api, status=401)

    def smtp_down(*args, **kwargs):
        raise OSError("SMTP unreachable")

    monkeypatch.setattr(health, "send_email", smtp_down)
    tasks.check_all_connections()
    evotor_connection.refresh_from_db()
    assert evotor_connection.incident_notified_at is None
    monkeypatch.undo()
    tasks.check_all_connections()
    assert len(mail.outbox) == 1


def test_vk_error_5_revokes_a_pasted_token(api, merchant):
    connection = make_vk_connection(merchant, connection_type=VkConnection.Type.MANUAL,
                                    refresh_token="", token_expires_at=None)
    vk_reply(api, "groups.getById", error=5, message="User authorization failed: invalid "
                                                     f"access_token {VK_TOKEN}")
    health.check_user(merchant.pk)
    connection.refresh_from_db()
    assert connection.state == ConnectionState.REVOKED
    assert VK_TOKEN not in connection.last_error
    assert len(mail.outbox) == 1 and VK_TOKEN not in mail.outbox[0].body


@pytest.mark.parametrize("code", [27, 1117])
def test_other_vk_authorisation_errors_revoke(api, merchant, vk_connection, code):
    vk_reply(api, "groups.getById", error=code)
    health.check_user(merchant.pk)
    vk_connection.refresh_from_db()
    assert vk_connection.state == ConnectionState.REVOKED


def test_vk_flood_control_is_offline_and_retried(api, merchant, vk_connection):
    vk_reply(api, "groups.getById", error=10)
    health.check_user(merchant.pk)
    vk_connection.refresh_from_db()
    assert vk_connection.state == ConnectionState.OFFLINE


def test_a_vk_id_token_near_expiry_is_refreshed_by_the_job(api, merchant, vk_connection):
    vk_connection.token_expires_at = timezone.now() + timedelta(minutes=3)
    vk_connection.save()
    vkid_tokens(api, access="vk2.a.ACCESS-2", refresh="vk2.a.REFRESH-2")
    vk_groups(api, group_json())
    health.check_user(merchant.pk)
    vk_connection.refresh_from_db()
    assert vk_connection.access_token == "vk2.a.ACCESS-2"
    assert vk_connection.state == ConnectionState.ONLINE
    assert _events("vk") == ["token_refreshed"]


def test_no_token_in_any_log_record(api, merchant, evotor_connection, caplog):
    make_vk_connection(merchant, token_expires_at=timezone.now() - timedelta(minutes=1))
    vkid_tokens(api, access="", refresh="", status=400, error="invalid_grant")
    evotor_stores(api, status=401)
    caplog.set_level(logging.DEBUG)
    tasks.check_all_connections()
    call_command("check_connections")
    assert caplog.records
    text = "\n".join(record.getMessage() for record in caplog.records) + caplog.text
    for secret in SECRETS:
        assert secret not in text


# --- pruning, commands, schedules ---------------------------------------------------------------


def test_prune_removes_only_what_is_older_than_30_days(merchant):
    now = timezone.now()
    old, recent = now - timedelta(days=31), now - timedelta(days=29)
    for when in (old, recent):
        HealthCheckLog.objects.create(user=merchant, service="vk", event="online",
                                      checked_at=when)
        WebhookEvent.objects.create(source="evotor_hook", delivery_id=str(when),
                                    event_type="ProductEvent", received_at=when)
        baker.make(Task, id=str(when.timestamp()), name=str(when), func="math.floor",
                   started=when, stopped=when, success=True)
    result = health.prune_old_logs()
    assert (result.health_logs, result.webhook_events, result.task_results) == (1, 1, 1)
    assert list(HealthCheckLog.objects.values_list("checked_at", flat=True)) == [recent]
    assert list(WebhookEvent.objects.values_list("received_at", flat=True)) == [recent]
    assert list(Task.objects.values_list("stopped", flat=True)) == [recent]
    assert tasks.prune_old_logs().startswith("deleted 0 health log entries")


def test_prune_logs_command(merchant, capsys):
    call_command("prune_logs")
    assert "Deleted 0 health log entries" in capsys.readouterr().out


def test_check_connections_command_for_one_merchant(healthy, merchant, other_merchant, capsys):
    call_command("check_connections", "--email", merchant.email.upper())
    out = capsys.readouterr().out
    assert f"user {merchant.pk}: evotor online, vk online" in out
    assert "Checked 1 merchant(s)." in out


def test_check_connections_command_refuses_unknown_and_staff(staff_user):
    with pytest.raises(CommandError, match="No account"):
        call_command("check_connections", "--email", "nobody@example.com")
    with pytest.raises(CommandError, match="not an active merchant"):
        call_command("check_connections", "--email", staff_user.email)


def test_both_jobs_are_scheduled():
    declared = {spec.name: (spec.func, spec.cron) for spec in SCHEDULES}
    assert declared["connections.check_all_connections"] == (
        "apps.connections.tasks.check_all_connections", "*/10 * * * *"
    )
    assert declared["connections.prune_old_logs"] == (
        "apps.connections.tasks.prune_old_logs", "0 3 * * *"
    )
    assert callable(tasks.check_all_connections) and callable(tasks.prune_old_logs)


def test_a_link_whose_token_never_came_is_neither_checked_nor_reported(api, merchant):
    """user/verify linked the account, user/token has not arrived: nothing to say yet."""
    EvotorConnection.objects.create(user=merchant, evotor_user_id="01-000000000000042")
    make_vk_connection(merchant)
    vk_groups(api, group_json())
    health.check_user(merchant.pk)
    assert [c.request.url for c in api.calls if "evotor" in c.request.url] == []
    assert mail.outbox == []


# --- one merchant's failure stops nobody else -----------------------------------------------------


def test_a_malformed_stored_token_is_revoked_not_raised(api, merchant, evotor_connection):
    evotor_connection.cloud_token = "токен"
    evotor_connection.save()
    result = health.check_user(merchant.pk)
    assert [(r.service, r.state) for r in result.results] == [("evotor", "revoked")]
    assert result.ok and len(api.calls) == 0


def test_a_crashing_check_is_logged_and_the_other_service_still_checked(
    healthy, merchant, monkeypatch, caplog
):
    real = health.check_connection

    def crash_on_evotor(connection, **kwargs):
        if isinstance(connection, EvotorConnection):
            raise RuntimeError("boom")
        return real(connection, **kwargs)

    monkeypatch.setattr(health, "check_connection", crash_on_evotor)
    result = health.check_user(merchant.pk)
    assert [(r.service, r.state) for r in result.results] == [("vk", "online")]
    assert not result.ok and result.crashed == ["evotor"]
    assert result.summary().endswith("could not check evotor")
    assert "Health check of evotor connection" in caplog.text


def test_check_connections_checks_everyone_then_exits_non_zero(api, monkeypatch, capsys):
    first = _merchant_with_connection("first@example.com", 1)
    second = _merchant_with_connection("second@example.com", 2)
    evotor_stores(api, store_json())
    real = health.check_user

    def crash_first(user_id):
        if user_id == first.user_id:
            raise RuntimeError("database went away")
        return real(user_id)

    monkeypatch.setattr(health, "check_user", crash_first)
    with pytest.raises(CommandError, match="1 merchant"):
        call_command("check_connections")
    out = capsys.readouterr()
    assert f"user {second.user_id}: evotor online" in out.out
    assert "Checked 2 merchant(s)." in out.out
    assert f"user {first.user_id}: check failed" in out.err


def test_check_connections_exits_non_zero_when_a_service_check_crashed(
    healthy, merchant, monkeypatch
):
    monkeypatch.setattr(health, "check_connection", lambda connection, **kw: 1 / 0)
    with pytest.raises(CommandError, match="could not be checked"):
        call_command("check_connections", "--email", merchant.email)
