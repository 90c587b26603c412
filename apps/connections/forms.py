"""Connection forms. Tokens use password inputs: a token is never rendered back into a page."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from apps.connections.evotor_link import EVOTOR_TOKEN_MAX_LENGTH

MAX_TOKEN_LENGTH = 1000
VK_HOSTS = frozenset({"vk.com", "www.vk.com", "m.vk.com", "vk.ru", "www.vk.ru", "m.vk.ru"})
_SCREEN_NAME = re.compile(r"^[A-Za-z0-9_.]{2,64}$")
_NUMERIC_ID = re.compile(r"^-?[0-9]{1,19}$")  # ASCII digits: int() would also read "١٢٣"
MAX_GROUP_ID = 2**63 - 1  # the connection's group_id column
# Tokens travel in HTTP headers and query strings: a pasted one with Cyrillic or spaces inside
# is a copying mistake, and would fail when sent rather than when entered.
_printable_ascii = RegexValidator(
    r"^[\x21-\x7e]*\Z",
    _("A token contains only Latin letters, digits and punctuation, without spaces. Copy it "
      "again."),
)


def _token_field(label: str, help_text: str, max_length: int) -> forms.CharField:
    return forms.CharField(
        label=label,
        help_text=help_text,
        max_length=max_length,
        strip=True,
        validators=[_printable_ascii],
        widget=forms.PasswordInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class EvotorTokenForm(forms.Form):
    token = _token_field(
        _("Evotor cloud token"),
        _("In your Evotor account open Applications → EvoSync → Settings and copy the token."),
        EVOTOR_TOKEN_MAX_LENGTH,
    )


class VkTokenForm(forms.Form):
    token = _token_field(
        _("VK user access token"),
        _("A user token with the “market” and “groups” rights of a person who manages the "
          "community."),
        MAX_TOKEN_LENGTH,
    )


def _not_a_vk_address() -> forms.ValidationError:
    return forms.ValidationError(_("Enter a VK community address, such as vk.com/coffee."))


def _path_of_vk_url(value: str) -> str:
    """The first path segment of a vk.com address. Raises ValidationError."""
    try:
        parts = urlsplit(value if "://" in value else f"https://{value}")
        host = parts.hostname
    except ValueError:  # "[/", "http://[::1": an unclosed IPv6 bracket
        raise _not_a_vk_address() from None
    if host not in VK_HOSTS:
        raise _not_a_vk_address()
    return parts.path.strip("/").split("/")[0]


def community_ref(text: str) -> str:
    """What people paste ("https://vk.com/coffee", "@coffee", "club123", "-123", "123") as an id
    or screen name for groups.getById. Raises ValidationError."""
    value = text.strip()
    if "/" in value:
        value = _path_of_vk_url(value)
    value = value.lstrip("@")
    if value.lstrip("-").isdigit():  # an id, however it is written: never a screen name
        return _group_id(value)
    if not _SCREEN_NAME.match(value):
        raise _not_a_community()
    return value


def _group_id(value: str) -> str:
    if not _NUMERIC_ID.match(value) or not 0 < abs(int(value)) <= MAX_GROUP_ID:
        raise _not_a_community()
    return str(abs(int(value)))


def _not_a_community() -> forms.ValidationError:
    return forms.ValidationError(
        _("That does not look like a VK community id or address (for example 218861756 or "
          "vk.com/coffee).")
    )


class CommunityForm(forms.Form):
    community = forms.CharField(
        label=_("Community id or address"),
        help_text=_("For example 218861756, club218861756 or https://vk.com/coffee."),
        max_length=200,
    )

    def clean_community(self) -> str:
        return community_ref(self.cleaned_data["community"])
