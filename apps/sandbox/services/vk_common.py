"""What every VK method needs: the call context, token checks, community lookup, text rules."""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass, field, replace
from typing import Any

from django.utils import timezone

from apps.sandbox.models import SandboxConfig, VkGroup, VkGroupManager, VkToken

from .ratelimit import hit
from .vk_errors import EXPIRED_TOKEN, INVALID_TOKEN, TOKEN_REQUIRED, VkApiError, param
from .vk_params import Params


@dataclass(frozen=True)
class VkContext:
    """One method call: who calls, with what, and where the sandbox lives (for URLs)."""

    token: VkToken
    params: Params
    config: SandboxConfig
    base_url: str  # absolute URL of the VK API root, e.g. http://host/sandbox/vk
    version: tuple[int, int]
    # Lookups shared by the inner calls of one execute (``with_params`` keeps the same dict):
    # 25 edits of one community need its row and the caller's rights only once.
    memo: dict[Any, Any] = field(default_factory=dict, compare=False)

    def with_params(self, params: Params) -> VkContext:
        return replace(self, params=params)


def authenticate(value: str | None) -> VkToken:
    """The token row; 15 without a token, 5 for an unknown, revoked or expired one."""
    if not value:
        raise VkApiError(15, TOKEN_REQUIRED)
    token = VkToken.objects.select_related("user", "group").filter(token=value).first()
    if token is None or token.is_revoked or not hmac.compare_digest(token.token, value):
        raise VkApiError(5, INVALID_TOKEN)
    if token.expires_at is not None and token.expires_at <= timezone.now():
        raise VkApiError(5, EXPIRED_TOKEN)
    return token


def parse_version(value: str | None) -> tuple[int, int]:
    """``v`` is mandatory (docs/vk.md#transport-and-envelope); error 8 without it or when it is
    not ``X.Y``."""
    if not value:
        raise VkApiError(8, "v is required")
    major, _dot, minor = value.strip().partition(".")
    if not (major.isdigit() and minor.isdigit()):
        raise VkApiError(8, "v is invalid")
    return int(major), int(minor)


def count_request(token: VkToken, config: SandboxConfig) -> None:
    """3 requests per window for a user token, 20 for a community token → 6
    (docs/vk.md#rate-limits)."""
    limit = config.vk_user_rate if token.kind == VkToken.USER else config.vk_group_rate
    window = hit("vk", str(token.pk), limit=limit, window=config.vk_rate_window)
    if window.exceeded:
        raise VkApiError(6)


def manager_level(token: VkToken, group: VkGroup) -> int:
    """The caller's admin level in the community (0 = not a manager)."""
    if token.user_id is None:
        return 0
    level = (
        VkGroupManager.objects.filter(group=group, user_id=token.user_id)
        .values_list("admin_level", flat=True)
        .first()
    )
    return level or 0


def group_by_id(group_id: int, name: str = "group_id") -> VkGroup:
    group = VkGroup.objects.filter(vk_id=group_id).first()
    if group is None:
        raise param(name)
    return group


def market_group(ctx: VkContext, *, write: bool, lock: bool = False) -> VkGroup:
    """The community of ``owner_id`` (negative), checked like VK checks market calls.

    Writes need a manager (205); reads need an open community or a manager (203). A market
    switched off answers 1438 (docs/vk.md#what-the-sandbox-enforces). ``lock`` serialises cap
    checks (1405-1407) across processes with a row lock (a no-op on SQLite, whose writers are
    serial anyway).
    """
    owner_id = ctx.params.int("owner_id", required=True)
    if owner_id is None or owner_id >= 0:
        raise param("owner_id")
    group, level = _group_and_level(ctx, -owner_id, lock)
    if write and not level:
        raise VkApiError(205)
    if not write and group.is_closed and not level:
        raise VkApiError(203)
    if not group.market_enabled:
        raise VkApiError(1438)
    return group


def _group_and_level(ctx: VkContext, vk_id: int, lock: bool) -> tuple[VkGroup, int]:
    key = ("group", vk_id)
    if not lock and key in ctx.memo:
        return ctx.memo[key]
    queryset = VkGroup.objects.select_for_update() if lock else VkGroup.objects
    group = queryset.filter(vk_id=vk_id).first()
    if group is None:
        raise param("owner_id")
    found = (group, manager_level(ctx.token, group))
    if not lock:  # a locked read must really happen inside each call's transaction
        ctx.memo[key] = found
    return found


def vk_length(text: str) -> int:
    """Length as VK counts it: in cp1251, where other characters become ``&#NNNN;`` entities."""
    length = 0
    for char in text:
        try:
            char.encode("cp1251")
            length += 1
        except UnicodeEncodeError:
            length += len(f"&#{ord(char)};")
    return length


_LINK = re.compile(r"(?:https?://|www\.)([^\s/?#]+)", re.IGNORECASE)
_OWN_HOSTS = ("vk.com", "vk.ru", "m.vk.com", "vk.cc")


def has_bad_links(text: str) -> bool:
    """VK refuses links to outside sites in item descriptions (1408); its own hosts pass."""
    for match in _LINK.finditer(text):
        host = match.group(1).lower().removeprefix("www.")
        if host not in _OWN_HOSTS:
            return True
    return False
