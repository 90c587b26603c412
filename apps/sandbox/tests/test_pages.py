"""The sandbox's HTML pages: the storefront of a community and the home page with its actions."""

from __future__ import annotations

from decimal import Decimal

import pytest
import responses
from django.test import Client

from apps.sandbox.models import EvotorAccount, EvotorProduct, OutboundDelivery, VkAlbumItem
from apps.sandbox.services import vk_moderation
from apps.sandbox.services.images import sample_image
from apps.sandbox.services.storefront import PAGE_SIZE
from apps.sandbox.services.vk_ids import ALBUM
from apps.sandbox.services.vk_photos import check_image
from apps.sandbox.services.world import (
    make_evotor_account,
    make_product,
    make_store,
    make_vk_item,
    make_vk_photo,
    set_config,
)

TOKEN_URL = "http://evosync.test/api/v1/user/token"
EVENTS_URL = "http://evosync.test/api/v1/evotor/events"


def _photo_with_image(group):
    photo = make_vk_photo(group)
    photo.thumbnail = check_image(sample_image(400, 400))[2]
    photo.save(update_fields=["thumbnail"])
    return photo


# --- storefront ---------------------------------------------------------------------------------


def test_club_page_leads_to_the_market(client: Client, vk):
    response = client.get(f"/sandbox/vk/club{vk.group_id}")
    assert response.status_code == 302
    assert response["Location"] == f"/sandbox/vk/club{vk.group_id}/market"


def test_storefront_shows_cards_with_photo_price_badges_and_sku(client: Client, vk):
    shown = make_vk_item(
        vk.group, photo=_photo_with_image(vk.group), title="Кофе по-венски", price=129900
    )
    shown.sku = "evotor-42"
    shown.save()
    hidden = make_vk_item(vk.group, title="Чай зелёный", is_hidden=True)
    rejected = make_vk_item(vk.group, title="Вейп мятный")
    vk_moderation.reject_item(rejected.vk_id, title="Запрещённый товар")
    removed = make_vk_item(vk.group, title="Удалённый товар", is_removed=True)

    response = client.get(f"/sandbox/vk/club{vk.group_id}/market")

    assert response.status_code == 200
    html = response.content.decode()
    assert vk.group.name in html
    assert "1 299 ₽" in html and "evotor-42" in html
    main_photo = shown.photos.get()
    assert f'src="/sandbox/vk/photo/{main_photo.vk_id}.jpg"' in html
    assert client.get(f"/sandbox/vk/photo/{main_photo.vk_id}.jpg").status_code == 200
    shop = response.context["shop"]
    assert shop.total == 3
    cards = {card.item_id: card for card in shop.cards}
    assert set(cards) == {shown.vk_id, hidden.vk_id, rejected.vk_id}
    assert removed.title not in html
    assert cards[hidden.vk_id].is_hidden and 'sandbox-item-hidden" id="item-' in html
    assert cards[rejected.vk_id].reject_title == "Запрещённый товар"
    assert cards[hidden.vk_id].photo_id is None  # no image to show: a placeholder instead
    assert "<script>" not in html and "style=" not in html  # CSP


def test_storefront_albums_are_tabs_and_filter_the_items(client: Client, vk, api):
    coffee = make_vk_item(vk.group, title="Кофе по-венски")
    make_vk_item(vk.group, title="Чай зелёный")
    album = api.ok("market.addAlbum", owner_id=-vk.group_id, title="Кофе")["market_album_id"]
    api.ok("market.addToAlbum", owner_id=-vk.group_id, item_ids=coffee.vk_id, album_ids=album)

    everything = client.get(f"/sandbox/vk/club{vk.group_id}/market").context["shop"]
    only_coffee = client.get(f"/sandbox/vk/club{vk.group_id}/market?album={album}")

    assert [(t.album_id, t.title, t.count) for t in everything.tabs] == [(album, "Кофе", 1)]
    shop = only_coffee.context["shop"]
    assert shop.album.album_id == album and shop.total == 2
    assert [c.item_id for c in shop.cards] == [coffee.vk_id]
    bad = client.get(f"/sandbox/vk/club{vk.group_id}/market?album=abc&page=x")
    assert bad.status_code == 200 and len(bad.context["shop"].cards) == 2


def test_storefront_of_an_unknown_community_is_404(client: Client, db):
    assert client.get("/sandbox/vk/club1/market").status_code == 404


def _many_items(group, count: int) -> None:
    for index in range(count):
        item = make_vk_item(group, title=f"Товар №{index}", price=10000 + index)
        if index % 2:
            item.photos.update(thumbnail=b"jpeg")


