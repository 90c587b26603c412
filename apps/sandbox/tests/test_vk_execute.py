"""``execute``: the batcher's VKScript subset, ≤25 calls, partial failures (docs/vk.md#execute)."""

from __future__ import annotations

import json

import pytest

from apps.sandbox.models import VkMarketItem
from apps.sandbox.services.vk_execute import CompileError, compile_script
from apps.sandbox.services.world import (
    inject_fault,
    make_vk_item,
    make_vk_photo,
    make_vk_token,
    set_config,
)


def _call(method: str, **params) -> str:
    return f"API.{method}({json.dumps(params, ensure_ascii=False)})"


def _code(*calls: str) -> str:
    return f"return [{','.join(calls)}];"


def test_25_calls_with_3_failures_give_false_there_and_3_execute_errors(api, vk):
    items = [make_vk_item(vk.group) for _ in range(22)]
    calls = [
        _call("market.edit", owner_id=-vk.group_id, item_id=i.vk_id, price="77.70") for i in items
    ]
    # Three doomed calls at known positions: unknown item, too-short name, nothing to change.
    calls.insert(3, _call("market.edit", owner_id=-vk.group_id, item_id=999999, price="1"))
    calls.insert(10, _call("market.edit", owner_id=-vk.group_id, item_id=items[0].vk_id, name="Ой"))
    calls.insert(20, _call("market.edit", owner_id=-vk.group_id, item_id=items[1].vk_id))

    body = api.raw("execute", code=_code(*calls))

    response = body["response"]
    assert len(response) == 25
    assert [i for i, value in enumerate(response) if value is False] == [3, 10, 20]
    assert all(value == 1 for i, value in enumerate(response) if i not in (3, 10, 20))
    assert body["execute_errors"] == [
        {"method": "market.edit", "error_code": 1403, "error_msg": "Item not found"},
        {
            "method": "market.edit",
            "error_code": 100,
            "error_msg": "One of the parameters specified was missing or invalid: "
            "name should be at least 4 letters length",
        },
        {
            "method": "market.edit",
            "error_code": 100,
            "error_msg": "One of the parameters specified was missing or invalid: "
            "nothing to change",
        },
    ]
    assert VkMarketItem.objects.filter(price=7770).count() == 22


def test_results_of_mixed_methods_keep_their_positions(api, vk):
    photo = make_vk_photo(vk.group)
    item = make_vk_item(vk.group)
    add = _call(
        "market.add",
        owner_id=-vk.group_id,
        name="Круассан с миндалём",
        description="Свежая выпечка каждое утро",
        category_id=20004,
        price="129.00",
        main_photo_id=photo.vk_id,
        photo_ids=[],
        deleted=False,
    )
    get = _call("market.getById", item_ids=[f"-{vk.group_id}_{item.vk_id}"])

    response = api.ok("execute", code=_code(add, get, "42"))

    assert set(response[0]) == {"market_item_id"}
    assert response[1]["items"][0]["id"] == item.vk_id
    assert response[2] == 42


def test_a_single_call_returns_its_bare_value(api, vk):
    make_vk_item(vk.group)

    response = api.ok("execute", code=f"return {_call('market.get', owner_id=-vk.group_id)};")

    assert response["count"] == 1


def test_more_than_25_calls_is_error_13(api, vk):
    calls = [_call("market.get", owner_id=-vk.group_id)] * 26

    error = api.error("execute", code=_code(*calls))

    assert error["error_code"] == 13
    assert error["error_msg"].startswith("Runtime error occurred during code invocation")


@pytest.mark.parametrize(
    "code",
    [
        "var a = 1; return a;",
        "return [API.market.get({owner_id: -1})];",  # not a JSON literal
        "return [API.market.get({})",
        "API.market.get({});",
    ],
)
def test_code_outside_the_subset_is_error_12(api, code):
    error = api.error("execute", code=code)

    assert error["error_code"] == 12
    assert error["error_msg"].startswith("Unable to compile code")


def test_compile_reads_json_arguments_as_form_values():
    script = compile_script(
        'return [API.market.addToAlbum({"owner_id": -5, "item_ids": [1, 2], "album_ids": "7",'
        ' "deleted": true, "url": null})];'
    )

    [call] = script.elements
    assert call.method == "market.addToAlbum"
    assert call.params == {"owner_id": "-5", "item_ids": "1,2", "album_ids": "7", "deleted": "1"}
    with pytest.raises(CompileError):
        compile_script("return [API.market.get(1)];")


def test_an_unknown_inner_method_fails_only_its_call(api, vk):
    body = api.raw(
        "execute", code=_code(_call("market.fly"), _call("market.get", owner_id=-vk.group_id))
    )

    assert body["response"][0] is False and body["response"][1]["count"] == 0
    assert body["execute_errors"][0]["error_code"] == 3


def test_a_failed_inner_add_leaves_nothing_behind(api, vk):
    taken = make_vk_photo(vk.group)
    make_vk_item(vk.group, photo=taken)
    add = _call(
        "market.add",
        owner_id=-vk.group_id,
        name="Дубликат фото",
        description="Второй товар с тем же фото",
        category_id=20001,
        main_photo_id=taken.vk_id,
    )

    body = api.raw("execute", code=_code(add))

    assert body["response"] == [False]
    assert body["execute_errors"][0]["error_msg"].endswith("already assigned to another item")
    assert VkMarketItem.objects.count() == 1


def test_execute_counts_once_against_the_rate_limit(api, vk):
    set_config(vk_user_rate=1, vk_rate_window=3600)
    calls = [_call("market.get", owner_id=-vk.group_id)] * 25

    assert len(api.ok("execute", code=_code(*calls))) == 25
    assert api.error("market.get", owner_id=-vk.group_id)["error_code"] == 6


def test_injected_faults_hit_inner_calls_by_method(api, vk):
    items = [make_vk_item(vk.group) for _ in range(3)]
    inject_fault("vk", "market.delete", count=1, error_code=10)
    calls = [_call("market.delete", owner_id=-vk.group_id, item_id=i.vk_id) for i in items]

    body = api.raw("execute", code=_code(*calls))

    assert body["response"] == [False, 1, 1]
    assert body["execute_errors"] == [
        {"method": "market.delete", "error_code": 10, "error_msg": "Internal server error"}
    ]


def test_a_community_token_may_execute_but_market_calls_inside_get_27(api, vk):
    token = make_vk_token(group=vk.group).token

    body = api.raw("execute", token=token, code=_code(_call("market.get", owner_id=-vk.group_id)))

    assert body["response"] == [False]
    assert body["execute_errors"][0]["error_code"] == 27


def test_a_batch_of_25_edits_reads_the_community_once(api, vk, django_assert_max_num_queries):
    items = [make_vk_item(vk.group) for _ in range(25)]
    calls = [_call("market.edit", owner_id=-vk.group_id, item_id=i.vk_id, price="5") for i in items]
    api.ok("market.get", owner_id=-vk.group_id, count=1)  # warm: configuration row

    # Per edit: savepoint, item, photos, update, release (+ the fault lookup) — no per-call
    # community or rights lookups.
    with django_assert_max_num_queries(10 + 25 * 7):
        assert api.ok("execute", code=_code(*calls)) == [1] * 25
