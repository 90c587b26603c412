"""apps/sync/explain.py: every code the engine writes has plain words, in the active language."""

from __future__ import annotations

import pytest
from django.utils import translation

from apps.sync import explain
from apps.sync.core.types import Reason

RUN_CODES = [
    "disabled", "paused", "evotor_not_connected", "vk_not_connected", "no_category",
    "evotor_revoked", "vk_auth", "vk_captcha", "market_disabled", "market_basic", "vk_bad_reply",
    "vk_unavailable", "vk_error", "lease_lost", "community_changed", "continued", "interrupted",
    "albums_capped", "album_full", "email_not_confirmed",
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.mark.parametrize("code", RUN_CODES)
def test_every_run_code_has_a_title_and_advice(code):
    found = explain.run_reason(code)
    assert found.title and found.advice and not found.code


def test_no_code_no_reason_and_an_unknown_code_is_named_in_small_print():
    assert explain.run_reason("") is None
    assert explain.run_reason("new_thing").code == "new_thing"


@pytest.mark.parametrize("code,words", [
    ("vk:1408", "links"), ("vk:1405", "limit on the number of goods"),
    ("vk:1403", "deleted in VK by hand"), ("vk:14", "captcha"), ("vk:5", "revoked"),
    ("vk:6", "more slowly"), ("vk:9", "flood control"), ("vk:1438", "switched off"),
    ("vk:moderation", "moderation"), ("vk:transient", "temporarily"),
    ("photo", "photo"), ("invalid:no_price", "no price"), ("vk:item", "refused"),
])
def test_item_codes_in_words(code, words):
    found = explain.item_error(code)
    assert words.lower() in f"{found.title} {found.advice}".lower()


@pytest.mark.parametrize("message,title", [
    ("One of the parameters specified was missing or invalid: photo_ids is undefined",
     "VK refused the product photo."),
    ("Invalid description", "VK refused the item's description."),
    ("name should be at least 4 letters", "VK refused the item's name."),
    ("nothing to change", "VK had nothing to change on the item."),
    ("something else", "VK refused a value of the item (name, description, price or photo)."),
])
def test_vk_100_is_split_by_what_it_refused(message, title):
    assert explain.item_error("vk:100", message).title == title
    assert explain.item_error("vk:100", message).code == "VK 100"


def test_causes_group_vk_100_by_what_it_refused():
    photo = explain.cause_key("vk:100", "photo is undefined")
    assert photo == explain.cause_key("vk:100", "bad photo") != explain.cause_key("vk:100", "x")
    assert explain.cause_key("vk:1408", "anything") == "vk:1408"


@pytest.mark.parametrize("reason", list(Reason))
def test_every_product_reason_in_words(reason):
    assert explain.reason(reason) != reason.value or reason == Reason.EXCLUDED_PRODUCT


def test_texts_follow_the_active_language():
    with translation.override("ru"):
        russian = explain.run_reason("no_category").title
    assert explain.run_reason("no_category").title == "No VK category is chosen for the goods."
    assert isinstance(russian, str)
