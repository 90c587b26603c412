"""market.get / getById / add / edit / delete / restore with VK's rules.

See docs/vk.md#items and the sandbox's rules in docs/vk.md#what-the-sandbox-enforces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.db.models import Q
from django.utils import timezone

from apps.sandbox.models import SandboxConfig, VkGroup, VkMarketItem, VkPhoto

from . import vk_moderation, vk_objects
from .vk_categories import is_known
from .vk_common import VkContext, has_bad_links, market_group, vk_length
from .vk_errors import NOTHING_TO_CHANGE, PHOTO_TAKEN, PHOTO_UNDEFINED, VkApiError, param
from .vk_ids import ALBUM, ITEM, PHOTO
from .vk_params import Params

GET_MAX = 200
GET_BY_ID_MAX = 100
MAX_EXTRA_PHOTOS = 4
NAME_MIN, NAME_MAX = 4, 100
DESCRIPTION_MIN = 10
# Optional integer fields: parameter -> (minimum, maximum), from the 5.199 schema.
INT_FIELDS = {
    "stock_amount": (-1, 999_999),
    "dimension_width": (0, 100_000),
    "dimension_height": (0, 100_000),
    "dimension_length": (0, 100_000),
    "weight": (0, 100_000_000),
}


# --- reading ---------------------------------------------------------------------------------


def get_items(ctx: VkContext) -> dict[str, Any]:
    """market.get: newest first, ``count`` ≤ 200; hidden items only with ``with_disabled``."""
    group = market_group(ctx, write=False)
    params = ctx.params
    count = params.int("count", default=100, minimum=0, maximum=GET_MAX)
    offset = params.int("offset", default=0, minimum=0)
    album_id = params.int("album_id", default=0, minimum=0)
    items = VkMarketItem.objects.filter(group=group, is_removed=False)
    if not params.flag("with_disabled"):
        items = items.filter(is_hidden=False)
    if album_id:
        items = items.filter(albums__pk=ALBUM.pk(album_id))
    total = items.count()
    page = items.select_related("group").order_by("-pk")[offset : offset + count]
    return {
        "count": total,
        "items": vk_objects.items_json(
            page, base_url=ctx.base_url, extended=params.flag("extended")
        ),
    }


def get_by_id(ctx: VkContext) -> dict[str, Any]:
    """market.getById: ≤100 ``<owner>_<item>`` refs; removed items come back as availability 1."""
    refs = ctx.params.str_list("item_ids", required=True)
    if len(refs) > GET_BY_ID_MAX:
        raise param("item_ids")
    wanted = [_parse_ref(ref) for ref in refs]
    found = {
        item.pk: item
        for item in VkMarketItem.objects.select_related("group").filter(
            pk__in=[item_pk for _owner, item_pk in wanted]
        )
    }
    items = [
        found[item_pk]
        for owner, item_pk in wanted
        if item_pk in found and found[item_pk].group.vk_id == -owner
    ]
    if any(not item.group.market_enabled for item in items):
        raise VkApiError(1525)
    rendered = vk_objects.items_json(
        items, base_url=ctx.base_url, extended=ctx.params.flag("extended")
    )
    return {"count": len(rendered), "items": rendered}


def _parse_ref(ref: str) -> tuple[int, int]:
    """``"<owner>_<item id>"`` → (owner id, item pk); a non-item id finds nothing."""
    owner, _sep, item = ref.partition("_")
    try:
        return int(owner), ITEM.pk(int(item))
    except ValueError:
        raise param("item_ids") from None


# --- writing ---------------------------------------------------------------------------------


@dataclass
class ItemInput:
    """The writable fields a call provided, as model values; photos kept apart."""

    values: dict[str, Any] = field(default_factory=dict)
    # Photo *pks* (translated from VK's photo ids; a foreign id becomes vk_ids.NO_ROW).
    main_photo_id: int | None = None
    photo_ids: list[int] | None = None


def read_item_input(params: Params, config: SandboxConfig, *, creating: bool) -> ItemInput:
    """Validate like VK: name 4..100, description ≥10 without outside links, a known category,
    prices in range, ≤4 extra photos, url ≤320, sku ≤50, and a main photo for a new item."""
    data = ItemInput()
    _read_texts(params, data, creating=creating)
    category_id = params.int("category_id", required=creating, minimum=0)
    if category_id is not None:
        if not is_known(category_id):
            raise param("category_id")
        data.values["category_id"] = category_id
    price = params.money("price")
    if price is not None or creating:
        data.values["price"] = price or 0
    if params.has("old_price"):
        data.values["old_price"] = params.money("old_price") or None
    if params.has("deleted"):
        data.values["is_hidden"] = params.flag("deleted")
    for name, limit in (("url", 320), ("sku", 50)):
        value = params.str(name)
        if value is not None:
            if len(value) > limit:
                raise param(name)
            data.values[name] = value
    for name, (low, high) in INT_FIELDS.items():
        if params.has(name):
            data.values[name] = params.int(name, minimum=low, maximum=high)
    main_photo_id = params.int("main_photo_id", minimum=0) or None
    data.main_photo_id = PHOTO.pk(main_photo_id) if main_photo_id is not None else None
    if creating and data.main_photo_id is None and config.vk_require_main_photo:
        raise VkApiError(100, PHOTO_UNDEFINED)
    if params.has("photo_ids"):
        data.photo_ids = PHOTO.pks(params.int_list("photo_ids", max_items=MAX_EXTRA_PHOTOS))
    return data


def _read_texts(params: Params, data: ItemInput, *, creating: bool) -> None:
    name = params.str("name", required=creating)
    if name is not None:
        name = name.strip()
        if vk_length(name) < NAME_MIN:
            raise VkApiError(100, f"name should be at least {NAME_MIN} letters length")
        if vk_length(name) > NAME_MAX:
            raise VkApiError(100, f"name should be at most {NAME_MAX} letters length")
        data.values["title"] = name
    description = params.str("description", required=creating)
    if description is not None:
        if vk_length(description.strip()) < DESCRIPTION_MIN:
            raise VkApiError(
                100, f"description should be at least {DESCRIPTION_MIN} letters length"
            )
        if has_bad_links(description):
            raise VkApiError(1408)
        data.values["description"] = description


def add_item(ctx: VkContext) -> dict[str, int]:
    """market.add → ``{"market_item_id": n}``; 1405 past the community's item cap."""
    group = market_group(ctx, write=True, lock=True)
    data = read_item_input(ctx.params, ctx.config, creating=True)
    _check_item_cap(group)
    item = VkMarketItem.objects.create(group=group, **data.values)
    if data.main_photo_id is not None or data.photo_ids:
        attach_photos(item, group, data.main_photo_id, data.photo_ids or [])
    vk_moderation.moderate(item)
    return {"market_item_id": item.vk_id}


