"""Fixtures for the connection pages and services: fake providers behind `responses`, fast clients.

Provider HTTP is mocked only at the client boundary (``responses``); the end-to-end tests in
test_e2e_sandbox.py use the sandbox over real HTTP instead.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl

import pytest
import responses
from django.utils import timezone

from apps.connections import providers
from apps.connections.clients import NO_RETRY
from apps.connections.models import ConnectionState, EvotorConnection, VkConnection

EVOTOR_URL = "https://evotor.test"
VK_URL = "https://vk.test"
VKID_URL = "https://vkid.test"
EVOTOR_USER = "01-000000000000042"
CLOUD_TOKEN = "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6f"
VK_TOKEN = "vk1.a.ACCESS-secret-user-token-0001"
VK_REFRESH = "vk2.a.REFRESH-secret-token-0001"
GROUP_ID = 218861756


@pytest.fixture(autouse=True)
def fast_clients(monkeypatch):
    """Clients built by providers never retry, back off or pace: failures surface at once."""
    original = providers._options

    def fast(base_url: str, interactive: bool, overrides: dict[str, Any]) -> dict[str, Any]:
        return {**original(base_url, interactive, overrides), "retry": NO_RETRY,
                "sleep": lambda seconds: None}

    monkeypatch.setattr(providers, "_options", fast)


@pytest.fixture
def page(client, merchant):
    """The merchant, signed in, reading English (new strings have no Russian yet, and tests
    must not depend on translations)."""
    merchant.language = "en"
    merchant.save(update_fields=["language"])
    client.force_login(merchant)
    return client


@pytest.fixture
def api(settings):
    """Evotor, VK and VK ID behind one RequestsMock."""
    settings.EVOTOR_API_URL = EVOTOR_URL
    settings.VK_API_URL = VK_URL
    settings.VK_ID_URL = VKID_URL
    settings.VK_ID_CLIENT_ID = "evosync-test"
    settings.VK_ID_REDIRECT_URI = "http://testserver/vk/callback"
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def store_json(user_id: str | None = EVOTOR_USER, n: int = 1) -> dict[str, Any]:
    return {
        "id": f"20190315-7A1B-40C2-8095-3D6E11A0B7C{n}",
        "name": f"Магазин №{n}",
        "user_id": user_id,
        "created_at": "2019-03-15T09:12:44.120+0000",
        "updated_at": "2023-11-02T17:40:03.006+0000",
    }


def evotor_stores(mock, *stores: dict, status: int = 200) -> None:
    body: dict[str, Any] = {"items": list(stores), "paging": {}}
    if status >= 400:
        body = {"code": "unauthorized", "message": "Authorization token is invalid"}
    mock.upsert(responses.GET, f"{EVOTOR_URL}/stores", json=body, status=status)


def group_json(
    group_id: int = GROUP_ID,
    *,
    name: str = "Кофейня у Ленина",
    admin_level: int | None = 3,
    market: bool = True,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": group_id, "name": name, "screen_name": "coffee_lenina", "is_closed": 0,
        "type": "group", "is_admin": int(bool(admin_level)),
        "market": {"enabled": int(market), "type": "basic" if market else "none"},
    }
    if admin_level is not None:
        body["admin_level"] = admin_level
    return body


def vk_reply(mock, method: str, *, response: Any = None, error: int | None = None,
             message: str = "") -> None:
    body = {"response": response}
    if error is not None:
        body = {"error": {"error_code": error, "error_msg": message or f"error {error}"}}
    mock.upsert(responses.POST, f"{VK_URL}/method/{method}", json=body)


def vk_groups(mock, *groups: dict) -> None:
    vk_reply(mock, "groups.getById", response={"groups": list(groups), "profiles": []})


def vk_admin_groups(mock, *groups: dict) -> None:
    vk_reply(mock, "groups.get", response={"count": len(groups), "items": list(groups)})


def vkid_tokens(mock, *, access: str, refresh: str, status: int = 200, error: str = "") -> None:
    body: dict[str, Any] = {
        "access_token": access, "refresh_token": refresh, "expires_in": 3600,
        "user_id": 1234567890, "token_type": "Bearer", "scope": "market groups",
    }
    if error:
        body = {"error": error, "error_description": "Refresh token is expired"}
    mock.upsert(responses.POST, f"{VKID_URL}/oauth2/auth", json=body, status=status)


def form_of(call) -> dict[str, str]:
    """The form fields a client POSTed (VK and VK ID take form-encoded bodies only)."""
    body = call.request.body
    if isinstance(body, bytes):
        body = body.decode()
    return dict(parse_qsl(body or ""))


@pytest.fixture
def evotor_connection(merchant) -> EvotorConnection:
    connection = EvotorConnection(
        user=merchant, evotor_user_id=EVOTOR_USER, state=ConnectionState.ONLINE,
        connection_type=EvotorConnection.Type.MANUAL,
    )
    connection.cloud_token = CLOUD_TOKEN
    connection.save()
    return connection


def make_vk_connection(user, **fields) -> VkConnection:
    tokens = {"access_token": fields.pop("access_token", VK_TOKEN),
              "refresh_token": fields.pop("refresh_token", VK_REFRESH)}
    fields = {
        "state": ConnectionState.ONLINE,
        "connection_type": VkConnection.Type.VK_ID,
        "token_expires_at": timezone.now() + timedelta(hours=1),
        "device_id": "device-1",
        "vk_user_id": 1234567890,
        "group_id": GROUP_ID,
        "group_name": "Кофейня у Ленина",
        "group_screen_name": "coffee_lenina",
        **fields,
    }
    connection = VkConnection(user=user, **fields)
    connection.access_token = tokens["access_token"]
    connection.refresh_token = tokens["refresh_token"]
    connection.save()
    return connection


@pytest.fixture
def vk_connection(merchant) -> VkConnection:
    return make_vk_connection(merchant)
