"""/vk: VK ID sign-in (state + PKCE), a pasted token, choosing the community, Test, disconnect."""

from __future__ import annotations

import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from django import forms
from django.utils import timezone

from apps.connections.clients import code_challenge
from apps.connections.forms import community_ref
from apps.connections.models import ConnectionState, HealthCheckLog, VkConnection
from apps.connections.tests.conftest import (
    GROUP_ID,
    VK_REFRESH,
    VK_TOKEN,
    VKID_URL,
    form_of,
    group_json,
    make_vk_connection,
    vk_admin_groups,
    vk_groups,
    vk_reply,
    vkid_tokens,
)
from apps.connections.vk_link import SESSION_KEY

pytestmark = pytest.mark.django_db


def _errors(response, form: str, field: str) -> list[str]:
    return response.context[form].errors.get(field, [])


# --- pasted token -------------------------------------------------------------------------------


def test_a_pasted_token_is_checked_and_stored(page, merchant, api):
    vk_admin_groups(api, group_json())
    response = page.post("/vk/token", {"token": f" {VK_TOKEN} "})
    assert response["Location"] == "/vk"
    connection = VkConnection.objects.get(user=merchant)
    assert connection.connection_type == VkConnection.Type.MANUAL
    assert connection.access_token == VK_TOKEN and VK_TOKEN not in connection.access_token_encrypted
    assert connection.refresh_token == "" and connection.token_expires_at is None
    assert connection.state == ConnectionState.ONLINE and not connection.has_community
    assert form_of(api.calls[0])["access_token"] == VK_TOKEN


@pytest.mark.parametrize(
    "code,message",
    [
        (5, "VK did not accept this token."),
        (7, "This token lacks the rights EvoSync needs"),
    ],
)
def test_a_refused_token_is_a_field_error_and_nothing_is_saved(page, api, code, message):
    vk_reply(api, "groups.get", error=code)
    response = page.post("/vk/token", {"token": VK_TOKEN})
    assert response.status_code == 200
    assert _errors(response, "token_form", "token")[0].startswith(message)
    assert not VkConnection.objects.exists()
    assert VK_TOKEN not in response.content.decode()


# --- choosing the community ---------------------------------------------------------------------


@pytest.fixture
def without_community(merchant):
    return make_vk_connection(
        merchant, group_id=None, group_name="", group_screen_name="",
        connection_type=VkConnection.Type.MANUAL, refresh_token="", token_expires_at=None,
    )


def test_choosing_a_community_verifies_and_saves_it(page, without_community, api):
    vk_groups(api, group_json())
    response = page.post("/vk/community", {"community": "https://vk.com/coffee_lenina"})
    assert response["Location"] == "/vk"
    without_community.refresh_from_db()
    assert (without_community.group_id, without_community.group_name) == (
        GROUP_ID, "Кофейня у Ленина"
    )
    assert without_community.group_screen_name == "coffee_lenina"
    assert without_community.state == ConnectionState.ONLINE
    sent = form_of(api.calls[0])
    assert sent["group_id"] == "coffee_lenina" and "market" in sent["fields"]


COMMUNITY_FAILURES = {
    "missing": "There is no VK community with this id or address.",
    "not_manager": "You are not an administrator or editor of “Кофейня у Ленина”.",
    "market_off": "The market (“Товары”) is switched off in “Кофейня у Ленина”.",
}


@pytest.mark.parametrize("case", list(COMMUNITY_FAILURES))
def test_each_community_problem_has_its_own_message_and_saves_nothing(
    page, without_community, api, case
):
    if case == "missing":
        vk_reply(api, "groups.getById", error=100,
                 message="One of the parameters specified was missing or invalid: group_ids")
    elif case == "not_manager":
        vk_groups(api, group_json(admin_level=1))  # a moderator may not manage goods
    else:
        vk_groups(api, group_json(market=False))
    vk_admin_groups(api)
    response = page.post("/vk/community", {"community": str(GROUP_ID)})
    assert response.status_code == 200
    assert _errors(response, "community_form", "community")[0].startswith(
        COMMUNITY_FAILURES[case]
    )
    without_community.refresh_from_db()
    assert without_community.group_id is None and without_community.group_name == ""
    assert without_community.state == ConnectionState.ONLINE
    assert not HealthCheckLog.objects.exists()


