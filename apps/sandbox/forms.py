"""Forms of the sandbox's pages: VK ID's consent screen and the home page's actions."""

from __future__ import annotations

from decimal import Decimal

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


class InstallForm(forms.Form):
    """ "Install the app" for a sandbox merchant (Evotor calls our user/token webhook)."""

    user_id = forms.CharField(max_length=20)
    new_token = forms.BooleanField(required=False, label=_("issue a new cloud token"))


class ProductChangeForm(forms.Form):
    """A cashier changes a product's price; Evotor then sends the product-change webhook."""

    product_id = forms.CharField(max_length=40, label=_("Product"))
    price = forms.DecimalField(
        label=_("New price"), min_value=Decimal("0"), max_digits=12, decimal_places=2
    )
