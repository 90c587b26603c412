"""The product photo flow (docs/vk.md#photo-upload): upload server → multipart upload → save.

The upload URL carries a signed, expiring token naming the community and the uploader. The
upload server checks each image like VK does (format, ≥400×400, sides, ratio, size), stores a
small thumbnail and answers an opaque JSON blob; ``market.saveProductPhoto`` accepts that blob
back exactly once and hands out the photo id.
"""

from __future__ import annotations

import hashlib
import io
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac
from PIL import Image, UnidentifiedImageError

from apps.sandbox.models import VkGroup, VkPhoto

from .vk_common import VkContext, group_by_id, manager_level
from .vk_errors import VkApiError, param
from .vk_ids import PHOTO
from .vk_objects import SERVICE_ALBUM

UPLOAD_SALT = "apps.sandbox.vk.upload"
UPLOAD_URL_MAX_AGE = 3600
MAX_BULK_FILES = 10  # undocumented by VK; generous enough for any batch the product sends
MAX_BYTES = 50 * 1024 * 1024
MIN_SIDE = 400
MAX_SIDES_SUM = 14_000
MAX_RATIO = 20
FORMATS = frozenset({"JPEG", "PNG", "GIF", "BMP"})
THUMBNAIL = (200, 200)


class UploadRefused(Exception):
    """The upload server's error reply (an ``error_msg`` is what clients look for)."""


@dataclass(frozen=True)
class UploadFile:
    name: str
    content: bytes


def upload_server(ctx: VkContext) -> dict[str, str]:
    """market.getProductPhotoUploadServer: needs a manager (205) and an enabled market (1438)."""
    group = group_by_id(ctx.params.int("group_id", required=True, minimum=1) or 0)
    if not manager_level(ctx.token, group):
        raise VkApiError(205)
    if not group.market_enabled:
        raise VkApiError(1438)
    bulk = ctx.params.flag("bulk")
    token = signing.dumps({"g": group.pk, "u": ctx.token.user_id, "b": bulk}, salt=UPLOAD_SALT)
    return {"upload_url": f"{ctx.base_url}/upload?token={token}&market_photo=1"}


def receive_upload(token: str, files: Sequence[UploadFile]) -> dict[str, Any]:
    """The upload server itself. Raises UploadRefused with a readable reason."""
    try:
        grant = signing.loads(token, salt=UPLOAD_SALT, max_age=UPLOAD_URL_MAX_AGE)
    except signing.BadSignature:
        raise UploadRefused("upload URL is invalid or expired") from None
    group = VkGroup.objects.filter(pk=grant["g"]).first()
    if group is None:
        raise UploadRefused("upload URL is invalid or expired")
    if not _fields_ok([f.name for f in files], bulk=grant["b"]):
        expected = "file1..fileN" if grant["b"] else "file"
        raise UploadRefused(f"expected the image(s) in field(s) {expected}")
    batch = uuid.uuid4().hex
    photos = [_store_photo(group, upload, batch) for upload in files]
    # The blob names the photos by the ids VK will hand out for them, as the real one does.
    ids = [photo.vk_id for photo in photos]
    return {
        "album_id": SERVICE_ALBUM,
        "group_id": group.vk_id,
        "server": 842_100,
        "sha": photos[0].sha,
        "meta": {"batch": batch, "photos": ids, "bulk": grant["b"]},
        "hash": _blob_hash(batch, group.vk_id, ids, grant["b"]),
    }


def _fields_ok(names: list[str], *, bulk: bool) -> bool:
    """``file`` for one image; a bulk upload may also send ``file1``..``fileN`` (N ≤ 10)."""
    if names == ["file"]:
        return True
    numbered = [f"file{i}" for i in range(1, len(names) + 1)]
    return bulk and 0 < len(names) <= MAX_BULK_FILES and names == numbered


def _store_photo(group: VkGroup, upload: UploadFile, batch: str) -> VkPhoto:
    width, height, thumbnail = check_image(upload.content)
    return VkPhoto.objects.create(
        group=group,
        width=width,
        height=height,
        sha=hashlib.sha1(upload.content).hexdigest(),  # noqa: S324 - a content id, not security
        thumbnail=thumbnail,
        upload_batch=batch,
    )


