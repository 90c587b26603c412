"""Keeping a VK ID access token fresh (it lives about an hour; docs/vk.md#tokens-and-vk-id).

VK ID rotates the refresh token on every use, so two workers refreshing the same connection at
once would have one of them present a spent token, and VK ID may then revoke the whole grant.
A cache lock (shared by web and workers: Redis or the database cache) lets one refresh while the
others wait for its result; the new tokens are written with a conditional UPDATE so that a
merchant reconnecting meanwhile is never overwritten with stale tokens.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from apps.connections import crypto, providers
from apps.connections.clients import ApiError, AuthError, PermanentError, TransientError, VkIdClient
from apps.connections.crypto import TokenDecryptionError
from apps.connections.models import ConnectionState, HealthCheckLog, VkConnection
from apps.connections.services import log_event, set_state

log = logging.getLogger(__name__)

# Refresh when less than this is left: a sync started now must not see the token expire mid-run.
REFRESH_MARGIN = timedelta(minutes=10)
LOCK_SECONDS = 60
WAIT_SECONDS = 15.0
POLL_SECONDS = 0.25
SERVICE = "vk_id"


def can_refresh(connection: VkConnection) -> bool:
    """Only VK ID connections have a refresh token; a pasted token is used until VK refuses it."""
    return (
        connection.connection_type == VkConnection.Type.VK_ID
        and bool(connection.refresh_token_encrypted)
    )


def needs_refresh(connection: VkConnection) -> bool:
    if not can_refresh(connection):
        return False
    expires = connection.token_expires_at
    return expires is None or expires - timezone.now() < REFRESH_MARGIN


def _expired(connection: VkConnection) -> bool:
    expires = connection.token_expires_at
    return expires is not None and expires <= timezone.now()


def _lock_key(connection_pk: int) -> str:
    return f"vk-token-refresh:{connection_pk}"


def ensure_fresh_vk_token(
    connection: VkConnection,
    *,
    force: bool = False,
    id_client: VkIdClient | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> VkConnection:
    """Make sure a VK ID access token is good for at least REFRESH_MARGIN; return the connection.

    Call it before building a VkClient (health job, sync). Pasted tokens are returned as they are.
    ``force`` refreshes even when the expiry looks fine (VK answered error 5 to the token).
    Raises AuthError or TokenDecryptionError when the refresh token is refused or unreadable (the
    connection is then revoked), ApiError when VK ID cannot refresh now and the current token has
    already expired (the connection is then offline). A failure while the current token still
    works is logged and left to the next attempt.
    """
    if not (needs_refresh(connection) or (force and can_refresh(connection))):
        return connection
    seen = connection.refresh_token_encrypted
    if not cache.add(_lock_key(connection.pk), "1", LOCK_SECONDS):
        return _after_other_refresh(connection, sleep)
    try:
        connection.refresh_from_db()
        if connection.refresh_token_encrypted != seen:
            return connection  # another worker refreshed while we were getting here
        if not (needs_refresh(connection) or (force and can_refresh(connection))):
            return connection
        return _refresh(connection, id_client)
    finally:
        cache.delete(_lock_key(connection.pk))


def _after_other_refresh(
    connection: VkConnection, sleep: Callable[[float], None]
) -> VkConnection:
    waited = 0.0
    while cache.get(_lock_key(connection.pk)) is not None and waited < WAIT_SECONDS:
        sleep(POLL_SECONDS)
        waited += POLL_SECONDS
    connection.refresh_from_db()
    if _expired(connection):
        raise TransientError("another worker's token refresh has not finished", service=SERVICE)
    return connection


def _refresh(connection: VkConnection, id_client: VkIdClient | None) -> VkConnection:
    try:
        if id_client is None and not providers.vk_id_configured():
            raise PermanentError("VK ID is not configured (VK_ID_CLIENT_ID)", service=SERVICE)
        client = id_client or providers.vk_id_client()
        tokens = client.refresh(connection.refresh_token, device_id=connection.device_id)
    except (AuthError, TokenDecryptionError) as exc:
        log.info("VK ID refused the refresh of connection %s: %s", connection.pk, exc)
        log_event(connection, HealthCheckLog.Event.TOKEN_REFRESH_FAILED, str(exc))
        set_state(connection, ConnectionState.REVOKED, str(exc))
        raise
    except ApiError as exc:
        if not _expired(connection):
            log.warning("VK ID refresh of connection %s failed, retrying later: %s",
                        connection.pk, exc)
            return connection
        set_state(connection, ConnectionState.OFFLINE, str(exc))
        raise
    return _store_refreshed(connection, tokens.access_token, tokens.refresh_token,
                            tokens.expires_at)


def _store_refreshed(connection: VkConnection, access: str, refresh: str | None, expires_at):
    seen = connection.refresh_token_encrypted
    values = {
        "access_token_encrypted": crypto.encrypt(access),
        "refresh_token_encrypted": crypto.encrypt(refresh) if refresh else seen,
        "token_expires_at": expires_at,
        "updated_at": timezone.now(),
    }
    # Conditional UPDATE: if the merchant reconnected meanwhile, their new tokens win.
    updated = VkConnection.objects.filter(pk=connection.pk, refresh_token_encrypted=seen).update(
        **values
    )
    connection.refresh_from_db()
    if updated:
        log_event(
            connection,
            HealthCheckLog.Event.TOKEN_REFRESHED,
            f"expires {expires_at:%Y-%m-%d %H:%M} UTC",
        )
        log.info("VK ID token of connection %s refreshed", connection.pk)
    return connection
