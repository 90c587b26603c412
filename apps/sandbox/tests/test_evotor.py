"""The fake Evotor cloud answers as docs/evotor.md describes, from docs/evotor.md#read-endpoints
to docs/evotor.md#status-codes."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.sandbox.models import EvotorProductImage
from apps.sandbox.services.world import (
    evotor_uuid,
    make_evotor_account,
    make_group,
    make_product,
    make_products,
    make_store,
    set_config,
)

TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0000$")
STORE_KEYS = {"id", "name", "address", "user_id", "created_at", "updated_at"}


def _bulk_products(store, count: int, updated_at: datetime | None = None) -> None:
    make_products(store, count, updated_at=updated_at)


# --- shapes ------------------------------------------------------------------------------------


def test_lists_stores_in_the_documented_shape(evotor_get, store, evotor_account):
    body = evotor_get("/stores").json()

    assert body["paging"] == {}
    [item] = body["items"]
    assert set(item) == STORE_KEYS
    assert item["id"] == store.evotor_id
    assert re.match(r"^\d{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$", item["id"])
    assert item["user_id"] == evotor_account.user_id == "01-000000000000042"
    assert TIMESTAMP.match(item["created_at"]) and TIMESTAMP.match(item["updated_at"])


def test_store_without_address_omits_the_field(evotor_get, evotor_account):
    store = make_store(evotor_account, address=None)

    body = evotor_get(f"/stores/{store.evotor_id}").json()

    assert "address" not in body
    assert body["id"] == store.evotor_id


def test_answers_the_vendor_media_type(evotor_get, store):
    response = evotor_get(f"/stores/{store.evotor_id}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.evotor.v2+json;charset=UTF-8"


def test_store_ids_are_case_insensitive(evotor_get, store):
    assert evotor_get(f"/stores/{store.evotor_id.lower()}").status_code == 200


def test_another_merchants_store_is_not_found(evotor_get, db):
    other = make_store(make_evotor_account(), name="Чужой магазин")

    response = evotor_get(f"/stores/{other.evotor_id}")

    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_product_groups_include_modification_groups_with_attributes(evotor_get, store):
    parent = make_group(store, name="Одежда")
    attributes = [
        {"id": evotor_uuid(), "name": "Размер", "choices": [{"id": evotor_uuid(), "name": "M"}]}
    ]
    make_group(
        store,
        name="Футболки (модификации)",
        parent_id=parent.evotor_id,
        barcodes=["2000000000053"],
        attributes=attributes,
    )

    body = evotor_get(f"/stores/{store.evotor_id}/product-groups").json()

    plain, variants = body["items"]
    assert set(plain) == {"id", "name", "store_id", "user_id", "created_at", "updated_at"}
    assert variants["parent_id"] == parent.evotor_id
    assert variants["attributes"] == attributes
    assert variants["barcodes"] == ["2000000000053"]
    assert body["paging"] == {}


def test_one_product_group(evotor_get, store):
    group = make_group(store, name="Напитки")

    body = evotor_get(f"/stores/{store.evotor_id}/product-groups/{group.evotor_id}").json()

    assert body["id"] == group.evotor_id and body["name"] == "Напитки"
    assert (
        evotor_get(f"/stores/{store.evotor_id}/product-groups/{evotor_uuid()}").status_code == 404
    )


def test_products_have_the_documented_fields_and_types(evotor_get, store, evotor_account):
    product = make_product(
        store,
        name="Кофе по-венски 0,3",
        price=Decimal("300"),
        cost_price=Decimal("0"),
        quantity=Decimal("0"),
        code="24",
        description="",
        article_number="",
        barcodes=[],
        extra={"classification_code": "", "quantity_in_package": 0},
    )

    [item] = evotor_get(f"/stores/{store.evotor_id}/products").json()["items"]

    assert item == {
        "id": product.evotor_id,
        "type": "NORMAL",
        "name": "Кофе по-венски 0,3",
        "code": "24",
        "price": 300,
        "cost_price": 0,
        "quantity": 0,
        "measure_name": "шт",
        "tax": "NO_VAT",
        "allow_to_sell": True,
        "description": "",
        "article_number": "",
        "barcodes": [],
        "classification_code": "",
        "quantity_in_package": 0,
        "store_id": store.evotor_id,
        "user_id": evotor_account.user_id,
        "created_at": item["created_at"],
        "updated_at": item["updated_at"],
    }
    assert isinstance(item["price"], int)


def test_fractional_prices_and_negative_stock_are_numbers(evotor_get, store):
    make_product(store, price=Decimal("1290.50"), quantity=Decimal("-3.250"))

    [item] = evotor_get(f"/stores/{store.evotor_id}/products").json()["items"]

    assert item["price"] == 1290.5 and isinstance(item["price"], float)
    assert item["quantity"] == -3.25


def test_services_carry_neither_quantity_nor_cost_and_missing_fields_are_omitted(evotor_get, store):
    make_product(store, name="Доставка по городу", type="SERVICE", quantity=None, cost_price=None)

    [item] = evotor_get(f"/stores/{store.evotor_id}/products").json()["items"]

    assert item["type"] == "SERVICE"
    for absent in ("quantity", "cost_price", "description", "article_number", "barcodes", "code"):
        assert absent not in item


def test_modifications_carry_attribute_choices(evotor_get, store):
    group = make_group(store, name="Футболки (модификации)")
    choices = {evotor_uuid(): evotor_uuid()}
    make_product(
        store, name="Футболка белая M", parent_id=group.evotor_id, attributes_choices=choices
    )

    [item] = evotor_get(f"/stores/{store.evotor_id}/products").json()["items"]

    assert item["parent_id"] == group.evotor_id
    assert item["attributes_choices"] == choices


def test_quantity_is_hidden_without_stock_rights(evotor_get, db, client):
    account = make_evotor_account(scopes="store:read product:read product-group:read")
    store = make_store(account)
    make_product(store, quantity=Decimal(5))

    [item] = evotor_get(f"/stores/{store.evotor_id}/products", token=account.token).json()["items"]

    assert "quantity" not in item


def test_one_product_and_unknown_product(evotor_get, store):
    product = make_product(store, name="Круассан")

    assert evotor_get(f"/stores/{store.evotor_id}/products/{product.evotor_id}").json()["name"] == (
        "Круассан"
    )
    assert evotor_get(f"/stores/{store.evotor_id}/products/{evotor_uuid()}").status_code == 404


def test_product_images_and_their_file(evotor_get, client, store, evotor_account):
    product = make_product(store)
    image = EvotorProductImage.objects.create(
        product=product, evotor_id=evotor_uuid(), file_size=429
    )

    body = evotor_get(f"/stores/{store.evotor_id}/products/{product.evotor_id}/images").json()

    [item] = body["items"]
    assert body["paging"] == {}
    assert set(item) == {
        "id",
        "user_id",
        "store_id",
        "product_id",
        "url",
        "meta",
        "created_at",
        "updated_at",
    }
    assert item["id"] == image.evotor_id and item["product_id"] == product.evotor_id
    assert item["meta"] == {"extension": "png", "file_size": 429, "width": 300, "height": 300}
    picture = client.get(item["url"])
    assert picture.status_code == 200 and picture["Content-Type"] == "image/png"
    assert picture.content.startswith(b"\x89PNG")


def test_images_need_the_image_scope(evotor_get, db):
    account = make_evotor_account(scopes="store:read product:read")
    store = make_store(account)
    product = make_product(store)

    response = evotor_get(
        f"/stores/{store.evotor_id}/products/{product.evotor_id}/images", token=account.token
    )

    assert response.status_code == 403


# --- authentication ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, value",
    [
        ("Authorization", "Bearer {token}"),
        ("Authorization", "{token}"),
        ("X-Authorization", "{token}"),
    ],
)
def test_accepts_the_three_auth_header_forms(client, evotor_account, header, value):
    response = client.get(
        "/sandbox/evotor/stores", headers={header: value.format(token=evotor_account.token)}
    )

    assert response.status_code == 200


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer 0f0f0f0f-unknown"}])
def test_missing_or_unknown_token_is_401(client, evotor_account, headers):
    response = client.get("/sandbox/evotor/stores", headers=headers)

    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"


def test_uninstalled_app_is_403(evotor_get, evotor_account):
    evotor_account.is_revoked = True
    evotor_account.save()

    assert evotor_get("/stores").status_code == 403


def test_unacceptable_accept_header_is_406(client, evotor_account):
    response = client.get(
        "/sandbox/evotor/stores",
        headers={"Authorization": evotor_account.token, "Accept": "text/html"},
    )

    assert response.status_code == 406


def test_only_get_is_allowed(client, evotor_account):
    response = client.post(
        "/sandbox/evotor/stores", headers={"Authorization": evotor_account.token}
    )

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


# --- paging and since --------------------------------------------------------------------------


def test_pages_2500_products_in_three_pages_of_1000(evotor_get, store):
    _bulk_products(store, 2500)
    path = f"/stores/{store.evotor_id}/products"

    first = evotor_get(path).json()
    second = evotor_get(path, cursor=first["paging"]["next_cursor"]).json()
    third = evotor_get(path, cursor=second["paging"]["next_cursor"]).json()

    assert [len(p["items"]) for p in (first, second, third)] == [1000, 1000, 500]
    assert first["paging"]["next_cursor"] and second["paging"]["next_cursor"]
    assert first["paging"]["next_cursor"] != second["paging"]["next_cursor"]
    assert third["paging"] == {}
    ids = [item["id"] for page in (first, second, third) for item in page["items"]]
    assert len(set(ids)) == 2500


def test_a_page_of_1000_products_takes_a_handful_of_queries(
    evotor_get, store, django_assert_max_num_queries
):
    _bulk_products(store, 1000)

    evotor_get("/stores")  # warm: the configuration row exists in a running sandbox
    with django_assert_max_num_queries(8):
        body = evotor_get(f"/stores/{store.evotor_id}/products").json()

    assert len(body["items"]) == 1000


def test_limit_makes_smaller_pages_and_the_cursor_keeps_it(evotor_get, store):
    _bulk_products(store, 5)
    path = f"/stores/{store.evotor_id}/products"

    first = evotor_get(path, limit=2).json()
    second = evotor_get(path, cursor=first["paging"]["next_cursor"]).json()

    assert len(first["items"]) == 2 and len(second["items"]) == 2
    assert second["paging"]["next_cursor"]


@pytest.mark.parametrize(
    "params", [{"limit": "0"}, {"limit": "1001"}, {"limit": "x"}, {"since": "-1"}]
)
def test_bad_paging_parameters_are_400_with_violations(evotor_get, store, params):
    response = evotor_get(f"/stores/{store.evotor_id}/products", **params)

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid_parameter"
    assert body["violations"][0]["subject"] in params


def test_a_garbled_cursor_or_one_from_another_listing_is_400(evotor_get, store, evotor_account):
    _bulk_products(store, 3)
    other = make_store(evotor_account, name="Второй")
    _bulk_products(other, 3)
    cursor = evotor_get(f"/stores/{store.evotor_id}/products", limit=1).json()["paging"][
        "next_cursor"
    ]

    assert evotor_get(f"/stores/{store.evotor_id}/products", cursor="garbage!").status_code == 400
    assert evotor_get(f"/stores/{other.evotor_id}/products", cursor=cursor).status_code == 400


def test_since_returns_only_products_updated_at_or_after_it(evotor_get, store):
    old = datetime(2024, 1, 1, tzinfo=UTC)
    _bulk_products(store, 4, updated_at=old)
    changed = make_product(store, name="Изменённый", updated_at=old + timedelta(days=10))
    since = int((old + timedelta(days=10)).timestamp() * 1000)

    body = evotor_get(f"/stores/{store.evotor_id}/products", since=since).json()

    assert [item["id"] for item in body["items"]] == [changed.evotor_id]


def test_since_is_frozen_in_the_cursor(evotor_get, store):
    old = datetime(2024, 1, 1, tzinfo=UTC)
    _bulk_products(store, 3, updated_at=old)
    _bulk_products(store, 3, updated_at=old + timedelta(days=5))
    since = int((old + timedelta(days=1)).timestamp() * 1000)
    path = f"/stores/{store.evotor_id}/products"

    first = evotor_get(path, since=since, limit=2).json()
    # Later requests carry only the cursor; a stray since must not change the series.
    second = evotor_get(path, cursor=first["paging"]["next_cursor"], since=0).json()

    assert len(first["items"]) + len(second["items"]) == 3
    assert second["paging"] == {}


def test_since_filters_product_groups_too(evotor_get, store):
    make_group(store, name="Старая", updated_at=datetime(2024, 1, 1, tzinfo=UTC))
    new = make_group(store, name="Новая", updated_at=datetime(2024, 6, 1, tzinfo=UTC))
    since = int(datetime(2024, 3, 1, tzinfo=UTC).timestamp() * 1000)

    body = evotor_get(f"/stores/{store.evotor_id}/product-groups", since=since).json()

    assert [g["id"] for g in body["items"]] == [new.evotor_id]


# --- rate limit --------------------------------------------------------------------------------


def test_rate_limit_headers_count_down_then_429(evotor_get, evotor_account):
    set_config(evotor_rate_limit=3, evotor_rate_window=3600)

    responses = [evotor_get("/stores") for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r["X-RateLimit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert all(r["X-RateLimit-Limit"] == "3" for r in responses)
    assert 1 <= int(responses[-1]["X-RateLimit-Reset"]) <= 3600


def test_rate_limits_are_per_merchant(evotor_get, evotor_account, db):
    set_config(evotor_rate_limit=1, evotor_rate_window=3600)
    other = make_evotor_account()

    assert evotor_get("/stores").status_code == 200
    assert evotor_get("/stores").status_code == 429
    assert evotor_get("/stores", token=other.token).status_code == 200
