"""Transform: price, name, description, photo key and payload hash as VK needs them."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import pytest

from apps.sync.core.text import has_outside_link, vk_length
from apps.sync.core.transform import (
    DESCRIPTION_KEY,
    build_payload,
    description,
    description_key,
    format_price,
    item_name,
    payload_hash,
    photo_key,
    published_record,
    published_values,
    vk_price,
)
from apps.sync.core.types import (
    ALL_FIELDS,
    Decision,
    Field,
    Group,
    OutOfStock,
    Payload,
    Reason,
    Rounding,
)

from .builders import STORE, product, settings

D = Decimal


# --- price ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rounding", "price", "expected"),
    [
        (Rounding.NONE, "1234.565", "1234.57"),
        (Rounding.RUBLES, "1234.50", "1235.00"),
        (Rounding.RUBLES, "1234.49", "1234.00"),
        (Rounding.TENS, "1231", "1240.00"),
        (Rounding.TENS, "1230", "1230.00"),
        (Rounding.NINETY_NINE, "1234.56", "1299.00"),
        (Rounding.NINETY_NINE, "43", "99.00"),
        (Rounding.NINETY_NINE, "1299", "1299.00"),
        (Rounding.NINETY_NINE, "1300", "1399.00"),
        (Rounding.NINETY_NINE, "1298.01", "1299.00"),
    ],
)
def test_vk_price_rounds_per_setting(rounding: Rounding, price: str, expected: str) -> None:
    assert vk_price(D(price), settings(rounding=rounding)) == D(expected)


def test_vk_price_applies_markup_and_discount() -> None:
    assert vk_price(D("100"), settings(markup_percent=D("12.5"))) == D("112.50")
    assert vk_price(D("100"), settings(markup_percent=D("-30"))) == D("70.00")


def test_vk_price_never_below_minimum_nor_negative() -> None:
    assert vk_price(D("10"), settings(min_price=D("50"))) == D("50.00")
    assert vk_price(D("10"), settings(markup_percent=D("-150"))) == D("0.00")
    assert vk_price(D("10"), settings(min_price=D("10.001"))) >= D("10.001")


def test_vk_price_is_decimal_with_kopecks() -> None:
    price = vk_price(D("99.9"), settings(rounding=Rounding.TENS))
    assert isinstance(price, Decimal) and price.as_tuple().exponent == -2


def test_format_price_is_russian_style() -> None:
    assert format_price(D("1299")) == "1 299"
    assert format_price(D("1299.5")) == "1 299,50"
    assert format_price(D("1234567.05")) == "1 234 567,05"
    assert format_price(D("99")) == "99"


# --- name -------------------------------------------------------------------------------------


def test_name_is_trimmed_and_whitespace_collapsed() -> None:
    assert item_name(product(name="  Чай \t зелёный\n  ")) == "Чай зелёный"


def test_name_gets_modification_values_in_parentheses() -> None:
    shirt = product(name="Футболка", attributes=(("Размер", "M"), ("Цвет", "красный")))
    assert item_name(shirt) == "Футболка (M, красный)"


def test_long_name_is_cut_on_a_word_boundary_without_trailing_punctuation() -> None:
    name = item_name(product(name="Очень " * 16 + "длинное, название товара"))
    assert vk_length(name) <= 100
    assert name.endswith("Очень")  # "длинное," would not fit whole


def test_one_huge_word_is_cut_hard() -> None:
    assert item_name(product(name="Ы" * 150)) == "Ы" * 100


def test_name_length_counts_characters_outside_cp1251_as_entities() -> None:
    assert vk_length("Чай") == 3
    assert vk_length("😀") == len("&#128512;")
    name = item_name(product(name="😀" * 20))
    assert vk_length(name) <= 100 and name == "😀" * 11


def test_short_name_is_padded_with_measure_or_ellipsis() -> None:
    assert item_name(product(name="Чай", measure_name="кг")) == "Чай (кг)"
    assert item_name(product(name="Чай")) == "Чай…"


def test_empty_name_stays_empty() -> None:
    assert item_name(product(name="   ")) == ""


# --- description ------------------------------------------------------------------------------


def _describe(template: str, **product_fields: object) -> str:
    return description(
        product(**product_fields), STORE.name, D("1299"), settings(description_template=template)
    )


def test_description_fills_placeholders() -> None:
    text = _describe("{name}: {price} ₽{measure}, {store}", name="Сыр", measure_name="кг")
    assert text == f"Сыр (кг): 1 299 ₽ за 1 кг, {STORE.name}"


def test_description_keeps_other_braces_and_unknown_placeholders() -> None:
    text = _describe("{name} {color} {} {{price}}", name="Чайник")
    assert text == "Чайник {color} {} {1 299}"


def test_lines_with_only_empty_placeholders_vanish() -> None:
    text = _describe("{name}\n\n{description}\n\nАртикул: {article}\nЦена: {price}", name="Чай")
    assert text == "Чай…\n\nЦена: 1 299"


def test_description_removes_outside_links_but_keeps_vk_ones() -> None:
    text = _describe(
        "{description}",
        description="Смотрите https://shop.example.com/x, www.site.ru и магазин.рф/каталог "
        "или example.ru, почта info@shop.ru; группа https://vk.com/club1 и vk.ru/shop",
    )
    assert "info@" not in text
    assert not has_outside_link(text)
    assert "https://vk.com/club1" in text and "vk.ru/shop" in text
    assert "shop.example" not in text and "example.ru" not in text


def test_description_does_not_take_decimals_or_abbreviations_for_links() -> None:
    assert _describe("{description}", description="Вес 1.5кг, т.е. много") == (
        "Вес 1.5кг, т.е. много"
    )


def test_description_is_at_least_ten_characters() -> None:
    text = _describe("{article}", name="Чай")
    assert vk_length(text) >= 10
    assert "Чай" in text


def test_description_is_capped_at_4000() -> None:
    assert vk_length(_describe("{description}", description="слово " * 2000)) <= 4000


def test_weight_goods_say_the_price_is_per_unit() -> None:
    assert "за 1 кг" in _describe("Цена: {price} ₽{measure}", measure_name="кг")
    assert _describe("Цена: {price} ₽{measure}", measure_name="шт") == "Цена: 1 299 ₽"


def test_weight_goods_say_so_even_when_the_template_forgot_measure() -> None:
    assert _describe("{name}", name="Сыр Российский", measure_name="кг") == (
        "Сыр Российский\nЦена за 1 кг"
    )


def test_a_huge_unbroken_text_is_handled_quickly_and_capped() -> None:
    text = _describe("{description}", description="中" * 20000)
    assert 10 <= vk_length(text) <= 4000


# --- photo key and hash -----------------------------------------------------------------------


def test_photo_key_uses_the_image_when_there_is_one() -> None:
    assert photo_key("A", "G", "S", "https://img/1") == photo_key("B", "H", "T", "https://img/1")
    assert photo_key("A", "G", "S", "") != photo_key("A", "G", "S", "https://img/1")


def test_card_photo_key_changes_with_what_the_card_shows() -> None:
    assert photo_key("A", "G", "S", "") != photo_key("B", "G", "S", "")
    assert len(photo_key("A", "G", "S", "")) == 64


def _payload(**overrides: object):
    built = build_payload(product(**overrides), None, STORE, settings())
    assert not isinstance(built, Reason)
    return built


def test_price_change_keeps_the_photo_key() -> None:
    assert _payload(price=D("100")).photo_key == _payload(price=D("200")).photo_key


def test_payload_hash_covers_only_managed_fields() -> None:
    cheap = _payload(price=D("100"))
    dear = replace(cheap, price=D("200"))
    assert payload_hash(cheap, ALL_FIELDS) != payload_hash(dear, ALL_FIELDS)
    unmanaged_price = ALL_FIELDS - {Field.PRICE}
    assert payload_hash(cheap, unmanaged_price) == payload_hash(dear, unmanaged_price)


def test_payload_hash_is_stable_across_processes() -> None:
    payload = Payload("Чай", "Чай зелёный", D("10"), "k")
    # A literal: Python's hash() randomisation or dict order must never change it.
    expected = "58b65be41f66ea9e5f4023f68776f4af95f7d508de4b2b498a330a0fc6a956b0"
    assert payload_hash(payload, ALL_FIELDS) == expected
    assert payload_hash(replace(payload, price=D("10.000")), ALL_FIELDS) == expected
    assert payload.hash(ALL_FIELDS) == expected


# --- build_payload ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"price": None}, Reason.NO_PRICE),
        ({"price": D("0")}, Reason.NO_PRICE),
        ({"price": D("-5")}, Reason.NO_PRICE),
        ({"price": D("1000000000")}, Reason.PRICE_TOO_HIGH),
        ({"name": " "}, Reason.NO_NAME),
    ],
)
def test_build_payload_refuses_invalid_products(overrides: dict, reason: Reason) -> None:
    assert build_payload(product(**overrides), None, STORE, settings()) is reason


def test_build_payload_returns_the_filter_reason_when_excluded() -> None:
    excluded = Decision(False, Reason.EXCLUDED_GROUP, by="g1")
    assert build_payload(product(), None, STORE, settings(), excluded) is Reason.EXCLUDED_GROUP


def test_build_payload_zero_stock_only_when_out_of_stock_under_zero() -> None:
    zero = settings(out_of_stock=OutOfStock.ZERO)
    empty = build_payload(product(quantity=D("0")), None, STORE, zero)
    stocked = build_payload(product(quantity=D("3")), None, STORE, zero)
    service = build_payload(product(quantity=D("0"), type="SERVICE"), None, STORE, zero)
    assert getattr(empty, "stock_amount", "?") == 0
    assert getattr(stocked, "stock_amount", "?") is None
    assert getattr(service, "stock_amount", "?") is None


def test_build_payload_names_the_album_group_only_with_albums_on() -> None:
    shelf = Group("g1", "Чай", STORE.id)
    on = build_payload(product(group_id="g1"), shelf, STORE, settings())
    off = build_payload(product(group_id="g1"), shelf, STORE, settings(albums=False))
    assert getattr(on, "album_group_id", None) == "g1"
    assert getattr(off, "album_group_id", "?") is None


# --- a published description is reused while what it was rendered from is the same ------------


def _built(item, published=None, **overrides):
    return build_payload(item, None, STORE, settings(**overrides), published=published)


def test_a_description_is_taken_from_the_link_when_its_inputs_are_unchanged():
    item = product(description="Свежий, горячий")
    first = _built(item)
    # A text that could not have been rendered here proves it was taken, not rendered again.
    kept = {**published_record(first), "description": "как опубликовано"}
    kept[DESCRIPTION_KEY] = description_key(
        _values(item, first), settings().description_template, "как опубликовано"
    )

    assert _built(item, kept).description == "как опубликовано"
    assert _built(item, published_record(first)) == first
    assert _built(item, published_record(first)).description_key == first.description_key


@pytest.mark.parametrize("change", [
    {"product": {"description": "Другое описание"}},
    {"product": {"price": D("99.00")}},
    {"settings": {"description_template": "{name}: {price} ₽ — {description}"}},
    {"settings": {"markup_percent": D(10)}},
])
def test_a_description_is_rendered_again_when_anything_it_shows_changed(change):
    item = product(description="Свежий, горячий")
    before = published_record(_built(item))
    changed = replace(item, **change.get("product", {}))

    again = _built(changed, before, **change.get("settings", {}))

    assert again == _built(changed, None, **change.get("settings", {}))
    assert again.description == description(
        changed, STORE.name, again.price, settings(**change.get("settings", {}))
    )


def test_a_published_description_without_its_key_or_edited_since_is_rendered_again():
    item = product(description="Свежий, горячий")
    first = _built(item)
    tampered = {**published_record(first), "description": "изменено в обход"}

    assert _built(item, tampered).description == first.description
    assert _built(item, published_values(first)).description == first.description


def _values(item, payload):
    from apps.sync.core.transform import _description_values

    return _description_values(item, payload.name, STORE.name, payload.price)
