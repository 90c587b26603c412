"""Evotor objects (typed, from the client) → catalog rows ready for a bulk upsert.

Values that would not fit a column are clipped (text) or make the object skipped (numbers, and
ids: a clipped id would name another object), so one odd product never fails a whole refresh.
MariaDB in strict mode refuses an over-long value outright where SQLite would store it, so the
limits are checked here rather than left to the database.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.catalog.models import Product, ProductGroup, Store
from apps.connections.clients import EvotorProduct, EvotorProductGroup, EvotorStore

PRICE_LIMIT = Decimal("1e10")  # max_digits=12, decimal_places=2
QUANTITY_LIMIT = Decimal("1e12")  # max_digits=15, decimal_places=3
ID_LENGTH = Product._meta.get_field("evotor_id").max_length  # every *evotor_id column: 64
# Integers kept in JSON: json.dumps refuses ints of more than 4300 digits, and no code is long.
INTEGER_LIMIT = 10**18


class UnstorableObject(ValueError):
    """An Evotor object whose ids or numbers do not fit the cache; skipped with this reason."""


class UnstorableProduct(UnstorableObject):
    """A product that cannot be cached (the refresh skips it and reports why)."""


def check_ids(**ids: str | None) -> None:
    """Raise UnstorableObject naming the first id longer than the id columns hold."""
    for name, value in ids.items():
        if value and len(value) > ID_LENGTH:
            raise UnstorableObject(f"{name} is longer than {ID_LENGTH} characters")


def clip(value: str | None, model: type, field: str) -> str:
    limit = model._meta.get_field(field).max_length
    return (value or "")[:limit]


def store_row(
    user_id: int, store: EvotorStore, stamp: datetime, watermarks: tuple[datetime | None, ...]
) -> Store:
    """``watermarks``: the (products, groups) ``since`` values for the next incremental run."""
    return Store(
        user_id=user_id,
        evotor_id=store.id,
        name=clip(store.name, Store, "name") or store.id,
        address=clip(store.address, Store, "address"),
        evotor_created_at=store.created_at,
        evotor_updated_at=store.updated_at,
        fetched_at=stamp,
        removed_at=None,
        products_watermark=watermarks[0],
        groups_watermark=watermarks[1],
    )


def group_row(user_id: int, store_pk: int, group: EvotorProductGroup, stamp) -> ProductGroup:
    return ProductGroup(
        user_id=user_id,
        store_id=store_pk,
        evotor_id=group.id,
        name=clip(group.name, ProductGroup, "name") or group.id,
        parent_evotor_id=clip(group.parent_id, ProductGroup, "parent_evotor_id"),
        barcodes=list(group.barcodes),
        attributes=[_attribute(a) for a in group.attributes],
        is_modification_group=group.is_modification_group,
        evotor_created_at=group.created_at,
        evotor_updated_at=group.updated_at,
        fetched_at=stamp,
        removed_at=None,
    )


def _attribute(attribute) -> dict[str, Any]:
    choices = [{"id": c.id, "name": c.name} for c in attribute.choices]
    return {"id": attribute.id, "name": attribute.name, "choices": choices}


def _checked(value: Decimal | None, limit: Decimal, name: str) -> Decimal | None:
    # copy_abs(), not abs(): abs() rounds in the context and overflows on "1e999999999".
    if value is not None and value.copy_abs() >= limit:
        raise UnstorableProduct(f"{name} {value:.3e} is out of range")
    return value


def _checked_int(value: int | None, name: str) -> int | None:
    if value is not None and abs(value) >= INTEGER_LIMIT:
        raise UnstorableProduct(f"{name} is out of range")
    return value


def _extra(product: EvotorProduct) -> dict[str, Any]:
    values = {
        "alcocodes": list(product.alcocodes),
        "alcohol_by_volume": product.alcohol_by_volume,
        "alcohol_product_kind_code": _checked_int(
            product.alcohol_product_kind_code, "alcohol_product_kind_code"
        ),
        "tare_volume": product.tare_volume,
        "is_excisable": product.is_excisable,
        "is_age_limited": product.is_age_limited,
        "classification_code": product.classification_code,
        "quantity_in_package": product.quantity_in_package,
    }
    return {
        key: str(value) if isinstance(value, Decimal) else value
        for key, value in values.items()
        if value not in (None, "", [])
    }


def search_text(*parts: str | list[str] | None) -> str:
    words: list[str] = []
    for part in parts:
        words.extend(part if isinstance(part, list) else [part or ""])
    return " ".join(word.strip() for word in words if word).lower()


def product_row(user_id: int, store_pk: int, product: EvotorProduct, stamp) -> Product:
    """Raises UnstorableProduct for ids and numbers the cache cannot hold."""
    try:
        check_ids(id=product.id, parent_id=product.parent_id)
    except UnstorableObject as exc:
        raise UnstorableProduct(str(exc)) from None
    barcodes = [code for code in product.barcodes if code]
    return Product(
        user_id=user_id,
        store_id=store_pk,
        evotor_id=product.id,
        name=clip(product.name, Product, "name") or product.id,
        group_evotor_id=clip(product.parent_id, Product, "group_evotor_id"),
        type=clip(product.type, Product, "type"),
        code=clip(product.code, Product, "code"),
        article_number=clip(product.article_number, Product, "article_number"),
        barcodes=barcodes,
        search_text=search_text(product.name, product.article_number, product.code, barcodes),
        price=_checked(product.price, PRICE_LIMIT, "price"),
        cost_price=_checked(product.cost_price, QUANTITY_LIMIT, "cost_price"),
        quantity=_checked(product.quantity, QUANTITY_LIMIT, "quantity"),
        measure_name=clip(product.measure_name, Product, "measure_name"),
        tax=clip(product.tax, Product, "tax"),
        allow_to_sell=product.allow_to_sell is not False,
        description=product.description or "",
        attributes_choices=dict(product.attributes_choices),
        image_url=clip(next((i.url for i in product.images if i.url), ""), Product, "image_url"),
        extra=_extra(product),
        evotor_created_at=product.created_at,
        evotor_updated_at=product.updated_at,
        fetched_at=stamp,
        removed_at=None,
    )


def updatable_fields(model: type) -> list[str]:
    """Every concrete column but the key: what an upsert overwrites."""
    keep = {"id", "user", "evotor_id"}
    return [f.name for f in model._meta.concrete_fields if f.name not in keep]
