"""End to end over real HTTP: a live EvoSync server, the sandbox standing in for Evotor, VK and
VK ID, and a browser (a requests session with cookies and CSRF tokens, like a real one).

Clients built by providers never retry or sleep here (conftest.fast_clients), and the sandbox's
VK rate limit is lifted, so the module stays fast without hiding failures.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import urlsplit

import pytest
import requests
from django.core import mail
from django.utils import timezone

from apps.catalog.models import Store
from apps.connections import tasks
from apps.connections.models import ConnectionState, EvotorConnection, HealthCheckLog, VkConnection
from apps.sandbox.models import EvotorAccount, VkIdRefreshToken, VkToken
from apps.sandbox.services import faults, outbound
from apps.sandbox.services.world import (
    make_evotor_account,
    make_store,
    make_vk_community,
    make_vk_user,
    make_vk_world,
    set_config,
)
from conftest import PASSWORD

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

NO_WAIT = outbound.Delivery(attempts=1, sleep=lambda seconds: None, timeout=10.0)


class Browser:
    """A merchant's browser against the live server: cookies, CSRF tokens, no JavaScript."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.session = requests.Session()

    def url(self, path: str) -> str:
        return path if path.startswith("http") else f"{self.base_url}{path}"

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.session.get(self.url(path), timeout=15, **kwargs)

    def post(self, path: str, data: dict | None = None, **kwargs) -> requests.Response:
        if "csrftoken" not in self.session.cookies:
            self.get("/login")
        form = {"csrfmiddlewaretoken": self.session.cookies["csrftoken"], **(data or {})}
        return self.session.post(self.url(path), data=form, timeout=15, **kwargs)

    def login(self, email: str, password: str) -> None:
        response = self.post("/login", {"username": email, "password": password})
        assert response.url.endswith("/connections"), response.url


@pytest.fixture
def world(live_server, settings):
    """EvoSync pointed at the sandbox on the live server, as in development."""
    base = live_server.url
    settings.EVOTOR_API_URL = f"{base}/sandbox/evotor"
    settings.VK_API_URL = f"{base}/sandbox/vk"
    settings.VK_ID_URL = f"{base}/sandbox/vkid"
    settings.VK_ID_CLIENT_ID = "evosync-sandbox"
    settings.VK_ID_REDIRECT_URI = f"{base}/vk/callback"
    settings.SITE_URL = base
    set_config(vk_user_rate=1000, vk_group_rate=1000)
    return base


@pytest.fixture
def browser(world, merchant) -> Browser:
    merchant.language = "en"
    merchant.save(update_fields=["language"])
    browser = Browser(world)
    browser.login(merchant.email, PASSWORD)
    return browser


def _state(html: str, service: str) -> str:
    match = re.search(rf'id="{service}-state" data-state="(\w+)"', html)
    assert match, f"no {service} state badge"
    return match.group(1)


def _sandbox_secrets() -> list[str]:
    return [
        *VkToken.objects.values_list("token", flat=True),
        *VkIdRefreshToken.objects.values_list("token", flat=True),
        *EvotorAccount.objects.values_list("token", flat=True),
    ]


# --- Evotor: install the app, link the account, Test ---------------------------------------------


def test_evotor_app_install_then_link_then_test_shows_online(world, browser, merchant, settings):
    account = make_evotor_account()
    make_store(account, name="Магазин на Ленина")
    set_config(
        evotor_token_url=f"{world}/api/v1/user/token",
        evotor_server_token=settings.EVOTOR_WEBHOOK_TOKEN,
    )
    # The merchant installs the EvoSync app in Evotor: Evotor sends us the cloud token.
    assert outbound.install_app(account, delivery=NO_WAIT).status_code == 200
    unclaimed = EvotorConnection.objects.get(evotor_user_id=account.user_id)
    assert unclaimed.user is None and unclaimed.cloud_token == account.token

    # Evotor's linking form: the merchant types their EvoSync email and password.
    linked = requests.post(
        f"{world}/api/v1/user/verify",
        json={"userId": account.user_id, "username": merchant.email, "password": PASSWORD},
        headers={"Authorization": f"Bearer {settings.EVOTOR_WEBHOOK_TOKEN}"},
        timeout=15,
    )
    assert linked.status_code == 200 and linked.json()["userId"] == account.user_id
    # The first catalog refresh ran right after linking, from the sandbox's Evotor.
    assert list(Store.objects.filter(user=merchant).values_list("name", flat=True)) == [
        "Магазин на Ленина"
    ]

    EvotorConnection.objects.filter(pk=unclaimed.pk).update(
        state=ConnectionState.OFFLINE, last_checked_at=None
    )
    page = browser.post("/evotor/test", {"next": "connections"})
    assert page.url == f"{world}/connections"
    assert _state(page.text, "evotor") == "online"
    assert "Evotor answered: the connection works." in page.text
    assert account.user_id in page.text
    connection = EvotorConnection.objects.get(user=merchant)
    assert connection.last_checked_at is not None
    for secret in _sandbox_secrets():
        assert secret not in page.text


def test_a_pasted_evotor_token_is_checked_against_the_sandbox(world, browser, merchant):
    account = make_evotor_account()
    make_store(account)
    refused = browser.post("/evotor", {"token": "not-a-real-token"})
    assert "Evotor did not accept this token." in refused.text
    assert not EvotorConnection.objects.exists()
    page = browser.post("/evotor", {"token": account.token})
    assert _state(page.text, "evotor") == "online"
    assert EvotorConnection.objects.get(user=merchant).evotor_user_id == account.user_id
    assert account.token not in page.text


