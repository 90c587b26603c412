"""Connection forms. Tokens use password inputs: a token is never rendered back into a page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_TOKEN_LENGTH = 1000
VK_HOSTS = frozenset({"vk.com", "www.vk.com", "m.vk.com", "vk.ru", "www.vk.ru", "m.vk.ru"})
_SCREEN_NAME = re.compile(r"^[A-Za-z0-9_.]{2,64}$")


def _token_field(label: str, help_text: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=MAX_TOKEN_LENGTH,
        strip=True,
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class EvotorTokenForm(forms.Form):
    token = _token_field(
        _("Evotor cloud token"),
        _("In your Evotor account open Applications → EvoSync → Settings and copy the token."),
    )


class VkTokenForm(forms.Form):
    token = _token_field(
        _("VK user access token"),
        _("A user token with the “market” and “groups” rights of a person who manages the "
          "community."),
    )


def community_ref(text: str) -> str:
    """What people paste ("https://vk.com/coffee", "@coffee", "club123", "-123", "123") as an id
    or screen name for groups.getById. Raises ValidationError."""
    value = text.strip()
    if "/" in value:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        if parts.hostname not in VK_HOSTS:
            raise forms.ValidationError(_("Enter a VK community address, such as vk.com/coffee."))
        value = parts.path.strip("/").split("/")[0]
    value = value.lstrip("@")
    if re.fullmatch(r"-?\d+", value):
        return str(abs(int(value)))
    if not _SCREEN_NAME.match(value):
        raise forms.ValidationError(
            _("That does not look like a VK community id or address (for example 218861756 or "
              "vk.com/coffee).")
        )
    return value


class CommunityForm(forms.Form):
    community = forms.CharField(
        label=_("Community id or address"),
        help_text=_("For example 218861756, club218861756 or https://vk.com/coffee."),
        max_length=200,
    )

    def clean_community(self) -> str:
        return community_ref(self.cleaned_data["community"])
