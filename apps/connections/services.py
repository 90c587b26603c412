"""Operations on connections shared by webhooks, pages, tasks, admin and commands."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import ObjectDoesNotExist
from django.db import IntegrityError, transaction
from django.utils import timezone

from apps.accounts import audit
from apps.accounts.models import User, normalize_email_address
from apps.connections.clients import AuthError, PaymentRequiredError
from apps.connections.crypto import TokenDecryptionError
from apps.connections.models import (
    ConnectionState,
    EvotorConnection,
    HealthCheckLog,
    VkConnection,
    WebhookEvent,
)
from apps.connections.signals import evotor_connected


class WrongCredentials(Exception):
    """The email/password pair does not match an active account."""


class AlreadyLinked(Exception):
    """The Evotor user or the EvoSync account is linked to someone else already."""


STATE_EVENTS = {
    ConnectionState.ONLINE: HealthCheckLog.Event.ONLINE,
    ConnectionState.OFFLINE: HealthCheckLog.Event.OFFLINE,
    ConnectionState.REVOKED: HealthCheckLog.Event.REVOKED,
}


def _service(connection: EvotorConnection | VkConnection) -> str:
    if isinstance(connection, EvotorConnection):
        return HealthCheckLog.Service.EVOTOR
    return HealthCheckLog.Service.VK


def set_state(
    connection: EvotorConnection | VkConnection, state: str, detail: str = ""
) -> bool:
    """Move a connection to ``state``; log and reset the incident only on a real change.

    Saves the connection. Returns whether the state changed.
    """
    now = timezone.now()
    changed = connection.state != state
    connection.last_checked_at = now
    connection.last_error = "" if state == ConnectionState.ONLINE else detail[:500]
    if changed:
        connection.state = state
        connection.state_changed_at = now
        if state == ConnectionState.ONLINE:
            connection.incident_notified_at = None
        if connection.user_id:
            HealthCheckLog.objects.create(
                user_id=connection.user_id,
                service=_service(connection),
                event=STATE_EVENTS[ConnectionState(state)],
                detail=detail[:500],
                checked_at=now,
            )
    connection.save()
    return changed


def state_after_error(exc: Exception) -> str:
    """Revoked when only the merchant can fix it (token refused, app not paid for, the key that
    encrypted the token is gone); offline for whatever the next health check may find fixed."""
    if isinstance(exc, (AuthError, PaymentRequiredError, TokenDecryptionError)):
        return ConnectionState.REVOKED
    return ConnectionState.OFFLINE


@dataclass(frozen=True)
class CheckResult:
    """The outcome of checking one connection (Test button, health job, admin action)."""

    service: str  # HealthCheckLog.Service
    state: str
    detail: str = ""
    changed: bool = False

    @property
    def ok(self) -> bool:
        return self.state == ConnectionState.ONLINE


def record_check(
    connection: EvotorConnection | VkConnection, state: str, detail: str = ""
) -> CheckResult:
    changed = set_state(connection, state, detail)
    return CheckResult(_service(connection), state, connection.last_error, changed)


def log_event(connection: EvotorConnection | VkConnection, event: str, detail: str = "") -> None:
    """A health event that is not a state change (token refreshed / refresh failed)."""
    if connection.user_id:
        HealthCheckLog.objects.create(
            user_id=connection.user_id,
            service=_service(connection),
            event=event,
            detail=detail[:500],
        )


def connections_of(user: User) -> tuple[EvotorConnection | None, VkConnection | None]:
    """The merchant's two connections, read through the reverse one-to-one accessors: Django
    caches them on the user, so the banner and the page share two queries per request."""
    return _related(user, "evotor_connection"), _related(user, "vk_connection")


def _related(user: User, name: str):
    try:
        return getattr(user, name)
    except ObjectDoesNotExist:
        return None


def _authenticated_user(email: str, password: str) -> User:
    user = User.objects.filter(email=normalize_email_address(email), is_active=True).first()
    if user is None:
        # Spend the same hashing time as a real check so timing does not reveal accounts.
        User().set_password(password)
        raise WrongCredentials
    if not user.check_password(password):
        raise WrongCredentials
    return user


def announce_if_usable(connection: EvotorConnection) -> None:
    """Send evotor_connected once the caller's transaction commits (the first catalog refresh)."""
    if connection.user_id and connection.is_usable:
        transaction.on_commit(
            lambda: evotor_connected.send(EvotorConnection, connection=connection)
        )


