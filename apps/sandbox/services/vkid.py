"""The fake VK ID (docs/vk.md#tokens-and-vk-id): authorize with PKCE S256, code exchange,
rotating refresh, revoke and logout.

Errors follow OAuth 2.x: ``{"error", "error_description", "state"}``. Access tokens live
``vkid_access_lifetime`` seconds (1 hour by default, as VK ID documents); refresh tokens are
spent on use and replaced.
"""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.utils import timezone
from django.utils.crypto import constant_time_compare

from apps.sandbox.models import SandboxConfig, VkIdAuthCode, VkIdRefreshToken, VkToken, VkUser

DEFAULT_SCOPE = "vkid.personal_info"
REFRESH_LIFETIME = timedelta(days=180)
_CHALLENGE = re.compile(r"^[A-Za-z0-9_-]{43,128}$")


class AuthorizeError(Exception):
    """A bad authorize request. ``redirect`` is False when the redirect URI itself is unusable,
    so the error must be shown on the page instead of being sent to an unknown site."""

    def __init__(self, error: str, description: str, *, redirect: bool) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.redirect = redirect


class OAuthError(Exception):
    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status


@dataclass(frozen=True)
class AuthorizeRequest:
    client_id: str
    redirect_uri: str
    state: str
    code_challenge: str
    scopes: tuple[str, ...]

    def redirect_with(self, **params: str) -> str:
        """``redirect_uri`` with ``params`` added to whatever query it already has."""
        parts = urlsplit(self.redirect_uri)
        query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
        return urlunsplit(parts._replace(query=urlencode(query)))


def parse_authorize(query: Mapping[str, str]) -> AuthorizeRequest:
    client_id = (query.get("client_id") or "").strip()
    redirect_uri = (query.get("redirect_uri") or "").strip()
    if not client_id:
        raise AuthorizeError("invalid_request", "client_id is required", redirect=False)
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AuthorizeError("invalid_request", "redirect_uri is invalid", redirect=False)
    request = AuthorizeRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        state=query.get("state") or "",
        code_challenge=query.get("code_challenge") or "",
        scopes=tuple(_split_scopes(query.get("scope") or DEFAULT_SCOPE)),
    )
    if query.get("response_type") != "code":
        raise AuthorizeError(
            "unsupported_response_type", "response_type must be code", redirect=True
        )
    if not request.state:
        raise AuthorizeError("invalid_request", "state is required", redirect=True)
    if (query.get("code_challenge_method") or "").lower() != "s256":
        raise AuthorizeError("invalid_request", "code_challenge_method must be s256", redirect=True)
    if not _CHALLENGE.match(request.code_challenge):
        raise AuthorizeError("invalid_request", "code_challenge is invalid", redirect=True)
    return request


def _split_scopes(raw: str) -> list[str]:
    return [s for s in raw.replace(",", " ").split() if s]


def grant(request: AuthorizeRequest, user: VkUser, config: SandboxConfig) -> str:
    """The merchant pressed "Allow": a one-time code, and the callback URL carrying it."""
    code = VkIdAuthCode.objects.create(
        code=secrets.token_urlsafe(32),
        user=user,
        client_id=request.client_id,
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        device_id=secrets.token_urlsafe(24),
        state=request.state,
        scopes=" ".join(request.scopes),
        expires_at=timezone.now() + timedelta(seconds=config.vkid_code_lifetime),
    )
    return request.redirect_with(
        code=code.code,
        state=request.state,
        device_id=code.device_id,
        expires_in=str(config.vkid_code_lifetime),
        type="code_v2",
        ext_id=secrets.token_hex(8),
    )


def deny(request: AuthorizeRequest) -> str:
    return request.redirect_with(
        error="access_denied", error_description="User denied access", state=request.state
    )


