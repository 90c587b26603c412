"""Filters: store → product → nearest group, and what happens when none applies."""

from __future__ import annotations

from apps.sync.core.filters import decide, decide_products, default_store_id
from apps.sync.core.types import Decision, FilterType, Reason, Store

from .builders import STORE, context, exclude, group, include, product

OTHER = Store(id="s2", name="Склад")  # "С" sorts after "М": STORE is the default


def test_default_store_is_first_by_name_then_id() -> None:
    stores = (Store("b", "Бета"), Store("z", "Альфа"), Store("a", "Альфа"))
    assert default_store_id(stores) == "a"
    assert default_store_id(()) is None


def test_without_store_filters_only_the_default_store_is_published() -> None:
    ctx = context(product("p1"), product("p2", store_id=OTHER.id), stores=(OTHER, STORE))
    decisions = decide(ctx)
    assert decisions["p1"] == Decision(True, Reason.PUBLISHED)
    assert decisions["p2"].reason is Reason.STORE_NOT_CHOSEN
    assert not decisions["p2"].included


def test_store_include_publishes_only_included_stores() -> None:
    ctx = context(
        product("p1"), product("p2", store_id=OTHER.id),
        stores=(STORE, OTHER), filters=(include(FilterType.STORE, OTHER.id),),
    )
    decisions = decide(ctx)
    assert decisions["p2"].included
    assert decisions["p1"].reason is Reason.STORE_NOT_CHOSEN


def test_store_excludes_only_publish_every_other_store() -> None:
    third = Store("s3", "Яблоко")
    ctx = context(
        product("p1"), product("p2", store_id=OTHER.id), product("p3", store_id=third.id),
        stores=(STORE, OTHER, third), filters=(exclude(FilterType.STORE, STORE.id),),
    )
    decisions = decide(ctx)
    assert decisions["p1"] == Decision(False, Reason.EXCLUDED_STORE, by=STORE.id)
    assert decisions["p2"].included and decisions["p3"].included


def test_product_filter_cannot_override_an_excluded_store() -> None:
    ctx = context(
        product("p1"),
        filters=(exclude(FilterType.STORE, STORE.id), include(FilterType.PRODUCT, "p1")),
    )
    assert decide(ctx)["p1"].reason is Reason.EXCLUDED_STORE


def test_product_filter_beats_its_group_filter() -> None:
    ctx = context(
        product("p1", group_id="g1"), product("p2", group_id="g1"),
        groups=(group("g1"),),
        filters=(exclude(FilterType.GROUP, "g1"), include(FilterType.PRODUCT, "p1")),
    )
    decisions = decide(ctx)
    assert decisions["p1"] == Decision(True, Reason.PUBLISHED, by="p1")
    assert decisions["p2"] == Decision(False, Reason.EXCLUDED_GROUP, by="g1")


def test_product_exclude_names_the_product() -> None:
    ctx = context(product("p1"), filters=(exclude(FilterType.PRODUCT, "p1"),))
    assert decide(ctx)["p1"] == Decision(False, Reason.EXCLUDED_PRODUCT, by="p1")


def test_nearest_group_filter_decides_for_nested_groups() -> None:
    ctx = context(
        product("p1", group_id="child"), product("p2", group_id="sibling"),
        groups=(group("root"), group("child", "root"), group("sibling", "root")),
        filters=(exclude(FilterType.GROUP, "root"), include(FilterType.GROUP, "child")),
    )
    decisions = decide(ctx)
    assert decisions["p1"] == Decision(True, Reason.PUBLISHED, by="child")
    assert decisions["p2"] == Decision(False, Reason.EXCLUDED_GROUP, by="root")


def test_group_cycles_and_missing_parents_end_the_chain() -> None:
    ctx = context(
        product("p1", group_id="a"), product("p2", group_id="orphan"),
        groups=(group("a", "b"), group("b", "a"), group("orphan", "gone")),
        filters=(exclude(FilterType.GROUP, "zzz"),),
    )
    decisions = decide(ctx)
    assert decisions["p1"].included and decisions["p2"].included


def test_includes_below_store_leave_everything_else_out() -> None:
    ctx = context(
        product("p1", group_id="g1"), product("p2"),
        groups=(group("g1"),), filters=(include(FilterType.GROUP, "g1"),),
    )
    decisions = decide(ctx)
    assert decisions["p1"].included
    assert decisions["p2"] == Decision(False, Reason.NOT_INCLUDED)


def test_only_excludes_below_store_keep_everything_else_in() -> None:
    ctx = context(product("p1"), product("p2"), filters=(exclude(FilterType.PRODUCT, "p1"),))
    assert decide(ctx)["p2"] == Decision(True, Reason.PUBLISHED)


def test_include_and_exclude_of_one_entity_excludes() -> None:
    ctx = context(
        product("p1"),
        filters=(include(FilterType.PRODUCT, "p1"), exclude(FilterType.PRODUCT, "p1")),
    )
    assert not decide(ctx)["p1"].included


def test_one_product_id_in_two_stores_is_published_once_from_the_chosen_store() -> None:
    copy = product("p1", store_id=OTHER.id, name="Копия")
    ctx = context(copy, product("p1"), stores=(STORE, OTHER))
    chosen_product, decision = decide_products(ctx)["p1"]
    assert chosen_product.store_id == STORE.id
    assert decision.included
