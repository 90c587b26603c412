"""Typed Evotor objects (docs/evotor.md#fields) and their tolerant parsers.

Provider quirks handled here: prices arrive as JSON ints or floats (rubles, converted exactly via
``Decimal(str(x))``); optional strings arrive as "" or null (both become None); ``type`` and ``tax``
are open enums (unknown values are kept verbatim); ``quantity`` may be negative or absent (absent
when the app lacks stock rights, and always for SERVICE products); timestamps use ``+0000``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Generic, TypeVar

from .parsing import (
    MalformedPayload,
    as_list,
    as_mapping,
    opt_str,
    parse_timestamp,
    required_id,
    str_tuple,
    text,
    to_bool,
    to_decimal,
    to_int,
)

# Known values (docs/evotor.md#product-types-and-taxes). Anything else is kept as-is and simply
# not "known".
KNOWN_PRODUCT_TYPES = frozenset(
    "NORMAL ALCOHOL_MARKED ALCOHOL_NOT_MARKED SERVICE TOBACCO_MARKED SHOES_MARKED "
    "MEDICINE_MARKED TYRES_MARKED PERFUME_MARKED PHOTOS_MARKED LIGHT_INDUSTRY_MARKED "
    "TOBACCO_PRODUCTS_MARKED DAIRY_MARKED WATER_MARKED BIKE_MARKED JEWELRY_MARKED FUR_MARKED "
    "LOTTERY_TICKET LOTTERY_PRIZE BEER_MARKED_KEG ANTISEPTIC_MARKED DIETARY_SUPPLEMENTS_MARKED "
    "BEER_MARKED JUICE_MARKED WHEELCHAIRS_MARKED MEDICAL_DEVICES_MARKED".split()
)
KNOWN_TAXES = frozenset("NO_VAT VAT_0 VAT_10 VAT_10_110 VAT_18 VAT_18_118".split())

T = TypeVar("T")


@dataclass(frozen=True)
class EvotorStore:
    """A merchant's store (docs/evotor.md#stores-and-groups)."""

    id: str
    name: str
    address: str | None = None
    user_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class EvotorAttributeChoice:
    id: str
    name: str


@dataclass(frozen=True)
class EvotorAttribute:
    """A modification attribute ("Размер") with its choices ("S", "M")."""

    id: str
    name: str
    choices: tuple[EvotorAttributeChoice, ...] = ()


@dataclass(frozen=True)
class EvotorProductGroup:
    """A product group (docs/evotor.md#stores-and-groups); one with ``attributes`` is a
    modification group."""

    id: str
    name: str
    parent_id: str | None = None
    barcodes: tuple[str, ...] = ()
    attributes: tuple[EvotorAttribute, ...] = ()
    store_id: str | None = None
    user_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_modification_group(self) -> bool:
        return bool(self.attributes)


@dataclass(frozen=True)
class EvotorImageMeta:
    extension: str | None = None
    file_size: int | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class EvotorProductImage:
    """A product image (E7); at most one per product, PNG 300×300 in the docs."""

    id: str
    url: str | None
    product_id: str | None = None
    store_id: str | None = None
    user_id: str | None = None
    meta: EvotorImageMeta = field(default_factory=EvotorImageMeta)
    created_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class EvotorProduct:
    """A product or modification (docs/evotor.md#product). Every documented field; None means
    absent/empty."""

    id: str
    type: str
    name: str
    price: Decimal | None
    parent_id: str | None = None
    code: str | None = None
    article_number: str | None = None
    barcodes: tuple[str, ...] = ()
    cost_price: Decimal | None = None
    quantity: Decimal | None = None
    measure_name: str | None = None
    tax: str | None = None
    allow_to_sell: bool | None = None
    description: str | None = None
    attributes_choices: Mapping[str, str] = field(default_factory=dict)
    alcocodes: tuple[str, ...] = ()
    alcohol_by_volume: Decimal | None = None
    alcohol_product_kind_code: int | None = None
    tare_volume: Decimal | None = None
    is_excisable: bool | None = None
    is_age_limited: bool | None = None
    classification_code: str | None = None
    quantity_in_package: Decimal | None = None
    images: tuple[EvotorProductImage, ...] = ()
    store_id: str | None = None
    user_id: str | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @property
    def is_service(self) -> bool:
        return self.type == "SERVICE"

    @property
    def has_known_type(self) -> bool:
        return self.type in KNOWN_PRODUCT_TYPES

    @property
    def has_known_tax(self) -> bool:
        return self.tax in KNOWN_TAXES

    @property
    def is_modification(self) -> bool:
        return bool(self.attributes_choices)


@dataclass(frozen=True)
class EvotorPage(Generic[T]):
    """One page of a list endpoint (docs/evotor.md#paging). ``skipped`` says why unusable objects
    were dropped."""

    items: tuple[T, ...]
    next_cursor: str | None
    skipped: tuple[str, ...] = ()