# --- VK ID: authorize, allow, callback, community ------------------------------------------------


def _connect_with_vk_id(browser: Browser, world: str, vk_user) -> requests.Response:
    """Press "Connect with VK ID", "Allow" on the sandbox's consent page, and come back."""
    leave = browser.post("/vk/connect", allow_redirects=False)
    assert leave.status_code == 302
    authorize = leave.headers["Location"]
    assert authorize.startswith(f"{world}/sandbox/vkid/authorize?")
    consent = browser.get(authorize)
    assert consent.status_code == 200 and 'value="allow"' in consent.text
    allowed = browser.post(
        authorize, {"vk_user": str(vk_user.pk), "decision": "allow"}, allow_redirects=False
    )
    assert allowed.status_code == 302
    callback = allowed.headers["Location"]
    assert urlsplit(callback).path == "/vk/callback"
    return browser.get(callback)


def test_vk_id_flow_ends_with_the_chosen_community_online(world, browser, merchant, caplog):
    caplog.set_level(logging.DEBUG)
    vk_user = make_vk_user()
    group = make_vk_community(name="Кофейня у Ленина", manager=vk_user)
    make_vk_community(name="Чужое сообщество")  # exists, but this user does not manage it

    page = _connect_with_vk_id(browser, world, vk_user)
    assert page.url == f"{world}/vk"
    assert "VK is connected. Now choose the community to publish to." in page.text
    assert "Кофейня у Ленина" in page.text and "Чужое сообщество" not in page.text
    connection = VkConnection.objects.get(user=merchant)
    assert connection.connection_type == VkConnection.Type.VK_ID
    assert connection.vk_user_id == vk_user.vk_id and connection.device_id
    assert connection.refresh_token and connection.token_expires_at > timezone.now()

    chosen = browser.post("/vk/community", {"community": str(group.vk_id)})
    assert "EvoSync will publish to “Кофейня у Ленина”." in chosen.text
    overview = browser.get("/connections")
    assert _state(overview.text, "vk") == "online"
    assert "Кофейня у Ленина" in overview.text and 'id="next-pick-community"' not in overview.text

    secrets = _sandbox_secrets()
    assert secrets
    logged = caplog.text + "".join(record.getMessage() for record in caplog.records)
    for secret in secrets:
        assert secret not in page.text + chosen.text + overview.text
        assert secret not in logged


def test_a_community_check_failure_is_explained_over_http(world, browser, merchant):
    world_vk = make_vk_world(market_enabled=False, name="Без товаров")
    page = browser.post("/vk/token", {"token": world_vk.access_token})
    assert "VK is connected." in page.text
    refused = browser.post("/vk/community", {"community": f"club{world_vk.group_id}"})
    assert "The market (“Товары”) is switched off in “Без товаров”." in refused.text
    missing = browser.post("/vk/community", {"community": "club1"})
    assert "There is no VK community with this id or address." in missing.text
    assert VkConnection.objects.get(user=merchant).group_id is None


# --- health: refresh, revoke, one email ----------------------------------------------------------


@pytest.mark.parametrize("we_know_it_expired", [True, False])
def test_an_expired_vk_id_token_is_refreshed_by_the_health_job(
    world, browser, merchant, we_know_it_expired
):
    vk_user = make_vk_user()
    group = make_vk_community(manager=vk_user)
    _connect_with_vk_id(browser, world, vk_user)
    browser.post("/vk/community", {"community": str(group.vk_id)})
    connection = VkConnection.objects.get(user=merchant)
    old_access = connection.access_token
    faults.expire_vk_token(old_access)
    if we_know_it_expired:
        VkConnection.objects.filter(pk=connection.pk).update(token_expires_at=timezone.now())
    # else: VK answers error 5 to a token we thought valid; one forced refresh sorts it out.

    tasks.check_all_connections()

    connection.refresh_from_db()
    assert connection.state == ConnectionState.ONLINE
    assert connection.access_token != old_access
    assert connection.token_expires_at > timezone.now()
    assert VkToken.objects.get(token=connection.access_token).user == vk_user
    events = list(HealthCheckLog.objects.filter(service="vk").values_list("event", flat=True))
    assert "token_refreshed" in events and "revoked" not in events
    assert mail.outbox == []


def test_a_token_revoked_in_the_sandbox_revokes_and_emails_once(world, browser, merchant):
    world_vk = make_vk_world(name="Кофейня у Ленина")
    browser.post("/vk/token", {"token": world_vk.access_token})
    browser.post("/vk/community", {"community": str(world_vk.group_id)})
    assert VkConnection.objects.get(user=merchant).state == ConnectionState.ONLINE

    faults.revoke_vk_token(world_vk.access_token)
    for _cycle in range(3):
        tasks.check_all_connections()

    connection = VkConnection.objects.get(user=merchant)
    assert connection.state == ConnectionState.REVOKED
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [merchant.email]
    assert f"{world}/vk" in mail.outbox[0].body
    assert world_vk.access_token not in mail.outbox[0].body
    page = browser.get("/catalog")
    assert 'id="banner-vk-revoked"' in page.text
    events = HealthCheckLog.objects.order_by("id").values_list("event", flat=True)
    assert list(events) == ["online", "revoked"]  # connected, then the one change
