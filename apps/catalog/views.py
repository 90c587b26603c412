"""Catalog pages: browse the cached catalog, one product, CSV export, refresh now."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from apps.catalog import words
from apps.catalog.browse import (
    ProductFilterForm,
    catalog_view,
    group_tree,
    page_rows,
    refresh_status,
)
from apps.catalog.export import csv_lines
from apps.catalog.models import Product, ProductGroup
from apps.catalog.services import RefreshSkipped, usable_connection
from apps.catalog.signals import catalog_page
from apps.catalog.tasks import enqueue_refresh
from apps.connections.models import ConnectionState
from apps.connections.services import connections_of

PAGE_SIZE = 50


def _filters(request: HttpRequest) -> tuple[ProductFilterForm, dict]:
    form = ProductFilterForm(request.GET)
    return form, (form.cleaned_data if form.is_valid() else {})


def _publishing(request: HttpRequest, products: list[Product], stores=(), groups=()):
    """What the sync says about these rows (it annotates them; see signals.catalog_page), or
    None when nothing answers."""
    answers = catalog_page.send(
        sender=Product, user=request.user, products=products, stores=stores, groups=groups
    )
    return next((result for _receiver, result in answers if result is not None), None)


@login_required
@require_GET
def catalog(request: HttpRequest) -> HttpResponse:
    form, data = _filters(request)
    view = catalog_view(request.user, data)
    page = Paginator(view.products, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = page_rows(view, page)
    query = request.GET.copy()
    query.pop("page", None)
    evotor, _vk = connections_of(request.user)
    return render(request, "catalog/catalog.html", {
        "form": form,
        "view": view,
        "tree": group_tree(view.groups, data.get("group", "")),
        "page": page,
        "query": query.urlencode(),
        "status": refresh_status(request.user),
        "publishing": _publishing(request, page.object_list, view.stores, view.groups),
        "evotor_connected": evotor is not None,
        "here": request.get_full_path(),
    })


@login_required
@require_GET
def product_detail(request: HttpRequest, pk: int) -> HttpResponse:
    product = get_object_or_404(Product.objects.select_related("store"), pk=pk, user=request.user)
    group = ProductGroup.objects.filter(
        user=request.user, evotor_id=product.group_evotor_id
    ).first()
    return render(request, "catalog/product.html", {
        "product": product,
        "group": group,
        "publishing": _publishing(request, [product]),
        "kind": words.product_type(product),
        "tax": words.tax(product.tax),
        "price": words.money(product.price),
        "cost_price": words.money(product.cost_price),
        "quantity": words.quantity(product.quantity, product.measure_name),
        "modifications": words.modifications(product, group),
        "extra": words.extra_fields(product),
        "here": request.get_full_path(),
    })


@login_required
@require_GET
def export_csv(request: HttpRequest) -> StreamingHttpResponse:
    _form, data = _filters(request)
    products = catalog_view(request.user, data).products.iterator(chunk_size=2000)
    response = StreamingHttpResponse(csv_lines(products), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="evosync-products-{stamp}.csv"'
    return response


@login_required
@require_POST
def refresh_now(request: HttpRequest) -> HttpResponse:
    try:
        usable_connection(request.user)
    except RefreshSkipped:
        evotor, _vk = connections_of(request.user)
        if evotor is not None and evotor.state == ConnectionState.REVOKED:
            messages.error(request, _("Evotor no longer gives EvoSync access to your catalog, "
                                      "so it cannot be refreshed. Please reconnect Evotor."))
        else:
            messages.error(request, _("Connect Evotor first: there is nothing to refresh "
                                      "from."))
        return redirect("catalog:catalog")
    if refresh_status(request.user).running:
        messages.info(request, _("A refresh is already running."))
    else:
        enqueue_refresh(request.user.pk)
        messages.success(request, _("Refresh started. The catalog updates in a minute or so."))
    return redirect("catalog:catalog")
