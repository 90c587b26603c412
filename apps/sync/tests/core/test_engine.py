"""plan_sync end to end: catalog + filters + links + VK read-back → the plan."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from apps.sync.core.engine import needs_vk_read, plan_sync
from apps.sync.core.transform import managed_fields, published_values
from apps.sync.core.types import (
    Action,
    AlbumAction,
    AlbumLink,
    FilterType,
    ItemOp,
    Link,
    LinkState,
    OutOfStock,
    Reason,
    Removal,
    SyncContext,
    SyncPlan,
    VkItem,
)

from .builders import context, exclude, group, product, published_link, settings


def _only(plan: SyncPlan, pid: str = "p1") -> ItemOp:
    ops = [op for op in plan.items if op.product_id == pid]
    assert len(ops) == 1, ops
    return ops[0]


def _synced(ctx: SyncContext) -> SyncContext:
    """ctx with links and VK items as if its plan had just been applied."""
    plan = plan_sync(ctx)
    links, items = [], []
    for number, op in enumerate(plan.of(Action.CREATE), start=1):
        assert op.payload is not None
        links.append(published_link(
            op.product_id, number, payload_hash=op.payload_hash, photo_key=op.payload.photo_key,
            published=published_values(op.payload), album_group_id=op.to_album_group,
        ))
        items.append(VkItem(number, op.product_id))
    albums = tuple(AlbumLink(a.group_id, 500 + n, a.title) for n, a in enumerate(plan.albums))
    return replace(ctx, links=tuple(links), vk_items=tuple(items), albums=albums)


def test_a_new_catalog_creates_every_item_in_product_order_with_albums() -> None:
    ctx = context(product("p2", group_id="g1"), product("p1", group_id="g1"),
                  groups=(group("g1", name="Чай"),))
    plan = plan_sync(ctx)
    assert [(op.action, op.product_id) for op in plan.items] == [
        (Action.CREATE, "p1"), (Action.CREATE, "p2"),
    ]
    assert plan.items[0].to_album_group == "g1"
    assert [(a.action, a.group_id, a.title) for a in plan.albums] == [
        (AlbumAction.CREATE, "g1", "Чай"),
    ]


def test_a_synced_catalog_plans_no_writes() -> None:
    ctx = _synced(context(product("p1", group_id="g1"), product("p2"), groups=(group("g1"),)))
    plan = plan_sync(ctx)
    assert plan.writes == 0
    assert plan.counts()["unchanged"] == 2
    assert plan.writes == plan_sync(replace(ctx, vk_items=None)).writes == 0


def test_a_price_change_updates_only_that_item() -> None:
    ctx = _synced(context(product("p1"), product("p2")))
    cheaper = replace(ctx, products=(product("p1", price=Decimal("90")), product("p2")))
    plan = plan_sync(cheaper)
    update = _only(plan, "p1")
    assert update.action is Action.UPDATE and "price" in update.changes
    assert _only(plan, "p2").action is Action.UNCHANGED


def test_a_product_gone_from_evotor_is_hidden_or_deleted_per_policy() -> None:
    ctx = replace(_synced(context(product("p1"))), products=())
    assert (_only(plan_sync(ctx)).action, _only(plan_sync(ctx)).reason) == (
        Action.HIDE, Reason.REMOVED,
    )
    deleting = replace(ctx, settings=settings(removal=Removal.DELETE))
    assert _only(plan_sync(deleting)).action is Action.DELETE


def test_a_product_marked_removed_counts_as_gone() -> None:
    ctx = _synced(context(product("p1")))
    plan = plan_sync(replace(ctx, products=(product("p1", removed=True),)))
    assert (_only(plan).action, _only(plan).reason) == (Action.HIDE, Reason.REMOVED)


def test_a_filtered_out_product_is_hidden_and_a_never_published_one_skipped() -> None:
    ctx = _synced(context(product("p1")))
    filtered = replace(ctx, products=(product("p1"), product("p2")),
                       filters=(exclude(FilterType.PRODUCT, "p1"), exclude(FilterType.PRODUCT,
                                                                               "p2")))
    plan = plan_sync(filtered)
    assert (_only(plan, "p1").action, _only(plan, "p1").reason) == (
        Action.HIDE, Reason.EXCLUDED_PRODUCT,
    )
    assert (_only(plan, "p2").action, _only(plan, "p2").reason) == (
        Action.SKIP, Reason.EXCLUDED_PRODUCT,
    )


def test_out_of_stock_follows_the_setting() -> None:
    empty = product("p1", quantity=Decimal("0"))
    hide = plan_sync(context(empty))
    keep = plan_sync(context(empty, settings=settings(out_of_stock=OutOfStock.KEEP)))
    zero = plan_sync(context(empty, settings=settings(out_of_stock=OutOfStock.ZERO)))
    assert (_only(hide).action, _only(hide).reason) == (Action.SKIP, Reason.OUT_OF_STOCK)
    assert _only(keep).action is Action.CREATE
    assert _only(keep).payload.stock_amount is None  # type: ignore[union-attr]
    assert _only(zero).payload.stock_amount == 0  # type: ignore[union-attr]


def test_unknown_quantity_and_services_count_as_in_stock() -> None:
    plan = plan_sync(context(product("p1", quantity=None),
                             product("p2", quantity=Decimal("-1"), type="SERVICE")))
    assert [op.action for op in plan.items] == [Action.CREATE, Action.CREATE]


def test_a_published_item_running_out_of_stock_is_hidden_even_under_delete() -> None:
    ctx = _synced(context(product("p1")))
    empty = replace(ctx, products=(product("p1", quantity=Decimal("0")),),
                    settings=settings(removal=Removal.DELETE))
    assert (_only(plan_sync(empty)).action, _only(plan_sync(empty)).reason) == (
        Action.HIDE, Reason.OUT_OF_STOCK,
    )


def test_not_for_sale_is_hidden() -> None:
    ctx = _synced(context(product("p1")))
    plan = plan_sync(replace(ctx, products=(product("p1", allow_to_sell=False),)))
    assert (_only(plan).action, _only(plan).reason) == (Action.HIDE, Reason.NOT_FOR_SALE)


def test_an_invalid_product_is_reported_and_its_item_hidden() -> None:
    assert _only(plan_sync(context(product("p1", price=None)))).action is Action.INVALID
    ctx = _synced(context(product("p1")))
    plan = plan_sync(replace(ctx, products=(product("p1", price=None),)))
    assert (_only(plan).action, _only(plan).reason) == (Action.HIDE, Reason.NO_PRICE)


def test_an_item_deleted_by_hand_in_vk_is_recreated() -> None:
    ctx = _synced(context(product("p1")))
    plan = plan_sync(replace(ctx, vk_items=()))
    assert _only(plan).action is Action.CREATE


def test_a_creating_link_adopts_the_item_vk_has_or_creates() -> None:
    creating = context(product("p1"), links=(Link("p1", LinkState.CREATING),))
    adopted = _only(plan_sync(replace(creating, vk_items=(VkItem(44, "p1"),))))
    assert (adopted.action, adopted.vk_item_id) == (Action.ADOPT, 44)
    assert adopted.payload is not None
    assert _only(plan_sync(replace(creating, vk_items=()))).action is Action.CREATE


def test_orphan_with_our_sku_is_adopted_and_a_second_one_deleted() -> None:
    ctx = context(product("p1"), vk_items=(VkItem(5, "p1"), VkItem(6, "p1"), VkItem(7, "x")))
    plan = plan_sync(ctx)
    assert [(op.action, op.vk_item_id) for op in plan.items] == [
        (Action.ADOPT, 5), (Action.DELETE_DUPLICATE, 6),
    ]


def test_orphan_next_to_a_live_linked_item_is_a_duplicate() -> None:
    ctx = _synced(context(product("p1")))
    plan = plan_sync(replace(ctx, vk_items=(*(ctx.vk_items or ()), VkItem(99, "p1"))))
    assert [(op.action, op.vk_item_id) for op in plan.items] == [
        (Action.DELETE_DUPLICATE, 99), (Action.UNCHANGED, 1),
    ]


def test_orphan_of_a_product_gone_from_evotor_but_linked_is_handled() -> None:
    ctx = context(links=(Link("gone", LinkState.DELETED),), vk_items=(VkItem(5, "gone"),))
    assert [(op.action, op.vk_item_id) for op in plan_sync(ctx).items] == [(Action.HIDE, 5)]


def test_vk_items_with_foreign_skus_are_never_touched() -> None:
    ctx = context(vk_items=(VkItem(1, "someone-else"), VkItem(2, None)))
    assert plan_sync(ctx).items == []


def test_a_retry_plans_only_the_named_products() -> None:
    ctx = replace(_synced(context(product("p1", group_id="g1"), product("p2", group_id="g2"),
                                  groups=(group("g1"), group("g2")))),
                  products=(product("p1", price=Decimal("1")), product("p3", group_id="g3")),
                  groups=(group("g1"), group("g2"), group("g3")),
                  only_product_ids=frozenset({"p3"}))
    plan = plan_sync(ctx)
    assert [(op.action, op.product_id) for op in plan.items] == [(Action.CREATE, "p3")]
    assert [(a.action, a.group_id) for a in plan.albums] == [(AlbumAction.CREATE, "g3")]


def test_a_renamed_group_renames_its_album() -> None:
    ctx = _synced(context(product("p1", group_id="g1"), groups=(group("g1", name="Чай"),)))
    plan = plan_sync(replace(ctx, groups=(group("g1", name="  Чай  и кофе "),)))
    assert [(a.action, a.title, a.vk_album_id) for a in plan.albums] == [
        (AlbumAction.RENAME, "Чай и кофе", 500),
    ]


def test_an_emptied_album_is_deleted_and_its_item_leaves_it() -> None:
    # An Evotor image: the photo does not show the group, so only the album changes.
    pictured = product("p1", group_id="g1", image_url="https://img/p1")
    ctx = _synced(context(pictured, groups=(group("g1"),)))
    plan = plan_sync(replace(ctx, products=(replace(pictured, group_id=None),)))
    assert [(a.action, a.group_id) for a in plan.albums] == [(AlbumAction.DELETE, "g1")]
    move = _only(plan)
    assert (move.action, move.from_album, move.to_album_group) == (Action.MOVE_ALBUM, 500, None)



def test_an_album_another_group_also_names_is_never_deleted() -> None:
    # Two groups of one title adopted one VK album by its title; the second group is gone.
    ctx = _synced(context(product("p1", group_id="g1"), groups=(group("g1", name="Чай"),)))
    kept = ctx.albums[0]
    stale = AlbumLink("g2", kept.vk_album_id, kept.title)
    plan = plan_sync(replace(ctx, albums=(*ctx.albums, stale)))
    assert plan.albums == [] and plan.writes == 0
    # A second album of one group, of another id, is still removed.
    second = AlbumLink("g1", kept.vk_album_id + 1, kept.title)
    plan = plan_sync(replace(ctx, albums=(*ctx.albums, second)))
    assert [(a.action, a.vk_album_id) for a in plan.albums] == [
        (AlbumAction.DELETE, kept.vk_album_id + 1)
    ]


def test_album_titles_are_cut_to_128() -> None:
    plan = plan_sync(context(product("p1", group_id="g1"), groups=(group("g1", name="Ч" * 200),)))
    assert plan.albums[0].title == "Ч" * 128


def test_no_album_ops_when_albums_are_off_or_unmanaged() -> None:
    base = context(product("p1", group_id="g1"), groups=(group("g1"),))
    off = replace(base, settings=settings(albums=False))
    unmanaged = replace(base, settings=settings(managed=managed_fields(settings(albums=False))))
    assert plan_sync(off).albums == plan_sync(unmanaged).albums == []
    assert _only(plan_sync(off)).to_album_group is None


def test_vk_must_be_read_while_a_link_is_creating() -> None:
    assert needs_vk_read(context(links=(Link("p1", LinkState.CREATING),)))
    assert not needs_vk_read(context(links=(published_link("p1", 1),)))
