"""The product photo flow: upload server → multipart upload → saveProductPhoto
(docs/vk.md#photo-upload)."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from apps.sandbox.models import VkPhoto
from apps.sandbox.services.vk_ids import PHOTO
from apps.sandbox.services.world import make_vk_community, make_vk_token, make_vk_user, sample_image

PARAM = "One of the parameters specified was missing or invalid"


@pytest.fixture
def upload(client):
    """POST files to an upload_url as multipart; returns the reply as the client would pass it."""

    def post(url: str, **files: bytes) -> str:
        parts = urlsplit(url)
        data = {
            name: SimpleUploadedFile(f"{name}.jpg", content, "image/jpeg")
            for name, content in files.items()
        }
        response = client.post(f"{parts.path}?{parts.query}", data)
        assert response.status_code == 200
        return response.content.decode()

    return post


@pytest.fixture
def upload_photo(api, vk, upload):
    def flow(content: bytes | None = None) -> int:
        url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)["upload_url"]
        reply = upload(url, file=content or sample_image())
        return api.ok("market.saveProductPhoto", upload_response=reply)["photo_id"]

    return flow


def test_the_whole_flow_gives_a_photo_the_item_can_use(api, vk, upload, item_fields):
    server = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)
    assert set(server) == {"upload_url"}
    assert server["upload_url"].startswith("http://testserver/sandbox/vk/upload?token=")

    reply = upload(server["upload_url"], file=sample_image(1000, 800))
    assert json.loads(reply)["album_id"] == -53
    saved = api.ok("market.saveProductPhoto", upload_response=reply)

    assert set(saved) == {"photo_id"}
    photo = VkPhoto.objects.get(pk=PHOTO.pk(saved["photo_id"]))
    assert (photo.width, photo.height, photo.is_saved) == (1000, 800, True)
    assert api.ok("market.add", **item_fields(main_photo_id=saved["photo_id"]))["market_item_id"]


def test_a_photo_reused_on_a_second_item_is_refused(api, item_fields, upload_photo):
    photo_id = upload_photo()
    api.ok("market.add", **item_fields(main_photo_id=photo_id))

    error = api.error("market.add", **item_fields(main_photo_id=photo_id, sku="evotor-2"))

    assert (error["error_code"], error["error_msg"]) == (
        100,
        f"{PARAM}: photo not found or already assigned to another item",
    )


def test_a_photo_reused_by_editing_another_item_is_refused(api, vk, item_fields, upload_photo):
    taken = upload_photo()
    api.ok("market.add", **item_fields(main_photo_id=taken))
    other = api.ok("market.add", **item_fields(sku="evotor-2"))["market_item_id"]

    error = api.error("market.edit", owner_id=-vk.group_id, item_id=other, main_photo_id=taken)

    assert error["error_code"] == 100
    assert error["error_msg"].endswith("photo not found or already assigned to another item")


def test_an_upload_is_saved_only_once(api, vk, upload):
    url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)["upload_url"]
    reply = upload(url, file=sample_image())
    api.ok("market.saveProductPhoto", upload_response=reply)

    error = api.error("market.saveProductPhoto", upload_response=reply)

    assert error["error_code"] == 100


def test_a_tampered_upload_reply_is_invalid_hash(api, vk, upload):
    url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)["upload_url"]
    reply = json.loads(upload(url, file=sample_image()))
    reply["meta"]["photos"] = [reply["meta"]["photos"][0] + 1]

    error = api.error("market.saveProductPhoto", upload_response=json.dumps(reply))

    assert (error["error_code"], error["error_msg"]) == (121, "Invalid hash")


def test_a_garbled_upload_response_is_error_100(api):
    error = api.error("market.saveProductPhoto", upload_response="not json")

    assert (error["error_code"], error["error_msg"]) == (
        100,
        f"{PARAM}: upload_response is invalid",
    )


@pytest.mark.parametrize(
    "content, reason",
    [
        (sample_image(399, 800), "at least 400x400"),
        (sample_image(8400, 400), "aspect ratio"),
        (b"definitely not an image", "not an image"),
    ],
)
def test_the_upload_server_refuses_bad_images(api, vk, upload, content, reason):
    url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)["upload_url"]

    reply = json.loads(upload(url, file=content))

    assert reply["error"] == "invalid_photo"
    assert reason in reply["error_msg"]
    assert not VkPhoto.objects.exists()


def test_the_upload_server_wants_the_file_field_and_a_valid_url(api, vk, upload):
    url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)["upload_url"]

    wrong_field = json.loads(upload(url, photo=sample_image()))
    forged_url = json.loads(upload("/sandbox/vk/upload?token=forged", file=sample_image()))

    assert "file" in wrong_field["error_msg"]
    assert "invalid or expired" in forged_url["error_msg"]


def test_bulk_upload_saves_all_photos_in_order(api, vk, upload):
    url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id, bulk=1)["upload_url"]
    reply = upload(
        url,
        file1=sample_image(500, 500),
        file2=sample_image(600, 600),
        file3=sample_image(700, 700),
    )

    saved = api.ok("market.saveProductPhotoBulk", upload_response=reply)

    widths = [VkPhoto.objects.get(pk=PHOTO.pk(s["photo_id"])).width for s in saved]
    assert widths == [500, 600, 700]
    assert api.error("market.saveProductPhoto", upload_response=reply)["error_code"] == 100


def test_a_photo_of_another_community_is_not_this_ones(api, vk, upload, item_fields):
    other = make_vk_community(name="Второе сообщество", manager=vk.user)
    url = api.ok("market.getProductPhotoUploadServer", group_id=other.vk_id)["upload_url"]
    photo_id = api.ok("market.saveProductPhoto", upload_response=upload(url, file=sample_image()))[
        "photo_id"
    ]

    error = api.error("market.add", **item_fields(main_photo_id=photo_id))

    assert error["error_msg"].endswith("photo not found or already assigned to another item")


def test_an_uploaded_but_unsaved_photo_cannot_be_attached(api, vk, upload, item_fields):
    url = api.ok("market.getProductPhotoUploadServer", group_id=vk.group_id)["upload_url"]
    photo_id = json.loads(upload(url, file=sample_image()))["meta"]["photos"][0]

    assert api.error("market.add", **item_fields(main_photo_id=photo_id))["error_code"] == 100


def test_upload_server_needs_a_manager_and_an_enabled_market(api, vk):
    stranger = make_vk_token(user=make_vk_user()).token
    assert (
        api.error("market.getProductPhotoUploadServer", token=stranger, group_id=vk.group_id)[
            "error_code"
        ]
        == 205
    )

    vk.group.market_enabled = False
    vk.group.save()
    assert (
        api.error("market.getProductPhotoUploadServer", group_id=vk.group_id)["error_code"] == 1438
    )


def test_the_photo_url_serves_a_jpeg(api, client, vk, upload_photo, item_fields):
    photo_id = upload_photo(sample_image(900, 900))
    api.ok("market.add", **item_fields(main_photo_id=photo_id))
    thumb = api.ok("market.get", owner_id=-vk.group_id)["items"][0]["thumb_photo"]

    response = client.get(thumb)

    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    assert response.content.startswith(b"\xff\xd8")
