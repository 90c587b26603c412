"""VK from the merchant's side: VK ID sign-in or a pasted token, the community, Test, disconnect.

Remote calls never run inside a transaction. What the merchant sees is translated (``str()`` of
the exceptions below); what is stored in ``last_error`` and logs stays technical English.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.db import transaction
from django.utils import timezone
from django.utils.crypto import constant_time_compare
from django.utils.translation import gettext as _

from apps.accounts import audit
from apps.accounts.models import User
from apps.connections import providers
from apps.connections.clients import (
    ApiError,
    AuthError,
    ItemError,
    PermanentError,
    ResponseFormatError,
    VkClient,
    VkGroup,
    VkIdClient,
    make_pkce_pair,
    make_state,
)
from apps.connections.crypto import TokenDecryptionError
from apps.connections.models import ConnectionState, VkConnection
from apps.connections.services import CheckResult, record_check, set_state, state_after_error
from apps.connections.vk_tokens import can_refresh, ensure_fresh_vk_token

log = logging.getLogger(__name__)

SESSION_KEY = "connections.vk_id_flow"
# The merchant has this long between leaving for VK ID and coming back.
FLOW_MAX_AGE_SECONDS = 600
# VK error codes meaning the token lacks a right (7) or access (15), not that it is dead.
MISSING_RIGHTS_CODES = frozenset({7, 15})
EDITOR = 2  # admin_level: 1 moderator, 2 editor, 3 administrator (docs/vk.md#communities)
DEVICE_ID_MAX = VkConnection._meta.get_field("device_id").max_length
CODE_MAX_LENGTH = 2048
VK_PATH = "/vk"  # the page where merchants connect, choose the community and disconnect
VK_AUDITED = ("connection_type", "vk_user_id", "group_id", "group_name")
VK_SECRETS = ("access_token", "refresh_token")


class VkLinkError(Exception):
    """Connecting VK or choosing the community failed. ``str()`` is for the merchant."""


class CommunityProblem(VkLinkError):
    """The community cannot be used: it does not exist, the user does not manage it, or its
    market is switched off. ``detail`` is the technical English kept on the connection."""

    NOT_FOUND = "not_found"
    NOT_MANAGER = "not_manager"
    MARKET_OFF = "market_off"
    DETAILS = {
        NOT_FOUND: "The VK community does not exist or cannot be seen with this token.",
        NOT_MANAGER: "The VK user is not an administrator or editor of the community.",
        MARKET_OFF: "The market (Товары) is switched off in the VK community.",
    }

    def __init__(self, reason: str, group: VkGroup | None = None) -> None:
        self.reason = reason
        self.group = group
        self.detail = self.DETAILS[reason]
        super().__init__(self._message())

    def _message(self) -> str:
        name = self.group.name if self.group else ""
        if self.reason == self.NOT_FOUND:
            return _("There is no VK community with this id or address.")
        if self.reason == self.NOT_MANAGER:
            return _("You are not an administrator or editor of “%(name)s”. Only people who "
                     "manage a community can publish goods in it.") % {"name": name}
        return _("The market (“Товары”) is switched off in “%(name)s”. Turn it on in the "
                 "community's settings (Sections → Products), then choose it again.") % {
            "name": name
        }


def _unavailable() -> VkLinkError:
    return VkLinkError(_("VK is not answering right now. Please try again in a few minutes."))


# --- VK ID sign-in ------------------------------------------------------------------------------


def start_vk_id(session: SessionBase) -> str:
    """Remember state + PKCE verifier in the session; return the VK ID authorize URL."""
    pair = make_pkce_pair()
    state = make_state()
    session[SESSION_KEY] = {"state": state, "verifier": pair.verifier, "started": time.time()}
    return providers.vk_id_client().authorize_url(
        state=state, code_challenge=pair.challenge, scopes=settings.VK_ID_SCOPES
    )


def finish_vk_id(
    user: User,
    session: SessionBase,
    params: Mapping[str, str],
    *,
    id_client: VkIdClient | None = None,
) -> VkConnection:
    """The callback: check ``state``, exchange ``code`` + ``device_id`` with the PKCE verifier,
    store the tokens. Raises VkLinkError."""
    flow = session.pop(SESSION_KEY, None)
    state = params.get("state") or ""
    if not isinstance(flow, dict) or not constant_time_compare(flow.get("state", ""), state):
        raise VkLinkError(_("This answer from VK ID does not belong to a sign-in started here. "
                            "Please start again."))
    if time.time() - float(flow.get("started", 0)) > FLOW_MAX_AGE_SECONDS:
        raise VkLinkError(_("The VK ID sign-in took too long. Please start again."))
    _raise_for_callback_error(params)
    code, device_id = params.get("code") or "", params.get("device_id") or ""
    if not code or not device_id:
        raise VkLinkError(_("VK ID did not send a sign-in code. Please start again."))
    if not (_callback_value(code, CODE_MAX_LENGTH) and _callback_value(device_id, DEVICE_ID_MAX)):
        raise VkLinkError(_("The answer from VK ID cannot be used. Please start again."))
    try:
        client = id_client or providers.vk_id_client(interactive=True)
        tokens = client.exchange_code(
            code, code_verifier=flow["verifier"], device_id=device_id, state=state
        )
    except AuthError as exc:
        log.info("VK ID refused the code exchange for user %s: %s", user.pk, exc)
        raise VkLinkError(_("VK ID did not accept the sign-in; it may have expired. "
                            "Please start again.")) from exc
    except ApiError as exc:
        log.warning("VK ID code exchange failed for user %s: %s", user.pk, exc)
        raise _unavailable() from exc
    connection = _store_tokens(
        user,
        kind=VkConnection.Type.VK_ID,
        access=tokens.access_token,
        refresh=tokens.refresh_token or "",
        expires_at=tokens.expires_at,
        vk_user_id=tokens.user_id,
        device_id=device_id,
    )
    log.info("VK connected with VK ID: user %s, connection %s", user.pk, connection.pk)
    return _recheck_community(connection)


def _callback_value(value: str, limit: int) -> bool:
    """Printable ASCII within ``limit``: what VK ID sends. Anyone can type a callback URL, and
    device_id is stored (a longer one is a 500 on MariaDB, which refuses rather than cuts)."""
    return len(value) <= limit and value.isascii() and value.isprintable()


def _raise_for_callback_error(params: Mapping[str, str]) -> None:
    error = params.get("error")
    if not error:
        return
    if error == "access_denied":
        raise VkLinkError(_("Access was not allowed in VK ID, so VK is not connected."))
    raise VkLinkError(
        _("VK ID reported an error (%(error)s). Please try again.") % {"error": error[:100]}
    )


# --- pasted token -------------------------------------------------------------------------------


def connect_vk_manually(
    user: User, token: str, *, client: VkClient | None = None
) -> VkConnection:
    """Check a pasted user token (it must list the communities the user manages), store it.
    Raises VkLinkError."""
    token = token.strip()
    try:
        (client or providers.vk_client(token, interactive=True)).get_admin_groups()
    except AuthError as exc:
        log.info("VK refused a pasted token of user %s: %s", user.pk, exc)
        if exc.code in MISSING_RIGHTS_CODES:
            raise VkLinkError(_("This token lacks the rights EvoSync needs (“groups” and "
                                "“market”). Create a token with them and paste it again.")) from exc
        raise VkLinkError(_("VK did not accept this token. Check that you copied all of it and "
                            "that it has not expired.")) from exc
    except ApiError as exc:
        raise _unavailable() from exc
    connection = _store_tokens(
        user, kind=VkConnection.Type.MANUAL, access=token, refresh="", expires_at=None,
        vk_user_id=None, device_id="",
    )
    log.info("VK connected with a pasted token: user %s, connection %s", user.pk, connection.pk)
    return _recheck_community(connection)


@transaction.atomic
def _store_tokens(
    user: User,
    *,
    kind: str,
    access: str,
    refresh: str,
    expires_at: datetime | None,
    vk_user_id: int | None,
    device_id: str,
) -> VkConnection:
    connection, _created = VkConnection.objects.select_for_update().get_or_create(user=user)
    before = vk_snapshot(connection)
    if vk_user_id and connection.vk_user_id not in (None, vk_user_id):
        # Another VK person signed in: the community was checked against someone else's rights.
        _forget_community(connection)
    connection.connection_type = kind
    connection.access_token = access
    connection.refresh_token = refresh
    connection.token_expires_at = expires_at
    connection.vk_user_id = vk_user_id
    connection.device_id = device_id
    connection.connected_at = timezone.now()
    set_state(connection, ConnectionState.ONLINE)
    action = "vk.replaced" if before["access_token"] else "vk.connected"
    path = f"{VK_PATH}/callback" if kind == VkConnection.Type.VK_ID else f"{VK_PATH}/token"
    _record(connection, action, before, path)
    return connection


def _print(read) -> str:
    try:
        return audit.fingerprint(read())
    except TokenDecryptionError:
        return "?"  # unreadable: still "a token", never shown


def vk_snapshot(connection: VkConnection) -> dict:
    """The audited fields of a VK connection; tokens only as fingerprints."""
    values = audit.snapshot(connection, VK_AUDITED)
    values["access_token"] = _print(lambda: connection.access_token) if (
        connection.access_token_encrypted) else ""
    values["refresh_token"] = _print(lambda: connection.refresh_token) if (
        connection.refresh_token_encrypted) else ""
    return values


def _record(connection: VkConnection, action: str, before: dict, path: str,
            after: dict | None = None) -> None:
    after = vk_snapshot(connection) if after is None else after
    changes = audit.changes_between(before, after, secret=VK_SECRETS)
    if changes:
        audit.record(action, subject=connection.user, obj=connection, changes=changes,
                     **audit.by_merchant(connection.user, path))


def _forget_community(connection: VkConnection) -> None:
    connection.group_id = None
    connection.group_name = ""
    connection.group_screen_name = ""


def _recheck_community(connection: VkConnection) -> VkConnection:
    """After a reconnect, check that the chosen community still works with the new token."""
    if connection.has_community:
        check_vk(connection, interactive=True)
    return connection


# --- the community ------------------------------------------------------------------------------


def manages(group: VkGroup) -> bool:
    """Editors and administrators may manage goods; moderators may not (docs/vk.md#communities)."""
    if group.admin_level is not None:
        return group.admin_level >= EDITOR
    return bool(group.is_admin)


def verify_community(client: VkClient, ref: int | str) -> VkGroup:
    """groups.getById(fields=market): the community exists, the user manages it, its market is
    on. Raises CommunityProblem, or the client's errors (AuthError, TransientError, ...)."""
    try:
        group = client.get_group(ref)
    except ResponseFormatError:
        raise
    except (ItemError, PermanentError) as exc:
        # VK answers 100 "invalid group_id" for an id or screen name that does not exist.
        raise CommunityProblem(CommunityProblem.NOT_FOUND) from exc
    if not manages(group):
        raise CommunityProblem(CommunityProblem.NOT_MANAGER, group)
    if not group.market_enabled:
        raise CommunityProblem(CommunityProblem.MARKET_OFF, group)
    return group


def _fresh_client(connection: VkConnection, client: VkClient | None) -> VkClient:
    connection = ensure_fresh_vk_token(connection)
    return client or providers.vk_client(connection.access_token, interactive=True)


def admin_communities(
    connection: VkConnection, *, client: VkClient | None = None
) -> list[VkGroup]:
    """The communities the user administers, for the picker. Raises VkLinkError."""
    try:
        groups = _fresh_client(connection, client).get_admin_groups()
    except (AuthError, TokenDecryptionError) as exc:
        set_state(connection, ConnectionState.REVOKED, str(exc))
        raise VkLinkError(_("VK no longer accepts your token. Please reconnect VK.")) from exc
    except ApiError as exc:
        raise _unavailable() from exc
    return [group for group in groups if manages(group)]


def choose_community(
    connection: VkConnection, ref: int | str, *, client: VkClient | None = None
) -> VkConnection:
    """Verify the community and make it the one EvoSync publishes to. Raises VkLinkError
    (CommunityProblem with the reason); nothing is saved then, unless the token was refused."""
    try:
        group = verify_community(_fresh_client(connection, client), ref)
    except (AuthError, TokenDecryptionError) as exc:
        set_state(connection, ConnectionState.REVOKED, str(exc))
        raise VkLinkError(_("VK no longer accepts your token. Please reconnect VK, then choose "
                            "the community again.")) from exc
    except CommunityProblem:
        raise
    except ApiError as exc:
        raise _unavailable() from exc
    before = vk_snapshot(connection)
    _remember_group(connection, group)
    set_state(connection, ConnectionState.ONLINE)
    _record(connection, "vk.community_changed", before, f"{VK_PATH}/community")
    log.info("VK community %s chosen: user %s", group.id, connection.user_id)
    return connection


def _remember_group(connection: VkConnection, group: VkGroup) -> None:
    connection.group_id = group.id
    connection.group_name = group.name[:255]
    connection.group_screen_name = (group.screen_name or "")[:255]


# --- Test, health, disconnect -------------------------------------------------------------------


def check_vk(
    connection: VkConnection,
    *,
    client: VkClient | None = None,
    id_client: VkIdClient | None = None,
    interactive: bool = False,
) -> CheckResult:
    """Refresh the token when due, then check it (and the community, when chosen); record the
    state. Community problems leave it offline: the merchant fixes them in VK, and the next
    check brings the connection back without reconnecting."""
    before = connection.state
    try:
        result = _check_vk(connection, client, id_client, interactive)
    except CommunityProblem as exc:
        result = record_check(connection, ConnectionState.OFFLINE, exc.detail)
    except (ApiError, TokenDecryptionError) as exc:
        log.info("VK check of connection %s failed: %s", connection.pk, exc)
        result = record_check(connection, state_after_error(exc), str(exc))
    return replace(result, changed=result.state != before)


def _check_vk(
    connection: VkConnection,
    client: VkClient | None,
    id_client: VkIdClient | None,
    interactive: bool,
) -> CheckResult:
    ensure_fresh_vk_token(connection, id_client=id_client)
    try:
        _probe(connection, client or providers.vk_client(connection.access_token,
                                                         interactive=interactive))
    except AuthError as exc:
        if exc.code != 5 or not can_refresh(connection):
            raise
        # VK refused a token we believed valid (revoked or expired early): one forced refresh
        # tells a dead grant from a dead access token.
        ensure_fresh_vk_token(connection, id_client=id_client, force=True)
        _probe(connection, providers.vk_client(connection.access_token, interactive=interactive))
    return record_check(connection, ConnectionState.ONLINE)


def _probe(connection: VkConnection, client: VkClient) -> None:
    if connection.has_community:
        # Keep the name current: merchants rename communities.
        _remember_group(connection, verify_community(client, connection.group_id))
    else:
        client.get_admin_groups()


def usable_vk_connection(user: User) -> VkConnection | None:
    """The merchant's VK connection if a sync may use it: a token, a community, not revoked.

    Call ensure_fresh_vk_token() on it before building a client."""
    return (
        VkConnection.objects.filter(user=user, group_id__isnull=False)
        .exclude(state=ConnectionState.REVOKED)
        .exclude(access_token_encrypted="")
        .first()
    )


def disconnect_vk(connection: VkConnection, *, id_client: VkIdClient | None = None) -> None:
    """Withdraw the VK ID grant (its access and refresh tokens stop working), then forget the
    tokens and the community. The revoke runs outside any transaction, and its failure is
    logged, not raised: the merchant asked us to forget the tokens, and we do in every case
    (they can still end the grant in their VK settings). A pasted token has no grant to end.
    """
    if connection.connection_type == VkConnection.Type.VK_ID and connection.has_token:
        _revoke_grant(connection, id_client)
    before = vk_snapshot(connection)
    with transaction.atomic():
        _record(connection, "vk.disconnected", before, f"{VK_PATH}/disconnect",
                after=dict.fromkeys(before, None))
        VkConnection.objects.filter(pk=connection.pk).delete()
    log.info("VK disconnected: user %s, connection %s", connection.user_id, connection.pk)


def _revoke_grant(connection: VkConnection, id_client: VkIdClient | None) -> None:
    try:
        (id_client or providers.vk_id_client(interactive=True)).revoke(connection.access_token)
    except AuthError as exc:
        # invalid_token / invalid_grant: VK ID no longer knows the token, so it is gone already.
        log.info("VK ID token of connection %s already invalid: %s", connection.pk, exc)
    except (ApiError, TokenDecryptionError, ValueError) as exc:
        log.warning("VK ID revoke failed for connection %s; forgetting the token anyway: %s",
                    connection.pk, exc)
