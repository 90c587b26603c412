"""VK API client for the community market (docs/vk.md): items, albums, categories, groups,
product photos, and ``execute`` batching.

Every API request is a form-encoded POST to ``{base_url}/method/<name>`` with ``v`` and
``access_token``; VK reports errors with HTTP 200, so the envelope is checked before anything
else. Requests are paced by a per-token limiter shared across the process (3/s by default).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, TypeVar

import requests

from . import vk_calls as calls
from .base import DEFAULT_TIMEOUT, DEFAULT_USER_AGENT, HttpTransport, RetryPolicy, Sleep, Timeout
from .errors import ApiError, PermanentError, ResponseFormatError
from .parsing import MalformedPayload, as_mapping, opt_str
from .ratelimit import SHARED_LIMITERS, RateLimiter, RateLimiterRegistry
from .vk_calls import Param, VkCall, VkCallResult, VkItemFields, form_value
from .vk_errors import SERVICE, check_envelope
from .vk_execute import MAX_CALLS_PER_EXECUTE, build_code, chunks, map_results
from .vk_photos import UPLOAD_OP, VkPhotoFile, multipart_fields, parse_saved_bulk, upload_reply
from .vk_types import (
    VkAlbum,
    VkCategory,
    VkGroup,
    VkItemPage,
    VkItemState,
    VkMarketItem,
    VkSavedPhoto,
    parse_albums,
    parse_categories,
    parse_group,
    parse_groups_by_id,
    parse_saved_photo,
)

VK_BASE_URL = "https://api.vk.com"
VK_API_VERSION = "5.199"
USER_TOKEN_RATE = 3.0  # requests per second (docs/vk.md#rate-limits)
ALBUMS_PAGE = 100
GROUPS_PAGE = 1000
CATEGORIES_PAGE = 1000


class VkClient:
    """Client for one VK user token.

    ``requests_made`` counts HTTP requests (API calls, retries, uploads); an ``execute`` batch
    counts once, as it does for VK's limit. Not thread-safe itself; the rate limiter it uses is.
    """

    def __init__(
        self,
        token: str,
        *,
        base_url: str = VK_BASE_URL,
        version: str = VK_API_VERSION,
        timeout: Timeout = DEFAULT_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
        retry: RetryPolicy | None = None,
        rate: float = USER_TOKEN_RATE,
        rate_limiter: RateLimiter | None = None,
        limiters: RateLimiterRegistry | None = None,
        sleep: Sleep = time.sleep,
        rand: Callable[[], float] = random.random,
        session: requests.Session | None = None,
    ) -> None:
        if not token:
            raise ValueError("a VK token is required")
        self._token = token
        self._api_url = base_url.rstrip("/") + "/method/"
        self._version = version
        self._limiter = rate_limiter or (limiters or SHARED_LIMITERS).for_token(token, rate)
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

    def __repr__(self) -> str:
        return f"VkClient(api_url={self._api_url!r})"

    @property
    def requests_made(self) -> int:
        return self._http.requests_made

    # --- generic ---------------------------------------------------------------------------

    def call(self, method: str, params: Mapping[str, Param], *, idempotent: bool = True) -> Any:
        """Low-level: one method call, returning the raw ``response`` value. Prefer typed methods.

        Raises AuthError, CaptchaError, ItemError, PermanentError per the code (vk_errors),
        TransientError/RateLimitError after bounded retries, ResponseFormatError.
        """
        return self._request(method, params, idempotent=idempotent)["response"]

    def run(self, call: VkCall) -> Any:
        """Run one :class:`VkCall` alone; return its parsed value. Raises as :meth:`call`."""
        value = self.call(call.method, call.params, idempotent=call.idempotent)
        try:
            return call.parse(value)
        except MalformedPayload as exc:
            raise self._format_error(call.method, exc) from exc

    def execute(self, batch: Sequence[VkCall]) -> list[VkCallResult]:
        """Run calls through ``execute``, ≤25 per request; one result per call, in order.

        Per-call failures come back as ``VkCallResult.error`` (ItemError, AuthError, ...), never
        raised; inner calls that failed transiently (6/9/1/10) are re-sent in a new batch within
        the retry budget. Raises for a failure of a whole request: AuthError, CaptchaError,
        PermanentError (e.g. 13 runtime error), TransientError after retries — results of
        earlier requests are then lost, so for writes prefer :meth:`iter_execute`.
        """
        return [result for chunk in self.iter_execute(batch) for result in chunk]

    def iter_execute(self, batch: Sequence[VkCall]) -> Iterator[list[VkCallResult]]:
        """Like :meth:`execute`, yielding each request's results as soon as it is done, so a
        caller records what VK already applied before a later request raises. Raises as
        :meth:`execute`, at the request that failed."""
        for chunk in chunks(batch, MAX_CALLS_PER_EXECUTE):
            yield self._execute_with_inner_retries(chunk)

    # --- items -------------------------------------------------------------------------------

    def iter_item_pages(
        self,
        group_id: int,
        *,
        album_id: int | None = None,
        extended: bool = True,
        lean: bool = False,
    ) -> Iterator[VkItemPage]:
        """market.get page by page (count=200, offset += 200, hidden items included).

        Raises as :meth:`call` (1438/1525/1526 market disabled → PermanentError).
        """
        offset = 0
        while True:
            page = self.run(
                calls.market_get(group_id, offset=offset, album_id=album_id, extended=extended,
                                 lean=lean)
            )
            yield page
            offset += calls.MARKET_GET_MAX
            if not page.items or offset >= page.count:
                return

    def get_items(
        self,
        group_id: int,
        *,
        album_id: int | None = None,
        extended: bool = True,
        pages_per_request: int = MAX_CALLS_PER_EXECUTE,
    ) -> list[VkMarketItem]:
        """Every item of the community: the first page plainly (to learn ``count``), the rest
        as market.get calls batched through ``execute`` (``pages_per_request`` pages at once;
        1 means plain paging, one request per page).

        A read must be complete or fail: any page error is raised, never skipped, because a
        missing item would look deleted to the sync. Raises as :meth:`call`.
        """
        return self._all_items(group_id, album_id, extended, pages_per_request, lean=False)

    def get_item_states(
        self, group_id: int, *, pages_per_request: int = MAX_CALLS_PER_EXECUTE
    ) -> list[VkItemState]:
        """Every item of the community as :class:`VkItemState` — what a sync compares, read as
        :meth:`get_items` reads (same requests, complete or raised) at a fraction of the memory:
        each reply is parsed to the lean values and let go before the next is asked for."""
        return self._all_items(group_id, None, False, pages_per_request, lean=True)

    def _all_items(self, group_id, album_id, extended, pages_per_request, *, lean):
        if pages_per_request <= 1:
            pages = self.iter_item_pages(group_id, album_id=album_id, extended=extended,
                                         lean=lean)
            return _unique_items(item for page in pages for item in page.items)
        first = self.run(calls.market_get(group_id, album_id=album_id, extended=extended,
                                          lean=lean))
        offsets = range(calls.MARKET_GET_MAX, first.count, calls.MARKET_GET_MAX)
        page_calls = [
            calls.market_get(group_id, offset=o, album_id=album_id, extended=extended, lean=lean)
            for o in offsets
        ]
        pages = [first]
        for chunk in chunks(page_calls, min(pages_per_request, MAX_CALLS_PER_EXECUTE)):
            pages.extend(result.unwrap() for result in self.execute(chunk))
        return _unique_items(item for page in pages for item in page.items)

    def get_items_by_id(
        self, group_id: int, item_ids: Sequence[int], *, extended: bool = True
    ) -> list[VkMarketItem]:
        """market.getById in chunks of 100. A deleted item may still come back, with
        ``availability`` 1 (removed). Raises as :meth:`call`."""
        items: list[VkMarketItem] = []
        for start in range(0, len(item_ids), calls.GET_BY_ID_MAX):
            chunk = item_ids[start : start + calls.GET_BY_ID_MAX]
            items.extend(self.run(calls.market_get_by_id(group_id, chunk, extended=extended)).items)
        return items

    def add_item(self, group_id: int, fields: VkItemFields) -> int:
        """market.add; returns the new item id. Never repeated after a lost reply (that could
        duplicate the item): such a failure is a non-retryable TransientError.
        Raises ItemError (100, 1405, 1408, 1433-1435...), AuthError, PermanentError (1438)."""
        return int(self.run(calls.market_add(group_id, fields)))

    def edit_item(self, group_id: int, item_id: int, fields: VkItemFields) -> None:
        """market.edit. Raises ItemError (1403 item gone, 100 "nothing to change", 1408...),
        AuthError, PermanentError, TransientError."""
        self.run(calls.market_edit(group_id, item_id, fields))

    def delete_item(self, group_id: int, item_id: int) -> None:
        """market.delete. Raises ItemError (1403), AuthError (205), PermanentError (1438)."""
        self.run(calls.market_delete(group_id, item_id))

    def restore_item(self, group_id: int, item_id: int) -> None:
        """market.restore. Raises ItemError (1400 too late, 1403, 1518 not deleted), AuthError,
        PermanentError."""
        self.run(calls.market_restore(group_id, item_id))

    # --- albums --------------------------------------------------------------------------------

    def get_albums(self, group_id: int) -> list[VkAlbum]:
        """Every album of the community (count=100 pages). Raises as :meth:`call`."""
        albums: list[VkAlbum] = []
        while True:
            params = {
                "owner_id": calls.owner_id(group_id),
                "offset": len(albums),
                "count": ALBUMS_PAGE,
            }
            total, page = self.run(VkCall("market.getAlbums", params, parse_albums))
            albums.extend(page)
            if not page or total is None or len(albums) >= total:
                return albums

    def add_album(
        self,
        group_id: int,
        title: str,
        *,
        photo_id: int | None = None,
        main_album: bool | None = None,
        is_hidden: bool | None = None,
    ) -> int:
        """market.addAlbum; returns the album id. Not repeated after a lost reply.
        Raises ItemError (1407 too many albums, 1446), AuthError, PermanentError (1438)."""
        call = calls.market_add_album(
            group_id, title, photo_id=photo_id, main_album=main_album, is_hidden=is_hidden
        )
        return int(self.run(call))

    def edit_album(
        self,
        group_id: int,
        album_id: int,
        title: str,
        *,
        photo_id: int | None = None,
        main_album: bool | None = None,
        is_hidden: bool | None = None,
    ) -> None:
        """market.editAlbum. Raises ItemError (1402 not found, 1446, 1457/1458), AuthError,
        PermanentError."""
        self.run(
            calls.market_edit_album(
                group_id,
                album_id,
                title,
                photo_id=photo_id,
                main_album=main_album,
                is_hidden=is_hidden,
            )
        )

    def delete_album(self, group_id: int, album_id: int) -> None:
        """market.deleteAlbum. Raises ItemError (1402), AuthError, PermanentError (1438)."""
        self.run(calls.market_delete_album(group_id, album_id))

    def add_to_album(
        self, group_id: int, item_ids: Sequence[int], album_ids: Sequence[int]
    ) -> None:
        """market.addToAlbum with item lists. Raises ItemError (1402, 1403, 1404 already added,
        1406 album full), AuthError, PermanentError."""
        self.run(calls.market_add_to_album(group_id, item_ids, album_ids))

    def remove_from_album(self, group_id: int, item_id: int, album_ids: Sequence[int]) -> None:
        """market.removeFromAlbum (one item). Raises ItemError (1402, 1403), AuthError,
        PermanentError."""
        self.run(calls.market_remove_from_album(group_id, item_id, album_ids))

    # --- catalogue and community -------------------------------------------------------------

    def get_categories(self, *, group_id: int | None = None) -> list[VkCategory]:
        """market.getCategories in either reply shape, flattened. ``count`` is sent for the old
        flat API (which pages) and ignored by the tree one. Raises AuthError (27 with a
        community token), PermanentError, TransientError."""
        result: list[VkCategory] = []
        while True:
            params: dict[str, Param] = {"count": CATEGORIES_PAGE, "offset": len(result)}
            if group_id:
                params["group_id"] = group_id
            value = self.call("market.getCategories", params)
            page = self._parse(parse_categories, value, "market.getCategories")
            result.extend(page)
            total = as_mapping(value).get("count")
            if not page or not isinstance(total, int) or len(result) >= total:
                return result

    def get_group(self, group_id: int | str) -> VkGroup:
        """groups.getById with ``fields=market`` (id or screen name). Raises AuthError (5, 15),
        ItemError (100: VK's answer for an unknown id or screen name), PermanentError (an empty
        reply), TransientError, ResponseFormatError."""
        params = {"group_id": str(group_id), "fields": "market,description"}
        groups = self._parse(
            parse_groups_by_id, self.call("groups.getById", params), "groups.getById"
        )
        if not groups:
            raise PermanentError("no such community", service=SERVICE, method="groups.getById")
        return groups[0]

    def get_admin_groups(self) -> list[VkGroup]:
        """groups.get filter=admin, extended (communities the user administers, with market).
        Needs the ``groups`` scope (else AuthError 7/15). Raises as :meth:`call`."""
        groups: list[VkGroup] = []
        while True:
            params = {
                "filter": "admin",
                "extended": True,
                "fields": "market",
                "count": GROUPS_PAGE,
                "offset": len(groups),
            }
            value = as_mapping(self.call("groups.get", params))
            page = [self._parse(parse_group, g, "groups.get") for g in value.get("items") or []]
            groups.extend(page)
            total = value.get("count")
            if not page or not isinstance(total, int) or len(groups) >= total:
                return groups

    # --- product photos ------------------------------------------------------------------------

    def get_product_photo_upload_server(self, group_id: int, *, bulk: bool = False) -> str:
        """market.getProductPhotoUploadServer; the ``upload_url`` to POST the file to.
        Raises AuthError, PermanentError (1438), TransientError, ResponseFormatError."""
        params = {"group_id": group_id, "bulk": bulk}
        value = self.call("market.getProductPhotoUploadServer", params)
        url = opt_str(as_mapping(value).get("upload_url"))
        if url is None:
            raise self._format_error("market.getProductPhotoUploadServer", "no upload_url")
        return url

    def upload_photo_files(self, upload_url: str, files: Sequence[VkPhotoFile]) -> str:
        """POST images as multipart (``file``, or ``file1``..``fileN``) to ``upload_url`` exactly
        as VK gave it; return the upload server's JSON reply as a string, verbatim.
        Raises ItemError (image refused), TransientError (5xx/network), PermanentError (other
        HTTP errors), ResponseFormatError (not JSON)."""
        fields = multipart_fields(files)

        def attempt() -> str:
            response = self._http.send("POST", upload_url, op=UPLOAD_OP, files=dict(fields))
            return upload_reply(response, self._http.secrets)

        return self._http.with_retries(attempt)

    def save_product_photo(self, upload_response: str) -> VkSavedPhoto:
        """market.saveProductPhoto(upload_response=<upload reply JSON string>).
        Raises ItemError (bad photo), AuthError, PermanentError, TransientError."""
        params = {"upload_response": upload_response}
        value = self.call("market.saveProductPhoto", params)
        return self._parse(parse_saved_photo, value, "market.saveProductPhoto")

    def upload_product_photo(self, group_id: int, photo: VkPhotoFile) -> VkSavedPhoto:
        """The whole flow for one image: upload server → multipart upload → save.
        Raises as the three steps do (ItemError when VK refuses the image)."""
        url = self.get_product_photo_upload_server(group_id)
        return self.save_product_photo(self.upload_photo_files(url, [photo]))

    def upload_product_photos_bulk(
        self, group_id: int, photos: Sequence[VkPhotoFile]
    ) -> list[VkSavedPhoto]:
        """Bulk variant: upload server with ``bulk=1``, one multipart POST with ``file1``..,
        then market.saveProductPhotoBulk. Results in upload order. Raises as
        :meth:`upload_product_photo`."""
        url = self.get_product_photo_upload_server(group_id, bulk=True)
        upload_response = self.upload_photo_files(url, photos)
        value = self.call("market.saveProductPhotoBulk", {"upload_response": upload_response})
        return self._parse(parse_saved_bulk, value, "market.saveProductPhotoBulk")

    # --- plumbing ----------------------------------------------------------------------------

    def _request(
        self, method: str, params: Mapping[str, Param], *, idempotent: bool
    ) -> Mapping[str, Any]:
        """POST one method with retries; return the whole envelope (execute needs its errors)."""
        data = {key: form_value(value) for key, value in params.items()}
        data.update({"v": self._version, "access_token": self._token})
        url = self._api_url + method

        def attempt() -> Mapping[str, Any]:
            self._limiter.acquire(sleep=self._http.sleep)
            response = self._http.send("POST", url, op=method, data=data, idempotent=idempotent)
            return check_envelope(
                response, method=method, secrets=self._http.secrets, idempotent=idempotent
            )

        return self._http.with_retries(attempt)

    def _execute_with_inner_retries(self, chunk: list[VkCall]) -> list[VkCallResult]:
        results = self._execute_once(chunk)
        for attempt in range(1, self._http.retry.max_attempts):
            pending = [i for i, r in enumerate(results) if _retry_inner(r)]
            if not pending:
                break
            self._http.sleep(self._http.retry.backoff(attempt, self._http.rand))
            for i, result in zip(
                pending, self._execute_once([chunk[i] for i in pending]), strict=True
            ):
                results[i] = result
        return results

    def _execute_once(self, chunk: list[VkCall]) -> list[VkCallResult]:
        idempotent = all(call.idempotent for call in chunk)
        body = self._request("execute", {"code": build_code(chunk)}, idempotent=idempotent)
        return map_results(chunk, body, secrets=self._http.secrets)

    def _parse(self, parse: Callable[[Any], Any], value: Any, method: str) -> Any:
        try:
            return parse(value)
        except MalformedPayload as exc:
            raise self._format_error(method, exc) from exc

    def _format_error(self, method: str, reason: object) -> ApiError:
        return ResponseFormatError(
            self._http.scrub(f"unexpected reply: {reason}"), service=SERVICE, method=method
        )


def _retry_inner(result: VkCallResult) -> bool:
    error = result.error
    return error is not None and error.retryable


_Item = TypeVar("_Item", VkMarketItem, VkItemState)


def _unique_items(items: Iterator[_Item]) -> list[_Item]:
    # Offsets shift if someone edits the market while we page; never report an item twice.
    seen: dict[int, _Item] = {}
    for item in items:
        seen.setdefault(item.id, item)
    return list(seen.values())
