"""The fake VK API refuses what VK refuses (docs/vk.md#errors,
docs/vk.md#what-the-sandbox-enforces) and answers in VK's shapes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from apps.sandbox.models import VkMarketItem
from apps.sandbox.services.vk_ids import ITEM
from apps.sandbox.services.world import (
    make_vk_community,
    make_vk_item,
    make_vk_photo,
    make_vk_token,
    make_vk_user,
    set_config,
)

from .conftest import VkApi

PARAM = "One of the parameters specified was missing or invalid"


def _error(error: dict) -> tuple[int, str]:
    return error["error_code"], error["error_msg"]


# --- envelope, tokens, version, rate -------------------------------------------------------------


def test_an_error_is_http_200_with_the_request_echoed_but_not_the_token(client, vk):
    response = client.post(
        "/sandbox/vk/method/market.get",
        {"owner_id": -vk.group_id, "v": "5.199", "access_token": "nope"},
    )

    assert response.status_code == 200
    error = response.json()["error"]
    assert _error(error) == (5, "User authorization failed: invalid access_token (4).")
    echoed = {p["key"]: p["value"] for p in error["request_params"]}
    assert echoed == {
        "method": "market.get",
        "owner_id": str(-vk.group_id),
        "v": "5.199",
        "oauth": "1",
    }


def test_no_token_is_error_15(api, vk):
    error = api.error("market.get", token=None, owner_id=-vk.group_id)

    assert _error(error) == (15, "Access denied: token required")


def test_an_expired_token_is_error_5(api, vk):
    vk.token.expires_at = timezone.now() - timedelta(seconds=1)
    vk.token.save()

    error = api.error("market.get", owner_id=-vk.group_id)

    assert _error(error) == (5, "User authorization failed: access_token has expired.")


def test_a_revoked_token_is_error_5(api, vk):
    vk.token.is_revoked = True
    vk.token.save()

    assert api.error("market.get", owner_id=-vk.group_id)["error_code"] == 5


def test_a_community_token_on_a_market_method_is_error_27(api, vk):
    community_token = make_vk_token(group=vk.group)

    error = api.error("market.get", token=community_token.token, owner_id=-vk.group_id)

    assert _error(error) == (
        27,
        "Group authorization failed: method is unavailable with group auth.",
    )


def test_a_user_token_without_the_market_scope_is_error_7(api, vk):
    token = make_vk_token(user=vk.user, scopes="groups")

    error = api.error("market.get", token=token.token, owner_id=-vk.group_id)

    assert _error(error) == (7, "Permission to perform this action is denied")


def test_the_version_is_mandatory(client, vk):
    response = client.post(
        "/sandbox/vk/method/market.get", {"owner_id": -vk.group_id, "access_token": vk.access_token}
    )

    assert _error(response.json()["error"]) == (8, "Invalid request: v is required")


def test_an_unknown_method_is_error_3(api):
    assert _error(api.error("market.fly")) == (3, "Unknown method passed")


def test_a_json_body_is_not_read(client, vk):
    response = client.post(
        "/sandbox/vk/method/market.get",
        json.dumps({"owner_id": -vk.group_id, "v": "5.199", "access_token": vk.access_token}),
        content_type="application/json",
    )

    assert response.json()["error"]["error_code"] == 15


def test_get_and_bearer_header_work_too(client, vk):
    response = client.get(
        "/sandbox/vk/method/market.get",
        {"owner_id": -vk.group_id, "v": "5.199"},
        headers={"Authorization": f"Bearer {vk.access_token}"},
    )

    assert response.json()["response"] == {"count": 0, "items": []}


def test_a_user_token_over_3_requests_per_second_gets_error_6(api, vk):
    set_config(vk_user_rate=3, vk_rate_window=3600)

    bodies = [api.raw("market.get", owner_id=-vk.group_id) for _ in range(4)]

    assert ["error" in body for body in bodies] == [False, False, False, True]
    assert _error(bodies[-1]["error"]) == (6, "Too many requests per second")


def test_community_tokens_have_their_own_higher_limit(api, vk):
    set_config(vk_user_rate=1, vk_group_rate=2, vk_rate_window=3600)
    token = make_vk_token(group=vk.group).token

    codes = [
        api.raw("groups.getById", token=token, group_id=vk.group_id)
        .get("error", {})
        .get("error_code")
        for _ in range(3)
    ]

    assert codes == [None, None, 6]


# --- market.add validation ---------------------------------------------------------------------


def test_add_returns_the_item_id_and_stores_the_price_in_kopecks(api, item_fields):
    response = api.ok("market.add", **item_fields(price="1499.90", old_price="2000"))

    item = VkMarketItem.objects.get(pk=ITEM.pk(response["market_item_id"]))
    assert set(response) == {"market_item_id"}
    assert (item.price, item.old_price) == (149990, 200000)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": "Чай"}, f"{PARAM}: name should be at least 4 letters length"),
        ({"name": "Ч" * 101}, f"{PARAM}: name should be at most 100 letters length"),
        # Outside cp1251 a character counts as an HTML entity: 😀 is "&#128512;" (9).
        ({"name": "Кофе" + "😀" * 11}, f"{PARAM}: name should be at most 100 letters length"),
        ({"name": None}, f"{PARAM}: name is undefined"),
        ({"description": "Коротко"}, f"{PARAM}: description should be at least 10 letters length"),
        ({"description": None}, f"{PARAM}: description is undefined"),
        ({"category_id": None}, f"{PARAM}: category_id is undefined"),
        ({"category_id": 999999}, f"{PARAM}: category_id is invalid"),
        ({"main_photo_id": None}, f"{PARAM}: photo is undefined"),
        ({"photo_ids": "1,2,3,4,5"}, f"{PARAM}: photo_ids is invalid"),
        ({"sku": "S" * 51}, f"{PARAM}: sku is invalid"),
        ({"url": "https://example.org/" + "x" * 310}, f"{PARAM}: url is invalid"),
        ({"price": "-1"}, f"{PARAM}: price is invalid"),
        ({"stock_amount": "-2"}, f"{PARAM}: stock_amount is invalid"),
        ({"owner_id": "218861756"}, f"{PARAM}: owner_id is invalid"),
    ],
)
def test_add_refuses_what_vk_refuses_with_error_100(api, item_fields, overrides, message):
    params = {k: v for k, v in {**item_fields(), **overrides}.items() if v is not None}

    error = api.error("market.add", **params)

    assert _error(error) == (100, message)
    assert not VkMarketItem.objects.exists()


def test_a_name_of_exactly_4_and_100_letters_is_fine(add_item):
    assert add_item(name="Сыры") and add_item(name="Я" * 100)


def test_description_links_to_outside_sites_are_error_1408(api, item_fields):
    error = api.error("market.add", **item_fields(description="Заказ на https://shop.example.org"))

    assert _error(error) == (1408, "Item has bad links in description")


def test_links_to_vk_itself_are_allowed(add_item):
    assert add_item(description="Пишите нам: https://vk.com/evosync")


def test_a_photo_of_another_community_is_refused(api, item_fields, db):
    foreign = make_vk_photo(make_vk_community(name="Чужое сообщество"))

    error = api.error("market.add", **item_fields(main_photo_id=foreign.vk_id))

    assert _error(error) == (100, f"{PARAM}: photo not found or already assigned to another item")


def test_a_photo_attached_to_one_item_is_refused_for_a_second(api, item_fields, add_item, vk):
    photo = make_vk_photo(vk.group)
    add_item(main_photo_id=photo.vk_id)

    error = api.error("market.add", **item_fields(main_photo_id=photo.vk_id, sku="evotor-2"))

    assert _error(error) == (100, f"{PARAM}: photo not found or already assigned to another item")
    assert VkMarketItem.objects.count() == 1


def test_extra_photos_are_attached_in_order(api, add_item, vk):
    extras = [make_vk_photo(vk.group).vk_id for _ in range(4)]
    item_id = add_item(photo_ids=",".join(map(str, extras)))

    [item] = api.ok("market.getById", item_ids=f"-{vk.group_id}_{item_id}", extended=1)["items"]

    assert [p["id"] for p in item["photos"]][1:] == extras


def test_a_non_manager_cannot_add_error_205(api, item_fields, vk):
    outsider = make_vk_token(user=make_vk_user())

    error = api.error("market.add", token=outsider.token, **item_fields())

    assert _error(error) == (205, "Access denied")


def test_a_disabled_market_is_error_1438(api, item_fields, vk):
    vk.group.market_enabled = False
    vk.group.save()

    assert _error(api.error("market.add", **item_fields())) == (1438, "Market not enabled")
    assert _error(api.error("market.get", owner_id=-vk.group_id)) == (1438, "Market not enabled")


def test_the_item_cap_is_error_1405(api, item_fields, add_item, vk):
    vk.group.max_items = 1
    vk.group.save()
    add_item()

    assert _error(api.error("market.add", **item_fields())) == (1405, "Too many items")


# --- reading -------------------------------------------------------------------------------------


def test_market_get_returns_items_in_vks_shape(api, add_item, vk):
    item_id = add_item(price="1", old_price="15", sku="evotor-42", url="https://vk.com/evosync")

    page = api.ok("market.get", owner_id=-vk.group_id, count=200, extended=1)

    assert page["count"] == 1
    [item] = page["items"]
    assert item["id"] == item_id and item["owner_id"] == -vk.group_id
    assert item["title"] == "Кофе по-венски 0,3" and item["sku"] == "evotor-42"
    assert item["price"] == {
        "amount": "100",
        "currency": {"id": 643, "name": "RUB", "title": "₽"},
        "text": "1 ₽",
        "old_amount": "1500",
        "old_amount_text": "15 ₽",
        "discount_rate": -93,
    }
    assert item["category"] == {
        "inner_type": "market_market_category_old",
        "id": 20001,
        "name": "Кофе",
        "section": {"id": 10001, "name": "Продукты питания"},
    }
    assert item["availability"] == 0
    assert isinstance(item["date"], int)
    assert "stock_amount" not in item
    [photo] = item["photos"]
    assert photo["album_id"] == -53 and photo["owner_id"] == -vk.group_id
    assert {s["type"] for s in photo["sizes"]} >= {"s", "m", "x"}
    assert item["thumb_photo"].startswith("http://testserver/sandbox/vk/photo/")


def test_market_get_pages_newest_first_and_limits_count_to_200(api, vk):
    ids = [make_vk_item(vk.group).vk_id for _ in range(5)]

    page = api.ok("market.get", owner_id=-vk.group_id, count=2, offset=1)

    assert page["count"] == 5
    assert [i["id"] for i in page["items"]] == ids[::-1][1:3]
    assert "photos" not in page["items"][0]
    assert _error(api.error("market.get", owner_id=-vk.group_id, count=201)) == (
        100,
        f"{PARAM}: count is invalid",
    )


def test_hidden_items_show_only_with_with_disabled(api, add_item, vk):
    add_item(deleted=1)

    assert api.ok("market.get", owner_id=-vk.group_id)["count"] == 0
    page = api.ok("market.get", owner_id=-vk.group_id, with_disabled=1)
    assert page["items"][0]["availability"] == 2


def test_get_by_id_takes_at_most_100_refs(api, add_item, vk):
    item_id = add_item()

    page = api.ok("market.getById", item_ids=f"-{vk.group_id}_{item_id},-{vk.group_id}_999999")

    assert page["count"] == 1 and page["items"][0]["id"] == item_id
    refs = ",".join(f"-{vk.group_id}_{i}" for i in range(101))
    assert api.error("market.getById", item_ids=refs)["error_code"] == 100


# --- edit, delete, restore ---------------------------------------------------------------------


def test_edit_changes_fields_and_answers_1(api, add_item, vk):
    item_id = add_item()

    assert api.ok("market.edit", owner_id=-vk.group_id, item_id=item_id, price="10.50") == 1
    assert VkMarketItem.objects.get(pk=ITEM.pk(item_id)).price == 1050


def test_edit_without_a_change_is_nothing_to_change(api, item_fields, add_item, vk):
    fields = item_fields()
    item_id = add_item(**fields)

    error = api.error("market.edit", **{**fields, "item_id": item_id})

    assert _error(error) == (100, f"{PARAM}: nothing to change")


def test_edit_validates_like_add(api, add_item, vk):
    item_id = add_item()

    error = api.error("market.edit", owner_id=-vk.group_id, item_id=item_id, name="Ой")

    assert _error(error) == (100, f"{PARAM}: name should be at least 4 letters length")


def test_edit_can_move_the_main_photo_and_frees_the_old_one(api, add_item, vk):
    old, new = make_vk_photo(vk.group), make_vk_photo(vk.group)
    item_id = add_item(main_photo_id=old.vk_id)

    api.ok("market.edit", owner_id=-vk.group_id, item_id=item_id, main_photo_id=new.vk_id)

    old.refresh_from_db()
    new.refresh_from_db()
    assert new.item_id == ITEM.pk(item_id) and new.position == 0
    assert old.item_id is None


def test_edit_of_an_unknown_item_is_1403(api, vk):
    error = api.error("market.edit", owner_id=-vk.group_id, item_id=424242, price="1")

    assert _error(error) == (1403, "Item not found")


def test_delete_hides_from_get_and_getbyid_reports_removed(api, add_item, vk):
    item_id = add_item()

    assert api.ok("market.delete", owner_id=-vk.group_id, item_id=item_id) == 1

    assert api.ok("market.get", owner_id=-vk.group_id, with_disabled=1)["count"] == 0
    [item] = api.ok("market.getById", item_ids=f"-{vk.group_id}_{item_id}")["items"]
    assert item["availability"] == 1
    assert api.error("market.delete", owner_id=-vk.group_id, item_id=item_id)["error_code"] == 1403
    assert (
        api.error("market.edit", owner_id=-vk.group_id, item_id=item_id, price=5)["error_code"]
        == 1403
    )


def test_restore_brings_a_deleted_item_back(api, add_item, vk):
    item_id = add_item()
    api.ok("market.delete", owner_id=-vk.group_id, item_id=item_id)

    assert api.ok("market.restore", owner_id=-vk.group_id, item_id=item_id) == 1
    assert api.ok("market.get", owner_id=-vk.group_id)["count"] == 1


def test_restore_of_a_live_item_is_1518(api, add_item, vk):
    item_id = add_item()

    error = api.error("market.restore", owner_id=-vk.group_id, item_id=item_id)

    assert _error(error) == (1518, "Item is not deleted")


def test_restore_after_the_window_is_1400(api, add_item, vk):
    item_id = add_item()
    api.ok("market.delete", owner_id=-vk.group_id, item_id=item_id)
    VkMarketItem.objects.filter(pk=ITEM.pk(item_id)).update(
        removed_at=timezone.now() - timedelta(hours=2)
    )

    error = api.error("market.restore", owner_id=-vk.group_id, item_id=item_id)

    assert _error(error) == (1400, "Too late for restore")


def test_restore_of_an_unknown_item_is_1403(api, vk):
    assert api.error("market.restore", owner_id=-vk.group_id, item_id=1)["error_code"] == 1403


def test_restore_past_the_item_cap_is_1405(api, add_item, vk):
    item_id = add_item()
    api.ok("market.delete", owner_id=-vk.group_id, item_id=item_id)
    add_item()
    vk.group.max_items = 1
    vk.group.save()

    assert api.error("market.restore", owner_id=-vk.group_id, item_id=item_id)["error_code"] == 1405


def test_a_reader_outside_a_closed_community_is_203(client, vk):
    vk.group.is_closed = 1
    vk.group.save()
    outsider = VkApi(client, make_vk_token(user=make_vk_user()).token)

    assert outsider.error("market.get", owner_id=-vk.group_id)["error_code"] == 203


def test_a_page_of_200_items_takes_a_handful_of_queries(api, vk, django_assert_max_num_queries):
    for _ in range(200):
        make_vk_item(vk.group)
    api.ok("market.get", owner_id=-vk.group_id, count=1)  # warm: configuration row

    with django_assert_max_num_queries(13):
        page = api.ok("market.get", owner_id=-vk.group_id, count=200, extended=1)

    assert len(page["items"]) == 200 and all(item["photos"] for item in page["items"])
