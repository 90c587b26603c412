"""Admin pages for the sandbox world (staff can inspect and poke it in development)."""

from __future__ import annotations

from django.contrib import admin

from apps.sandbox import models


@admin.register(models.EvotorAccount)
class EvotorAccountAdmin(admin.ModelAdmin):
    list_display = ["user_id", "is_revoked", "created_at"]
    list_filter = ["is_revoked"]
    search_fields = ["user_id"]


@admin.register(models.EvotorStore)
class EvotorStoreAdmin(admin.ModelAdmin):
    list_display = ["name", "evotor_id", "account", "updated_at"]
    list_select_related = ["account"]
    search_fields = ["name", "evotor_id"]


@admin.register(models.EvotorProductGroup)
class EvotorProductGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "evotor_id", "store", "parent_id", "updated_at"]
    list_select_related = ["store"]
    search_fields = ["name", "evotor_id"]
    raw_id_fields = ["store"]


@admin.register(models.EvotorProduct)
class EvotorProductAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "type",
        "price",
        "quantity",
        "measure_name",
        "allow_to_sell",
        "updated_at",
    ]
    list_filter = ["type", "allow_to_sell", "measure_name"]
    list_select_related = ["store"]
    search_fields = ["name", "evotor_id", "article_number"]
    raw_id_fields = ["store"]


@admin.register(models.VkGroup)
class VkGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "vk_id", "screen_name", "market_enabled", "max_items", "max_albums"]
    list_filter = ["market_enabled"]
    search_fields = ["name", "screen_name", "vk_id"]


@admin.register(models.VkUser)
class VkUserAdmin(admin.ModelAdmin):
    list_display = ["vk_id", "first_name", "last_name"]
    search_fields = ["vk_id", "last_name"]


@admin.register(models.VkToken)
class VkTokenAdmin(admin.ModelAdmin):
    list_display = ["__str__", "kind", "user", "group", "scopes", "expires_at", "is_revoked"]
    list_filter = ["kind", "is_revoked", "source"]
    list_select_related = ["user", "group"]
    raw_id_fields = ["user", "group"]


@admin.register(models.VkMarketItem)
class VkMarketItemAdmin(admin.ModelAdmin):
    list_display = [
        "title",
        "group",
        "price",
        "sku",
        "is_hidden",
        "is_removed",
        "rejected_at",
        "updated_at",
    ]
    list_filter = ["is_hidden", "is_removed"]
    list_select_related = ["group"]
    search_fields = ["title", "sku"]
    raw_id_fields = ["group"]


@admin.register(models.VkPhoto)
class VkPhotoAdmin(admin.ModelAdmin):
    list_display = ["pk", "group", "item", "position", "width", "height", "is_saved"]
    list_select_related = ["group", "item"]
    raw_id_fields = ["group", "item"]
    exclude = ["thumbnail"]


@admin.register(models.VkAlbum)
class VkAlbumAdmin(admin.ModelAdmin):
    list_display = ["title", "group", "is_main", "is_hidden", "updated_at"]
    list_select_related = ["group"]
    raw_id_fields = ["group", "photo"]


@admin.register(models.SandboxFault)
class SandboxFaultAdmin(admin.ModelAdmin):
    list_display = [
        "service",
        "target",
        "remaining",
        "error_code",
        "http_status",
        "latency",
        "timeout",
    ]
    list_filter = ["service"]


@admin.register(models.SandboxConfig)
class SandboxConfigAdmin(admin.ModelAdmin):
    list_display = ["__str__", "evotor_rate_limit", "vk_user_rate", "vk_rate_window"]


@admin.register(models.OutboundDelivery)
class OutboundDeliveryAdmin(admin.ModelAdmin):
    list_display = ["kind", "url", "status_code", "attempts", "created_at"]
    list_filter = ["kind"]
    readonly_fields = ["kind", "url", "delivery_id", "body", "status_code", "attempts", "error"]


@admin.register(models.VkModerationRule)
class VkModerationRuleAdmin(admin.ModelAdmin):
    list_display = ["name_contains", "remaining", "title", "created_at"]
