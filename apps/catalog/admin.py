"""Admin for the cached catalog: searchable, filterable, and read-only where Evotor owns it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.catalog.models import CatalogRefresh, Product, ProductGroup, Store
from apps.catalog.tasks import enqueue_refresh

# Model fields whose verbose name is not translatable, shown through a labelled method instead.
RELABELLED = {
    "user": "merchant", "store": "store_name", "stores": "stores_count",
    "groups": "groups_count", "products": "products_count", "removed": "removed_count",
    "skipped": "skipped_count", "evotor_requests": "evotor_requests_count",
}


def _relabel(names):
    return [RELABELLED.get(name, name) for name in names]


class EvotorOwnedAdmin(admin.ModelAdmin):
    """Everything here is a copy of Evotor: edits would be overwritten by the next refresh."""

    list_select_related = ["user"]
    show_full_result_count = False

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        return _relabel(field.name for field in self.model._meta.fields)

    def get_list_display(self, request):
        return _relabel(super().get_list_display(request))

    def has_add_permission(self, request) -> bool:
        return False

    @admin.display(description=_("merchant"), ordering="user__email")
    def merchant(self, obj) -> str:
        return obj.user.email

    @admin.display(description=_("store"), ordering="store__name")
    def store_name(self, obj) -> str:
        return obj.store.name if obj.store_id else "—"

    @admin.display(description=_("stores"))
    def stores_count(self, obj) -> int:
        return obj.stores

    @admin.display(description=_("groups"))
    def groups_count(self, obj) -> int:
        return obj.groups

    @admin.display(description=_("products"))
    def products_count(self, obj) -> int:
        return obj.products

    @admin.display(description=_("removed"))
    def removed_count(self, obj) -> int:
        return obj.removed

    @admin.display(description=_("skipped"))
    def skipped_count(self, obj) -> int:
        return obj.skipped

    @admin.display(description=_("Evotor requests"))
    def evotor_requests_count(self, obj) -> int:
        return obj.evotor_requests


@admin.register(Store)
class StoreAdmin(EvotorOwnedAdmin):
    list_display = ["name", "user", "address", "evotor_updated_at", "fetched_at", "removed_at"]
    search_fields = ["name", "evotor_id", "user__email"]
    list_filter = [("removed_at", admin.EmptyFieldListFilter)]


@admin.register(ProductGroup)
class ProductGroupAdmin(EvotorOwnedAdmin):
    list_display = ["name", "user", "store", "is_modification_group", "removed_at"]
    search_fields = ["name", "evotor_id", "user__email"]
    list_filter = ["is_modification_group", ("removed_at", admin.EmptyFieldListFilter)]
    list_select_related = ["user", "store"]


@admin.register(Product)
class ProductAdmin(EvotorOwnedAdmin):
    list_display = [
        "name", "user", "store", "price", "quantity", "measure_name", "allow_to_sell",
        "evotor_updated_at", "removed_at",
    ]
    search_fields = ["name", "evotor_id", "article_number", "code", "user__email"]
    list_filter = [
        "type", "allow_to_sell", "measure_name", ("removed_at", admin.EmptyFieldListFilter)
    ]
    list_select_related = ["user", "store"]


@admin.register(CatalogRefresh)
class CatalogRefreshAdmin(EvotorOwnedAdmin):
    list_display = [
        "started_at", "user", "full", "status", "products", "removed", "skipped",
        "evotor_requests", "finished_at",
    ]
    list_filter = ["status", "full"]
    search_fields = ["user__email", "error"]
    date_hierarchy = "started_at"
    actions = ["refresh_again"]

    @admin.action(description=_("Refresh these merchants' catalogs now"))
    def refresh_again(self, request, queryset) -> None:
        user_ids = set(queryset.values_list("user_id", flat=True))
        for user_id in user_ids:
            enqueue_refresh(user_id)
        count = len(user_ids)
        self.message_user(
            request,
            ngettext("Queued %(count)d refresh.", "Queued %(count)d refreshes.", count)
            % {"count": count},
            messages.SUCCESS,
        )
