"""What a merchant publishes and how, and what every run did (docs/architecture.md#data-model).

``ProductLink`` and ``AlbumLink`` are the memory that makes syncs idempotent: one row per
(merchant, VK community, Evotor product/group). They carry the community id, so a merchant who
switches community starts a fresh mapping and the old community is left untouched.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from apps.sync.core import types as core

MAX_PRICE = Decimal("999999999")


class SyncConfig(models.Model):
    """One per merchant: the rules, the switch, and the per-merchant lease (a run's lock)."""

    class Rounding(models.TextChoices):
        NONE = core.Rounding.NONE, _("no rounding (to the kopeck)")
        RUBLES = core.Rounding.RUBLES, _("to whole rubles")
        TENS = core.Rounding.TENS, _("up to 10 rubles")
        NINETY_NINE = core.Rounding.NINETY_NINE, _("up to …99 rubles")

    class OutOfStock(models.TextChoices):
        HIDE = core.OutOfStock.HIDE, _("hide the item")
        KEEP = core.OutOfStock.KEEP, _("keep it visible")
        ZERO = core.OutOfStock.ZERO, _("keep it visible with zero stock")

    class Removal(models.TextChoices):
        HIDE = core.Removal.HIDE, _("hide the item in VK")
        DELETE = core.Removal.DELETE, _("delete the item from VK")

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sync_config"
    )
    is_enabled = models.BooleanField(_("sync enabled"), default=False)
    confirmed_at = models.DateTimeField(_("first enabled"), null=True, blank=True)
    paused_reason = models.CharField(_("paused because"), max_length=300, blank=True)
    paused_at = models.DateTimeField(_("paused"), null=True, blank=True)
    consecutive_failures = models.PositiveIntegerField(_("failed runs in a row"), default=0)

    vk_category_id = models.PositiveIntegerField(_("VK category"), null=True, blank=True)
    vk_category_name = models.CharField(_("VK category name"), max_length=255, blank=True)
    markup_percent = models.DecimalField(
        _("markup, %"), max_digits=6, decimal_places=2, default=Decimal(0),
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("1000"))],
    )
    rounding = models.CharField(
        _("rounding"), max_length=16, choices=Rounding.choices, default=Rounding.NONE
    )
    min_price = models.DecimalField(
        _("minimum price"), max_digits=12, decimal_places=2, default=Decimal(0),
        validators=[MinValueValidator(Decimal(0)), MaxValueValidator(MAX_PRICE)],
    )
    description_template = models.TextField(
        _("description template"), max_length=3000, default=core.DEFAULT_TEMPLATE
    )
    out_of_stock = models.CharField(
        _("out of stock"), max_length=8, choices=OutOfStock.choices, default=OutOfStock.HIDE
    )
    removal = models.CharField(
        _("removed or excluded products"), max_length=8, choices=Removal.choices,
        default=Removal.HIDE,
    )
    albums_enabled = models.BooleanField(_("albums for groups"), default=True)
    manage_name = models.BooleanField(_("name"), default=True)
    manage_description = models.BooleanField(_("description"), default=True)
    manage_price = models.BooleanField(_("price"), default=True)
    manage_photo = models.BooleanField(_("photo"), default=True)
    manage_stock = models.BooleanField(_("stock"), default=True)
    manage_albums = models.BooleanField(_("albums"), default=True)

    # The lease: one run per merchant at a time, across processes and machines. Claimed and
    # renewed with conditional UPDATEs (apps/sync/lease.py); expires if its holder dies.
    lease_owner = models.CharField(max_length=64, blank=True, editable=False)
    lease_expires_at = models.DateTimeField(null=True, blank=True, editable=False)
    # A trigger not yet served: set by every trigger, cleared by the run that serves it.
    requested_at = models.DateTimeField(null=True, blank=True, editable=False)
    requested_trigger = models.CharField(max_length=16, blank=True, editable=False)
    # A run task is queued and has not started: triggers meanwhile need not queue another.
    task_queued_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_run_at = models.DateTimeField(_("last run"), null=True, blank=True)
    # The incident the merchant was last e-mailed about ("" none, "failing", "paused"); changed
    # by a conditional UPDATE so that of two workers exactly one sends (apps/sync/notify.py).
    incident_state = models.CharField(max_length=16, blank=True, editable=False)
    incident_notified_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("sync settings")
        verbose_name_plural = _("sync settings")

    def __str__(self) -> str:
        return str(self.user)

    # The reason the admin's "Pause" action records; such a pause is lifted in the admin only.
    PAUSED_BY_STAFF = "paused by EvoSync support in the admin"

    @property
    def is_paused(self) -> bool:
        return bool(self.paused_reason)

    @property
    def paused_by_staff(self) -> bool:
        return self.paused_reason == self.PAUSED_BY_STAFF

    def managed_fields(self) -> frozenset[core.Field]:
        flags = {
            core.Field.NAME: self.manage_name,
            core.Field.DESCRIPTION: self.manage_description,
            core.Field.PRICE: self.manage_price,
            core.Field.PHOTO: self.manage_photo,
            core.Field.STOCK: self.manage_stock,
            core.Field.ALBUMS: self.manage_albums,
        }
        return frozenset(name for name, on in flags.items() if on)


