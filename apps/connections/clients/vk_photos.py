"""Pieces of VK's product-photo flow that are not API calls (docs/vk.md#photo-upload).

The upload goes to a separate host (``upload_url``), as multipart with the file in ``file``
(``file1``..``fileN`` in bulk mode). Its JSON reply is opaque to us: VK wants it back verbatim,
as a string, in ``market.saveProductPhoto(upload_response=...)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from .errors import ItemError, PermanentError, TransientError, redact
from .parsing import MalformedPayload, as_list, as_mapping, opt_str
from .vk_errors import SERVICE, json_object
from .vk_types import VkSavedPhoto, parse_saved_photo

UPLOAD_OP = "photo upload"


@dataclass(frozen=True)
class VkPhotoFile:
    """An image to upload to VK's photo server."""

    content: bytes
    filename: str = "photo.jpg"
    content_type: str = "image/jpeg"


def multipart_fields(files: Sequence[VkPhotoFile]) -> dict[str, tuple[str, bytes, str]]:
    """``{"file": ...}`` for one image, ``{"file1": ..., "file2": ...}`` for a bulk upload."""
    if not files:
        raise ValueError("no files to upload")
    if len(files) == 1:
        names = ["file"]
    else:
        names = [f"file{i}" for i in range(1, len(files) + 1)]
    return {
        name: (f.filename, f.content, f.content_type) for name, f in zip(names, files, strict=True)
    }


def upload_reply(response: requests.Response, secrets: tuple[str, ...]) -> str:
    """The upload server's reply as the string to pass on, or the matching exception.

    Error messages never include the upload URL: it carries a one-time upload token.
    """
    status = response.status_code
    if status >= 500:
        # Repeating an upload is harmless (at worst an orphan photo), so it is retryable.
        raise TransientError(
            f"HTTP {status}", service=SERVICE, method=UPLOAD_OP, http_status=status
        )
    if status >= 400:
        raise PermanentError(
            "upload refused", service=SERVICE, method=UPLOAD_OP, http_status=status
        )
    body = json_object(response, method=UPLOAD_OP)
    reason = _upload_error(body)
    if reason:
        # The server refused this image (size, format...): only this photo's item fails.
        raise ItemError(redact(reason, secrets), service=SERVICE, method=UPLOAD_OP)
    return response.text.strip()


def _upload_error(body: Mapping[str, Any]) -> str | None:
    error = body.get("error")
    if isinstance(error, Mapping):
        return opt_str(error.get("error_msg")) or opt_str(error.get("message")) or "upload error"
    return opt_str(body.get("error_msg")) or opt_str(error)


def parse_saved_bulk(value: Any) -> list[VkSavedPhoto]:
    """market.saveProductPhotoBulk: an array of ``{photo_id, photo?}`` (or ``{"items": [...]}``)."""
    items = value if isinstance(value, list) else as_mapping(value).get("items")
    if not isinstance(items, list):
        raise MalformedPayload("saveProductPhotoBulk reply is not a list")
    return [parse_saved_photo(item) for item in as_list(items)]
