"""VK API error codes, the exact messages VK sends, and the error envelope (docs/vk.md#errors)."""

from __future__ import annotations

import secrets
from typing import Any

# code -> the schema's short message. A detail, when VK gives one, follows after ": ".
MESSAGES: dict[int, str] = {
    1: "Unknown error occurred",
    3: "Unknown method passed",
    5: "User authorization failed",
    6: "Too many requests per second",
    7: "Permission to perform this action is denied",
    8: "Invalid request",
    9: "Flood control",
    10: "Internal server error",
    12: "Unable to compile code",
    13: "Runtime error occurred during code invocation",
    14: "Captcha needed",
    15: "Access denied",
    17: "Validation required",
    18: "User was deleted or banned",
    27: "Group authorization failed",
    29: "Rate limit reached",
    100: "One of the parameters specified was missing or invalid",
    121: "Invalid hash",
    129: "Invalid photo",
    203: "Access to group denied",
    205: "Access denied",
    1117: "Access token has expired",
    1400: "Too late for restore",
    1401: "Comments for this market are closed",
    1402: "Album not found",
    1403: "Item not found",
    1404: "Item already added to album",
    1405: "Too many items",
    1406: "Too many items in album",
    1407: "Too many albums",
    1408: "Item has bad links in description",
    1409: "Extended market not enabled",
    1410: "Variants not enabled",
    1433: "Invalid image crop format",
    1434: "Crop outside of image",
    1435: "Crop too small",
    1438: "Market not enabled",
    1446: "Main album can not be hidden",
    1457: "Failed to set album as main",
    1458: "Failed to unset album as main",
    1518: "Item is not deleted",
    1525: "Market is disabled",
    1526: "Market services are disabled",
}

# Live texts for the commonest cases (docs/vk.md#errors). Messages, not secrets.
INVALID_TOKEN = "invalid access_token (4)."  # noqa: S105
EXPIRED_TOKEN = "access_token has expired."  # noqa: S105
GROUP_AUTH = "method is unavailable with group auth."
TOKEN_REQUIRED = "token required"  # noqa: S105
NOTHING_TO_CHANGE = "nothing to change"
PHOTO_UNDEFINED = "photo is undefined"
PHOTO_TAKEN = "photo not found or already assigned to another item"


class VkApiError(Exception):
    """An error VK would answer with; ``extra`` adds keys such as captcha_sid."""

    def __init__(self, code: int, detail: str | None = None, **extra: Any) -> None:
        self.code = code
        base = MESSAGES.get(code, "Unknown error occurred")
        self.message = f"{base}: {detail}" if detail else base
        self.extra = extra
        super().__init__(self.message)

    def as_error(self, request_params: list[dict[str, str]] | None = None) -> dict[str, Any]:
        error: dict[str, Any] = {"error_code": self.code, "error_msg": self.message}
        error.update(self.extra)
        if request_params is not None:
            error["request_params"] = request_params
        return error

    def as_execute_error(self, method: str) -> dict[str, Any]:
        return {"method": method, "error_code": self.code, "error_msg": self.message}


def injected(code: int, captcha_style: str = "legacy") -> VkApiError:
    """The error for a fault code, with the extra keys VK adds for that code.

    Error 14 comes in two shapes (docs/vk.md#errors): ``legacy`` — an image to solve,
    ``captcha_sid`` + ``captcha_img``; ``redirect`` — today's "not a robot" page the user must
    open, ``redirect_uri`` + ``remixstlid`` (the cookie that page is bound to).
    """
    if code == 14 and captcha_style == "redirect":
        session = secrets.token_urlsafe(24)
        return VkApiError(
            code,
            redirect_uri=(
                "https://id.vk.com/not_robot_captcha?domain=vk.com"
                f"&session_token={session}&variant=popup&blank=1"
            ),
            remixstlid=str(secrets.randbelow(10**19)),
        )
    if code == 14:
        sid = str(secrets.randbelow(10**12))
        return VkApiError(
            code, captcha_sid=sid, captcha_img=f"https://api.vk.com/captcha.php?sid={sid}&s=1"
        )
    if code == 17:
        return VkApiError(code, redirect_uri="https://vk.com/login?act=validate")
    if code == 5:
        return VkApiError(code, INVALID_TOKEN)
    if code == 15:
        return VkApiError(code, TOKEN_REQUIRED)
    return VkApiError(code)


def param(detail_name: str, problem: str = "is invalid") -> VkApiError:
    """Error 100 naming the offending parameter, as VK does."""
    return VkApiError(100, f"{detail_name} {problem}")
