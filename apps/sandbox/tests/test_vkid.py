"""VK ID: consent page, code exchange with PKCE S256, rotating refresh
(docs/vk.md#tokens-and-vk-id)."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from apps.sandbox.models import VkIdAuthCode, VkToken
from apps.sandbox.services.world import make_vk_token, make_vk_user

REDIRECT = "http://127.0.0.1:8000/vk/callback"
CLIENT_ID = "51234567"


def _challenge(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


@pytest.fixture
def verifier() -> str:
    return secrets.token_urlsafe(64)


@pytest.fixture
def authorize_url(verifier):
    def build(**overrides: str) -> str:
        params = {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT,
            "state": "st-" + "x" * 40,
            "code_challenge": _challenge(verifier),
            "code_challenge_method": "s256",
            "scope": "market groups",
            **overrides,
        }
        return "/sandbox/vkid/authorize?" + urlencode(params)

    return build


@pytest.fixture
def vk_user(db):
    return make_vk_user(vk_id=1234567890)


@pytest.fixture
def callback(client, authorize_url, vk_user):
    """Press "Allow" and return the callback's query parameters."""

    def allow(**overrides: str) -> dict[str, str]:
        response = client.post(
            authorize_url(**overrides), {"vk_user": vk_user.pk, "decision": "allow"}
        )
        assert response.status_code == 302
        location = urlsplit(response["Location"])
        assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
        return {k: v[0] for k, v in parse_qs(location.query).items()}

    return allow


def _exchange(client: Client, params: dict[str, str], verifier: str, **overrides: str):
    form = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "code_verifier": verifier,
        "client_id": CLIENT_ID,
        "device_id": params["device_id"],
        "redirect_uri": REDIRECT,
        "state": params["state"],
        **overrides,
    }
    return client.post("/sandbox/vkid/oauth2/auth", form)


def _refresh(client: Client, refresh_token: str, device_id: str, **overrides: str):
    form = {
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
        "client_id": CLIENT_ID,
        "device_id": device_id,
        "state": "st-2",
        **overrides,
    }
    return client.post("/sandbox/vkid/oauth2/auth", form)


def test_the_consent_page_is_a_real_page_with_a_csrf_protected_form(client, authorize_url, vk_user):
    response = client.get(authorize_url())

    assert response.status_code == 200
    page = response.content.decode()
    assert "csrfmiddlewaretoken" in page and 'value="allow"' in page and "market" in page
    strict = Client(enforce_csrf_checks=True)
    assert strict.post(authorize_url(), {"decision": "allow"}).status_code == 403


def test_allow_redirects_with_code_state_and_device_id(callback):
    params = callback()

    assert {"code", "state", "device_id", "expires_in", "type"} <= set(params)
    assert params["state"] == "st-" + "x" * 40


def test_deny_redirects_with_access_denied(client, authorize_url, vk_user):
    response = client.post(authorize_url(), {"decision": "deny"})

    query = parse_qs(urlsplit(response["Location"]).query)
    assert query["error"] == ["access_denied"]
    assert query["state"] == ["st-" + "x" * 40]


def test_allow_without_a_chosen_user_creates_one(client, authorize_url, db):
    response = client.post(authorize_url(), {"vk_user": "", "decision": "allow"})

    assert response.status_code == 302
    assert VkIdAuthCode.objects.get().user.first_name == "Демо"


def test_exchange_gives_an_hour_long_access_token_that_works_on_the_api(
    client, callback, verifier, vk_user
):
    response = _exchange(client, callback(), verifier)

    assert response.status_code == 200
    body = response.json()
    assert {
        "access_token",
        "refresh_token",
        "id_token",
        "token_type",
        "expires_in",
        "user_id",
        "state",
        "scope",
    } <= set(body)
    assert (body["expires_in"], body["user_id"], body["scope"]) == (
        3600,
        1234567890,
        "market groups",
    )
    token = VkToken.objects.get(token=body["access_token"])
    assert token.user == vk_user and token.has_scope("market")
    assert timedelta(minutes=59) < token.expires_at - timezone.now() <= timedelta(hours=1)
    api = client.post(
        "/sandbox/vk/method/groups.get", {"v": "5.199", "access_token": body["access_token"]}
    )
    assert api.json()["response"] == {"count": 0, "items": []}