class SyncFilter(models.Model):
    """Include or exclude one store, group or product (semantics: core/filters.py)."""

    class EntityType(models.TextChoices):
        STORE = core.FilterType.STORE, _("store")
        GROUP = core.FilterType.GROUP, _("group")
        PRODUCT = core.FilterType.PRODUCT, _("product")

    class Mode(models.TextChoices):
        INCLUDE = core.FilterMode.INCLUDE, _("include")
        EXCLUDE = core.FilterMode.EXCLUDE, _("exclude")

    config = models.ForeignKey(SyncConfig, on_delete=models.CASCADE, related_name="filters")
    entity_type = models.CharField(_("what"), max_length=8, choices=EntityType.choices)
    entity_id = models.CharField(_("Evotor id"), max_length=64)
    entity_name = models.CharField(_("name"), max_length=255, blank=True)
    filter_mode = models.CharField(_("mode"), max_length=8, choices=Mode.choices)
    parent_entity_id = models.CharField(_("parent"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("sync filter")
        verbose_name_plural = _("sync filters")
        constraints = [
            models.UniqueConstraint(
                fields=["config", "entity_type", "entity_id"], name="unique_sync_filter"
            )
        ]

    def __str__(self) -> str:
        return f"{self.filter_mode} {self.entity_type} {self.entity_name or self.entity_id}"


class ProductLink(models.Model):
    """Evotor product → VK item in one community. The sku of the item is the Evotor id."""

    class State(models.TextChoices):
        PENDING = core.LinkState.PENDING, _("pending")
        CREATING = core.LinkState.CREATING, _("being created")
        PUBLISHED = core.LinkState.PUBLISHED, _("published")
        HIDDEN = core.LinkState.HIDDEN, _("hidden")
        DELETED = core.LinkState.DELETED, _("deleted")
        FAILED = core.LinkState.FAILED, _("failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_links"
    )
    vk_group_id = models.PositiveBigIntegerField(_("VK community"))
    evotor_product_id = models.CharField(_("Evotor product"), max_length=64)
    vk_item_id = models.BigIntegerField(_("VK item"), null=True, blank=True)
    vk_photo_id = models.BigIntegerField(_("VK photo"), null=True, blank=True)
    photo_key = models.CharField(_("photo content hash"), max_length=64, blank=True)
    album_group_id = models.CharField(_("album of group"), max_length=64, blank=True)
    payload_hash = models.CharField(_("published payload hash"), max_length=64, blank=True)
    published = models.JSONField(_("published values"), default=dict, blank=True)
    state = models.CharField(
        _("state"), max_length=16, choices=State.choices, default=State.PENDING
    )
    last_error_code = models.CharField(_("last error code"), max_length=32, blank=True)
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    # The Evotor image: where it is, and when we last asked Evotor (only when needed).
    image_url = models.CharField(_("Evotor image"), max_length=1000, blank=True)
    image_checked_at = models.DateTimeField(null=True, blank=True)
    synced_at = models.DateTimeField(_("synced"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("product link")
        verbose_name_plural = _("product links")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "vk_group_id", "evotor_product_id"], name="unique_product_link"
            )
        ]
        indexes = [
            models.Index(fields=["user", "vk_group_id", "state"]),
            models.Index(fields=["vk_item_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.evotor_product_id} → {self.vk_item_id or '—'}"


class AlbumLink(models.Model):
    """Evotor product group → VK album («подборка») in one community."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="album_links"
    )
    vk_group_id = models.PositiveBigIntegerField(_("VK community"))
    evotor_group_id = models.CharField(_("Evotor group"), max_length=64)
    vk_album_id = models.BigIntegerField(_("VK album"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=128)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("album link")
        verbose_name_plural = _("album links")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "vk_group_id", "evotor_group_id"], name="unique_album_link"
            )
        ]

    def __str__(self) -> str:
        return f"{self.title} → {self.vk_album_id or '—'}"


class SyncJob(models.Model):
    """One run: written as running before the work, finished with counts and a reason."""

    class Trigger(models.TextChoices):
        # Why the run happened, as a noun for the history ("Manual", not the button's "Sync
        # now"); a context keeps these apart from the same words used elsewhere.
        SCHEDULE = "schedule", pgettext_lazy("sync trigger", "Hourly schedule")
        MANUAL = "manual", pgettext_lazy("sync trigger", "Manual")
        WEBHOOK = "webhook", pgettext_lazy("sync trigger", "Change in Evotor")
        ENABLE = "enable", pgettext_lazy("sync trigger", "Sync switched on")
        RESUME = "resume", pgettext_lazy("sync trigger", "Sync resumed")
        RETRY = "retry", pgettext_lazy("sync trigger", "Retry of failed items")
        COMMAND = "command", pgettext_lazy("sync trigger", "Command line")
        CONTINUATION = "continuation", pgettext_lazy("sync trigger", "Continuation")
        AUTO_RETRY = "auto_retry", pgettext_lazy("sync trigger", "Retry after a failure")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        RUNNING = "running", _("running")
        SUCCESS = "success", _("success")
        PARTIAL = "partial", _("partly failed")
        FAILED = "failed", _("failed")
        SKIPPED = "skipped", _("skipped")

    FINISHED = (Status.SUCCESS, Status.PARTIAL, Status.FAILED, Status.SKIPPED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="sync_jobs"
    )
    vk_group_id = models.PositiveBigIntegerField(_("VK community"), null=True, blank=True)
    triggered_by = models.CharField(_("trigger"), max_length=16, choices=Trigger.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    items_created = models.PositiveIntegerField(_("created"), default=0)
    items_updated = models.PositiveIntegerField(_("updated"), default=0)
    items_hidden = models.PositiveIntegerField(_("hidden"), default=0)
    items_deleted = models.PositiveIntegerField(_("deleted"), default=0)
    items_skipped = models.PositiveIntegerField(_("skipped"), default=0)
    items_failed = models.PositiveIntegerField(_("failed"), default=0)
    progress_done = models.PositiveIntegerField(_("done"), default=0)
    progress_total = models.PositiveIntegerField(_("total"), default=0)
    vk_requests = models.PositiveIntegerField(_("VK requests"), default=0)
    photos_uploaded = models.PositiveIntegerField(_("photos uploaded"), default=0)
    # A short machine code for the pages to explain (apps/sync/explain.py) and the technical
    # one-line reason (English, for operators and logs).
    error_code = models.CharField(_("reason code"), max_length=32, blank=True)
    error_summary = models.CharField(_("reason"), max_length=500, blank=True)
    only_product_ids = models.JSONField(_("limited to products"), null=True, blank=True)
    task_id = models.CharField(_("task id"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("sync run")
        verbose_name_plural = _("sync runs")
        ordering = ["-started_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-started_at"]),
            models.Index(fields=["status", "started_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"

    @property
    def duration(self):
        return (self.finished_at - self.started_at) if self.finished_at else None

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class SyncItemError(models.Model):
    """One product that failed in a run, with the provider's code and text, for grouping."""

    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="item_errors")
    evotor_product_id = models.CharField(_("Evotor product"), max_length=64)
    product_name = models.CharField(_("product"), max_length=255, blank=True)
    # "vk:1408", "vk:100", "photo", "evotor_image", "invalid:no_price", ... (explain.py maps them)
    code = models.CharField(_("code"), max_length=32)
    vk_error_code = models.IntegerField(_("VK error code"), null=True, blank=True)
    message = models.CharField(_("message"), max_length=500, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    class Meta:
        verbose_name = _("item error")
        verbose_name_plural = _("item errors")
        ordering = ["id"]
        indexes = [models.Index(fields=["job", "code"])]

    def __str__(self) -> str:
        return f"{self.evotor_product_id}: {self.code}"
