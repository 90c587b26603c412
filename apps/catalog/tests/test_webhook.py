"""POST /api/v2/evotor/events: signed, deduplicated, applied to the cache, announced."""

from __future__ import annotations

import hashlib
import hmac
import json
from decimal import Decimal
from urllib.parse import urlencode

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from apps.catalog import webhooks
from apps.catalog.models import Product, ProductGroup, Store
from apps.catalog.signals import catalog_changed
from apps.catalog.tests.evotor_fake import USER, product, store
from apps.connections.models import ConnectionState, EvotorConnection, WebhookEvent

pytestmark = pytest.mark.django_db

SECRET = "hook-secret-for-tests"
STORE_ID = store(1)["id"]
URL = "/api/v2/evotor/events"


@pytest.fixture(autouse=True)
def hook_secret(settings):
    settings.EVOTOR_HOOK_SECRET = SECRET


@pytest.fixture(autouse=True)
def no_remembered_merchants():
    """The view remembers merchants per process; every test starts with none remembered."""
    webhooks._merchants.clear()
    yield
    webhooks._merchants.clear()


def sign(body: bytes, secret: str = SECRET) -> str:
    return "sha1=" + hmac.new(secret.encode(), body, hashlib.sha1).hexdigest()


def event(action="updated", event_type="ProductEvent", delivery="d-1", **fields) -> dict:
    payload = product(STORE_ID, 7, **fields) if event_type == "ProductEvent" else fields
    return {"id": delivery, "timestamp": 1718000000000, "type": event_type, "action": action,
            "payload": payload}


def deliver(body: dict | bytes, *, signature=None, delivery="d-1", form=False):
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    content_type = "application/vnd.evotor.v2+json;charset=UTF-8"
    if form:
        raw = urlencode({"payload": raw.decode()}).encode()
        content_type = "application/x-www-form-urlencoded"
    return Client(enforce_csrf_checks=True).post(
        URL, raw, content_type=content_type,
        HTTP_X_HUB_SIGNATURE=signature if signature is not None else sign(raw),
        HTTP_X_EVOTOR_DELIVERY=delivery, HTTP_USER_AGENT="Evotor-Hookshot",
    )


@pytest.fixture
def linked(connected):
    return connected


def _stored_nothing() -> bool:
    return not (WebhookEvent.objects.exists() or Product.objects.exists())


@pytest.mark.parametrize("signature", ["", "sha1=00", sign(b"other body"), "md5=abc"])
def test_bad_signature_is_401_and_stores_nothing(linked, signature):
    response = deliver(event(), signature=signature)
    assert response.status_code == 401
    assert response.json()["errors"][0]["code"] == 1001
    assert _stored_nothing()


def test_signature_with_another_secret_is_refused(linked):
    raw = json.dumps(event()).encode()
    assert deliver(raw, signature=sign(raw, "guess")).status_code == 401


@pytest.mark.parametrize("raw", [b"{broken", b"[]", b'{"type": "ProductEvent"}', b"\xff"])
def test_bad_json_is_400_and_stores_nothing(linked, raw):
    response = deliver(raw)
    assert response.status_code == 400
    assert _stored_nothing()


def test_a_price_change_is_applied_and_announced(
    linked, merchant, django_capture_on_commit_callbacks
):
    seen = []

    def receiver(sender, user_id, product_ids, **kwargs):
        seen.append((user_id, product_ids))

    catalog_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = deliver(event(price=1190.5))
    finally:
        catalog_changed.disconnect(receiver)
    assert response.status_code == 200 and response.json() == {"status": "applied"}
    item = Product.objects.get(user=merchant)
    assert item.price == Decimal("1190.5")
    assert item.store.evotor_id == STORE_ID
    assert seen == [(merchant.pk, [item.evotor_id])]
    assert WebhookEvent.objects.get().processed_at is not None


def test_form_encoded_bodies_are_accepted(linked, merchant):
    assert deliver(event(price=55), form=True).status_code == 200
    assert Product.objects.get(user=merchant).price == Decimal("55")


def test_redelivery_is_a_no_op(linked, merchant):
    assert deliver(event(price=10)).json()["status"] == "applied"
    Product.objects.update(price=99)  # so a second application would show
    assert deliver(event(price=10)).json()["status"] == "duplicate"
    assert WebhookEvent.objects.count() == 1
    assert Product.objects.get().price == Decimal("99")


