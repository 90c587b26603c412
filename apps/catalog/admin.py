"""Admin for the cached catalog: searchable, filterable, and read-only where Evotor owns it."""

from __future__ import annotations

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.catalog.models import CatalogRefresh, Product, ProductGroup, Store
from apps.catalog.tasks import enqueue_refresh


class EvotorOwnedAdmin(admin.ModelAdmin):
    """Everything here is a copy of Evotor: edits would be overwritten by the next refresh."""

    list_select_related = ["user"]
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in self.model._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False


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
