"""Market albums: add/edit/delete, addToAlbum/removeFromAlbum, caps (docs/vk.md#albums)."""

from __future__ import annotations

import pytest

from apps.sandbox.models import VkAlbumItem
from apps.sandbox.services.vk_ids import ALBUM
from apps.sandbox.services.world import make_vk_item, make_vk_photo

PARAM = "One of the parameters specified was missing or invalid"


@pytest.fixture
def album(api, vk):
    return api.ok("market.addAlbum", owner_id=-vk.group_id, title="Напитки")["market_album_id"]


def test_add_album_answers_its_id_and_the_album_count(api, vk):
    first = api.ok("market.addAlbum", owner_id=-vk.group_id, title="Кофе")
    second = api.ok("market.addAlbum", owner_id=-vk.group_id, title="Чай")

    assert set(first) == {"market_album_id", "albums_count"}
    assert (first["albums_count"], second["albums_count"]) == (1, 2)


def test_get_albums_in_vks_shape_with_live_item_counts(api, vk, album):
    photo = make_vk_photo(vk.group)
    api.ok(
        "market.editAlbum",
        owner_id=-vk.group_id,
        album_id=album,
        title="Напитки",
        photo_id=photo.vk_id,
    )
    items = [make_vk_item(vk.group) for _ in range(3)]
    api.ok(
        "market.addToAlbum",
        owner_id=-vk.group_id,
        item_ids=",".join(str(i.vk_id) for i in items),
        album_ids=album,
    )
    api.ok("market.delete", owner_id=-vk.group_id, item_id=items[0].vk_id)

    page = api.ok("market.getAlbums", owner_id=-vk.group_id)

    assert page["count"] == 1
    [item] = page["items"]
    assert {k: item[k] for k in ("id", "owner_id", "title", "count", "is_main", "is_hidden")} == {
        "id": album,
        "owner_id": -vk.group_id,
        "title": "Напитки",
        "count": 2,
        "is_main": False,
        "is_hidden": False,
    }
    assert isinstance(item["updated_time"], int)
    assert item["photo"]["id"] == photo.vk_id


def test_get_album_by_id(api, vk, album):
    page = api.ok("market.getAlbumById", owner_id=-vk.group_id, album_ids=f"{album},999999")

    assert page["count"] == 1 and page["items"][0]["id"] == album


def test_title_over_128_is_refused(api, vk):
    error = api.error("market.addAlbum", owner_id=-vk.group_id, title="А" * 129)

    assert (error["error_code"], error["error_msg"]) == (100, f"{PARAM}: title is invalid")


def test_the_album_cap_is_1407(api, vk, album):
    vk.group.max_albums = 1
    vk.group.save()

    error = api.error("market.addAlbum", owner_id=-vk.group_id, title="Ещё одна")

    assert (error["error_code"], error["error_msg"]) == (1407, "Too many albums")


def test_a_main_album_cannot_be_hidden(api, vk):
    error = api.error(
        "market.addAlbum", owner_id=-vk.group_id, title="Главная", main_album=1, is_hidden=1
    )

    assert (error["error_code"], error["error_msg"]) == (1446, "Main album can not be hidden")


def test_edit_and_delete_an_album(api, vk, album):
    assert api.ok("market.editAlbum", owner_id=-vk.group_id, album_id=album, title="Соки") == 1
    assert api.ok("market.getAlbums", owner_id=-vk.group_id)["items"][0]["title"] == "Соки"

    assert api.ok("market.deleteAlbum", owner_id=-vk.group_id, album_id=album) == 1
    error = api.error("market.deleteAlbum", owner_id=-vk.group_id, album_id=album)
    assert (error["error_code"], error["error_msg"]) == (1402, "Album not found")


def test_add_to_album_takes_a_list_and_refuses_repeats_with_1404(api, vk, album):
    items = [make_vk_item(vk.group).vk_id for _ in range(2)]
    ids = ",".join(map(str, items))

    assert api.ok("market.addToAlbum", owner_id=-vk.group_id, item_ids=ids, album_ids=album) == 1
    error = api.error("market.addToAlbum", owner_id=-vk.group_id, item_ids=ids, album_ids=album)

    assert (error["error_code"], error["error_msg"]) == (1404, "Item already added to album")
    assert VkAlbumItem.objects.filter(album_id=ALBUM.pk(album)).count() == 2


def test_add_to_album_with_unknown_item_or_album(api, vk, album):
    item = make_vk_item(vk.group).vk_id

    unknown_item = api.error(
        "market.addToAlbum", owner_id=-vk.group_id, item_ids="424242", album_ids=album
    )
    unknown_album = api.error(
        "market.addToAlbum", owner_id=-vk.group_id, item_ids=item, album_ids=999999
    )

    assert unknown_item["error_code"] == 1403
    assert unknown_album["error_code"] == 1402


def test_a_full_album_is_1406(api, vk, album):
    vk.group.max_items_per_album = 1
    vk.group.save()
    first, second = make_vk_item(vk.group).vk_id, make_vk_item(vk.group).vk_id
    api.ok("market.addToAlbum", owner_id=-vk.group_id, item_ids=first, album_ids=album)

    error = api.error("market.addToAlbum", owner_id=-vk.group_id, item_ids=second, album_ids=album)

    assert (error["error_code"], error["error_msg"]) == (1406, "Too many items in album")


def test_remove_from_album_and_albums_ids_of_items(api, vk, album):
    item = make_vk_item(vk.group).vk_id
    api.ok("market.addToAlbum", owner_id=-vk.group_id, item_ids=item, album_ids=album)
    assert api.ok("market.get", owner_id=-vk.group_id)["items"][0]["albums_ids"] == [album]
    assert api.ok("market.get", owner_id=-vk.group_id, album_id=album)["count"] == 1

    assert (
        api.ok("market.removeFromAlbum", owner_id=-vk.group_id, item_id=item, album_ids=album) == 1
    )

    assert api.ok("market.get", owner_id=-vk.group_id)["items"][0]["albums_ids"] == []
