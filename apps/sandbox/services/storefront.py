"""What a visitor of a sandbox community's market sees: albums as tabs, items as cards.

Read-only, and a fixed number of queries per page whatever its size (community, albums with
counts, item count, the page, its main photos) — the page is there to eyeball what the sync
published, including with thousands of items.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q

from apps.sandbox.models import VkAlbum, VkGroup, VkMarketItem, VkPhoto

from .vk_ids import ALBUM, PHOTO
from .vk_moderation import reject_info
from .vk_objects import money_text

PAGE_SIZE = 60


@dataclass(frozen=True)
class Card:
    """One item as the storefront shows it."""

    item_id: int
    title: str
    price_text: str
    old_price_text: str | None
    sku: str
    is_hidden: bool
    reject_title: str | None
    reject_description: str | None
    photo_id: int | None  # VK photo id of the main photo, when it has an image to show


@dataclass(frozen=True)
class Tab:
    album_id: int  # VK album id
    title: str
    count: int
    is_hidden: bool


@dataclass(frozen=True)
class Storefront:
    group: VkGroup
    tabs: list[Tab]
    album: Tab | None  # the selected album, None for "all items"
    total: int  # live items of the community (all albums)
    page: Page
    cards: list[Card]


def storefront(
    group: VkGroup, *, album_id: int | None, page_number: str | int | None
) -> Storefront:
    """The page ``page_number`` of the community's live items (``album_id``: VK album id).

    An unknown album or page falls back to the whole market / the nearest page.
    """
    live = Q(vkalbumitem__item__is_removed=False)
    albums = (
        VkAlbum.objects.filter(group=group)
        .annotate(live_count=Count("vkalbumitem", filter=live))
        .order_by("-is_main", "pk")
        .values_list("pk", "title", "live_count", "is_hidden")
    )
    tabs = [Tab(ALBUM.public(pk), title, count, hidden) for pk, title, count, hidden in albums]
    selected = next((tab for tab in tabs if tab.album_id == album_id), None)
    all_items = VkMarketItem.objects.filter(group=group, is_removed=False)
    items = all_items
    if selected is not None:
        items = items.filter(vkalbumitem__album_id=ALBUM.pk(selected.album_id))
    total = all_items.count() if selected is not None else None
    paginator = Paginator(items.order_by("-pk").defer("description"), PAGE_SIZE)
    page = paginator.get_page(page_number)
    page_items = list(page.object_list)
    cards = _cards(page_items)
    return Storefront(
        group=group,
        tabs=tabs,
        album=selected,
        total=paginator.count if total is None else total,
        page=page,
        cards=cards,
    )


def _cards(items: list[VkMarketItem]) -> list[Card]:
    # Main photos (position 0) that have an image; the bytes stay in the database.
    photos = dict(
        VkPhoto.objects.filter(item__in=items, position=0, thumbnail__isnull=False).values_list(
            "item_id", "pk"
        )
    )
    cards = []
    for item in items:
        rejection = reject_info(item)
        cards.append(
            Card(
                item_id=item.vk_id,
                title=item.title,
                price_text=money_text(item.price),
                old_price_text=money_text(item.old_price) if item.old_price else None,
                sku=item.sku,
                is_hidden=item.is_hidden,
                reject_title=rejection["title"] if rejection else None,
                reject_description=rejection["description"] if rejection else None,
                photo_id=PHOTO.public(photos[item.pk]) if item.pk in photos else None,
            )
        )
    return cards
