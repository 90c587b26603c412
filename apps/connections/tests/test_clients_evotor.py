"""EvotorClient against mocked HTTP (``responses``): requests, paging, errors, retries."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from apps.connections.clients import (
    ApiError,
    AuthError,
    EvotorClient,
    NotFoundError,
    PaymentRequiredError,
    PermanentError,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    TransientError,
)

from .clients_support import FakeTime, NoSleep, fixed_rand, load_json

BASE = "https://evotor.test"
TOKEN = "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6f"
STORE = "20190315-7A1B-40C2-8095-3D6E11A0B7C4"
PRODUCTS_URL = f"{BASE}/stores/{STORE}/products"


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleep() -> NoSleep:
    return NoSleep()


def make_client(sleep: NoSleep | None = None, **kwargs: Any) -> EvotorClient:
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.5, max_wait=60))
    return EvotorClient(TOKEN, base_url=BASE, sleep=sleep or NoSleep(), rand=fixed_rand, **kwargs)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def product(index: int) -> dict[str, Any]:
    return {"id": f"p-{index:05d}", "type": "NORMAL", "name": f"Товар {index}", "price": index}


def paging_server(total: int) -> Any:
    """An Evotor-like list endpoint: the cursor freezes offset and page size
    (docs/evotor.md#paging)."""

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        params = parse_qs(urlsplit(request.url).query)
        if "cursor" in params:
            offset, limit = (int(x) for x in params["cursor"][0].split(":"))
        else:
            offset, limit = 0, int(params.get("limit", ["1000"])[0])
        end = min(offset + limit, total)
        paging = {"next_cursor": f"{end}:{limit}"} if end < total else {}
        body = {"items": [product(i) for i in range(offset, end)], "paging": paging}
        return 200, {}, json.dumps(body)

    return reply


# --- request shape ------------------------------------------------------------------------------


def test_sends_bearer_token_media_type_user_agent_and_timeout(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}/stores", json=load_json("evotor_stores.json"))
    client = make_client(user_agent="EvoSync-test/1", timeout=(2.0, 9.0))

    stores = client.list_stores()

    assert [s.name for s in stores] == ["Магазин на Ленина", "Склад"]
    request = http.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Accept"] == "application/vnd.evotor.v2+json"
    assert request.headers["User-Agent"] == "EvoSync-test/1"
    assert request.req_kwargs["timeout"] == (2.0, 9.0)
    assert client.requests_made == 1


@pytest.mark.parametrize(
    ("form", "expected"),
    [
        ("raw", {"Authorization": TOKEN}),
        ("x-authorization", {"X-Authorization": TOKEN}),
        ("both", {"X-Authorization": TOKEN, "Authorization": f"Bearer {TOKEN}"}),
    ],
)
def test_auth_header_form_is_configurable(
    http: responses.RequestsMock, form: str, expected: dict[str, str]
) -> None:
    http.get(f"{BASE}/stores", json={"items": [], "paging": {}})
    make_client(auth_header=form).list_stores()
    headers = http.calls[0].request.headers
    assert {k: headers.get(k) for k in expected} == expected
    if "Authorization" not in expected:
        assert "Authorization" not in headers


def test_constructor_refuses_missing_token_timeout_or_user_agent() -> None:
    with pytest.raises(ValueError):
        EvotorClient("")
    with pytest.raises(ValueError):
        EvotorClient(TOKEN, timeout=0)
    with pytest.raises(ValueError):
        EvotorClient(TOKEN, user_agent="")


def test_each_client_has_its_own_session() -> None:
    first, second = EvotorClient(TOKEN), EvotorClient(TOKEN)
    assert first._http.session is not second._http.session


# --- single objects -----------------------------------------------------------------------------


def test_get_store_group_product_and_images(http: responses.RequestsMock) -> None:
    groups = load_json("evotor_product_groups.json")["items"]
    products = load_json("evotor_products.json")["items"]
    http.get(f"{BASE}/stores/{STORE}", json=load_json("evotor_store.json"))
    http.get(f"{BASE}/stores/{STORE}/product-groups/{groups[1]['id']}", json=groups[1])
    http.get(f"{PRODUCTS_URL}/{products[1]['id']}", json=products[1])
    http.get(
        f"{PRODUCTS_URL}/{products[1]['id']}/images", json=load_json("evotor_product_images.json")
    )
    client = make_client()

    assert client.get_store(STORE).name == "Магазин на Ленина"
    assert client.get_product_group(STORE, groups[1]["id"]).is_modification_group
    assert client.get_product(STORE, products[1]["id"]).price == Decimal("1290.5")
    (image,) = client.list_product_images(STORE, products[1]["id"])
    assert image.meta.width == 300
    assert client.requests_made == 4


def test_ids_cannot_escape_their_path_segment(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}/stores/a%2F..%2Fb", json=load_json("evotor_store.json"))
    make_client().get_store("a/../b")
    assert urlsplit(http.calls[0].request.url).path == "/stores/a%2F..%2Fb"


def test_product_groups_list_follows_cursor(http: responses.RequestsMock) -> None:
    second_page = {"items": [{"id": "g-3", "name": "Выпечка"}], "paging": {}}
    url = f"{BASE}/stores/{STORE}/product-groups"
    http.get(url, json=load_json("evotor_product_groups.json"))
    http.get(url, json=second_page)

    groups = make_client().list_product_groups(STORE)

    assert [g.name for g in groups] == ["Напитки", "Футболки (модификации)", "Выпечка"]
    assert query(http.calls[1]) == {"cursor": ["opaque-string"]}


# --- paging -------------------------------------------------------------------------------------


def test_pages_2500_products_with_limit_1000_in_3_requests(http: responses.RequestsMock) -> None:
    http.add_callback(responses.GET, PRODUCTS_URL, callback=paging_server(2500))
    client = make_client()

    pages = list(client.iter_product_pages(STORE, limit=1000))

    assert [len(p.items) for p in pages] == [1000, 1000, 500]
    assert client.requests_made == 3
    ids = [p.id for page in pages for p in page.items]
    assert len(set(ids)) == 2500


def test_since_and_limit_go_only_with_the_first_request(http: responses.RequestsMock) -> None:
    http.add_callback(responses.GET, PRODUCTS_URL, callback=paging_server(2500))
    since = datetime(2024, 7, 14, 8, 0, tzinfo=UTC)

    products = make_client().list_products(STORE, since=since, limit=1000)

    assert len(products) == 2500
    assert query(http.calls[0]) == {"since": ["1720944000000"], "limit": ["1000"]}
    assert [query(c) for c in http.calls[1:]] == [
        {"cursor": ["1000:1000"]},
        {"cursor": ["2000:1000"]},
    ]


def test_since_may_be_given_as_epoch_ms(http: responses.RequestsMock) -> None:
    http.get(PRODUCTS_URL, json={"items": [], "paging": {}})
    make_client().list_products(STORE, since=1718000000000)
    assert query(http.calls[0]) == {"since": ["1718000000000"]}


def test_pages_are_fetched_lazily(http: responses.RequestsMock) -> None:
    http.add_callback(responses.GET, PRODUCTS_URL, callback=paging_server(2500))
    client = make_client()

    pages = client.iter_product_pages(STORE, limit=1000)
    first = next(pages)

    assert len(first.items) == 1000 and client.requests_made == 1


def test_repeated_cursor_stops_paging(http: responses.RequestsMock) -> None:
    stuck = {"items": [product(1)], "paging": {"next_cursor": "same"}}
    http.get(PRODUCTS_URL, json=stuck)

    products = make_client().list_products(STORE)

    # First request, then the cursor once; the same cursor again is not followed.
    assert len(http.calls) == 2
    assert len(products) == 2


@pytest.mark.parametrize("paging", [{}, {"next_cursor": ""}, {"next_cursor": None}, None])
def test_missing_or_empty_cursor_ends_paging(http: responses.RequestsMock, paging: Any) -> None:
    http.get(PRODUCTS_URL, json={"items": [product(1)], "paging": paging})
    assert len(make_client().list_products(STORE)) == 1
    assert len(http.calls) == 1


def test_unusable_products_are_skipped_and_reported(http: responses.RequestsMock) -> None:
    http.get(PRODUCTS_URL, json=load_json("evotor_products_quirks.json"))
    (page,) = make_client().iter_product_pages(STORE)
    assert len(page.items) == 4
    assert page.skipped == ("item 4: object without 'id'",)


# --- errors -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "error_class"),
    [
        (401, AuthError),
        (403, AuthError),
        (402, PaymentRequiredError),
        (404, NotFoundError),
        (400, PermanentError),
        (405, PermanentError),
        (406, PermanentError),
        (413, PermanentError),
    ],
)
def test_http_status_maps_to_error_class_without_retry(
    http: responses.RequestsMock, sleep: NoSleep, status: int, error_class: type[ApiError]
) -> None:
    http.get(f"{BASE}/stores/{STORE}", status=status, body="")
    client = make_client(sleep)

    with pytest.raises(error_class) as caught:
        client.get_store(STORE)

    assert caught.value.http_status == status and caught.value.service == "evotor"
    assert not isinstance(caught.value, TransientError)
    assert client.requests_made == 1 and sleep.calls == []


