"""VK method calls as values: what to call, with which parameters, and how to read the reply.

The same :class:`VkCall` runs on its own (``VkClient.run``) or inside an ``execute`` batch
(``VkClient.execute``), so a market write is described once whatever the transport.
Communities are passed as their positive ``group_id``; the negative ``owner_id`` that market
methods want is derived here, so no caller has to remember the sign.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from .errors import ApiError
from .parsing import MalformedPayload, as_mapping, to_int
from .vk_types import parse_item_page

_METHOD_NAME = re.compile(r"^[a-z]+\.[A-Za-z]+$")
_CENTS = Decimal("0.01")
# A repeated market.add / addAlbum after a lost reply may create a second item / album.
NON_IDEMPOTENT_METHODS = frozenset({"market.add", "market.addAlbum"})
MARKET_GET_MAX = 200
GET_BY_ID_MAX = 100

Param = str | int | Decimal | bool | Sequence[int] | Sequence[str]


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class VkCall:
    """One API method call; ``parse`` turns its ``response`` value into a typed result."""

    method: str
    params: Mapping[str, Param]
    parse: Callable[[Any], Any] = field(default=_identity, compare=False)

    def __post_init__(self) -> None:
        # The name is spliced into VKScript code, so it must be a plain "section.method".
        if not _METHOD_NAME.match(self.method):
            raise ValueError(f"not a VK method name: {self.method!r}")

    @property
    def idempotent(self) -> bool:
        return self.method not in NON_IDEMPOTENT_METHODS


@dataclass(frozen=True)
class VkCallResult:
    """Outcome of one call in a batch: ``value`` (parsed) or ``error`` (never raised here)."""

    call: VkCall
    value: Any = None
    error: ApiError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def unwrap(self) -> Any:
        """The value, or raise the call's error."""
        if self.error is not None:
            raise self.error
        return self.value


@dataclass(frozen=True)
class VkItemFields:
    """Writable fields of a market item (market.add / market.edit). None = not sent.

    ``price`` / ``old_price`` are rubles (Decimal); VK takes currency units on input although it
    answers in kopecks (docs/vk.md#prices).
    """

    name: str | None = None
    description: str | None = None
    category_id: int | None = None
    price: Decimal | None = None
    old_price: Decimal | None = None
    deleted: bool | None = None
    main_photo_id: int | None = None
    photo_ids: tuple[int, ...] | None = None
    url: str | None = None
    sku: str | None = None
    stock_amount: int | None = None
    dimension_width: int | None = None
    dimension_height: int | None = None
    dimension_length: int | None = None
    weight: int | None = None

    def to_params(self) -> dict[str, Param]:
        params: dict[str, Param] = {}
        for name in self.__dataclass_fields__:
            value = getattr(self, name)
            if value is None:
                continue
            params[name] = format_price(value) if name in ("price", "old_price") else value
        return params


def format_price(amount: Decimal) -> str:
    """Rubles as VK wants them: a plain decimal string with a dot, 2 places ("1499.90")."""
    return f"{Decimal(amount).quantize(_CENTS, rounding=ROUND_HALF_UP):f}"


def form_value(value: Param) -> str:
    """Form encoding of a parameter: lists comma-separated, booleans as 1/0
    (docs/vk.md#transport-and-envelope)."""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, Decimal):
        return format_price(value)
    if isinstance(value, str | int):
        return str(value)
    return ",".join(str(v) for v in value)


