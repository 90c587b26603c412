"""Which Evotor products the merchant wants in VK: store → product → nearest group filter.

Filter-level only (docs/architecture.md, "Sync semantics"); stock, price and "for sale" are the
differ's business. A product filter beats its group's, a nested group's filter beats its
parent's, and nothing beats a store that is not published: the same goods copied into two
stores would otherwise appear twice in the community.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from .types import (
    Decision,
    Filter,
    FilterMode,
    FilterType,
    Group,
    Product,
    Reason,
    Store,
    SyncContext,
)

_PUBLISHED = Decision(included=True, reason=Reason.PUBLISHED)


def _store_order(stores: Iterable[Store]) -> list[Store]:
    return sorted(stores, key=lambda store: (store.name.casefold(), store.name, store.id))


def default_store_id(stores: Iterable[Store]) -> str | None:
    """The store published when the merchant chose none: first by name, then by id."""
    ordered = _store_order(stores)
    return ordered[0].id if ordered else None


def _modes(filters: Iterable[Filter], entity_type: FilterType) -> dict[str, FilterMode]:
    """Entity id → mode; an entity both included and excluded is excluded (the safe side)."""
    modes: dict[str, FilterMode] = {}
    for item in filters:
        if item.entity_type is entity_type and modes.get(item.entity_id) is not FilterMode.EXCLUDE:
            modes[item.entity_id] = item.mode
    return modes


@dataclass(frozen=True)
class _Rules:
    stores: dict[str, FilterMode]
    groups: dict[str, FilterMode]
    products: dict[str, FilterMode]
    default_store: str | None
    includes_below_store: bool

    @classmethod
    def of(cls, ctx: SyncContext) -> _Rules:
        groups = _modes(ctx.filters, FilterType.GROUP)
        products = _modes(ctx.filters, FilterType.PRODUCT)
        include = FilterMode.INCLUDE
        return cls(
            stores=_modes(ctx.filters, FilterType.STORE),
            groups=groups,
            products=products,
            default_store=default_store_id(ctx.stores),
            includes_below_store=include in groups.values() or include in products.values(),
        )


def _store_decision(store_id: str, rules: _Rules) -> Decision | None:
    """The store's veto, or None when the store is published."""
    mode = rules.stores.get(store_id)
    if mode is FilterMode.EXCLUDE:
        return Decision(included=False, reason=Reason.EXCLUDED_STORE, by=store_id)
    if FilterMode.INCLUDE in rules.stores.values():
        chosen = mode is FilterMode.INCLUDE
    elif rules.stores:
        chosen = True  # only exclude filters: every other store is published
    else:
        chosen = store_id == rules.default_store
    return None if chosen else Decision(included=False, reason=Reason.STORE_NOT_CHOSEN)


class GroupIndex:
    """Groups by (store, id) first: Evotor copies groups between stores keeping their ids."""

    def __init__(self, groups: Iterable[Group]) -> None:
        self._by_store: dict[tuple[str, str], Group] = {}
        self._by_id: dict[str, Group] = {}
        for group in groups:
            self._by_store.setdefault((group.store_id, group.id), group)
            self._by_id.setdefault(group.id, group)

    def get(self, store_id: str, group_id: str | None) -> Group | None:
        if group_id is None:
            return None
        return self._by_store.get((store_id, group_id)) or self._by_id.get(group_id)

    def chain(self, product: Product) -> Iterator[str]:
        """The product's group id, its parent's, …; stops at a missing parent or a cycle."""
        seen: set[str] = set()
        group_id = product.group_id
        while group_id is not None and group_id not in seen:
            seen.add(group_id)
            yield group_id
            group = self.get(product.store_id, group_id)
            group_id = group.parent_id if group is not None else None


def _verdict(mode: FilterMode, excluded: Reason, by: str) -> Decision:
    if mode is FilterMode.INCLUDE:
        return Decision(included=True, reason=Reason.PUBLISHED, by=by)
    return Decision(included=False, reason=excluded, by=by)


def _decide_one(product: Product, rules: _Rules, groups: GroupIndex) -> Decision:
    store_veto = _store_decision(product.store_id, rules)
    if store_veto is not None:
        return store_veto
    product_mode = rules.products.get(product.id)
    if product_mode is not None:
        return _verdict(product_mode, Reason.EXCLUDED_PRODUCT, product.id)
    for group_id in groups.chain(product):
        group_mode = rules.groups.get(group_id)
        if group_mode is not None:
            return _verdict(group_mode, Reason.EXCLUDED_GROUP, group_id)
    if rules.includes_below_store:
        return Decision(included=False, reason=Reason.NOT_INCLUDED)
    return _PUBLISHED


def _store_rank(ctx: SyncContext) -> dict[str, int]:
    return {store.id: rank for rank, store in enumerate(_store_order(ctx.stores))}


def decide_products(ctx: SyncContext) -> dict[str, tuple[Product, Decision]]:
    """Product id → (the product to publish under that id, its decision).

    One product id can appear in several stores (Evotor keeps the id when goods are copied);
    the VK sku is the id, so one of them is chosen: an included one, else the first store.
    """
    rules = _Rules.of(ctx)
    groups = GroupIndex(ctx.groups)
    rank = _store_rank(ctx)
    chosen: dict[str, tuple[Product, Decision]] = {}
    for product in ctx.products:
        decision = _decide_one(product, rules, groups)
        current = chosen.get(product.id)
        if current is None or _preference(product, decision, rank) < _preference(
            *current, rank
        ):
            chosen[product.id] = (product, decision)
    return chosen


def _preference(product: Product, decision: Decision, rank: dict[str, int]) -> tuple:
    return (not decision.included, rank.get(product.store_id, len(rank)), product.store_id)


def decide(ctx: SyncContext) -> dict[str, Decision]:
    """Product id → the filter decision (one per product id)."""
    return {pid: decision for pid, (_product, decision) in decide_products(ctx).items()}

