"""VK reply objects: items, prices, photos, albums, communities (docs/vk.md#objects,
docs/vk.md#prices, docs/vk.md#communities)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from apps.sandbox.models import VkAlbum, VkAlbumItem, VkGroup, VkMarketItem, VkPhoto

from .vk_categories import item_category
from .vk_ids import ALBUM
from .vk_moderation import reject_info

RUB = {"id": 643, "name": "RUB", "title": "₽"}
# Product photos live in the community's service album (docs/vk.md#photo).
SERVICE_ALBUM = -53
AVAILABLE, REMOVED, UNAVAILABLE = 0, 1, 2
# (size type, longest side) of the photo sizes we describe; capped at the original size.
PHOTO_SIZES = (("s", 75), ("m", 130), ("x", 604), ("y", 807))


def money_text(kopecks: int) -> str:
    """Display text; clients must never parse it (docs/vk.md#prices), so any readable form will
    do."""
    rubles, rest = divmod(kopecks, 100)
    whole = f"{rubles:,}".replace(",", " ")
    return f"{whole} ₽" if not rest else f"{whole},{rest:02d} ₽"


def price_json(amount: int, old_amount: int | None) -> dict[str, Any]:
    """Amounts are strings in kopecks; discount_rate is negative as observed live (1 vs 15: -93)."""
    data: dict[str, Any] = {"amount": str(amount), "currency": RUB, "text": money_text(amount)}
    if old_amount:
        data["old_amount"] = str(old_amount)
        data["old_amount_text"] = money_text(old_amount)
        data["discount_rate"] = int((amount - old_amount) * 100 / old_amount)
    return data


def photo_url(base_url: str, photo: VkPhoto, size: str) -> str:
    return f"{base_url}/photo/{photo.vk_id}.jpg?size={size}"


def photo_json(photo: VkPhoto, owner_id: int, base_url: str) -> dict[str, Any]:
    sizes = []
    longest = max(photo.width, photo.height)
    for size_type, limit in PHOTO_SIZES:
        scale = min(1.0, limit / longest)
        sizes.append(
            {
                "type": size_type,
                "width": round(photo.width * scale),
                "height": round(photo.height * scale),
                "url": photo_url(base_url, photo, size_type),
            }
        )
    return {
        "id": photo.vk_id,
        "album_id": SERVICE_ALBUM,
        "owner_id": owner_id,
        "user_id": 100,
        "date": int(photo.created_at.timestamp()),
        "sizes": sizes,
        "text": "",
        "has_tags": False,
    }


def availability(item: VkMarketItem) -> int:
    if item.is_removed:
        return REMOVED
    return UNAVAILABLE if item.is_hidden else AVAILABLE


def item_json(
    item: VkMarketItem,
    *,
    owner_id: int,
    photos: Sequence[VkPhoto],
    album_ids: list[int],
    base_url: str,
    extended: bool,
) -> dict[str, Any]:
    """One item; ``stock_amount`` is left out, as the live reply leaves it out
    (docs/vk.md#market-item)."""
    main = photos[0] if photos else None
    data: dict[str, Any] = {
        "id": item.vk_id,
        "owner_id": owner_id,
        "title": item.title,
        "description": item.description,
        "price": price_json(item.price, item.old_price),
        "category": item_category(item.category_id),
        "availability": availability(item),
        "date": int(item.created_at.timestamp()),
        "sku": item.sku,
        "thumb_photo": photo_url(base_url, main, "m") if main else "",
        "albums_ids": album_ids,
        "is_owner": True,
        "is_adult": False,
        "item_type": 0,
    }
    if item.url:
        data.update(url=item.url, button_title="Купить")
    dimensions = (item.dimension_width, item.dimension_height, item.dimension_length)
    if any(d is not None for d in dimensions):
        data["dimensions"] = dict(zip(("width", "height", "length"), dimensions, strict=True))
    if item.weight is not None:
        data["weight"] = item.weight
    rejection = reject_info(item)
    if rejection is not None:
        data["reject_info"] = rejection
    if extended:
        data.update(
            photos=[photo_json(p, owner_id, base_url) for p in photos],
            can_comment=1,
            can_repost=1,
            likes={"user_likes": 0, "count": 0},
            reposts={"count": 0, "user_reposted": 0},
            views_count=0,
        )
    return data


def items_json(
    items: Iterable[VkMarketItem], *, base_url: str, extended: bool
) -> list[dict[str, Any]]:
    """Items with their photos and albums in two queries whatever the page size."""
    items = list(items)
    photos: dict[int, list[VkPhoto]] = defaultdict(list)
    # The thumbnail bytes stay in the database: replies only need the photo's metadata.
    photos_of = VkPhoto.objects.filter(item__in=items).defer("thumbnail")
    for photo in photos_of.order_by("position", "pk"):
        photos[photo.item_id].append(photo)
    albums: dict[int, list[int]] = defaultdict(list)
    links = VkAlbumItem.objects.filter(item__in=items).order_by("album_id")
    for item_id, album_id in links.values_list("item_id", "album_id"):
        albums[item_id].append(ALBUM.public(album_id))
    return [
        item_json(
            item,
            owner_id=-item.group.vk_id,
            photos=photos[item.pk],
            album_ids=albums[item.pk],
            base_url=base_url,
            extended=extended,
        )
        for item in items
    ]


def album_json(album: VkAlbum, *, owner_id: int, count: int, base_url: str) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": album.vk_id,
        "owner_id": owner_id,
        "title": album.title,
        "count": count,
        "updated_time": int(album.updated_at.timestamp()),
        "is_main": album.is_main,
        "is_hidden": album.is_hidden,
        "type": 0,
    }
    if album.photo is not None:
        data["photo"] = photo_json(album.photo, owner_id, base_url)
    return data


def group_json(
    group: VkGroup, *, fields: set[str], admin_level: int, main_album_id: int | None
) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": group.vk_id,
        "name": group.name,
        "screen_name": group.screen_name,
        "is_closed": group.is_closed,
        "type": group.type,
        "is_admin": 1 if admin_level else 0,
        "is_member": 1 if admin_level else 0,
        "photo_50": f"https://sun9-1.userapi.example/c/{group.vk_id}/50.jpg",
        "photo_100": f"https://sun9-1.userapi.example/c/{group.vk_id}/100.jpg",
        "photo_200": f"https://sun9-1.userapi.example/c/{group.vk_id}/200.jpg",
    }
    if admin_level:
        data["admin_level"] = admin_level
    if "description" in fields:
        data["description"] = group.description
    if "members_count" in fields:
        data["members_count"] = 42
    if "market" in fields:
        data["market"] = market_json(group, main_album_id)
    return data


def market_json(group: VkGroup, main_album_id: int | None) -> dict[str, Any]:
    if not group.market_enabled:
        return {"enabled": 0}
    data: dict[str, Any] = {
        "enabled": 1,
        "type": group.market_type,
        "contact_id": 1001,
        "currency": RUB,
        "currency_text": "российский рубль",
    }
    if main_album_id:
        data["main_album_id"] = main_album_id
    return data
