"""Fault injection: the command, the control endpoint, and what callers then see."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from apps.sandbox.models import SandboxFault, VkMarketItem, VkToken
from apps.sandbox.services import ratelimit
from apps.sandbox.services.config import get_config
from apps.sandbox.services.faults import FaultSpec, add_fault, take_fault
from apps.sandbox.services.vk_ids import ITEM
from apps.sandbox.services.world import inject_fault

CONTROL = "/sandbox/control"


def _control(
    client: Client, path: str, payload: dict | None = None, method: str = "post", **headers
):
    token = headers.pop("token", get_config().control_token)
    if token:
        headers["X-Sandbox-Control-Token"] = token
    if method == "get":
        return client.get(f"{CONTROL}{path}", headers=headers)
    return getattr(client, method)(
        f"{CONTROL}{path}",
        json.dumps(payload or {}),
        content_type="application/json",
        headers=headers,
    )


# --- VK ------------------------------------------------------------------------------------------


def test_the_next_n_calls_of_a_method_get_the_error_then_it_passes(api, vk):
    inject_fault("vk", "market.get", count=2, error_code=6)

    codes = [
        api.raw("market.get", owner_id=-vk.group_id).get("error", {}).get("error_code")
        for _ in range(3)
    ]

    assert codes == [6, 6, None]
    assert not SandboxFault.objects.exists()


def test_a_fault_aims_at_its_method_only(api, vk):
    inject_fault("vk", "market.add", count=1, error_code=10)

    assert "error" not in api.raw("market.get", owner_id=-vk.group_id)
    assert SandboxFault.objects.get().remaining == 1


def test_captcha_faults_carry_captcha_fields(api, vk):
    inject_fault("vk", "*", count=1, error_code=14)

    error = api.error("market.get", owner_id=-vk.group_id)

    assert (error["error_code"], error["error_msg"]) == (14, "Captcha needed")
    assert error["captcha_sid"] and error["captcha_img"]


def test_http_status_faults_answer_that_status(client, vk):
    inject_fault("vk", "execute", count=1, http_status=502)

    response = client.post(
        "/sandbox/vk/method/execute",
        {"v": "5.199", "access_token": vk.access_token, "code": "return 1;"},
    )

    assert response.status_code == 502


def test_latency_and_timeouts_sleep(api, vk, sleeps):
    inject_fault("vk", "market.get", count=1, latency=1.5)
    inject_fault("vk", "market.get", count=1, timeout=True)

    api.raw("market.get", owner_id=-vk.group_id)
    api.raw("market.get", owner_id=-vk.group_id)

    assert sleeps == [1.5, get_config().timeout_sleep]
    assert get_config().timeout_sleep > 30  # past every client's read timeout


def test_a_forever_fault_lasts_until_cleared(api, vk):
    add_fault(FaultSpec(service="vk", target="market.get", count=None, error_code=1))

    for _ in range(3):
        assert api.error("market.get", owner_id=-vk.group_id)["error_code"] == 1
    call_command("sandbox_fault", "clear")
    assert "error" not in api.raw("market.get", owner_id=-vk.group_id)


def test_upload_faults(client, vk):
    inject_fault("vk", "upload", count=1, http_status=503)

    assert client.post("/sandbox/vk/upload?token=x").status_code == 503


@pytest.mark.parametrize(
    "spec",
    [
        {"service": "smtp"},
        {"service": "vk"},  # no effect at all
        {"service": "evotor", "error_code": 6},
        {"service": "vk", "error_code": 4242},
        {"service": "vk", "http_status": 200},
        {"service": "evotor", "target": "market.add", "http_status": 500},
        {"service": "vk", "error_code": 6, "count": 0},
    ],
)
def test_nonsense_faults_are_refused(db, spec):
    with pytest.raises(ValueError):
        add_fault(FaultSpec(**spec))


def test_a_fault_is_taken_by_exactly_one_caller(db):
    inject_fault("vk", "market.add", count=1, error_code=6)

    assert take_fault("vk", "market.add") is not None
    assert take_fault("vk", "market.add") is None


def test_revoked_and_expired_tokens_and_disabled_markets(api, vk):
    call_command("sandbox_fault", "market", str(vk.group_id), "--disable")
    assert api.error("market.get", owner_id=-vk.group_id)["error_code"] == 1438
    call_command("sandbox_fault", "market", str(vk.group_id), "--enable")
    assert "error" not in api.raw("market.get", owner_id=-vk.group_id)

    call_command("sandbox_fault", "expire-token", vk.access_token)
    assert api.error("market.get", owner_id=-vk.group_id)["error_msg"].endswith("has expired.")
    call_command("sandbox_fault", "revoke-token", vk.access_token)
    assert VkToken.objects.get(pk=vk.token.pk).is_revoked


def test_caps_from_the_command(api, vk, item_fields):
    call_command(
        "sandbox_fault", "caps", str(vk.group_id), "--max-items", "0", "--max-albums", "none"
    )

    vk.group.refresh_from_db()
    assert (vk.group.max_items, vk.group.max_albums) == (0, None)
    assert api.error("market.add", **item_fields())["error_code"] == 1405


def test_the_command_adds_lists_and_reports_bad_input(db, capsys):
    call_command("sandbox_fault", "add", "vk", "market.add", "--code", "6", "--count", "3")

    call_command("sandbox_fault", "list")
    [listed] = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    assert (listed["target"], listed["remaining"], listed["error_code"]) == ("market.add", 3, 6)
    with pytest.raises(CommandError):
        call_command("sandbox_fault", "add", "evotor", "products", "--code", "6")
    with pytest.raises(CommandError):
        call_command("sandbox_fault", "market", "424242", "--disable")


def test_the_command_sets_configuration_and_prints_the_control_token(db, capsys):
    call_command(
        "sandbox_fault",
        "config",
        "vk_user_rate=2",
        "vk_rate_window=0.5",
        "vk_require_main_photo=false",
    )
    call_command("sandbox_fault", "token")

    config = get_config()
    assert (config.vk_user_rate, config.vk_rate_window, config.vk_require_main_photo) == (
        2,
        0.5,
        False,
    )
    assert capsys.readouterr().out.strip().endswith(config.control_token)
    with pytest.raises(CommandError):
        call_command("sandbox_fault", "config", "no_such_field=1")


# --- Evotor and VK ID ----------------------------------------------------------------------------


def test_evotor_faults_hit_one_endpoint(evotor_get, store):
    inject_fault("evotor", "products", count=1, http_status=500)

    assert evotor_get(f"/stores/{store.evotor_id}/products").status_code == 500
    assert evotor_get(f"/stores/{store.evotor_id}/products").status_code == 200


def test_an_injected_evotor_429_carries_rate_limit_headers(evotor_get, evotor_account):
    inject_fault("evotor", "stores", count=1, http_status=429)

    response = evotor_get("/stores")

    assert response.status_code == 429
    assert (response["X-RateLimit-Remaining"], response["X-RateLimit-Reset"]) == ("0", "1")


def test_revoking_an_evotor_token_gives_403(evotor_get, evotor_account):
    call_command("sandbox_fault", "revoke-evotor-token", evotor_account.token)
    assert evotor_get("/stores").status_code == 403

    call_command("sandbox_fault", "revoke-evotor-token", evotor_account.token, "--restore")
    assert evotor_get("/stores").status_code == 200


def test_vkid_token_endpoint_faults(client, db):
    inject_fault("vkid", "token", count=1, http_status=503)

    response = client.post("/sandbox/vkid/oauth2/auth", {"grant_type": "refresh_token"})

    assert response.status_code == 503


# --- rate counters -----------------------------------------------------------------------------


def test_rate_counters_restart_in_a_new_window(db):
    def at(moment: float) -> int:
        return ratelimit.hit("vk", "token-1", limit=3, window=1.0, clock=lambda: moment).used

    assert [at(100.1), at(100.5), at(100.9), at(101.2), at(101.3)] == [1, 2, 3, 1, 2]
    assert ratelimit.hit("vk", "token-2", limit=3, window=1.0, clock=lambda: 101.4).used == 1


# --- control endpoint --------------------------------------------------------------------------


def test_control_needs_the_token_or_staff(client, db):
    assert _control(client, "/faults", method="get", token=None).status_code == 403
    assert _control(client, "/faults", method="get", token="wrong").status_code == 403
    assert _control(client, "/faults", method="get").status_code == 200


def test_control_adds_lists_and_clears_faults(client, db):
    created = _control(
        client, "/faults", {"service": "vk", "target": "market.add", "count": 2, "error_code": 9}
    )

    assert created.status_code == 200 and created.json()["id"]
    assert _control(client, "/faults", method="get").json()[0]["error_code"] == 9
    assert _control(client, "/faults", method="delete").json() == {"deleted": 1}


def test_control_reports_bad_and_unknown_input(client, db):
    assert _control(client, "/faults", {"service": "vk"}).status_code == 400
    assert _control(client, "/vk/groups/424242/market", {"enabled": False}).status_code == 404
    bad_json = client.post(
        f"{CONTROL}/config",
        "{not json",
        content_type="application/json",
        headers={"X-Sandbox-Control-Token": get_config().control_token},
    )
    assert bad_json.status_code == 400


def test_control_switches_markets_caps_tokens_and_config(client, api, vk):
    assert (
        _control(client, f"/vk/groups/{vk.group_id}/market", {"enabled": False}).status_code == 200
    )
    assert api.error("market.get", owner_id=-vk.group_id)["error_code"] == 1438
    _control(client, f"/vk/groups/{vk.group_id}/caps", {"max_items": 5})
    vk.group.refresh_from_db()
    assert vk.group.max_items == 5

    config = _control(client, "/config", {"evotor_rate_limit": 7}).json()
    assert config["evotor_rate_limit"] == 7 and "control_token" not in config

    _control(client, "/vk/tokens/revoke", {"token": vk.access_token})
    assert api.error("groups.get")["error_code"] == 5


def test_control_revokes_evotor_tokens(client, evotor_get, evotor_account):
    _control(client, "/evotor/tokens/revoke", {"token": evotor_account.token})

    assert evotor_get("/stores").status_code == 403


def test_staff_may_use_control_with_csrf(staff_user, db):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(staff_user)

    without_csrf = _control(browser, "/faults", {"service": "vk", "error_code": 6}, token=None)
    browser.get("/sandbox/vkid/authorize")  # any page that sets the CSRF cookie
    cookie = browser.cookies["csrftoken"].value
    with_csrf = _control(
        browser,
        "/faults",
        {"service": "vk", "error_code": 6},
        token=None,
        **{"X-CSRFToken": cookie},
    )

    assert without_csrf.status_code == 403
    assert with_csrf.status_code == 200


def test_other_users_cannot_use_control(merchant, client):
    client.force_login(merchant)

    assert _control(client, "/faults", method="get", token=None).status_code == 403


def test_a_timeout_applies_the_change_and_then_hangs(api, item_fields, sleeps):
    inject_fault("vk", "market.add", count=1, timeout=True)

    body = api.raw("market.add", **item_fields())

    # The reply exists but a real client would have given up before it came: the item is there.
    assert VkMarketItem.objects.filter(pk=ITEM.pk(body["response"]["market_item_id"])).exists()
    assert sleeps == [get_config().timeout_sleep]


# --- probability faults ------------------------------------------------------------------------


class _Draws:
    """Stands in for the sandbox's random source: hands out the given draws in order."""

    def __init__(self, *values: float) -> None:
        self.values = list(values)

    def random(self) -> float:
        return self.values.pop(0)