def check_image(content: bytes) -> tuple[int, int, bytes]:
    """(width, height, JPEG thumbnail) of an acceptable image (docs/vk.md#image-constraints)."""
    if len(content) > MAX_BYTES:
        raise UploadRefused("file is larger than 50 MB")
    try:
        image = Image.open(io.BytesIO(content))
        image_format = image.format
        width, height = image.size
    except (UnidentifiedImageError, OSError):
        raise UploadRefused("file is not an image") from None
    if image_format not in FORMATS:
        raise UploadRefused(f"unsupported image format {image_format}")
    if width < MIN_SIDE or height < MIN_SIDE:
        raise UploadRefused(f"image is {width}x{height}, at least {MIN_SIDE}x{MIN_SIDE} is needed")
    if width + height > MAX_SIDES_SUM:
        raise UploadRefused(f"width + height must not exceed {MAX_SIDES_SUM}")
    if max(width, height) > MAX_RATIO * min(width, height):
        raise UploadRefused("aspect ratio is beyond 1:20")
    return width, height, _thumbnail(image)


def _thumbnail(image: Image.Image) -> bytes:
    # draft() lets the JPEG decoder scale while decoding: big camera photos stay cheap.
    image.draft("RGB", THUMBNAIL)
    image = image.convert("RGB")
    image.thumbnail(THUMBNAIL)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


def _blob_hash(batch: str, group_vk_id: int, ids: list[int], bulk: bool) -> str:
    message = f"{batch}:{group_vk_id}:{','.join(map(str, ids))}:{int(bulk)}"
    return salted_hmac(UPLOAD_SALT, message, algorithm="sha256").hexdigest()


def save_photo(ctx: VkContext) -> dict[str, int]:
    """market.saveProductPhoto(upload_response) → ``{"photo_id": n}``, once per upload."""
    photos = _save(ctx, bulk=False)
    return {"photo_id": photos[0]}


def save_photo_bulk(ctx: VkContext) -> list[dict[str, int]]:
    """market.saveProductPhotoBulk → ``[{"photo_id": n}, ...]`` in upload order."""
    return [{"photo_id": pk} for pk in _save(ctx, bulk=True)]


def _save(ctx: VkContext, *, bulk: bool) -> list[int]:
    blob = _read_blob(ctx.params.str("upload_response", required=True) or "")
    meta = blob["meta"]
    if bool(meta.get("bulk")) != bulk:
        raise param("upload_response")
    ids = [int(photo_id) for photo_id in meta["photos"]]
    expected = _blob_hash(str(meta["batch"]), int(blob["group_id"]), ids, bulk)
    if not constant_time_compare(expected, str(blob.get("hash", ""))):
        raise VkApiError(121)
    group = VkGroup.objects.filter(vk_id=int(blob["group_id"])).first()
    if group is None or not manager_level(ctx.token, group):
        raise VkApiError(205)
    if not group.market_enabled:
        raise VkApiError(1438)
    # One conditional UPDATE: a blob saved twice (or by two processes at once) yields nothing.
    saved = VkPhoto.objects.filter(
        pk__in=PHOTO.pks(ids), upload_batch=meta["batch"], group=group, is_saved=False
    ).update(is_saved=True)
    if saved != len(ids):
        raise VkApiError(100, "upload_response is invalid: photo is already saved")
    return ids


def _read_blob(raw: str) -> dict[str, Any]:
    try:
        blob = json.loads(raw)
        meta = blob["meta"]
        if not isinstance(meta.get("photos"), list) or not meta["photos"] or "group_id" not in blob:
            raise ValueError
    except (ValueError, TypeError, KeyError, AttributeError):
        raise param("upload_response") from None
    return blob


def thumbnail_bytes(photo_id: int) -> bytes | None:
    """The JPEG behind a photo URL; ``photo_id`` is VK's photo id, as in the URL."""
    photo = VkPhoto.objects.filter(pk=PHOTO.pk(photo_id), is_saved=True).only("thumbnail").first()
    return bytes(photo.thumbnail) if photo is not None and photo.thumbnail else None
