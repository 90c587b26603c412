"""The fake VK ID: authorization codes (PKCE) and rotating refresh tokens
(docs/vk.md#tokens-and-vk-id)."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .vk import VkUser


class VkIdAuthCode(models.Model):
    """A one-time code bound to everything the exchange must repeat (client, redirect, device)."""

    code = models.CharField(_("code"), max_length=100, unique=True)
    user = models.ForeignKey(VkUser, on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(_("client id"), max_length=100)
    redirect_uri = models.CharField(_("redirect URI"), max_length=500)
    code_challenge = models.CharField(_("code challenge"), max_length=128)
    device_id = models.CharField(_("device id"), max_length=100)
    state = models.CharField(_("state"), max_length=500)
    scopes = models.CharField(_("scopes"), max_length=255)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK ID code")
        verbose_name_plural = _("sandbox VK ID codes")

    def __str__(self) -> str:
        return f"code for {self.client_id} …{self.code[-6:]}"


class VkIdRefreshToken(models.Model):
    """Spent on use: a refresh returns a new refresh token and this one stops working."""

    token = models.CharField(_("token"), max_length=200, unique=True)
    user = models.ForeignKey(VkUser, on_delete=models.CASCADE, related_name="+")
    client_id = models.CharField(_("client id"), max_length=100)
    device_id = models.CharField(_("device id"), max_length=100)
    scopes = models.CharField(_("scopes"), max_length=255)
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    is_revoked = models.BooleanField(_("revoked"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK ID refresh token")
        verbose_name_plural = _("sandbox VK ID refresh tokens")

    def __str__(self) -> str:
        return f"refresh token for {self.client_id} …{self.token[-6:]}"
