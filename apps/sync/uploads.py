"""Product photos to VK: draw or fetch each image, then upload them in bulk
(docs/vk.md#photo-upload).

Per chunk of up to 10 images: one upload URL (fetched 25 at a time through ``execute``), one
multipart POST to the upload host, one ``market.saveProductPhotoBulk`` (again 25 per
``execute``). VK refuses one photo on two items, so every item gets a photo of its own, and a
photo is uploaded only when what it shows changed (the caller compares photo keys).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from apps.connections.clients import ApiError, ItemError, VkCall, VkClient, VkPhotoFile
from apps.connections.clients.parsing import MalformedPayload, as_mapping, opt_str
from apps.connections.clients.vk_execute import MAX_CALLS_PER_EXECUTE, chunks
from apps.connections.clients.vk_photos import parse_saved_bulk
from apps.sync import photos

log = logging.getLogger(__name__)

FILES_PER_UPLOAD = 10


@dataclass(frozen=True)
class PhotoRequest:
    product_id: str
    name: str
    group: str
    store: str
    image_url: str = ""


@dataclass
class UploadResult:
    photo_ids: dict[str, int]
    errors: dict[str, ApiError]
    uploads: int = 0


ImageFetcher = Callable[[str], bytes]


def render(request: PhotoRequest, fetch: ImageFetcher | None) -> bytes:
    """The Evotor image squared for VK when there is one we can read, else a product card."""
    if request.image_url and fetch is not None:
        try:
            return photos.square_image(fetch(request.image_url))
        except (ApiError, photos.PhotoError) as exc:
            # A broken or vanished Evotor image must not cost the item its place in VK.
            log.info("Evotor image of %s unusable, drawing a card: %s", request.product_id, exc)
    return photos.product_card(request.name, request.group, request.store)


def _upload_url(value: object) -> str:
    url = opt_str(as_mapping(value).get("upload_url"))
    if url is None:
        raise MalformedPayload("no upload_url")
    return url


def upload_photos(
    client: VkClient,
    group_id: int,
    requests: Sequence[PhotoRequest],
    *,
    fetch: ImageFetcher | None = None,
) -> UploadResult:
    """Upload one photo per request. Per-chunk failures (an image refused) land in ``errors``;
    a failure of the whole flow (token, market off, VK down) is raised."""
    result = UploadResult({}, {})
    groups = [list(requests[i : i + FILES_PER_UPLOAD]) for i in range(0, len(requests), 10)]
    for window in chunks_of(groups, MAX_CALLS_PER_EXECUTE):
        urls = client.execute([_server_call(group_id) for _ in window])
        saves: list[tuple[list[PhotoRequest], str]] = []
        for batch, url in zip(window, urls, strict=True):
            if url.error is not None:
                _fail(result, batch, url.error)
                continue
            files = [
                VkPhotoFile(render(r, fetch), filename=f"{r.product_id[:40]}.jpg") for r in batch
            ]
            try:
                saves.append((batch, client.upload_photo_files(url.value, files)))
                result.uploads += 1
            except ItemError as exc:
                _fail(result, batch, exc)
        _save(client, saves, result)
    return result


def chunks_of(items: list, size: int) -> list[list]:
    return [items[i : i + size] for i in range(0, len(items), size)]


def _server_call(group_id: int) -> VkCall:
    params = {"group_id": group_id, "bulk": True}
    return VkCall("market.getProductPhotoUploadServer", params, _upload_url)


def _save(
    client: VkClient, saves: list[tuple[list[PhotoRequest], str]], result: UploadResult
) -> None:
    if not saves:
        return
    calls = [
        VkCall("market.saveProductPhotoBulk", {"upload_response": blob}, parse_saved_bulk)
        for _batch, blob in saves
    ]
    for call_chunk, save_chunk in zip(chunks(calls), chunks_of(saves, MAX_CALLS_PER_EXECUTE),
                                      strict=True):
        for saved, (batch, _blob) in zip(client.execute(call_chunk), save_chunk, strict=True):
            if saved.error is not None:
                _fail(result, batch, saved.error)
            elif len(saved.value) != len(batch):
                _fail(result, batch, ItemError("photo count mismatch", service="vk",
                                               method="market.saveProductPhotoBulk"))
            else:
                for request, photo in zip(batch, saved.value, strict=True):
                    result.photo_ids[request.product_id] = photo.photo_id


def _fail(result: UploadResult, batch: list[PhotoRequest], error: ApiError) -> None:
    if not isinstance(error, ItemError):
        raise error
    for request in batch:
        result.errors[request.product_id] = error
