"""The sync side of the catalog pages: what each store, group and product will do in VK, and why.

The catalog never imports the sync (docs/architecture.md#apps-and-dependencies): its pages send
``catalog_page`` with the rows they show, and :func:`states_for_page` answers with the states to
display, computed by the same pure functions a run uses (``filters.decide``,
``transform.build_payload``) over the context a run would load, from the cache and the links only
(no VK call). The rows are decided one page at a time: a store's or group's state and a product's
depend on the filters, stores and groups, never on the other products.

The heading's count of what will be published is the one figure that needs every product: it is
computed by the same functions over the whole catalog (:func:`count_published`), then remembered
under a fingerprint of everything it depends on (:func:`catalog_counts`): the decision columns of
every product, hashed and folded in SQL, the stores, groups, filters and sync settings. Any change
to one of them is a new fingerprint, so a count is never stale, whoever changed what (a refresh, a
webhook, a filter, the settings, a script) and without anyone having to invalidate anything.

The include / exclude / inherit buttons post to the views at the end of this module
(apps/sync/publishing_urls.py); they write ``SyncFilter`` rows of the merchant's own objects.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal
from functools import cached_property
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.cache.backends.base import BaseCache
from django.core.cache.backends.db import DatabaseCache
from django.db import connections, transaction
from django.db.models import BigIntegerField, Case, CharField, Count, F, Func, Q, Value, When
from django.db.models.functions import SHA1, Cast, Coalesce
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from apps.catalog.browse import ProductFilterForm, catalog_view
from apps.catalog.models import Product, ProductGroup, Store
from apps.connections.explain import Explanation, vk_error
from apps.connections.services import connections_of
from apps.sync.context import filters_of, settings_of
from apps.sync.core import filters
from apps.sync.core import types as core
from apps.sync.core.transform import blocking_reason, is_out_of_stock
from apps.sync.models import ProductLink, SyncConfig, SyncFilter
from apps.sync.services import config_for

R = core.Reason
# Bootstrap colour of the state badge.
TONES = {
    R.PUBLISHED: "success",
    R.STORE_NOT_CHOSEN: "secondary",
    R.EXCLUDED_STORE: "secondary",
    R.EXCLUDED_GROUP: "secondary",
    R.EXCLUDED_PRODUCT: "secondary",
    R.NOT_INCLUDED: "secondary",
    R.REMOVED: "secondary",
    R.NOT_FOR_SALE: "warning",
    R.OUT_OF_STOCK: "warning",
    R.NO_PRICE: "danger",
    R.PRICE_TOO_HIGH: "danger",
    R.NO_NAME: "danger",
}
_SYNTHETIC = "\x00"  # prefix of the stand-in products that tell a store's or group's state


_REASON_TEXTS = {
    R.PUBLISHED: gettext_lazy("will be published"),
    R.STORE_NOT_CHOSEN: gettext_lazy("another store feeds the community"),
    R.EXCLUDED_STORE: gettext_lazy("excluded with the store «%(name)s»"),
    R.EXCLUDED_GROUP: gettext_lazy("excluded by the group «%(name)s»"),
    R.EXCLUDED_PRODUCT: gettext_lazy("excluded"),
    R.NOT_INCLUDED: gettext_lazy("not chosen (only what is included is published)"),
    R.REMOVED: gettext_lazy("deleted in Evotor"),
    R.NOT_FOR_SALE: gettext_lazy("not for sale"),
    R.OUT_OF_STOCK: gettext_lazy("out of stock"),
    R.NO_PRICE: gettext_lazy("no price"),
    R.PRICE_TOO_HIGH: gettext_lazy("price too high for VK"),
    R.NO_NAME: gettext_lazy("no name"),
}
_NAMING = frozenset({R.EXCLUDED_STORE, R.EXCLUDED_GROUP})  # the texts that name the filter


def reason_text(reason: core.Reason, by_name: str = "") -> str:
    """A decision's reason as the merchant reads it (translated now: one lookup per row)."""
    text = str(_REASON_TEXTS[reason])
    return text % {"name": by_name} if reason in _NAMING else text


@dataclass
class VkStatus:
    """What the product's VK item is now (from its ProductLink)."""

    state: str  # a ProductLink.State, "excluded" or "none"
    label: str
    tone: str
    url: str = ""
    problem: Explanation | None = None


