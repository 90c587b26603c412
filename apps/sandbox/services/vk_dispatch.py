"""The VK API front door: ``/method/<name>`` → checks in VK's order → handler → envelope.

Order of checks: known method (3), token present and valid (15, 5), ``v`` (8), rate per token
(6), token kind and scope (27, 7), then the method's own rules. Errors are HTTP 200 with
``{"error": {error_code, error_msg, request_params}}`` (docs/vk.md#transport-and-envelope).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from apps.sandbox.models import SandboxFault, VkToken

from . import vk_albums, vk_execute, vk_groups, vk_market, vk_photos
from .config import get_config
from .faults import before, take_fault
from .vk_common import VkContext, authenticate, count_request, parse_version
from .vk_errors import GROUP_AUTH, VkApiError, injected
from .vk_params import Params

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MethodSpec:
    handler: Callable[[VkContext], Any]
    # Market methods take only user tokens: a community token gets 27
    # (docs/vk.md#token-kind-for-market-writes).
    user_only: bool = True
    scope: str | None = "market"
    atomic: bool = True


def _execute(ctx: VkContext) -> vk_execute.ExecuteResult:
    code = ctx.params.str("code", required=True) or ""
    return vk_execute.run(code, lambda method, params: _inner_call(ctx, method, params))


METHODS: dict[str, MethodSpec] = {
    "market.get": MethodSpec(vk_market.get_items),
    "market.getById": MethodSpec(vk_market.get_by_id),
    "market.add": MethodSpec(vk_market.add_item),
    "market.edit": MethodSpec(vk_market.edit_item),
    "market.delete": MethodSpec(vk_market.delete_item),
    "market.restore": MethodSpec(vk_market.restore_item),
    "market.getAlbums": MethodSpec(vk_albums.get_albums),
    "market.getAlbumById": MethodSpec(vk_albums.get_album_by_id),
    "market.addAlbum": MethodSpec(vk_albums.add_album),
    "market.editAlbum": MethodSpec(vk_albums.edit_album),
    "market.deleteAlbum": MethodSpec(vk_albums.delete_album),
    "market.addToAlbum": MethodSpec(vk_albums.add_to_album),
    "market.removeFromAlbum": MethodSpec(vk_albums.remove_from_album),
    "market.getCategories": MethodSpec(vk_groups.get_categories, scope=None),
    "market.getProductPhotoUploadServer": MethodSpec(vk_photos.upload_server),
    "market.saveProductPhoto": MethodSpec(vk_photos.save_photo),
    "market.saveProductPhotoBulk": MethodSpec(vk_photos.save_photo_bulk),
    "groups.getById": MethodSpec(vk_groups.get_by_id, user_only=False, scope=None),
    "groups.get": MethodSpec(vk_groups.get_groups, scope=None),
    # Inner calls are atomic one by one: a failed call must not undo its neighbours.
    "execute": MethodSpec(_execute, user_only=False, scope=None, atomic=False),
}


def request_params(method: str, raw: Mapping[str, str], has_token: bool) -> list[dict[str, str]]:
    """The echo VK puts in errors. The token itself is never echoed back."""
    echo = [{"key": "method", "value": method}]
    echo += [{"key": k, "value": v} for k, v in raw.items() if k != "access_token"]
    if has_token:
        echo.append({"key": "oauth", "value": "1"})
    return echo


def handle(method: str, raw: Mapping[str, str], token: str | None, base_url: str) -> dict:
    """The reply body for one API request (always HTTP 200)."""
    echo = request_params(method, raw, bool(token))
    try:
        spec = METHODS.get(method)
        if spec is None:
            raise VkApiError(3)
        token_row = authenticate(token)
        version = parse_version(raw.get("v"))
        config = get_config()
        count_request(token_row, config)
        ctx = VkContext(token_row, Params(raw), config, base_url, version)
        result = _run(ctx, spec)
    except VkApiError as exc:
        return {"error": exc.as_error(echo)}
    except Exception:
        # VK reports its own failures as error 10; the traceback goes to our log.
        logger.exception("sandbox VK method %s failed", method)
        return {"error": VkApiError(10).as_error(echo)}
    if isinstance(result, vk_execute.ExecuteResult):
        body: dict[str, Any] = {"response": result.response}
        if result.errors:
            body["execute_errors"] = result.errors
        return body
    return {"response": result}


def _run(ctx: VkContext, spec: MethodSpec) -> Any:
    if spec.user_only and ctx.token.kind == VkToken.GROUP:
        raise VkApiError(27, GROUP_AUTH)
    if spec.scope and ctx.token.kind == VkToken.USER and not ctx.token.has_scope(spec.scope):
        raise VkApiError(7)
    if not spec.atomic:
        return spec.handler(ctx)
    with transaction.atomic():
        return spec.handler(ctx)


def _inner_call(ctx: VkContext, method: str, params: dict[str, str]) -> Any:
    """One call inside execute: same rules as a direct call, minus the per-request checks.

    Faults aimed at this method by name apply here too (error codes and latency; a timeout only
    makes sense for the whole request), so a test can make exactly one market.edit of a batch
    fail.
    """
    spec = METHODS.get(method)
    if spec is None or method == "execute":
        raise VkApiError(3)
    fault = take_fault(SandboxFault.VK, method, wildcard=False)
    if fault is not None:
        before(fault)
        if fault.error_code:
            raise injected(fault.error_code, fault.captcha_style)
    return _run(ctx.with_params(Params(params)), spec)
