"""Contract: the real VkIdClient against the sandbox's VK ID over real HTTP (live_server).

The merchant's "Allow" click is played with a plain requests session (GET the consent page,
POST its CSRF-protected form), exactly as a browser would.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.utils import timezone

from apps.connections.clients import (
    AuthError,
    PermanentError,
    RateLimiterRegistry,
    TransientError,
    VkClient,
    VkIdClient,
    make_pkce_pair,
    make_state,
)
from apps.sandbox.models import VkIdRefreshToken, VkToken
from apps.sandbox.services.world import inject_fault, make_vk_community, make_vk_user

pytestmark = pytest.mark.e2e

CLIENT_ID = "51234567"
REDIRECT_URI = "http://127.0.0.1:8000/connections/vk/callback"


@pytest.fixture
def vk_user(db):
    user = make_vk_user(vk_id=1234567890)
    make_vk_community(group_id=218861756, manager=user)
    return user


@pytest.fixture
def vkid(sandbox_url, no_sleep):
    def build(**options) -> VkIdClient:
        options.setdefault("sleep", no_sleep)
        options.setdefault("timeout", 10.0)
        return VkIdClient(
            CLIENT_ID, redirect_uri=REDIRECT_URI, base_url=f"{sandbox_url}/vkid", **options
        )

    return build


def _allow(url: str, vk_user) -> dict[str, str]:
    """Open the consent page and press "Allow"; return the callback's query parameters."""
    browser = requests.Session()
    page = browser.get(url, timeout=10)
    assert page.status_code == 200 and "csrfmiddlewaretoken" in page.text
    form = {
        "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        "vk_user": str(vk_user.pk),
        "decision": "allow",
    }
    answer = browser.post(url, data=form, allow_redirects=False, timeout=10)
    assert answer.status_code == 302, answer.text[:500]
    location = urlsplit(answer.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return {key: values[0] for key, values in parse_qs(location.query).items()}


@pytest.fixture
def authorized(vkid, vk_user):
    """A completed authorize step: (client, pkce pair, callback parameters)."""
    client = vkid()
    pkce, state = make_pkce_pair(), make_state()
    callback = _allow(client.authorize_url(state=state, code_challenge=pkce.challenge), vk_user)
    assert callback["state"] == state
    return client, pkce, callback


def test_authorize_exchange_refresh(authorized, sandbox_url, vk_user):
    client, pkce, callback = authorized

    tokens = client.exchange_code(
        callback["code"],
        code_verifier=pkce.verifier,
        device_id=callback["device_id"],
        state=callback["state"],
    )

    assert tokens.user_id == 1234567890
    assert set(tokens.scope) == {"market", "groups"}
    assert timedelta(minutes=59) < tokens.expires_at - timezone.now() <= timedelta(hours=1)
    vk = VkClient(tokens.access_token, base_url=f"{sandbox_url}/vk", limiters=RateLimiterRegistry())
    assert [g.id for g in vk.get_admin_groups()] == [218861756]

    renewed = client.refresh(tokens.refresh_token, device_id=callback["device_id"])

    assert renewed.access_token != tokens.access_token
    assert renewed.refresh_token and renewed.refresh_token != tokens.refresh_token
    with pytest.raises(AuthError) as spent:
        client.refresh(tokens.refresh_token, device_id=callback["device_id"])
    assert spent.value.code == "invalid_grant"


def test_a_wrong_code_verifier_is_rejected(authorized):
    client, _pkce, callback = authorized

    with pytest.raises(AuthError) as caught:
        client.exchange_code(
            callback["code"],
            code_verifier=make_pkce_pair().verifier,
            device_id=callback["device_id"],
        )
    assert caught.value.code == "invalid_grant" and client.requests_made == 1


def test_a_code_is_good_for_one_exchange(authorized):
    client, pkce, callback = authorized
    client.exchange_code(
        callback["code"], code_verifier=pkce.verifier, device_id=callback["device_id"]
    )

    with pytest.raises(AuthError):
        client.exchange_code(
            callback["code"], code_verifier=pkce.verifier, device_id=callback["device_id"]
        )


def test_a_failing_token_endpoint_is_transient_and_not_repeated(authorized):
    client, pkce, callback = authorized
    inject_fault("vkid", "token", count=1, http_status=503)

    with pytest.raises(TransientError):
        client.exchange_code(
            callback["code"], code_verifier=pkce.verifier, device_id=callback["device_id"]
        )
    assert client.requests_made == 1


def test_an_access_token_past_its_hour_is_refused_by_the_api(authorized, sandbox_url):
    client, pkce, callback = authorized
    tokens = client.exchange_code(
        callback["code"], code_verifier=pkce.verifier, device_id=callback["device_id"]
    )
    VkToken.objects.filter(token=tokens.access_token).update(expires_at=timezone.now())
    vk = VkClient(tokens.access_token, base_url=f"{sandbox_url}/vk", limiters=RateLimiterRegistry())

    with pytest.raises(AuthError) as caught:
        vk.get_admin_groups()
    assert caught.value.code == 5 and "expired" in caught.value.message


def test_a_throttled_token_endpoint_is_retried(authorized):
    client, pkce, callback = authorized
    inject_fault("vkid", "token", count=1, http_status=429)

    tokens = client.exchange_code(
        callback["code"], code_verifier=pkce.verifier, device_id=callback["device_id"]
    )

    assert tokens.access_token and client.requests_made == 2


def test_a_malformed_exchange_is_a_permanent_error(authorized):
    client, pkce, callback = authorized

    with pytest.raises(PermanentError) as caught:
        client.exchange_code(callback["code"], code_verifier=pkce.verifier, device_id="")
    assert caught.value.code == "invalid_request"


@pytest.mark.parametrize("operation", ["revoke", "logout"])
def test_revoke_and_logout_end_the_whole_grant(authorized, sandbox_url, operation):
    client, pkce, callback = authorized
    device = callback["device_id"]
    first = client.exchange_code(callback["code"], code_verifier=pkce.verifier, device_id=device)
    second = client.refresh(first.refresh_token, device_id=device)

    getattr(client, operation)(second.access_token)
    getattr(client, operation)(second.access_token)  # repeating it is harmless

    assert VkToken.objects.get(token=second.access_token).is_revoked
    assert VkToken.objects.get(token=first.access_token).is_revoked
    assert not VkIdRefreshToken.objects.filter(is_revoked=False).exists()
    with pytest.raises(AuthError) as refused:
        client.refresh(second.refresh_token, device_id=device)
    assert refused.value.code == "invalid_grant"
    vk = VkClient(second.access_token, base_url=f"{sandbox_url}/vk", limiters=RateLimiterRegistry())
    with pytest.raises(AuthError) as api_refused:
        vk.get_admin_groups()
    assert api_refused.value.code == 5


def test_revoking_an_unknown_token_is_an_auth_error(vkid, db):
    with pytest.raises(AuthError) as caught:
        vkid().revoke("vk2.a.never-issued")
    assert caught.value.code == "invalid_token"


def test_a_token_of_another_application_is_not_revoked(authorized, vkid):
    client, pkce, callback = authorized
    tokens = client.exchange_code(
        callback["code"], code_verifier=pkce.verifier, device_id=callback["device_id"]
    )
    other = VkIdClient("99999", redirect_uri=REDIRECT_URI, base_url=client._base_url)

    with pytest.raises(PermanentError) as caught:
        other.revoke(tokens.access_token)
    assert caught.value.code == "invalid_client"
    assert not VkToken.objects.get(token=tokens.access_token).is_revoked


def test_a_failing_revoke_endpoint_is_retried(authorized):
    client, pkce, callback = authorized
    tokens = client.exchange_code(
        callback["code"], code_verifier=pkce.verifier, device_id=callback["device_id"]
    )
    inject_fault("vkid", "revoke", count=1, http_status=502)

    client.revoke(tokens.access_token)

    assert VkToken.objects.get(token=tokens.access_token).is_revoked
    assert client.requests_made == 3  # exchange, failed revoke, revoke
