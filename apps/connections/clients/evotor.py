"""Evotor Cloud REST API v2 client (docs/evotor.md): stores, product groups, products, images.

Read-only. Pure HTTP: everything it needs is passed to the constructor.
"""

from __future__ import annotations

import enum
import random
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote

import requests

from .base import (
    DEFAULT_TIMEOUT,
    DEFAULT_USER_AGENT,
    Clock,
    HttpTransport,
    RetryPolicy,
    Sleep,
    Timeout,
    json_body,
)
from .errors import (
    ApiError,
    AuthError,
    NotFoundError,
    PaymentRequiredError,
    PermanentError,
    RateLimitError,
    ResponseFormatError,
    TransientError,
)
from .evotor_types import (
    EvotorPage,
    EvotorProduct,
    EvotorProductGroup,
    EvotorProductImage,
    EvotorStore,
    parse_page,
    parse_product,
    parse_product_group,
    parse_product_image,
    parse_store,
)
from .parsing import (
    MalformedPayload,
    as_list,
    as_mapping,
    opt_str,
    text,
    to_decimal,
    to_epoch_ms,
)

SERVICE = "evotor"
EVOTOR_BASE_URL = "https://api.evotor.ru"
MEDIA_TYPE = "application/vnd.evotor.v2+json"
# Defensive cap: a cursor chain longer than this is a provider bug, not a catalogue.
MAX_PAGES = 10_000
MAX_IMAGE_BYTES = 20 * 1024 * 1024

T = TypeVar("T")


class EvotorAuthHeader(enum.Enum):
    """How the token is sent (docs/evotor.md#base-url-and-headers lists all these forms as seen in
    the wild)."""

    BEARER = "bearer"  # Authorization: Bearer <token>  (current docs)
    RAW = "raw"  # Authorization: <token>
    X_AUTHORIZATION = "x-authorization"  # X-Authorization: <token>  (2017-18 docs, Java SDK)
    BOTH = "both"  # X-Authorization and Authorization: Bearer


def auth_headers(token: str, form: EvotorAuthHeader) -> dict[str, str]:
    if form is EvotorAuthHeader.RAW:
        return {"Authorization": token}
    if form is EvotorAuthHeader.X_AUTHORIZATION:
        return {"X-Authorization": token}
    if form is EvotorAuthHeader.BOTH:
        return {"X-Authorization": token, "Authorization": f"Bearer {token}"}
    return {"Authorization": f"Bearer {token}"}


