"""The connection pages as a whole: sign-in required, each merchant sees only their own, the
overview's content and cost, and the banners on every page."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.test import Client

from apps.connections.models import ConnectionState, EvotorConnection, HealthCheckLog
from apps.connections.tests.conftest import (
    CLOUD_TOKEN,
    EVOTOR_USER,
    VK_REFRESH,
    VK_TOKEN,
    evotor_stores,
    make_vk_connection,
    store_json,
)

pytestmark = pytest.mark.django_db

GET_PAGES = ["/connections", "/evotor", "/evotor/disconnect", "/vk", "/vk/callback",
             "/vk/disconnect"]
POST_PAGES = ["/evotor", "/evotor/test", "/evotor/disconnect", "/vk/connect", "/vk/token",
              "/vk/community", "/vk/test", "/vk/disconnect"]


@pytest.mark.parametrize("path", GET_PAGES)
def test_every_page_needs_a_sign_in(client: Client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", POST_PAGES)
def test_every_action_needs_a_sign_in(client: Client, path):
    response = client.post(path)
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/evotor/test", "/vk/test", "/vk/connect", "/vk/token",
                                  "/vk/community"])
def test_actions_are_post_only(page, path):
    assert page.get(path).status_code == 405


@pytest.fixture
def others(other_merchant):
    evotor = EvotorConnection(user=other_merchant, evotor_user_id="01-000000000000777",
                              state=ConnectionState.ONLINE)
    evotor.cloud_token = "other-merchant-cloud-token"
    evotor.save()
    vk = make_vk_connection(other_merchant, group_name="Чужая кофейня", group_id=999)
    return evotor, vk


def test_another_merchants_connections_are_unreachable(page, others, api):
    for path in ("/evotor/disconnect", "/vk/disconnect"):
        assert page.get(path).status_code == 404
    for path in ("/evotor/test", "/evotor/disconnect", "/vk/test", "/vk/disconnect"):
        assert page.post(path).status_code == 404
    assert page.post("/vk/community", {"community": "999"}).status_code == 404
    html = "".join(page.get(p).content.decode() for p in ("/connections", "/evotor", "/vk"))
    assert "01-000000000000777" not in html and "Чужая кофейня" not in html
    for connection in others:
        connection.refresh_from_db()
        assert connection.state == ConnectionState.ONLINE and connection.last_checked_at is None
    assert len(api.calls) == 0


def test_ids_in_the_query_string_change_nothing(page, others, evotor_connection, api):
    """No page takes an id: one smuggled into a form is ignored, the merchant's own is used."""
    evotor_stores(api, store_json())
    page.post(f"/evotor/test?pk={others[0].pk}", {"pk": others[0].pk, "user": others[0].user_id})
    others[0].refresh_from_db()
    evotor_connection.refresh_from_db()
    assert others[0].last_checked_at is None and evotor_connection.last_checked_at is not None


def test_overview_with_nothing_connected_says_what_to_do(page):
    html = page.get("/connections").content.decode()
    assert 'id="evotor-state" data-state="none"' in html
    assert 'id="vk-state" data-state="none"' in html
    assert 'id="next-connect-evotor"' in html and 'id="next-connect-vk"' in html
    assert 'id="next-catalog"' not in html


def test_overview_asks_for_a_community(page, merchant, evotor_connection):
    make_vk_connection(merchant, group_id=None, group_name="")
    html = page.get("/connections").content.decode()
    assert 'id="next-pick-community"' in html and 'id="next-connect-evotor"' not in html


def test_overview_with_everything_connected(page, evotor_connection, vk_connection):
    html = page.get("/connections").content.decode()
    assert 'id="evotor-state" data-state="online"' in html
    assert 'id="vk-state" data-state="online"' in html
    assert EVOTOR_USER in html and "Кофейня у Ленина" in html
    assert "https://vk.com/coffee_lenina" in html
    assert 'id="next-catalog"' in html
    for secret in (CLOUD_TOKEN, VK_TOKEN, VK_REFRESH, evotor_connection.cloud_token_encrypted,
                   vk_connection.access_token_encrypted, vk_connection.refresh_token_encrypted):
        assert secret not in html