@dataclass
class RowState:
    """One row's publishing state: the filter set on it, and what follows from all filters."""

    entity_type: str  # SyncFilter.EntityType
    mode: str  # the filter on this very row: "include", "exclude" or "" (inherits)
    reason: core.Reason
    label: str
    vk: VkStatus | None = None

    @property
    def published(self) -> bool:
        return self.reason is R.PUBLISHED

    @property
    def tone(self) -> str:
        return TONES[self.reason]


@dataclass
class PageStates:
    """The answer to ``catalog_page``: counts for the heading, where the buttons post.

    The counts are computed when a template first reads them (the product page shows none)."""

    enabled: bool
    filter_url: str
    bulk_url: str
    vk_group_id: int | None = None
    rows: dict[int, RowState] = field(default_factory=dict)  # product pk → state
    counter: Callable[[], CatalogCounts] | None = field(default=None, repr=False)

    @cached_property
    def counts(self) -> CatalogCounts:
        return self.counter() if self.counter is not None else CatalogCounts(0, 0)

    @property
    def published_count(self) -> int:
        return self.counts.published

    @property
    def total_count(self) -> int:
        return self.counts.total


@dataclass(frozen=True)
class CatalogCounts:
    """The heading: how many live products will be published, of how many."""

    published: int
    total: int


# --- computing --------------------------------------------------------------------------------


def outcome(product: core.Product, decision: core.Decision, groups: filters.GroupIndex,
            stores: dict[str, core.Store], sync: core.SyncSettings) -> core.Reason:
    """Why the product will (not) be visible in VK after the next run; the order of the checks
    is the engine's (core/engine.py ``_want``)."""
    if product.removed:
        return R.REMOVED
    if not decision.included:
        return decision.reason
    if not product.allow_to_sell:
        return R.NOT_FOR_SALE
    blocked = blocking_reason(product, sync)
    if blocked is not None:
        return blocked
    if sync.out_of_stock is core.OutOfStock.HIDE and is_out_of_stock(product):
        return R.OUT_OF_STOCK
    return R.PUBLISHED


def _stand_ins(stores: Iterable[Store], groups: Iterable[ProductGroup],
               store_ids: dict[int, str]) -> list[core.Product]:
    """One imaginary product per store and per group: its decision is the row's state."""
    made = [core.Product(f"{_SYNTHETIC}s{s.evotor_id}", s.evotor_id, "-", None) for s in stores]
    made += [
        core.Product(f"{_SYNTHETIC}g{g.pk}", store_ids.get(g.store_id, ""), "-", None,
                     group_id=g.evotor_id)
        for g in groups
    ]
    return made


def _modes(ctx: core.SyncContext) -> dict[tuple[str, str], str]:
    found: dict[tuple[str, str], str] = {}
    for item in ctx.filters:
        if found.get((item.entity_type, item.entity_id)) != core.FilterMode.EXCLUDE:
            found[(item.entity_type, item.entity_id)] = item.mode.value
    return found


def _names(ctx: core.SyncContext) -> dict[str, str]:
    return {**{g.id: g.name for g in ctx.groups}, **{s.id: s.name for s in ctx.stores}}


def _label(decision_or_reason: core.Decision | core.Reason, names: dict[str, str]) -> str:
    if isinstance(decision_or_reason, core.Decision):
        reason, by = decision_or_reason.reason, decision_or_reason.by
    else:
        reason, by = decision_or_reason, None
    return reason_text(reason, names.get(by or "", ""))


def _vk_group(user) -> int | None:
    _evotor, vk = connections_of(user)
    return vk.group_id if vk is not None and vk.group_id else None


