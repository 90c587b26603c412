"""VK ID (OAuth 2.1 + PKCE) client: authorize URL, code exchange, refresh, revoke and logout
(docs/vk.md#tokens-and-vk-id).

Access tokens live about an hour; a refresh returns a new access *and* refresh token, which the
caller must store. Neither the exchange nor the refresh is repeated after a reply may have been
lost: a code works once and a refresh token is rotated, so a blind retry could burn the grant.
"""

from __future__ import annotations

import base64
import hashlib
import random
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode

import requests

from .base import DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, HttpTransport, RetryPolicy, Sleep, Timeout
from .errors import (
    ApiError,
    AuthError,
    PermanentError,
    RateLimitError,
    ResponseFormatError,
    TransientError,
    redact,
)
from .parsing import as_mapping, opt_str, to_int
from .vk_errors import error_class_for

SERVICE = "vk_id"
VK_ID_BASE_URL = "https://id.vk.com"
DEFAULT_SCOPES = ("market", "groups")
DEFAULT_LIFETIME = 3600  # seconds; VK ID documents a one-hour access token

_AUTH_ERRORS = frozenset({"invalid_grant", "invalid_token", "access_denied", "unauthorized_client"})
_TRANSIENT_ERRORS = frozenset({"server_error", "temporarily_unavailable", "slow_down"})


@dataclass(frozen=True)
class PkcePair:
    """PKCE S256: keep ``verifier`` server-side (session), send ``challenge`` to VK ID."""

    verifier: str = field(repr=False)
    challenge: str


@dataclass(frozen=True)
class VkIdTokens:
    """Tokens from VK ID. Secrets are excluded from ``repr`` so they cannot end up in logs."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    user_id: int | None
    expires_at: datetime
    scope: tuple[str, ...] = ()
    token_type: str | None = None
    id_token: str | None = field(default=None, repr=False)


def make_code_verifier() -> str:
    """A high-entropy verifier: 86 URL-safe characters (RFC 7636 allows 43..128)."""
    return secrets.token_urlsafe(64)


def code_challenge(verifier: str) -> str:
    """S256 challenge: unpadded base64url of SHA-256(verifier)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_pkce_pair() -> PkcePair:
    verifier = make_code_verifier()
    return PkcePair(verifier=verifier, challenge=code_challenge(verifier))


