"""Knobs of the sandbox: its configuration, injected faults, and a log of what it sent out."""

from __future__ import annotations

import secrets

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


def _control_token() -> str:
    return secrets.token_urlsafe(24)


class SandboxConfig(models.Model):
    """The one row of sandbox settings (pk=1), shared by every process.

    Limits that the real services do not publish live here so that tests can make them tiny and
    benchmarks generous. Target URLs and secrets of Evotor's outbound calls are sandbox
    configuration too: the sandbox knows nothing of the product's URLs.
    """

    control_token = models.CharField(_("control token"), max_length=64, default=_control_token)

    evotor_rate_limit = models.PositiveIntegerField(_("Evotor requests per window"), default=1000)
    evotor_rate_window = models.FloatField(_("Evotor rate window, s"), default=60.0)
    vk_user_rate = models.PositiveIntegerField(_("VK requests per window (user)"), default=3)
    vk_group_rate = models.PositiveIntegerField(_("VK requests per window (community)"), default=20)
    vk_rate_window = models.FloatField(_("VK rate window, s"), default=1.0)
    vk_require_main_photo = models.BooleanField(
        _("market.add requires main_photo_id"), default=True
    )
    vk_restore_window = models.PositiveIntegerField(_("market.restore window, s"), default=3600)
    # How long a "timeout" fault sleeps: longer than any client's read timeout.
    timeout_sleep = models.FloatField(_("timeout fault sleep, s"), default=35.0)
    vkid_access_lifetime = models.PositiveIntegerField(
        _("VK ID access token lifetime, s"), default=3600
    )
    vkid_code_lifetime = models.PositiveIntegerField(_("VK ID code lifetime, s"), default=600)

    evotor_token_url = models.URLField(_("user/token webhook URL"), max_length=500, blank=True)
    evotor_installation_url = models.URLField(
        _("installation event URL"), max_length=500, blank=True
    )
    evotor_server_token = models.CharField(_("our server token"), max_length=200, blank=True)
    evotor_events_url = models.URLField(_("product event webhook URL"), max_length=500, blank=True)
    evotor_events_secret = models.CharField(_("product event secret"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("sandbox configuration")
        verbose_name_plural = _("sandbox configuration")

    def __str__(self) -> str:
        return "sandbox configuration"


class SandboxFault(models.Model):
    """The next ``remaining`` calls of ``target`` misbehave (null = until the fault is cleared).

    With a ``probability`` (0 < p < 1) each matching call misbehaves with that chance, drawn
    afresh per call in whichever process serves it; ``remaining`` then counts the calls that
    did. ``matched`` and ``fired`` count what happened, so a benchmark can quote the real share.

    ``target`` is a VK method name (``market.add``, ``execute``, ``upload``), an Evotor endpoint
    name (``stores``, ``store``, ``product-groups``, ``product-group``, ``products``,
    ``product``, ``images``), ``token`` for VK ID, or ``*``.
    """

    EVOTOR = "evotor"
    VK = "vk"
    VKID = "vkid"
    SERVICES = [(EVOTOR, "Evotor"), (VK, "VK API"), (VKID, "VK ID")]

    service = models.CharField(_("service"), max_length=10, choices=SERVICES)
    target = models.CharField(_("method or endpoint"), max_length=100, default="*")
    remaining = models.PositiveIntegerField(_("calls left"), null=True, blank=True)
    error_code = models.IntegerField(_("VK error code"), null=True, blank=True)
    http_status = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    latency = models.FloatField(_("added latency, s"), default=0.0)
    timeout = models.BooleanField(_("time out"), default=False)
    # VK answers error 14 in two shapes (docs/vk.md#errors): the legacy image captcha and the
    # current "not a robot" page the user must open.
    CAPTCHA_LEGACY = "legacy"
    CAPTCHA_REDIRECT = "redirect"
    CAPTCHA_STYLES = [
        (CAPTCHA_LEGACY, _("captcha_sid + captcha_img")),
        (CAPTCHA_REDIRECT, _("redirect_uri + remixstlid")),
    ]
    captcha_style = models.CharField(
        _("captcha shape (error 14)"), max_length=10, choices=CAPTCHA_STYLES, default=CAPTCHA_LEGACY
    )
    probability = models.FloatField(_("share of matching calls"), null=True, blank=True)
    matched = models.PositiveIntegerField(_("matching calls seen"), default=0)
    fired = models.PositiveIntegerField(_("calls that misbehaved"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox fault")
        verbose_name_plural = _("sandbox faults")
        indexes = [models.Index(fields=["service", "target"], name="sandbox_fault_lookup")]

    def __str__(self) -> str:
        times = f"×{self.remaining if self.remaining is not None else '∞'}"
        share = f" p={self.probability:g}" if self.probability is not None else ""
        return f"{self.service} {self.target} {times}{share}"


class RateCounter(models.Model):
    """Requests of one caller (token or merchant) in the current fixed window."""

    key = models.CharField(_("key"), max_length=100, unique=True)
    window = models.BigIntegerField(_("window index"))
    count = models.PositiveIntegerField(_("requests"), default=0)

    class Meta:
        verbose_name = _("sandbox rate counter")
        verbose_name_plural = _("sandbox rate counters")

    def __str__(self) -> str:
        return f"{self.key}: {self.count} in window {self.window}"


class OutboundDelivery(models.Model):
    """One call the sandbox made as Evotor (app install, product-change webhook), for the record."""

    kind = models.CharField(_("kind"), max_length=40)
    url = models.CharField(_("URL"), max_length=500)
    delivery_id = models.CharField(_("delivery id"), max_length=40)
    body = models.TextField(_("body"))
    status_code = models.PositiveSmallIntegerField(_("status"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    error = models.CharField(_("error"), max_length=300, blank=True)
    response_excerpt = models.CharField(_("response"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox outbound delivery")
        verbose_name_plural = _("sandbox outbound deliveries")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.kind} → {self.url} ({self.status_code})"

    @property
    def delivered(self) -> bool:
        # Evotor counts any answer below 500 as delivered
        # (docs/evotor.md#product-change-webhook).
        return self.status_code is not None and self.status_code < 500


class VkModerationRule(models.Model):
    """VK moderation rejects the next ``remaining`` items whose name contains ``name_contains``
    (case-insensitive; null = every such item until the rule is deleted)."""

    name_contains = models.CharField(_("name contains"), max_length=100)
    remaining = models.PositiveIntegerField(_("items left"), null=True, blank=True)
    title = models.CharField(_("rejection title"), max_length=200, blank=True, default="")
    description = models.TextField(_("rejection description"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK moderation rule")
        verbose_name_plural = _("sandbox VK moderation rules")

    def __str__(self) -> str:
        left = self.remaining if self.remaining is not None else "∞"
        return f"reject «{self.name_contains}» ×{left}"
