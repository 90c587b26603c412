"""Load what the pure core needs from the database (and the VK read-back) into plain values.

A constant number of queries whatever the catalog size: one per table, rows read as tuples.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime

from apps.catalog.models import Product, ProductGroup, Store
from apps.connections.clients import VkMarketItem
from apps.sync.core import types as core
from apps.sync.models import AlbumLink, ProductLink, SyncConfig, SyncFilter

PRODUCT_COLUMNS = (
    "evotor_id", "store__evotor_id", "name", "price", "group_evotor_id", "quantity",
    "measure_name", "type", "allow_to_sell", "description", "article_number", "code",
    "removed_at", "attributes_choices", "image_url", "evotor_updated_at",
)


@dataclass
class Loaded:
    """The context plus the rows the executor records outcomes on."""

    ctx: core.SyncContext
    links: dict[str, ProductLink]
    albums: dict[str, AlbumLink]
    names: dict[str, str] = field(default_factory=dict)  # product id → name, for error rows
    updated: dict[str, datetime | None] = field(default_factory=dict)  # product id → Evotor time
    rejected: dict[int, str] = field(default_factory=dict)  # VK item id → moderation reason

    @property
    def group_names(self) -> dict[str, str]:
        return {g.id: g.name for g in self.ctx.groups}

    @property
    def store_names(self) -> dict[str, str]:
        return {s.id: s.name for s in self.ctx.stores}


def settings_of(config: SyncConfig) -> core.SyncSettings:
    return core.SyncSettings(
        category_id=config.vk_category_id or 0,
        markup_percent=config.markup_percent,
        rounding=core.Rounding(config.rounding),
        min_price=config.min_price,
        description_template=config.description_template,
        out_of_stock=core.OutOfStock(config.out_of_stock),
        removal=core.Removal(config.removal),
        albums=config.albums_enabled,
        managed=config.managed_fields(),
    )


def filters_of(config: SyncConfig) -> tuple[core.Filter, ...]:
    rows = SyncFilter.objects.filter(config=config).values_list(
        "entity_type", "entity_id", "filter_mode"
    )
    return tuple(
        core.Filter(core.FilterType(kind), entity_id, core.FilterMode(mode))
        for kind, entity_id, mode in rows
    )


def _attributes(groups: dict[str, dict], group_id: str, choices: dict) -> tuple:
    """Modification values as (attribute name, value name), UUIDs resolved via the group."""
    if not choices:
        return ()
    attributes = groups.get(group_id, {}).get("attributes") or []
    by_id = {a.get("id"): a for a in attributes if isinstance(a, dict)}
    values = []
    for attribute_id, choice_id in sorted(choices.items()):
        attribute = by_id.get(attribute_id) or {}
        names = {c.get("id"): c.get("name") for c in attribute.get("choices") or []}
        value = names.get(choice_id)
        if value:
            values.append((str(attribute.get("name") or ""), str(value)))
    return tuple(values)


def catalog_of(user_id: int) -> tuple[tuple, tuple, list[tuple]]:
    stores = tuple(
        core.Store(evotor_id, name)
        for evotor_id, name in Store.objects.filter(user_id=user_id, removed_at__isnull=True)
        .order_by("name", "evotor_id")
        .values_list("evotor_id", "name")
    )
    group_rows = ProductGroup.objects.filter(user_id=user_id).values(
        "evotor_id", "name", "store__evotor_id", "parent_evotor_id", "removed_at", "attributes"
    )
    return stores, tuple(group_rows), list(
        Product.objects.filter(user_id=user_id).values_list(*PRODUCT_COLUMNS)
    )


def load(
    config: SyncConfig,
    vk_group_id: int,
    *,
    vk_items: list[VkMarketItem] | None,
    now: datetime,
    only: frozenset[str] | None = None,
) -> Loaded:
    stores, group_rows, product_rows = catalog_of(config.user_id)
    group_data = {g["evotor_id"]: g for g in group_rows}
    groups = tuple(
        core.Group(
            g["evotor_id"], g["name"], g["store__evotor_id"],
            g["parent_evotor_id"] or None, g["removed_at"] is not None,
        )
        for g in group_rows
    )
    links = {
        link.evotor_product_id: link
        for link in ProductLink.objects.filter(user_id=config.user_id, vk_group_id=vk_group_id)
    }
    products, names, updated = [], {}, {}
    for row in product_rows:
        product = _product(row, group_data, links.get(row[0]))
        products.append(product)
        names[product.id] = product.name
        updated[product.id] = row[15]
    albums = {
        a.evotor_group_id: a
        for a in AlbumLink.objects.filter(user_id=config.user_id, vk_group_id=vk_group_id)
    }
    ctx = core.SyncContext(
        settings=settings_of(config),
        stores=stores,
        groups=groups,
        products=tuple(products),
        filters=filters_of(config),
        links=tuple(_link(link) for link in links.values()),
        albums=tuple(
            core.AlbumLink(a.evotor_group_id, a.vk_album_id, a.title) for a in albums.values()
        ),
        vk_items=None if vk_items is None else tuple(vk_item(i) for i in vk_items),
        now=now,
        only_product_ids=only,
    )
    rejected = {
        i.id: _rejection(i) for i in vk_items or () if i.reject_info is not None
    }
    return Loaded(ctx, links, albums, names, updated, rejected)


def _product(row: tuple, groups: dict[str, dict], link: ProductLink | None) -> core.Product:
    (evotor_id, store_id, name, price, group_id, quantity, measure, kind, allow, description,
     article, code, removed_at, choices, image_url, _updated) = row
    return core.Product(
        id=evotor_id,
        store_id=store_id,
        name=name,
        price=price,
        group_id=group_id or None,
        quantity=quantity,
        measure_name=measure,
        type=kind,
        allow_to_sell=allow,
        description=description,
        article=article,
        code=code,
        removed=removed_at is not None,
        attributes=_attributes(groups, group_id, choices),
        image_url=image_url or (link.image_url if link else ""),
    )


def _link(link: ProductLink) -> core.Link:
    return core.Link(
        product_id=link.evotor_product_id,
        state=core.LinkState(link.state),
        vk_item_id=link.vk_item_id,
        payload_hash=link.payload_hash,
        photo_key=link.photo_key,
        vk_photo_id=link.vk_photo_id,
        album_group_id=link.album_group_id or None,
        published=link.published or None,
    )


def vk_item(item: VkMarketItem) -> core.VkItem:
    price = item.price.amount_minor if item.price is not None else None
    return core.VkItem(
        id=item.id,
        sku=item.sku,
        title=item.title,
        price_minor=price,
        removed=item.is_removed,
        hidden=item.is_hidden,
        album_ids=item.albums_ids,
    )


def _rejection(item: VkMarketItem) -> str:
    info = item.reject_info
    parts = [p for p in (info.title, info.description) if p] if info else []
    return ": ".join(parts)[:400] or "rejected by VK moderation"


def with_images(ctx: core.SyncContext, images: dict[str, str]) -> core.SyncContext:
    """The context with Evotor image URLs found this run filled in."""
    if not images:
        return ctx
    products = tuple(
        replace(p, image_url=images[p.id]) if p.id in images else p for p in ctx.products
    )
    return replace(ctx, products=products)
