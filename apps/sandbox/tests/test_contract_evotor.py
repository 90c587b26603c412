"""Contract: the real EvotorClient against the sandbox over real HTTP (live_server).

Every client method and every error class the client can raise; the client's sleep is injected
so back-off costs nothing (one test waits a real rate-limit window of one second).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from apps.connections.clients import (
    NO_RETRY,
    AuthError,
    EvotorAuthHeader,
    EvotorClient,
    NotFoundError,
    PaymentRequiredError,
    PermanentError,
    RateLimitError,
    RetryPolicy,
    TransientError,
)
from apps.sandbox.models import EvotorProductImage
from apps.sandbox.services.world import (
    evotor_uuid,
    inject_fault,
    make_evotor_account,
    make_group,
    make_product,
    make_products,
    set_config,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def evotor(sandbox_url, evotor_account, no_sleep):
    def build(token: str | None = None, **options) -> EvotorClient:
        options.setdefault("sleep", no_sleep)
        options.setdefault("timeout", 10.0)
        return EvotorClient(
            token or evotor_account.token, base_url=f"{sandbox_url}/evotor", **options
        )

    return build


def test_lists_stores_and_fetches_one(evotor, store, evotor_account):
    client = evotor()

    [listed] = client.list_stores()
    fetched = client.get_store(store.evotor_id.lower())

    assert listed.id == store.evotor_id and listed.name == "Магазин на Ленина"
    assert listed.user_id == evotor_account.user_id
    assert listed.created_at == store.created_at.replace(
        microsecond=store.created_at.microsecond // 1000 * 1000
    )
    assert fetched.id == store.evotor_id and fetched.address == store.address


def test_an_unknown_store_is_not_found_and_not_retried(evotor, store):
    client = evotor()

    with pytest.raises(NotFoundError):
        client.get_store("20200101-0000-0000-0000-000000000000")
    assert client.requests_made == 1


def test_groups_with_modifications_and_one_group(evotor, store):
    parent = make_group(store, name="Одежда")
    choices = [{"id": evotor_uuid(), "name": "S"}, {"id": evotor_uuid(), "name": "M"}]
    variants = make_group(
        store,
        name="Футболки (модификации)",
        parent_id=parent.evotor_id,
        attributes=[{"id": evotor_uuid(), "name": "Размер", "choices": choices}],
    )
    client = evotor()

    groups = {g.id: g for g in client.list_product_groups(store.evotor_id)}
    one = client.get_product_group(store.evotor_id, variants.evotor_id)

    assert groups[variants.evotor_id].is_modification_group
    assert not groups[parent.evotor_id].is_modification_group
    assert one.parent_id == parent.evotor_id
    assert [c.name for c in one.attributes[0].choices] == ["S", "M"]


def test_pages_2500_products_in_3_requests(evotor, store):
    ids = make_products(store, 2500)
    client = evotor()

    products = client.list_products(store.evotor_id)

    assert [p.id for p in products] == ids
    assert client.requests_made == 3


def test_iterates_pages_with_a_smaller_limit(evotor, store):
    make_products(store, 25)
    client = evotor()

    pages = list(client.iter_product_pages(store.evotor_id, limit=10))

    assert [len(page.items) for page in pages] == [10, 10, 5]


def test_since_fetches_only_what_changed(evotor, store):
    old = datetime(2024, 1, 1, tzinfo=UTC)
    make_products(store, 30, updated_at=old)
    changed = make_product(store, name="Новая цена", updated_at=old + timedelta(days=3))
    make_group(store, name="Старая группа", updated_at=old)
    client = evotor()

    products = client.list_products(store.evotor_id, since=old + timedelta(days=1))
    groups = client.list_product_groups(store.evotor_id, since=old + timedelta(days=1))

    assert [p.id for p in products] == [changed.evotor_id]
    assert groups == []


def test_product_fields_survive_the_trip(evotor, store):
    service = make_product(store, name="Доставка", type="SERVICE", quantity=None, cost_price=None)
    weighed = make_product(
        store,
        name="Сыр Российский",
        price=Decimal("899.90"),
        quantity=Decimal("-2.500"),
        measure_name="кг",
        allow_to_sell=False,
        description="",
        barcodes=["2000000000015"],
    )
    odd = make_product(store, name="Новинка", type="SPACE_MARKED", extra={"tare_volume": 0.5})
    client = evotor()

    got = {p.id: p for p in client.list_products(store.evotor_id)}
    one = client.get_product(store.evotor_id, weighed.evotor_id)

    assert got[service.evotor_id].is_service and got[service.evotor_id].quantity is None
    assert (one.price, one.quantity, one.measure_name) == (Decimal("899.9"), Decimal("-2.5"), "кг")
    assert one.allow_to_sell is False and one.barcodes == ("2000000000015",)
    assert got[odd.evotor_id].type == "SPACE_MARKED" and not got[odd.evotor_id].has_known_type
    assert got[odd.evotor_id].tare_volume == Decimal("0.5")


def test_an_unknown_product_is_not_found(evotor, store):
    with pytest.raises(NotFoundError):
        evotor().get_product(store.evotor_id, evotor_uuid())


def test_product_images_and_their_bytes(evotor, store):
    product = make_product(store)
    EvotorProductImage.objects.create(product=product, evotor_id=evotor_uuid(), file_size=500)
    client = evotor()

    [image] = client.list_product_images(store.evotor_id, product.evotor_id)
    content = client.download_image(image.url)

    assert image.product_id == product.evotor_id and image.meta.width == 300
    assert content.startswith(b"\x89PNG")


@pytest.mark.parametrize("form", list(EvotorAuthHeader))
def test_every_auth_header_form_is_accepted(evotor, store, form):
    assert evotor(auth_header=form).list_stores()


def test_an_unknown_token_is_an_auth_error_without_retry(evotor, store):
    client = evotor(token="00000000-0000-4000-8000-000000000000")

    with pytest.raises(AuthError) as caught:
        client.list_stores()
    assert caught.value.http_status == 401
    assert client.requests_made == 1


def test_an_uninstalled_app_is_an_auth_error(evotor, store, evotor_account):
    evotor_account.is_revoked = True
    evotor_account.save()

    with pytest.raises(AuthError) as caught:
        evotor().list_stores()
    assert caught.value.http_status == 403


def test_a_missing_scope_is_an_auth_error(evotor, db):
    account = make_evotor_account(scopes="store:read product:read")
    store = account.stores.create(evotor_id="20240101-AAAA-BBBB-CCCC-DDDDEEEEFFFF", name="Без фото")
    product = make_product(store)

    with pytest.raises(AuthError):
        evotor(token=account.token).list_product_images(store.evotor_id, product.evotor_id)


def test_a_429_is_waited_out_and_retried(evotor, store, no_sleep):
    make_products(store, 3)
    inject_fault("evotor", "products", count=1, http_status=429)
    client = evotor()

    assert len(client.list_products(store.evotor_id)) == 3
    assert client.requests_made == 2
    assert no_sleep.calls and 1.0 <= no_sleep.calls[0] < 2.0  # X-RateLimit-Reset: 1 (+ jitter)


def test_persistent_429_ends_in_a_rate_limit_error(evotor, store):
    inject_fault("evotor", "stores", count=None, http_status=429)
    client = evotor(retry=RetryPolicy(max_attempts=3))

    with pytest.raises(RateLimitError):
        client.list_stores()
    assert client.requests_made == 3


def test_the_client_waits_for_the_window_instead_of_hitting_429(evotor, store):
    # Real time: two requests per one-second window, so the third waits for the next window.
    set_config(evotor_rate_limit=2, evotor_rate_window=1.0)
    client = evotor(sleep=time.sleep)

    for _ in range(3):
        client.get_store(store.evotor_id)

    assert client.requests_made == 3


def test_5xx_is_retried_then_raised_as_transient(evotor, store):
    inject_fault("evotor", "stores", count=None, http_status=500)
    client = evotor()

    with pytest.raises(TransientError):
        client.list_stores()
    assert client.requests_made == RetryPolicy().max_attempts


def test_a_single_5xx_is_survived(evotor, store):
    inject_fault("evotor", "stores", count=1, http_status=503)
    client = evotor()

    assert client.list_stores() and client.requests_made == 2


def test_402_is_payment_required(evotor, store):
    inject_fault("evotor", "stores", count=1, http_status=402)

    with pytest.raises(PaymentRequiredError):
        evotor().list_stores()


def test_a_bad_request_is_a_permanent_error_with_the_reason(evotor, store):
    with pytest.raises(PermanentError) as caught:
        evotor().list_products(store.evotor_id, limit=5000)
    assert caught.value.http_status == 400
    assert "limit" in caught.value.message


def test_a_hanging_server_is_a_transient_timeout(evotor, store, hanging_sandbox):
    inject_fault("evotor", "stores", count=1, timeout=True)
    client = evotor(timeout=(2.0, hanging_sandbox / 4), retry=NO_RETRY)

    with pytest.raises(TransientError) as caught:
        client.list_stores()
    assert "timed out" in caught.value.message