def test_delivery_id_falls_back_to_the_event_id(linked):
    assert deliver(event(delivery="event-id-1"), delivery="").status_code == 200
    assert WebhookEvent.objects.get().delivery_id == "event-id-1"


def test_removed_marks_the_product_removed(linked, merchant):
    deliver(event(), delivery="a")
    deliver(event(action="removed", delivery="b"), delivery="b")
    assert Product.objects.get().removed_at is not None


def test_an_older_update_does_not_roll_a_product_back(linked, merchant):
    deliver(event(price=200, updated_at="2026-11-02T10:00:00.000+0000"), delivery="new")
    deliver(event(price=100, updated_at="2026-11-01T10:00:00.000+0000"), delivery="old")
    assert Product.objects.get().price == Decimal("200")


@pytest.mark.parametrize("event_type", ["DeviceEvent", "DocumentEvent", "SomethingNew"])
def test_unknown_event_types_are_2xx_and_ignored(linked, event_type):
    response = deliver(event(event_type=event_type, user_id=USER))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert _stored_nothing()


def test_unknown_merchant_is_2xx_and_ignored(linked):
    response = deliver(event(user_id="01-999999999999999"))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert _stored_nothing()


def test_an_unknown_action_is_refused_and_stores_nothing(linked):
    response = deliver(event(action="exploded"))
    assert response.status_code == 400
    assert _stored_nothing()


def test_group_and_store_events_are_applied(linked, merchant):
    group = {"id": "g-1", "name": "Напитки", "store_id": STORE_ID, "user_id": USER,
             "updated_at": "2026-11-02T10:00:00.000+0000"}
    assert deliver(event(event_type="ProductGroupEvent", **group), delivery="g").status_code == 200
    renamed = {**store(1), "name": "Магазин на Баумана"}
    assert deliver(event(event_type="StoreEvent", **renamed), delivery="s").status_code == 200
    assert ProductGroup.objects.get(user=merchant).name == "Напитки"
    assert Store.objects.get(user=merchant).name == "Магазин на Баумана"


def test_only_post():
    assert Client().get(URL).status_code == 405


# --- malformed input is a 4xx that stores nothing, never a 500 -----------------------------------


@pytest.mark.parametrize("signature", ["sha1=Ж", "sha1=" + "é" * 40, "sha1=\u00ff"])
def test_a_non_ascii_signature_is_401_in_evotors_format(linked, signature):
    response = deliver(event(), signature=signature)
    assert response.status_code == 401
    assert response.json() == {"errors": [{"code": 1001, "reason": "bad signature"}]}
    assert _stored_nothing()


@pytest.mark.parametrize("field", ["type", "action"])
@pytest.mark.parametrize("value", [[], {}, ["ProductEvent"], 7])
def test_a_type_or_action_that_is_not_a_string_is_400(linked, field, value):
    response = deliver({**event(), field: value})
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 2001
    assert _stored_nothing()


def test_a_null_type_is_ignored_like_an_unknown_one(linked):
    response = deliver({**event(), "type": None})
    assert response.status_code == 200 and response.json()["status"] == "ignored"


@pytest.mark.parametrize("form", [False, True])
def test_deeply_nested_bodies_are_400(linked, form):
    raw = b"[" * 10_000 + b"]" * 10_000
    response = deliver(raw, form=form)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 2001
    assert _stored_nothing()


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_400(linked, literal):
    raw = json.dumps(event()).replace('"price": 107', f'"price": {literal}').encode()
    assert b"price" in raw and literal.encode() in raw
    assert deliver(raw).status_code == 400
    assert _stored_nothing()


@pytest.mark.parametrize("field", ["price", "cost_price", "quantity", "alcohol_product_kind_code"])
def test_a_number_beyond_float_in_a_cached_field_rejects_the_event(linked, field):
    raw = json.dumps(event()).replace('"tax"', f'"{field}": 1e5000, "tax"', 1).encode()
    response = deliver(raw)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 2003
    assert "out of range" in response.json()["errors"][0]["reason"]
    assert _stored_nothing()


def test_a_number_beyond_float_elsewhere_is_applied_and_stored_as_text(linked, merchant):
    raw = json.dumps(event()).replace('"timestamp": 1718000000000', '"timestamp": 1e5000')
    response = deliver(raw.encode())
    assert response.status_code == 200 and response.json()["status"] == "applied"
    assert WebhookEvent.objects.get().payload["timestamp"] == "1E+5000"
    assert Product.objects.filter(user=merchant).count() == 1


