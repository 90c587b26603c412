"""Parsing of the spec's example payloads (tests/data) into typed objects, quirks included."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from apps.connections.clients.evotor_types import (
    EvotorProduct,
    parse_page,
    parse_product,
    parse_product_group,
    parse_product_image,
    parse_store,
)
from apps.connections.clients.parsing import (
    MalformedPayload,
    kopecks_to_rubles,
    opt_str,
    parse_timestamp,
    to_bool,
    to_decimal,
    to_epoch_ms,
    to_int,
)
from apps.connections.clients.vk_types import (
    parse_albums,
    parse_categories,
    parse_group,
    parse_groups_by_id,
    parse_item_page,
    parse_saved_photo,
)

from .clients_support import load_json


def by_id(products: tuple[EvotorProduct, ...]) -> dict[str, EvotorProduct]:
    return {p.id: p for p in products}


# --- coercion helpers --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (300, Decimal("300")),
        (1290.5, Decimal("1290.5")),
        (123.12, Decimal("123.12")),  # exact: not 123.1199999...
        (100.123, Decimal("100.123")),
        ("99.90", Decimal("99.90")),
        ("99,90", Decimal("99.90")),
        (-175, Decimal("-175")),
        (None, None),
        ("", None),
        ("abc", None),
        (True, None),
        ({"amount": 1}, None),
        (float("nan"), None),
    ],
)
def test_to_decimal_is_exact_and_tolerant(raw: object, expected: Decimal | None) -> None:
    assert to_decimal(raw) == expected
    if expected is not None:
        assert str(to_decimal(raw)) == str(expected)


def test_to_int_and_to_bool_read_vk_flags() -> None:
    assert [to_int(v) for v in (5, "7", 3.0, True, 2.5, None, "x")] == [
        5,
        7,
        3,
        1,
        None,
        None,
        None,
    ]
    assert [to_bool(v) for v in (1, 0, True, "false", "1", 2, None)] == [
        True, False, True, False, True, None, None,
    ]  # fmt: skip


def test_opt_str_turns_empty_and_null_into_none() -> None:
    assert [opt_str(v) for v in ("", "  ", None, "x", 24, [], {})] == [
        None, None, None, "x", "24", None, None,
    ]  # fmt: skip


@pytest.mark.parametrize(
    "raw",
    [
        "2018-09-11T16:18:35.397+0000",  # Evotor: no colon in the offset
        "2018-09-11T19:18:35.397+03:00",
        "2018-09-11T16:18:35.397Z",  # bulk tasks
        1536682715397,  # epoch ms
    ],
)
def test_timestamps_become_aware_utc(raw: object) -> None:
    parsed = parse_timestamp(raw)
    assert parsed == datetime(2018, 9, 11, 16, 18, 35, 397000, tzinfo=UTC)
    assert parsed is not None and parsed.utcoffset() is not None


def test_bad_timestamps_become_none_and_naive_ones_utc() -> None:
    assert parse_timestamp("") is None
    assert parse_timestamp("yesterday") is None
    assert parse_timestamp(None) is None
    assert parse_timestamp("2024-01-01T00:00:00") == datetime(2024, 1, 1, tzinfo=UTC)


def test_epoch_ms_for_since_and_refuses_naive() -> None:
    assert to_epoch_ms(datetime(2024, 1, 1, tzinfo=UTC)) == 1704067200000
    with pytest.raises(ValueError):
        to_epoch_ms(datetime(2024, 1, 1))


@pytest.mark.parametrize(
    ("amount", "rubles"),
    [("100", Decimal("1.00")), ("1500", Decimal("15.00")), ("149990", Decimal("1499.90")),
     (12345, Decimal("123.45")), (None, None), ("", None)],
)  # fmt: skip
def test_vk_kopecks_become_rubles(amount: object, rubles: Decimal | None) -> None:
    assert kopecks_to_rubles(amount) == rubles


# --- Evotor ------------------------------------------------------------------------------------


def test_evotor_stores_page() -> None:
    page = parse_page(load_json("evotor_stores.json"), parse_store)
    assert page.next_cursor is None  # "paging": {} on the last page
    first, second = page.items
    assert first.id == "20190315-7A1B-40C2-8095-3D6E11A0B7C4"
    assert first.name == "Магазин на Ленина"
    assert first.user_id == "01-000000000000042"
    assert first.updated_at == datetime(2023, 11, 2, 17, 40, 3, 6000, tzinfo=UTC)
    assert second.address is None and second.created_at is None


def test_evotor_single_store() -> None:
    store = parse_store(load_json("evotor_store.json"))
    assert store.address == "Россия, г. Казань, ул. Ленина, 10"


def test_evotor_groups_with_modification_group() -> None:
    page = parse_page(load_json("evotor_product_groups.json"), parse_product_group)
    assert page.next_cursor == "opaque-string"
    plain, modification = page.items
    assert not plain.is_modification_group and plain.parent_id is None
    assert modification.is_modification_group
    assert modification.parent_id == plain.id
    assert modification.barcodes == ("2000000000053",)
    (size,) = modification.attributes
    assert size.name == "Размер"
    assert [c.name for c in size.choices] == ["S", "M"]


def test_evotor_products_from_spec() -> None:
    page = parse_page(load_json("evotor_products.json"), parse_product)
    coffee, shirt = page.items
    assert coffee.price == Decimal("300") and coffee.cost_price == Decimal("0")
    assert coffee.description is None and coffee.article_number is None  # "" → None
    assert coffee.classification_code is None
    assert coffee.quantity_in_package == Decimal("0")
    assert coffee.barcodes == () and coffee.code == "24"
    assert coffee.tax == "NO_VAT" and coffee.has_known_tax
    assert shirt.price == Decimal("1290.5") and shirt.quantity == Decimal("12.5")
    assert shirt.is_modification
    assert shirt.attributes_choices == {
        "be30db90-514f-11e9-91c7-4b1dd1e1bcf8": "be3102a1-514f-11e9-91c7-4b1dd1e1bcf8"
    }
    assert shirt.created_at == datetime(2024, 7, 14, 8, tzinfo=UTC)


def test_evotor_product_quirks_are_tolerated() -> None:
    page = parse_page(load_json("evotor_products_quirks.json"), parse_product)
    products = by_id(page.items)
    service = products["0a1b2c3d-0000-4000-8000-000000000001"]
    assert service.is_service and service.quantity is None and service.cost_price is None
    assert service.tax == "VAT_20" and not service.has_known_tax  # unknown tax kept verbatim
    assert service.barcodes == () and service.description is None
    assert service.created_at == datetime(2024, 7, 13, 6, 31, 37, tzinfo=UTC)

    odd = products["0a1b2c3d-0000-4000-8000-000000000002"]
    assert odd.type == "HOVERBOARD_MARKED" and not odd.has_known_type
    assert odd.quantity == Decimal("-175")
    assert odd.price == Decimal("123.12") and odd.cost_price == Decimal("100.123")
    assert odd.tax is None and odd.allow_to_sell is False
    assert odd.barcodes == ("4600000000024",)
    assert odd.is_excisable is False and odd.is_age_limited is True
    assert odd.created_at is None and odd.updated_at is None


def test_evotor_alcohol_fields_and_embedded_images() -> None:
    products = by_id(parse_page(load_json("evotor_products_quirks.json"), parse_product).items)
    wine = products["0a1b2c3d-0000-4000-8000-000000000003"]
    assert wine.alcocodes == ("0000000000012345678",)
    assert wine.alcohol_by_volume == Decimal("12.5")
    assert wine.alcohol_product_kind_code == 400
    assert wine.tare_volume == Decimal("0.75")
    assert wine.classification_code == "2204" and wine.quantity_in_package == Decimal("6")
    (image,) = wine.images
    assert image.url == "https://static.evotor.example/images/wine" and image.meta.width == 300


def test_evotor_minimal_product_and_skipped_product_without_id() -> None:
    page = parse_page(load_json("evotor_products_quirks.json"), parse_product)
    minimal = by_id(page.items)["0a1b2c3d-0000-4000-8000-000000000004"]
    assert minimal.type == "" and minimal.price is None and minimal.allow_to_sell is None
    assert minimal.attributes_choices == {} and minimal.images == ()
    assert len(page.items) == 4
    assert page.skipped == ("item 4: object without 'id'",)


def test_evotor_product_images() -> None:
    page = parse_page(load_json("evotor_product_images.json"), parse_product_image)
    (image,) = page.items
    assert image.product_id == "97f46a78-6bc4-4995-9cbc-60914b031c23"
    assert (image.meta.extension, image.meta.file_size, image.meta.height) == ("png", 429, 300)


def test_evotor_webhook_payload_parses_as_product() -> None:
    product = parse_product(load_json("evotor_product_event.json")["payload"])
    assert product.price == Decimal("1190")
    assert product.quantity is None  # absent without stock rights
    assert product.updated_at == datetime(2024, 8, 1, 10, 15, tzinfo=UTC)


def test_evotor_page_without_items_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        parse_page({"paging": {}}, parse_store)
    with pytest.raises(MalformedPayload):
        parse_page(["not", "an", "object"], parse_store)


# --- VK -----------------------------------------------------------------------------------------


def test_vk_market_items_from_live_shape() -> None:
    page = parse_item_page(load_json("vk_market_get.json")["response"], offset=0)
    assert page.count == 2
    battery, shirt = page.items
    assert battery.price is not None
    assert battery.price.amount == Decimal("1.00") and battery.price.amount_minor == 100
    assert battery.price.old_amount == Decimal("15.00") and battery.price.discount_rate == -93
    assert battery.price.currency_id == 643
    assert battery.category is not None and battery.category.id == 20173
    assert battery.category.section_id == 10016
    assert battery.category.path == ("Канцелярские товары", "Батарейки")
    assert battery.albums_ids == (141, 148) and battery.sku == "12345"
    assert battery.photos[0].largest_url == "https://sun9-1.userapi.example/x.jpg"
    assert battery.dimensions == (10, 20, 30) and battery.weight == 500
    assert battery.date == datetime.fromtimestamp(1760085099, tz=UTC)
    assert not battery.is_removed and not battery.is_hidden

    assert shirt.price is not None and shirt.price.amount == Decimal("1499.90")
    assert shirt.thumb_photo is None  # "" → None
    assert shirt.is_hidden and shirt.stock_amount == 0
    assert shirt.category is not None and shirt.category.parent_id == 20000
    assert shirt.category.path == ("Гардероб", "Одежда", "Футболки")
    assert shirt.reject_info is not None and shirt.reject_info.moderation_status == 2


def test_vk_get_by_id_shows_removed_item() -> None:
    (item,) = parse_item_page(load_json("vk_market_get_by_id.json")["response"], 0).items
    assert item.is_removed and item.sku is None


def test_vk_albums() -> None:
    count, albums = parse_albums(load_json("vk_market_get_albums.json")["response"])
    assert count == 2
    drinks, shirts = albums
    assert drinks.title == "Напитки" and drinks.is_main is False and drinks.photo is not None
    assert shirts.is_main is True and shirts.count == 5 and shirts.photo is None


def test_vk_categories_tree_shape_is_flattened() -> None:
    categories = parse_categories(load_json("vk_get_categories_tree.json")["response"])
    by_cat = {c.id: c for c in categories}
    assert set(by_cat) == {20000, 20001, 20002, 20003, 20173}
    assert by_cat[20003].parent_id == 20002
    assert by_cat[20003].path == ("Одежда", "Обувь", "Кроссовки")
    assert by_cat[20000].is_leaf is False and by_cat[20001].is_leaf is True


def test_vk_categories_flat_shape_keeps_sections() -> None:
    categories = parse_categories(load_json("vk_get_categories_flat.json")["response"])
    battery = categories[0]
    assert (battery.id, battery.name, battery.section_id) == (20173, "Батарейки", 10016)
    assert battery.path == ("Канцелярские товары", "Батарейки")
    assert battery.parent_id is None


def test_vk_groups_get_by_id_both_shapes() -> None:
    (new,) = parse_groups_by_id(load_json("vk_groups_get_by_id_object.json")["response"])
    (old,) = parse_groups_by_id(load_json("vk_groups_get_by_id_array.json")["response"])
    assert new.id == old.id == 218861756
    assert new.market_enabled and new.market is not None and new.market.main_album_id == 148
    assert new.market.currency_name == "RUB"
    assert new.is_admin is True and new.admin_level == 3
    assert new.photo_url == "https://sun9-1.userapi.example/200.jpg"
    assert not old.market_enabled and old.is_admin is False and old.type == "page"


def test_vk_groups_get_by_id_unknown_shape_is_malformed() -> None:
    with pytest.raises(MalformedPayload):
        parse_groups_by_id({"items": []})


def test_vk_group_without_market_field() -> None:
    group = parse_group(load_json("vk_groups_get_admin.json")["response"]["items"][1])
    assert group.market is None and not group.market_enabled and group.is_closed == 1


def test_vk_saved_photo_shapes() -> None:
    assert parse_saved_photo(load_json("vk_save_product_photo.json")["response"]).photo_id == (
        457239024
    )
    assert parse_saved_photo({"photo": {"id": 7, "sizes": []}}).photo_id == 7
    with pytest.raises(MalformedPayload):
        parse_saved_photo({})