def make_state() -> str:
    """An unguessable ``state`` to bind the callback to the session that started the flow."""
    return secrets.token_urlsafe(32)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class VkIdClient:
    """Client for our VK ID application (``client_id``) and its registered ``redirect_uri``."""

    def __init__(
        self,
        client_id: str,
        *,
        redirect_uri: str,
        base_url: str = VK_ID_BASE_URL,
        timeout: Timeout = DEFAULT_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = _utc_now,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
    ) -> None:
        if not client_id or not redirect_uri:
            raise ValueError("client_id and redirect_uri are required")
        self._client_id = client_id
        self._redirect_uri = redirect_uri
        self._base_url = base_url.rstrip("/")
        self._clock = clock
        self._http = HttpTransport(
            service=SERVICE,
            user_agent=user_agent,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            sleep=sleep,
            rand=rand,
            session=session,
        )

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    def authorize_url(
        self,
        *,
        state: str,
        code_challenge: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        extra: Mapping[str, str] | None = None,
    ) -> str:
        """The URL to send the merchant to. Raises nothing (pure string building)."""
        params = {
            "response_type": "code",
            "client_id": self._client_id,
            "redirect_uri": self._redirect_uri,
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "s256",
            # VK ID wants scopes space-separated, encoded as %20 (not "+").
            "scope": " ".join(scopes),
            **(extra or {}),
        }
        return f"{self._base_url}/authorize?{urlencode(params, quote_via=quote)}"

    def exchange_code(
        self, code: str, *, code_verifier: str, device_id: str, state: str | None = None
    ) -> VkIdTokens:
        """Trade the callback's ``code`` (+ ``device_id``) for tokens.

        Raises AuthError (invalid_grant: code used/expired, wrong verifier), PermanentError
        (invalid_request/invalid_client: our configuration), TransientError (5xx, network;
        retried only when the request surely never left), ResponseFormatError.
        """
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": code_verifier,
            "client_id": self._client_id,
            "device_id": device_id,
            "redirect_uri": self._redirect_uri,
            "state": state or make_state(),
        }
        return self._token_request(form, secrets=(code, code_verifier), fallback_refresh=None)

    def refresh(
        self,
        refresh_token: str,
        *,
        device_id: str,
        state: str | None = None,
        scopes: Sequence[str] | None = None,
    ) -> VkIdTokens:
        """New access + refresh token. Store both: the old refresh token is spent.

        Raises AuthError (invalid_grant: revoked/expired, the merchant must reconnect) and as
        :meth:`exchange_code`.
        """
        form = {
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": self._client_id,
            "device_id": device_id,
            "state": state or make_state(),
        }
        if scopes:
            form["scope"] = " ".join(scopes)
        return self._token_request(form, secrets=(refresh_token,), fallback_refresh=refresh_token)

    def revoke(self, access_token: str) -> None:
        """Withdraw the rights the merchant gave our application (``POST /oauth2/revoke``): the
        access token and the refresh tokens of its grant stop working. For "disconnect VK".

        Repeating it is harmless, so network failures and 5xx are retried.
        Raises AuthError (invalid_token / invalid_grant: VK ID does not know the token — it
        is already gone, which a disconnect may treat as done), PermanentError
        (invalid_request / invalid_client: our configuration), RateLimitError (HTTP 429),
        TransientError (5xx, network, once the retries are spent), ResponseFormatError.
        """
        self._session_request("oauth2/revoke", access_token)

    def logout(self, access_token: str) -> None:
        """End the merchant's VK ID session in our application (``POST /oauth2/logout``): the
        access token and its refresh tokens stop working. Raises as :meth:`revoke`."""
        self._session_request("oauth2/logout", access_token)

    def _session_request(self, path: str, access_token: str) -> None:
        form = {"client_id": self._client_id, "access_token": access_token}

        def attempt() -> Mapping[str, Any]:
            response = self._http.send(
                "POST", f"{self._base_url}/{path}", op=path, data=form, idempotent=True
            )
            return self._reply(response, path, (access_token,), idempotent=True)

        body = self._http.with_retries(attempt)
        if "response" not in body:
            raise ResponseFormatError("reply without response", service=SERVICE, method=path)

    def _token_request(
        self, form: dict[str, str], *, secrets: tuple[str, ...], fallback_refresh: str | None
    ) -> VkIdTokens:
        op = f"oauth2/auth {form['grant_type']}"

        def attempt() -> Mapping[str, Any]:
            response = self._http.send(
                "POST", f"{self._base_url}/oauth2/auth", op=op, data=form, idempotent=False
            )
            return self._reply(response, op, secrets)

        body = self._http.with_retries(attempt)
        return self._tokens(body, op, fallback_refresh)

    def _reply(
        self,
        response: requests.Response,
        op: str,
        secrets: tuple[str, ...],
        *,
        idempotent: bool = False,
    ) -> Mapping[str, Any]:
        """The reply body, or the typed error. ``idempotent``: transient failures may be
        retried (revoke/logout); a code exchange or refresh must never be."""
        status = response.status_code
        try:
            body = as_mapping(response.json())
        except ValueError:
            body = {}
        if body.get("error"):
            raise _oauth_error(body, op, status, secrets, retryable=idempotent)
        if status >= 500:
            raise TransientError(
                f"HTTP {status}",
                service=SERVICE,
                method=op,
                http_status=status,
                retryable=idempotent,
            )
        if status == 429:
            raise RateLimitError("HTTP 429", service=SERVICE, method=op, http_status=status)
        if status in (401, 403):
            raise AuthError(f"HTTP {status}", service=SERVICE, method=op, http_status=status)
        if status >= 400 or not body:
            raise ResponseFormatError(
                f"HTTP {status}, no token reply", service=SERVICE, method=op, http_status=status
            )
        return body

    def _tokens(self, body: Mapping[str, Any], op: str, fallback_refresh: str | None) -> VkIdTokens:
        access = opt_str(body.get("access_token"))
        if access is None:
            raise ResponseFormatError("reply without access_token", service=SERVICE, method=op)
        lifetime = to_int(body.get("expires_in"))
        raw_scope = opt_str(body.get("scope")) or ""
        return VkIdTokens(
            access_token=access,
            # Keep the old refresh token if a refresh reply omits a new one.
            refresh_token=opt_str(body.get("refresh_token")) or fallback_refresh,
            user_id=to_int(body.get("user_id")),
            expires_at=self._clock() + timedelta(seconds=lifetime or DEFAULT_LIFETIME),
            scope=tuple(s for s in raw_scope.replace(",", " ").split() if s),
            token_type=opt_str(body.get("token_type")),
            id_token=opt_str(body.get("id_token")),
        )


def _oauth_error(
    body: Mapping[str, Any],
    op: str,
    status: int,
    secrets: tuple[str, ...],
    *,
    retryable: bool = False,
) -> ApiError:
    error = body["error"]
    if isinstance(error, Mapping):
        # Some VK endpoints answer in the VK API envelope style {"error": {"error_code": ...}}.
        code: Any = to_int(error.get("error_code"))
        description = opt_str(error.get("error_msg")) or "VK ID error"
        error_class = error_class_for(code)
    else:
        code = opt_str(error) or "error"
        description = opt_str(body.get("error_description")) or code
        error_class = _oauth_error_class(code, status)
    message = redact(description, secrets)
    if issubclass(error_class, TransientError):
        # Transient, but a token request is never repeated: a code is single-use and a refresh
        # rotates the refresh token, so a blind retry of a request VK may have applied would
        # fail for good. Only revoke/logout (idempotent) pass retryable=True.
        return error_class(
            message, service=SERVICE, method=op, code=code, http_status=status, retryable=retryable
        )
    return error_class(message, service=SERVICE, method=op, code=code, http_status=status)


def _oauth_error_class(code: str, status: int) -> type[ApiError]:
    if code in _AUTH_ERRORS:
        return AuthError
    if code in _TRANSIENT_ERRORS:
        return TransientError
    return AuthError if status == 401 else PermanentError
