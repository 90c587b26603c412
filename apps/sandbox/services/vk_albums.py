"""Market albums («подборки»): getAlbums, getAlbumById, add/edit/deleteAlbum, addToAlbum,
removeFromAlbum (docs/vk.md#albums)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from apps.sandbox.models import VkAlbum, VkAlbumItem, VkGroup, VkMarketItem, VkPhoto

from . import vk_objects
from .vk_common import VkContext, market_group
from .vk_errors import VkApiError, param
from .vk_ids import ALBUM, ITEM, PHOTO

TITLE_MAX = 128
GET_ALBUMS_MAX = 100


def _albums_with_counts(group: VkGroup) -> QuerySet[VkAlbum]:
    live = Q(vkalbumitem__item__is_removed=False)
    return (
        VkAlbum.objects.filter(group=group)
        .select_related("photo")
        .defer("photo__thumbnail")
        .annotate(live_count=Count("vkalbumitem", filter=live))
        .order_by("pk")
    )


def _render(ctx: VkContext, group: VkGroup, albums: list[VkAlbum]) -> list[dict[str, Any]]:
    return [
        vk_objects.album_json(
            album, owner_id=group.owner_id, count=album.live_count, base_url=ctx.base_url
        )
        for album in albums
    ]


def get_albums(ctx: VkContext) -> dict[str, Any]:
    group = market_group(ctx, write=False)
    count = ctx.params.int("count", default=50, minimum=0, maximum=GET_ALBUMS_MAX)
    offset = ctx.params.int("offset", default=0, minimum=0)
    albums = _albums_with_counts(group)
    return {
        "count": albums.count(),
        "items": _render(ctx, group, list(albums[offset : offset + count])),
    }


def get_album_by_id(ctx: VkContext) -> dict[str, Any]:
    group = market_group(ctx, write=False)
    ids = ALBUM.pks(ctx.params.int_list("album_ids", required=True))
    albums = list(_albums_with_counts(group).filter(pk__in=ids))
    return {"count": len(albums), "items": _render(ctx, group, albums)}


def add_album(ctx: VkContext) -> dict[str, int]:
    """→ ``{"market_album_id", "albums_count"}``; 1407 past the album cap, 1446 main+hidden."""
    group = market_group(ctx, write=True, lock=True)
    fields = _album_fields(ctx, group)
    albums_count = VkAlbum.objects.filter(group=group).count()
    if group.max_albums is not None and albums_count >= group.max_albums:
        raise VkApiError(1407)
    album = VkAlbum.objects.create(group=group, **fields)
    if album.is_main:
        VkAlbum.objects.filter(group=group, is_main=True).exclude(pk=album.pk).update(is_main=False)
    return {"market_album_id": album.vk_id, "albums_count": albums_count + 1}


def edit_album(ctx: VkContext) -> int:
    group = market_group(ctx, write=True)
    album = _album(ctx, group)
    for name, value in _album_fields(ctx, group).items():
        setattr(album, name, value)
    if album.is_main and album.is_hidden:
        raise VkApiError(1446)
    album.updated_at = timezone.now()
    album.save()
    if album.is_main:
        VkAlbum.objects.filter(group=group, is_main=True).exclude(pk=album.pk).update(is_main=False)
    return 1


def delete_album(ctx: VkContext) -> int:
    group = market_group(ctx, write=True)
    _album(ctx, group).delete()
    return 1


def add_to_album(ctx: VkContext) -> int:
    """``item_ids`` is a list in 5.199 (``item_id`` accepted too,
    docs/vk.md#addtoalbum-and-removefromalbum-parameters).
    1403 unknown item, 1402 unknown album, 1404 already there, 1406 album full."""
    group = market_group(ctx, write=True, lock=True)
    item_ids = ctx.params.int_list("item_ids") or ctx.params.int_list("item_id")
    if not item_ids:
        raise param("item_ids", "is undefined")
    albums = _albums(ctx, group)
    items = _items(group, ITEM.pks(item_ids))
    pairs = {(album.pk, item.pk) for album in albums for item in items}
    existing = VkAlbumItem.objects.filter(album__in=albums, item__in=items)
    if existing.exists():
        raise VkApiError(1404)
    if group.max_items_per_album is not None:
        for album in albums:
            held = VkAlbumItem.objects.filter(album=album, item__is_removed=False).count()
            if held + len(items) > group.max_items_per_album:
                raise VkApiError(1406)
    VkAlbumItem.objects.bulk_create(
        [VkAlbumItem(album_id=album_id, item_id=item_id) for album_id, item_id in sorted(pairs)]
    )
    return 1


def remove_from_album(ctx: VkContext) -> int:
    group = market_group(ctx, write=True)
    item_pk = ITEM.pk(ctx.params.int("item_id", required=True))
    albums = _albums(ctx, group)
    items = _items(group, [item_pk])
    VkAlbumItem.objects.filter(album__in=albums, item__in=items).delete()
    return 1


# --- helpers ---------------------------------------------------------------------------------


def _album_fields(ctx: VkContext, group: VkGroup) -> dict[str, Any]:
    params = ctx.params
    title = (params.str("title", required=True) or "").strip()
    if not title or len(title) > TITLE_MAX:
        raise param("title")
    fields: dict[str, Any] = {"title": title}
    photo_id = params.int("photo_id", minimum=0)
    if photo_id:
        photo = VkPhoto.objects.filter(pk=PHOTO.pk(photo_id), group=group, is_saved=True).first()
        if photo is None:
            raise param("photo_id")
        fields["photo"] = photo
    if params.has("main_album"):
        fields["is_main"] = params.flag("main_album")
    if params.has("is_hidden"):
        fields["is_hidden"] = params.flag("is_hidden")
    if fields.get("is_main") and fields.get("is_hidden"):
        raise VkApiError(1446)
    return fields


def _album(ctx: VkContext, group: VkGroup) -> VkAlbum:
    album_pk = ALBUM.pk(ctx.params.int("album_id", required=True))
    album = VkAlbum.objects.filter(pk=album_pk, group=group).first()
    if album is None:
        raise VkApiError(1402)
    return album


def _albums(ctx: VkContext, group: VkGroup) -> list[VkAlbum]:
    ids = ALBUM.pks(ctx.params.int_list("album_ids", required=True))
    albums = list(VkAlbum.objects.filter(pk__in=ids, group=group))
    if len(albums) != len(set(ids)):
        raise VkApiError(1402)
    return albums


def _items(group: VkGroup, pks: list[int]) -> list[VkMarketItem]:
    items = list(VkMarketItem.objects.filter(pk__in=pks, group=group, is_removed=False))
    if len(items) != len(set(pks)):
        raise VkApiError(1403)
    return items
