"""VkIdClient: authorize URL with PKCE, code exchange, refresh, error mapping."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from apps.connections.clients import (
    AuthError,
    CaptchaError,
    PermanentError,
    ResponseFormatError,
    TransientError,
    VkIdClient,
    code_challenge,
    make_code_verifier,
    make_pkce_pair,
    make_state,
)

from .clients_support import NoSleep, fixed_rand, load_json

BASE = "https://id.vk.test"
TOKEN_URL = f"{BASE}/oauth2/auth"
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
REDIRECT = "https://evosync.example/connections/vk/callback"


def make_client(sleep: NoSleep | None = None) -> VkIdClient:
    return VkIdClient(
        "51234567",
        redirect_uri=REDIRECT,
        base_url=BASE,
        clock=lambda: NOW,
        sleep=sleep or NoSleep(),
        rand=fixed_rand,
        user_agent="EvoSync-test/1",
    )


def form(call: Any) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(call.request.body).items()}


@pytest.fixture
def http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


# --- PKCE and the authorize URL -----------------------------------------------------------------


def test_code_challenge_matches_the_rfc_7636_example() -> None:
    verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
    assert code_challenge(verifier) == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"


def test_pkce_pair_is_fresh_and_well_formed() -> None:
    first, second = make_pkce_pair(), make_pkce_pair()
    assert first.verifier != second.verifier
    assert re.fullmatch(r"[A-Za-z0-9_-]{43,128}", first.verifier)
    assert first.challenge == code_challenge(first.verifier)
    assert first.verifier not in repr(first)
    assert len(make_code_verifier()) >= 43
    assert make_state() != make_state()


def test_authorize_url_carries_state_challenge_and_space_separated_scopes() -> None:
    url = make_client().authorize_url(state="st-1", code_challenge="chal")
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{BASE}/authorize"
    assert "scope=market%20groups" in parts.query
    assert {k: v[0] for k, v in parse_qs(parts.query).items()} == {
        "response_type": "code",
        "client_id": "51234567",
        "redirect_uri": REDIRECT,
        "state": "st-1",
        "code_challenge": "chal",
        "code_challenge_method": "s256",
        "scope": "market groups",
    }


# --- exchange and refresh -----------------------------------------------------------------------


def test_exchange_code_posts_the_grant_and_returns_typed_tokens(
    http: responses.RequestsMock,
) -> None:
    http.post(TOKEN_URL, json=load_json("vkid_token.json"))
    client = make_client()

    tokens = client.exchange_code("code-1", code_verifier="ver-1", device_id="dev-1", state="st")

    assert form(http.calls[0]) == {
        "grant_type": "authorization_code",
        "code": "code-1",
        "code_verifier": "ver-1",
        "client_id": "51234567",
        "device_id": "dev-1",
        "redirect_uri": REDIRECT,
        "state": "st",
    }
    assert http.calls[0].request.headers["User-Agent"] == "EvoSync-test/1"
    assert http.calls[0].request.req_kwargs["timeout"] is not None
    assert tokens.access_token == "vk2.a.ACCESS-1" and tokens.refresh_token == "vk2.a.REFRESH-1"
    assert tokens.user_id == 1234567890
    assert tokens.expires_at == NOW + timedelta(hours=1)
    assert tokens.scope == ("market", "groups")
    assert "ACCESS-1" not in repr(tokens) and "REFRESH-1" not in repr(tokens)
    assert client.requests_made == 1


def test_refresh_rotates_both_tokens(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json=load_json("vkid_refresh.json"))

    tokens = make_client().refresh("vk2.a.REFRESH-1", device_id="dev-1", scopes=["market"])

    sent = form(http.calls[0])
    assert sent["grant_type"] == "refresh_token" and sent["refresh_token"] == "vk2.a.REFRESH-1"
    assert (sent["client_id"], sent["device_id"], sent["scope"]) == ("51234567", "dev-1", "market")
    assert sent["state"]  # generated when not given
    assert (tokens.access_token, tokens.refresh_token) == ("vk2.a.ACCESS-2", "vk2.a.REFRESH-2")


def test_refresh_reply_without_new_refresh_token_keeps_the_old_one(
    http: responses.RequestsMock,
) -> None:
    http.post(TOKEN_URL, json={"access_token": "a", "expires_in": 60, "user_id": "7"})
    tokens = make_client().refresh("old-refresh", device_id="dev-1")
    assert tokens.refresh_token == "old-refresh"
    assert tokens.expires_at == NOW + timedelta(seconds=60) and tokens.user_id == 7


# --- errors -------------------------------------------------------------------------------------


def test_invalid_grant_is_an_auth_error_without_the_refresh_token(
    http: responses.RequestsMock,
) -> None:
    body = dict(load_json("vkid_error_invalid_grant.json"))
    body["error_description"] = "Refresh token vk2.a.REFRESH-1 is expired"
    http.post(TOKEN_URL, status=400, json=body)
    with pytest.raises(AuthError) as caught:
        make_client().refresh("vk2.a.REFRESH-1", device_id="dev-1")
    assert caught.value.code == "invalid_grant" and caught.value.service == "vk_id"
    assert "REFRESH-1" not in str(caught.value)


def test_invalid_grant_fixture_with_http_200(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json=load_json("vkid_error_invalid_grant.json"))
    with pytest.raises(AuthError, match="Refresh token is expired"):
        make_client().refresh("vk2.a.REFRESH-OLD", device_id="dev-1")


@pytest.mark.parametrize(
    ("error", "error_class"),
    [
        ("invalid_client", PermanentError),
        ("invalid_request", PermanentError),
        ("server_error", TransientError),
        ("temporarily_unavailable", TransientError),
        ("access_denied", AuthError),
    ],
)
def test_oauth_error_codes_map_to_the_hierarchy(
    http: responses.RequestsMock, error: str, error_class: type[Exception]
) -> None:
    http.post(TOKEN_URL, status=400, json={"error": error})
    with pytest.raises(error_class):
        make_client().exchange_code("c", code_verifier="v", device_id="d")


@pytest.mark.parametrize("error", ["server_error", "temporarily_unavailable"])
def test_transient_oauth_errors_are_not_repeated(http: responses.RequestsMock, error: str) -> None:
    http.post(TOKEN_URL, status=503, json={"error": error})
    client = make_client()
    with pytest.raises(TransientError) as caught:
        client.refresh("vk2.a.REFRESH", device_id="d")
    assert not caught.value.retryable and client.requests_made == 1


def test_vk_style_error_envelope_is_understood(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json={"error": {"error_code": 14, "error_msg": "Captcha needed"}})
    with pytest.raises(CaptchaError):
        make_client().refresh("r", device_id="d")


def test_5xx_is_transient_and_not_repeated(http: responses.RequestsMock) -> None:
    # The code may already be spent on VK's side; a blind retry would fail with invalid_grant.
    http.post(TOKEN_URL, status=502)
    client = make_client()
    with pytest.raises(TransientError) as caught:
        client.exchange_code("c", code_verifier="v", device_id="d")
    assert not caught.value.retryable and client.requests_made == 1


def test_read_timeout_is_not_repeated(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, body=requests.exceptions.ReadTimeout())
    client = make_client()
    with pytest.raises(TransientError):
        client.refresh("r", device_id="d")
    assert client.requests_made == 1


def test_connect_timeout_is_repeated(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, body=requests.exceptions.ConnectTimeout())
    http.post(TOKEN_URL, json=load_json("vkid_refresh.json"))
    sleep = NoSleep()
    client = make_client(sleep)
    assert client.refresh("r", device_id="d").access_token == "vk2.a.ACCESS-2"
    assert client.requests_made == 2 and len(sleep.calls) == 1


def test_reply_without_access_token_is_a_format_error(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, json={"refresh_token": "r"})
    with pytest.raises(ResponseFormatError, match="access_token"):
        make_client().refresh("r", device_id="d")


def test_non_json_error_status_is_mapped(http: responses.RequestsMock) -> None:
    http.post(TOKEN_URL, status=401, body="Unauthorized")
    with pytest.raises(AuthError):
        make_client().refresh("r", device_id="d")


def test_constructor_requires_client_id_and_redirect() -> None:
    with pytest.raises(ValueError):
        VkIdClient("", redirect_uri=REDIRECT)
    with pytest.raises(ValueError):
        VkIdClient("1", redirect_uri="")


# --- revoke and logout --------------------------------------------------------------------------

REVOKE_URL = f"{BASE}/oauth2/revoke"
LOGOUT_URL = f"{BASE}/oauth2/logout"


@pytest.mark.parametrize(("name", "url"), [("revoke", REVOKE_URL), ("logout", LOGOUT_URL)])
def test_revoke_and_logout_post_client_id_and_the_token(
    http: responses.RequestsMock, name: str, url: str
) -> None:
    http.post(url, json={"response": 1})
    client = make_client()

    assert getattr(client, name)("vk2.a.ACCESS-1") is None

    assert form(http.calls[0]) == {"client_id": "51234567", "access_token": "vk2.a.ACCESS-1"}
    assert http.calls[0].request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert http.calls[0].request.req_kwargs["timeout"] is not None
    assert client.requests_made == 1


def test_revoking_an_unknown_token_is_an_auth_error_without_the_token(
    http: responses.RequestsMock,
) -> None:
    body = {"error": "invalid_token", "error_description": "vk2.a.ACCESS-1 is invalid"}
    http.post(REVOKE_URL, status=400, json=body)
    with pytest.raises(AuthError) as caught:
        make_client().revoke("vk2.a.ACCESS-1")
    assert caught.value.code == "invalid_token" and caught.value.method == "oauth2/revoke"
    assert "ACCESS-1" not in str(caught.value)


def test_revoke_with_a_bad_client_is_a_permanent_error(http: responses.RequestsMock) -> None:
    http.post(REVOKE_URL, status=400, json={"error": "invalid_client"})
    with pytest.raises(PermanentError):
        make_client().revoke("t")


def test_revoke_is_retried_after_a_5xx_because_repeating_it_is_harmless(
    http: responses.RequestsMock,
) -> None:
    http.post(REVOKE_URL, status=502)
    http.post(REVOKE_URL, json={"response": 1})
    sleep = NoSleep()
    client = make_client(sleep)
    client.revoke("t")
    assert client.requests_made == 2 and len(sleep.calls) == 1


def test_revoke_gives_up_after_the_attempts(http: responses.RequestsMock) -> None:
    http.post(LOGOUT_URL, status=503, json={"error": "temporarily_unavailable"})
    client = make_client()
    with pytest.raises(TransientError):
        client.logout("t")
    assert client.requests_made > 1


def test_revoke_after_a_read_timeout_is_retried(http: responses.RequestsMock) -> None:
    http.post(REVOKE_URL, body=requests.exceptions.ReadTimeout())
    http.post(REVOKE_URL, json={"response": 1})
    client = make_client()
    client.revoke("t")
    assert client.requests_made == 2


def test_revoke_reply_without_response_is_a_format_error(http: responses.RequestsMock) -> None:
    http.post(REVOKE_URL, json={"result": "ok"})
    with pytest.raises(ResponseFormatError):
        make_client().revoke("t")
