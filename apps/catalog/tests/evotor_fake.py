"""A tiny Evotor cloud behind `responses`, for refresh tests that need exact control of pages.

End-to-end behaviour against the real sandbox over HTTP lives in the e2e tests; this fake lets a
test say "page 3 of 5 fails" or "this product vanished" in one line.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlparse

import responses

BASE = "https://evotor.test"
USER = "01-000000000000042"
T0 = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def ts(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def store(n: int) -> dict:
    return {
        "id": f"20190315-7A1B-40C2-8095-3D6E11A0B7C{n}", "name": f"Магазин №{n}",
        "address": "г. Казань", "user_id": USER,
        "created_at": ts(T0), "updated_at": ts(T0),
    }


def group(store_id: str, n: int, parent: str | None = None) -> dict:
    body = {
        "id": f"5cd54680-5152-11e9-91c7-{n:012d}", "name": f"Группа {n}", "store_id": store_id,
        "user_id": USER, "created_at": ts(T0), "updated_at": ts(T0),
    }
    if parent:
        body["parent_id"] = parent
    return body


def product(store_id: str, n: int, **fields) -> dict:
    body = {
        "id": f"3c9e2a10-5b7d-4e21-9f00-{n:012d}", "type": "NORMAL", "name": f"Товар {n}",
        "code": str(n), "price": 100 + n, "cost_price": 50, "quantity": 5, "measure_name": "шт",
        "tax": "NO_VAT", "allow_to_sell": True, "description": "", "article_number": f"A-{n}",
        "barcodes": [f"46000000{n:05d}"], "store_id": store_id, "user_id": USER,
        "created_at": ts(T0), "updated_at": ts(T0 + timedelta(minutes=n % 10000)),
    }
    body.update(fields)
    return {key: value for key, value in body.items() if value is not ...}


class FakeEvotor:
    """Stores, groups and products served with cursor paging and `since`, like Evotor."""

    def __init__(self, mocker: responses.RequestsMock, page_size: int = 1000) -> None:
        self.mocker = mocker
        self.page_size = page_size
        self.stores: list[dict] = []
        self.groups: dict[str, list[dict]] = {}
        self.products: dict[str, list[dict]] = {}
        self.fail_product_page: int | None = None  # 1-based page that answers 500
        self.status_override: int | None = None
        self.requests: list[str] = []
        pattern = re.compile(rf"{re.escape(BASE)}/stores.*")
        mocker.add_callback(responses.GET, pattern, callback=self._serve)

    def add_store(self, n: int, groups: int = 0, products: int = 0) -> str:
        body = store(n)
        self.stores.append(body)
        sid = body["id"]
        self.groups[sid] = [group(sid, n * 1000 + i) for i in range(groups)]
        self.products[sid] = [product(sid, n * 100000 + i) for i in range(products)]
        return sid

    def _serve(self, request):
        self.requests.append(request.url)
        if self.status_override:
            return self.status_override, {}, '{"message": "no"}'
        url = urlparse(request.url)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        parts = url.path.strip("/").split("/")
        if parts == ["stores"]:
            return self._page(self.stores, query, None)
        kind = parts[2]
        items = (self.products if kind == "products" else self.groups)[parts[1]]
        return self._page(items, query, kind)

    def _page(self, items: list[dict], query: dict, kind: str | None):
        if "cursor" in query:
            since, offset = query["cursor"].split(":")
            since, offset = (int(since) if since else None), int(offset)
        else:
            since, offset = (int(query["since"]) if "since" in query else None), 0
        if since is not None:
            items = [i for i in items if _ms(i["updated_at"]) >= since]
        page_number = offset // self.page_size + 1
        if kind == "products" and self.fail_product_page == page_number:
            return 500, {}, "internal error"
        chunk = items[offset : offset + self.page_size]
        end = offset + self.page_size
        paging = {"next_cursor": f"{since or ''}:{end}"} if end < len(items) else {}
        return 200, {"Content-Type": "application/json"}, json.dumps(
            {"items": chunk, "paging": paging}
        )


def _ms(stamp: str) -> int:
    moment = datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%f%z")
    return int(moment.timestamp() * 1000)