def test_a_non_admin_without_admin_level_is_refused_too(page, without_community, api):
    vk_groups(api, group_json(admin_level=None) | {"is_admin": 0})
    vk_admin_groups(api)
    response = page.post("/vk/community", {"community": str(GROUP_ID)})
    assert _errors(response, "community_form", "community")[0].startswith(
        COMMUNITY_FAILURES["not_manager"]
    )


def test_a_token_refused_while_choosing_marks_the_connection_revoked(
    page, without_community, api
):
    vk_reply(api, "groups.getById", error=5)
    vk_reply(api, "groups.get", error=5)
    response = page.post("/vk/community", {"community": str(GROUP_ID)})
    assert "reconnect VK" in _errors(response, "community_form", "community")[0]
    without_community.refresh_from_db()
    assert without_community.state == ConnectionState.REVOKED
    assert without_community.group_id is None


@pytest.mark.parametrize(
    "typed,ref",
    [
        ("218861756", "218861756"),
        ("-218861756", "218861756"),
        ("club218861756", "club218861756"),
        ("@coffee_lenina", "coffee_lenina"),
        ("https://vk.com/coffee_lenina", "coffee_lenina"),
        ("vk.com/coffee_lenina/", "coffee_lenina"),
        ("https://m.vk.com/club218861756?w=wall", "club218861756"),
    ],
)
def test_community_refs_people_paste(typed, ref):
    assert community_ref(typed) == ref


@pytest.mark.parametrize("typed", ["https://evil.example/coffee", "кофейня", "a b", "x"])
def test_community_refs_that_cannot_be_vk(typed):
    with pytest.raises(forms.ValidationError):
        community_ref(typed)


def test_the_page_lists_only_communities_the_user_manages(page, without_community, api):
    vk_admin_groups(
        api,
        group_json(),
        group_json(100200300, name="Магазин футболок", admin_level=2, market=False),
        group_json(300400500, name="Чужая группа", admin_level=1),
    )
    html = page.get("/vk").content.decode()
    assert "Кофейня у Ленина" in html and "Магазин футболок" in html
    assert "Чужая группа" not in html
    assert VK_TOKEN not in html


def test_the_page_does_not_call_vk_once_a_community_is_chosen(page, vk_connection, api):
    html = page.get("/vk").content.decode()
    assert 'id="vk-state" data-state="online"' in html and "Кофейня у Ленина" in html
    assert len(api.calls) == 0


# --- VK ID --------------------------------------------------------------------------------------


def _start(page) -> dict[str, str]:
    response = page.post("/vk/connect")
    assert response.status_code == 302
    url = urlsplit(response["Location"])
    assert f"{url.scheme}://{url.netloc}{url.path}" == f"{VKID_URL}/authorize"
    return {key: values[0] for key, values in parse_qs(url.query).items()}


def test_connect_sends_the_merchant_to_vk_id_with_state_and_pkce(page, api):
    params = _start(page)
    flow = page.session[SESSION_KEY]
    assert params["response_type"] == "code"
    assert params["client_id"] == "evosync-test"
    assert params["redirect_uri"] == "http://testserver/vk/callback"
    assert params["state"] == flow["state"]
    assert params["code_challenge_method"] == "s256"
    assert params["code_challenge"] == code_challenge(flow["verifier"])
    assert params["scope"] == "market groups"
    assert flow["verifier"] not in page.post("/vk/connect")["Location"]


