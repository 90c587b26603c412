"""Fixtures for the sandbox's own tests: a VK world, an Evotor merchant, an API caller."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from apps.sandbox.services import faults
from apps.sandbox.services.world import (
    VkWorld,
    make_evotor_account,
    make_store,
    make_vk_photo,
    make_vk_world,
    set_config,
)

GROUP_ID = 218861756
_OWN = object()


class VkApi:
    """Calls ``/sandbox/vk/method/<name>`` like the real client: form POST, ``v`` and token."""

    def __init__(self, client: Client, token: str | None) -> None:
        self.client = client
        self.token = token

    def raw(self, method: str, *, token: Any = _OWN, **params: Any) -> dict[str, Any]:
        """``token=None`` sends none; by default the world's user token is sent."""
        data = {"v": "5.199", **{k: _form(v) for k, v in params.items() if v is not None}}
        token = self.token if token is _OWN else token
        if token:
            data["access_token"] = token
        response = self.client.post(f"/sandbox/vk/method/{method}", data)
        assert response.status_code == 200, response.content
        return response.json()

    def ok(self, method: str, **params: Any) -> Any:
        body = self.raw(method, **params)
        assert "error" not in body, body
        return body["response"]

    def error(self, method: str, **params: Any) -> dict[str, Any]:
        body = self.raw(method, **params)
        assert "error" in body, body
        return body["error"]


def _form(value: Any) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


@pytest.fixture
def vk(db) -> VkWorld:
    # Tests make dozens of calls a second; the ones about the 3/s limit set it themselves.
    set_config(vk_user_rate=1000, vk_group_rate=1000)
    return make_vk_world(group_id=GROUP_ID)


@pytest.fixture
def api(client: Client, vk: VkWorld) -> VkApi:
    return VkApi(client, vk.access_token)


@pytest.fixture
def item_fields(vk: VkWorld):
    """Valid market.add parameters, each call with a fresh photo of the community."""

    def fields(**overrides: Any) -> dict[str, Any]:
        data = {
            "owner_id": -vk.group_id,
            "name": "Кофе по-венски 0,3",
            "description": "Ароматный кофе с шапкой сливок",
            "category_id": 20001,
            "price": "1499.90",
            "main_photo_id": make_vk_photo(vk.group).vk_id,
            "sku": "evotor-1",
        }
        data.update(overrides)
        return data

    return fields


@pytest.fixture
def add_item(api: VkApi, item_fields):
    def add(**overrides: Any) -> int:
        return api.ok("market.add", **item_fields(**overrides))["market_item_id"]

    return add


@pytest.fixture
def evotor_account(db):
    return make_evotor_account(user_id="01-000000000000042")


@pytest.fixture
def store(evotor_account):
    return make_store(evotor_account)


@pytest.fixture
def evotor_get(client: Client, evotor_account):
    """GET an Evotor path with the merchant's token (Bearer, the documented form)."""

    def get(path: str, token: str | None = None, **params: Any):
        headers = {
            "Authorization": f"Bearer {token or evotor_account.token}",
            "Accept": "application/vnd.evotor.v2+json",
        }
        return client.get(f"/sandbox/evotor{path}", params, headers=headers)

    return get


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Injected latency/timeouts are recorded instead of slept."""
    recorded: list[float] = []
    monkeypatch.setattr(faults, "sleep", recorded.append)
    yield recorded


# --- contract tests: the real clients over real HTTP --------------------------------------------


class NoSleep:
    """A client ``sleep`` that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


@pytest.fixture
def sandbox_url(live_server) -> str:
    return f"{live_server.url}/sandbox"


@pytest.fixture
def no_sleep() -> NoSleep:
    return NoSleep()


@pytest.fixture
def hanging_sandbox(monkeypatch: pytest.MonkeyPatch) -> float:
    """Timeout faults really hang (briefly): returns how long, for a client timeout below it."""
    monkeypatch.setattr(faults, "sleep", time.sleep)
    set_config(timeout_sleep=1.0)
    return 1.0
