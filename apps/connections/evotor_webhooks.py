"""Evotor's account webhooks: user/verify, user/create, user/token and installation events.

Evotor calls these with our server token (docs/evotor.md#account-webhooks). Every answer other
than success is ``{"errors": [{"code": …}]}`` with Evotor's codes (docs/evotor.md#error-bodies).
The order of the checks is deliberate: throttle, then authenticate, then parse — so an
unauthenticated caller learns nothing about the payload rules, and nothing is written unless the
whole request is valid.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import ipaddress
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.connections import evotor_accounts, evotor_link, jsonbody, services
from apps.connections.models import EVOTOR_USER_ID_PATTERN

AUTH_FAILURE_LIMIT = 10
AUTH_FAILURE_WINDOW_SECONDS = 15 * 60
MAX_BODY_BYTES = 64 * 1024


class WebhookError(Exception):
    """Answered as Evotor's error body; nothing has been written when it is raised."""

    def __init__(self, status: int, code: int, reason: str = "", subject: str = "") -> None:
        super().__init__(reason or str(code))
        self.status, self.code, self.reason, self.subject = status, code, reason, subject

    def response(self) -> JsonResponse:
        error: dict[str, Any] = {"code": self.code}
        if self.reason:
            error["reason"] = self.reason
        if self.subject:
            error["subject"] = self.subject
        return JsonResponse({"errors": [error]}, status=self.status)