def test_the_callback_exchanges_the_code_and_stores_the_tokens(page, merchant, api):
    params = _start(page)
    verifier = page.session[SESSION_KEY]["verifier"]
    vkid_tokens(api, access="vk2.a.ACCESS-1", refresh="vk2.a.REFRESH-1")
    response = page.get(
        "/vk/callback", {"code": "code-1", "state": params["state"], "device_id": "dev-1"},
        follow=True,
    )
    assert response.redirect_chain == [("/vk", 302)]
    sent = form_of(api.calls[0])
    assert sent["grant_type"] == "authorization_code"
    assert (sent["code"], sent["code_verifier"], sent["device_id"]) == ("code-1", verifier, "dev-1")
    assert sent["redirect_uri"] == "http://testserver/vk/callback"
    connection = VkConnection.objects.get(user=merchant)
    assert connection.connection_type == VkConnection.Type.VK_ID
    assert connection.access_token == "vk2.a.ACCESS-1"
    assert connection.refresh_token == "vk2.a.REFRESH-1"
    assert "vk2.a" not in connection.access_token_encrypted + connection.refresh_token_encrypted
    assert connection.vk_user_id == 1234567890 and connection.device_id == "dev-1"
    expected = timezone.now() + timedelta(hours=1)
    assert abs((connection.token_expires_at - expected).total_seconds()) < 60
    assert SESSION_KEY not in page.session
    assert "Now choose the community" in response.content.decode()


def test_a_callback_with_someone_elses_state_is_refused(page, api):
    _start(page)
    response = page.get(
        "/vk/callback", {"code": "code-1", "state": "forged", "device_id": "dev-1"}, follow=True
    )
    assert "does not belong to a sign-in started here" in response.content.decode()
    assert len(api.calls) == 0 and not VkConnection.objects.exists()


def test_a_callback_cannot_be_replayed(page, api):
    params = _start(page)
    vkid_tokens(api, access="vk2.a.ACCESS-1", refresh="vk2.a.REFRESH-1")
    query = {"code": "code-1", "state": params["state"], "device_id": "dev-1"}
    page.get("/vk/callback", query)
    response = page.get("/vk/callback", query, follow=True)
    assert "does not belong to a sign-in started here" in response.content.decode()
    assert [c.request.url for c in api.calls if "oauth2" in c.request.url] == [
        f"{VKID_URL}/oauth2/auth"
    ]


def test_a_callback_without_a_started_flow_is_refused(page, api):
    response = page.get("/vk/callback", {"code": "c", "state": "", "device_id": "d"}, follow=True)
    assert "Please start again" in response.content.decode()
    assert not VkConnection.objects.exists()


def test_denied_access_is_explained(page, api):
    params = _start(page)
    response = page.get(
        "/vk/callback", {"error": "access_denied", "state": params["state"]}, follow=True
    )
    assert "Access was not allowed in VK ID" in response.content.decode()
    assert not VkConnection.objects.exists()


def test_a_refused_exchange_saves_nothing(page, api):
    params = _start(page)
    vkid_tokens(api, access="", refresh="", status=400, error="invalid_grant")
    response = page.get(
        "/vk/callback", {"code": "old", "state": params["state"], "device_id": "d"}, follow=True
    )
    assert "did not accept the sign-in" in response.content.decode()
    assert not VkConnection.objects.exists()


def test_an_old_flow_expires(page, api):
    params = _start(page)
    session = page.session
    session[SESSION_KEY] = {**session[SESSION_KEY], "started": 0}
    session.save()
    response = page.get(
        "/vk/callback", {"code": "c", "state": params["state"], "device_id": "d"}, follow=True
    )
    assert "took too long" in response.content.decode()
    assert len(api.calls) == 0


def test_reconnecting_as_the_same_vk_user_keeps_and_rechecks_the_community(
    page, vk_connection, api
):
    vk_connection.state = ConnectionState.REVOKED
    vk_connection.save()
    params = _start(page)
    vkid_tokens(api, access="vk2.a.ACCESS-NEW", refresh="vk2.a.REFRESH-NEW")
    vk_groups(api, group_json())
    page.get("/vk/callback", {"code": "c", "state": params["state"], "device_id": "d2"})
    vk_connection.refresh_from_db()
    assert vk_connection.group_id == GROUP_ID
    assert vk_connection.state == ConnectionState.ONLINE
    assert vk_connection.access_token == "vk2.a.ACCESS-NEW"
    assert form_of(api.calls[-1])["access_token"] == "vk2.a.ACCESS-NEW"


