"""Operations behind /sandbox/control/…: JSON payload in, JSON-friendly result out.

Each raises ValueError for a bad payload and LookupError for something that does not exist;
the views turn those into 400 and 404.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from typing import Any

from apps.sandbox.models import EvotorAccount, EvotorProduct, EvotorProductGroup, OutboundDelivery

from . import faults, outbound, vk_moderation
from .config import config_as_dict, get_config, update_config
from .seed import touch_products


def token_ok(presented: str | None) -> bool:
    return bool(presented) and hmac.compare_digest(presented, get_config().control_token)


def _int_or_none(payload: Mapping[str, Any], name: str) -> int | None:
    value = payload.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer") from None


def _text(payload: Mapping[str, Any], name: str) -> str:
    value = payload.get(name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} is required")
    return value


def add_fault(payload: Mapping[str, Any]) -> dict[str, Any]:
    spec = faults.FaultSpec(
        service=str(payload.get("service", "")),
        target=str(payload.get("target") or "*"),
        count=_int_or_none(payload, "count") if "count" in payload else 1,
        error_code=_int_or_none(payload, "error_code"),
        http_status=_int_or_none(payload, "http_status"),
        latency=float(payload.get("latency") or 0),
        timeout=bool(payload.get("timeout")),
        captcha_style=str(payload.get("captcha") or payload.get("captcha_style") or "legacy"),
    )
    return {"id": faults.add_fault(spec).pk}


def configure(payload: Mapping[str, Any]) -> dict[str, Any]:
    if payload:
        update_config(**payload)
    return config_as_dict(get_config())


def revoke_vk_token(payload: Mapping[str, Any]) -> dict[str, Any]:
    faults.revoke_vk_token(_text(payload, "token"))
    return {"revoked": True}


def expire_vk_token(payload: Mapping[str, Any]) -> dict[str, Any]:
    faults.expire_vk_token(_text(payload, "token"))
    return {"expired": True}


def set_market(group_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(payload.get("enabled"), bool):
        raise ValueError("enabled must be true or false")
    faults.set_market_enabled(group_id, payload["enabled"])
    return {"group_id": group_id, "market_enabled": payload["enabled"]}


def set_caps(group_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    names = ("max_items", "max_albums", "max_items_per_album")
    caps = {name: _int_or_none(payload, name) for name in names if name in payload}
    faults.set_caps(group_id, **caps)
    return {"group_id": group_id, **caps}


def reject_item(item_id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
    """``{"title"?, "description"?, "rejected"?: true}``; ``rejected: false`` lifts it."""
    if payload.get("rejected", True) is False or payload.get("rejected") == "false":
        item = vk_moderation.accept_item(item_id)
    else:
        item = vk_moderation.reject_item(
            item_id,
            title=str(payload.get("title") or ""),
            description=str(payload.get("description") or ""),
        )
    return {"item_id": item.vk_id, "reject_info": vk_moderation.reject_info(item)}


def add_moderation_rule(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``{"name_contains", "count"? (null: until cleared), "title"?, "description"?}``."""
    rule = vk_moderation.add_rule(
        _text(payload, "name_contains"),
        count=_int_or_none(payload, "count") if "count" in payload else 1,
        title=str(payload.get("title") or ""),
        description=str(payload.get("description") or ""),
    )
    return {"id": rule.pk}


def revoke_evotor_token(payload: Mapping[str, Any]) -> dict[str, Any]:
    revoked = payload.get("revoked", True) is not False
    faults.revoke_evotor_token(_text(payload, "token"), revoked)
    return {"revoked": revoked}


def _account(payload: Mapping[str, Any]) -> EvotorAccount:
    account = EvotorAccount.objects.filter(user_id=_text(payload, "user_id")).first()
    if account is None:
        raise LookupError("no such Evotor user")
    return account


def install(payload: Mapping[str, Any]) -> dict[str, Any]:
    record = outbound.install_app(
        _account(payload),
        url=payload.get("url"),
        server_token=payload.get("server_token"),
        new_token=bool(payload.get("new_token")),
    )
    return delivery_json(record)


def uninstall(payload: Mapping[str, Any]) -> dict[str, Any]:
    record = outbound.uninstall_app(
        _account(payload), url=payload.get("url"), server_token=payload.get("server_token")
    )
    return delivery_json(record)


def send_event(payload: Mapping[str, Any]) -> dict[str, Any]:
    """``{"product_id" | "group_id", "action", "url"?, "secret"?}``."""
    action = str(payload.get("action") or "updated")
    options = {"url": payload.get("url"), "secret": payload.get("secret")}
    if payload.get("group_id"):
        group = (
            EvotorProductGroup.objects.select_related("store__account")
            .filter(evotor_id=payload["group_id"])
            .first()
        )
        if group is None:
            raise LookupError("no such product group")
        return delivery_json(outbound.send_group_event(group, action, **options))
    product = (
        EvotorProduct.objects.select_related("store__account")
        .filter(evotor_id=_text(payload, "product_id"))
        .first()
    )
    if product is None:
        raise LookupError("no such product")
    return delivery_json(outbound.send_product_event(product, action, **options))


def touch(payload: Mapping[str, Any]) -> dict[str, Any]:
    account = _account(payload) if payload.get("user_id") else None
    try:
        percent = float(payload.get("percent", 1))
    except (TypeError, ValueError):
        raise ValueError("percent must be a number") from None
    result = touch_products(percent, account=account)
    return {"touched": result.touched, "since": result.since}


def delivery_json(record: OutboundDelivery) -> dict[str, Any]:
    return {
        "kind": record.kind,
        "url": record.url,
        "delivery_id": record.delivery_id,
        "status_code": record.status_code,
        "attempts": record.attempts,
        "delivered": record.delivered,
        "error": record.error,
    }