def test_a_string_price_too_big_for_decimal_arithmetic_rejects_the_event(linked):
    response = deliver(event(price="1e999999999"))
    assert response.status_code == 400
    assert _stored_nothing()


LONG_ID = "x" * 65


@pytest.mark.parametrize(
    "event_type,fields",
    [
        ("ProductEvent", {"id": LONG_ID}),
        ("ProductEvent", {"store_id": LONG_ID}),
        ("ProductEvent", {"parent_id": LONG_ID}),
        ("ProductGroupEvent", {"id": LONG_ID, "store_id": STORE_ID, "user_id": USER}),
        ("ProductGroupEvent", {"id": "g-1", "store_id": LONG_ID, "user_id": USER}),
        ("ProductGroupEvent", {"id": "g-1", "parent_id": LONG_ID, "store_id": STORE_ID,
                               "user_id": USER}),
        ("StoreEvent", {"id": LONG_ID, "name": "Магазин", "user_id": USER}),
    ],
)
def test_ids_longer_than_the_columns_reject_the_event_and_store_nothing(
    linked, event_type, fields
):
    _assert_refused_as_too_long(event_type, "updated", fields)


@pytest.mark.parametrize("event_type", ["ProductEvent", "ProductGroupEvent", "StoreEvent"])
def test_a_removal_naming_an_over_long_id_is_refused(linked, event_type):
    fields = {"id": LONG_ID, "store_id": STORE_ID, "user_id": USER}
    _assert_refused_as_too_long(event_type, "removed", fields)


def _assert_refused_as_too_long(event_type: str, action: str, fields: dict) -> None:
    body = event(action=action, event_type=event_type)
    body["payload"].update(fields)
    response = deliver(body)
    assert response.status_code == 400
    assert response.json()["errors"][0]["code"] == 2003
    assert "longer than 64" in response.json()["errors"][0]["reason"]
    assert _stored_nothing() and not Store.objects.exists()


def test_ids_of_exactly_64_characters_are_stored(linked, merchant):
    long_but_fine = "p" * 64
    assert deliver(event(id=long_but_fine, parent_id="g" * 64)).status_code == 200
    product = Product.objects.get(user=merchant)
    assert product.evotor_id == long_but_fine and product.group_evotor_id == "g" * 64


@pytest.mark.parametrize("user_id", [["01-000000000000042"], {"id": 1}, 42])
def test_a_user_id_that_is_not_a_string_is_an_unknown_merchant(linked, user_id):
    response = deliver(event(user_id=user_id))
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert _stored_nothing()


@pytest.mark.parametrize("event_id", [["d"], {"id": "d"}, True])
def test_an_event_id_that_is_not_a_string_is_no_delivery_id(linked, event_id):
    response = deliver({**event(), "id": event_id}, delivery="")
    assert response.status_code == 400
    assert _stored_nothing()


def test_a_long_delivery_id_is_cut_to_the_column(linked):
    assert deliver(event(), delivery="д" * 300).status_code == 200
    assert WebhookEvent.objects.get().delivery_id == "д" * 128


# --- the hot path: what a delivery costs, and the cases it hands over to the full path --------


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries
            if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))]


def test_a_change_to_a_cached_product_is_one_insert_and_one_update(linked, merchant):
    assert deliver(event(price=10), delivery="first").json()["status"] == "applied"
    later = "2026-11-05T10:00:00.000+0000"
    with CaptureQueriesContext(connection) as queries:
        response = deliver(event(price=20, updated_at=later, delivery="second"),
                           delivery="second")
    assert response.json() == {"status": "applied"}
    statements = _statements(queries)
    # No merchant lookup, staleness check or store lookup of their own: the INSERT checks the
    # merchant's link, the UPDATE the store and the version.
    assert len(statements) == 2, statements
    assert statements[0].startswith("INSERT") and "webhookevent" in statements[0]
    assert statements[1].startswith("UPDATE") and "catalog_product" in statements[1]
    assert Product.objects.get(user=merchant).price == Decimal("20")
    assert WebhookEvent.objects.count() == 2


def test_an_update_with_the_cached_version_is_applied(linked, merchant):
    # As before the one-statement path: only a *newer* cached version makes an event stale.
    deliver(event(price=10), delivery="a")
    assert deliver(event(price=11, delivery="b"), delivery="b").json()["status"] == "applied"
    assert Product.objects.get().price == Decimal("11")


