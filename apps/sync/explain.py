"""Sync codes in plain words: why a run stopped, why an item failed, why a product stays out.

The codes come from the engine: ``SyncJob.error_code`` (services.py, executor.py notes),
``SyncItemError.code`` ("vk:1408", "vk:moderation", "vk:transient", …) and the differ's
``core.Reason``. Texts are lazy in the tables and turned into strings when a function is called,
so they come out in the language active then. Connection-level provider errors (and the VK
error codes themselves) live in apps/connections/explain.py; this module adds what only the
sync knows and reuses the rest.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from apps.connections.explain import EVOTOR_ERRORS, VK_ERRORS, Explanation, vk_error
from apps.sync.core.types import Reason

__all__ = ["Explanation", "cause_key", "item_error", "reason", "run_reason", "vk_code"]

_Pair = tuple[Promise, Promise]

_RETRY = _("Nothing to do: EvoSync tries again automatically.")
_NOTHING = _("Nothing to do.")

# --- whole runs (SyncJob.error_code, NotReady/RunStopped.code) -----------------------------------

RUN_REASONS: dict[str, _Pair] = {
    "disabled": (_("Sync is switched off."),
                 _("Switch it on on the Sync page when you are ready.")),
    "paused": (_("Sync is paused after several failed runs in a row."),
               _("Fix the cause shown on the Sync page, then press “Resume”.")),
    "evotor_not_connected": (_("Evotor is not connected."),
                             _("Connect Evotor on the Evotor page: install the EvoSync app or "
                               "paste a cloud token.")),
    "vk_not_connected": (_("VK is not connected, or no community is chosen."),
                         _("Connect VK and choose the community on the VK page.")),
    "no_category": (_("No VK category is chosen for the goods."),
                    _("Choose a category on the Sync page (VK category).")),
    "email_not_confirmed": (_("Your email address is not confirmed yet."),
                            _("Open the link we sent you (or ask for it again from the banner at "
                              "the top of the page).")),
    "evotor_revoked": EVOTOR_ERRORS[401],
    "vk_auth": VK_ERRORS[5],
    "vk_captcha": VK_ERRORS[14],
    "market_disabled": VK_ERRORS[1438],
    # VK 1409: goods are on, but in the basic mode; VK's words for the cause, the run's advice.
    "market_basic": (VK_ERRORS[1409][0],
                     _("In the community's settings, open Sections → Products, choose extended "
                       "goods («Расширенные товары») and save; the next sync publishes the "
                       "goods.")),
    "vk_bad_reply": (_("VK answered in a way EvoSync did not expect."), _RETRY),
    "vk_unavailable": (_("VK is temporarily unavailable."), _RETRY),
    "vk_error": (_("VK refused the request."),
                 _("If it repeats, open the VK page in EvoSync and press “Test”; write to "
                   "support if it does not help.")),
    "lease_lost": (_("Another run took over before this one finished."),
                   _("Nothing to do: that run finishes the work.")),
    "community_changed": (_("The VK community was changed during the run."),
                          _("Nothing to do: the next run publishes to the new community.")),
    "continued": (_("The catalog is large: the run continues in the next one."),
                  _("Nothing to do: the continuation starts by itself.")),
    "interrupted": (_("The run was interrupted (the server restarted)."), _RETRY),
    "albums_capped": (_("VK's limit on the number of collections (подборки) is reached: some "
                        "groups got no collection."),
                      _("Switch collections off in the settings, or exclude some groups.")),
    "album_full": (_("A collection (подборка) is full: VK's limit on goods in one collection "
                     "is reached."),
                   _("Split the Evotor group into smaller groups, or switch collections off.")),
}


# The advice above sends the merchant to the Sync page; on that page it says what to do there.
ON_SYNC_PAGE: dict[str, Promise] = {
    "disabled": _("Switch it on with the button above when you are ready."),
    "paused": _("Fix the cause shown above, then press “Resume”."),
    "no_category": _("Choose it below, under “VK category”, and save the settings."),
}


def run_reason(code: str, *, on_sync_page: bool = False) -> Explanation | None:
    """A run's reason code in words; None for no code. ``on_sync_page``: the words are shown
    on the Sync page itself, so the advice says what to do here instead of naming the page."""
    if not code:
        return None
    pair = RUN_REASONS.get(code)
    if pair is None:
        return Explanation(str(_("The run stopped for a reason EvoSync did not expect.")),
                           str(_RETRY), code)
    advice = ON_SYNC_PAGE.get(code) if on_sync_page else None
    return Explanation(str(pair[0]), str(advice or pair[1]))


# --- one product (SyncItemError.code, ProductLink.last_error_code) -------------------------------

# VK's error 100 covers several different problems; its text tells them apart.
_VK_100: list[tuple[tuple[str, ...], _Pair]] = [
    (("nothing to change",), (_("VK had nothing to change on the item."), _NOTHING)),
    (("photo",), (_("VK refused the product photo."),
                  _("If it repeats, replace the product's picture in Evotor or remove it: "
                    "EvoSync then draws a card."))),
    (("description",), (_("VK refused the item's description."),
                        _("Shorten the product's description in Evotor or the description "
                          "template, and remove unusual characters."))),
    (("name", "title"), (_("VK refused the item's name."),
                         _("Give the product a name of at least four letters in Evotor."))),
    (("price",), (_("VK refused the item's price."),
                  _("Check the product's price in Evotor and the markup in the sync "
                    "settings."))),
]

ITEM_ERRORS: dict[str, _Pair] = {
    "vk:moderation": (_("VK moderation rejected the item."),
                      _("Read VK's reason below, change the product in Evotor (name, "
                        "description or picture) and retry.")),
    "vk:transient": (_("VK was temporarily unavailable for this item."),
                     _("Nothing to do: the next run tries again, or press “Retry failed "
                       "items”.")),
    "vk:captcha": VK_ERRORS[14],
    "photo": (_("The product photo could not be prepared."),
              _("Replace the product's picture in Evotor or remove it: EvoSync then draws a "
                "card.")),
    "evotor_image": (_("EvoSync could not download the product picture from Evotor."),
                     _RETRY),
}

_UNKNOWN_ITEM: _Pair = (
    _("VK refused the item."),
    _("Press “Retry failed items”; if it repeats, write to support."),
)


def vk_code(code: int, message: str = "") -> Explanation:
    """A VK API error code on one item in words (apps/connections/explain.py); the message
    tells what error 100 refused."""
    if code == 100:
        lowered = message.lower()
        pair = next((p for words, p in _VK_100 if any(w in lowered for w in words)), None)
        if pair is not None:
            return Explanation(str(pair[0]), str(pair[1]), f"VK {code}")
    return vk_error(code)


def item_error(code: str, message: str = "") -> Explanation:
    """``SyncItemError.code`` in words: "vk:<number>", "vk:<kind>", "invalid:<reason>", …"""
    if code.startswith("invalid:"):
        return Explanation(reason(code.removeprefix("invalid:")), "")
    number = code.removeprefix("vk:")
    if code.startswith("vk:") and number.lstrip("-").isdigit():
        return vk_code(int(number), message)
    pair = ITEM_ERRORS.get(code, _UNKNOWN_ITEM)
    return Explanation(str(pair[0]), str(pair[1]))


def cause_key(code: str, message: str = "") -> str:
    """Errors with the same key share an explanation: VK 100 is split by what it refused."""
    if code != "vk:100":
        return code
    lowered = message.lower()
    for index, (words, _pair) in enumerate(_VK_100):
        if any(w in lowered for w in words):
            return f"vk:100:{index}"
    return code


# --- why a product is (not) published (core.Reason) ---------------------------------------------

REASONS: dict[str, Promise] = {
    Reason.PUBLISHED: _("will be published"),
    Reason.STORE_NOT_CHOSEN: _("its store is not published"),
    Reason.EXCLUDED_STORE: _("its store is excluded"),
    Reason.EXCLUDED_GROUP: _("its group is excluded"),
    Reason.EXCLUDED_PRODUCT: _("excluded"),
    Reason.NOT_INCLUDED: _("not among the included groups and products"),
    Reason.REMOVED: _("deleted in Evotor"),
    Reason.NOT_FOR_SALE: _("not for sale in Evotor"),
    Reason.OUT_OF_STOCK: _("out of stock"),
    Reason.NO_PRICE: _("no price in Evotor"),
    Reason.PRICE_TOO_HIGH: _("the price is above VK's limit of 999 999 999 ₽"),
    Reason.NO_NAME: _("no name in Evotor"),
}


def reason(code: str) -> str:
    text = REASONS.get(code)
    return str(text) if text is not None else code