@pytest.mark.parametrize("count", [3, PAGE_SIZE + 5])
def test_storefront_makes_a_constant_number_of_queries(
    client: Client, vk, api, django_assert_max_num_queries, count: int
):
    _many_items(vk.group, count)
    album = api.ok("market.addAlbum", owner_id=-vk.group_id, title="Все")["market_album_id"]
    VkAlbumItem.objects.bulk_create(
        VkAlbumItem(album_id=ALBUM.pk(album), item_id=pk)
        for pk in vk.group.items.values_list("pk", flat=True)
    )

    with django_assert_max_num_queries(6):
        page = client.get(f"/sandbox/vk/club{vk.group_id}/market")
    with django_assert_max_num_queries(7):
        filtered = client.get(f"/sandbox/vk/club{vk.group_id}/market?album={album}&page=2")

    assert len(page.context["shop"].cards) == min(count, PAGE_SIZE)
    assert filtered.status_code == 200


def test_storefront_pages_by_60(client: Client, vk):
    _many_items(vk.group, PAGE_SIZE + 1)
    first = client.get(f"/sandbox/vk/club{vk.group_id}/market")
    second = client.get(f"/sandbox/vk/club{vk.group_id}/market?page=2")
    assert len(first.context["shop"].cards) == PAGE_SIZE
    assert len(second.context["shop"].cards) == 1
    assert 'rel="next"' in first.content.decode()


# --- home ---------------------------------------------------------------------------------------


@pytest.fixture
def merchant(db):
    account = make_evotor_account(user_id="01-000000000000077")
    store = make_store(account, name="Кофейня на Баумана")
    make_product(store, name="Капучино 0,3", price=Decimal("180"), evotor_id="p-1")
    return account


def test_home_lists_merchants_vk_users_and_communities(client: Client, vk, merchant):
    response = client.get("/sandbox/")

    assert response.status_code == 200
    html = response.content.decode()
    assert merchant.user_id in html and "Кофейня на Баумана" in html
    assert merchant.token in html  # in the copy field; shown masked as text
    assert f"{merchant.token[:8]}…{merchant.token[-4:]}" in html
    assert "Капучино 0,3" in html and 'value="p-1"' in html
    assert vk.user.first_name in html and vk.access_token in html
    assert f'href="/sandbox/vk/club{vk.group_id}/market"' in html
    assert "/sandbox/evotor" in html and "/sandbox/vk" in html and "/sandbox/vkid" in html


def test_home_actions_need_csrf(merchant):
    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/sandbox/actions/install", {"user_id": merchant.user_id}).status_code == 403
    change = {"product_id": "p-1", "price": "1"}
    assert strict.post("/sandbox/actions/product-change", change).status_code == 403
    assert strict.get("/sandbox/actions/install").status_code == 405


@responses.activate
def test_install_button_calls_the_user_token_webhook(client: Client, merchant):
    set_config(evotor_token_url=TOKEN_URL, evotor_server_token="server-secret")
    EvotorAccount.objects.filter(pk=merchant.pk).update(is_revoked=True)
    responses.post(TOKEN_URL, json={})

    response = client.post("/sandbox/actions/install", {"user_id": merchant.user_id}, follow=True)

    assert response.redirect_chain[-1][0] == "/sandbox/"
    assert len(responses.calls) == 1
    assert responses.calls[0].request.headers["Authorization"] == "Bearer server-secret"
    assert not EvotorAccount.objects.get(pk=merchant.pk).is_revoked
    assert "user/token" in response.content.decode()


def test_install_without_configuration_says_what_is_missing(client: Client, merchant):
    response = client.post("/sandbox/actions/install", {"user_id": merchant.user_id}, follow=True)
    assert "no user/token URL configured" in response.content.decode()
    assert not OutboundDelivery.objects.exists()


@responses.activate
def test_product_change_sets_the_price_and_sends_the_webhook(client: Client, merchant):
    set_config(evotor_events_url=EVENTS_URL, evotor_events_secret="hook-secret")
    responses.post(EVENTS_URL, status=200)

    client.post("/sandbox/actions/product-change", {"product_id": "p-1", "price": "199.90"})

    assert EvotorProduct.objects.get(evotor_id="p-1").price == Decimal("199.90")
    [call] = responses.calls
    assert call.request.headers["X-Hub-Signature"].startswith("sha1=")
    assert b'"action": "updated"' in call.request.body
    assert OutboundDelivery.objects.get().delivered


def test_product_change_refuses_a_bad_form_or_unknown_product(client: Client, merchant):
    bad = client.post("/sandbox/actions/product-change", {"product_id": "p-1", "price": "-1"})
    assert bad.status_code == 302
    unknown = client.post(
        "/sandbox/actions/product-change", {"product_id": "nope", "price": "1"}, follow=True
    )
    assert "no sandbox product nope" in unknown.content.decode()
    assert EvotorProduct.objects.get(evotor_id="p-1").price == Decimal("180")
