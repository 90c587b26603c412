"""Load what the pure core needs from the database (and the VK read-back) into plain values.

A constant number of queries whatever the catalog size: one per table, rows read as tuples.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
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


# Every column of a link, read as a tuple: a model instance is made only for the links a run
# acts on (a no-change run over 10,000 goods acts on none).
LINK_COLUMNS = tuple(f.attname for f in ProductLink._meta.concrete_fields)
_LINK_PRODUCT = LINK_COLUMNS.index("evotor_product_id")
_LINK_ITEM = LINK_COLUMNS.index("vk_item_id")


class LinkRows(MutableMapping[str, ProductLink]):
    """Product id → its ProductLink, made from the row read by :func:`load` when first asked
    for. :meth:`forget` drops instances a run is done with; asked for again, they are read
    again (:meth:`require` reads many in one query)."""

    def __init__(self, rows: Iterable[tuple] = (), using: str = "default") -> None:
        self._rows: dict[str, tuple] = {row[_LINK_PRODUCT]: row for row in rows}
        self._made: dict[str, ProductLink] = {}
        # Product id → (user id, community, VK item) of a saved link let go of.
        self._forgotten: dict[str, tuple[int, int, int | None]] = {}
        self._using = using

    def __getitem__(self, product_id: str) -> ProductLink:
        link = self._made.get(product_id)
        if link is not None:
            return link
        row = self._rows.pop(product_id, None)
        if row is not None:
            link = ProductLink.from_db(self._using, LINK_COLUMNS, row)
        elif product_id in self._forgotten:
            self.require([product_id])
            return self._made[product_id]
        else:
            raise KeyError(product_id)
        self._made[product_id] = link
        return link

    def __setitem__(self, product_id: str, link: ProductLink) -> None:
        self._rows.pop(product_id, None)
        self._forgotten.pop(product_id, None)
        self._made[product_id] = link

    def __delitem__(self, product_id: str) -> None:
        found = False
        for held in (self._made, self._rows, self._forgotten):
            found = held.pop(product_id, None) is not None or found
        if not found:
            raise KeyError(product_id)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._made or product_id in self._rows or (
            product_id in self._forgotten
        )

    def __iter__(self) -> Iterator[str]:
        yield from self._rows
        yield from self._made
        yield from self._forgotten

    def __len__(self) -> int:
        return len(self._rows) + len(self._made) + len(self._forgotten)

    def item_owners(self) -> dict[int, str]:
        """VK item id → product id, for every link that knows an item (read, made or not)."""
        owners = {row[_LINK_ITEM]: pid for pid, row in self._rows.items()
                  if row[_LINK_ITEM] is not None}
        owners.update((item_id, pid) for pid, (_u, _g, item_id) in self._forgotten.items()
                      if item_id is not None)
        owners.update((link.vk_item_id, pid) for pid, link in self._made.items()
                      if link.vk_item_id is not None)
        return owners

    def forget(self, product_ids: Iterable[str]) -> None:
        """Let go of these (saved) instances: a first sync of 50,000 goods would otherwise
        hold every link it made."""
        for pid in product_ids:
            link = self._made.pop(pid, None)
            if link is not None:
                self._forgotten[pid] = (link.user_id, link.vk_group_id, link.vk_item_id)

    def require(self, product_ids: Iterable[str]) -> None:
        """Read forgotten links back, a thousand per query."""
        wanted = [pid for pid in dict.fromkeys(product_ids) if pid in self._forgotten]
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            by_owner: dict[tuple[int, int], list[str]] = {}
            for pid in chunk:
                user_id, group_id, _item = self._forgotten[pid]
                by_owner.setdefault((user_id, group_id), []).append(pid)
            for (user_id, group_id), pids in by_owner.items():
                for link in ProductLink.objects.using(self._using).filter(
                    user_id=user_id, vk_group_id=group_id, evotor_product_id__in=pids
                ):
                    self[link.evotor_product_id] = link


@dataclass
class Loaded:
    """The context plus the rows the executor records outcomes on."""

    ctx: core.SyncContext
    links: LinkRows
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
    link_rows = list(
        ProductLink.objects.filter(user_id=config.user_id, vk_group_id=vk_group_id)
        .values_list(*LINK_COLUMNS)
    )
    link_images = {row[_LINK_PRODUCT]: row[_LINK_IMAGE] for row in link_rows}
    products, names, updated = [], {}, {}
    shared: dict[str, str] = {}
    for row in product_rows:
        product = _product(row, group_data, link_images.get(row[0], ""), shared)
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
        links=tuple(_link(row) for row in link_rows),
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
    return Loaded(ctx, LinkRows(link_rows), albums, names, updated, rejected)


def _product(
    row: tuple, groups: dict[str, dict], link_image: str, shared: dict[str, str]
) -> core.Product:
    """``shared`` keeps one copy of the strings many products repeat (store, group, measure,
    type): 50,000 goods would otherwise hold 50,000 copies of each."""
    (evotor_id, store_id, name, price, group_id, quantity, measure, kind, allow, description,
     article, code, removed_at, choices, image_url, _updated) = row
    one = shared.setdefault
    return core.Product(
        id=evotor_id,
        store_id=one(store_id, store_id),
        name=name,
        price=price,
        group_id=one(group_id, group_id) if group_id else None,
        quantity=quantity,
        measure_name=one(measure, measure),
        type=one(kind, kind),
        allow_to_sell=allow,
        description=description,
        article=article,
        code=code,
        removed=removed_at is not None,
        attributes=_attributes(groups, group_id, choices),
        image_url=image_url or link_image or "",
    )


_LINK_FIELDS = ("evotor_product_id", "state", "vk_item_id", "payload_hash", "photo_key",
                "vk_photo_id", "album_group_id", "published")
_LINK_AT = tuple(LINK_COLUMNS.index(name) for name in _LINK_FIELDS)
_LINK_IMAGE = LINK_COLUMNS.index("image_url")


def _link(row: tuple) -> core.Link:
    pid, state, item_id, payload_hash, photo_key, photo_id, album, published = (
        row[i] for i in _LINK_AT
    )
    return core.Link(
        product_id=pid,
        state=core.LinkState(state),
        vk_item_id=item_id,
        payload_hash=payload_hash,
        photo_key=photo_key,
        vk_photo_id=photo_id,
        album_group_id=album or None,
        published=published or None,
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