def test_validation_error_is_readable(http: responses.RequestsMock) -> None:
    http.get(PRODUCTS_URL, status=400, json=load_json("evotor_error_400.json"))
    with pytest.raises(PermanentError) as caught:
        make_client().list_products(STORE)
    assert str(caught.value) == (
        f"evotor GET /stores/{STORE}/products: validation failed for specified payload; "
        "name: must not be null (code validation_failed, HTTP 400)"
    )


def test_auth_error_never_shows_the_token(http: responses.RequestsMock) -> None:
    body = {"errors": [{"code": 1001, "reason": f"bad token {TOKEN}"}]}
    http.get(f"{BASE}/stores", status=401, json=body)
    with pytest.raises(AuthError) as caught:
        make_client().list_stores()
    assert caught.value.code == 1001
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)
    assert "***" in str(caught.value)


def test_429_waits_for_rate_limit_reset_then_succeeds(
    http: responses.RequestsMock, sleep: NoSleep
) -> None:
    http.get(f"{BASE}/stores", status=429, headers={"X-RateLimit-Reset": "7"})
    http.get(f"{BASE}/stores", json=load_json("evotor_stores.json"))
    client = make_client(sleep)

    assert len(client.list_stores()) == 2
    assert client.requests_made == 2
    assert sleep.calls == [7 + 0.25]  # reset seconds + a little jitter