def states_for_page(
    user, products: Sequence[Product], stores: Sequence[Store] = (),
    groups: Sequence[ProductGroup] = (),
) -> PageStates:
    """States for the rows a catalog page shows (annotated on them as ``.publishing``) and the
    heading's counts over the whole catalog. Only the page's products are decided here: the
    count comes from :func:`catalog_counts`."""
    config = _config(user)
    group_id = _vk_group(user)
    base = decision_context(config, stores, products=[core_product(p) for p in products])
    store_ids = {s.pk: s.evotor_id for s in stores}
    store_ids.update({p.store_id: p.store.evotor_id for p in products})
    stand_ins = _stand_ins(stores, groups, store_ids)
    ctx = replace(base, products=base.products + tuple(stand_ins))
    decisions = filters.decide(ctx)
    index = filters.GroupIndex(ctx.groups)
    store_map = {s.id: s for s in ctx.stores}
    outcomes = {
        p.id: outcome(p, decisions[p.id], index, store_map, ctx.settings)
        for p in base.products
    }
    links = {
        link.evotor_product_id: link
        for link in ProductLink.objects.filter(
            user=user, vk_group_id=group_id or 0,
            evotor_product_id__in={p.evotor_id for p in products},
        ).only("evotor_product_id", "state", "vk_item_id", "last_error_code")
    } if products else {}
    page = PageStates(
        enabled=config.is_enabled,
        filter_url=reverse("publishing:filter"),
        bulk_url=reverse("publishing:bulk"),
        vk_group_id=group_id,
        counter=lambda: catalog_counts(config, base),
    )
    modes, names = _modes(ctx), _names(ctx)
    for product in products:
        reason = outcomes.get(product.evotor_id, R.REMOVED)
        decision = decisions.get(product.evotor_id)
        label = _label(decision if decision and not decision.included else reason, names)
        state = RowState("product", modes.get(("product", product.evotor_id), ""), reason, label,
                         vk_status(links.get(product.evotor_id), reason, group_id))
        product.publishing = state
        page.rows[product.pk] = state
    _annotate_entities(stores, groups, decisions, modes, names)
    return page


# What a decision and an outcome read of a product (outcome() needs no description, image or
# modifications).
DECISION_COLUMNS = (
    "evotor_id", "store__evotor_id", "name", "price", "group_evotor_id", "quantity", "type",
    "allow_to_sell", "removed_at",
)


def core_product(product: Product) -> core.Product:
    """A cached product (its store selected) as the decision reads it: DECISION_COLUMNS."""
    return core.Product(
        id=product.evotor_id, store_id=product.store.evotor_id, name=product.name,
        price=product.price, group_id=product.group_evotor_id or None, quantity=product.quantity,
        type=product.type, allow_to_sell=product.allow_to_sell,
        removed=product.removed_at is not None,
    )


def decision_context(
    config: SyncConfig, stores: Sequence[Store] = (),
    products: Sequence[core.Product] | None = None,
) -> core.SyncContext:
    """The context ``filters.decide`` and :func:`outcome` need, light: no links, no VK.
    ``stores``: the merchant's live stores when the caller has read them all (the catalog page
    has), else they are read here. ``products``: the ones to decide; None reads every product
    of the merchant (DECISION_COLUMNS only)."""
    rows = stores or Store.objects.filter(user_id=config.user_id, removed_at__isnull=True)
    core_stores = tuple(core.Store(s.evotor_id, s.name) for s in rows)
    groups = tuple(
        core.Group(evotor_id, name, store_id, parent or None, removed_at is not None)
        for evotor_id, name, store_id, parent, removed_at in ProductGroup.objects.filter(
            user_id=config.user_id
        ).values_list("evotor_id", "name", "store__evotor_id", "parent_evotor_id", "removed_at")
    )
    if products is None:
        products = tuple(_core_products(
            Product.objects.filter(user_id=config.user_id).order_by()
            .values_list(*DECISION_COLUMNS)
        ))
    return core.SyncContext(
        settings=settings_of(config), stores=core_stores, groups=groups,
        products=tuple(products), filters=filters_of(config), links=(), albums=(),
        vk_items=None, now=timezone.now(),
    )


def _core_products(rows: Iterable[tuple]) -> Iterable[core.Product]:
    """DECISION_COLUMNS tuples (and anything after them) → core products."""
    for row in rows:
        evotor_id, store_id, name, price, group_id, quantity, kind, allow, removed_at = row[:9]
        yield core.Product(id=evotor_id, store_id=store_id, name=name, price=price,
                           group_id=group_id or None, quantity=quantity, type=kind,
                           allow_to_sell=allow, removed=removed_at is not None)


# --- the heading's counts -----------------------------------------------------------------------
#
# Deciding 10,000 products costs a page view a quarter of a second, for a figure that changes
# only when the catalog, the filters or the settings do. So the count is kept under a key made of
# everything count_published() reads: the stores, groups, filters and settings (in memory: the
# page has read them to decide its rows) and a fingerprint of the products' decision columns,
# which the database computes in one aggregate (a SHA-1 per row, folded with XOR): no product
# crosses the wire. A product changed any way at all (a refresh, a webhook, a script, a test)
# changes the fingerprint; a removed or added one changes the row count too. Nothing needs to be
# told to invalidate the count, and a key, once computed, is right forever.

