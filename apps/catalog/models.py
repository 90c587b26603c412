"""The merchant's Evotor catalog, cached: pages and syncs read it here, never live from Evotor.

Rows are keyed by (user, evotor_id) and upserted in bulk by the refresh service. Nothing is
deleted when it disappears from Evotor: ``removed_at`` is set instead, because the sync must
still know which VK items to take down. Parent links are kept as Evotor ids (not foreign keys)
so a page of products can be upserted before or without its groups, exactly as Evotor sends it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class CatalogEntity(models.Model):
    """Fields every cached Evotor object has. Subclasses add ``user`` with their related name."""

    evotor_id = models.CharField(_("Evotor id"), max_length=64)
    name = models.CharField(_("name"), max_length=255)
    evotor_created_at = models.DateTimeField(_("created in Evotor"), null=True, blank=True)
    evotor_updated_at = models.DateTimeField(_("updated in Evotor"), null=True, blank=True)
    fetched_at = models.DateTimeField(_("fetched"), default=timezone.now)
    removed_at = models.DateTimeField(_("removed from Evotor"), null=True, blank=True)

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return self.name

    @property
    def is_removed(self) -> bool:
        return self.removed_at is not None


class Store(CatalogEntity):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="stores"
    )
    address = models.CharField(_("address"), max_length=500, blank=True)
    # Highest Evotor updated_at seen by a successful refresh: the next incremental `since`.
    products_watermark = models.DateTimeField(null=True, blank=True, editable=False)
    groups_watermark = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "evotor_id"], name="unique_store_per_user")
        ]


class ProductGroup(CatalogEntity):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="product_groups"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="groups")
    parent_evotor_id = models.CharField(_("parent group"), max_length=64, blank=True)
    barcodes = models.JSONField(_("barcodes"), default=list, blank=True)
    # Presence of attributes makes it a modification group (its products are variants).
    attributes = models.JSONField(_("attributes"), default=list, blank=True)
    is_modification_group = models.BooleanField(_("modification group"), default=False)

    class Meta:
        verbose_name = _("product group")
        verbose_name_plural = _("product groups")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "evotor_id"], name="unique_group_per_user")
        ]
        indexes = [models.Index(fields=["store", "parent_evotor_id"])]


class Product(CatalogEntity):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="products"
    )
    store = models.ForeignKey(Store, on_delete=models.CASCADE, related_name="products")
    group_evotor_id = models.CharField(_("group"), max_length=64, blank=True)
    type = models.CharField(_("type"), max_length=64, blank=True)
    code = models.CharField(_("code"), max_length=64, blank=True)
    article_number = models.CharField(_("article"), max_length=128, blank=True)
    barcodes = models.JSONField(_("barcodes"), default=list, blank=True)
    # Name, article, code and barcodes, lower-cased in Python: SQLite's LIKE folds only ASCII
    # case, so searching "кофе" must compare against a column that is already lower case.
    search_text = models.TextField(blank=True, editable=False)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2, null=True, blank=True)
    cost_price = models.DecimalField(
        _("cost price"), max_digits=15, decimal_places=3, null=True, blank=True
    )
    # Null when Evotor did not send it: services, or an app without stock rights.
    quantity = models.DecimalField(
        _("quantity"), max_digits=15, decimal_places=3, null=True, blank=True
    )
    measure_name = models.CharField(_("unit"), max_length=64, blank=True)
    tax = models.CharField(_("tax"), max_length=64, blank=True)
    allow_to_sell = models.BooleanField(_("allowed to sell"), default=True)
    description = models.TextField(_("description"), blank=True)
    attributes_choices = models.JSONField(_("modification choices"), default=dict, blank=True)
    image_url = models.URLField(_("image"), max_length=1000, blank=True)
    # Fields the sync does not use but a merchant may want to see (alcohol codes, flags, …).
    extra = models.JSONField(_("other fields"), default=dict, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["user", "evotor_id"], name="unique_product_per_user")
        ]
        indexes = [
            models.Index(fields=["user", "store", "group_evotor_id", "name"]),
            models.Index(fields=["user", "name"]),
            # The list sorted by price reads the page in index order (no sort of the catalog):
            # "price" and "-price" both break ties by name (apps/catalog/browse.py SORTS).
            models.Index(fields=["user", "price", "name"], name="catalog_product_price_sort"),
            models.Index(fields=["user", "-price", "name"], name="catalog_product_price_desc"),
            models.Index(fields=["user", "evotor_updated_at"]),
        ]

    @property
    def is_service(self) -> bool:
        return self.type == "SERVICE"


class CatalogRefresh(models.Model):
    """One refresh run: recorded as running before the work, finished with counts or a reason."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        SUCCESS = "success", _("success")
        FAILED = "failed", _("failed")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="catalog_refreshes"
    )
    full = models.BooleanField(_("full"), default=False)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.RUNNING
    )
    started_at = models.DateTimeField(_("started"), default=timezone.now)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    stores = models.PositiveIntegerField(default=0)
    groups = models.PositiveIntegerField(default=0)
    products = models.PositiveIntegerField(default=0)
    removed = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    evotor_requests = models.PositiveIntegerField(default=0)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        verbose_name = _("catalog refresh")
        verbose_name_plural = _("catalog refreshes")
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "status", "-started_at"])]

    def __str__(self) -> str:
        return f"{self.user_id} {self.started_at:%Y-%m-%d %H:%M} {self.status}"


class RefreshLeaseQuerySet(models.QuerySet):
    def held(self, now=None):
        """Leases a live refresh holds (an expired one is free: its holder died)."""
        return self.exclude(owner="").filter(expires_at__gte=now or timezone.now())

    def free(self, now=None):
        now = now or timezone.now()
        return self.filter(
            models.Q(owner="") | models.Q(expires_at__isnull=True) | models.Q(expires_at__lt=now)
        )


class RefreshLease(models.Model):
    """One per merchant: who is refreshing the catalog now (apps/catalog/services.py).

    Claimed, renewed and released by conditional UPDATEs whose row count says who won, like the
    sync's lease, so it holds across processes on SQLite and MariaDB; it expires if its holder
    dies. The pages read "refreshing now" from it too: one mechanism, one answer.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="catalog_refresh_lease",
    )
    owner = models.CharField(max_length=64, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = RefreshLeaseQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.user_id} {self.owner or '-'}"