def test_overview_asks_to_reconnect_what_was_revoked(page, evotor_connection, vk_connection):
    for connection in (evotor_connection, vk_connection):
        connection.state = ConnectionState.REVOKED
        connection.save()
    html = page.get("/connections").content.decode()
    assert 'id="next-reconnect-evotor"' in html and 'id="next-reconnect-vk"' in html
    assert 'data-state="revoked"' in html


def test_last_check_is_shown_in_the_merchants_time_zone(page, merchant, evotor_connection):
    merchant.time_zone = "Asia/Novosibirsk"  # UTC+7
    merchant.save(update_fields=["time_zone"])
    evotor_connection.last_checked_at = datetime(2026, 3, 1, 22, 30, tzinfo=UTC)
    evotor_connection.save()
    html = page.get("/connections").content.decode()
    assert "March 2, 2026, 5:30" in html


def test_overview_lists_recent_changes(page, merchant, evotor_connection):
    HealthCheckLog.objects.create(user=merchant, service="evotor", event="revoked",
                                  detail="evotor GET /stores: forbidden (HTTP 403)")
    html = page.get("/connections").content.decode()
    assert "forbidden (HTTP 403)" in html


def test_overview_query_count_is_bounded(page, merchant, evotor_connection, vk_connection,
                                         django_assert_max_num_queries):
    for n in range(20):
        HealthCheckLog.objects.create(user=merchant, service="vk", event="token_refreshed",
                                      detail=f"refresh {n}")
    with django_assert_max_num_queries(6):
        response = page.get("/connections")
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/connections", "/catalog", "/profile", "/vk"])
def test_revoked_connections_show_a_reconnect_banner_on_every_page(
    page, evotor_connection, vk_connection, path
):
    evotor_connection.state = ConnectionState.REVOKED
    evotor_connection.save()
    html = page.get(path).content.decode()
    assert 'id="banner-evotor-revoked"' in html and 'href="/evotor"' in html
    assert "banner-vk" not in html


def test_an_offline_connection_shows_a_softer_banner(page, vk_connection):
    vk_connection.state = ConnectionState.OFFLINE
    vk_connection.last_error = "The market (Товары) is switched off in the VK community."
    vk_connection.save()
    html = page.get("/profile").content.decode()
    assert 'id="banner-vk-offline"' in html and "switched off" in html


def test_no_banner_when_all_is_well_or_signed_out(client, page, evotor_connection):
    assert "banner-evotor" not in page.get("/connections").content.decode()
    assert "banner-" not in Client().get("/login").content.decode()


# --- the next step after Evotor -----------------------------------------------------------------


def test_evotor_page_points_to_connecting_vk_once_evotor_works(page, evotor_connection):
    html = page.get("/evotor").content.decode()
    step = html[html.index('id="evotor-next-step"'):]
    assert 'href="/vk"' in step[:1000] and "Connect VK" in step[:1000]
    # Replacing the token is no longer the main action: a small secondary button.
    connect = html[html.index('id="evotor-connect"'):]
    assert "btn-sm btn-outline-secondary" in connect and "btn-primary" not in connect


def test_evotor_page_points_to_the_community_then_the_catalog(page, merchant, evotor_connection):
    vk = make_vk_connection(merchant, group_id=None, group_name="", group_screen_name="")
    assert "Choose a community" in page.get("/evotor").content.decode()
    vk.group_id, vk.group_name = 218861756, "Кофейня"
    vk.save()
    assert 'href="/catalog"' in page.get("/evotor").content.decode().split(
        'id="evotor-next-step"')[1][:1000]


def test_evotor_page_without_a_working_connection_has_no_next_step(page, evotor_connection):
    assert 'id="evotor-next-step"' in page.get("/evotor").content.decode()
    evotor_connection.state = ConnectionState.REVOKED
    evotor_connection.save()
    html = page.get("/evotor").content.decode()
    assert 'id="evotor-next-step"' not in html
    assert "btn btn-primary" in html[html.index('id="evotor-connect"'):]


def test_overview_buttons_sit_at_the_bottom_of_both_cards(page, evotor_connection):
    html = page.get("/connections").content.decode()
    assert html.count('class="card-body d-flex flex-column"') == 2
    assert html.count("mt-auto") == 2
