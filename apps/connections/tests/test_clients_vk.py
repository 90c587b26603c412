"""VkClient against mocked HTTP (``responses``): envelope, error codes, retries, every method."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

from apps.connections.clients import (
    ApiError,
    AuthError,
    CaptchaError,
    ItemError,
    PermanentError,
    RateLimiter,
    RateLimitError,
    ResponseFormatError,
    RetryPolicy,
    TransientError,
    VkClient,
    VkItemFields,
    VkPhotoFile,
)

from .clients_support import NoSleep, fixed_rand, load_json

BASE = "https://vk.test"
TOKEN = "vk1.a.SECRET-USER-TOKEN"
GROUP = 218861756
OWNER = str(-GROUP)
UPLOAD_URL = "https://pu.vk.example/gu-s/photo/v2/upload?token=UPLOAD-ONE-TIME-TOKEN&market_photo=1"


def api(method: str) -> str:
    return f"{BASE}/method/{method}"


def form(call: Any) -> dict[str, str]:
    """The form-encoded body of a recorded request, one value per key."""
    body = call.request.body
    text = body.decode() if isinstance(body, bytes) else body
    return {k: v[0] for k, v in parse_qs(text, keep_blank_values=True).items()}


def never_waits() -> RateLimiter:
    """A limiter whose clock jumps ahead on every reading, so it never asks anyone to wait."""
    ticks = itertools.count(step=100)
    return RateLimiter(3, clock=lambda: float(next(ticks)))


def make_client(sleep: NoSleep | None = None, **kwargs: Any) -> VkClient:
    kwargs.setdefault("rate_limiter", never_waits())
    kwargs.setdefault("retry", RetryPolicy(max_attempts=4, base_delay=0.5))
    return VkClient(TOKEN, base_url=BASE, sleep=sleep or NoSleep(), rand=fixed_rand, **kwargs)


def vk_error(code: int, message: str = "error") -> dict[str, Any]:
    return {"error": {"error_code": code, "error_msg": message, "request_params": []}}


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


@pytest.fixture
def sleep() -> NoSleep:
    return NoSleep()


# --- transport and envelope ---------------------------------------------------------------------


def test_posts_form_encoded_with_version_token_user_agent_and_timeout(
    http: responses.RequestsMock,
) -> None:
    http.post(api("market.delete"), json=load_json("vk_ok.json"))
    client = make_client(user_agent="EvoSync-test/1", timeout=(3.0, 7.0))

    client.delete_item(GROUP, 42)

    request = http.calls[0].request
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert request.headers["User-Agent"] == "EvoSync-test/1"
    assert request.req_kwargs["timeout"] == (3.0, 7.0)
    assert form(http.calls[0]) == {
        "owner_id": OWNER,
        "item_id": "42",
        "v": "5.199",
        "access_token": TOKEN,
    }
    assert client.requests_made == 1


def test_error_envelope_with_http_200_is_an_error(http: responses.RequestsMock) -> None:
    http.post(api("groups.getById"), json=load_json("vk_error_15.json"), status=200)
    with pytest.raises(AuthError) as caught:
        make_client().get_group(GROUP)
    assert caught.value.code == 15 and caught.value.method == "groups.getById"
    assert str(caught.value) == "vk groups.getById: Access denied: token required (code 15)"


def test_error_5_raises_auth_error_after_exactly_one_request(
    http: responses.RequestsMock, sleep: NoSleep
) -> None:
    http.post(api("market.get"), json=load_json("vk_error_5.json"))
    client = make_client(sleep)

    with pytest.raises(AuthError) as caught:
        client.get_items(GROUP)

    assert client.requests_made == 1 and len(http.calls) == 1 and sleep.calls == []
    # VK echoes the token in request_params; it must not reach the error.
    assert TOKEN not in str(caught.value) and TOKEN not in repr(caught.value)


def test_error_6_is_retried_and_then_succeeds(http: responses.RequestsMock, sleep: NoSleep) -> None:
    http.post(api("market.edit"), json=load_json("vk_error_6.json"))
    http.post(api("market.edit"), json=load_json("vk_ok.json"))
    client = make_client(sleep)

    client.edit_item(GROUP, 7, VkItemFields(name="Новое имя"))

    assert client.requests_made == 2 and sleep.calls == [0.375]


@pytest.mark.parametrize("code", [1, 9, 10])
def test_transient_codes_are_retried_until_attempts_run_out(
    http: responses.RequestsMock, sleep: NoSleep, code: int
) -> None:
    http.post(api("market.getAlbums"), json=vk_error(code))
    client = make_client(sleep, retry=RetryPolicy(max_attempts=3))

    with pytest.raises(TransientError) as caught:
        client.get_albums(GROUP)

    assert caught.value.code == code
    assert client.requests_made == 3 and len(sleep.calls) == 2


def test_captcha_is_not_retried_and_carries_its_details(
    http: responses.RequestsMock, sleep: NoSleep
) -> None:
    http.post(api("market.add"), json=load_json("vk_error_14.json"))
    client = make_client(sleep)
    with pytest.raises(CaptchaError) as caught:
        client.add_item(GROUP, VkItemFields(name="Товар"))
    assert caught.value.captcha_sid == "548747100691"
    assert caught.value.redirect_uri is not None
    assert client.requests_made == 1 and sleep.calls == []


def test_error_29_quota_is_transient_but_not_retried_in_place(
    http: responses.RequestsMock,
) -> None:
    http.post(api("market.edit"), json=vk_error(29, "Rate limit reached"))
    client = make_client()
    with pytest.raises(RateLimitError) as caught:
        client.edit_item(GROUP, 1, VkItemFields(sku="x"))
    assert not caught.value.retryable and client.requests_made == 1


def test_http_5xx_on_a_read_is_retried(http: responses.RequestsMock, sleep: NoSleep) -> None:
    http.post(api("market.getAlbums"), status=502)
    http.post(api("market.getAlbums"), json=load_json("vk_market_get_albums.json"))
    client = make_client(sleep)
    assert [a.id for a in client.get_albums(GROUP)] == [141, 148]
    assert client.requests_made == 2


def test_http_5xx_on_market_add_is_not_repeated(http: responses.RequestsMock) -> None:
    # VK may have created the item before the proxy failed: repeating could duplicate it.
    http.post(api("market.add"), status=504)
    client = make_client()
    with pytest.raises(TransientError) as caught:
        client.add_item(GROUP, VkItemFields(name="Товар"))
    assert not caught.value.retryable and client.requests_made == 1


def test_read_timeout_on_market_add_is_not_repeated(http: responses.RequestsMock) -> None:
    http.post(api("market.add"), body=requests.exceptions.ReadTimeout())
    client = make_client()
    with pytest.raises(TransientError):
        client.add_item(GROUP, VkItemFields(name="Товар"))
    assert client.requests_made == 1


def test_connect_timeout_on_market_add_is_repeated(http: responses.RequestsMock) -> None:
    # The request never left: repeating it cannot duplicate anything.
    http.post(api("market.add"), body=requests.exceptions.ConnectTimeout())
    http.post(api("market.add"), json=load_json("vk_market_add.json"))
    client = make_client()
    assert client.add_item(GROUP, VkItemFields(name="Товар")) == 12473659
    assert client.requests_made == 2


def test_read_timeouts_on_an_idempotent_call_exhaust_retries(
    http: responses.RequestsMock, sleep: NoSleep
) -> None:
    http.post(api("market.edit"), body=requests.exceptions.ReadTimeout())
    client = make_client(sleep)
    with pytest.raises(TransientError):
        client.edit_item(GROUP, 1, VkItemFields(name="Имя"))
    assert client.requests_made == 4 and sleep.calls == [0.375, 0.75, 1.5]


def test_non_json_reply_is_a_format_error(http: responses.RequestsMock) -> None:
    http.post(api("market.delete"), body="<html>bad gateway</html>")
    with pytest.raises(ResponseFormatError):
        make_client().delete_item(GROUP, 1)


def test_reply_without_response_or_error_is_a_format_error(http: responses.RequestsMock) -> None:
    http.post(api("market.delete"), json={"something": 1})
    with pytest.raises(ResponseFormatError, match="envelope"):
        make_client().delete_item(GROUP, 1)


def test_token_in_an_error_message_is_redacted(http: responses.RequestsMock) -> None:
    http.post(api("market.delete"), json=vk_error(5, f"invalid access_token {TOKEN}"))
    with pytest.raises(AuthError) as caught:
        make_client().delete_item(GROUP, 1)
    assert TOKEN not in str(caught.value) and "***" in str(caught.value)


def test_client_repr_hides_the_token() -> None:
    assert TOKEN not in repr(make_client())


def test_group_id_must_be_positive() -> None:
    with pytest.raises(ValueError):
        make_client().delete_item(-GROUP, 1)


# --- items --------------------------------------------------------------------------------------


def market_get_server(total: int) -> Any:
    """market.get over ``total`` items, honouring offset/count like VK."""

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        params = {k: v[0] for k, v in parse_qs(str(request.body)).items()}
        offset, count = int(params["offset"]), int(params["count"])
        items = [
            {"id": i, "owner_id": -GROUP, "title": f"Item {i}", "description": "d",
             "price": {"amount": str(i * 100)}, "availability": 0}
            for i in range(offset + 1, min(offset + count, total) + 1)
        ]  # fmt: skip
        return 200, {}, json.dumps({"response": {"count": total, "items": items}})

    return reply


def test_market_get_pages_with_count_200(http: responses.RequestsMock) -> None:
    http.add_callback(responses.POST, api("market.get"), callback=market_get_server(450))
    client = make_client()

    items = client.get_items(GROUP, pages_per_request=1)

    assert len(items) == 450 and items[-1].price is not None
    assert items[-1].price.amount == Decimal("450.00")
    sent = [form(c) for c in http.calls]
    assert [(s["offset"], s["count"]) for s in sent] == [
        ("0", "200"),
        ("200", "200"),
        ("400", "200"),
    ]
    assert sent[0]["owner_id"] == OWNER
    assert (sent[0]["extended"], sent[0]["with_disabled"]) == ("1", "1")
    assert client.requests_made == 3


def test_iter_item_pages_stops_on_an_empty_page(http: responses.RequestsMock) -> None:
    http.post(api("market.get"), json={"response": {"count": 999, "items": []}})
    pages = list(make_client().iter_item_pages(GROUP))
    assert len(pages) == 1 and pages[0].count == 999


def execute_pages_server(total: int) -> Any:
    """execute whose code is a list of market.get calls: answer each with its page."""
    page_server = market_get_server(total)

    def reply(request: requests.PreparedRequest) -> tuple[int, dict[str, str], str]:
        code = parse_qs(str(request.body))["code"][0]
        pages = []
        for args in code.removeprefix("return [").removesuffix("];").split("),API."):
            params = json.loads(args[args.index("{") : args.rindex("}") + 1])
            fake = requests.Request("POST", "http://x", data=params).prepare()
            pages.append(json.loads(page_server(fake)[2])["response"])
        return 200, {}, json.dumps({"response": pages})

    return reply


def test_get_items_batches_later_pages_through_execute(http: responses.RequestsMock) -> None:
    http.add_callback(responses.POST, api("market.get"), callback=market_get_server(5400))
    http.add_callback(responses.POST, api("execute"), callback=execute_pages_server(5400))
    client = make_client()

    items = client.get_items(GROUP)

    assert [i.id for i in items] == list(range(1, 5401))
    # 1 plain market.get (learns count=5400) + 26 more pages in executes of 25 and 1.
    assert client.requests_made == 3
    codes = [form(c)["code"] for c in http.calls[1:]]
    assert [c.count("API.market.get(") for c in codes] == [25, 1]
    assert '"offset":200' in codes[0] and '"offset":5200' in codes[1]


def test_get_item_states_reads_as_get_items_does_keeping_only_what_a_sync_compares(
    http: responses.RequestsMock,
) -> None:
    http.add_callback(responses.POST, api("market.get"), callback=market_get_server(450))
    http.add_callback(responses.POST, api("execute"), callback=execute_pages_server(450))
    client = make_client()

    states = client.get_item_states(GROUP)

    assert [s.id for s in states] == list(range(1, 451)) and client.requests_made == 2
    assert (states[-1].title, states[-1].price_minor, states[-1].is_hidden) == (
        "Item 450", 45000, False
    )
    assert not hasattr(states[-1], "__dict__")  # slots: 50,000 of them are read at once
    assert form(http.calls[0])["extended"] == "0"


def test_an_item_state_keeps_sku_albums_availability_and_moderation() -> None:
    from apps.connections.clients.vk_types import parse_item_state

    state = parse_item_state({
        "id": 7, "title": "Чай", "sku": "ev-1", "price": {"amount": "12300"},
        "availability": 2, "albums_ids": [3, 4], "description": "long text " * 100,
        "reject_info": {"title": "Отклонено", "description": "Нет фото", "moderation_status": 2},
    })  # fmt: skip

    assert (state.sku, state.price_minor, state.albums_ids, state.is_hidden) == (
        "ev-1", 12300, (3, 4), True
    )
    assert state.reject_info is not None and state.reject_info.description == "Нет фото"


def test_an_item_state_without_an_id_fails_its_page(http: responses.RequestsMock) -> None:
    http.post(api("market.get"), json={"response": {"count": 1, "items": [{"title": "x"}]}})
    with pytest.raises(ResponseFormatError):
        make_client().get_item_states(GROUP)


def test_get_items_raises_when_a_batched_page_fails(http: responses.RequestsMock) -> None:
    http.add_callback(responses.POST, api("market.get"), callback=market_get_server(450))
    http.post(
        api("execute"),
        json={"response": [{"count": 450, "items": []}, False],
              "execute_errors": [{"method": "market.get", "error_code": 1525,
                                  "error_msg": "Market is disabled"}]},
    )  # fmt: skip
    with pytest.raises(PermanentError) as caught:
        make_client().get_items(GROUP)
    assert caught.value.code == 1525


def test_get_items_by_id_chunks_by_100(http: responses.RequestsMock) -> None:
    http.post(api("market.getById"), json=load_json("vk_market_get_by_id.json"))
    client = make_client()

    items = client.get_items_by_id(GROUP, list(range(1, 151)))

    assert client.requests_made == 2 and len(items) == 2
    first = form(http.calls[0])["item_ids"].split(",")
    assert len(first) == 100 and first[0] == f"{OWNER}_1"
    assert form(http.calls[1])["item_ids"].split(",")[-1] == f"{OWNER}_150"
    assert items[0].is_removed


def test_add_item_sends_rubles_and_lists_and_returns_the_id(http: responses.RequestsMock) -> None:
    http.post(api("market.add"), json=load_json("vk_market_add.json"))
    fields = VkItemFields(
        name="Тестовый товар",
        description="Описание товара",
        category_id=20173,
        price=Decimal("1499.9"),
        old_price=Decimal("15"),
        main_photo_id=457239024,
        photo_ids=(457239025, 457239026),
        url="https://example.org/p/1",
        sku="12345",
        stock_amount=10,
        deleted=False,
    )

    assert make_client().add_item(GROUP, fields) == 12473659

    sent = form(http.calls[0])
    assert sent["price"] == "1499.90" and sent["old_price"] == "15.00"
    assert sent["photo_ids"] == "457239025,457239026"
    assert sent["deleted"] == "0" and sent["owner_id"] == OWNER
    assert sent["name"] == "Тестовый товар" and sent["category_id"] == "20173"
    assert "weight" not in sent  # None fields are not sent


def test_edit_item_only_sends_given_fields(http: responses.RequestsMock) -> None:
    http.post(api("market.edit"), json=load_json("vk_ok.json"))
    make_client().edit_item(GROUP, 5, VkItemFields(price=Decimal("10"), deleted=True))
    assert form(http.calls[0]) == {
        "owner_id": OWNER, "item_id": "5", "price": "10.00", "deleted": "1",
        "v": "5.199", "access_token": TOKEN,
    }  # fmt: skip


def test_edit_of_an_item_deleted_in_vk_is_an_item_error(http: responses.RequestsMock) -> None:
    http.post(api("market.edit"), json=load_json("vk_error_1403.json"))
    with pytest.raises(ItemError) as caught:
        make_client().edit_item(GROUP, 5, VkItemFields(name="Имя"))
    assert caught.value.code == 1403


def test_restore_of_a_live_item_is_an_item_error(http: responses.RequestsMock) -> None:
    http.post(api("market.restore"), json=vk_error(1518, "Item is not deleted"))
    with pytest.raises(ItemError):
        make_client().restore_item(GROUP, 5)


def test_restore_item(http: responses.RequestsMock) -> None:
    http.post(api("market.restore"), json=load_json("vk_ok.json"))
    make_client().restore_item(GROUP, 5)
    assert form(http.calls[0])["item_id"] == "5"


def test_market_disabled_is_permanent(http: responses.RequestsMock) -> None:
    http.post(api("market.add"), json=vk_error(1438, "Market not enabled"))
    with pytest.raises(PermanentError) as caught:
        make_client().add_item(GROUP, VkItemFields(name="Товар"))
    assert not isinstance(caught.value, ItemError)


def test_unexpected_success_value_is_a_format_error(http: responses.RequestsMock) -> None:
    http.post(api("market.add"), json={"response": {"id": 1}})
    with pytest.raises(ResponseFormatError, match="market_item_id"):
        make_client().add_item(GROUP, VkItemFields(name="Товар"))


# --- albums -------------------------------------------------------------------------------------


def test_get_albums_pages_by_100(http: responses.RequestsMock) -> None:
    album = {"id": 1, "owner_id": -GROUP, "title": "A"}
    page1 = {"response": {"count": 150, "items": [dict(album, id=i) for i in range(1, 101)]}}
    page2 = {"response": {"count": 150, "items": [dict(album, id=i) for i in range(101, 151)]}}
    http.post(api("market.getAlbums"), json=page1)
    http.post(api("market.getAlbums"), json=page2)

    albums = make_client().get_albums(GROUP)

    assert [a.id for a in albums] == list(range(1, 151))
    assert [(form(c)["offset"], form(c)["count"]) for c in http.calls] == [
        ("0", "100"),
        ("100", "100"),
    ]


def test_album_writes(http: responses.RequestsMock) -> None:
    http.post(api("market.addAlbum"), json=load_json("vk_market_add_album.json"))
    for method in ("editAlbum", "deleteAlbum", "addToAlbum", "removeFromAlbum"):
        http.post(api(f"market.{method}"), json=load_json("vk_ok.json"))
    client = make_client()

    assert client.add_album(GROUP, "Напитки", photo_id=9, is_hidden=False) == 148
    client.edit_album(GROUP, 148, "Напитки и соки")
    client.add_to_album(GROUP, [11, 12], [148])
    client.remove_from_album(GROUP, 11, [148, 149])
    client.delete_album(GROUP, 148)

    add, edit, to_album, from_album, delete = (form(c) for c in http.calls)
    assert (add["title"], add["photo_id"], add["is_hidden"]) == ("Напитки", "9", "0")
    assert "main_album" not in add
    assert (edit["album_id"], edit["title"]) == ("148", "Напитки и соки")
    assert (to_album["item_ids"], to_album["album_ids"]) == ("11,12", "148")
    assert (from_album["item_id"], from_album["album_ids"]) == ("11", "148,149")
    assert delete == {"owner_id": OWNER, "album_id": "148", "v": "5.199", "access_token": TOKEN}


def test_add_to_album_already_there_is_an_item_error(http: responses.RequestsMock) -> None:
    http.post(api("market.addToAlbum"), json=vk_error(1404, "Item already added to album"))
    with pytest.raises(ItemError) as caught:
        make_client().add_to_album(GROUP, [1], [2])
    assert caught.value.code == 1404


# --- categories and groups ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fixture", "ids"),
    [
        ("vk_get_categories_tree.json", [20000, 20001, 20002, 20003, 20173]),
        ("vk_get_categories_flat.json", [20173, 20001, 1200]),
    ],
)
def test_get_categories_reads_both_shapes(
    http: responses.RequestsMock, fixture: str, ids: list[int]
) -> None:
    http.post(api("market.getCategories"), json=load_json(fixture))
    client = make_client()
    assert [c.id for c in client.get_categories()] == ids
    assert client.requests_made == 1
    assert form(http.calls[0])["count"] == "1000"


def test_get_categories_pages_the_flat_shape(http: responses.RequestsMock) -> None:
    first = {"response": {"count": 2, "items": [{"id": 1, "name": "A"}]}}
    second = {"response": {"count": 2, "items": [{"id": 2, "name": "B"}]}}
    http.post(api("market.getCategories"), json=first)
    http.post(api("market.getCategories"), json=second)
    assert [c.name for c in make_client().get_categories(group_id=GROUP)] == ["A", "B"]
    assert form(http.calls[1])["offset"] == "1" and form(http.calls[1])["group_id"] == str(GROUP)


def test_categories_with_a_community_token_is_auth_error(http: responses.RequestsMock) -> None:
    http.post(api("market.getCategories"), json=load_json("vk_error_27.json"))
    with pytest.raises(AuthError):
        make_client().get_categories()


@pytest.mark.parametrize(
    "fixture", ["vk_groups_get_by_id_object.json", "vk_groups_get_by_id_array.json"]
)
def test_get_group_reads_both_shapes(http: responses.RequestsMock, fixture: str) -> None:
    http.post(api("groups.getById"), json=load_json(fixture))
    group = make_client().get_group("coffee_lenina")
    assert group.id == GROUP and group.screen_name == "coffee_lenina"
    sent = form(http.calls[0])
    assert sent["group_id"] == "coffee_lenina" and "market" in sent["fields"].split(",")


def test_get_group_with_empty_reply_is_permanent(http: responses.RequestsMock) -> None:
    http.post(api("groups.getById"), json={"response": {"groups": [], "profiles": []}})
    with pytest.raises(PermanentError):
        make_client().get_group(GROUP)


def test_get_admin_groups(http: responses.RequestsMock) -> None:
    http.post(api("groups.get"), json=load_json("vk_groups_get_admin.json"))
    groups = make_client().get_admin_groups()
    assert [g.id for g in groups] == [GROUP, 100200300]
    assert groups[0].market_enabled and not groups[1].market_enabled
    sent = form(http.calls[0])
    assert (sent["filter"], sent["extended"], sent["fields"]) == ("admin", "1", "market")


# --- photos -------------------------------------------------------------------------------------


def test_photo_flow_uploads_multipart_file_and_saves_the_reply_verbatim(
    http: responses.RequestsMock,
) -> None:
    upload_reply = json.dumps(load_json("vk_upload_reply.json"), ensure_ascii=False)
    http.post(api("market.getProductPhotoUploadServer"), json=load_json("vk_upload_server.json"))
    http.post(UPLOAD_URL.split("?")[0], body=upload_reply)
    http.post(api("market.saveProductPhoto"), json=load_json("vk_save_product_photo.json"))
    client = make_client()

    saved = client.upload_product_photo(
        GROUP, VkPhotoFile(b"\x89PNG-bytes", "card.png", "image/png")
    )

    assert saved.photo_id == 457239024
    server_call, upload_call, save_call = http.calls
    assert form(server_call)["group_id"] == str(GROUP) and form(server_call)["bulk"] == "0"
    assert upload_call.request.url == UPLOAD_URL  # used exactly as returned
    assert upload_call.request.headers["Content-Type"].startswith("multipart/form-data")
    body = upload_call.request.body
    assert b'name="file"; filename="card.png"' in body and b"\x89PNG-bytes" in body
    assert "access_token" not in upload_call.request.url
    sent = form(save_call)["upload_response"]
    assert sent == upload_reply and json.loads(sent) == load_json("vk_upload_reply.json")
    assert client.requests_made == 3


def test_upload_refused_by_the_server_is_an_item_error_without_the_url(
    http: responses.RequestsMock,
) -> None:
    http.post(UPLOAD_URL.split("?")[0], json={"error_msg": "image too small"})
    with pytest.raises(ItemError) as caught:
        make_client().upload_photo_files(UPLOAD_URL, [VkPhotoFile(b"x")])
    assert "image too small" in str(caught.value)
    assert "UPLOAD-ONE-TIME-TOKEN" not in str(caught.value)


def test_upload_5xx_is_retried(http: responses.RequestsMock) -> None:
    http.post(UPLOAD_URL.split("?")[0], status=503)
    http.post(UPLOAD_URL.split("?")[0], body='{"sha": "1"}')
    assert make_client().upload_photo_files(UPLOAD_URL, [VkPhotoFile(b"x")]) == '{"sha": "1"}'


def test_bulk_photo_upload_uses_numbered_file_fields(http: responses.RequestsMock) -> None:
    http.post(api("market.getProductPhotoUploadServer"), json=load_json("vk_upload_server.json"))
    http.post(UPLOAD_URL.split("?")[0], body='{"bulk": true}')
    http.post(api("market.saveProductPhotoBulk"), json=load_json("vk_save_product_photo_bulk.json"))

    saved = make_client().upload_product_photos_bulk(
        GROUP, [VkPhotoFile(b"one", "1.jpg"), VkPhotoFile(b"two", "2.jpg")]
    )

    assert [s.photo_id for s in saved] == [457239031, 457239032]
    assert form(http.calls[0])["bulk"] == "1"
    body = http.calls[1].request.body
    assert b'name="file1"; filename="1.jpg"' in body and b'name="file2"; filename="2.jpg"' in body
    assert form(http.calls[2])["upload_response"] == '{"bulk": true}'


def test_upload_server_without_url_is_a_format_error(http: responses.RequestsMock) -> None:
    http.post(api("market.getProductPhotoUploadServer"), json={"response": {}})
    with pytest.raises(ResponseFormatError):
        make_client().get_product_photo_upload_server(GROUP)


# --- error code table ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (5, AuthError), (7, AuthError), (15, AuthError), (17, AuthError), (27, AuthError),
        (203, AuthError), (205, AuthError), (1117, AuthError),
        (14, CaptchaError),
        (1438, PermanentError), (1525, PermanentError), (1526, PermanentError),
        (100, ItemError), (1403, ItemError), (1404, ItemError), (1405, ItemError),
        (1406, ItemError), (1407, ItemError), (1408, ItemError), (1433, ItemError),
        (1434, ItemError), (1435, ItemError), (1518, ItemError),
        (424242, PermanentError),
    ],
)  # fmt: skip
def test_permanent_codes_map_to_their_class_without_retry(
    http: responses.RequestsMock, sleep: NoSleep, code: int, error_class: type[ApiError]
) -> None:
    http.post(api("market.delete"), json=vk_error(code))
    client = make_client(sleep)
    with pytest.raises(error_class) as caught:
        client.delete_item(GROUP, 1)
    assert type(caught.value) is error_class and caught.value.code == code
    assert client.requests_made == 1 and sleep.calls == []