def test_reconnecting_as_another_vk_user_forgets_the_community(page, merchant, api):
    connection = make_vk_connection(merchant, vk_user_id=555)
    params = _start(page)
    vkid_tokens(api, access="vk2.a.ACCESS-NEW", refresh="vk2.a.REFRESH-NEW")
    page.get("/vk/callback", {"code": "c", "state": params["state"], "device_id": "d2"})
    connection.refresh_from_db()
    assert connection.vk_user_id == 1234567890
    assert connection.group_id is None and connection.group_name == ""


def test_vk_id_button_is_hidden_without_a_client_id(page, settings):
    settings.VK_ID_CLIENT_ID = ""
    assert "Connect with VK ID" not in page.get("/vk").content.decode()
    assert page.post("/vk/connect")["Location"] == "/vk"


# --- Test and disconnect ------------------------------------------------------------------------


def test_test_button_checks_the_community(page, vk_connection, api):
    vk_connection.state = ConnectionState.OFFLINE
    vk_connection.save()
    vk_groups(api, group_json(name="Кофейня (новое имя)"))
    response = page.post("/vk/test", {"next": "connections"})
    assert response["Location"] == "/connections"
    vk_connection.refresh_from_db()
    assert vk_connection.state == ConnectionState.ONLINE
    assert vk_connection.group_name == "Кофейня (новое имя)"


def test_test_button_with_market_switched_off_is_offline_with_the_reason(
    page, vk_connection, api
):
    vk_groups(api, group_json(market=False))
    page.post("/vk/test")
    vk_connection.refresh_from_db()
    assert vk_connection.state == ConnectionState.OFFLINE
    assert "market" in vk_connection.last_error


def test_error_5_on_a_pasted_token_revokes(page, merchant, api):
    connection = make_vk_connection(
        merchant, connection_type=VkConnection.Type.MANUAL, refresh_token="",
        token_expires_at=None,
    )
    vk_reply(api, "groups.getById", error=5, message="User authorization failed")
    page.post("/vk/test")
    connection.refresh_from_db()
    assert connection.state == ConnectionState.REVOKED
    assert "banner-vk-revoked" in page.get("/connections").content.decode()


def test_error_5_on_a_vk_id_token_tries_one_refresh_first(page, vk_connection, api):
    calls = iter([{"error": {"error_code": 5, "error_msg": "access_token has expired"}},
                  {"response": {"groups": [group_json()], "profiles": []}}])

    def reply(request):
        return 200, {}, json.dumps(next(calls))

    api.add_callback("POST", "https://vk.test/method/groups.getById", callback=reply)
    vkid_tokens(api, access="vk2.a.ACCESS-2", refresh="vk2.a.REFRESH-2")
    page.post("/vk/test")
    vk_connection.refresh_from_db()
    assert vk_connection.state == ConnectionState.ONLINE
    assert vk_connection.access_token == "vk2.a.ACCESS-2"
    assert form_of(api.calls[1])["refresh_token"] == VK_REFRESH
    assert form_of(api.calls[2])["access_token"] == "vk2.a.ACCESS-2"


def vkid_revoke(mock, *, status: int = 200, error: str = "") -> None:
    body = {"error": error, "error_description": error} if error else {"response": 1}
    mock.upsert(responses.POST, f"{VKID_URL}/oauth2/revoke", json=body, status=status)


def test_disconnect_asks_first_then_deletes(page, vk_connection, api):
    vkid_revoke(api)
    assert page.get("/vk/disconnect").status_code == 200
    assert VkConnection.objects.filter(pk=vk_connection.pk).exists()
    assert page.post("/vk/disconnect")["Location"] == "/connections"
    assert not VkConnection.objects.exists()


def test_disconnect_revokes_the_vk_id_grant(page, vk_connection, api):
    vkid_revoke(api)
    page.post("/vk/disconnect")
    revokes = [call for call in api.calls if call.request.url.endswith("/oauth2/revoke")]
    assert len(revokes) == 1
    assert form_of(revokes[0]) == {"client_id": "evosync-test", "access_token": VK_TOKEN}
    assert not VkConnection.objects.exists()


