"""Evotor from the merchant's side: paste a cloud token, test it, disconnect.

The app-install path (webhooks) lives in services.py; both end in the same EvotorConnection row,
keyed by the Evotor user id. A pasted token proves possession of that Evotor account, so it may
claim a row that a webhook created before anyone linked it.
"""

from __future__ import annotations

import logging
import re

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from apps.accounts import audit
from apps.accounts.models import User
from apps.connections import providers
from apps.connections.clients import (
    ApiError,
    AuthError,
    EvotorClient,
    EvotorStore,
    PaymentRequiredError,
)
from apps.connections.crypto import TokenDecryptionError
from apps.connections.models import EVOTOR_USER_ID_PATTERN, ConnectionState, EvotorConnection
from apps.connections.services import (
    CheckResult,
    announce_if_usable,
    evotor_snapshot,
    lock_or_create_evotor,
    record_check,
    record_evotor_change,
    set_state,
    state_after_error,
)

log = logging.getLogger(__name__)


EVOTOR_PATH = "/evotor"  # the page where merchants paste, test and disconnect
NOT_YET_SENT = "Evotor has not sent the cloud token yet."
BAD_STORED_CREDENTIAL = "The stored Evotor token is not a valid token; connect Evotor again."
# Evotor's cloud tokens are UUIDs; other printable-ASCII forms are tolerated, but anything else
# cannot even be sent (an HTTP header is Latin-1 at most), so it is refused where it comes in.
EVOTOR_TOKEN_MAX_LENGTH = 200
_TOKEN = re.compile(rf"[\x21-\x7e]{{1,{EVOTOR_TOKEN_MAX_LENGTH}}}")


def is_evotor_token(value: str) -> bool:
    """Whether ``value`` can be an Evotor cloud token: printable ASCII, no spaces, bounded."""
    return isinstance(value, str) and _TOKEN.fullmatch(value) is not None


class EvotorLinkError(Exception):
    """A pasted token cannot be used. ``str()`` is a plain message for the merchant."""


def connect_evotor_manually(
    user: User, token: str, *, client: EvotorClient | None = None
) -> EvotorConnection:
    """Validate ``token`` with GET /stores, then store it on the merchant's connection.

    The remote call runs before any transaction is opened. Raises EvotorLinkError with the
    reason (token refused, Evotor unreachable, no stores, another Evotor account, taken).
    """
    token = token.strip()
    if not is_evotor_token(token):
        raise EvotorLinkError(_("This is not an Evotor token. Copy it again from the EvoSync "
                                "app in your Evotor account."))
    stores = _stores_for(token, client)
    connection = _attach(user, _evotor_user_id(stores), token)
    log.info("Evotor connected by hand: user %s, connection %s", user.pk, connection.pk)
    return connection


def _stores_for(token: str, client: EvotorClient | None) -> list[EvotorStore]:
    client = client or providers.evotor_client(token, interactive=True)
    try:
        return client.list_stores()
    except AuthError as exc:
        log.info("Evotor refused a pasted token: %s", exc)
        raise EvotorLinkError(
            _("Evotor did not accept this token. Copy it again from the EvoSync app in your "
              "Evotor account.")
        ) from exc
    except PaymentRequiredError as exc:
        raise EvotorLinkError(
            _("Evotor says the EvoSync app is not paid for or not installed on your terminals.")
        ) from exc
    except ApiError as exc:
        log.warning("Evotor unavailable while checking a pasted token: %s", exc)
        raise EvotorLinkError(
            _("Evotor is not answering right now. Please try again in a few minutes.")
        ) from exc


def _evotor_user_id(stores: list[EvotorStore]) -> str:
    """The Evotor account the token belongs to; Evotor names it only on the stores."""
    if not stores:
        raise EvotorLinkError(
            _("This Evotor account has no stores yet. Add a store in Evotor, then try again.")
        )
    user_ids = {store.user_id for store in stores if store.user_id}
    # fullmatch: the pattern's "$" alone would let "01-000000000000042\n" through.
    if len(user_ids) != 1 or not re.fullmatch(EVOTOR_USER_ID_PATTERN, next(iter(user_ids))):
        raise EvotorLinkError(
            _("Evotor did not say which account this token belongs to. Please try again later.")
        )
    return user_ids.pop()


def _attach(user: User, evotor_user_id: str, token: str) -> EvotorConnection:
    try:
        with transaction.atomic():
            return _attach_locked(user, evotor_user_id, token)
    except IntegrityError as exc:
        # Two pastes raced for the merchant's one connection; the other one won.
        raise EvotorLinkError(_("Evotor is already being connected. Reload the page.")) from exc


def _attach_locked(user: User, evotor_user_id: str, token: str) -> EvotorConnection:
    current = EvotorConnection.objects.select_for_update().filter(user=user).first()
    if current is not None and current.evotor_user_id != evotor_user_id:
        raise EvotorLinkError(
            _("Your EvoSync account is already connected to Evotor account %(current)s, and "
              "this token belongs to account %(other)s. Disconnect Evotor first to switch "
              "accounts.") % {"current": current.evotor_user_id, "other": evotor_user_id}
        )
    connection = lock_or_create_evotor(evotor_user_id)
    if connection.user_id not in (None, user.pk):
        raise EvotorLinkError(
            _("This Evotor account is connected to another EvoSync account.")
        )
    # What the merchant had: a row made by a webhook for nobody yet was not theirs.
    before = evotor_snapshot(connection) if current is not None else {}
    connection.user = user
    connection.cloud_token = token
    connection.connection_type = EvotorConnection.Type.MANUAL
    set_state(connection, ConnectionState.ONLINE)
    action = "evotor.replaced" if before.get("cloud_token") else "evotor.connected"
    record_evotor_change(connection, action, before, **audit.by_merchant(user, EVOTOR_PATH))
    announce_if_usable(connection)
    return connection


def check_evotor(
    connection: EvotorConnection, *, client: EvotorClient | None = None, interactive: bool = False
) -> CheckResult:
    """GET /stores now; record the state (a change is logged by set_state)."""
    if not connection.has_token:
        # Linked through user/verify, but Evotor never sent the token (user/token).
        return record_check(connection, ConnectionState.REVOKED, NOT_YET_SENT)
    try:
        token = connection.cloud_token
        if not is_evotor_token(token):
            # Stored before tokens were checked on the way in; only a new one can fix it.
            return record_check(connection, ConnectionState.REVOKED, BAD_STORED_CREDENTIAL)
        client = client or providers.evotor_client(token, interactive=interactive)
        client.list_stores()
    except (ApiError, TokenDecryptionError) as exc:
        state = state_after_error(exc)
        log.info("Evotor check of connection %s: %s (%s)", connection.pk, state, exc)
        return record_check(connection, state, str(exc))
    return record_check(connection, ConnectionState.ONLINE)


@transaction.atomic
def disconnect_evotor(connection: EvotorConnection) -> None:
    """Forget the token and the link. Evotor offers no call to revoke a cloud token; the
    merchant uninstalls the app in Evotor to stop it for good."""
    log.info("Evotor disconnected: user %s, connection %s", connection.user_id, connection.pk)
    before = evotor_snapshot(connection)
    user = connection.user
    audit.record(
        "evotor.disconnected", subject=user, obj=connection,
        changes=audit.changes_between(before, dict.fromkeys(before, ""), secret={"cloud_token"}),
        **audit.by_merchant(user, f"{EVOTOR_PATH}/disconnect"),
    )
    connection.delete()