def edit_item(ctx: VkContext) -> int:
    """market.edit → 1; 1403 for an unknown or removed item, 100 when nothing would change."""
    group = market_group(ctx, write=True)
    item = _live_item(ctx, group)
    data = read_item_input(ctx.params, ctx.config, creating=False)
    changes = {k: v for k, v in data.values.items() if getattr(item, k) != v}
    main, extras = current_photos(item)
    new_main = data.main_photo_id if data.main_photo_id is not None else main
    new_extras = data.photo_ids if data.photo_ids is not None else extras
    photos_changed = (new_main, new_extras) != (main, extras)
    if not changes and not photos_changed:
        raise VkApiError(100, NOTHING_TO_CHANGE)
    if photos_changed:
        attach_photos(item, group, new_main, new_extras)
    for name, value in changes.items():
        setattr(item, name, value)
    item.updated_at = timezone.now()
    item.save(update_fields=[*changes, "updated_at"])
    vk_moderation.moderate(item, set(changes) | ({"photos"} if photos_changed else set()))
    return 1


def delete_item(ctx: VkContext) -> int:
    """market.delete → 1. The item stays restorable (and keeps its photos) for a while."""
    group = market_group(ctx, write=True)
    item = _live_item(ctx, group)
    item.is_removed = True
    item.removed_at = timezone.now()
    item.save(update_fields=["is_removed", "removed_at"])
    return 1


def restore_item(ctx: VkContext) -> int:
    """market.restore → 1; 1518 for a live item, 1400 past the restore window, 1403 unknown."""
    group = market_group(ctx, write=True, lock=True)
    item_pk = ITEM.pk(ctx.params.int("item_id", required=True))
    item = VkMarketItem.objects.filter(pk=item_pk, group=group).first()
    if item is None:
        raise VkApiError(1403)
    if not item.is_removed:
        raise VkApiError(1518)
    window = timedelta(seconds=ctx.config.vk_restore_window)
    if item.removed_at is not None and item.removed_at < timezone.now() - window:
        raise VkApiError(1400)
    _check_item_cap(group)
    item.is_removed = False
    item.removed_at = None
    item.save(update_fields=["is_removed", "removed_at"])
    return 1


def _live_item(ctx: VkContext, group: VkGroup) -> VkMarketItem:
    item_pk = ITEM.pk(ctx.params.int("item_id", required=True))
    item = VkMarketItem.objects.filter(pk=item_pk, group=group, is_removed=False).first()
    if item is None:
        raise VkApiError(1403)
    return item


def _check_item_cap(group: VkGroup) -> None:
    if group.max_items is None:
        return
    if VkMarketItem.objects.filter(group=group, is_removed=False).count() >= group.max_items:
        raise VkApiError(1405)


# --- photos of an item --------------------------------------------------------------------------


def current_photos(item: VkMarketItem) -> tuple[int | None, list[int]]:
    """(main photo pk, extra photo pks in order)."""
    photos = VkPhoto.objects.filter(item=item).order_by("position", "pk")
    rows = list(photos.values_list("pk", "position"))
    main = next((pk for pk, position in rows if position == 0), None)
    return main, [pk for pk, position in rows if position > 0]


def attach_photos(
    item: VkMarketItem, group: VkGroup, main_id: int | None, extra_ids: list[int]
) -> None:
    """Make exactly these photos the item's. A photo must be a saved photo of the community that
    no *other* item holds — VK's "photo not found or already assigned to another item".

    The claim is one conditional UPDATE, so two processes attaching the same photo to two items
    cannot both win; the caller's transaction rolls the loser back.
    """
    wanted = [pk for pk in dict.fromkeys([main_id, *extra_ids]) if pk is not None]
    claimed = (
        VkPhoto.objects.filter(pk__in=wanted, group=group, is_saved=True)
        .filter(Q(item__isnull=True) | Q(item=item))
        .update(item=item)
    )
    if claimed != len(wanted):
        raise VkApiError(100, PHOTO_TAKEN)
    VkPhoto.objects.filter(item=item).exclude(pk__in=wanted).update(item=None, position=0)
    for position, pk in enumerate(wanted if main_id is not None else [None, *wanted]):
        if pk is not None:
            VkPhoto.objects.filter(pk=pk).update(position=position)
