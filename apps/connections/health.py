"""Connection health: the periodic check, incident emails and pruning
(docs/architecture.md#jobs-and-schedules).

Each merchant is checked on their own (tasks get the user's primary key, never a token):
Evotor GET /stores; VK token refresh when due, then the token and the community. Only state
changes are logged (set_state), plus token refresh events. A connection that turns offline or
revoked emails the merchant once per incident; coming back online closes the incident.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db.models import F, Q
from django.utils import timezone
from django_q.models import Task  # Success and Failure are proxies of it

from apps.accounts import audit
from apps.accounts.emails import absolute_url, send_email
from apps.accounts.models import User
from apps.connections.evotor_link import check_evotor
from apps.connections.models import (
    ConnectionState,
    EvotorConnection,
    HealthCheckLog,
    VkConnection,
    WebhookEvent,
)
from apps.connections.services import CheckResult
from apps.connections.signals import pruning
from apps.connections.vk_link import check_vk

log = logging.getLogger(__name__)

LOG_RETENTION = timedelta(days=30)
PROBLEM_EMAIL = "connection_problem"

Connection = EvotorConnection | VkConnection


def check_connection(connection: Connection, *, interactive: bool = False) -> CheckResult:
    """Check one connection now (Test buttons, admin action, the periodic job)."""
    if isinstance(connection, EvotorConnection):
        return check_evotor(connection, interactive=interactive)
    return check_vk(connection, interactive=interactive)


def _merchant_connections(user: User) -> list[Connection]:
    evotor = EvotorConnection.objects.filter(user=user).first()
    vk = VkConnection.objects.filter(user=user).first()
    return [c for c in (evotor, vk) if c is not None]


def _worth_checking(connection: Connection) -> bool:
    # Revoked waits for the merchant (reconnect, or Test on the page); checking it every ten
    # minutes would only spend requests on a token the provider already refused.
    return connection.state != ConnectionState.REVOKED


@dataclass
class UserHealth:
    user_id: int
    results: list[CheckResult] = field(default_factory=list)
    emailed: list[str] = field(default_factory=list)
    # Services whose check raised something unexpected (a bug, the database): logged in full.
    crashed: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.crashed

    def summary(self) -> str:
        checked = ", ".join(f"{r.service} {r.state}" for r in self.results) or "nothing checked"
        emailed = f"; emailed about {', '.join(self.emailed)}" if self.emailed else ""
        crashed = f"; could not check {', '.join(self.crashed)}" if self.crashed else ""
        return f"user {self.user_id}: {checked}{emailed}{crashed}"


def check_user(user_id: int) -> UserHealth:
    """Check one merchant's connections and email about a new incident."""
    health = UserHealth(user_id)
    user = User.objects.filter(pk=user_id, is_active=True, is_staff=False).first()
    if user is None:
        return health
    for connection in _merchant_connections(user):
        try:
            _check_and_notify(connection, user, health)
        except Exception:
            # One odd connection (a bug, bad stored data) must not hide the other one, nor,
            # in the callers' loops, every merchant after this one.
            log.exception("Health check of %s connection %s failed", _service_name(connection),
                          connection.pk)
            health.crashed.append(_service_name(connection))
    return health


def _check_and_notify(connection: Connection, user: User, health: UserHealth) -> None:
    if not connection.has_token:
        return  # linked in Evotor, token not sent yet: nothing to check or report
    if _worth_checking(connection):
        health.results.append(check_connection(connection))
    if notify_if_due(connection, user):
        health.emailed.append(_service_name(connection))


def _needs_attention() -> Q:
    """Connections the periodic job looks at: checkable, or revoked without an email yet."""
    unannounced = Q(incident_notified_at__isnull=True) | Q(
        incident_notified_at__lt=F("state_changed_at")
    )
    live = Q(state__in=[ConnectionState.ONLINE, ConnectionState.OFFLINE])
    return (live | (Q(state=ConnectionState.REVOKED) & unannounced)) & Q(
        user__is_active=True, user__is_staff=False
    )