def test_a_probability_fault_fails_the_calls_whose_draw_is_below_its_share(monkeypatch, db):
    from apps.sandbox.services import faults

    monkeypatch.setattr(faults, "_random", _Draws(0.5, 0.1, 0.9, 0.19, 0.2))
    add_fault(FaultSpec(service="vk", target="market.add", count=None, error_code=9,
                        probability=0.2))

    hits = [take_fault("vk", "market.add") is not None for _ in range(5)]

    assert hits == [False, True, False, True, False]
    fault = SandboxFault.objects.get()
    assert (fault.matched, fault.fired) == (5, 2)
    assert faults.fault_shares("vk") == [
        {"id": fault.pk, "target": "market.add", "probability": 0.2, "matched": 5, "fired": 2,
         "share": 0.4}
    ]


def test_a_probability_fault_with_a_count_stops_after_that_many_failures(monkeypatch, db):
    from apps.sandbox.services import faults

    monkeypatch.setattr(faults, "_random", _Draws(*[0.0] * 5))
    add_fault(FaultSpec(service="vk", target="*", count=2, http_status=502, probability=0.5))

    hits = [take_fault("vk", "execute") is not None for _ in range(4)]

    assert hits == [True, True, False, False]
    assert not SandboxFault.objects.exists()


def test_faults_that_miss_leave_the_call_to_the_next_fault(monkeypatch, db):
    from apps.sandbox.services import faults

    monkeypatch.setattr(faults, "_random", _Draws(0.9, 0.0))
    add_fault(FaultSpec(service="vk", target="*", count=None, error_code=6, probability=0.1))
    second = add_fault(FaultSpec(service="vk", target="*", count=None, error_code=10,
                                 probability=0.1))

    assert take_fault("vk", "market.get") == second


def test_the_share_is_drawn_from_the_system_so_forked_workers_do_not_fail_in_step():
    import random

    from apps.sandbox.services import faults

    assert isinstance(faults._random, random.SystemRandom)


def test_a_probability_fault_hits_about_its_share_of_real_calls(api, vk):
    inject_fault("vk", "market.get", count=None, error_code=10, probability=0.25)

    codes = [
        api.raw("market.get", owner_id=-vk.group_id).get("error", {}).get("error_code")
        for _ in range(200)
    ]

    fault = SandboxFault.objects.get()
    assert fault.matched == 200 and fault.fired == codes.count(10)
    assert 20 <= fault.fired <= 80  # 50 expected, σ ≈ 6: outside about once in 10^6 runs
    assert set(codes) <= {None, 10}


@pytest.mark.parametrize("probability", [0, -0.1, 1.5])
def test_a_probability_outside_the_unit_interval_is_refused(probability):
    with pytest.raises(ValueError, match="probability"):
        FaultSpec(service="vk", error_code=6, probability=probability).validate()