COUNTS_SCHEME = 1  # bump when count_published() starts reading something new
COUNTS_CACHE_SECONDS = 24 * 3600
_REMEMBERED: dict[str, int] = {}  # this process's own copy: a page view costs no cache call
_REMEMBER_AT_MOST = 512


def _shared_cache() -> BaseCache | None:
    """Where the processes share counts (Redis in production), or None: a database cache would
    add up to six queries to the view that computes a count, past the page's bar of 15 (each
    process then computes a new key once)."""
    shared = caches[DEFAULT_CACHE_ALIAS]
    return None if isinstance(shared, DatabaseCache) else shared


class _Joined(Func):
    """The row's decision columns as one string, "|" between them (no argument is NULL)."""

    output_field = CharField()
    template = "(%(expressions)s)"
    arg_joiner = " || '|' || "

    def as_mysql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="CONCAT_WS",
                              template="%(function)s('|', %(expressions)s)", arg_joiner=", ",
                              **extra_context)


def _as_text(column: str, null: str = "-"):
    return Coalesce(Cast(column, output_field=CharField()), Value(null))


def _flag(condition: Q):
    return Case(When(condition, then=Value("1")), default=Value("0"), output_field=CharField())


# Everything DECISION_COLUMNS reads, the store by its row (its Evotor id never changes).
ROW_HASH = SHA1(_Joined(
    F("evotor_id"), _as_text("store_id"), _as_text("price"), _as_text("quantity"), F("type"),
    _flag(Q(allow_to_sell=True)), _flag(Q(removed_at__isnull=True)), F("group_evotor_id"),
    F("name"),
))


class _XorOfHashes(Func):
    """MariaDB / MySQL: BIT_XOR over rows of the first 64 bits of each row's SHA-1."""

    function = "BIT_XOR"
    template = "BIT_XOR(CAST(CONV(LEFT(%(expressions)s, 16), 16, 10) AS UNSIGNED))"
    contains_aggregate = True
    output_field = BigIntegerField()


def _fold(hex_digest: str) -> int:
    return int(hex_digest[:16], 16)


@dataclass(frozen=True)
class Fingerprint:
    """The merchant's products as far as the counts are concerned."""

    rows: int
    live: int  # not removed: the heading's "of N"
    digest: int  # XOR of the rows' folded ROW_HASH


def products_fingerprint(user_id: int) -> Fingerprint:
    """One aggregate query on MariaDB; elsewhere (SQLite) the hashes are folded here."""
    mine = Product.objects.filter(user_id=user_id).order_by()
    if connections[mine.db].vendor == "mysql":
        got = mine.aggregate(rows=Count("pk"), live=Count("pk", filter=Q(removed_at__isnull=True)),
                             digest=_XorOfHashes(ROW_HASH))
        return Fingerprint(got["rows"], got["live"], int(got["digest"] or 0))
    rows = live = digest = 0
    for row_hash, removed_at in mine.values_list(ROW_HASH, "removed_at"):
        rows += 1
        live += removed_at is None
        digest ^= _fold(row_hash)
    return Fingerprint(rows, live, digest)


def count_published(ctx: core.SyncContext) -> int:
    """How many of ``ctx``'s products will be visible in VK after the next run."""
    decisions = filters.decide(ctx)
    index = filters.GroupIndex(ctx.groups)
    store_map = {s.id: s for s in ctx.stores}
    return sum(
        1 for p in ctx.products
        if outcome(p, decisions[p.id], index, store_map, ctx.settings) is R.PUBLISHED
    )


def _canonical(value: Any) -> Any:
    """One spelling per value: 0 and 0.00 (a new config, a read one) are the same markup."""
    if isinstance(value, (frozenset, set)):
        return sorted(value)
    if isinstance(value, Decimal):
        return str(value.normalize())
    return value