@pytest.mark.parametrize("status,error", [(500, ""), (400, "invalid_token"),
                                          (400, "invalid_client")])
def test_disconnect_forgets_the_tokens_when_the_revoke_fails(
    page, vk_connection, api, caplog, status, error
):
    vkid_revoke(api, status=status, error=error)
    assert page.post("/vk/disconnect")["Location"] == "/connections"
    assert not VkConnection.objects.exists()
    assert any("VK ID" in record.getMessage() for record in caplog.records)
    assert VK_TOKEN not in caplog.text


def test_disconnect_forgets_the_tokens_when_vk_id_is_unreachable(page, vk_connection, api):
    api.upsert(responses.POST, f"{VKID_URL}/oauth2/revoke",
               body=requests.ConnectionError("connection refused"))
    page.post("/vk/disconnect")
    assert not VkConnection.objects.exists()


def test_disconnecting_a_pasted_token_calls_no_vk_id(page, merchant, api):
    make_vk_connection(merchant, connection_type=VkConnection.Type.MANUAL, refresh_token="")
    page.post("/vk/disconnect")
    assert not api.calls
    assert not VkConnection.objects.exists()


def test_pages_that_need_a_connection_are_404_without_one(page):
    assert page.post("/vk/test").status_code == 404
    assert page.post("/vk/community", {"community": "1"}).status_code == 404
    assert page.get("/vk/disconnect").status_code == 404


def test_tokens_never_reach_the_page(page, vk_connection):
    html = page.get("/vk").content.decode() + page.get("/connections").content.decode()
    for secret in (VK_TOKEN, VK_REFRESH, vk_connection.access_token_encrypted):
        assert secret not in html


@pytest.mark.parametrize(
    "typed",
    ["[/", "http://[::1", "https://[vk.com/x", "0", "-0", "9" * 25, "١٢٣", "vk.com:99999/x"],
)
def test_community_refs_that_break_url_or_number_parsing_are_form_errors(
    page, without_community, api, typed
):
    response = page.post("/vk/community", {"community": typed})
    assert response.status_code == 200
    assert _errors(response, "community_form", "community")
    assert [c for c in api.calls if "groups.getById" in c.request.url] == []
    without_community.refresh_from_db()
    assert without_community.group_id is None


@pytest.mark.parametrize("token", ["токен", "vk1.a.abc def", "x" * 1001])
def test_a_pasted_vk_token_must_be_printable_ascii(page, api, token):
    response = page.post("/vk/token", {"token": token})
    assert response.status_code == 200
    assert _errors(response, "token_form", "token")
    assert len(api.calls) == 0 and not VkConnection.objects.exists()


@pytest.mark.parametrize(
    "device_id,code", [("d" * 256, "c"), ("устройство", "c"), ("d", "c" * 2049), ("d", "код")]
)
def test_a_callback_with_values_vk_id_never_sends_is_refused_before_the_exchange(
    page, api, device_id, code
):
    params = _start(page)
    response = page.get(
        "/vk/callback", {"code": code, "state": params["state"], "device_id": device_id},
        follow=True,
    )
    assert "cannot be used" in response.content.decode()
    assert len(api.calls) == 0 and not VkConnection.objects.exists()


def test_choosing_the_community_is_the_main_action_after_vk_id(page, without_community, api):
    vk_admin_groups(api, group_json())
    html = page.get("/vk").content.decode()
    listed = html[html.index('id="vk-communities"'):html.index('id="vk-connect"')]
    assert 'class="btn btn-sm btn-primary"' in listed  # «Choose» next to the community
    assert 'btn btn-outline-primary">Check and choose' in listed  # typing it is the alternative
    # Connecting again is a secondary way out, not a second big primary button.
    reconnect = html[html.index('id="vk-connect"'):]
    assert "btn-primary" not in reconnect and "btn-sm btn-outline-secondary" in reconnect
    assert ">VK account</dt>" in html
