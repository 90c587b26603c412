"""Admin for connections: tokens are never shown nor editable; only whether one is stored."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from apps.connections import health
from apps.connections.crypto import SEPARATOR
from apps.connections.models import EvotorConnection, HealthCheckLog, VkConnection, WebhookEvent


def _token_summary(stored: str) -> str:
    """"stored (key 1a2b3c4d)" — the key id is not secret and helps plan a key rotation."""
    if not stored:
        return "—"
    return _("stored (key %(key)s)") % {"key": stored.partition(SEPARATOR)[0]}


class ConnectionAdmin(admin.ModelAdmin):
    list_filter = ["state", "connection_type"]
    list_select_related = ["user"]
    date_hierarchy = "connected_at"
    readonly_fields = [
        "state_changed_at", "last_checked_at", "incident_notified_at", "connected_at", "updated_at",
        "last_error",
    ]
    actions = ["check_now"]

    @admin.action(description=_("Check now"))
    def check_now(self, request: HttpRequest, queryset: QuerySet) -> None:
        """Runs in the request, like the merchant's Test button; the merchant is emailed about a
        new incident exactly as the periodic job would."""
        results = []
        for connection in queryset:
            if not connection.has_token:
                continue
            results.append(health.check_connection(connection, interactive=True))
            if connection.user is not None:
                health.notify_if_due(connection, connection.user)
        online = sum(result.ok for result in results)
        level = messages.SUCCESS if online == len(results) else messages.WARNING
        self.message_user(
            request,
            ngettext(
                "Checked %(count)d connection: %(online)d online.",
                "Checked %(count)d connections: %(online)d online.",
                len(results),
            ) % {"count": len(results), "online": online},
            level,
        )


@admin.register(EvotorConnection)
class EvotorConnectionAdmin(ConnectionAdmin):
    list_display = [
        "evotor_user_id", "user", "connection_type", "state", "last_checked_at", "connected_at",
    ]
    search_fields = ["evotor_user_id", "user__email"]
    raw_id_fields = ["user"]
    fields = [
        "user", "evotor_user_id", "connection_type", "state", "cloud_token",
        *ConnectionAdmin.readonly_fields,
    ]
    readonly_fields = [*ConnectionAdmin.readonly_fields, "cloud_token"]

    @admin.display(description=_("cloud token"))
    def cloud_token(self, obj: EvotorConnection) -> str:
        return _token_summary(obj.cloud_token_encrypted)


@admin.register(VkConnection)
class VkConnectionAdmin(ConnectionAdmin):
    list_display = [
        "user", "group_name", "group_id", "connection_type", "state", "token_expires_at",
        "last_checked_at",
    ]
    search_fields = ["user__email", "group_name", "group_screen_name", "=group_id"]
    raw_id_fields = ["user"]
    fields = [
        "user", "connection_type", "state", "access_token", "refresh_token", "token_expires_at",
        "device_id", "vk_user_id", "group_id", "group_name", "group_screen_name",
        *ConnectionAdmin.readonly_fields,
    ]
    readonly_fields = [*ConnectionAdmin.readonly_fields, "access_token", "refresh_token"]

    @admin.display(description=_("access token"))
    def access_token(self, obj: VkConnection) -> str:
        return _token_summary(obj.access_token_encrypted)

    @admin.display(description=_("refresh token"))
    def refresh_token(self, obj: VkConnection) -> str:
        return _token_summary(obj.refresh_token_encrypted)


@admin.register(HealthCheckLog)
class HealthCheckLogAdmin(admin.ModelAdmin):
    list_display = ["checked_at", "user", "service", "event", "detail"]
    list_filter = ["service", "event"]
    search_fields = ["user__email", "detail"]
    list_select_related = ["user"]
    date_hierarchy = "checked_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(WebhookEvent)
class WebhookEventAdmin(admin.ModelAdmin):
    list_display = ["received_at", "source", "event_type", "delivery_id", "user", "processed_at"]
    list_filter = ["source", "event_type"]
    search_fields = ["delivery_id", "user__email"]
    list_select_related = ["user"]
    date_hierarchy = "received_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