def counts_key(user_id: int, ctx: core.SyncContext, products: Fingerprint) -> str:
    """Everything count_published() reads, as one cache key (order-free where order is)."""
    material = (
        COUNTS_SCHEME, user_id, products.rows, products.digest,
        [(f.name, _canonical(getattr(ctx.settings, f.name))) for f in fields(ctx.settings)],
        sorted((s.id, s.name) for s in ctx.stores),
        sorted((g.id, g.name, g.store_id, g.parent_id or "", g.removed) for g in ctx.groups),
        sorted((f.entity_type.value, f.entity_id, f.mode.value) for f in ctx.filters),
    )
    digest = hashlib.blake2b(repr(material).encode(), digest_size=20).hexdigest()
    return f"catalog-published:{user_id}:{digest}"


def catalog_counts(config: SyncConfig, ctx: core.SyncContext) -> CatalogCounts:
    """The heading's counts. ``ctx``: decision_context() of the page (its products unused).

    The fingerprint is read on every view (one query). The published count is computed over the
    whole catalog only for a key not seen before, from rows read with their own hashes: it is
    stored under the fingerprint of exactly the rows it was computed from, even when a product
    changes in between."""
    products = products_fingerprint(config.user_id)
    key = counts_key(config.user_id, ctx, products)
    shared = _shared_cache()
    published = _REMEMBERED.get(key)
    if published is None and shared is not None:
        published = shared.get(key)
    if published is None:
        rows = list(
            Product.objects.filter(user_id=config.user_id).order_by()
            .values_list(*DECISION_COLUMNS, ROW_HASH)
        )
        digest = 0
        for row in rows:
            digest ^= _fold(row[-1])
        products = Fingerprint(len(rows), sum(1 for row in rows if row[8] is None), digest)
        published = count_published(replace(ctx, products=tuple(_core_products(rows))))
        key = counts_key(config.user_id, ctx, products)
        if shared is not None:
            shared.set(key, published, COUNTS_CACHE_SECONDS)
    if len(_REMEMBERED) >= _REMEMBER_AT_MOST:
        _REMEMBERED.clear()
    _REMEMBERED[key] = published
    return CatalogCounts(published, products.live)


def _config(user) -> SyncConfig:
    try:
        return user.sync_config  # cached on the user: the banner on the same page reuses it
    except SyncConfig.DoesNotExist:
        config = config_for(user)
        user.sync_config = config
        return config


def _annotate_entities(stores, groups, decisions, modes, names) -> None:
    for store in stores:
        decision = decisions[f"{_SYNTHETIC}s{store.evotor_id}"]
        vetoed = decision.reason in (R.EXCLUDED_STORE, R.STORE_NOT_CHOSEN)
        reason = decision.reason if vetoed else R.PUBLISHED
        store.publishing = RowState("store", modes.get(("store", store.evotor_id), ""), reason,
                                    _label(decision if vetoed else reason, names))
    for group in groups:
        decision = decisions[f"{_SYNTHETIC}g{group.pk}"]
        reason = decision.reason
        group.publishing = RowState("group", modes.get(("group", group.evotor_id), ""), reason,
                                    _label(decision, names))


# --- the VK side --------------------------------------------------------------------------------


def item_url(group_id: int, item_id: int) -> str:
    """Where the merchant sees the item: the sandbox storefront in development, else VK.

    VK's documented reference to an item is ``market-<group_id>_<item_id>``
    (docs/vk.md#identifiers); vk.com opens it as the item's page.
    """
    if settings.SANDBOX_ENABLED and settings.VK_API_URL.rstrip("/").endswith("/sandbox/vk"):
        return f"{reverse('sandbox:vk-market', args=[group_id])}#item-{item_id}"
    return f"https://vk.com/market-{group_id}_{item_id}"


def link_problem(code: str) -> Explanation:
    """A ProductLink's / SyncItemError's ``vk:<code>`` in words."""
    number = code.removeprefix("vk:")
    return vk_error(int(number) if number.isdigit() else None)


def vk_status(link: ProductLink | None, reason: core.Reason, group_id: int | None) -> VkStatus:
    S = ProductLink.State
    state = link.state if link is not None else "none"
    url = ""
    if link is not None and link.vk_item_id and group_id and state != S.DELETED:
        url = item_url(group_id, link.vk_item_id)
    if state == S.FAILED or (link is not None and link.last_error_code):
        return VkStatus(S.FAILED, _("failed"), "danger", url, link_problem(link.last_error_code))
    if state == S.PUBLISHED:
        return VkStatus(state, _("published"), "success", url)
    if state == S.HIDDEN:
        return VkStatus(state, _("hidden in VK"), "secondary", url)
    if state in (S.PENDING, S.CREATING) or reason is R.PUBLISHED:
        return VkStatus(S.PENDING, _("waiting for the next sync"), "info")
    return VkStatus("excluded", _("not in VK"), "light")


