"""Evotor JSON shapes (docs/evotor.md#fields): stores, groups, products, images.

Null columns are left out rather than sent as null (Evotor omits optional fields); empty
strings and empty lists are sent as they are, like the captured 2024 payloads.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from apps.sandbox.models import (
    EvotorProduct,
    EvotorProductGroup,
    EvotorProductImage,
    EvotorStore,
)

SERVICE_TYPE = "SERVICE"


def timestamp(moment: datetime) -> str:
    """``2018-09-11T16:18:35.397+0000``: milliseconds, offset without a colon
    (docs/evotor.md#conventions)."""
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def number(value: Decimal) -> int | float:
    """Money and quantities as JSON numbers: ``300`` when whole, ``1290.5`` otherwise."""
    if value == value.to_integral_value():
        return int(value)
    return float(value)


def store_json(store: EvotorStore, user_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {"id": store.evotor_id, "name": store.name}
    if store.address is not None:
        data["address"] = store.address
    data.update(
        user_id=user_id,
        created_at=timestamp(store.created_at),
        updated_at=timestamp(store.updated_at),
    )
    return data


def group_json(group: EvotorProductGroup, store_id: str, user_id: str) -> dict[str, Any]:
    data: dict[str, Any] = {"id": group.evotor_id}
    if group.parent_id:
        data["parent_id"] = group.parent_id
    data["name"] = group.name
    if group.barcodes is not None:
        data["barcodes"] = group.barcodes
    if group.attributes is not None:
        data["attributes"] = group.attributes
    data.update(
        store_id=store_id,
        user_id=user_id,
        created_at=timestamp(group.created_at),
        updated_at=timestamp(group.updated_at),
    )
    return data


def product_json(
    product: EvotorProduct, store_id: str, user_id: str, *, with_quantity: bool = True
) -> dict[str, Any]:
    data: dict[str, Any] = {"id": product.evotor_id, "type": product.type, "name": product.name}
    if product.parent_id:
        data["parent_id"] = product.parent_id
    if product.code is not None:
        data["code"] = product.code
    data["price"] = number(product.price)
    # Services carry neither stock nor cost (docs/evotor.md#product).
    if product.type != SERVICE_TYPE:
        if product.cost_price is not None:
            data["cost_price"] = number(product.cost_price)
        # Quantity is only visible to apps with stock rights (docs/evotor.md#tokens).
        if with_quantity and product.quantity is not None:
            data["quantity"] = number(product.quantity)
    data.update(
        measure_name=product.measure_name, tax=product.tax, allow_to_sell=product.allow_to_sell
    )
    for field in ("description", "article_number", "barcodes", "attributes_choices"):
        value = getattr(product, field)
        if value is not None:
            data[field] = value
    if product.extra:
        data.update({k: v for k, v in product.extra.items() if k not in data})
    data.update(
        store_id=store_id,
        user_id=user_id,
        created_at=timestamp(product.created_at),
        updated_at=timestamp(product.updated_at),
    )
    return data


def image_json(
    image: EvotorProductImage, product: EvotorProduct, store_id: str, user_id: str, url: str
) -> dict[str, Any]:
    return {
        "id": image.evotor_id,
        "user_id": user_id,
        "store_id": store_id,
        "product_id": product.evotor_id,
        "url": url,
        "meta": {
            "extension": image.extension,
            "file_size": image.file_size,
            "width": image.width,
            "height": image.height,
        },
        "created_at": timestamp(image.created_at),
        "updated_at": timestamp(image.updated_at),
    }


def page_json(items: list[dict[str, Any]], next_cursor: str | None) -> dict[str, Any]:
    """``{"items", "paging"}``; on the last page ``paging`` is an empty object
    (docs/evotor.md#paging)."""
    return {"items": items, "paging": {"next_cursor": next_cursor} if next_cursor else {}}
