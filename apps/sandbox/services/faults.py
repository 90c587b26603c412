"""Fault injection and the other "make the world hostile" switches
(docs/architecture.md#the-sandbox).

A fault is a row: the next N calls of a method or endpoint fail with a VK error code or an HTTP
status, are delayed, or hang past the client's timeout after doing the work. Rows are consumed
with a conditional UPDATE, so two processes never both take the last remaining call.

A fault with a ``probability`` hits that share of the matching calls instead of every one: each
call draws from the operating system's randomness (no seed shared by forked server workers, so
three gunicorn workers do not fail the same calls in step), and every draw is counted in the row
(``matched``, ``fired``) with one UPDATE, whichever process made it.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db.models import F, Q
from django.utils import timezone

from apps.sandbox.models import (
    EvotorAccount,
    SandboxConfig,
    SandboxFault,
    VkGroup,
    VkToken,
)

from .config import get_config
from .vk_errors import MESSAGES as VK_MESSAGES

SERVICES = {SandboxFault.EVOTOR, SandboxFault.VK, SandboxFault.VKID}
EVOTOR_TARGETS = frozenset(
    {"*", "stores", "store", "product-groups", "product-group", "products", "product", "images"}
)
VKID_TARGETS = frozenset({"*", "token", "revoke", "logout"})


@dataclass(frozen=True)
class FaultSpec:
    """What to inject; validated before it becomes a row."""

    service: str
    target: str = "*"
    count: int | None = 1
    error_code: int | None = None
    http_status: int | None = None
    latency: float = 0.0
    timeout: bool = False
    captcha_style: str = SandboxFault.CAPTCHA_LEGACY
    probability: float | None = None

    def validate(self) -> None:
        if self.service not in SERVICES:
            raise ValueError(f"service must be one of {sorted(SERVICES)}")
        if self.service == SandboxFault.EVOTOR and self.target not in EVOTOR_TARGETS:
            raise ValueError(f"Evotor target must be one of {sorted(EVOTOR_TARGETS)}")
        if self.service == SandboxFault.VKID and self.target not in VKID_TARGETS:
            raise ValueError(f"VK ID target must be one of {sorted(VKID_TARGETS)}")
        if self.count is not None and self.count < 1:
            raise ValueError("count must be at least 1 (or omitted for 'until cleared')")
        if self.error_code is not None and self.service != SandboxFault.VK:
            raise ValueError("error codes exist only for the VK API; use an HTTP status")
        if self.error_code is not None and self.error_code not in VK_MESSAGES:
            raise ValueError(f"unknown VK error code {self.error_code}")
        if self.http_status is not None and not 400 <= self.http_status <= 599:
            raise ValueError("http_status must be 400..599")
        if self.latency < 0:
            raise ValueError("latency must not be negative")
        if self.probability is not None and not 0 < self.probability <= 1:
            raise ValueError("probability must be above 0 and at most 1")
        styles = {style for style, _label in SandboxFault.CAPTCHA_STYLES}
        if self.captcha_style not in styles:
            raise ValueError(f"captcha style must be one of {sorted(styles)}")
        if not (self.error_code or self.http_status or self.latency or self.timeout):
            raise ValueError("a fault needs an error code, an HTTP status, latency or timeout")


def add_fault(spec: FaultSpec) -> SandboxFault:
    """Store a fault; raises ValueError when ``spec`` makes no sense."""
    spec.validate()
    return SandboxFault.objects.create(
        service=spec.service,
        target=spec.target,
        remaining=spec.count,
        error_code=spec.error_code,
        http_status=spec.http_status,
        latency=spec.latency,
        timeout=spec.timeout,
        captcha_style=spec.captcha_style,
        probability=spec.probability,
    )


def take_fault(service: str, target: str, *, wildcard: bool = True) -> SandboxFault | None:
    """The fault that applies to this call, with one use consumed; None for a normal call.

    One cheap query when nothing is injected (the common case in benchmarks).
    """
    targets = [target, "*"] if wildcard else [target]
    live = Q(remaining__isnull=True) | Q(remaining__gt=0)
    for fault in SandboxFault.objects.filter(live, service=service, target__in=targets).order_by(
        "pk"
    ):
        if fault.probability is not None and not _draw(fault):
            continue
        if fault.remaining is None:
            return fault
        taken = SandboxFault.objects.filter(pk=fault.pk, remaining__gt=0).update(
            remaining=F("remaining") - 1
        )
        if taken:
            SandboxFault.objects.filter(pk=fault.pk, remaining=0).delete()
            return fault
    return None


_random = random.SystemRandom()


def _draw(fault: SandboxFault) -> bool:
    """Whether this call is one of the share ``fault.probability`` hits; counted in the row."""
    hit = _random.random() < (fault.probability or 0.0)
    counts = {"matched": F("matched") + 1}
    if hit:
        counts["fired"] = F("fired") + 1
    SandboxFault.objects.filter(pk=fault.pk).update(**counts)
    return hit


def fault_shares(service: str | None = None) -> list[dict[str, Any]]:
    """How the probability faults fared: matching calls seen, how many misbehaved, the share."""
    faults = SandboxFault.objects.filter(probability__isnull=False).order_by("pk")
    if service:
        faults = faults.filter(service=service)
    return [
        {"id": f.pk, "target": f.target, "probability": f.probability, "matched": f.matched,
         "fired": f.fired, "share": round(f.fired / f.matched, 4) if f.matched else None}
        for f in faults
    ]


def before(fault: SandboxFault | None) -> None:
    """Added latency: the call is slow but completes."""
    if fault is not None and fault.latency:
        sleep(fault.latency)


def after(fault: SandboxFault | None, config: SandboxConfig | None = None) -> None:
    """A timeout fault hangs *after* the work is done, past the client's read timeout.

    That is the dangerous real-world case — the change was applied but the reply is lost (a
    market.add the client cannot safely repeat) — and it keeps the sandbox from touching the
    database after the client, and perhaps the test that drove it, has gone away.
    """
    if fault is not None and fault.timeout:
        sleep((config or get_config()).timeout_sleep)


def sleep(seconds: float) -> None:
    """Every injected wait goes through here, so a test can patch it away."""
    time.sleep(seconds)


def list_faults() -> list[dict[str, Any]]:
    return [
        {
            "id": f.pk,
            "service": f.service,
            "target": f.target,
            "remaining": f.remaining,
            "error_code": f.error_code,
            "http_status": f.http_status,
            "latency": f.latency,
            "timeout": f.timeout,
            "captcha_style": f.captcha_style,
            "probability": f.probability,
            "matched": f.matched,
            "fired": f.fired,
        }
        for f in SandboxFault.objects.order_by("pk")
    ]


def clear_faults(service: str | None = None) -> int:
    faults = SandboxFault.objects.all()
    if service:
        faults = faults.filter(service=service)
    deleted, _by_model = faults.delete()
    return deleted


# --- tokens, markets, caps -------------------------------------------------------------------


def revoke_vk_token(token: str) -> None:
    """The token stops working: VK answers 5 "invalid access_token"."""
    _require_one(VkToken.objects.filter(token=token).update(is_revoked=True), "VK token")


def expire_vk_token(token: str) -> None:
    """The token is past its expiry: VK answers 5 "access_token has expired"."""
    expired = timezone.now() - timedelta(seconds=1)
    _require_one(VkToken.objects.filter(token=token).update(expires_at=expired), "VK token")


def revoke_evotor_token(token: str, revoked: bool = True) -> None:
    """The merchant uninstalled the app: Evotor answers 403 (docs/evotor.md#token-lifetime)."""
    changed = EvotorAccount.objects.filter(token=token).update(is_revoked=revoked)
    _require_one(changed, "Evotor token")


def set_market_enabled(group_id: int, enabled: bool) -> None:
    """Switch the community's market on or off (off: market methods answer 1438)."""
    changed = VkGroup.objects.filter(vk_id=group_id).update(market_enabled=enabled)
    _require_one(changed, "VK community")


def set_caps(group_id: int, **caps: int | None) -> None:
    """Set max_items / max_albums / max_items_per_album (None lifts a cap)."""
    allowed = {"max_items", "max_albums", "max_items_per_album"}
    unknown = set(caps) - allowed
    if unknown:
        raise ValueError(f"unknown caps: {', '.join(sorted(unknown))}")
    if any(value is not None and value < 0 for value in caps.values()):
        raise ValueError("caps must not be negative")
    _require_one(VkGroup.objects.filter(vk_id=group_id).update(**caps), "VK community")


def _require_one(changed: int, what: str) -> None:
    if not changed:
        raise LookupError(f"no such {what}")