def script_value(value: Param) -> str | int:
    """The same value for a VKScript object literal (numbers stay numbers)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return form_value(value)


def owner_id(group_id: int) -> int:
    """Market methods address a community by its negative id."""
    if group_id <= 0:
        raise ValueError("group_id must be the community's positive id")
    return -group_id


def _ok(value: Any) -> None:
    # Success is 1; anything falsy would mean VK did not do it (false is handled by execute).
    if value is None or isinstance(value, bool | int) and not value:
        raise MalformedPayload(f"expected 1, got {str(value)[:50]!r}")


def _market_item_id(value: Any) -> int:
    ident = to_int(as_mapping(value).get("market_item_id"))
    if ident is None:
        raise MalformedPayload("market.add reply without market_item_id")
    return ident


def _market_album_id(value: Any) -> int:
    ident = to_int(as_mapping(value).get("market_album_id"))
    if ident is None:
        raise MalformedPayload("market.addAlbum reply without market_album_id")
    return ident


def market_get(
    group_id: int,
    *,
    offset: int = 0,
    count: int = MARKET_GET_MAX,
    album_id: int | None = None,
    extended: bool = True,
    with_disabled: bool = True,
    lean: bool = False,
) -> VkCall:
    """One page of items; value: VkItemPage (of VkItemState when ``lean``). ``with_disabled``
    so hidden items are seen too."""
    params: dict[str, Param] = {
        "owner_id": owner_id(group_id),
        "offset": offset,
        "count": count,
        "extended": extended,
        "with_disabled": with_disabled,
    }
    if album_id:
        params["album_id"] = album_id
    return VkCall("market.get", params, lambda v: parse_item_page(v, offset, lean=lean))


def market_get_by_id(group_id: int, item_ids: Sequence[int], *, extended: bool = True) -> VkCall:
    """Up to 100 items by id; value: VkItemPage (removed items come back with availability 1)."""
    if len(item_ids) > GET_BY_ID_MAX:
        raise ValueError(f"market.getById takes at most {GET_BY_ID_MAX} ids")
    refs = [f"{owner_id(group_id)}_{item_id}" for item_id in item_ids]
    return VkCall(
        "market.getById", {"item_ids": refs, "extended": extended}, lambda v: parse_item_page(v, 0)
    )


def market_add(group_id: int, fields: VkItemFields) -> VkCall:
    """Create an item; value: the new item id."""
    params = {"owner_id": owner_id(group_id), **fields.to_params()}
    return VkCall("market.add", params, _market_item_id)


def market_edit(group_id: int, item_id: int, fields: VkItemFields) -> VkCall:
    """Change an item; value: None. 1403 (ItemError) when VK no longer has it."""
    params = {"owner_id": owner_id(group_id), "item_id": item_id, **fields.to_params()}
    return VkCall("market.edit", params, _ok)


def market_delete(group_id: int, item_id: int) -> VkCall:
    return VkCall("market.delete", {"owner_id": owner_id(group_id), "item_id": item_id}, _ok)


def market_restore(group_id: int, item_id: int) -> VkCall:
    return VkCall("market.restore", {"owner_id": owner_id(group_id), "item_id": item_id}, _ok)


def market_add_album(
    group_id: int,
    title: str,
    *,
    photo_id: int | None = None,
    main_album: bool | None = None,
    is_hidden: bool | None = None,
) -> VkCall:
    """Create an album («подборка»); value: the new album id."""
    params = _album_params(group_id, title, photo_id, main_album, is_hidden)
    return VkCall("market.addAlbum", params, _market_album_id)


def market_edit_album(
    group_id: int,
    album_id: int,
    title: str,
    *,
    photo_id: int | None = None,
    main_album: bool | None = None,
    is_hidden: bool | None = None,
) -> VkCall:
    params = _album_params(group_id, title, photo_id, main_album, is_hidden)
    return VkCall("market.editAlbum", {**params, "album_id": album_id}, _ok)


def _album_params(
    group_id: int,
    title: str,
    photo_id: int | None,
    main_album: bool | None,
    is_hidden: bool | None,
) -> dict[str, Param]:
    params: dict[str, Param] = {"owner_id": owner_id(group_id), "title": title}
    optional = {"photo_id": photo_id, "main_album": main_album, "is_hidden": is_hidden}
    params.update({k: v for k, v in optional.items() if v is not None})
    return params


def market_delete_album(group_id: int, album_id: int) -> VkCall:
    return VkCall("market.deleteAlbum", {"owner_id": owner_id(group_id), "album_id": album_id}, _ok)


def market_add_to_album(group_id: int, item_ids: Sequence[int], album_ids: Sequence[int]) -> VkCall:
    """Put items into albums (``item_ids`` is a list in the 5.199 schema). 1404 = already there."""
    params = {
        "owner_id": owner_id(group_id),
        "item_ids": tuple(item_ids),
        "album_ids": tuple(album_ids),
    }
    return VkCall("market.addToAlbum", params, _ok)


def market_remove_from_album(group_id: int, item_id: int, album_ids: Sequence[int]) -> VkCall:
    """Take one item out of albums (the schema's ``item_id`` is single here)."""
    params = {"owner_id": owner_id(group_id), "item_id": item_id, "album_ids": tuple(album_ids)}
    return VkCall("market.removeFromAlbum", params, _ok)
