"""``execute`` batching: VKScript building, ≤25 calls per request, per-call results and errors."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import parse_qs

import pytest
import responses

from apps.connections.clients import (
    AuthError,
    ItemError,
    PermanentError,
    RateLimiter,
    ResponseFormatError,
    RetryPolicy,
    TransientError,
    VkCall,
    VkClient,
    VkItemFields,
)
from apps.connections.clients import vk_calls as calls
from apps.connections.clients.vk_execute import build_code, map_results

from .clients_support import NoSleep, fixed_rand, load_json

BASE = "https://vk.test"
EXECUTE = f"{BASE}/method/execute"
TOKEN = "vk1.a.SECRET-USER-TOKEN"
GROUP = 218861756
CALL = re.compile(r"API\.([a-zA-Z.]+)\((\{.*?\})\)(?=,API\.|\];$)")


def make_client(sleep: NoSleep | None = None) -> VkClient:
    ticks = itertools.count(step=100)
    return VkClient(
        TOKEN,
        base_url=BASE,
        sleep=sleep or NoSleep(),
        rand=fixed_rand,
        retry=RetryPolicy(max_attempts=3, base_delay=0.5),
        rate_limiter=RateLimiter(3, clock=lambda: float(next(ticks))),
    )


def sent_calls(call: Any) -> list[tuple[str, dict[str, Any]]]:
    """Decode the (method, args) pairs of the VKScript sent in an execute request."""
    code = parse_qs(call.request.body)["code"][0]
    assert code.startswith("return [") and code.endswith("];")
    return [(m, json.loads(args)) for m, args in CALL.findall(code)]


def edit(item_id: int) -> VkCall:
    return calls.market_edit(GROUP, item_id, VkItemFields(price=Decimal(item_id)))


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- code building --------------------------------------------------------------------------


def test_code_is_a_returned_array_of_json_encoded_calls() -> None:
    code = build_code(
        [
            calls.market_edit(
                GROUP, 1, VkItemFields(name='Кофе "по-венски"', price=Decimal("300"))
            ),
            calls.market_add_to_album(GROUP, [1, 2], [148]),
        ]
    )
    assert code == (
        'return [API.market.edit({"owner_id":-218861756,"item_id":1,'
        '"name":"Кофе \\"по-венски\\"","price":"300.00"}),'
        'API.market.addToAlbum({"owner_id":-218861756,"item_ids":"1,2","album_ids":"148"})];'
    )


def test_hostile_values_cannot_break_out_of_their_string() -> None:
    nasty = '"}), API.account.ban({"owner_id": 1}), API.x({"a": "\n</script>'
    code = build_code([calls.market_edit(GROUP, 1, VkItemFields(description=nasty))])
    (method, args), = CALL.findall(code)  # fmt: skip
    assert method == "market.edit" and json.loads(args)["description"] == nasty


def test_method_names_are_validated() -> None:
    with pytest.raises(ValueError):
        VkCall("market.edit({});API.account.ban", {})


def test_batch_size_is_bounded() -> None:
    with pytest.raises(ValueError):
        build_code([edit(i) for i in range(26)])
    with pytest.raises(ValueError):
        build_code([])


# --- result mapping (pure) ----------------------------------------------------------------------


def test_partial_failure_fixture_maps_false_to_its_error() -> None:
    batch = [edit(1), edit(2), edit(3)]
    results = map_results(batch, load_json("vk_execute_partial.json"), secrets=(TOKEN,))
    assert [r.ok for r in results] == [True, False, True]
    assert isinstance(results[1].error, ItemError) and results[1].error.code == 1403
    assert results[1].call is batch[1]


def test_errors_are_paired_by_method_name_when_order_is_off() -> None:
    batch = [calls.market_add(GROUP, VkItemFields(name="Новый")), edit(2)]
    body = {
        "response": [False, False],
        "execute_errors": [
            {"method": "market.edit", "error_code": 1403, "error_msg": "Item not found"},
            {"method": "market.add", "error_code": 1408, "error_msg": "bad links"},
        ],
    }
    add, edited = map_results(batch, body, secrets=())
    assert add.error is not None and add.error.code == 1408
    assert edited.error is not None and edited.error.code == 1403


def test_missing_error_details_give_a_generic_item_error() -> None:
    body = {"response": [False, False], "execute_errors": [{"method": "market.edit",
            "error_code": 100, "error_msg": "nothing to change"}]}  # fmt: skip
    first, second = map_results([edit(1), edit(2)], body, secrets=())
    assert first.error is not None and first.error.code == 100
    assert isinstance(second.error, ItemError) and second.error.code is None


def test_unnamed_errors_are_paired_in_order() -> None:
    body = {"response": [False, 1, False], "execute_errors": [
        {"method": "API.market.edit", "error_code": 100, "error_msg": "a"},
        {"error_code": 1408, "error_msg": "b"},
    ]}  # fmt: skip
    first, _, third = map_results([edit(1), edit(2), edit(3)], body, secrets=())
    assert first.error is not None and first.error.code == 100
    assert third.error is not None and third.error.code == 1408


def test_short_or_malformed_reply_fails_each_call_readably() -> None:
    short = map_results([edit(1), edit(2)], {"response": [1]}, secrets=())
    assert short[0].ok and isinstance(short[1].error, ResponseFormatError)
    not_array = map_results([edit(1)], {"response": {"x": 1}}, secrets=())
    assert isinstance(not_array[0].error, ResponseFormatError)


def test_unwrap_raises_the_calls_error() -> None:
    (result,) = map_results(
        [edit(1)],
        {"response": [False], "execute_errors": [{"method": "market.edit", "error_code": 1403,
                                                  "error_msg": "Item not found"}]},
        secrets=(),
    )  # fmt: skip
    with pytest.raises(ItemError):
        result.unwrap()


# --- through the client -------------------------------------------------------------------------


def test_25_calls_with_3_failures_map_each_result_to_its_call(
    http: responses.RequestsMock,
) -> None:
    failing = {4: 1403, 11: 1408, 20: 100}
    values = [False if i in failing else 1 for i in range(25)]
    errors = [
        {"method": "market.edit", "error_code": code, "error_msg": f"item {i} failed"}
        for i, code in sorted(failing.items())
    ]
    http.post(EXECUTE, json={"response": values, "execute_errors": errors})
    batch = [edit(i) for i in range(25)]
    client = make_client()

    results = client.execute(batch)

    assert client.requests_made == 1
    assert [r.call for r in results] == batch
    failed = {i: r.error for i, r in enumerate(results) if not r.ok}
    assert {i: e.code for i, e in failed.items() if e} == failing
    assert all(isinstance(e, ItemError) for e in failed.values())
    assert "item 11 failed" in str(failed[11])
    assert [m for m, _ in sent_calls(http.calls[0])] == ["market.edit"] * 25
    assert [args["item_id"] for _, args in sent_calls(http.calls[0])] == list(range(25))


def test_more_than_25_calls_are_split_into_several_requests(
    http: responses.RequestsMock,
) -> None:
    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        n = len(CALL.findall(parse_qs(request.body)["code"][0]))
        return 200, {}, json.dumps({"response": [1] * n})

    http.add_callback(responses.POST, EXECUTE, callback=reply)
    client = make_client()

    results = client.execute([edit(i) for i in range(60)])

    assert len(results) == 60 and all(r.ok for r in results)
    assert client.requests_made == 3
    sizes = [len(sent_calls(c)) for c in http.calls]
    assert sizes == [25, 25, 10]
    sent_ids = [args["item_id"] for c in http.calls for _, args in sent_calls(c)]
    assert sent_ids == list(range(60))


def test_typed_results_come_back_parsed(http: responses.RequestsMock) -> None:
    http.post(EXECUTE, json={"response": [{"market_item_id": 77}, 1]})
    results = make_client().execute(
        [calls.market_add(GROUP, VkItemFields(name="Новый товар")), edit(1)]
    )
    assert [r.value for r in results] == [77, None]


def test_inner_transient_failures_are_resent_alone(http: responses.RequestsMock) -> None:
    http.post(EXECUTE, json={"response": [1, False, 1], "execute_errors": [
        {"method": "market.edit", "error_code": 9, "error_msg": "Flood control"}]})  # fmt: skip
    http.post(EXECUTE, json={"response": [1]})
    sleep = NoSleep()
    client = make_client(sleep)

    results = client.execute([edit(1), edit(2), edit(3)])

    assert all(r.ok for r in results)
    assert [args["item_id"] for _, args in sent_calls(http.calls[1])] == [2]
    assert client.requests_made == 2 and sleep.calls == [0.375]


def test_whole_execute_auth_error_is_raised_after_one_request(
    http: responses.RequestsMock,
) -> None:
    http.post(EXECUTE, json=load_json("vk_error_5.json"))
    client = make_client()
    with pytest.raises(AuthError):
        client.execute([edit(1)])
    assert client.requests_made == 1


def test_whole_execute_runtime_error_is_permanent(http: responses.RequestsMock) -> None:
    http.post(EXECUTE, json={"error": {"error_code": 13, "error_msg": "Runtime error"}})
    with pytest.raises(PermanentError):
        make_client().execute([edit(1)])


def test_execute_rate_limit_is_retried(http: responses.RequestsMock) -> None:
    http.post(EXECUTE, json=load_json("vk_error_6.json"))
    http.post(EXECUTE, json={"response": [1]})
    client = make_client()
    assert client.execute([edit(1)])[0].ok
    assert client.requests_made == 2


def test_execute_with_market_add_is_not_repeated_after_a_5xx(
    http: responses.RequestsMock,
) -> None:
    http.post(EXECUTE, status=502)
    client = make_client()
    with pytest.raises(TransientError) as caught:
        client.execute([calls.market_add(GROUP, VkItemFields(name="Новый товар")), edit(1)])
    assert not caught.value.retryable and client.requests_made == 1


def test_execute_of_edits_is_repeated_after_a_5xx(http: responses.RequestsMock) -> None:
    http.post(EXECUTE, status=502)
    http.post(EXECUTE, json={"response": [1]})
    client = make_client()
    assert client.execute([edit(1)])[0].ok and client.requests_made == 2


def test_iter_execute_hands_over_applied_results_before_a_later_failure(
    http: responses.RequestsMock,
) -> None:
    http.post(EXECUTE, json={"response": [{"market_item_id": i} for i in range(25)]})
    http.post(EXECUTE, json=load_json("vk_error_5.json"))
    adds = [calls.market_add(GROUP, VkItemFields(name=f"Товар {i}")) for i in range(30)]
    recorded: list[int] = []

    with pytest.raises(AuthError):
        for chunk in make_client().iter_execute(adds):
            recorded.extend(r.value for r in chunk)

    assert recorded == list(range(25))
