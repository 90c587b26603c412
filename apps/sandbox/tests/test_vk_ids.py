"""Items, albums and photos get ids of VK's shape, in ranges of their own (services/vk_ids.py).

A client that sends an id of the wrong kind must get VK's not-found errors, not a lucky hit.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sandbox.services.vk_ids import ALBUM, ITEM, NO_ROW, PHOTO
from apps.sandbox.services.world import make_vk_item, make_vk_photo, sample_image

PHOTO_GONE = "One of the parameters specified was missing or invalid: " + (
    "photo not found or already assigned to another item"
)


@pytest.fixture
def album(api, vk) -> int:
    return api.ok("market.addAlbum", owner_id=-vk.group_id, title="Напитки")["market_album_id"]


def test_the_ranges_do_not_overlap_and_round_trip() -> None:
    assert ALBUM.public(48) == 148
    assert ITEM.public(1) == 10_000_001
    assert PHOTO.public(24) == 457_239_024
    for kind in (ALBUM, ITEM, PHOTO):
        assert kind.pk(kind.public(7)) == 7
    assert ITEM.pk(PHOTO.public(1)) == NO_ROW
    assert ITEM.pk(ALBUM.public(1)) == NO_ROW
    assert ALBUM.pk(ITEM.public(1)) == NO_ROW
    assert PHOTO.pk(ITEM.public(1)) == NO_ROW
    assert ITEM.pk(5) == NO_ROW and ITEM.pk(None) == NO_ROW
    assert ITEM.pks([ITEM.public(3), 3]) == [3, NO_ROW]


def test_replies_carry_ids_of_each_kind(api, vk, add_item, album) -> None:
    item_id = add_item()
    api.ok("market.addToAlbum", owner_id=-vk.group_id, item_ids=item_id, album_ids=album)

    [item] = api.ok("market.get", owner_id=-vk.group_id, extended=1)["items"]

    assert ITEM.contains(item_id) and item["id"] == item_id
    assert ALBUM.contains(album) and item["albums_ids"] == [album]
    photo_id = item["photos"][0]["id"]
    assert PHOTO.contains(photo_id)
    assert f"/photo/{photo_id}.jpg" in item["thumb_photo"]


def test_main_album_id_of_groups_get_by_id_is_an_album_id(api, vk) -> None:
    main = api.ok("market.addAlbum", owner_id=-vk.group_id, title="Главная", main_album=1)
    reply = api.ok("groups.getById", group_id=vk.group_id, fields="market")
    assert reply["groups"][0]["market"]["main_album_id"] == main["market_album_id"]


def test_upload_blob_and_saved_photo_use_photo_ids(api, vk, client) -> None:
    url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)["upload_url"]
    parts = urlsplit(url)
    file = SimpleUploadedFile("file.jpg", sample_image(), "image/jpeg")
    reply = client.post(f"{parts.path}?{parts.query}", {"file": file})

    [blob_id] = reply.json()["meta"]["photos"]
    saved = api.ok("market.saveProductPhoto", upload_response=reply.content.decode())

    assert saved["photo_id"] == blob_id and PHOTO.contains(blob_id)
    assert client.get(f"/sandbox/vk/photo/{blob_id}.jpg").status_code == 200


def test_an_item_id_in_a_photo_url_is_not_a_photo(client, vk) -> None:
    item = make_vk_item(vk.group)
    assert client.get(f"/sandbox/vk/photo/{item.vk_id}.jpg").status_code == 404
    assert client.get(f"/sandbox/vk/photo/{item.pk}.jpg").status_code == 404


@pytest.mark.parametrize("method", ["market.edit", "market.delete", "market.restore"])
def test_a_photo_or_album_id_as_item_id_is_item_not_found(api, vk, album, method) -> None:
    item = make_vk_item(vk.group)
    photo_id = item.photos.get().vk_id

    for wrong in (photo_id, album, item.pk):
        error = api.error(method, owner_id=-vk.group_id, item_id=wrong, price="10")
        assert (error["error_code"], error["error_msg"]) == (1403, "Item not found")


def test_get_by_id_does_not_find_other_kinds(api, vk) -> None:
    item = make_vk_item(vk.group)
    photo_id = item.photos.get().vk_id
    refs = f"-{vk.group_id}_{photo_id},-{vk.group_id}_{item.pk},-{vk.group_id}_{item.vk_id}"

    page = api.ok("market.getById", item_ids=refs)

    assert [i["id"] for i in page["items"]] == [item.vk_id]


def test_an_item_id_as_album_id_is_album_not_found(api, vk, album) -> None:
    item = make_vk_item(vk.group)
    owner = -vk.group_id

    for method, params in (
        ("market.editAlbum", {"album_id": item.vk_id, "title": "Соки"}),
        ("market.deleteAlbum", {"album_id": ALBUM.pk(album)}),
        ("market.addToAlbum", {"item_ids": item.vk_id, "album_ids": item.vk_id}),
    ):
        assert api.error(method, owner_id=owner, **params)["error_code"] == 1402, method
    by_id = api.ok("market.getAlbumById", owner_id=owner, album_ids=f"{item.vk_id},{album}")
    assert [a["id"] for a in by_id["items"]] == [album]


def test_a_photo_id_in_add_to_album_is_item_not_found(api, vk, album) -> None:
    photo = make_vk_photo(vk.group)
    error = api.error(
        "market.addToAlbum", owner_id=-vk.group_id, item_ids=photo.vk_id, album_ids=album
    )
    assert error["error_code"] == 1403


def test_an_item_or_album_id_as_photo_is_photo_not_found(api, vk, item_fields, album) -> None:
    item = make_vk_item(vk.group)
    photo = make_vk_photo(vk.group)

    for wrong in (item.vk_id, album, photo.pk):
        error = api.error("market.add", **item_fields(main_photo_id=wrong))
        assert (error["error_code"], error["error_msg"]) == (100, PHOTO_GONE)
        error = api.error("market.add", **item_fields(photo_ids=str(wrong)))
        assert (error["error_code"], error["error_msg"]) == (100, PHOTO_GONE)
    error = api.error(
        "market.editAlbum", owner_id=-vk.group_id, album_id=album, title="X1", photo_id=item.vk_id
    )
    assert error["error_code"] == 100