def test_429_prefers_retry_after_when_present(http: responses.RequestsMock, sleep: NoSleep) -> None:
    http.get(f"{BASE}/stores", status=429, headers={"Retry-After": "3", "X-RateLimit-Reset": "9"})
    http.get(f"{BASE}/stores", json={"items": [], "paging": {}})
    make_client(sleep).list_stores()
    assert sleep.calls == [3 + 0.25]


def test_429_retries_are_bounded(http: responses.RequestsMock, sleep: NoSleep) -> None:
    http.get(f"{BASE}/stores", status=429, headers={"X-RateLimit-Reset": "1"})
    client = make_client(sleep, retry=RetryPolicy(max_attempts=3))

    with pytest.raises(RateLimitError) as caught:
        client.list_stores()

    assert caught.value.retry_after == 1 and caught.value.http_status == 429
    assert client.requests_made == 3 and len(sleep.calls) == 2


def test_429_with_a_reset_too_far_away_is_not_slept_through(
    http: responses.RequestsMock, sleep: NoSleep
) -> None:
    http.get(f"{BASE}/stores", status=429, headers={"X-RateLimit-Reset": "3600"})
    client = make_client(sleep)
    with pytest.raises(RateLimitError):
        client.list_stores()
    assert client.requests_made == 1 and sleep.calls == []


