"""Every connect, replace and disconnect is on the audit log; token values never are."""

from __future__ import annotations

import json
import time

import pytest
import responses

from apps.accounts.models import AuditEntry
from apps.connections import evotor_accounts, services, vk_link
from apps.connections.models import ConnectionState, EvotorConnection
from apps.connections.tests.conftest import (
    CLOUD_TOKEN,
    EVOTOR_USER,
    GROUP_ID,
    VK_REFRESH,
    VK_TOKEN,
    VKID_URL,
    evotor_stores,
    group_json,
    make_vk_connection,
    store_json,
    vk_admin_groups,
    vk_groups,
    vkid_tokens,
)

pytestmark = pytest.mark.django_db

NEW_CLOUD = "1f0e9d8c-7b6a-4543-a210-fedcba987654"
SECRETS = (CLOUD_TOKEN, NEW_CLOUD, VK_TOKEN, VK_REFRESH, "vk2.a.NEW-ACCESS", "vk2.a.NEW-REFRESH")


def _entries() -> list[AuditEntry]:
    return list(AuditEntry.objects.order_by("id"))


def _changes(entry: AuditEntry) -> dict[str, tuple]:
    return {change["field"]: (change["old"], change["new"]) for change in entry.changes}


@pytest.fixture(autouse=True)
def no_secret_is_ever_written():
    yield
    dumped = json.dumps(list(AuditEntry.objects.values()), default=str)
    for secret in SECRETS:
        assert secret not in dumped


# --- Evotor ---------------------------------------------------------------------------------------


def test_pasting_an_evotor_token_is_recorded_as_the_merchant_on_the_page(page, merchant, api):
    evotor_stores(api, store_json())
    page.post("/evotor", {"token": CLOUD_TOKEN})
    [entry] = _entries()
    assert entry.action == "evotor.connected"
    assert (entry.subject, entry.actor, entry.actor_kind, entry.source) == (
        merchant, merchant, AuditEntry.ActorKind.MERCHANT, AuditEntry.Source.PAGE)
    assert entry.object_type == "connections.EvotorConnection"
    changes = _changes(entry)
    assert changes["cloud_token"] == ("", "replaced")
    assert changes["evotor_user_id"] == (None, EVOTOR_USER)
    assert changes["user"] == (None, merchant.email)


def test_pasting_another_token_is_a_replacement(page, merchant, api, evotor_connection):
    evotor_stores(api, store_json())
    page.post("/evotor", {"token": NEW_CLOUD})
    [entry] = _entries()
    assert entry.action == "evotor.replaced"
    assert _changes(entry) == {"cloud_token": ("replaced", "replaced")}


def test_evotor_sending_the_token_is_recorded_as_evotor_by_webhook(merchant, evotor_connection):
    services.store_evotor_cloud_token(EVOTOR_USER, NEW_CLOUD)
    [entry] = _entries()
    assert entry.action == "evotor.replaced"
    assert (entry.subject, entry.actor, entry.actor_kind, entry.source, entry.path) == (
        merchant, None, AuditEntry.ActorKind.EVOTOR, AuditEntry.Source.WEBHOOK,
        "/api/v1/user/token")
    assert _changes(entry)["cloud_token"] == ("replaced", "replaced")


def test_a_redelivered_token_records_nothing(merchant, evotor_connection):
    services.store_evotor_cloud_token(EVOTOR_USER, CLOUD_TOKEN)
    assert not _entries()


def test_a_token_before_any_link_is_recorded_without_a_merchant(db):
    services.store_evotor_cloud_token(EVOTOR_USER, CLOUD_TOKEN)
    [entry] = _entries()
    assert entry.action == "evotor.connected" and entry.subject is None


def test_linking_through_user_verify_is_recorded(merchant, password):
    services.link_evotor_account(EVOTOR_USER, merchant.email, password)
    [entry] = _entries()
    assert entry.action == "evotor.linked" and entry.subject == merchant
    assert entry.actor_kind == AuditEntry.ActorKind.EVOTOR
    assert _changes(entry)["user"] == ("", merchant.email)


def test_an_account_made_by_user_create_is_recorded(db):
    evotor_accounts.create_account_for_evotor(
        EVOTOR_USER, evotor_accounts.NewAccount("new@example.com", "Ольга"))
    created, linked = _entries()
    assert created.action == "account.created" and created.subject_email == "new@example.com"
    assert linked.action == "evotor.linked"
    assert {created.actor_kind, linked.actor_kind} == {AuditEntry.ActorKind.EVOTOR}


def test_uninstalling_the_app_is_recorded(merchant, evotor_connection):
    services.record_installation_event("ev-1", "ApplicationUninstalled", EVOTOR_USER, {})
    [entry] = _entries()
    assert entry.action == "evotor.uninstalled"
    assert _changes(entry) == {"state": (ConnectionState.ONLINE, ConnectionState.REVOKED)}


def test_disconnecting_evotor_is_recorded(page, merchant, evotor_connection):
    page.post("/evotor/disconnect")
    assert not EvotorConnection.objects.exists()
    [entry] = _entries()
    assert entry.action == "evotor.disconnected" and entry.actor == merchant
    assert _changes(entry)["cloud_token"] == ("replaced", "")


# --- VK -------------------------------------------------------------------------------------------


def test_pasting_a_vk_token_is_recorded(page, merchant, api):
    vk_admin_groups(api, group_json())
    page.post("/vk/token", {"token": VK_TOKEN})
    [entry] = _entries()
    assert entry.action == "vk.connected" and entry.actor == merchant
    assert _changes(entry)["access_token"] == ("", "replaced")
    assert "refresh_token" not in _changes(entry)


def test_connecting_with_vk_id_replaces_the_tokens(merchant, api):
    make_vk_connection(merchant, group_id=None)
    vkid_tokens(api, access="vk2.a.NEW-ACCESS", refresh="vk2.a.NEW-REFRESH")
    session = {vk_link.SESSION_KEY: {"state": "s" * 32, "verifier": "v" * 64,
                                     "started": time.time()}}
    vk_link.finish_vk_id(merchant, session, {"state": "s" * 32, "code": "c", "device_id": "d"})
    [entry] = _entries()
    assert entry.action == "vk.replaced" and entry.path == "/vk/callback"
    changes = _changes(entry)
    assert changes["access_token"] == ("replaced", "replaced")
    assert changes["refresh_token"] == ("replaced", "replaced")


def test_choosing_another_community_is_recorded(page, merchant, api):
    make_vk_connection(merchant, group_id=1, group_name="Старое")
    vk_groups(api, group_json())
    page.post("/vk/community", {"community": str(GROUP_ID)})
    [entry] = _entries()
    assert entry.action == "vk.community_changed"
    assert _changes(entry) == {"group_id": (1, GROUP_ID),
                               "group_name": ("Старое", "Кофейня у Ленина")}


def test_choosing_the_same_community_again_records_nothing(page, vk_connection, api):
    vk_groups(api, group_json())
    page.post("/vk/community", {"community": str(GROUP_ID)})
    assert not _entries()


def test_disconnecting_vk_is_recorded(page, merchant, vk_connection, api):
    api.upsert(responses.POST, f"{VKID_URL}/oauth2/revoke", json={"response": 1})
    page.post("/vk/disconnect")
    [entry] = _entries()
    assert entry.action == "vk.disconnected" and entry.subject == merchant
    changes = _changes(entry)
    assert changes["access_token"] == ("replaced", "")
    assert changes["group_id"] == (GROUP_ID, None)
