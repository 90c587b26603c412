"""Evotor's product-change webhook ("Evotor-Hookshot", docs/evotor.md#product-change-webhook).

POST /api/v2/evotor/events, signed ``X-Hub-Signature: sha1=<HMAC-SHA1(raw body, secret)>``, JSON
or form-encoded (``payload=<json>``). Evotor counts any status below 500 as delivered and retries
anything else for hours, so: a bad signature or malformed body is a 4xx (and nothing is stored);
an event type we do not handle, or a merchant we do not know, is a 200 and ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from functools import cache
from typing import Any
from urllib.parse import parse_qs

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from apps.catalog.events import BadEvent, apply_event
from apps.connections import jsonbody
from apps.connections.models import EvotorConnection, WebhookEvent

logger = logging.getLogger(__name__)

HANDLED_TYPES = {"ProductEvent", "ProductGroupEvent", "StoreEvent"}
MAX_BODY_BYTES = 1024 * 1024
MAX_DELIVERY_ID = WebhookEvent._meta.get_field("delivery_id").max_length
UNKNOWN_MERCHANT = {"status": "ignored", "reason": "unknown merchant"}
# Evotor user id → EvoSync user id, as this process last found it. Every delivery checks the
# link again in the INSERT that records it (_record), so a disconnection or a relink to another
# account is seen at the next delivery; the cache only spares the separate lookup.
_merchants: dict[str, int] = {}
MERCHANTS_CACHED = 10_000

def _error(status: int, code: int, reason: str) -> JsonResponse:
    return JsonResponse({"errors": [{"code": code, "reason": reason}]}, status=status)


def signature_valid(body: bytes, header: str, secret: str) -> bool:
    if not secret or not header.startswith("sha1="):
        return False
    expected = hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()
    # Compared as bytes: compare_digest raises TypeError on a str with non-ASCII characters,
    # and a header is whatever the caller sends (WSGI hands it over as Latin-1 text).
    given = header[5:].strip().lower().encode("utf-8", "replace")
    return hmac.compare_digest(given, expected.encode())


def _envelope(request: HttpRequest) -> dict[str, Any]:
    """The event object from a JSON body or a form body's ``payload`` field."""
    content_type = request.content_type or ""
    try:
        text = request.body.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError("body is not valid JSON") from None
    if content_type == "application/x-www-form-urlencoded":
        text = parse_qs(text).get("payload", [""])[0]
    envelope = jsonbody.loads(text)  # InvalidJson is a ValueError
    if not isinstance(envelope, dict) or not isinstance(envelope.get("payload"), dict):
        raise ValueError("body must be an event object with a payload")
    for field in ("type", "action"):
        # A list or object here would reach set lookups and string building (a 500 before).
        if envelope.get(field) is not None and not isinstance(envelope[field], str):
            raise ValueError(f"{field} must be a string")
    return envelope


def _delivery_id(request: HttpRequest, envelope: dict[str, Any]) -> str:
    """Evotor's delivery header, else the event id; "" when neither is usable."""
    delivery = request.headers.get("X-Evotor-Delivery") or envelope.get("id") or ""
    if isinstance(delivery, int) and not isinstance(delivery, bool):
        delivery = str(delivery)
    return delivery[:MAX_DELIVERY_ID] if isinstance(delivery, str) else ""


@csrf_exempt
@require_POST
def evotor_events(request: HttpRequest) -> JsonResponse:
    if len(request.body) > MAX_BODY_BYTES:
        return _error(413, 2001, "body too large")
    signature = request.headers.get("X-Hub-Signature", "")
    if not signature_valid(request.body, signature, settings.EVOTOR_HOOK_SECRET):
        return _error(401, 1001, "bad signature")
    try:
        envelope = _envelope(request)
    except ValueError as exc:
        return _error(400, 2001, str(exc))
    event_type, payload = envelope.get("type"), envelope["payload"]
    if event_type not in HANDLED_TYPES:
        return JsonResponse({"status": "ignored", "reason": "event type not handled"})
    evotor_user_id = payload.get("user_id")
    user_id = merchant_user_id(evotor_user_id)
    if user_id is None:
        return JsonResponse(UNKNOWN_MERCHANT)
    delivery = _delivery_id(request, envelope)
    if not delivery:
        return _error(400, 2002, "no delivery id")
    response = _record_and_apply(evotor_user_id, user_id, delivery, envelope)
    if response is None:  # the link changed since this process looked it up: look again
        _merchants.pop(evotor_user_id, None)
        user_id = merchant_user_id(evotor_user_id)
        if user_id is not None:
            response = _record_and_apply(evotor_user_id, user_id, delivery, envelope)
    return response or JsonResponse(UNKNOWN_MERCHANT)