def challenge_of(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def token_request(form: Mapping[str, str], config: SandboxConfig) -> dict[str, Any]:
    """POST /oauth2/auth. Raises OAuthError."""
    grant_type = form.get("grant_type")
    if grant_type == "authorization_code":
        return _exchange(form, config)
    if grant_type == "refresh_token":
        return _refresh(form, config)
    raise OAuthError("unsupported_grant_type", "grant_type is not supported")


def _required(form: Mapping[str, str], *names: str) -> None:
    for name in names:
        if not form.get(name):
            raise OAuthError("invalid_request", f"{name} is required")


def _exchange(form: Mapping[str, str], config: SandboxConfig) -> dict[str, Any]:
    _required(form, "code", "code_verifier", "client_id", "device_id", "redirect_uri")
    code = VkIdAuthCode.objects.select_related("user").filter(code=form["code"]).first()
    if code is None or code.used_at is not None or code.expires_at <= timezone.now():
        raise OAuthError("invalid_grant", "Code is invalid or expired")
    if code.client_id != form["client_id"] or code.redirect_uri != form["redirect_uri"]:
        raise OAuthError("invalid_grant", "Code was issued to another client or redirect_uri")
    if code.device_id != form["device_id"]:
        raise OAuthError("invalid_grant", "device_id is invalid")
    if not constant_time_compare(challenge_of(form["code_verifier"]), code.code_challenge):
        raise OAuthError("invalid_grant", "Code verifier is invalid")
    # Conditional UPDATE: of two exchanges racing with one code, exactly one gets tokens.
    if not VkIdAuthCode.objects.filter(pk=code.pk, used_at__isnull=True).update(
        used_at=timezone.now()
    ):
        raise OAuthError("invalid_grant", "Code is invalid or expired")
    return _issue(
        code.user,
        code.client_id,
        code.device_id,
        code.scopes,
        config,
        state=form.get("state") or code.state,
        id_token=True,
    )


def _refresh(form: Mapping[str, str], config: SandboxConfig) -> dict[str, Any]:
    _required(form, "refresh_token", "client_id", "device_id")
    row = (
        VkIdRefreshToken.objects.select_related("user").filter(token=form["refresh_token"]).first()
    )
    now = timezone.now()
    if row is None or row.used_at is not None or row.is_revoked or row.expires_at <= now:
        raise OAuthError("invalid_grant", "Refresh token is expired")
    if row.client_id != form["client_id"] or row.device_id != form["device_id"]:
        raise OAuthError("invalid_grant", "Refresh token was issued to another client or device")
    scopes = row.scopes
    if form.get("scope"):
        wanted = _split_scopes(form["scope"])
        if not set(wanted) <= set(row.scopes.split()):
            raise OAuthError("invalid_scope", "scope exceeds the granted scope")
        scopes = " ".join(wanted)
    if not VkIdRefreshToken.objects.filter(pk=row.pk, used_at__isnull=True).update(used_at=now):
        raise OAuthError("invalid_grant", "Refresh token is expired")
    return _issue(
        row.user,
        row.client_id,
        row.device_id,
        scopes,
        config,
        state=form.get("state") or "",
        id_token=False,
    )


def _issue(
    user: VkUser,
    client_id: str,
    device_id: str,
    scopes: str,
    config: SandboxConfig,
    *,
    state: str,
    id_token: bool,
) -> dict[str, Any]:
    now = timezone.now()
    access = VkToken.objects.create(
        token=f"vk2.a.{secrets.token_urlsafe(48)}",
        kind=VkToken.USER,
        user=user,
        scopes=scopes,
        expires_at=now + timedelta(seconds=config.vkid_access_lifetime),
        source="vkid",
        client_id=client_id,
        device_id=device_id,
    )
    refresh = VkIdRefreshToken.objects.create(
        token=f"vk2.a.{secrets.token_urlsafe(48)}",
        user=user,
        client_id=client_id,
        device_id=device_id,
        scopes=scopes,
        expires_at=now + REFRESH_LIFETIME,
    )
    body: dict[str, Any] = {
        "refresh_token": refresh.token,
        "access_token": access.token,
        "token_type": "Bearer",
        "expires_in": config.vkid_access_lifetime,
        "user_id": user.vk_id,
        "state": state,
        "scope": scopes,
    }
    if id_token:
        body["id_token"] = _fake_id_token(user, client_id)
    return body


def _fake_id_token(user: VkUser, client_id: str) -> str:
    """Shaped like a JWT (header.payload.signature); nobody should verify a sandbox one."""

    def part(text: str) -> str:
        return base64.urlsafe_b64encode(text.encode()).rstrip(b"=").decode()

    payload = f'{{"iss":"VK","sub":{user.vk_id},"aud":"{client_id}"}}'
    return ".".join([part('{"alg":"none","typ":"JWT"}'), part(payload), part("sandbox")])


def end_grant(form: Mapping[str, str]) -> dict[str, int]:
    """POST /oauth2/revoke and /oauth2/logout (client_id, access_token) → ``{"response": 1}``.

    VK ID tells the two apart (rights withdrawn vs. session ended), but for the tokens of one
    grant — one user, client and device — the effect is the same: the access token, the other
    access tokens of the grant and its refresh tokens all stop working. Repeating the call for
    a token already revoked answers 1 again; an expired token can still be revoked.
    Raises OAuthError (invalid_request, invalid_token for an unknown token, invalid_client for
    a token of another application).
    """
    _required(form, "client_id", "access_token")
    token = VkToken.objects.filter(token=form["access_token"], kind=VkToken.USER).first()
    if token is None or not constant_time_compare(token.token, form["access_token"]):
        raise OAuthError("invalid_token", "access_token is invalid", status=401)
    if token.client_id and token.client_id != form["client_id"]:
        raise OAuthError("invalid_client", "access_token was issued to another client")
    token.is_revoked = True
    token.save(update_fields=["is_revoked"])
    if token.client_id:  # a VK ID token: the rest of its grant goes too
        grant = {"user_id": token.user_id, "client_id": token.client_id}
        grant["device_id"] = token.device_id
        VkToken.objects.filter(source="vkid", **grant).update(is_revoked=True)
        VkIdRefreshToken.objects.filter(**grant).update(is_revoked=True)
    return {"response": 1}
