"""Admin for the sync: settings with their filters and actions, runs with their item errors, the
links that keep syncs idempotent, and the merchant's page at a glance (the User admin, extended
here because only the sync app may look at every other app).

Runs and links are records of what happened: read-only. Every action is on the audit log.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.accounts import audit
from apps.accounts.admin import UserAdmin
from apps.accounts.models import User
from apps.connections.models import EvotorConnection, VkConnection
from apps.sync import services, tasks
from apps.sync.models import (
    AlbumLink,
    ProductLink,
    SyncConfig,
    SyncFilter,
    SyncItemError,
    SyncJob,
)

PAUSED_BY_STAFF = SyncConfig.PAUSED_BY_STAFF
RECENT_RUNS = 10
# The settings an operator may edit on the change page, as the audit log records them.
AUDITED_SETTINGS = (
    "is_enabled", "paused_reason", "vk_category_id", "vk_category_name", "markup_percent",
    "rounding", "min_price", "description_template", "out_of_stock", "removal",
    "albums_enabled", "manage_name", "manage_description", "manage_price", "manage_photo",
    "manage_stock", "manage_albums",
)


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT") if value else "—"


def _change_url(obj) -> str:
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


class MerchantColumn:
    """The merchant of a row, labelled in words (the models' ``user`` fields have no label)."""

    @admin.display(description=_("merchant"), ordering="user__email")
    def merchant(self, obj) -> str:
        return obj.user.email if obj.user_id else "—"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


# --- settings -------------------------------------------------------------------------------------


class SyncFilterInline(admin.TabularInline):
    model = SyncFilter
    extra = 0
    fields = ["entity_type", "entity_id", "entity_name", "filter_mode", "parent_entity_id"]
    verbose_name = _("filter")
    verbose_name_plural = _("filters")


@admin.register(SyncConfig)
class SyncConfigAdmin(MerchantColumn, admin.ModelAdmin):
    list_display = ["merchant", "is_enabled", "paused_reason", "consecutive_failures",
                    "last_run_at", "vk_category_name"]
    list_filter = ["is_enabled", ("paused_at", admin.EmptyFieldListFilter), "last_run_at"]
    search_fields = ["user__email"]
    list_select_related = ["user"]
    show_full_result_count = False
    inlines = [SyncFilterInline]
    actions = ["sync_now", "pause", "resume"]
    readonly_fields = ["merchant", "confirmed_at", "paused_at", "consecutive_failures",
                       "last_run_at", "created_at", "updated_at"]
    fieldsets = [
        (None, {"fields": ["merchant", "is_enabled", "confirmed_at", "paused_reason",
                           "paused_at", "consecutive_failures", "last_run_at"]}),
        (_("Prices and VK"), {"fields": ["vk_category_id", "vk_category_name", "markup_percent",
                                         "rounding", "min_price", "description_template",
                                         "out_of_stock", "removal", "albums_enabled"]}),
        (_("Fields EvoSync manages in VK"), {"fields": [
            "manage_name", "manage_description", "manage_price", "manage_photo", "manage_stock",
            "manage_albums"]}),
        (_("Dates"), {"fields": ["created_at", "updated_at"]}),
    ]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # made with the merchant's first visit to /sync

    def save_model(self, request: HttpRequest, obj: SyncConfig, form, change: bool) -> None:
        before = audit.snapshot(SyncConfig.objects.get(pk=obj.pk), AUDITED_SETTINGS)
        super().save_model(request, obj, form, change)
        changes = audit.changes_between(before, audit.snapshot(obj, AUDITED_SETTINGS))
        if changes:
            audit.record_request(request, "sync.settings_changed", subject=obj.user, obj=obj,
                                 changes=changes)

    def save_formset(self, request: HttpRequest, form, formset, change: bool) -> None:
        super().save_formset(request, form, formset, change)
        touched = [*formset.new_objects, *formset.deleted_objects,
                   *(obj for obj, _fields in formset.changed_objects)]
        if touched:
            changes = [{"field": "filters", "old": "", "new": ", ".join(map(str, touched))}]
            audit.record_request(request, "sync.filters_changed", subject=form.instance.user,
                                 obj=form.instance, changes=changes)

    @admin.action(description=_("Sync now"))
    def sync_now(self, request: HttpRequest, queryset: QuerySet[SyncConfig]) -> None:
        queued = 0
        for config in queryset.select_related("user"):
            queued += tasks.request_sync(config.user_id, SyncJob.Trigger.MANUAL)
            audit.record_request(request, "sync.run_requested", subject=config.user, obj=config)
        self.message_user(request, ngettext(
            "Sync requested for %(count)d merchant (runs already queued serve it too).",
            "Sync requested for %(count)d merchants (runs already queued serve them too).",
            queryset.count()) % {"count": queryset.count()}, messages.SUCCESS)

    @admin.action(description=_("Pause the sync"))
    def pause(self, request: HttpRequest, queryset: QuerySet[SyncConfig]) -> None:
        count = self._switch(request, queryset.filter(paused_reason=""), "sync.paused",
                             lambda config: services.pause(config, PAUSED_BY_STAFF))
        self.message_user(request, ngettext("%(count)d sync paused.", "%(count)d syncs paused.",
                                            count) % {"count": count}, messages.SUCCESS)

    @admin.action(description=_("Resume the sync"))
    def resume(self, request: HttpRequest, queryset: QuerySet[SyncConfig]) -> None:
        count = self._switch(request, queryset.exclude(paused_reason=""), "sync.resumed",
                             services.resume)
        self.message_user(request, ngettext("%(count)d sync resumed.", "%(count)d syncs resumed.",
                                            count) % {"count": count}, messages.SUCCESS)

    def _switch(self, request: HttpRequest, queryset: QuerySet[SyncConfig], action: str,
                apply) -> int:
        fields = ["paused_reason", "consecutive_failures"]
        configs = list(queryset.select_related("user"))
        for config in configs:
            before = audit.snapshot(config, fields)
            apply(config)
            config.refresh_from_db(fields=fields)
            audit.record_request(request, action, subject=config.user, obj=config,
                                 changes=audit.changes_between(before,
                                                               audit.snapshot(config, fields)))
        return len(configs)


# --- runs -----------------------------------------------------------------------------------------


class SyncItemErrorInline(admin.TabularInline):
    model = SyncItemError
    extra = 0
    fields = ["evotor_product_id", "product_name", "code", "vk_error_code", "message"]
    readonly_fields = fields
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(SyncJob)
class SyncJobAdmin(MerchantColumn, ReadOnlyAdmin):
    list_display = ["started_at", "merchant", "triggered_by", "status", "items_created",
                    "items_updated", "items_hidden", "items_deleted", "items_failed",
                    "run_time", "error_code"]
    list_filter = ["status", "triggered_by", "started_at"]
    search_fields = ["user__email", "task_id", "error_summary"]
    list_select_related = ["user"]
    date_hierarchy = "started_at"
    show_full_result_count = False
    inlines = [SyncItemErrorInline]
    exclude = ["user"]
    readonly_fields = ["merchant", "run_time"]

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False  # prune_logs does it, keeping each merchant's last run

    def get_queryset(self, request: HttpRequest) -> QuerySet[SyncJob]:
        return super().get_queryset(request).select_related("user")

    @admin.display(description=_("duration"))
    def run_time(self, job: SyncJob) -> str:
        duration = job.duration
        return f"{duration.total_seconds():.1f} s" if duration is not None else "—"


# --- links ----------------------------------------------------------------------------------------


@admin.register(ProductLink)
class ProductLinkAdmin(MerchantColumn, ReadOnlyAdmin):
    list_display = ["evotor_product_id", "vk_item_id", "merchant", "vk_group_id", "state",
                    "attempts", "last_error_code", "synced_at"]
    list_filter = ["state"]
    search_fields = ["=evotor_product_id", "=vk_item_id", "user__email"]
    list_select_related = ["user"]
    show_full_result_count = False
    exclude = ["user"]
    readonly_fields = ["merchant"]


@admin.register(AlbumLink)
class AlbumLinkAdmin(MerchantColumn, ReadOnlyAdmin):
    list_display = ["title", "evotor_group_id", "vk_album_id", "merchant", "vk_group_id",
                    "updated_at"]
    search_fields = ["=evotor_group_id", "=vk_album_id", "title", "user__email"]
    list_select_related = ["user"]
    show_full_result_count = False
    exclude = ["user"]
    readonly_fields = ["merchant"]


# --- the merchant at a glance ---------------------------------------------------------------------


class MerchantAdmin(UserAdmin):
    """The User admin with both connections, the sync settings and the last runs."""

    list_display = [*UserAdmin.list_display, "evotor_state", "vk_state", "sync_state"]
    list_select_related = ["evotor_connection", "vk_connection", "sync_config"]
    glance = ["evotor_summary", "vk_summary", "sync_summary", "recent_runs"]
    readonly_fields = [*UserAdmin.readonly_fields, *glance]
    fieldsets = [
        UserAdmin.fieldsets[0],
        (_("EvoSync at a glance"), {"fields": glance}),
        *UserAdmin.fieldsets[1:],
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).select_related(*self.list_select_related)

    @admin.display(description=_("Evotor"))
    def evotor_state(self, user: User) -> str:
        connection = _related(user, "evotor_connection")
        return connection.get_state_display() if connection else "—"

    @admin.display(description=_("VK"))
    def vk_state(self, user: User) -> str:
        connection = _related(user, "vk_connection")
        return connection.get_state_display() if connection else "—"

    @admin.display(description=_("sync"))
    def sync_state(self, user: User) -> str:
        config = _related(user, "sync_config")
        if config is None or not config.is_enabled:
            return str(_("off"))
        return str(_("paused")) if config.is_paused else str(_("on"))

    @admin.display(description=_("Evotor connection"))
    def evotor_summary(self, user: User) -> str:
        connection: EvotorConnection | None = _related(user, "evotor_connection")
        if connection is None:
            return str(_("not connected"))
        return format_html(
            '<a href="{}">{}</a> — {}, {}; {}: {}{}', _change_url(connection),
            connection.evotor_user_id, connection.get_state_display(),
            connection.get_connection_type_display(), _("last checked"),
            _when(connection.last_checked_at), _error(connection.last_error),
        )

    @admin.display(description=_("VK connection"))
    def vk_summary(self, user: User) -> str:
        connection: VkConnection | None = _related(user, "vk_connection")
        if connection is None:
            return str(_("not connected"))
        community = connection.group_name or connection.group_id or _("no community chosen")
        return format_html(
            '<a href="{}">{}</a> — {}, {}; {}: {}{}', _change_url(connection), community,
            connection.get_state_display(), connection.get_connection_type_display(),
            _("last checked"), _when(connection.last_checked_at), _error(connection.last_error),
        )

    @admin.display(description=_("sync settings"))
    def sync_summary(self, user: User) -> str:
        config: SyncConfig | None = _related(user, "sync_config")
        if config is None:
            return str(_("never opened"))
        state = self.sync_state(user)
        return format_html(
            '<a href="{}">{}</a>{}; {}: {}; {}: {}', _change_url(config), state,
            format_html(" ({})", config.paused_reason) if config.is_paused else "",
            _("failed runs in a row"), config.consecutive_failures, _("last run"),
            _when(config.last_run_at),
        )

    @admin.display(description=_("last runs"))
    def recent_runs(self, user: User) -> str:
        if user.pk is None:
            return "—"
        jobs = SyncJob.objects.filter(user=user).order_by("-started_at", "-id")[:RECENT_RUNS]
        rows = [
            (_change_url(job), _when(job.started_at), job.get_triggered_by_display(),
             job.get_status_display(), job.items_created, job.items_updated, job.items_failed)
            for job in jobs
        ]
        if not rows:
            return str(_("none yet"))
        listing = format_html_join(
            "", '<li><a href="{}">{}</a> — {}, {}: +{} ~{} ✗{}</li>', rows
        )
        more = f"{reverse('admin:sync_syncjob_changelist')}?{urlencode({'q': user.email})}"
        return format_html('<ul class="mb-0">{}</ul><a href="{}">{}</a>', listing, more,
                           _("all runs"))


def _error(detail: str) -> str:
    return format_html("; {}", detail) if detail else ""


def _related(user: User, name: str):
    try:
        return getattr(user, name)
    except (EvotorConnection.DoesNotExist, VkConnection.DoesNotExist, SyncConfig.DoesNotExist):
        return None


admin.site.unregister(User)
admin.site.register(User, MerchantAdmin)
