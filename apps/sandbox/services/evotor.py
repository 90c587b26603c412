"""The fake Evotor cloud API (docs/evotor.md): auth, paging, ``since``, rate limits."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db.models import Model, QuerySet

from apps.sandbox.models import (
    EvotorAccount,
    EvotorProduct,
    EvotorProductGroup,
    EvotorProductImage,
    EvotorStore,
    SandboxConfig,
)

from . import evotor_json, images
from .ratelimit import RateWindow, hit

MEDIA_TYPE = "application/vnd.evotor.v2+json"
CONTENT_TYPE = f"{MEDIA_TYPE};charset=UTF-8"
DEFAULT_LIMIT = 1000
ACCEPTABLE = ("*/*", "application/*", "application/json", MEDIA_TYPE)

M = TypeVar("M", bound=Model)


class EvotorError(Exception):
    """An HTTP error answer. Bodies of 401/403/404/429 are undocumented
    (docs/evotor.md#status-codes); we use the Java SDK's ``{code, message, violations}`` shape
    for all of them."""

    def __init__(
        self, status: int, code: str, message: str, violations: list[dict[str, str]] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.body: dict[str, Any] = {"code": code, "message": message}
        if violations:
            self.body["violations"] = violations


def bad_parameter(subject: str, reason: str) -> EvotorError:
    return EvotorError(
        400,
        "invalid_parameter",
        "Request parameters are invalid",
        [{"subject": subject, "reason": reason}],
    )


def not_found(what: str) -> EvotorError:
    return EvotorError(404, "not_found", f"{what} not found")


# --- authentication ---------------------------------------------------------------------------


def token_from_headers(headers: Mapping[str, str]) -> str | None:
    """The token from ``X-Authorization: <t>``, ``Authorization: Bearer <t>`` or a raw
    ``Authorization: <t>`` — all three are seen in the wild
    (docs/evotor.md#base-url-and-headers)."""
    x_auth = headers.get("X-Authorization", "").strip()
    if x_auth:
        return x_auth
    value = headers.get("Authorization", "").strip()
    scheme, _sep, rest = value.partition(" ")
    if rest and scheme.lower() == "bearer":
        return rest.strip()
    return value or None


def authenticate(headers: Mapping[str, str]) -> EvotorAccount:
    """The account of the presented token; 401 for none/unknown, 403 after uninstall."""
    token = token_from_headers(headers)
    if not token:
        raise EvotorError(401, "unauthorized", "Authorization token is missing")
    account = EvotorAccount.objects.filter(token=token).first()
    # compare_digest on the stored value: the lookup already matched, this only keeps a
    # case-insensitive database collation (MariaDB) from accepting a token in other case.
    if account is None or not hmac.compare_digest(account.token, token):
        raise EvotorError(401, "unauthorized", "Authorization token is invalid")
    if account.is_revoked:
        raise EvotorError(403, "forbidden", "The user has not installed the application")
    return account


def check_accept(accept: str) -> None:
    """406 when the client accepts nothing we produce (observed status,
    docs/evotor.md#status-codes)."""
    if not accept.strip():
        return
    for part in accept.split(","):
        media = part.split(";")[0].strip().lower()
        if media in ACCEPTABLE:
            return
    raise EvotorError(406, "not_acceptable", f"Only {MEDIA_TYPE} is produced")


def count_request(account: EvotorAccount, config: SandboxConfig) -> RateWindow:
    """Per-user window (docs/evotor.md#rate-limits); the caller turns an exceeded window into
    429."""
    return hit(
        "evotor",
        account.user_id,
        limit=config.evotor_rate_limit,
        window=config.evotor_rate_window,
    )


def rate_headers(window: RateWindow) -> dict[str, str]:
    return {
        "X-RateLimit-Limit": str(window.limit),
        "X-RateLimit-Remaining": str(window.remaining),
        "X-RateLimit-Reset": str(window.reset_seconds),
    }


# --- paging ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """Where a page starts. Cursors freeze ``since`` and ``limit`` of the first request, because
    later requests carry only ``cursor`` (docs/evotor.md#paging)."""

    resource: str
    scope: int
    after: int = 0
    since: int | None = None
    limit: int = DEFAULT_LIMIT

    def cursor_after(self, last_pk: int) -> str:
        raw = json.dumps(
            {"r": self.resource, "s": self.scope, "a": last_pk, "t": self.since, "l": self.limit},
            separators=(",", ":"),
        )
        return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def page_request(query: Mapping[str, str], resource: str, scope: int) -> PageRequest:
    """Read ``cursor`` (alone wins), else ``since`` and ``limit``; 400 for bad values."""
    cursor = query.get("cursor")
    if cursor:
        return _decode_cursor(cursor, resource, scope)
    return PageRequest(
        resource=resource,
        scope=scope,
        since=_int_param(query, "since", minimum=0),
        limit=_int_param(query, "limit", minimum=1, maximum=DEFAULT_LIMIT) or DEFAULT_LIMIT,
    )


def _int_param(
    query: Mapping[str, str], name: str, *, minimum: int, maximum: int | None = None
) -> int | None:
    raw = query.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise bad_parameter(name, "must be an integer") from None
    if value < minimum or (maximum is not None and value > maximum):
        upper = f"..{maximum}" if maximum is not None else " or more"
        raise bad_parameter(name, f"must be {minimum}{upper}")
    return value


def _decode_cursor(cursor: str, resource: str, scope: int) -> PageRequest:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        request = PageRequest(
            resource=data["r"],
            scope=data["s"],
            after=int(data["a"]),
            since=data["t"],
            limit=int(data["l"]),
        )
    except (ValueError, KeyError, TypeError, binascii.Error):
        raise bad_parameter("cursor", "is not a valid cursor") from None
    if request.resource != resource or request.scope != scope:
        raise bad_parameter("cursor", "belongs to another listing")
    return request


def since_moment(epoch_ms: int) -> datetime:
    return datetime.fromtimestamp(epoch_ms / 1000, tz=UTC)


def fetch_page(
    queryset: QuerySet[M], request: PageRequest, render: Callable[[M], dict[str, Any]]
) -> dict[str, Any]:
    """Keyset paging on the primary key: one query per page whatever the catalogue size."""
    if request.since is not None:
        queryset = queryset.filter(updated_at__gte=since_moment(request.since))
    rows = list(queryset.filter(pk__gt=request.after).order_by("pk")[: request.limit + 1])
    next_cursor = None
    if len(rows) > request.limit:
        rows = rows[: request.limit]
        next_cursor = request.cursor_after(rows[-1].pk)
    return evotor_json.page_json([render(row) for row in rows], next_cursor)


# --- resources --------------------------------------------------------------------------------


def get_store(account: EvotorAccount, store_id: str) -> EvotorStore:
    # Ids are compared case-insensitively: clients print GUIDs in either case
    # (docs/evotor.md#conventions).
    store = EvotorStore.objects.filter(account=account, evotor_id__iexact=store_id).first()
    if store is None:
        raise not_found("Store")
    store.account = account  # already loaded: spares a query per rendered row
    return store


def stores_page(account: EvotorAccount, query: Mapping[str, str]) -> dict[str, Any]:
    request = page_request(query, "stores", account.pk)
    return fetch_page(
        EvotorStore.objects.filter(account=account),
        request,
        lambda store: evotor_json.store_json(store, account.user_id),
    )


def groups_page(store: EvotorStore, query: Mapping[str, str]) -> dict[str, Any]:
    request = page_request(query, "product-groups", store.pk)
    return fetch_page(
        EvotorProductGroup.objects.filter(store=store),
        request,
        lambda group: evotor_json.group_json(group, store.evotor_id, store.account.user_id),
    )


def products_page(store: EvotorStore, query: Mapping[str, str]) -> dict[str, Any]:
    request = page_request(query, "products", store.pk)
    account = store.account
    with_quantity = account.has_scope("product.quantity:read")
    return fetch_page(
        EvotorProduct.objects.filter(store=store),
        request,
        lambda product: evotor_json.product_json(
            product, store.evotor_id, account.user_id, with_quantity=with_quantity
        ),
    )


def get_group(store: EvotorStore, group_id: str) -> dict[str, Any]:
    group = EvotorProductGroup.objects.filter(store=store, evotor_id=group_id).first()
    if group is None:
        raise not_found("Product group")
    return evotor_json.group_json(group, store.evotor_id, store.account.user_id)


def find_product(store: EvotorStore, product_id: str) -> EvotorProduct:
    product = EvotorProduct.objects.filter(store=store, evotor_id=product_id).first()
    if product is None:
        raise not_found("Product")
    return product


def get_product(store: EvotorStore, product_id: str) -> dict[str, Any]:
    account = store.account
    return evotor_json.product_json(
        find_product(store, product_id),
        store.evotor_id,
        account.user_id,
        with_quantity=account.has_scope("product.quantity:read"),
    )


def product_images(
    store: EvotorStore, product_id: str, image_url: Callable[[str], str]
) -> dict[str, Any]:
    """E7: needs ``product.image:read`` (403 without it)."""
    if not store.account.has_scope("product.image:read"):
        raise EvotorError(403, "forbidden", "The application lacks product.image:read")
    product = find_product(store, product_id)
    items = [
        evotor_json.image_json(
            image, product, store.evotor_id, store.account.user_id, image_url(image.evotor_id)
        )
        for image in product.images.order_by("pk")
    ]
    return evotor_json.page_json(items, None)


def image_bytes(image_id: str) -> bytes | None:
    """The PNG behind an image URL, or None for an id no product has."""
    if not EvotorProductImage.objects.filter(evotor_id=image_id).exists():
        return None
    return images.evotor_image(image_id)
