"""``plan_sync(ctx) -> SyncPlan``: filters → transform → differ, plus the albums the items need.

Pure: the executor loads a :class:`SyncContext`, calls :func:`plan_sync` and applies the plan
(docs/architecture.md, "Sync semantics"). How the executor reads the ops:

* every op that names ``vk_item_id`` acts on that item and the link records it (an adopted
  orphan is linked by whichever op acts on it: ADOPT, HIDE, SHOW…). When that id differs from
  the link's, the link's published values described another item: forget them;
* an op with a payload leaves the item showing it: store ``op.payload_hash``, the photo key,
  ``transform.published_values(payload, managed_fields(settings))`` merged into the link's
  published values (all fields after CREATE) and ``album_group_id = payload.album_group_id``;
* CREATE joins ``to_album_group``'s album; other ops move albums only when ``"album_group_id"``
  is in ``changes`` (leaving ``from_album``; ``to_album_group`` None = no album any more);
* ``unhide`` makes the item available again (SHOW, or ADOPT of a hidden item still wanted);
* album CREATE ops come in the same plan as the items that need them: apply albums first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from . import differ
from .differ import Want, WantKind
from .filters import GroupIndex, decide_products
from .transform import album_title, build_payload, is_out_of_stock, managed_fields
from .types import (
    Action,
    AlbumAction,
    AlbumLink,
    AlbumOp,
    Decision,
    Field,
    ItemOp,
    Link,
    LinkState,
    OutOfStock,
    Product,
    Reason,
    Store,
    SyncContext,
    SyncPlan,
)

_ACTION_ORDER = {action: index for index, action in enumerate(Action)}
_ALBUM_ORDER = {action: index for index, action in enumerate(AlbumAction)}


def plan_sync(ctx: SyncContext) -> SyncPlan:
    """Every operation that brings VK to the wanted state; nothing when it is there already.

    One product at a time, from its wanted state straight to its ops: the wanted payloads of a
    whole catalogue are never held at once, and an unchanged item's op keeps none (the memory
    of a 50,000-product run, docs/architecture.md)."""
    chosen = decide_products(ctx)
    links = _links_by_product(ctx.links)
    groups = GroupIndex(ctx.groups)
    stores = {store.id: store for store in ctx.stores}
    product_ids = sorted(set(chosen) | set(links))
    album_ids = _album_ids(ctx.albums)
    view = differ.ItemView(ctx.vk_items, links, ours=set(product_ids))
    only = ctx.only_product_ids
    items: list[ItemOp] = []
    needed: set[str] = set()  # groups whose album holds a visible item
    for pid in product_ids:
        if only is not None and pid not in only:
            continue
        link = links.get(pid)
        want = _want(pid, chosen.get(pid), groups, stores, ctx, link)
        if want.payload is not None and want.payload.album_group_id is not None:
            needed.add(want.payload.album_group_id)
        items.extend(differ.diff_product(want, view.current(pid), link, ctx.settings,
                                         album_ids))
    albums = _album_ops(ctx, needed, _group_names(chosen, groups), full=only is None)
    return SyncPlan(items=sorted(items, key=_item_key), albums=sorted(albums, key=_album_key))


def _links_by_product(links: Iterable[Link]) -> dict[str, Link]:
    """One link per product; should there be several, the one that knows a live item wins."""
    chosen: dict[str, Link] = {}
    for link in links:
        current = chosen.get(link.product_id)
        if current is None or (_link_rank(link) < _link_rank(current)):
            chosen[link.product_id] = link
    return chosen


def _link_rank(link: Link) -> int:
    return 0 if link.vk_item_id is not None and link.state is not LinkState.DELETED else 1


def _want(
    pid: str,
    chosen: tuple[Product, Decision] | None,
    groups: GroupIndex,
    stores: Mapping[str, Store],
    ctx: SyncContext,
    link: Link | None = None,
) -> Want:
    """What this product's VK item should be, with the reason when it should not be visible."""
    if chosen is None or chosen[0].removed:
        return Want(pid, WantKind.WITHDRAWN, Reason.REMOVED)
    product, decision = chosen
    if not decision.included:
        return Want(pid, WantKind.WITHDRAWN, decision.reason)
    if not product.allow_to_sell:
        return Want(pid, WantKind.HIDDEN, Reason.NOT_FOR_SALE)
    group = groups.get(product.store_id, product.group_id)
    built = build_payload(product, group, stores.get(product.store_id), ctx.settings,
                          published=link.published if link is not None else None)
    if isinstance(built, Reason):
        return Want(pid, WantKind.INVALID, built)
    if ctx.settings.out_of_stock is OutOfStock.HIDE and is_out_of_stock(product):
        return Want(pid, WantKind.HIDDEN, Reason.OUT_OF_STOCK)
    return Want(pid, WantKind.VISIBLE, Reason.PUBLISHED, built)


