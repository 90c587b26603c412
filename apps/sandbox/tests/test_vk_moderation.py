"""Injectable VK moderation (reject_info, docs/vk.md#market-item) and the two shapes of captcha
(docs/vk.md#errors)."""

from __future__ import annotations

import json

import pytest
from django.core.management import CommandError, call_command

from apps.sandbox.models import VkModerationRule
from apps.sandbox.services import vk_moderation
from apps.sandbox.services.config import get_config
from apps.sandbox.services.world import inject_fault, make_vk_item

CONTROL = "/sandbox/control"
REJECT_KEYS = {
    "title",
    "description",
    "moderation_status",
    "info_link",
    "write_to_support_link",
    "in_progress",
    "buttons",
}


def _post(client, path: str, payload: dict | None = None, method: str = "post"):
    if method == "get":
        token = get_config().control_token
        return client.get(f"{CONTROL}{path}", headers={"X-Sandbox-Control-Token": token})
    return getattr(client, method)(
        f"{CONTROL}{path}",
        json.dumps(payload or {}),
        content_type="application/json",
        headers={"X-Sandbox-Control-Token": get_config().control_token},
    )


def _item(api, vk, item_id: int) -> dict:
    [item] = api.ok("market.getById", item_ids=f"-{vk.group_id}_{item_id}")["items"]
    return item


def test_a_rejected_item_carries_reject_info_in_get_and_get_by_id(api, vk, client):
    item_id = make_vk_item(vk.group).vk_id
    assert "reject_info" not in _item(api, vk, item_id)

    response = _post(client, f"/vk/items/{item_id}/reject", {"title": "Запрещённый товар"})

    assert response.status_code == 200
    info = _item(api, vk, item_id)["reject_info"]
    assert set(info) == REJECT_KEYS
    assert info["title"] == "Запрещённый товар" and info["description"]
    assert (info["moderation_status"], info["in_progress"], info["buttons"]) == (2, False, [])
    [listed] = api.ok("market.get", owner_id=-vk.group_id)["items"]
    assert listed["reject_info"] == info
    assert response.json()["reject_info"] == info


def test_the_control_endpoint_lifts_a_rejection_and_knows_no_foreign_ids(api, vk, client):
    item = make_vk_item(vk.group)
    vk_moderation.reject_item(item.vk_id)

    assert _post(client, f"/vk/items/{item.vk_id}/reject", {"rejected": False}).status_code == 200
    assert "reject_info" not in _item(api, vk, item.vk_id)
    assert _post(client, f"/vk/items/{item.pk}/reject").status_code == 404
    anonymous = client.post(f"{CONTROL}/vk/items/{item.vk_id}/reject")
    assert anonymous.status_code == 403


def test_a_rule_rejects_the_next_n_items_whose_name_matches(api, vk, add_item, client):
    response = _post(
        client, "/vk/moderation/rules", {"name_contains": "ВЕЙП", "count": 2, "title": "Никотин"}
    )
    assert response.status_code == 200

    first = add_item(name="Вейп мятный")
    other = add_item(name="Кофе по-венски")
    second = add_item(name="Жидкость для вейпа")
    third = add_item(name="Вейп ягодный")

    assert _item(api, vk, first)["reject_info"]["title"] == "Никотин"
    assert "reject_info" in _item(api, vk, second)
    assert "reject_info" not in _item(api, vk, other)
    assert "reject_info" not in _item(api, vk, third)
    assert not VkModerationRule.objects.exists()


def test_editing_the_content_sends_the_item_back_to_moderation(api, vk, add_item):
    vk_moderation.add_rule("вейп", count=None)
    item_id = add_item(name="Вейп мятный")
    owner = -vk.group_id

    api.ok("market.edit", owner_id=owner, item_id=item_id, price="99")
    assert "reject_info" in _item(api, vk, item_id)  # a price change is not re-moderated

    api.ok("market.edit", owner_id=owner, item_id=item_id, name="Вейп с мятой")
    assert "reject_info" in _item(api, vk, item_id)  # still matches the rule

    api.ok("market.edit", owner_id=owner, item_id=item_id, name="Мятные леденцы")
    assert "reject_info" not in _item(api, vk, item_id)


def test_the_rules_endpoint_lists_and_clears(db, client):
    _post(client, "/vk/moderation/rules", {"name_contains": "табак", "count": None})
    listed = _post(client, "/vk/moderation/rules", method="get").json()
    assert [(r["name_contains"], r["remaining"]) for r in listed] == [("табак", None)]
    assert _post(client, "/vk/moderation/rules", method="delete").json() == {"deleted": 1}
    assert _post(client, "/vk/moderation/rules", {"count": 1}).status_code == 400


def test_the_command_rejects_accepts_and_adds_rules(api, vk, capsys):
    item_id = make_vk_item(vk.group).vk_id

    call_command("sandbox_fault", "reject", str(item_id), "--title", "Нет")
    assert _item(api, vk, item_id)["reject_info"]["title"] == "Нет"
    call_command("sandbox_fault", "reject", str(item_id), "--accept")
    assert "reject_info" not in _item(api, vk, item_id)

    call_command("sandbox_fault", "reject-rule", "табак", "--count", "3")
    call_command("sandbox_fault", "reject-rules")
    assert '"remaining": 3' in capsys.readouterr().out
    call_command("sandbox_fault", "reject-rules", "--clear")
    assert not VkModerationRule.objects.exists()
    with pytest.raises(CommandError):
        call_command("sandbox_fault", "reject", "1")


# --- captcha shapes -----------------------------------------------------------------------------


def test_the_legacy_captcha_shape(api, vk):
    inject_fault("vk", "market.get", error_code=14)
    error = api.error("market.get", owner_id=-vk.group_id)
    assert error["captcha_sid"].isdigit() and error["captcha_sid"] in error["captcha_img"]
    assert "redirect_uri" not in error


def test_the_redirect_captcha_shape_from_the_control_endpoint(api, vk, client):
    response = _post(
        client,
        "/faults",
        {"service": "vk", "target": "market.get", "error_code": 14, "captcha": "redirect"},
    )
    assert response.status_code == 200

    error = api.error("market.get", owner_id=-vk.group_id)

    assert (error["error_code"], error["error_msg"]) == (14, "Captcha needed")
    assert error["redirect_uri"].startswith("https://id.vk.com/not_robot_captcha?")
    assert error["remixstlid"] and "captcha_sid" not in error


def test_the_redirect_captcha_inside_execute_and_from_the_command(api, vk, capsys):
    call_command(
        "sandbox_fault", "add", "vk", "market.get", "--code", "14", "--captcha", "redirect"
    )
    call_command("sandbox_fault", "list")
    assert '"captcha_style": "redirect"' in capsys.readouterr().out
    code = f'return [API.market.get({{"owner_id": {-vk.group_id}}})];'

    body = api.raw("execute", code=code)

    assert body["response"] == [False]
    assert body["execute_errors"][0]["error_code"] == 14


def test_an_unknown_captcha_shape_is_refused(db, client):
    payload = {"service": "vk", "error_code": 14, "captcha": "audio"}
    assert _post(client, "/faults", payload).status_code == 400