def client_ip(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the client as seen by our TRUSTED_PROXY_COUNT proxies."""
    proxies = settings.AXES_IPWARE_PROXY_COUNT or 0
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    forwarded = [part for part in forwarded if part]
    if proxies and len(forwarded) >= proxies and _is_ip(forwarded[-proxies]):
        return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR", "")


def _is_ip(text: str) -> bool:
    # The address goes into a cache key: a header of any length or alphabet must not.
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _failure_key(request: HttpRequest) -> str:
    return f"evotor-webhook-auth-failures:{client_ip(request)}"


def _credentials_valid(header: str) -> bool:
    scheme, _, value = header.partition(" ")
    value = value.strip()
    if settings.EVOTOR_WEBHOOK_AUTH == "bearer":
        expected = settings.EVOTOR_WEBHOOK_TOKEN
        return (
            scheme.lower() == "bearer"
            and bool(expected)
            and hmac.compare_digest(value.encode(), expected.encode())
        )
    user, password = settings.EVOTOR_WEBHOOK_BASIC_USER, settings.EVOTOR_WEBHOOK_BASIC_PASSWORD
    if scheme.lower() != "basic" or not (user and password):
        return False
    try:
        decoded = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(decoded, f"{user}:{password}".encode())


def authenticate(request: HttpRequest) -> None:
    """Raise WebhookError unless the request carries our server credentials.

    Failures are counted per client IP; past the limit even correct credentials are refused
    for the rest of the window, so the token cannot be guessed at speed.
    """
    key = _failure_key(request)
    if (cache.get(key) or 0) >= AUTH_FAILURE_LIMIT:
        raise WebhookError(429, 1001, "too many failed authentications; try again later")
    if _credentials_valid(request.headers.get("Authorization", "")):
        return
    cache.add(key, 0, AUTH_FAILURE_WINDOW_SECONDS)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, AUTH_FAILURE_WINDOW_SECONDS)
    raise WebhookError(401, 1001, "invalid server token")


def parse_json_object(request: HttpRequest) -> dict[str, Any]:
    if len(request.body) > MAX_BODY_BYTES:
        raise WebhookError(400, 2001, "body too large")
    try:
        body = jsonbody.loads(request.body)
    except jsonbody.InvalidJson as exc:
        raise WebhookError(400, 2001, str(exc)) from None
    if not isinstance(body, dict):
        raise WebhookError(400, 2001, "body must be a JSON object")
    return body


def required_string(body: dict[str, Any], field: str, max_length: int = 255) -> str:
    value = body.get(field)
    if value is None or value == "":
        raise WebhookError(400, 2002, "required field is missing", field)
    if not isinstance(value, str) or len(value) > max_length:
        raise WebhookError(400, 2003, "bad value", field)
    return value.strip()


def evotor_user_id(body: dict[str, Any]) -> str:
    value = required_string(body, "userId", 32)
    if not re.fullmatch(EVOTOR_USER_ID_PATTERN, value):
        raise WebhookError(400, 2003, "userId must look like 01-000000000000042", "userId")
    return value


def evotor_webhook(view: Callable[[HttpRequest, dict[str, Any]], JsonResponse]):
    """POST only, no CSRF (server-to-server), authenticated, JSON object body, Evotor errors."""

    @csrf_exempt
    @require_POST
    @wraps(view)
    def wrapper(request: HttpRequest) -> JsonResponse:
        try:
            authenticate(request)
            return view(request, parse_json_object(request))
        except WebhookError as error:
            return error.response()

    return wrapper


@evotor_webhook
def user_verify(request: HttpRequest, body: dict[str, Any]) -> JsonResponse:
    """Link an existing EvoSync account (email + password typed into Evotor's form)."""
    user_id = evotor_user_id(body)
    email = required_string(body, "username", 254)
    password = required_string(body, "password", 4096)
    try:
        token = services.link_evotor_account(user_id, email, password)
    except services.WrongCredentials:
        raise WebhookError(401, 1006, "wrong email or password") from None
    except services.AlreadyLinked:
        raise WebhookError(409, 2004, "already linked to another account", "userId") from None
    return JsonResponse({"userId": user_id, "token": token, "hasBilling": False})


def optional_string(body: dict[str, Any], *names: str, max_length: int = 150) -> str:
    """The first present field among ``names`` (Evotor form fields are ours to name)."""
    for name in names:
        value = body.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or len(value) > max_length:
            raise WebhookError(400, 2003, "bad value", name)
        return value.strip()
    return ""


@evotor_webhook
def user_create(request: HttpRequest, body: dict[str, Any]) -> JsonResponse:
    """Register a new EvoSync account from Evotor's form; the merchant sets a password by email."""
    user_id = evotor_user_id(body)
    account = evotor_accounts.NewAccount(
        email=required_string(body, "email", 254),
        first_name=optional_string(body, "firstName", "first_name", "name"),
        last_name=optional_string(body, "lastName", "last_name"),
        phone=optional_string(body, "phone", max_length=32),
    )
    try:
        token = evotor_accounts.create_account_for_evotor(user_id, account)
    except evotor_accounts.InvalidField as exc:
        raise WebhookError(400, 2003, "bad value", exc.field) from None
    except evotor_accounts.EvotorUserLinked:
        raise WebhookError(409, 2004, "already linked to another account", "userId") from None
    except evotor_accounts.AccountExists:
        raise WebhookError(409, 2005, "an account with this email or phone exists") from None
    return JsonResponse({"userId": user_id, "token": token})


@evotor_webhook
def user_token(request: HttpRequest, body: dict[str, Any]) -> JsonResponse:
    """Store the merchant's cloud token (sent after the app is installed)."""
    user_id = evotor_user_id(body)
    token = required_string(body, "token", evotor_link.EVOTOR_TOKEN_MAX_LENGTH)
    if not evotor_link.is_evotor_token(token):
        # It could never be sent back to Evotor (headers are ASCII), so it is not kept at all.
        raise WebhookError(400, 2003, "token must be printable ASCII without spaces", "token")
    services.store_evotor_cloud_token(user_id, token)
    return JsonResponse({})


INSTALLATION_TYPES = {"ApplicationInstalled", "ApplicationUninstalled"}


@evotor_webhook
def installation_event(request: HttpRequest, body: dict[str, Any]) -> JsonResponse:
    """ApplicationUninstalled revokes the connection; ApplicationInstalled is recorded."""
    event_id = required_string(body, "id", 128)
    event_type = required_string(body, "type", 64)
    if event_type not in INSTALLATION_TYPES:
        raise WebhookError(400, 2003, "unknown event type", "type")
    data = body.get("data")
    if not isinstance(data, dict):
        raise WebhookError(400, 2002, "required field is missing", "data")
    user_id = evotor_user_id(data)
    services.record_installation_event(event_id, event_type, user_id, jsonbody.storable(body))
    return JsonResponse({})
