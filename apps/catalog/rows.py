"""Evotor objects (typed, from the client) → catalog rows ready for a bulk upsert.

Values that would not fit a column are clipped (text) or make the object skipped (numbers), so
one odd product never fails a whole refresh.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from apps.catalog.models import Product, ProductGroup, Store
from apps.connections.clients import EvotorProduct, EvotorProductGroup, EvotorStore

PRICE_LIMIT = Decimal("1e10")  # max_digits=12, decimal_places=2
QUANTITY_LIMIT = Decimal("1e12")  # max_digits=15, decimal_places=3


class UnstorableProduct(ValueError):
    """A product whose numbers do not fit the cache; it is skipped with this reason."""


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
    if value is not None and abs(value) >= limit:
        raise UnstorableProduct(f"{name} {value} is out of range")
    return value


def _extra(product: EvotorProduct) -> dict[str, Any]:
    values = {
        "alcocodes": list(product.alcocodes),
        "alcohol_by_volume": product.alcohol_by_volume,
        "alcohol_product_kind_code": product.alcohol_product_kind_code,
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
    """Raises UnstorableProduct for numbers the cache cannot hold."""
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
