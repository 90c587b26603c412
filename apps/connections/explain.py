"""Provider errors in plain words: what happened and what the merchant can do.

One mapping for every page, e-mail and flash message that reports a VK or Evotor problem: the
connection pages, the health e-mails, the sync run pages. A merchant never sees a provider's
English text or a bare code; the code may follow the explanation in small print
(``Explanation.code``).

Texts are looked up when a function is called, so they come out in the language active then
(the request's, or the merchant's inside an e-mail). The tables hold lazy strings for that.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.connections.clients import ApiError


@dataclass(frozen=True)
class Explanation:
    title: str  # what happened, one sentence
    advice: str  # what the merchant can do (or that nothing is needed)
    code: str = ""  # small print next to the explanation: "VK 1408", "Evotor HTTP 401"


_Pair = tuple[Promise, Promise]

_RETRY = _("Nothing to do: EvoSync tries again automatically.")
_RECONNECT_VK = _("Open the VK page in EvoSync and connect VK again.")
_MARKET_OFF: _Pair = (
    _("The goods section (Товары) is switched off in the VK community."),
    _("Turn it on in the community's settings (Sections → Products). EvoSync picks it up at "
      "the next check."),
)
_NOT_MANAGER: _Pair = (
    _("The connected VK account cannot manage goods in the community."),
    _("Make that account an administrator or editor of the community, or connect VK with an "
      "account that is one."),
)

VK_ERRORS: dict[int, _Pair] = {
    1: (_("VK had an internal failure."), _RETRY),
    5: (_("VK no longer accepts EvoSync's access: it expired or was revoked."), _RECONNECT_VK),
    6: (_("VK asked EvoSync to send requests more slowly."), _RETRY),
    7: (_("The access given to EvoSync lacks a permission it needs (goods or communities)."),
        _("Connect VK again and allow every permission EvoSync asks for.")),
    8: (_("VK did not understand a request from EvoSync."),
        _("If it happens again, write to support: it is our mistake, not yours.")),
    9: (_("VK limits how often the same action may be repeated (flood control)."),
        _("Nothing to do: EvoSync waits and tries again later.")),
    10: (_("VK had an internal failure."), _RETRY),
    12: (_("VK could not run a batch of EvoSync's requests."), _RETRY),
    13: (_("VK could not run a batch of EvoSync's requests."), _RETRY),
    14: (_("VK wants to make sure a person is behind the account (a captcha)."),
         _("Open vk.com in a browser with that account and do anything it asks; the next sync "
           "tries again.")),
    15: (_("VK refused access to this action."),
         _("Check that the connected account still manages the community, then connect VK "
           "again.")),
    17: (_("VK wants the account owner to confirm the account."),
         _("Sign in on vk.com with that account, follow VK's instructions, then connect VK "
           "again.")),
    18: (_("The connected VK account was deleted or blocked."),
         _("Connect VK with another account that manages the community.")),
    27: (_("A community key was given instead of a personal VK access key."),
         _("On the VK page in EvoSync, press “Connect with VK ID”, or paste a personal "
           "(user) access key.")),
    29: (_("VK's daily limit for this kind of request is used up."),
         _("Nothing to do: the sync continues when VK resets the limit (usually the next "
           "day).")),
    100: (_("VK refused a value of the item (name, description, price or photo)."),
          _("Check the product in Evotor: a name of at least a few letters, a price, a "
            "description without unusual characters.")),
    121: (_("VK refused the product photo."), _RETRY),
    129: (_("VK refused the product photo."),
          _("If it repeats, replace the product's picture in Evotor or remove it: EvoSync then "
            "draws a card.")),
    203: (_("The connected VK account has no access to the community."), _NOT_MANAGER[1]),
    205: _NOT_MANAGER,
    1400: (_("The item was deleted in VK too long ago to be restored."),
           _("Nothing to do: EvoSync creates a new item.")),
    1401: (_("Comments on goods are closed in the community."),
           _("Nothing to do: this does not affect publishing.")),
    1402: (_("The collection (подборка) was deleted in VK."),
           _("Nothing to do: EvoSync creates it again.")),
    1403: (_("The item was deleted in VK by hand."),
           _("Nothing to do: EvoSync publishes it again at the next sync.")),
    1404: (_("The item is already in this collection."), _("Nothing to do.")),
    1405: (_("The community has reached VK's limit on the number of goods."),
           _("Exclude some products from publishing, or delete goods you do not need in VK.")),
    1406: (_("A collection has reached VK's limit on the number of goods."),
           _("Split the Evotor group into smaller groups, or switch collections off in the "
             "sync settings.")),
    1407: (_("The community has reached VK's limit on the number of collections."),
           _("Switch collections off in the sync settings, or exclude some groups.")),
    1408: (_("VK does not allow links in the item's description."),
           _("Remove web addresses from the product's description in Evotor or from the "
             "description template.")),
    # "Extended market not enabled": goods are on, but in the basic mode (docs/vk.md).
    1409: (_("The goods section of the VK community is in the basic mode, and this needs "
             "extended goods."),
           _("In the community's settings, open Sections → Products and choose extended goods "
             "(«Расширенные товары»). EvoSync picks it up at the next check.")),
    1410: (_("Product variants are switched off in the VK community."),
           _("Nothing to do: EvoSync publishes every modification as its own item.")),
    1431: (_("The goods section is already switched on."), _("Nothing to do.")),
    1432: (_("The goods section is already switched off."), _MARKET_OFF[1]),
    1433: (_("VK could not crop the product photo."), _RETRY),
    1434: (_("VK could not crop the product photo."), _RETRY),
    1435: (_("The product photo is too small for VK."),
           _("Use a picture of at least 400×400 pixels in Evotor, or remove it: EvoSync then "
             "draws a card.")),
    1438: _MARKET_OFF,
    1518: (_("The item is not deleted in VK."), _("Nothing to do.")),
    1525: _MARKET_OFF,
    1526: _MARKET_OFF,
}

EVOTOR_ERRORS: dict[int | str, _Pair] = {
    400: (_("Evotor refused a request from EvoSync."),
          _("If it happens again, write to support: it is our mistake, not yours.")),
    401: (_("Evotor no longer accepts EvoSync's access: the app was removed or its key "
            "replaced."),
          _("Install the EvoSync app in the Evotor marketplace again, or paste a new cloud "
            "token on the Evotor page.")),
    402: (_("The EvoSync app is not paid for or not installed on every Evotor terminal."),
          _("Check the app's subscription in your Evotor account (Evotor Market → My "
            "apps).")),
    403: (_("The EvoSync app lacks a permission in Evotor, or is not installed."),
          _("Install the EvoSync app in the Evotor marketplace again and allow access to the "
            "catalog.")),
    404: (_("Evotor no longer has this store or product."),
          _("Nothing to do: the next catalog refresh takes it into account.")),
    429: (_("Evotor asked EvoSync to send requests more slowly."), _RETRY),
    "server": (_("Evotor is temporarily unavailable."), _RETRY),
    "timeout": (_("Evotor did not answer in time."), _RETRY),
    "network": (_("EvoSync could not reach Evotor."), _RETRY),
}

_GENERIC = {
    "vk": (_("VK refused the request."),
           _("If it repeats, open the VK page in EvoSync and press “Test”; write to support if "
             "it does not help.")),
    "evotor": (_("Evotor refused the request."),
               _("If it repeats, open the Evotor page in EvoSync and press “Test”; write to "
                 "support if it does not help.")),
}


def _explained(pair: _Pair, code: str = "") -> Explanation:
    return Explanation(str(pair[0]), str(pair[1]), code)


def vk_error(code: int | None) -> Explanation:
    """A VK API error code (docs/vk.md#errors) in words; unknown codes get a general explanation."""
    if code is None:
        return _explained((_("VK answered in a way EvoSync did not expect."), _RETRY))
    pair = VK_ERRORS.get(code)
    if pair is None:
        return _explained(_GENERIC["vk"], f"VK {code}")
    return _explained(pair, f"VK {code}")


def evotor_error(status_or_code: int | str | None) -> Explanation:
    """An Evotor HTTP status (401, 402, 403, 404, 429, 5xx), "timeout" or "network"."""
    key = status_or_code
    if isinstance(key, str) and key.isdigit():
        key = int(key)
    if isinstance(key, int) and key >= 500:
        return _explained(EVOTOR_ERRORS["server"], f"Evotor HTTP {key}")
    pair = EVOTOR_ERRORS.get(key) if key is not None else EVOTOR_ERRORS["network"]
    if pair is None:
        return _explained(_GENERIC["evotor"], f"Evotor {key}")
    if isinstance(key, int):
        return _explained(pair, f"Evotor HTTP {key}")
    return _explained(pair)


def from_exception(exc: BaseException) -> Explanation:
    """A provider error raised by the clients (apps/connections/clients) in words."""
    if isinstance(exc, ApiError):
        return connection_problem(exc.service, str(exc))
    return connection_problem("", str(exc))


# --- a connection's stored technical text ------------------------------------------------------

_CODE_RE = re.compile(r"\(code (\d+)")
_HTTP_RE = re.compile(r"HTTP (\d{3})")
# Recognised by wording: texts written by our own code (apps/connections) and by the providers.
_PHRASES: list[tuple[tuple[str, ...], _Pair]] = [
    (("uninstalled",),
     (_("The EvoSync app was removed from your Evotor account."),
      _("Install the EvoSync app in the Evotor marketplace again to resume."))),
    (("has not sent the cloud token",),
     (_("Evotor has not sent EvoSync its access key yet."),
      _("Wait a few minutes after installing the app; if it stays like this, install the app "
        "again or paste the cloud token on the Evotor page."))),
    (("not a valid token", "does not decrypt", "no configured key"),
     (_("The access key EvoSync keeps for this service can no longer be used."),
      _("Connect the service again."))),
    (("switched off",), _MARKET_OFF),
    (("not an administrator or editor",), _NOT_MANAGER),
    (("does not exist or cannot be seen",),
     (_("The VK community no longer exists or cannot be seen by the connected account."),
      _("Choose the community again on the VK page."))),
    (("expired",),
     (_("EvoSync's access has expired."), _("Connect the service again."))),
    (("revoked", "invalid_grant", "authorization failed", "invalid access_token"),
     (_("EvoSync's access was revoked."), _("Connect the service again."))),
    (("timed out",),
     (_("The service did not answer in time."), _RETRY)),
    (("connection failed", "request failed"),
     (_("EvoSync could not reach the service."), _RETRY)),
]


def connection_problem(service: str, detail: str) -> Explanation:
    """A connection's ``last_error`` (technical English, possibly a provider's text) in words.

    ``service`` is "evotor", "vk" or "vk_id" (VK's sign-in service); an empty ``detail`` means
    no reason was recorded.
    """
    text = detail or ""
    lowered = text.lower()
    is_vk = service.startswith("vk") or lowered.startswith("vk")
    code = _CODE_RE.search(text)
    if is_vk and code and not lowered.startswith("vk_id"):
        return vk_error(int(code.group(1)))
    for phrases, pair in _PHRASES:
        if any(phrase in lowered for phrase in phrases):
            return _explained(pair)
    status = _HTTP_RE.search(text)
    if status and not is_vk:
        return evotor_error(int(status.group(1)))
    number = int(status.group(1)) if status else 0
    if number >= 500 or number == 429:
        return _explained((_("VK is temporarily unavailable."), _RETRY))
    if number in (400, 401):
        return _explained((VK_ERRORS[5][0], _RECONNECT_VK))
    return _explained(_GENERIC["vk" if is_vk else "evotor"])