# --- albums -----------------------------------------------------------------------------------


def _album_ids(albums: Iterable[AlbumLink]) -> dict[str, int]:
    """Evotor group → its VK album (the first link with an album, should there be several)."""
    ids: dict[str, int] = {}
    for album in albums:
        if album.vk_album_id is not None:
            ids.setdefault(album.group_id, album.vk_album_id)
    return ids


def _group_names(chosen: Mapping[str, tuple[Product, Decision]], groups: GroupIndex) -> dict:
    names: dict[str, str] = {}
    for product, _decision in chosen.values():
        group = groups.get(product.store_id, product.group_id)
        if group is not None:
            names.setdefault(group.id, group.name)
    return names


def _album_ops(
    ctx: SyncContext, needed: set[str], names: Mapping[str, str], *, full: bool
) -> list[AlbumOp]:
    """Albums for the groups that hold visible items (``needed``); a retry of a few items
    deletes none."""
    settings = ctx.settings
    if not settings.albums or Field.ALBUMS not in managed_fields(settings):
        return []
    ops = _albums_needed(ctx.albums, needed, names)
    if full:
        ops.extend(_albums_unneeded(ctx.albums, needed))
    return ops


def _albums_needed(
    albums: Iterable[AlbumLink], needed: set[str], names: Mapping[str, str]
) -> list[AlbumOp]:
    existing: dict[str, AlbumLink] = {}
    for album in albums:
        if album.vk_album_id is not None:
            existing.setdefault(album.group_id, album)
    ops: list[AlbumOp] = []
    for group_id in needed:
        title = album_title(names.get(group_id, ""))
        album = existing.get(group_id)
        if album is None:
            ops.append(AlbumOp(AlbumAction.CREATE, group_id, title))
        elif album.title != title:
            ops.append(AlbumOp(AlbumAction.RENAME, group_id, title, album.vk_album_id))
    return ops


def _albums_unneeded(albums: Iterable[AlbumLink], needed: set[str]) -> list[AlbumOp]:
    """Albums of groups without visible items, and second albums of one group — never a VK
    album that a kept link also names (two groups of one title can have adopted the same
    album by its title: deleting it for the one would empty the other's)."""
    kept: dict[str, int] = {}
    for album in albums:
        if album.vk_album_id is not None and album.group_id in needed:
            kept.setdefault(album.group_id, album.vk_album_id)
    in_use = set(kept.values())
    ops: list[AlbumOp] = []
    for album in albums:
        if album.vk_album_id is None or kept.get(album.group_id) == album.vk_album_id:
            continue
        if album.vk_album_id in in_use:
            continue
        ops.append(AlbumOp(AlbumAction.DELETE, album.group_id, album.title, album.vk_album_id))
    return ops


# --- ordering ---------------------------------------------------------------------------------


def _item_key(op: ItemOp) -> tuple:
    return (_ACTION_ORDER[op.action], op.product_id, op.vk_item_id or 0)


def _album_key(op: AlbumOp) -> tuple:
    return (_ALBUM_ORDER[op.action], op.group_id, op.vk_album_id or 0)


def needs_vk_read(ctx: SyncContext) -> bool:
    """Whether the executor must read VK's items before planning (a ``market.add`` may have
    gone through unrecorded: planning from links alone could add the item twice)."""
    return differ.needs_vk_read(ctx.links)
