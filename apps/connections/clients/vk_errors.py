"""VK reply envelope and error codes (docs/vk.md#errors) mapped onto the shared exceptions.

The split follows docs/architecture.md#errors: 1/6/9/10 back off and retry; 5/7/15/17/27/1117
(and loss of access to the community, 203/205) stop the run and mark the connection; market
switched off stops the run; item-level codes fail only that item.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import requests

from .errors import (
    ApiError,
    AuthError,
    CaptchaError,
    ItemError,
    PermanentError,
    RateLimitError,
    ResponseFormatError,
    TransientError,
    redact,
)
from .parsing import as_mapping, opt_str, to_int

SERVICE = "vk"

CAPTCHA_NEEDED = 14
ITEM_NOT_FOUND = 1403
ALREADY_IN_ALBUM = 1404
ALBUM_NOT_FOUND = 1402
ITEM_NOT_DELETED = 1518

# 6 "too many requests per second", 9 "flood control": VK refused before doing anything, so a
# short pause and a retry is safe even for market.add.
RATE_LIMIT_CODES = frozenset({6, 9})
TRANSIENT_CODES = frozenset({1, 10})
# 29 is a per-method quota (hours, not seconds): transient, but not worth retrying in place.
QUOTA_CODES = frozenset({29})
AUTH_CODES = frozenset({5, 7, 15, 17, 18, 27, 203, 205, 1117})
# 8 malformed request, 12/13 execute compile/runtime errors, market switched off (1409, 1438,
# 1525, 1526): the whole run cannot go on, but the token is fine.
PERMANENT_CODES = frozenset({8, 12, 13, 1409, 1438, 1525, 1526})
ITEM_CODES = frozenset(
    {100, 121, 129, 1400, 1401, 1402, 1403, 1404, 1405, 1406, 1407, 1408, 1410}
    | set(range(1411, 1431))
    | {1433, 1434, 1435, 1436, 1446, 1456, 1457, 1458, 1518}
)


def error_class_for(code: int | None) -> type[ApiError]:
    """The exception class for a VK ``error_code``; unknown codes are permanent."""
    if code in RATE_LIMIT_CODES or code in QUOTA_CODES:
        return RateLimitError
    if code in TRANSIENT_CODES:
        return TransientError
    if code in AUTH_CODES:
        return AuthError
    if code == CAPTCHA_NEEDED:
        return CaptchaError
    if code in ITEM_CODES:
        return ItemError
    return PermanentError


def vk_error(
    payload: Mapping[str, Any],
    *,
    method: str,
    secrets: tuple[str, ...],
    http_status: int | None = None,
) -> ApiError:
    """Build the exception for one VK error object (``error`` or an ``execute_errors`` entry).

    ``request_params`` is deliberately ignored: VK echoes the request there, token included.
    """
    code = to_int(payload.get("error_code"))
    message = redact(opt_str(payload.get("error_msg")) or "no error message", secrets)
    method = opt_str(payload.get("method")) or method
    fields: dict[str, Any] = {
        "service": SERVICE,
        "code": code,
        "method": method,
        "http_status": http_status,
    }
    error_class = error_class_for(code)
    if error_class is CaptchaError:
        return CaptchaError(
            message,
            captcha_sid=opt_str(payload.get("captcha_sid")),
            captcha_img=opt_str(payload.get("captcha_img")),
            redirect_uri=opt_str(payload.get("redirect_uri")),
            **fields,
        )
    if error_class is RateLimitError:
        return RateLimitError(message, retryable=code not in QUOTA_CODES, **fields)
    return error_class(message, **fields)


def check_envelope(
    response: requests.Response, *, method: str, secrets: tuple[str, ...], idempotent: bool
) -> Mapping[str, Any]:
    """The reply body if it is a success envelope, else the matching exception
    (docs/vk.md#transport-and-envelope).

    VK answers API errors with HTTP 200, so the body's ``error`` is checked before ``response``.
    A 5xx on a non-idempotent call is not retryable: VK may have applied it.
    """
    status = response.status_code
    if status >= 500:
        raise TransientError(
            f"HTTP {status}",
            service=SERVICE,
            method=method,
            http_status=status,
            retryable=idempotent,
        )
    if status == 429:
        raise RateLimitError("HTTP 429", service=SERVICE, method=method, http_status=status)
    body = json_object(response, method=method)
    if "error" in body:
        raise vk_error(
            as_mapping(body["error"]),
            method=method,
            secrets=secrets,
            # Errors normally come with 200; only an unusual status is worth reporting.
            http_status=status if status != 200 else None,
        )
    if status >= 400 or "response" not in body:
        raise ResponseFormatError(
            f"HTTP {status} without a VK envelope",
            service=SERVICE,
            method=method,
            http_status=status,
        )
    return body


def json_object(response: requests.Response, *, method: str) -> Mapping[str, Any]:
    """The body as a JSON object, or ResponseFormatError."""
    try:
        body = response.json()
    except ValueError as exc:
        raise ResponseFormatError("reply is not JSON", service=SERVICE, method=method) from exc
    if not isinstance(body, Mapping):
        raise ResponseFormatError("reply is not a JSON object", service=SERVICE, method=method)
    return body
