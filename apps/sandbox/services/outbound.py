"""Evotor's outbound side: installing the app (``user/token``), uninstalling it, and signed
product-change webhooks (docs/evotor.md#account-webhooks,
docs/evotor.md#product-change-webhook).

Target URLs and secrets come from the sandbox configuration or from the caller; the sandbox
knows nothing of the product's own URLs. Every delivery is recorded in ``OutboundDelivery``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import requests
from django.utils import timezone

from apps.sandbox.models import EvotorAccount, EvotorProduct, EvotorProductGroup, OutboundDelivery

from . import evotor_json
from .config import get_config

# Evotor gives a receiver 15 s (docs/evotor.md#product-change-webhook).
TIMEOUT_SECONDS = 15.0
USER_AGENT = "Evotor-Hookshot"
JSON_TYPE = "application/json;charset=UTF-8"
EVENT_TYPE = "application/vnd.evotor.v2+json;charset=UTF-8"
ACTIONS = ("created", "updated", "removed")
SANDBOX_APP_ID = "evosync-sandbox-app"


@dataclass(frozen=True)
class Delivery:
    """How to deliver: attempts (Evotor retries on ≥500 and timeouts), timeout, and injectable
    sleep/session so tests never wait or touch the network."""

    attempts: int = 3
    timeout: float = TIMEOUT_SECONDS
    sleep: Callable[[float], None] = time.sleep
    session: requests.Session | None = None


def install_app(
    account: EvotorAccount,
    *,
    url: str | None = None,
    server_token: str | None = None,
    new_token: bool = False,
    delivery: Delivery | None = None,
) -> OutboundDelivery:
    """POST ``{userId, token}`` with ``Authorization: Bearer <server token>``. Installing makes the
    cloud token valid again; ``new_token`` issues a fresh one first, as a reinstall does."""
    config = get_config()
    url = _require(url or config.evotor_token_url, "user/token URL")
    server_token = _require(server_token or config.evotor_server_token, "server token")
    if new_token:
        account.token = str(uuid.uuid4())
    account.is_revoked = False
    account.save(update_fields=["token", "is_revoked"])
    body = _json_bytes({"userId": account.user_id, "token": account.token})
    headers = {"Authorization": f"Bearer {server_token}", "Accept": JSON_TYPE}
    return deliver("user/token", url, body, headers, JSON_TYPE, delivery or Delivery())


def uninstall_app(
    account: EvotorAccount,
    *,
    url: str | None = None,
    server_token: str | None = None,
    delivery: Delivery | None = None,
) -> OutboundDelivery:
    """Revoke the cloud token (the API answers 403 from now on) and, when an installation-event
    URL is known, POST the ``ApplicationUninstalled`` event there."""
    account.is_revoked = True
    account.save(update_fields=["is_revoked"])
    config = get_config()
    url = _require(url or config.evotor_installation_url, "installation event URL")
    server_token = _require(server_token or config.evotor_server_token, "server token")
    event = {
        "id": str(uuid.uuid4()),
        "timestamp": _now_ms(),
        "version": 2,
        "type": "ApplicationUninstalled",
        "data": {"productId": SANDBOX_APP_ID, "userId": account.user_id},
    }
    headers = {"Authorization": f"Bearer {server_token}", "Accept": JSON_TYPE}
    return deliver(
        "installation/event", url, _json_bytes(event), headers, JSON_TYPE, delivery or Delivery()
    )


def send_product_event(
    product: EvotorProduct,
    action: str,
    *,
    url: str | None = None,
    secret: str | None = None,
    delivery: Delivery | None = None,
) -> OutboundDelivery:
    """A ``ProductEvent``; ``removed`` deletes the product from the sandbox catalogue too."""
    store = product.store
    payload = evotor_json.product_json(product, store.evotor_id, store.account.user_id)
    if action == "removed":
        product.delete()
    return _send_event("ProductEvent", action, payload, url, secret, delivery)


def send_group_event(
    group: EvotorProductGroup,
    action: str,
    *,
    url: str | None = None,
    secret: str | None = None,
    delivery: Delivery | None = None,
) -> OutboundDelivery:
    store = group.store
    payload = evotor_json.group_json(group, store.evotor_id, store.account.user_id)
    if action == "removed":
        group.delete()
    return _send_event("ProductGroupEvent", action, payload, url, secret, delivery)


def _send_event(
    event_type: str,
    action: str,
    payload: dict[str, Any],
    url: str | None,
    secret: str | None,
    delivery: Delivery | None,
) -> OutboundDelivery:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {', '.join(ACTIONS)}")
    config = get_config()
    url = _require(url or config.evotor_events_url, "product event URL")
    secret = _require(secret or config.evotor_events_secret, "webhook secret")
    envelope = {
        "id": str(uuid.uuid4()),
        "timestamp": _now_ms(),
        "type": event_type,
        "action": action,
        "payload": payload,
    }
    body = _json_bytes(envelope)
    headers = {"X-Evotor-Delivery": str(uuid.uuid4()), "X-Hub-Signature": sign(body, secret)}
    return deliver(f"{event_type} {action}", url, body, headers, EVENT_TYPE, delivery or Delivery())


def sign(body: bytes, secret: str) -> str:
    """``sha1=<hex HMAC-SHA1 of the raw body>`` (docs/evotor.md#product-change-webhook)."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha1).hexdigest()
    return f"sha1={digest}"


def deliver(
    kind: str,
    url: str,
    body: bytes,
    headers: dict[str, str],
    content_type: str,
    delivery: Delivery,
) -> OutboundDelivery:
    """POST with Evotor's retry rule: a status below 500 is delivered (even 4xx); 5xx and
    network failures are retried after ~exp(N) seconds
    (docs/evotor.md#product-change-webhook)."""
    session = delivery.session or requests.Session()
    headers = {"User-Agent": USER_AGENT, "Content-Type": content_type, **headers}
    record = OutboundDelivery(
        kind=kind,
        url=url,
        delivery_id=headers.get("X-Evotor-Delivery", str(uuid.uuid4())),
        body=body.decode("utf-8"),
    )
    for attempt in range(1, max(1, delivery.attempts) + 1):
        record.attempts = attempt
        try:
            response = session.post(url, data=body, headers=headers, timeout=delivery.timeout)
        except requests.RequestException as exc:
            record.status_code, record.error = None, f"{type(exc).__name__}"[:300]
        else:
            record.status_code, record.error = response.status_code, ""
            record.response_excerpt = response.text[:500]
            if response.status_code < 500:
                break
        if attempt < delivery.attempts:
            delivery.sleep(min(60.0, math.exp(attempt)))
    record.save()
    return record


def _require(value: str | None, what: str) -> str:
    if not value:
        raise ValueError(f"no {what} configured: pass it or set it with sandbox_evotor configure")
    return value


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False).encode("utf-8")


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)