def test_an_update_without_updated_at_is_applied(linked, merchant):
    deliver(event(price=10), delivery="a")
    deliver(event(price=12, updated_at=..., delivery="b"), delivery="b")
    item = Product.objects.get()
    assert item.price == Decimal("12") and item.evotor_updated_at is None


def test_a_product_reported_in_another_store_moves_there(linked, merchant):
    deliver(event(price=10), delivery="a")
    other = store(2)["id"]
    moved = event(price=15, updated_at="2026-11-05T10:00:00.000+0000", delivery="b")
    moved["payload"]["store_id"] = other
    assert deliver(moved, delivery="b").json()["status"] == "applied"
    item = Product.objects.get(user=merchant)
    assert item.store.evotor_id == other and item.price == Decimal("15")


def test_a_stale_change_leaves_every_column_as_it_was(linked, merchant):
    deliver(event(price=200, name="Новое", updated_at="2026-11-02T10:00:00.000+0000"),
            delivery="new")
    response = deliver(event(price=100, name="Старое", updated_at="2026-11-01T10:00:00.000+0000",
                             delivery="old"), delivery="old")
    assert response.json()["status"] == "applied"  # recorded; the cache keeps the newer one
    item = Product.objects.get()
    assert (item.price, item.name) == (Decimal("200"), "Новое")


def test_the_change_is_announced_once_per_applied_delivery(
    linked, merchant, django_capture_on_commit_callbacks
):
    seen = []

    def receiver(sender, user_id, product_ids, **kwargs):
        seen.append(product_ids)

    catalog_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            deliver(event(price=1), delivery="a")
            deliver(event(price=2, updated_at="2026-11-05T10:00:00.000+0000", delivery="b"),
                    delivery="b")
            deliver(event(price=2, updated_at="2026-11-05T10:00:00.000+0000", delivery="b"),
                    delivery="b")  # a redelivery: no second announcement
            deliver(event(price=0, updated_at="2026-10-01T10:00:00.000+0000", delivery="c"),
                    delivery="c")  # stale: recorded, nothing changed, nothing announced
    finally:
        catalog_changed.disconnect(receiver)
    assert seen == [[product(STORE_ID, 7)["id"]]] * 2


# --- the merchant: remembered per process, but every delivery checks the link ---------------


def test_a_merchant_who_disconnected_is_ignored_at_the_next_delivery(linked, merchant):
    assert deliver(event(), delivery="a").json()["status"] == "applied"
    linked.delete()
    response = deliver(event(price=1, delivery="b"), delivery="b")
    assert response.status_code == 200 and response.json()["status"] == "ignored"
    assert list(WebhookEvent.objects.values_list("delivery_id", flat=True)) == ["a"]


def test_an_evotor_account_relinked_to_another_merchant_is_recorded_for_the_new_one(
    linked, merchant, other_merchant
):
    assert deliver(event(price=1), delivery="a").json()["status"] == "applied"
    EvotorConnection.objects.filter(pk=linked.pk).update(user=other_merchant)
    later = "2026-11-05T10:00:00.000+0000"
    response = deliver(event(price=2, updated_at=later, delivery="b"), delivery="b")
    assert response.json()["status"] == "applied"
    assert WebhookEvent.objects.get(delivery_id="b").user_id == other_merchant.pk
    assert Product.objects.get(user=other_merchant).price == Decimal("2")
    assert Product.objects.get(user=merchant).price == Decimal("1")


def test_an_account_deleted_and_relinked_does_not_turn_deliveries_into_duplicates(
    merchant, other_merchant
):
    first = EvotorConnection.objects.create(user=merchant, evotor_user_id=USER,
                                            state=ConnectionState.ONLINE)
    assert deliver(event(), delivery="a").json()["status"] == "applied"
    first.delete()
    merchant.delete()  # the remembered user id now names no one
    EvotorConnection.objects.create(user=other_merchant, evotor_user_id=USER,
                                    state=ConnectionState.ONLINE)
    assert deliver(event(price=3, delivery="b"), delivery="b").json()["status"] == "applied"
    assert WebhookEvent.objects.get(delivery_id="b").user_id == other_merchant.pk


def test_a_merchant_linked_after_an_ignored_delivery_is_seen_at_once(merchant):
    assert deliver(event(), delivery="a").json()["status"] == "ignored"  # not linked yet
    EvotorConnection.objects.create(user=merchant, evotor_user_id=USER,
                                    state=ConnectionState.ONLINE)
    assert deliver(event(delivery="b"), delivery="b").json()["status"] == "applied"