def parse_store(data: Any) -> EvotorStore:
    obj = as_mapping(data)
    return EvotorStore(
        id=required_id(obj),
        name=text(obj.get("name")),
        address=opt_str(obj.get("address")),
        user_id=opt_str(obj.get("user_id")),
        created_at=parse_timestamp(obj.get("created_at")),
        updated_at=parse_timestamp(obj.get("updated_at")),
    )


def _parse_attribute(data: Any) -> EvotorAttribute:
    obj = as_mapping(data)
    choices = tuple(
        EvotorAttributeChoice(id=required_id(c), name=text(c.get("name")))
        for c in map(as_mapping, as_list(obj.get("choices")))
        if opt_str(c.get("id"))
    )
    return EvotorAttribute(id=required_id(obj), name=text(obj.get("name")), choices=choices)


def parse_product_group(data: Any) -> EvotorProductGroup:
    obj = as_mapping(data)
    attributes = tuple(
        _parse_attribute(a)
        for a in as_list(obj.get("attributes"))
        if opt_str(as_mapping(a).get("id"))
    )
    return EvotorProductGroup(
        id=required_id(obj),
        name=text(obj.get("name")),
        parent_id=opt_str(obj.get("parent_id")),
        barcodes=str_tuple(obj.get("barcodes")),
        attributes=attributes,
        store_id=opt_str(obj.get("store_id")),
        user_id=opt_str(obj.get("user_id")),
        created_at=parse_timestamp(obj.get("created_at")),
        updated_at=parse_timestamp(obj.get("updated_at")),
    )


def parse_product_image(data: Any) -> EvotorProductImage:
    obj = as_mapping(data)
    meta = as_mapping(obj.get("meta"))
    return EvotorProductImage(
        id=required_id(obj),
        url=opt_str(obj.get("url")),
        product_id=opt_str(obj.get("product_id")),
        store_id=opt_str(obj.get("store_id")),
        user_id=opt_str(obj.get("user_id")),
        meta=EvotorImageMeta(
            extension=opt_str(meta.get("extension")),
            file_size=to_int(meta.get("file_size")),
            width=to_int(meta.get("width")),
            height=to_int(meta.get("height")),
        ),
        created_at=parse_timestamp(obj.get("created_at")),
        updated_at=parse_timestamp(obj.get("updated_at")),
    )


def _attributes_choices(value: Any) -> dict[str, str]:
    pairs = ((opt_str(k), opt_str(v)) for k, v in as_mapping(value).items())
    return {k: v for k, v in pairs if k and v}


def _images(value: Any) -> tuple[EvotorProductImage, ...]:
    return tuple(parse_product_image(i) for i in as_list(value) if opt_str(as_mapping(i).get("id")))


def parse_product(data: Any) -> EvotorProduct:
    obj = as_mapping(data)
    return EvotorProduct(
        id=required_id(obj),
        type=text(obj.get("type")).strip(),
        name=text(obj.get("name")),
        price=to_decimal(obj.get("price")),
        parent_id=opt_str(obj.get("parent_id")),
        code=opt_str(obj.get("code")),
        article_number=opt_str(obj.get("article_number")),
        barcodes=str_tuple(obj.get("barcodes")),
        cost_price=to_decimal(obj.get("cost_price")),
        quantity=to_decimal(obj.get("quantity")),
        measure_name=opt_str(obj.get("measure_name")),
        tax=opt_str(obj.get("tax")),
        allow_to_sell=to_bool(obj.get("allow_to_sell")),
        description=opt_str(obj.get("description")),
        attributes_choices=_attributes_choices(obj.get("attributes_choices")),
        alcocodes=str_tuple(obj.get("alcocodes")),
        alcohol_by_volume=to_decimal(obj.get("alcohol_by_volume")),
        alcohol_product_kind_code=to_int(obj.get("alcohol_product_kind_code")),
        tare_volume=to_decimal(obj.get("tare_volume")),
        is_excisable=to_bool(obj.get("is_excisable")),
        is_age_limited=to_bool(obj.get("is_age_limited")),
        classification_code=opt_str(obj.get("classification_code")),
        quantity_in_package=to_decimal(obj.get("quantity_in_package")),
        images=_images(obj.get("images")),
        store_id=opt_str(obj.get("store_id")),
        user_id=opt_str(obj.get("user_id")),
        created_at=parse_timestamp(obj.get("created_at")),
        updated_at=parse_timestamp(obj.get("updated_at")),
    )


def parse_page(data: Any, parse_item: Callable[[Any], T]) -> EvotorPage[T]:
    """Parse ``{"items": [...], "paging": {"next_cursor": ...}}``; drop (and report) bad items.

    Raises MalformedPayload when the body is not an object with an ``items`` array.
    """
    body = as_mapping(data)
    if not isinstance(body.get("items"), list):
        raise MalformedPayload("list reply without an 'items' array")
    items: list[T] = []
    skipped: list[str] = []
    for index, raw in enumerate(body["items"]):
        try:
            items.append(parse_item(raw))
        except MalformedPayload as exc:
            skipped.append(f"item {index}: {exc}")
    cursor = opt_str(as_mapping(body.get("paging")).get("next_cursor"))
    return EvotorPage(items=tuple(items), next_cursor=cursor, skipped=tuple(skipped))