def merchants_to_check() -> list[int]:
    """Active merchants (staff are not merchants) with a connection that needs a look."""
    evotor = (
        EvotorConnection.objects.filter(_needs_attention(), user__isnull=False)
        .exclude(cloud_token_encrypted="")
        .values_list("user_id", flat=True)
    )
    vk = VkConnection.objects.filter(_needs_attention()).values_list("user_id", flat=True)
    return sorted(set(evotor) | set(vk))


# --- incident emails ----------------------------------------------------------------------------


def _incident_unannounced(connection: Connection) -> bool:
    if connection.state == ConnectionState.ONLINE:
        return False
    notified = connection.incident_notified_at
    if notified is None:
        return True
    # Offline was announced; turning revoked since then needs the merchant, so say it again.
    changed = connection.state_changed_at
    revoked = connection.state == ConnectionState.REVOKED
    return revoked and changed is not None and notified < changed


def notify_if_due(connection: Connection, user: User) -> bool:
    """Email the merchant about the connection's incident once. Returns whether it was sent."""
    if not _incident_unannounced(connection):
        return False
    previous = connection.incident_notified_at
    now = timezone.now()
    # Claim the incident with a conditional UPDATE: of two workers, exactly one sends.
    claim = type(connection).objects.filter(pk=connection.pk, state=connection.state)
    if previous is None:
        claim = claim.filter(incident_notified_at__isnull=True)
    else:
        claim = claim.filter(incident_notified_at=previous)
    if not claim.update(incident_notified_at=now):
        return False
    try:
        send_email(user, PROBLEM_EMAIL, _email_context(connection))
    except Exception:  # SMTP of any kind: un-claim, so that the next cycle tries again
        log.exception("Could not email user %s about connection %s", user.pk, connection.pk)
        type(connection).objects.filter(pk=connection.pk, incident_notified_at=now).update(
            incident_notified_at=previous
        )
        return False
    connection.incident_notified_at = now
    log.info("Emailed user %s: %s %s", user.pk, _service_name(connection), connection.state)
    return True


def _service_name(connection: Connection) -> str:
    return "evotor" if isinstance(connection, EvotorConnection) else "vk"


def _email_context(connection: Connection) -> dict:
    return {
        "service": _service_name(connection),
        "revoked": connection.state == ConnectionState.REVOKED,
        "community": getattr(connection, "group_name", ""),
        # last_error is technical English: the templates say it in words ({% explain_connection
        # %}, apps/connections/explain.py) while send_email has the merchant's language active.
        "connection": connection,
        "since": connection.state_changed_at,
        "connections_url": absolute_url("/connections"),
        "reconnect_url": absolute_url(
            "/evotor" if isinstance(connection, EvotorConnection) else "/vk"
        ),
    }


# --- pruning ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PruneResult:
    health_logs: int
    webhook_events: int
    task_results: int
    audit_entries: int = 0
    # What the apps above pruned through the ``pruning`` signal: {"sync runs": 3, ...}.
    others: dict[str, int] = field(default_factory=dict)

    def summary(self) -> str:
        parts = [
            f"{self.health_logs} health log entries", f"{self.webhook_events} webhook events",
            f"{self.task_results} task results", f"{self.audit_entries} audit log entries",
            *(f"{count} {what}" for what, count in self.others.items()),
        ]
        return "deleted " + ", ".join(parts)


def prune_old_logs(now=None) -> PruneResult:
    """Delete health logs, webhook events and django-q results older than 30 days, audit
    entries past AUDIT_RETENTION_DAYS, and whatever the apps listening to ``pruning`` keep
    for too long (the sync's old runs)."""
    now = now or timezone.now()
    cutoff = now - LOG_RETENTION
    health_logs, _ = HealthCheckLog.objects.filter(checked_at__lt=cutoff).delete()
    webhook_events, _ = WebhookEvent.objects.filter(received_at__lt=cutoff).delete()
    task_results, _ = Task.objects.filter(stopped__lt=cutoff).delete()
    others: dict[str, int] = {}
    for _receiver, counts in pruning.send(sender=PruneResult, now=now):
        others.update(counts or {})
    return PruneResult(health_logs, webhook_events, task_results, audit.prune(now), others)