class EvotorClient:
    """Client for one merchant's Evotor cloud token.

    ``requests_made`` counts HTTP requests sent (retries included). Not thread-safe: create one
    client per job. ``sleep`` and ``clock`` are injectable so tests never really wait.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = EVOTOR_BASE_URL,
        timeout: Timeout = DEFAULT_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
        auth_header: EvotorAuthHeader | str = EvotorAuthHeader.BEARER,
        retry: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Clock = time.monotonic,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
    ) -> None:
        if not token:
            raise ValueError("an Evotor token is required")
        self._base_url = base_url.rstrip("/")
        self._auth = auth_headers(token, EvotorAuthHeader(auth_header))
        self._clock = clock
        self._not_before = 0.0
        self._http = HttpTransport(
            service=SERVICE,
            user_agent=user_agent,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            sleep=sleep,
            rand=rand,
            session=session,
            secrets=(token,),
        )

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    # --- stores -----------------------------------------------------------------------------

    def list_stores(self) -> list[EvotorStore]:
        """All stores of the merchant (E1, every page).

        Raises AuthError (401/403), PaymentRequiredError (402), TransientError (429/5xx/network
        after retries), PermanentError / ResponseFormatError otherwise.
        """
        return [s for page in self.iter_store_pages() for s in page.items]

    def iter_store_pages(self) -> Iterator[EvotorPage[EvotorStore]]:
        """Stores page by page (E1). Raises as :meth:`list_stores`."""
        return self._iter_pages("/stores", parse_store, {})

    def get_store(self, store_id: str) -> EvotorStore:
        """One store (E2). Raises NotFoundError (404) and as :meth:`list_stores`."""
        return self._get_one(f"/stores/{_seg(store_id)}", parse_store)

    # --- product groups -----------------------------------------------------------------------

    def list_product_groups(
        self, store_id: str, *, since: datetime | int | None = None, limit: int | None = None
    ) -> list[EvotorProductGroup]:
        """All groups of a store (E3); ``since`` (aware datetime or epoch ms) filters by update.

        Raises as :meth:`list_stores`; NotFoundError for an unknown store.
        """
        pages = self.iter_product_group_pages(store_id, since=since, limit=limit)
        return [g for page in pages for g in page.items]

    def iter_product_group_pages(
        self, store_id: str, *, since: datetime | int | None = None, limit: int | None = None
    ) -> Iterator[EvotorPage[EvotorProductGroup]]:
        """Groups page by page (E3). Raises as :meth:`list_product_groups`."""
        path = f"/stores/{_seg(store_id)}/product-groups"
        return self._iter_pages(path, parse_product_group, _first_page_params(since, limit))

    def get_product_group(self, store_id: str, group_id: str) -> EvotorProductGroup:
        """One group (E4). Raises NotFoundError (404) and as :meth:`list_stores`."""
        path = f"/stores/{_seg(store_id)}/product-groups/{_seg(group_id)}"
        return self._get_one(path, parse_product_group)

    # --- products -------------------------------------------------------------------------------

    def list_products(
        self, store_id: str, *, since: datetime | int | None = None, limit: int | None = None
    ) -> list[EvotorProduct]:
        """All products and modifications of a store (E5). Prefer :meth:`iter_product_pages`
        for big catalogues: it holds one page in memory at a time.

        Raises as :meth:`list_stores`; NotFoundError for an unknown store.
        """
        pages = self.iter_product_pages(store_id, since=since, limit=limit)
        return [p for page in pages for p in page.items]

    def iter_product_pages(
        self, store_id: str, *, since: datetime | int | None = None, limit: int | None = None
    ) -> Iterator[EvotorPage[EvotorProduct]]:
        """Products page by page (E5): ``since``/``limit`` go with the first request only, later
        requests carry only ``cursor`` (docs/evotor.md#paging). Raises as :meth:`list_products`."""
        path = f"/stores/{_seg(store_id)}/products"
        return self._iter_pages(path, parse_product, _first_page_params(since, limit))

    def get_product(self, store_id: str, product_id: str) -> EvotorProduct:
        """One product (E6). Raises NotFoundError (404) and as :meth:`list_stores`."""
        path = f"/stores/{_seg(store_id)}/products/{_seg(product_id)}"
        return self._get_one(path, parse_product)

    def list_product_images(self, store_id: str, product_id: str) -> list[EvotorProductImage]:
        """The product's images (E7; needs the ``product.image:read`` scope, else 403).

        Raises NotFoundError (404) and as :meth:`list_stores`.
        """
        path = f"/stores/{_seg(store_id)}/products/{_seg(product_id)}/images"
        return [i for page in self._iter_pages(path, parse_product_image, {}) for i in page.items]

    def download_image(self, url: str, *, max_bytes: int = MAX_IMAGE_BYTES) -> bytes:
        """Bytes of an image ``url`` from :meth:`list_product_images`.

        The token is sent only when the URL is on the API host: image hosts are elsewhere and
        must not see it. Raises TransientError (5xx/network), PermanentError (4xx or larger than
        ``max_bytes``), AuthError (401/403 from the API host).
        """
        headers = self._auth if url.startswith(self._base_url + "/") else {}

        def attempt() -> bytes:
            response = self._http.send("GET", url, op="GET image", headers=headers, stream=True)
            with response:
                self._raise_for_status(response, "GET image")
                return _read_limited(response, max_bytes, self._error)

        return self._http.with_retries(attempt)

    # --- plumbing ---------------------------------------------------------------------------

    def _iter_pages(
        self, path: str, parse_item: Callable[[Any], T], first_params: Mapping[str, Any]
    ) -> Iterator[EvotorPage[T]]:
        params: Mapping[str, Any] = first_params
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            body = self._get_json(path, params)
            page = self._parse(lambda b: parse_page(b, parse_item), body, f"GET {path}")
            yield page
            cursor = page.next_cursor
            # Stop on a missing/empty cursor (last page is "paging": {}) and, defensively, on one
            # we already followed: a server bug must not make us loop forever.
            if not cursor or cursor in seen:
                return
            seen.add(cursor)
            params = {"cursor": cursor}
        raise self._error(ResponseFormatError, f"more than {MAX_PAGES} pages", f"GET {path}")

    def _get_one(self, path: str, parse: Callable[[Any], T]) -> T:
        return self._parse(parse, self._get_json(path, {}), f"GET {path}")

    def _parse(self, parse: Callable[[Any], T], body: Any, op: str) -> T:
        try:
            return parse(body)
        except MalformedPayload as exc:
            raise self._error(ResponseFormatError, f"unexpected reply: {exc}", op) from exc

    def _get_json(self, path: str, params: Mapping[str, Any]) -> Any:
        op = f"GET {path}"
        headers = {"Accept": MEDIA_TYPE, **self._auth}

        def attempt() -> Any:
            self._wait_for_window()
            response = self._http.send(
                "GET", self._base_url + path, op=op, params=dict(params), headers=headers
            )
            self._remember_window(response)
            self._raise_for_status(response, op)
            try:
                return json_body(response)
            except ValueError as exc:
                raise self._error(ResponseFormatError, "reply is not JSON", op, response) from exc

        return self._http.with_retries(attempt)

    def _wait_for_window(self) -> None:
        wait = self._not_before - self._clock()
        if wait > 0:
            self._http.sleep(wait)

    def _remember_window(self, response: requests.Response) -> None:
        # Evotor announces the budget on every reply; when it is spent, wait for the reset
        # ourselves rather than provoke a 429 (docs/evotor.md#rate-limits).
        remaining = to_decimal(response.headers.get("X-RateLimit-Remaining"))
        reset = _seconds(response.headers.get("X-RateLimit-Reset"))
        if remaining is not None and remaining <= 0 and reset is not None:
            self._not_before = self._clock() + min(reset, self._http.retry.max_wait)

    def _raise_for_status(self, response: requests.Response, op: str) -> None:
        status = response.status_code
        if status < 400:
            return
        if status == 429:
            raise self._rate_limited(response, op)
        error_class = _STATUS_ERRORS.get(status)
        if error_class is None:
            error_class = TransientError if status >= 500 else PermanentError
        raise self._error(error_class, _error_message(response), op, response)

    def _rate_limited(self, response: requests.Response, op: str) -> RateLimitError:
        # Retry-After is not documented for Evotor but is honoured first if a proxy adds it.
        headers = response.headers
        retry_after = _seconds(headers.get("Retry-After"))
        if retry_after is None:
            retry_after = _seconds(headers.get("X-RateLimit-Reset"))
        return RateLimitError(
            self._http.scrub(_error_message(response)),
            retry_after=retry_after,
            service=SERVICE,
            method=op,
            http_status=429,
        )

    def _error(
        self,
        error_class: type[ApiError],
        message: str,
        op: str,
        response: requests.Response | None = None,
    ) -> ApiError:
        status = response.status_code if response is not None else None
        code = _body_code(response) if response is not None else None
        return error_class(
            self._http.scrub(message), service=SERVICE, method=op, http_status=status, code=code
        )


_STATUS_ERRORS: dict[int, type[ApiError]] = {
    401: AuthError,
    403: AuthError,
    402: PaymentRequiredError,
    404: NotFoundError,
}


def _seg(value: str) -> str:
    """A path segment; ids come from our database, but never let one escape its segment."""
    if not value:
        raise ValueError("empty id")
    return quote(str(value), safe="")


def _first_page_params(since: datetime | int | None, limit: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if since is not None:
        params["since"] = to_epoch_ms(since) if isinstance(since, datetime) else int(since)
    if limit is not None:
        if limit < 1:
            raise ValueError("limit must be positive")
        params["limit"] = limit
    return params


def _seconds(value: str | None) -> float | None:
    number = to_decimal(value)
    return float(number) if number is not None and number >= 0 else None


def _json_or_none(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _body_code(response: requests.Response) -> int | str | None:
    body = _json_or_none(response)
    if isinstance(body, Mapping) and body.get("code") is not None:
        return opt_str(body.get("code"))
    first = as_mapping(next(iter(as_list(as_mapping(body).get("errors"))), None))
    code = first.get("code")
    return code if isinstance(code, int | str) and not isinstance(code, bool) else None


def _error_message(response: requests.Response) -> str:
    """A readable reason: the SDK's {code, message, violations}, {errors: [...]}, or text."""
    body = _json_or_none(response)
    obj = as_mapping(body)
    parts = [opt_str(obj.get("message")) or ""]
    for violation in map(as_mapping, as_list(obj.get("violations"))):
        parts.append(f"{text(violation.get('subject'))}: {text(violation.get('reason'))}")
    for error in map(as_mapping, as_list(obj.get("errors"))):
        parts.append(" ".join(text(error.get(k)) for k in ("code", "reason", "subject")))
    message = "; ".join(p.strip() for p in parts if p.strip())
    if not message and body is None:
        message = response.text[:200].strip()
    return message or response.reason or f"HTTP {response.status_code}"


def _read_limited(
    response: requests.Response, max_bytes: int, error: Callable[..., ApiError]
) -> bytes:
    chunks: list[bytes] = []
    size = 0
    for chunk in response.iter_content(chunk_size=64 * 1024):
        size += len(chunk)
        if size > max_bytes:
            raise error(PermanentError, f"image larger than {max_bytes} bytes", "GET image")
        chunks.append(chunk)
    return b"".join(chunks)
