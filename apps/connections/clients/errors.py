"""One exception hierarchy for every provider client (Evotor, VK API, VK ID).

Callers branch on the class, never on provider-specific details:

* ``TransientError`` (and ``RateLimitError``): try again later; the clients already retried the
  ones marked ``retryable`` with bounded back-off before raising.
* ``AuthError``: the token is invalid, expired, revoked or lacks access. Stop the run and mark the
  connection; retrying cannot help until the merchant reconnects.
* ``PermanentError`` (``NotFoundError``, ``PaymentRequiredError``, ``ResponseFormatError``): the
  request cannot succeed as sent; stop and record.
* ``CaptchaError``: VK wants a human (error 14). Not retried by the client; stop the run and try
  a later one. The token itself is fine.
* ``ItemError``: only the one item (VK market item, album, photo) failed; the run goes on.

No message ever carries a token: clients scrub provider texts before building an error, and the
error keeps only short, already-scrubbed fields (no request parameters, no URLs).
"""

from __future__ import annotations

from typing import Any, ClassVar

_MAX_MESSAGE = 300
_REDACTED = "***"


class ApiError(Exception):
    """Base class: a provider call did not give us what we asked for."""

    kind: ClassVar[str] = "permanent"
    retryable: bool = False

    def __init__(
        self,
        message: str,
        *,
        service: str,
        code: int | str | None = None,
        http_status: int | None = None,
        method: str | None = None,
    ) -> None:
        self.message = _shorten(message)
        self.service = service
        self.code = code
        self.http_status = http_status
        self.method = method
        super().__init__(self.message)

    def __str__(self) -> str:
        where = f"{self.service} {self.method}" if self.method else self.service
        details = []
        if self.code is not None:
            details.append(f"code {self.code}")
        if self.http_status is not None:
            details.append(f"HTTP {self.http_status}")
        suffix = f" ({', '.join(details)})" if details else ""
        return f"{where}: {self.message}{suffix}"

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class TransientError(ApiError):
    """Temporary failure (network, 5xx, provider overload). Safe to try again later.

    ``retryable`` is False when the client must not repeat the request on its own, e.g. a
    ``market.add`` whose reply was lost: VK may have created the item, so repeating it could
    create a duplicate. The caller's idempotency machinery (sku adoption) decides instead.
    """

    kind: ClassVar[str] = "transient"

    def __init__(self, message: str, *, retryable: bool = True, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.retryable = retryable


class RateLimitError(TransientError):
    """The provider asked us to slow down; ``retry_after`` seconds when it said how long."""

    def __init__(self, message: str, *, retry_after: float | None = None, **fields: Any) -> None:
        super().__init__(message, **fields)
        self.retry_after = retry_after


class AuthError(ApiError):
    """Token invalid, expired, revoked, of the wrong kind, or without access to the resource."""


class PermanentError(ApiError):
    """The request cannot succeed as sent (bad request, market disabled, ...)."""


class NotFoundError(PermanentError):
    """The requested resource does not exist (Evotor 404)."""


class PaymentRequiredError(PermanentError):
    """Evotor 402: the app is not paid for / not installed on the merchant's terminals."""


class ResponseFormatError(PermanentError):
    """The provider answered something we cannot interpret (not JSON, wrong shape)."""


class CaptchaError(ApiError):
    """VK error 14: a human must solve a captcha. The client never retries it."""

    kind: ClassVar[str] = "captcha"

    def __init__(
        self,
        message: str,
        *,
        captcha_sid: str | None = None,
        captcha_img: str | None = None,
        redirect_uri: str | None = None,
        **fields: Any,
    ) -> None:
        super().__init__(message, **fields)
        self.captcha_sid = captcha_sid
        self.captcha_img = captcha_img
        self.redirect_uri = redirect_uri


class ItemError(ApiError):
    """Only this item/album/photo failed (VK 100, 1403, 1408, ...); the run continues."""

    kind: ClassVar[str] = "item"


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """Return ``text`` with every secret replaced; used on anything a provider echoes back."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, _REDACTED)
    return text


def _shorten(message: str) -> str:
    message = " ".join(str(message).split())
    if len(message) > _MAX_MESSAGE:
        return message[: _MAX_MESSAGE - 1] + "…"
    return message
