"""Differ: one product's wanted state against the item the links and VK say exists."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from apps.sync.core.differ import Current, ItemView, Want, WantKind, diff_product, field_changes
from apps.sync.core.transform import build_payload, payload_hash, published_values
from apps.sync.core.types import (
    ALL_FIELDS,
    Action,
    Field,
    ItemOp,
    Link,
    LinkState,
    Payload,
    Reason,
    Removal,
    VkItem,
)

from .builders import STORE, product, published_link, settings

SETTINGS = settings(albums=False)


def _payload(**overrides: object) -> Payload:
    built = build_payload(product(**overrides), None, STORE, SETTINGS)
    assert isinstance(built, Payload)
    return built


def _in_sync_link(payload: Payload, item_id: int = 7, **overrides: object) -> Link:
    return published_link(
        "p1", item_id,
        payload_hash=payload_hash(payload, ALL_FIELDS - {Field.ALBUMS}),
        photo_key=payload.photo_key,
        published=published_values(payload),
        **overrides,
    )


def _diff(want: Want, current: Current, link: Link | None, **setting: object) -> ItemOp:
    ops = diff_product(want, current, link, replace(SETTINGS, **setting), {})
    return ops[-1]


def _visible(payload: Payload) -> Want:
    return Want("p1", WantKind.VISIBLE, payload=payload)


# --- nothing in VK ----------------------------------------------------------------------------


def test_wanted_without_an_item_is_created_with_a_photo() -> None:
    op = _diff(_visible(_payload()), Current(), None)
    assert op.action is Action.CREATE
    assert op.needs_photo and op.payload is not None and op.payload_hash


def test_unwanted_without_an_item_is_skipped_with_its_reason() -> None:
    op = _diff(Want("p1", WantKind.WITHDRAWN, Reason.EXCLUDED_GROUP), Current(), None)
    assert (op.action, op.reason) == (Action.SKIP, Reason.EXCLUDED_GROUP)


def test_invalid_without_an_item_is_reported() -> None:
    op = _diff(Want("p1", WantKind.INVALID, Reason.NO_PRICE), Current(), None)
    assert (op.action, op.reason) == (Action.INVALID, Reason.NO_PRICE)


# --- an item exists ---------------------------------------------------------------------------


def test_identical_payload_is_unchanged() -> None:
    payload = _payload()
    op = _diff(_visible(payload), Current(item_id=7), _in_sync_link(payload))
    assert op.action is Action.UNCHANGED
    assert op.changes == ()
    # Nothing to apply, so nothing held: a 50,000-item resync plans 50,000 of these.
    assert (op.payload, op.vk_item_id) == (None, 7)


def test_changed_price_is_an_update_listing_old_values_without_a_new_photo() -> None:
    before = _payload()
    after = replace(before, price=Decimal("150.00"))
    op = _diff(_visible(after), Current(item_id=7), _in_sync_link(before))
    assert op.action is Action.UPDATE
    assert op.changes == ("price",)
    assert op.old == {"price": "100.00"}
    assert not op.needs_photo


def test_changed_photo_key_needs_a_new_photo() -> None:
    before = _payload()
    op = _diff(_visible(replace(before, photo_key="other")), Current(item_id=7),
               _in_sync_link(before))
    assert op.changes == ("photo_key",) and op.needs_photo


def test_unmanaged_fields_are_never_listed() -> None:
    before = _payload()
    after = replace(before, name="Другое имя", price=Decimal("1"))
    op = _diff(_visible(after), Current(item_id=7), _in_sync_link(before),
               managed=ALL_FIELDS - {Field.NAME})
    assert op.changes == ("price",)


def test_without_published_values_every_managed_field_counts_as_changed() -> None:
    payload = _payload()
    op = _diff(_visible(payload), Current(item_id=7), published_link("p1", 7))
    assert op.action is Action.UPDATE
    assert set(op.changes) == {"name", "description", "price", "photo_key", "stock_amount"}


def test_hidden_wanted_item_is_shown_with_its_changes() -> None:
    before = _payload()
    op = _diff(_visible(replace(before, price=Decimal("5"))), Current(item_id=7, hidden=True),
               _in_sync_link(before, state=LinkState.HIDDEN))
    assert (op.action, op.changes, op.unhide) == (Action.SHOW, ("price",), True)


def test_unwanted_visible_item_follows_the_removal_policy() -> None:
    gone = Want("p1", WantKind.WITHDRAWN, Reason.REMOVED)
    hide = _diff(gone, Current(item_id=7), None, removal=Removal.HIDE)
    delete = _diff(gone, Current(item_id=7), None, removal=Removal.DELETE)
    assert (hide.action, hide.vk_item_id) == (Action.HIDE, 7)
    assert (delete.action, delete.reason) == (Action.DELETE, Reason.REMOVED)


def test_out_of_stock_and_not_for_sale_are_hidden_never_deleted() -> None:
    for reason in (Reason.OUT_OF_STOCK, Reason.NOT_FOR_SALE):
        op = _diff(Want("p1", WantKind.HIDDEN, reason), Current(item_id=7), None,
                   removal=Removal.DELETE)
        assert (op.action, op.reason) == (Action.HIDE, reason)


def test_already_hidden_item_stays_unchanged_under_hide_policy() -> None:
    op = _diff(Want("p1", WantKind.WITHDRAWN, Reason.EXCLUDED_PRODUCT),
               Current(item_id=7, hidden=True), None)
    assert op.action is Action.UNCHANGED


def test_hidden_item_is_deleted_when_removed_under_delete_policy() -> None:
    op = _diff(Want("p1", WantKind.WITHDRAWN, Reason.REMOVED), Current(item_id=7, hidden=True),
               None, removal=Removal.DELETE)
    assert op.action is Action.DELETE


def test_invalid_visible_item_is_hidden_with_the_reason() -> None:
    op = _diff(Want("p1", WantKind.INVALID, Reason.NO_PRICE), Current(item_id=7), None)
    assert (op.action, op.reason) == (Action.HIDE, Reason.NO_PRICE)


def test_adopted_item_carries_payload_and_changes_in_one_op() -> None:
    op = _diff(_visible(_payload()), Current(item_id=9, adopted=True, hidden=True), None)
    assert op.action is Action.ADOPT
    assert op.vk_item_id == 9 and op.payload is not None and op.unhide
    assert "name" in op.changes and op.needs_photo


def test_adopted_hidden_item_of_an_unwanted_product_is_only_linked() -> None:
    op = _diff(Want("p1", WantKind.HIDDEN, Reason.OUT_OF_STOCK),
               Current(item_id=9, adopted=True, hidden=True), None)
    assert (op.action, op.payload, op.vk_item_id) == (Action.ADOPT, None, 9)


def test_duplicates_are_deleted_before_the_main_op() -> None:
    ops = diff_product(_visible(_payload()), Current(item_id=3, adopted=True, duplicates=(5,)),
                       None, SETTINGS, {})
    assert [(op.action, op.vk_item_id) for op in ops] == [
        (Action.DELETE_DUPLICATE, 5), (Action.ADOPT, 3),
    ]


# --- albums -----------------------------------------------------------------------------------


def test_album_change_alone_is_a_move_from_the_old_album() -> None:
    payload = replace(_payload(), album_group_id="g2")
    link = _in_sync_link(replace(payload, album_group_id="g1"), album_group_id="g1")
    ops = diff_product(_visible(payload), Current(item_id=7), link, settings(), {"g1": 101})
    op = ops[-1]
    assert (op.action, op.from_album, op.to_album_group) == (Action.MOVE_ALBUM, 101, "g2")
    assert op.changes == ("album_group_id",) and op.old == {"album_group_id": "g1"}


def test_an_item_whose_album_is_gone_joins_the_new_one() -> None:
    payload = replace(_payload(), album_group_id="g1")
    link = _in_sync_link(payload, album_group_id="g1")
    op = diff_product(_visible(payload), Current(item_id=7), link, settings(), {})[-1]
    assert (op.action, op.from_album, op.to_album_group) == (Action.MOVE_ALBUM, None, "g1")


# --- resolving the item -----------------------------------------------------------------------


def test_without_a_vk_read_the_link_is_trusted() -> None:
    links = {"p1": published_link("p1", 7, state=LinkState.HIDDEN)}
    assert ItemView(None, links, {"p1"}).current("p1") == Current(item_id=7, hidden=True)


def test_vk_read_wins_over_a_link_whose_item_was_deleted_by_hand() -> None:
    links = {"p1": published_link("p1", 7)}
    vk = (VkItem(7, "p1", removed=True),)
    assert ItemView(vk, links, {"p1"}).current("p1") == Current()


def test_creating_link_adopts_the_item_with_its_sku() -> None:
    links = {"p1": Link("p1", LinkState.CREATING)}
    current = ItemView((VkItem(12, "p1"),), links, {"p1"}).current("p1")
    assert current == Current(item_id=12, adopted=True)


def test_the_linked_item_is_kept_and_other_items_with_the_sku_are_duplicates() -> None:
    links = {"p1": published_link("p1", 20)}
    vk = (VkItem(10, "p1"), VkItem(20, "p1"), VkItem(30, "p1", hidden=True))
    assert ItemView(vk, links, {"p1"}).current("p1") == Current(item_id=20, duplicates=(10, 30))


def test_without_a_link_the_lowest_id_is_adopted() -> None:
    vk = (VkItem(30, "p1"), VkItem(10, "p1"))
    assert ItemView(vk, {}, {"p1"}).current("p1") == Current(10, adopted=True, duplicates=(30,))


def test_an_item_another_link_knows_is_not_adopted_by_its_sku() -> None:
    links = {"p2": published_link("p2", 10)}
    view = ItemView((VkItem(10, None), VkItem(11, "elsewhere")), links, {"p1", "p2"})
    assert view.current("p2") == Current(item_id=10)
    assert view.current("p1") == Current()


def test_an_item_whose_sku_names_another_product_belongs_to_that_product() -> None:
    links = {"p2": published_link("p2", 10)}
    view = ItemView((VkItem(10, "p1"),), links, {"p1", "p2"})
    assert view.current("p1") == Current(item_id=10, adopted=True)
    assert view.current("p2") == Current()


def test_two_links_knowing_one_item_leave_it_to_one_product() -> None:
    links = {"p1": published_link("p1", 10), "p2": published_link("p2", 10)}
    view = ItemView(None, links, {"p1", "p2"})
    assert (view.current("p1").item_id, view.current("p2").item_id) == (10, None)


def test_field_changes_compare_prices_as_numbers() -> None:
    payload = _payload()
    published = {**published_values(payload), "price": "100"}
    assert field_changes(payload, published, ALL_FIELDS) == ((), {})