def merchant_user_id(evotor_user_id: Any) -> int | None:
    """The EvoSync user linked to this Evotor account, None for a merchant we do not know.

    A known merchant is remembered by this process (the link is checked again when the delivery
    is recorded); an unknown one is looked up every time, so that the first deliveries after
    linking are never ignored.
    """
    if not isinstance(evotor_user_id, str) or not evotor_user_id:
        return None
    user_id = _merchants.get(evotor_user_id)
    if user_id is not None:
        return user_id
    user_id = (
        EvotorConnection.objects.filter(evotor_user_id=evotor_user_id, user__isnull=False)
        .values_list("user_id", flat=True)
        .first()
    )
    if user_id is not None:
        if len(_merchants) >= MERCHANTS_CACHED:
            _merchants.clear()
        _merchants[evotor_user_id] = user_id
    return user_id


@cache
def _record_statement(vendor: str) -> tuple[str, tuple]:
    """INSERT of a WebhookEvent row whose user is taken from the Evotor connection, only if that
    connection still links the Evotor account to the user we expect; and the fields it writes.

    ``vendor`` keys the quoting. Written out rather than through the ORM: the ORM has no
    INSERT … SELECT, and this statement runs for every delivery.
    """
    quote, event, link = connection.ops.quote_name, WebhookEvent._meta, EvotorConnection._meta
    fields = tuple(f for f in event.concrete_fields if not f.primary_key and f.name != "user")
    columns = ", ".join(quote(f.column) for f in (*fields, event.get_field("user")))
    values = ", ".join("%s" for _ in fields)
    linked_user = quote(link.get_field("user").column)
    linked = f"{quote(link.get_field('evotor_user_id').column)} = %s AND {linked_user} = %s"
    # Names from the models' metadata, every value a parameter (hence the noqa: S608).
    sql = (
        f"INSERT INTO {quote(event.db_table)} ({columns}) "  # noqa: S608
        f"SELECT {values}, {linked_user} FROM {quote(link.db_table)} WHERE {linked}"
    )
    return sql, fields


def _record(event: WebhookEvent, evotor_user_id: str) -> bool:
    """Store ``event`` for ``event.user_id`` if the Evotor account is linked to that user.

    False when it is not (anymore): nothing stored. A redelivery raises IntegrityError.
    """
    sql, fields = _record_statement(connection.vendor)
    params = [field.get_db_prep_save(getattr(event, field.attname), connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, evotor_user_id, event.user_id])
        return cursor.rowcount == 1


def _record_and_apply(
    evotor_user_id: str, user_id: int, delivery: str, envelope: dict
) -> JsonResponse | None:
    """None when the Evotor account is not linked to ``user_id`` (anymore): nothing stored."""
    event_type, action = envelope["type"], str(envelope.get("action") or "")
    try:
        # The row and the change commit together (a BadEvent rolls both back), so the row
        # can say "processed" from the start: one UPDATE less per delivery.
        with transaction.atomic():
            now = timezone.now()
            event = WebhookEvent(
                source=WebhookEvent.Source.EVOTOR_HOOK,
                delivery_id=delivery,
                event_type=f"{event_type}.{action}"[:64],
                user_id=user_id,
                payload=jsonbody.storable(envelope),
                received_at=now,
                processed_at=now,
            )
            if not _record(event, evotor_user_id):
                return None
            apply_event(user_id, event_type, action, envelope["payload"])
    except IntegrityError:
        return JsonResponse({"status": "duplicate"})
    except BadEvent as exc:
        logger.info("Evotor event %s rejected: %s", delivery, exc)
        return _error(400, 2003, str(exc))
    return JsonResponse({"status": "applied"})
