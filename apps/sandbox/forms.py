"""Forms of the sandbox's only HTML page, VK ID's consent screen."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from apps.sandbox.models import VkUser


class VkIdConsentForm(forms.Form):
    """Who is "signed in to VK" and whether they allow access."""

    ALLOW = "allow"
    DENY = "deny"

    vk_user = forms.ModelChoiceField(
        queryset=VkUser.objects.order_by("pk"),
        required=False,
        empty_label=_("A new sandbox VK user"),
        label=_("Signed in to VK as"),
    )
    decision = forms.ChoiceField(choices=[(ALLOW, _("Allow")), (DENY, _("Deny"))])
