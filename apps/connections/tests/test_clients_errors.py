"""The shared exception hierarchy: classes, readable messages, no secrets."""

from __future__ import annotations

import pytest

from apps.connections.clients import (
    ApiError,
    AuthError,
    CaptchaError,
    ItemError,
    NotFoundError,
    PaymentRequiredError,
    PermanentError,
    RateLimitError,
    ResponseFormatError,
    TransientError,
)
from apps.connections.clients.errors import redact
from apps.connections.clients.vk_errors import error_class_for, vk_error


def test_hierarchy() -> None:
    assert issubclass(RateLimitError, TransientError)
    for cls in (NotFoundError, PaymentRequiredError, ResponseFormatError):
        assert issubclass(cls, PermanentError)
    for cls in (TransientError, AuthError, PermanentError, CaptchaError, ItemError):
        assert issubclass(cls, ApiError)
    assert not issubclass(ItemError, PermanentError)
    assert not issubclass(CaptchaError, TransientError)
    classes = (TransientError, AuthError, PermanentError, ItemError, CaptchaError)
    assert [c.kind for c in classes] == ["transient", "permanent", "permanent", "item", "captcha"]


def test_only_transient_errors_are_retryable_by_default() -> None:
    fields = {"service": "vk"}
    assert TransientError("x", **fields).retryable
    assert RateLimitError("x", retry_after=2, **fields).retryable
    assert not TransientError("x", retryable=False, **fields).retryable
    for cls in (AuthError, PermanentError, ItemError, CaptchaError):
        assert not cls("x", **fields).retryable


def test_str_names_service_method_code_and_status() -> None:
    error = NotFoundError("not found", service="evotor", method="GET /stores/1", http_status=404)
    assert str(error) == "evotor GET /stores/1: not found (HTTP 404)"
    assert repr(error) == "NotFoundError('evotor GET /stores/1: not found (HTTP 404)')"
    assert str(ItemError("Item not found", service="vk", code=1403)) == (
        "vk: Item not found (code 1403)"
    )


def test_long_or_multiline_messages_are_shortened() -> None:
    error = PermanentError("a\n" * 500, service="evotor")
    assert "\n" not in error.message and len(error.message) <= 300


def test_redact_replaces_every_secret() -> None:
    assert redact("token abc and abc again", ("abc", "")) == "token *** and *** again"


def test_vk_error_ignores_echoed_request_params() -> None:
    payload = {
        "error_code": 5,
        "error_msg": "User authorization failed: invalid access_token (4).",
        "request_params": [{"key": "access_token", "value": "SECRET"}],
    }
    error = vk_error(payload, method="market.get", secrets=("SECRET",))
    assert isinstance(error, AuthError) and "SECRET" not in repr(vars(error))


@pytest.mark.parametrize(
    ("code", "error_class"),
    [
        (1, TransientError), (10, TransientError), (6, RateLimitError), (9, RateLimitError),
        (29, RateLimitError), (5, AuthError), (1117, AuthError), (14, CaptchaError),
        (1438, PermanentError), (13, PermanentError), (100, ItemError), (1400, ItemError),
        (1402, ItemError), (1446, ItemError), (None, PermanentError),
    ],
)  # fmt: skip
def test_vk_code_table(code: int | None, error_class: type[ApiError]) -> None:
    assert error_class_for(code) is error_class