@transaction.atomic
def link_evotor_account(evotor_user_id: str, email: str, password: str) -> str:
    """user/verify: link the Evotor user to the EvoSync account; return a fresh per-user token.

    Idempotent for the same pair (a redelivery gets a new token; the old one stops working).
    """
    user = _authenticated_user(email, password)
    if EvotorConnection.objects.filter(user=user).exclude(evotor_user_id=evotor_user_id).exists():
        raise AlreadyLinked
    connection = lock_or_create_evotor(evotor_user_id)
    if connection.user_id not in (None, user.pk):
        raise AlreadyLinked
    before = evotor_snapshot(connection)
    connection.user = user
    token = connection.issue_webhook_token()
    connection.save()
    record_evotor_change(connection, "evotor.linked", before, **audit.by_evotor(VERIFY_PATH))
    announce_if_usable(connection)
    return token


# Where Evotor's account webhooks come in, as the audit log names them.
VERIFY_PATH, CREATE_PATH = "/api/v1/user/verify", "/api/v1/user/create"
TOKEN_PATH, INSTALLATION_PATH = "/api/v1/user/token", "/api/v2/installation/event"
EVOTOR_AUDITED = ("user", "evotor_user_id", "connection_type", "cloud_token")


def _token_print(connection: EvotorConnection) -> str:
    if not connection.has_token:
        return ""
    try:
        return audit.fingerprint(connection.cloud_token)
    except TokenDecryptionError:
        return connection.cloud_token_encrypted  # unreadable: still "a token", never shown


def evotor_snapshot(connection: EvotorConnection) -> dict:
    """The audited fields of an Evotor connection; the token only as a fingerprint."""
    values = audit.snapshot(connection, EVOTOR_AUDITED[:-1])
    values["user"] = connection.user.email if connection.user_id else ""
    return {**values, "cloud_token": _token_print(connection)}


def record_evotor_change(
    connection: EvotorConnection, action: str, before: dict, **origin: object
) -> None:
    """One audit entry for what changed on the connection since ``before``; none if nothing."""
    changes = audit.changes_between(before, evotor_snapshot(connection), secret={"cloud_token"})
    if changes:
        audit.record(action, subject=connection.user, obj=connection, changes=changes, **origin)


def lock_or_create_evotor(evotor_user_id: str) -> EvotorConnection:
    """The connection row for an Evotor user, locked; created (unclaimed) if missing."""
    connection = (
        EvotorConnection.objects.select_for_update().filter(evotor_user_id=evotor_user_id).first()
    )
    if connection is not None:
        return connection
    try:
        with transaction.atomic():
            return EvotorConnection.objects.create(
                evotor_user_id=evotor_user_id, connection_type=EvotorConnection.Type.WEBHOOK
            )
    except IntegrityError:
        # Two deliveries raced to create it; the other one won.
        return EvotorConnection.objects.select_for_update().get(evotor_user_id=evotor_user_id)


def _same_token(connection: EvotorConnection, token: str) -> bool:
    try:
        return connection.has_token and connection.cloud_token == token
    except TokenDecryptionError:
        return False


@transaction.atomic
def store_evotor_cloud_token(evotor_user_id: str, token: str) -> EvotorConnection:
    """user/token: keep the cloud token, creating an unclaimed connection when nobody is linked.

    A redelivery of the same token changes nothing.
    """
    connection = lock_or_create_evotor(evotor_user_id)
    if _same_token(connection, token) and connection.state == ConnectionState.ONLINE:
        return connection
    before = evotor_snapshot(connection)
    connection.cloud_token = token
    connection.connection_type = EvotorConnection.Type.WEBHOOK
    set_state(connection, ConnectionState.ONLINE)
    action = "evotor.replaced" if before["cloud_token"] else "evotor.connected"
    record_evotor_change(connection, action, before, **audit.by_evotor(TOKEN_PATH))
    announce_if_usable(connection)
    return connection


REVOKED_BY_UNINSTALL = "The EvoSync app was uninstalled in Evotor."


@transaction.atomic
def record_installation_event(event_id: str, event_type: str, evotor_user_id: str, body: dict):
    """installation/event: uninstall revokes the connection; a redelivery is a no-op."""
    connection = EvotorConnection.objects.filter(evotor_user_id=evotor_user_id).first()
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.create(
                source=WebhookEvent.Source.EVOTOR_INSTALLATION,
                delivery_id=event_id,
                event_type=event_type,
                user_id=connection.user_id if connection else None,
                payload=body,
            )
    except IntegrityError:
        return  # Already received: Evotor redelivers until it sees our 200.
    if connection is not None and event_type == "ApplicationUninstalled":
        before = audit.snapshot(connection, ["state"])
        set_state(connection, ConnectionState.REVOKED, REVOKED_BY_UNINSTALL)
        changes = audit.changes_between(before, audit.snapshot(connection, ["state"]))
        audit.record("evotor.uninstalled", subject=connection.user, obj=connection,
                     changes=changes, **audit.by_evotor(INSTALLATION_PATH))
    event.processed_at = timezone.now()
    event.save(update_fields=["processed_at"])
