"""Load what the pure core needs from the database (and the VK read-back) into plain values.

A constant number of queries per table up to 10,000 rows (one more per further 10,000), rows
read as tuples and kept as lean values (docs/architecture.md, memory).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from apps.catalog.models import Product, ProductGroup, Store
from apps.connections.clients import VkItemState
from apps.sync.core import types as core
from apps.sync.models import AlbumLink, ProductLink, SyncConfig, SyncFilter

PRODUCT_COLUMNS = (
    "evotor_id", "store__evotor_id", "name", "price", "group_evotor_id", "quantity",
    "measure_name", "type", "allow_to_sell", "description", "article_number", "code",
    "removed_at", "attributes_choices", "image_url", "evotor_updated_at",
)


_ABSENT = object()


class LinkRows(MutableMapping[str, ProductLink]):
    """Product id → its ProductLink, read when a run acts on the product.

    :func:`load` knows every saved link only by the VK item it names (the differ works on the
    lean ``core.Link`` values); a run acts on a few, so instances are read in bulk, a thousand
    per query, by :meth:`require` — the executor asks round by round — and :meth:`forget` lets
    go of the ones a run is done with. A 50,000-product catalogue therefore never holds 50,000
    model instances, nor 50,000 rows of every column (docs/architecture.md, memory).
    """

    def __init__(
        self,
        user_id: int,
        vk_group_id: int,
        known: Iterable[tuple[str, int | None]] = (),
        using: str = "default",
    ) -> None:
        self._user_id, self._vk_group_id, self._using = user_id, vk_group_id, using
        self._made: dict[str, ProductLink] = {}
        # Product id → VK item of a saved link not held as an instance.
        self._known: dict[str, int | None] = dict(known)

    def __getitem__(self, product_id: str) -> ProductLink:
        link = self._made.get(product_id)
        if link is not None:
            return link
        if product_id not in self._known:
            raise KeyError(product_id)
        self.require([product_id])
        return self._made[product_id]  # KeyError: the row is gone

    def __setitem__(self, product_id: str, link: ProductLink) -> None:
        self._known.pop(product_id, None)
        self._made[product_id] = link

    def __delitem__(self, product_id: str) -> None:
        held = self._made.pop(product_id, None) is not None
        known = self._known.pop(product_id, _ABSENT) is not _ABSENT
        if not (held or known):
            raise KeyError(product_id)

    def __contains__(self, product_id: object) -> bool:
        return product_id in self._made or product_id in self._known

    def __iter__(self) -> Iterator[str]:
        yield from self._known
        yield from self._made

    def __len__(self) -> int:
        return len(self._known) + len(self._made)

    def item_owners(self) -> dict[int, str]:
        """VK item id → product id, for every link that knows an item (held or not)."""
        owners = {item_id: pid for pid, item_id in self._known.items() if item_id is not None}
        owners.update((link.vk_item_id, pid) for pid, link in self._made.items()
                      if link.vk_item_id is not None)
        return owners

    def forget(self, product_ids: Iterable[str]) -> None:
        """Let go of these (saved) instances: a first sync of 50,000 goods would otherwise
        hold every link it made."""
        for pid in product_ids:
            link = self._made.pop(pid, None)
            if link is not None:
                self._known[pid] = link.vk_item_id

    def ensure(self, product_ids: Iterable[str]) -> None:
        """Hold a link for each of these goods: the saved ones read (:meth:`require`), the
        others created as ``pending`` rows first (a run creates them round by round)."""
        wanted = list(dict.fromkeys(product_ids))
        self.require(wanted)
        missing = [pid for pid in wanted if pid not in self]
        if not missing:
            return
        links = ProductLink.objects.using(self._using)
        links.bulk_create(
            [ProductLink(user_id=self._user_id, vk_group_id=self._vk_group_id,
                         evotor_product_id=pid) for pid in missing],
            batch_size=1000, ignore_conflicts=True,
        )
        for start in range(0, len(missing), 1000):
            for link in links.filter(
                user_id=self._user_id, vk_group_id=self._vk_group_id,
                evotor_product_id__in=missing[start : start + 1000],
            ):
                self[link.evotor_product_id] = link

    def require(self, product_ids: Iterable[str]) -> None:
        """Read the saved links of these goods that are not held, a thousand per query."""
        wanted = [pid for pid in dict.fromkeys(product_ids) if pid in self._known]
        for start in range(0, len(wanted), 1000):
            chunk = wanted[start : start + 1000]
            for link in ProductLink.objects.using(self._using).filter(
                user_id=self._user_id, vk_group_id=self._vk_group_id,
                evotor_product_id__in=chunk,
            ):
                self[link.evotor_product_id] = link
            for pid in chunk:  # deleted meanwhile: no longer a saved link
                self._known.pop(pid, None)


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


# Rows are read a chunk at a time (keyset pagination on the primary key) and turned into lean
# values as they come. One query for a whole catalogue would hold every row twice at the run's
# memory peak: the database driver buffers the complete result before the first row is used
# (mysqlclient converts all of it to Python at once), beside the values made from it.
CHUNK = 10_000


def _chunked(queryset, fields: tuple[str, ...], size: int = CHUNK) -> Iterator[tuple]:
    """``values_list(*fields)`` rows of ``queryset`` in primary-key order, ``size`` per query."""
    last = None
    while True:
        page = queryset if last is None else queryset.filter(pk__gt=last)
        rows = list(page.order_by("pk").values_list("pk", *fields)[:size])
        for row in rows:
            yield row[1:]
        if len(rows) < size:
            return
        last = rows[-1][0]


def _stores_and_groups(user_id: int) -> tuple[tuple, tuple]:
    stores = tuple(
        core.Store(evotor_id, name)
        for evotor_id, name in Store.objects.filter(user_id=user_id, removed_at__isnull=True)
        .order_by("name", "evotor_id")
        .values_list("evotor_id", "name")
    )
    group_rows = ProductGroup.objects.filter(user_id=user_id).values(
        "evotor_id", "name", "store__evotor_id", "parent_evotor_id", "removed_at", "attributes"
    )
    return stores, tuple(group_rows)


def load(
    config: SyncConfig,
    vk_group_id: int,
    *,
    vk_items: list[VkItemState] | None,
    now: datetime,
    only: frozenset[str] | None = None,
) -> Loaded:
    stores, group_rows = _stores_and_groups(config.user_id)
    group_data = {g["evotor_id"]: g for g in group_rows}
    groups = tuple(
        core.Group(
            g["evotor_id"], g["name"], g["store__evotor_id"],
            g["parent_evotor_id"] or None, g["removed_at"] is not None,
        )
        for g in group_rows
    )
    # One copy of the strings many rows repeat (store, group, measure, type, the keys of the
    # published values): 50,000 goods would otherwise hold 50,000 copies of each.
    shared: dict[str, str] = {g.id: g.id for g in groups}
    links: list[core.Link] = []
    link_images: dict[str, str] = {}
    for row in _chunked(
        ProductLink.objects.filter(user_id=config.user_id, vk_group_id=vk_group_id), _LINK_FIELDS
    ):
        links.append(_link(row, shared))
        if row[_LINK_IMAGE]:
            link_images[row[0]] = row[_LINK_IMAGE]
    products, names, updated = [], {}, {}
    for row in _chunked(Product.objects.filter(user_id=config.user_id), PRODUCT_COLUMNS):
        product = _product(row, group_data, link_images.get(row[0], ""), shared)
        products.append(product)
        names[product.id] = product.name
        if row[15] is not None:
            updated[product.id] = row[15]
    del link_images
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
        links=tuple(links),
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
    known = ((link.product_id, link.vk_item_id) for link in links)
    link_rows = LinkRows(config.user_id, vk_group_id, known)
    return Loaded(ctx, link_rows, albums, names, updated, rejected)


def _product(
    row: tuple, groups: dict[str, dict], link_image: str, shared: dict[str, str]
) -> core.Product:
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


# What the differ reads of a link (core.Link), then the Evotor image the link recorded.
_LINK_FIELDS = ("evotor_product_id", "state", "vk_item_id", "payload_hash", "photo_key",
                "vk_photo_id", "album_group_id", "published", "image_url")
_LINK_IMAGE = _LINK_FIELDS.index("image_url")


def _link(row: tuple, shared: dict[str, str]) -> core.Link:
    pid, state, item_id, payload_hash, photo_key, photo_id, album, published, _image = row
    one = shared.setdefault
    if isinstance(published, dict):
        # JSON decoding makes new key strings for every row: the shared ones instead.
        published = {
            one(key, key): one(value, value) if key == "album_group_id" and isinstance(value, str)
            else value
            for key, value in published.items()
        }
    return core.Link(
        product_id=pid,
        state=core.LinkState(state),
        vk_item_id=item_id,
        payload_hash=payload_hash,
        photo_key=photo_key,
        vk_photo_id=photo_id,
        album_group_id=one(album, album) if album else None,
        published=published or None,
    )


def vk_item(item: VkItemState) -> core.VkItem:
    return core.VkItem(
        id=item.id,
        sku=item.sku,
        title=item.title,
        price_minor=item.price_minor,
        removed=item.is_removed,
        hidden=item.is_hidden,
        album_ids=item.albums_ids,
    )


def _rejection(item: VkItemState) -> str:
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
