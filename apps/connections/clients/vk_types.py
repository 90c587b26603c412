"""Typed VK objects (docs/vk.md#methods, docs/vk.md#objects) and their tolerant parsers.

Provider quirks handled here: reply prices are strings in kopecks (``"149990"`` → 1499.90 rubles);
``category`` comes in the old ``{id, name, section}`` shape or the nested ``{id, name, parent}``
one; ``getCategories`` answers a tree or a flat list; ``groups.getById`` answers
``{"groups": [...]}`` at 5.199 and a bare array in older versions; flags are 0/1 or booleans.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from .parsing import (
    MalformedPayload,
    as_list,
    as_mapping,
    from_epoch,
    int_tuple,
    kopecks_to_rubles,
    opt_str,
    required_int_id,
    text,
    to_bool,
    to_int,
)

# market_market_item_availability (docs/vk.md#market-item)
AVAILABLE, REMOVED, UNAVAILABLE = 0, 1, 2


@dataclass(frozen=True)
class VkPrice:
    """Reply-side price. ``amount`` is rubles; ``amount_minor`` the raw kopecks for comparing."""

    amount: Decimal | None
    amount_minor: int | None
    old_amount: Decimal | None = None
    old_amount_minor: int | None = None
    currency_id: int | None = None
    currency_name: str | None = None
    text: str | None = None
    discount_rate: int | None = None


@dataclass(frozen=True)
class VkCategory:
    """A goods category. ``path`` holds ancestor names, root first, ending with ``name``."""

    id: int
    name: str
    parent_id: int | None = None
    section_id: int | None = None
    path: tuple[str, ...] = ()
    is_leaf: bool = True


@dataclass(frozen=True)
class VkPhotoSize:
    type: str | None
    width: int | None
    height: int | None
    url: str | None


@dataclass(frozen=True)
class VkPhoto:
    id: int
    owner_id: int | None = None
    album_id: int | None = None
    date: datetime | None = None
    sizes: tuple[VkPhotoSize, ...] = ()
    text: str | None = None

    @property
    def largest_url(self) -> str | None:
        sized = [s for s in self.sizes if s.url]
        if not sized:
            return None
        return max(sized, key=lambda s: (s.width or 0) * (s.height or 0)).url


@dataclass(frozen=True)
class VkRejectInfo:
    """Present when VK moderation rejected the item."""

    title: str | None
    description: str | None
    moderation_status: int | None


class _Availability:
    """``availability`` read: 1 removed, 2 unavailable (hidden); 0 or absent available."""

    __slots__ = ()
    availability: int | None

    @property
    def is_removed(self) -> bool:
        return self.availability == REMOVED

    @property
    def is_hidden(self) -> bool:
        return self.availability == UNAVAILABLE


@dataclass(frozen=True)
class VkMarketItem(_Availability):
    id: int
    owner_id: int
    title: str
    description: str
    price: VkPrice | None
    category: VkCategory | None
    availability: int | None
    sku: str | None = None
    date: datetime | None = None
    thumb_photo: str | None = None
    photos: tuple[VkPhoto, ...] = ()
    albums_ids: tuple[int, ...] = ()
    url: str | None = None
    button_title: str | None = None
    stock_amount: int | None = None
    weight: int | None = None
    dimensions: tuple[int | None, int | None, int | None] | None = None  # width, height, length
    is_main_variant: bool | None = None
    reject_info: VkRejectInfo | None = None


@dataclass(frozen=True, slots=True)
class VkItemState(_Availability):
    """What a sync compares of an item read back, and nothing else: a community's every item
    is read at once (50,000 of them, docs/vk.md "Reading a community's items"), so no
    description, photos or dates are kept. ``price_minor`` is the raw kopecks."""

    id: int
    sku: str | None
    title: str
    price_minor: int | None
    availability: int | None
    albums_ids: tuple[int, ...] = ()
    reject_info: VkRejectInfo | None = None


@dataclass(frozen=True)
class VkItemPage:
    """One ``market.get`` page: ``count`` is the total, not the page size."""

    count: int
    offset: int
    items: tuple[VkMarketItem, ...] | tuple[VkItemState, ...]


@dataclass(frozen=True)
class VkAlbum:
    id: int
    owner_id: int | None
    title: str
    count: int | None = None
    updated_time: datetime | None = None
    is_main: bool | None = None
    is_hidden: bool | None = None
    photo: VkPhoto | None = None
    type: int | None = None


@dataclass(frozen=True)
class VkGroupMarket:
    enabled: bool
    type: str | None = None
    main_album_id: int | None = None
    currency_id: int | None = None
    currency_name: str | None = None
    contact_id: int | None = None


@dataclass(frozen=True)
class VkGroup:
    id: int
    name: str
    screen_name: str | None = None
    is_closed: int | None = None
    type: str | None = None
    is_admin: bool | None = None
    admin_level: int | None = None
    photo_url: str | None = None
    market: VkGroupMarket | None = None

    @property
    def market_enabled(self) -> bool:
        return bool(self.market and self.market.enabled)


@dataclass(frozen=True)
class VkSavedPhoto:
    """Result of market.saveProductPhoto: the id to pass as main_photo_id / photo_ids."""

    photo_id: int
    photo: VkPhoto | None = None


def parse_price(data: Any) -> VkPrice | None:
    obj = as_mapping(data)
    if not obj:
        return None
    currency = as_mapping(obj.get("currency"))
    return VkPrice(
        amount=kopecks_to_rubles(obj.get("amount")),
        amount_minor=to_int(obj.get("amount")),
        old_amount=kopecks_to_rubles(obj.get("old_amount")),
        old_amount_minor=to_int(obj.get("old_amount")),
        currency_id=to_int(currency.get("id")),
        currency_name=opt_str(currency.get("name")),
        text=opt_str(obj.get("text")),
        discount_rate=to_int(obj.get("discount_rate")),
    )


def parse_item_category(data: Any) -> VkCategory | None:
    """Item ``category``: old ``{id, name, section}`` or nested ``{id, name, parent}``."""
    obj = as_mapping(data)
    ident = to_int(obj.get("id"))
    if ident is None:
        return None
    section = as_mapping(obj.get("section"))
    ancestors = list(_parent_chain(obj.get("parent")))
    parent_id = to_int(as_mapping(obj.get("parent")).get("id"))
    names = [text(a.get("name")) for a in reversed(ancestors)]
    if section:
        names.insert(0, text(section.get("name")))
    name = text(obj.get("name"))
    return VkCategory(
        id=ident,
        name=name,
        parent_id=parent_id,
        section_id=to_int(section.get("id")),
        path=tuple(n for n in names if n) + (name,),
    )


def _parent_chain(data: Any) -> Iterator[Mapping[str, Any]]:
    node = as_mapping(data)
    depth = 0
    while node and depth < 10:  # a cycle in a provider reply must not hang us
        yield node
        node = as_mapping(node.get("parent"))
        depth += 1


def parse_photo(data: Any) -> VkPhoto:
    obj = as_mapping(data)
    sizes = tuple(
        VkPhotoSize(
            type=opt_str(s.get("type")),
            width=to_int(s.get("width")),
            height=to_int(s.get("height")),
            url=opt_str(s.get("url")),
        )
        for s in map(as_mapping, as_list(obj.get("sizes")))
    )
    return VkPhoto(
        id=required_int_id(obj),
        owner_id=to_int(obj.get("owner_id")),
        album_id=to_int(obj.get("album_id")),
        date=from_epoch(obj.get("date")),
        sizes=sizes,
        text=opt_str(obj.get("text")),
    )


def _optional_photo(data: Any) -> VkPhoto | None:
    try:
        return parse_photo(data) if as_mapping(data) else None
    except MalformedPayload:
        return None


def _photos(value: Any) -> tuple[VkPhoto, ...]:
    return tuple(p for p in map(_optional_photo, as_list(value)) if p is not None)


def _reject_info(data: Any) -> VkRejectInfo | None:
    obj = as_mapping(data)
    if not obj:
        return None
    return VkRejectInfo(
        title=opt_str(obj.get("title")),
        description=opt_str(obj.get("description")),
        moderation_status=to_int(obj.get("moderation_status")),
    )


def _dimensions(data: Any) -> tuple[int | None, int | None, int | None] | None:
    obj = as_mapping(data)
    if not obj:
        return None
    return (to_int(obj.get("width")), to_int(obj.get("height")), to_int(obj.get("length")))


def parse_market_item(data: Any) -> VkMarketItem:
    obj = as_mapping(data)
    return VkMarketItem(
        id=required_int_id(obj),
        owner_id=to_int(obj.get("owner_id")) or 0,
        title=text(obj.get("title")),
        description=text(obj.get("description")),
        price=parse_price(obj.get("price")),
        category=parse_item_category(obj.get("category")),
        availability=to_int(obj.get("availability")),
        sku=opt_str(obj.get("sku")),
        date=from_epoch(obj.get("date")),
        thumb_photo=opt_str(obj.get("thumb_photo")),
        photos=_photos(obj.get("photos")),
        albums_ids=int_tuple(obj.get("albums_ids")),
        url=opt_str(obj.get("url")),
        button_title=opt_str(obj.get("button_title")),
        stock_amount=to_int(obj.get("stock_amount")),
        weight=to_int(obj.get("weight")),
        dimensions=_dimensions(obj.get("dimensions")),
        is_main_variant=to_bool(obj.get("is_main_variant")),
        reject_info=_reject_info(obj.get("reject_info")),
    )


def parse_item_state(data: Any) -> VkItemState:
    """The lean reading of an item: checked as strictly as :func:`parse_market_item`."""
    obj = as_mapping(data)
    return VkItemState(
        id=required_int_id(obj),
        sku=opt_str(obj.get("sku")),
        title=text(obj.get("title")),
        price_minor=to_int(as_mapping(obj.get("price")).get("amount")),
        availability=to_int(obj.get("availability")),
        albums_ids=int_tuple(obj.get("albums_ids")),
        reject_info=_reject_info(obj.get("reject_info")),
    )


def _count_and_items(data: Any) -> tuple[int | None, list[Any]]:
    body = as_mapping(data)
    if not isinstance(body.get("items"), list):
        raise MalformedPayload("reply without an 'items' array")
    return to_int(body.get("count")), body["items"]


def parse_item_page(data: Any, offset: int, *, lean: bool = False) -> VkItemPage:
    """``{"count", "items"}`` of market.get / market.getById; ``lean``: as VkItemState.

    Unlike Evotor pages, an unusable item fails the whole page: a silently dropped VK item would
    look absent to the sync, which would then create a duplicate.
    """
    count, raw_items = _count_and_items(data)
    parse = parse_item_state if lean else parse_market_item
    items = tuple(parse(i) for i in raw_items)
    return VkItemPage(count=count if count is not None else len(items), offset=offset, items=items)


def parse_album(data: Any) -> VkAlbum:
    obj = as_mapping(data)
    return VkAlbum(
        id=required_int_id(obj),
        owner_id=to_int(obj.get("owner_id")),
        title=text(obj.get("title")),
        count=to_int(obj.get("count")),
        updated_time=from_epoch(obj.get("updated_time")),
        is_main=to_bool(obj.get("is_main")),
        is_hidden=to_bool(obj.get("is_hidden")),
        photo=_optional_photo(obj.get("photo")),
        type=to_int(obj.get("type")),
    )


def parse_albums(data: Any) -> tuple[int | None, tuple[VkAlbum, ...]]:
    count, raw_items = _count_and_items(data)
    return count, tuple(parse_album(a) for a in raw_items)


def parse_categories(data: Any) -> list[VkCategory]:
    """Both reply shapes of market.getCategories, flattened (tree nodes get ``parent_id``)."""
    _, raw_items = _count_and_items(data)
    result: list[VkCategory] = []
    for node in raw_items:
        _flatten_category(as_mapping(node), parent=None, path=(), out=result, depth=0)
    return result


def _flatten_category(
    node: Mapping[str, Any],
    *,
    parent: int | None,
    path: tuple[str, ...],
    out: list[VkCategory],
    depth: int,
) -> None:
    ident = to_int(node.get("id"))
    if ident is None or depth > 10:
        return
    name = text(node.get("name"))
    section = as_mapping(node.get("section"))  # the old flat shape
    prefix = (text(section.get("name")),) if section.get("name") else ()
    children = [as_mapping(c) for c in as_list(node.get("children"))]
    here = path + prefix + (name,)
    out.append(
        VkCategory(
            id=ident,
            name=name,
            parent_id=parent,
            section_id=to_int(section.get("id")),
            path=here,
            is_leaf=not children,
        )
    )
    for child in children:
        _flatten_category(child, parent=ident, path=here, out=out, depth=depth + 1)


def _group_market(data: Any) -> VkGroupMarket | None:
    obj = as_mapping(data)
    if not obj:
        return None
    currency = as_mapping(obj.get("currency"))
    return VkGroupMarket(
        enabled=bool(to_bool(obj.get("enabled"))),
        type=opt_str(obj.get("type")),
        main_album_id=to_int(obj.get("main_album_id")),
        currency_id=to_int(currency.get("id")),
        currency_name=opt_str(currency.get("name")),
        contact_id=to_int(obj.get("contact_id")),
    )


def parse_group(data: Any) -> VkGroup:
    obj = as_mapping(data)
    photo = next(
        (opt_str(obj.get(k)) for k in ("photo_200", "photo_100", "photo_50") if obj.get(k)), None
    )
    return VkGroup(
        id=required_int_id(obj),
        name=text(obj.get("name")),
        screen_name=opt_str(obj.get("screen_name")),
        is_closed=to_int(obj.get("is_closed")),
        type=opt_str(obj.get("type")),
        is_admin=to_bool(obj.get("is_admin")),
        admin_level=to_int(obj.get("admin_level")),
        photo_url=photo,
        market=_group_market(obj.get("market")),
    )


def parse_groups_by_id(data: Any) -> list[VkGroup]:
    """groups.getById: ``{"groups": [...], "profiles": [...]}`` (5.199) or a bare array (≤5.131)."""
    if isinstance(data, list):
        raw = data
    elif isinstance(as_mapping(data).get("groups"), list):
        raw = data["groups"]
    else:
        raise MalformedPayload("groups.getById reply is neither a list nor {groups: [...]}")
    return [parse_group(g) for g in raw]


def parse_saved_photo(data: Any) -> VkSavedPhoto:
    """``{"photo_id": n}``, possibly with a ``photo`` object (schema allows both)."""
    obj = as_mapping(data)
    photo = _optional_photo(obj.get("photo"))
    photo_id = to_int(obj.get("photo_id"))
    if photo_id is None and photo is not None:
        photo_id = photo.id
    if photo_id is None:
        raise MalformedPayload("saveProductPhoto reply without photo_id")
    return VkSavedPhoto(photo_id=photo_id, photo=photo)