# --- the buttons ----------------------------------------------------------------------------------

ENTITY_MODELS: dict[str, type] = {"store": Store, "group": ProductGroup, "product": Product}
MODES = ("include", "exclude", "inherit")
BULK_CHUNK = 500  # ids per IN (…): well under SQLite's and MariaDB's limits


def _parent(kind: str, entity: Any) -> str:
    if kind == "product":
        return entity.group_evotor_id or entity.store.evotor_id
    if kind == "group":
        return entity.parent_evotor_id or entity.store.evotor_id
    return ""


def write_filter(config: SyncConfig, kind: str, entity: Any, mode: str) -> None:
    """Include or exclude one store, group or product; "inherit" removes its own filter."""
    key = {"config": config, "entity_type": kind, "entity_id": entity.evotor_id}
    if mode == "inherit":
        SyncFilter.objects.filter(**key).delete()
        return
    SyncFilter.objects.update_or_create(**key, defaults={
        "filter_mode": mode,
        "entity_name": entity.name[:255],
        "parent_entity_id": _parent(kind, entity),
    })


@transaction.atomic
def write_product_filters(config: SyncConfig, rows: list[tuple[str, str, str, str]],
                          mode: str) -> int:
    """One mode for many products at once. ``rows``: (evotor id, name, group id, store id)."""
    ids = [row[0] for row in rows]
    mine = SyncFilter.objects.filter(config=config, entity_type="product")
    for start in range(0, len(ids), BULK_CHUNK):
        mine.filter(entity_id__in=ids[start:start + BULK_CHUNK]).delete()
    if mode != "inherit":
        SyncFilter.objects.bulk_create([
            SyncFilter(config=config, entity_type="product", entity_id=evotor_id,
                       entity_name=name[:255], filter_mode=mode,
                       parent_entity_id=group_id or store_id)
            for evotor_id, name, group_id, store_id in rows
        ], batch_size=BULK_CHUNK)
    return len(rows)


def _back(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, {request.get_host()},
                                           require_https=request.is_secure()):
        target = reverse("catalog:catalog")
    return redirect(target)


def _done_message(mode: str, name: str) -> str:
    if mode == "include":
        return _("«%(name)s» is included in publishing.") % {"name": name}
    if mode == "exclude":
        return _("«%(name)s» is excluded from publishing.") % {"name": name}
    return _("«%(name)s» follows its store and group again.") % {"name": name}


@login_required
@require_POST
def set_filter(request: HttpRequest) -> HttpResponse:
    """Include / exclude / inherit one of the merchant's own stores, groups or products."""
    kind, mode = request.POST.get("entity_type", ""), request.POST.get("mode", "")
    model = ENTITY_MODELS.get(kind)
    pk = request.POST.get("pk", "")
    if model is None or mode not in MODES or not pk.isdigit():
        return HttpResponseBadRequest(_("Unknown action."))
    scope = model.objects.all() if model is Store else model.objects.select_related("store")
    entity = get_object_or_404(scope, pk=int(pk), user=request.user)
    write_filter(config_for(request.user), kind, entity, mode)
    messages.success(request, _done_message(mode, entity.name))
    return _back(request)


@login_required
@require_POST
def bulk_filter(request: HttpRequest) -> HttpResponse:
    """One mode for every product the filtered list shows (every page of it)."""
    mode = request.POST.get("mode", "")
    form = ProductFilterForm(request.POST)
    if mode not in MODES or not form.is_valid():
        return HttpResponseBadRequest(_("Unknown action."))
    products = catalog_view(request.user, form.cleaned_data).products
    rows = list(products.values_list("evotor_id", "name", "group_evotor_id", "store__evotor_id"))
    count = write_product_filters(config_for(request.user), rows, mode)
    texts = {
        "include": ngettext("%(count)d product is included.", "%(count)d products are included.",
                            count),
        "exclude": ngettext("%(count)d product is excluded.", "%(count)d products are excluded.",
                            count),
        "inherit": ngettext("%(count)d product follows its store and group again.",
                            "%(count)d products follow their store and group again.", count),
    }
    messages.success(request, texts[mode] % {"count": count})
    return _back(request)