def test_a_wrong_code_verifier_is_rejected(client, callback, verifier):
    response = _exchange(client, callback(), verifier="x" * 64)

    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"
    assert "verifier" in response.json()["error_description"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"device_id": "another-device"},
        {"redirect_uri": "http://evil.example/cb"},
        {"client_id": "999"},
    ],
)
def test_the_exchange_must_repeat_device_client_and_redirect(client, callback, verifier, overrides):
    response = _exchange(client, callback(), verifier, **overrides)

    assert response.json()["error"] == "invalid_grant"


def test_a_code_works_once(client, callback, verifier):
    params = callback()
    assert _exchange(client, params, verifier).status_code == 200

    again = _exchange(client, params, verifier)

    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_an_expired_code_is_rejected(client, callback, verifier):
    params = callback()
    VkIdAuthCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))

    assert _exchange(client, params, verifier).json()["error"] == "invalid_grant"


def test_refresh_rotates_both_tokens_and_spends_the_old_refresh_token(client, callback, verifier):
    params = callback()
    first = _exchange(client, params, verifier).json()

    refreshed = _refresh(client, first["refresh_token"], params["device_id"])

    assert refreshed.status_code == 200
    body = refreshed.json()
    assert body["access_token"] != first["access_token"]
    assert body["refresh_token"] != first["refresh_token"]
    assert (body["expires_in"], body["state"]) == (3600, "st-2")
    again = _refresh(client, first["refresh_token"], params["device_id"])
    assert again.status_code == 400
    assert again.json() == {
        "error": "invalid_grant",
        "error_description": "Refresh token is expired",
        "state": "st-2",
    }


def test_refresh_from_another_device_or_with_wider_scope_is_refused(client, callback, verifier):
    params = callback()
    tokens = _exchange(client, params, verifier).json()

    assert (
        _refresh(client, tokens["refresh_token"], "other-device").json()["error"] == "invalid_grant"
    )
    wider = _refresh(
        client, tokens["refresh_token"], params["device_id"], scope="market groups wall"
    )
    assert wider.json()["error"] == "invalid_scope"


def test_an_expired_access_token_gets_vk_error_5(client, callback, verifier):
    tokens = _exchange(client, callback(), verifier).json()
    VkToken.objects.filter(token=tokens["access_token"]).update(expires_at=timezone.now())

    body = client.post(
        "/sandbox/vk/method/groups.get", {"v": "5.199", "access_token": tokens["access_token"]}
    ).json()

    assert body["error"]["error_msg"] == "User authorization failed: access_token has expired."


def test_the_token_endpoint_takes_form_bodies_only(client, callback, verifier):
    params = callback()
    payload = {
        "grant_type": "authorization_code",
        "code": params["code"],
        "code_verifier": verifier,
    }

    response = client.post(
        "/sandbox/vkid/oauth2/auth", json.dumps(payload), content_type="application/json"
    )

    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_an_unknown_grant_type_is_refused(client, db):
    response = client.post("/sandbox/vkid/oauth2/auth", {"grant_type": "password"})

    assert response.json()["error"] == "unsupported_grant_type"


def test_a_bad_redirect_uri_is_shown_not_followed(client, authorize_url):
    response = client.get(authorize_url(redirect_uri="javascript:alert(1)"))

    assert response.status_code == 400
    assert "redirect_uri" in response.content.decode()


@pytest.mark.parametrize(
    "overrides, error",
    [
        ({"code_challenge": "short"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"state": ""}, "invalid_request"),
    ],
)
def test_a_bad_authorize_request_is_sent_back_to_the_client(
    client, authorize_url, overrides, error
):
    response = client.get(authorize_url(**overrides))

    assert response.status_code == 302
    assert parse_qs(urlsplit(response["Location"]).query)["error"] == [error]


# --- revoke / logout ----------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/sandbox/vkid/oauth2/revoke", "/sandbox/vkid/oauth2/logout"])
def test_revoke_needs_client_id_and_access_token(client: Client, db, path: str):
    response = client.post(path, {"client_id": "51234567"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"


def test_revoking_a_pasted_token_revokes_just_that_token(client: Client, db):
    user = make_vk_user()
    pasted, other = make_vk_token(user=user), make_vk_token(user=user)

    response = client.post(
        "/sandbox/vkid/oauth2/revoke", {"client_id": "51234567", "access_token": pasted.token}
    )

    assert response.json() == {"response": 1}
    assert VkToken.objects.get(pk=pasted.pk).is_revoked
    assert not VkToken.objects.get(pk=other.pk).is_revoked
