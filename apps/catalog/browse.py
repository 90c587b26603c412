"""Read side of the catalog pages: filtering, the group tree, the refresh status."""

from __future__ import annotations

from dataclasses import dataclass, field

from django import forms
from django.core.paginator import Page
from django.db.models import Exists, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from apps.catalog.models import CatalogRefresh, Product, ProductGroup, RefreshLease, Store

SORTS = {
    "name": ("name", "pk"),
    "-name": ("-name", "-pk"),
    "price": ("price", "name", "pk"),
    "-price": ("-price", "name", "pk"),
}


class ProductFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    store = forms.IntegerField(required=False, widget=forms.HiddenInput)
    group = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)
    sort = forms.ChoiceField(
        label=_("Sort by"),
        required=False,
        widget=forms.Select(attrs={"class": "form-select"}),
        choices=[
            ("name", _("name, A→Z")),
            ("-name", _("name, Z→A")),
            ("price", _("price, low to high")),
            ("-price", _("price, high to low")),
        ],
    )
    removed = forms.BooleanField(label=_("Show removed"), required=False)


@dataclass
class GroupNode:
    group: ProductGroup
    children: list[GroupNode] = field(default_factory=list)
    active: bool = False


def group_tree(groups: list[ProductGroup], active: str = "") -> list[GroupNode]:
    nodes = {g.evotor_id: GroupNode(g, active=g.evotor_id == active) for g in groups}
    roots: list[GroupNode] = []
    for node in nodes.values():
        parent = nodes.get(node.group.parent_evotor_id)
        (parent.children if parent else roots).append(node)
    return roots


def descendants(groups: list[ProductGroup], root: str) -> set[str]:
    """The group and every group nested in it (a group's filter covers its subgroups)."""
    children: dict[str, list[str]] = {}
    for g in groups:
        children.setdefault(g.parent_evotor_id, []).append(g.evotor_id)
    found, stack = set(), [root]
    while stack:
        current = stack.pop()
        if current not in found:
            found.add(current)
            stack.extend(children.get(current, []))
    return found


@dataclass
class CatalogView:
    stores: list[Store]
    store: Store | None
    groups: list[ProductGroup]
    products: QuerySet


def catalog_view(user, data: dict) -> CatalogView:
    """The merchant's stores, the chosen store's groups, and the filtered products queryset."""
    stores = list(Store.objects.filter(user=user, removed_at__isnull=True))
    store = next((s for s in stores if s.pk == data.get("store")), None)
    group_scope = ProductGroup.objects.filter(user=user, removed_at__isnull=True)
    groups = list(group_scope.filter(store=store)) if store else []
    products = Product.objects.filter(user=user).select_related("store")
    if not data.get("removed"):
        products = products.filter(removed_at__isnull=True)
    if store:
        products = products.filter(store=store)
    if data.get("group"):
        products = products.filter(group_evotor_id__in=descendants(groups, data["group"]))
    query = (data.get("q") or "").strip().lower()
    if query:
        products = products.filter(Q(search_text__contains=query) | Q(evotor_id=query))
    return CatalogView(stores, store, groups, products.order_by(*SORTS[data.get("sort") or "name"]))


# Columns no list row shows (nor the sync's states for it): a page of 50 does not decode them.
LIST_DEFERRED = ("description", "extra", "search_text", "attributes_choices", "barcodes")


def page_rows(view: CatalogView, page: Page) -> list[Product]:
    """The rows of ``page`` (a page of ``view.products``), their stores from ``view.stores``.

    Selecting the store with a JOIN made MariaDB sort the whole catalog in a temporary table
    (it starts from the one-row store table); alone, the product table is read in index order
    and stops after the page. A product of a removed store (only listed with "show removed")
    costs one query for those stores."""
    if not page.paginator.count:
        return []
    start, stop = page.start_index() - 1, page.end_index()
    rows = list(view.products.select_related(None).defer(*LIST_DEFERRED)[start:stop])
    stores = {store.pk: store for store in view.stores}
    missing = {row.store_id for row in rows} - stores.keys()
    if missing:
        stores.update((store.pk, store) for store in Store.objects.filter(pk__in=missing))
    for row in rows:
        row.store = stores[row.store_id]
    return rows


@dataclass
class RefreshStatus:
    last_success: CatalogRefresh | None
    last_run: CatalogRefresh | None
    running: bool


def refresh_status(user) -> RefreshStatus:
    """``running`` comes from the refresh lease, the one thing that decides whether a refresh
    may start (apps/catalog/services.py): a run whose worker died holds an expired lease. It is
    read with the last runs (one query) and on its own only when there are none."""
    held = RefreshLease.objects.held().filter(user=user)
    runs = list(CatalogRefresh.objects.filter(user=user).annotate(lease_held=Exists(held))
                .order_by("-started_at")[:10])
    last_success = next((r for r in runs if r.status == CatalogRefresh.Status.SUCCESS), None)
    running = runs[0].lease_held if runs else held.exists()
    return RefreshStatus(last_success, runs[0] if runs else None, running)
