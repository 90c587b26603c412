"""The merchant's links to Evotor and VK, their health history and received webhooks.

Tokens are stored only encrypted (``*_encrypted`` columns, see crypto.py) and are read through
properties, so a row can be listed, logged or shown in admin without ever decrypting it.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.connections import crypto

EVOTOR_USER_ID_PATTERN = r"^[0-9]{2}-[0-9]{15}$"


class ConnectionState(models.TextChoices):
    ONLINE = "online", _("online")
    OFFLINE = "offline", _("offline")
    REVOKED = "revoked", _("revoked")


class ConnectionBase(models.Model):
    """What both connections share: state, when it was last checked, what went wrong."""

    state = models.CharField(
        _("state"), max_length=16, choices=ConnectionState.choices, default=ConnectionState.OFFLINE
    )
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    last_checked_at = models.DateTimeField(_("last checked"), null=True, blank=True)
    state_changed_at = models.DateTimeField(_("state changed"), null=True, blank=True)
    # Set when the merchant was emailed about the current incident; cleared when back online.
    incident_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    connected_at = models.DateTimeField(_("connected"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        abstract = True

    @property
    def is_usable(self) -> bool:
        """Revoked needs the merchant; offline is retried by the next health check."""
        return self.state != ConnectionState.REVOKED and self.has_token  # type: ignore[attr-defined]


class EvotorConnection(ConnectionBase):
    class Type(models.TextChoices):
        WEBHOOK = "webhook", _("Evotor app install")
        MANUAL = "manual", _("token entered by hand")

    # Null while unclaimed: Evotor sent a token (user/token) before any EvoSync user was linked.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="evotor_connection",
        verbose_name=_("merchant"),
    )
    evotor_user_id = models.CharField(
        _("Evotor user id"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(EVOTOR_USER_ID_PATTERN)],
    )
    cloud_token_encrypted = models.TextField(blank=True, editable=False)
    connection_type = models.CharField(
        _("connected through"), max_length=16, choices=Type.choices, default=Type.WEBHOOK
    )

    class Meta:
        verbose_name = _("Evotor connection")
        verbose_name_plural = _("Evotor connections")
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return self.evotor_user_id

    @property
    def cloud_token(self) -> str:
        return crypto.decrypt(self.cloud_token_encrypted)

    @cloud_token.setter
    def cloud_token(self, value: str) -> None:
        self.cloud_token_encrypted = crypto.encrypt(value)

    @property
    def has_token(self) -> bool:
        return bool(self.cloud_token_encrypted)

    def issue_webhook_token(self) -> str:
        """The per-user ``token`` Evotor requires in the user/verify and user/create answers.

        Evotor would present it as ``Authorization: Bearer`` only on per-user notifications
        (stores, devices, documents, v1 "create products"), and EvoSync subscribes to none of
        them: its webhooks are authenticated by the server token or the HMAC signature. So the
        value is random and nothing of it is kept: it authorises nothing here. Subscribing to such
        a notification means storing its hash again and checking it on that endpoint.
        """
        return secrets.token_urlsafe(32)


class VkConnection(ConnectionBase):
    class Type(models.TextChoices):
        VK_ID = "vkid", _("VK ID")
        MANUAL = "manual", _("token entered by hand")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="vk_connection",
        verbose_name=_("merchant"),
    )
    connection_type = models.CharField(
        _("connected through"), max_length=16, choices=Type.choices, default=Type.VK_ID
    )
    access_token_encrypted = models.TextField(blank=True, editable=False)
    refresh_token_encrypted = models.TextField(blank=True, editable=False)
    token_expires_at = models.DateTimeField(_("token expires"), null=True, blank=True)
    device_id = models.CharField(_("VK ID device"), max_length=255, blank=True)
    vk_user_id = models.BigIntegerField(_("VK user id"), null=True, blank=True)
    group_id = models.PositiveBigIntegerField(_("community id"), null=True, blank=True)
    group_name = models.CharField(_("community"), max_length=255, blank=True)
    group_screen_name = models.CharField(_("community address"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("VK connection")
        verbose_name_plural = _("VK connections")
        indexes = [models.Index(fields=["state"])]

    def __str__(self) -> str:
        return self.group_name or str(self.group_id or self.user_id)

    @property
    def access_token(self) -> str:
        return crypto.decrypt(self.access_token_encrypted)

    @access_token.setter
    def access_token(self, value: str) -> None:
        self.access_token_encrypted = crypto.encrypt(value)

    @property
    def refresh_token(self) -> str:
        return crypto.decrypt(self.refresh_token_encrypted)

    @refresh_token.setter
    def refresh_token(self, value: str) -> None:
        self.refresh_token_encrypted = crypto.encrypt(value)

    @property
    def has_token(self) -> bool:
        return bool(self.access_token_encrypted)

    @property
    def has_community(self) -> bool:
        return self.group_id is not None

    @property
    def group_url(self) -> str:
        return f"https://vk.com/{self.group_screen_name or f'club{self.group_id}'}"


class HealthCheckLog(models.Model):
    """A change of a connection's health. Written on transitions only; pruned after 30 days."""

    class Service(models.TextChoices):
        EVOTOR = "evotor", _("Evotor")
        VK = "vk", _("VK")

    class Event(models.TextChoices):
        ONLINE = "online", _("online")
        OFFLINE = "offline", _("offline")
        TOKEN_REFRESHED = "token_refreshed", _("token refreshed")
        TOKEN_REFRESH_FAILED = "token_refresh_failed", _("token refresh failed")
        REVOKED = "revoked", _("revoked")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="health_logs",
        verbose_name=_("merchant"),
    )
    service = models.CharField(_("service"), max_length=16, choices=Service.choices)
    event = models.CharField(_("event"), max_length=32, choices=Event.choices)
    detail = models.CharField(_("detail"), max_length=500, blank=True)
    checked_at = models.DateTimeField(_("checked"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("health check log entry")
        verbose_name_plural = _("health check log")
        ordering = ["-checked_at", "-id"]
        indexes = [models.Index(fields=["user", "-checked_at"])]

    def __str__(self) -> str:
        return f"{self.service} {self.event}"


class WebhookEvent(models.Model):
    """A webhook delivery we accepted. Unique per source and delivery id: redelivery is a no-op."""

    class Source(models.TextChoices):
        EVOTOR_INSTALLATION = "evotor_installation", _("Evotor installation event")
        EVOTOR_HOOK = "evotor_hook", _("Evotor product change")

    source = models.CharField(_("source"), max_length=32, choices=Source.choices)
    delivery_id = models.CharField(_("delivery id"), max_length=128)
    event_type = models.CharField(_("type"), max_length=64)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
        related_name="+", verbose_name=_("merchant"),
    )
    payload = models.JSONField(_("payload"), default=dict)
    received_at = models.DateTimeField(_("received"), default=timezone.now, db_index=True)
    processed_at = models.DateTimeField(_("processed"), null=True, blank=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["source", "delivery_id"], name="unique_delivery")
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.delivery_id}"
