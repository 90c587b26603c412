"""Plain-value builders for the core tests: a shop with one store unless a test says otherwise."""

from __future__ import annotations

from decimal import Decimal

from apps.sync.core.types import (
    Filter,
    FilterMode,
    FilterType,
    Group,
    Link,
    LinkState,
    Product,
    Store,
    SyncContext,
    SyncSettings,
)

STORE = Store(id="s1", name="Магазин на Ленина")


def settings(**overrides: object) -> SyncSettings:
    return SyncSettings(category_id=1, **overrides)  # type: ignore[arg-type]


def product(pid: str = "p1", **overrides: object) -> Product:
    values: dict[str, object] = {
        "id": pid,
        "store_id": STORE.id,
        "name": f"Товар {pid}",
        "price": Decimal("100"),
    }
    values.update(overrides)
    return Product(**values)  # type: ignore[arg-type]


def context(*products: Product, **overrides: object) -> SyncContext:
    values: dict[str, object] = {
        "settings": settings(),
        "stores": (STORE,),
        "groups": (),
        "products": products,
    }
    values.update(overrides)
    return SyncContext(**values)  # type: ignore[arg-type]


def include(entity_type: FilterType, entity_id: str) -> Filter:
    return Filter(entity_type, entity_id, FilterMode.INCLUDE)


def exclude(entity_type: FilterType, entity_id: str) -> Filter:
    return Filter(entity_type, entity_id, FilterMode.EXCLUDE)


def group(gid: str, parent: str | None = None, name: str = "") -> Group:
    return Group(id=gid, name=name or f"Группа {gid}", store_id=STORE.id, parent_id=parent)


def published_link(pid: str, item_id: int, **overrides: object) -> Link:
    values: dict[str, object] = {
        "product_id": pid,
        "state": LinkState.PUBLISHED,
        "vk_item_id": item_id,
    }
    values.update(overrides)
    return Link(**values)  # type: ignore[arg-type]