def test_5xx_then_success_backs_off_exponentially(
    http: responses.RequestsMock, sleep: NoSleep
) -> None:
    http.get(f"{BASE}/stores", status=503)
    http.get(f"{BASE}/stores", status=502)
    http.get(f"{BASE}/stores", json=load_json("evotor_stores.json"))
    client = make_client(sleep)

    assert len(client.list_stores()) == 2
    assert client.requests_made == 3
    assert sleep.calls == [0.375, 0.75]  # 0.5·2^(n-1), half fixed + half jitter (0.5)


def test_timeouts_exhaust_retries_then_raise_transient(
    http: responses.RequestsMock, sleep: NoSleep
) -> None:
    http.get(f"{BASE}/stores", body=requests.exceptions.ReadTimeout("read timed out"))
    client = make_client(sleep)

    with pytest.raises(TransientError) as caught:
        client.list_stores()

    assert client.requests_made == 4 and len(sleep.calls) == 3
    assert sleep.calls == sorted(sleep.calls)
    assert "timed out" in str(caught.value)


def test_connection_error_then_success(http: responses.RequestsMock, sleep: NoSleep) -> None:
    http.get(f"{BASE}/stores", body=requests.exceptions.ConnectionError("reset by peer"))
    http.get(f"{BASE}/stores", json={"items": [], "paging": {}})
    client = make_client(sleep)
    assert client.list_stores() == []
    assert client.requests_made == 2


def test_backoff_is_capped(http: responses.RequestsMock, sleep: NoSleep) -> None:
    http.get(f"{BASE}/stores", status=500)
    client = make_client(sleep, retry=RetryPolicy(max_attempts=8, base_delay=1, max_delay=4))
    with pytest.raises(TransientError):
        client.list_stores()
    assert max(sleep.calls) <= 4 and len(sleep.calls) == 7


def test_non_json_reply_is_a_format_error(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}/stores", body="<html>proxy</html>", status=200)
    with pytest.raises(ResponseFormatError, match="not JSON"):
        make_client().list_stores()


def test_list_reply_without_items_is_a_format_error(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}/stores", json={"paging": {}})
    with pytest.raises(ResponseFormatError, match="items"):
        make_client().list_stores()


def test_single_object_without_id_is_a_format_error(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}/stores/{STORE}", json={"name": "no id"})
    with pytest.raises(ResponseFormatError):
        make_client().get_store(STORE)


def test_spent_rate_limit_budget_waits_before_next_request(http: responses.RequestsMock) -> None:
    fake = FakeTime()
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "5"}
    http.get(f"{BASE}/stores", json={"items": [], "paging": {}}, headers=headers)
    client = make_client(sleep=fake.sleep, clock=fake.clock)  # type: ignore[arg-type]

    client.list_stores()
    assert fake.sleeps == []
    client.list_stores()

    assert fake.sleeps == [5.0]
    assert client.requests_made == 2


# --- images -------------------------------------------------------------------------------------


def test_download_image_does_not_send_the_token_to_another_host(
    http: responses.RequestsMock,
) -> None:
    http.get("https://static.evotor.example/images/opaque", body=b"\x89PNG...")
    content = make_client().download_image("https://static.evotor.example/images/opaque")
    assert content == b"\x89PNG..."
    headers = http.calls[0].request.headers
    assert "Authorization" not in headers and "X-Authorization" not in headers


def test_download_image_from_the_api_host_is_authorised(http: responses.RequestsMock) -> None:
    http.get(f"{BASE}/images/1", body=b"img")
    make_client().download_image(f"{BASE}/images/1")
    assert http.calls[0].request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_download_image_refuses_oversized_files(http: responses.RequestsMock) -> None:
    http.get("https://static.evotor.example/big", body=b"x" * 2048)
    with pytest.raises(PermanentError, match="larger than"):
        make_client().download_image("https://static.evotor.example/big", max_bytes=1024)
