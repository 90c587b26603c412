"""The fake Evotor cloud: merchants ("Evotor users"), their stores, groups, products, images.

Column names follow the Evotor JSON (docs/evotor.md#fields) so the serializer stays a plain mapping.
Nullable columns are *omitted* from the JSON when null, which is how Evotor leaves out optional
fields; empty strings are kept, because real 2024 payloads carry them (docs/evotor.md#conventions).
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

# What an installed app normally holds; quantity and image sub-scopes can be taken away to
# check that the client copes with the fields and endpoints they guard (docs/evotor.md#tokens).
DEFAULT_EVOTOR_SCOPES = (
    "store:read product:read product-group:read product.quantity:read product.image:read"
)


class EvotorAccount(models.Model):
    """A merchant in the Evotor cloud together with the cloud token our app was given."""

    user_id = models.CharField(_("Evotor user id"), max_length=20, unique=True)
    token = models.CharField(_("cloud token"), max_length=128, unique=True)
    # True after "uninstall": the API answers 403 "user did not install the app"
    # (docs/evotor.md#token-lifetime).
    is_revoked = models.BooleanField(_("revoked"), default=False)
    scopes = models.CharField(_("scopes"), max_length=255, default=DEFAULT_EVOTOR_SCOPES)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox Evotor account")
        verbose_name_plural = _("sandbox Evotor accounts")

    def __str__(self) -> str:
        return self.user_id

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes.split()


class EvotorStore(models.Model):
    account = models.ForeignKey(EvotorAccount, on_delete=models.CASCADE, related_name="stores")
    evotor_id = models.CharField(_("store id"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=255)
    address = models.CharField(_("address"), max_length=255, null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox Evotor store")
        verbose_name_plural = _("sandbox Evotor stores")

    def __str__(self) -> str:
        return self.name


class EvotorProductGroup(models.Model):
    store = models.ForeignKey(EvotorStore, on_delete=models.CASCADE, related_name="groups")
    evotor_id = models.CharField(_("group id"), max_length=40)
    parent_id = models.CharField(_("parent group id"), max_length=40, null=True, blank=True)
    name = models.CharField(_("name"), max_length=255)
    barcodes = models.JSONField(_("barcodes"), null=True, blank=True)
    # Present only on modification groups: [{id, name, choices: [{id, name}]}].
    attributes = models.JSONField(_("attributes"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox Evotor product group")
        verbose_name_plural = _("sandbox Evotor product groups")
        constraints = [
            models.UniqueConstraint(fields=["store", "evotor_id"], name="sandbox_group_per_store")
        ]
        indexes = [models.Index(fields=["store", "updated_at"], name="sandbox_group_since")]

    def __str__(self) -> str:
        return self.name


class EvotorProduct(models.Model):
    store = models.ForeignKey(EvotorStore, on_delete=models.CASCADE, related_name="products")
    evotor_id = models.CharField(_("product id"), max_length=40)
    parent_id = models.CharField(_("parent group id"), max_length=40, null=True, blank=True)
    type = models.CharField(_("type"), max_length=40, default="NORMAL")
    # Longer than Evotor's 128 on purpose: the seed includes over-long names to exercise
    # the product's 100-character cut for VK.
    name = models.CharField(_("name"), max_length=255)
    code = models.CharField(_("code"), max_length=20, null=True, blank=True)
    price = models.DecimalField(_("price"), max_digits=12, decimal_places=2)
    cost_price = models.DecimalField(
        _("cost price"), max_digits=13, decimal_places=3, null=True, blank=True
    )
    quantity = models.DecimalField(
        _("quantity"), max_digits=13, decimal_places=3, null=True, blank=True
    )
    measure_name = models.CharField(_("measure"), max_length=20, default="шт")
    tax = models.CharField(_("tax"), max_length=20, default="NO_VAT")
    allow_to_sell = models.BooleanField(_("allow to sell"), default=True)
    description = models.TextField(_("description"), null=True, blank=True)
    article_number = models.CharField(_("article"), max_length=40, null=True, blank=True)
    barcodes = models.JSONField(_("barcodes"), null=True, blank=True)
    attributes_choices = models.JSONField(_("attribute choices"), null=True, blank=True)
    # Any other Evotor fields (alcohol data, classification_code, ...), emitted as they are.
    extra = models.JSONField(_("other fields"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox Evotor product")
        verbose_name_plural = _("sandbox Evotor products")
        constraints = [
            models.UniqueConstraint(fields=["store", "evotor_id"], name="sandbox_product_per_store")
        ]
        indexes = [models.Index(fields=["store", "updated_at"], name="sandbox_product_since")]

    def __str__(self) -> str:
        return self.name


class EvotorProductImage(models.Model):
    """Image metadata; the bytes are drawn on request by the sandbox's "static host"."""

    product = models.ForeignKey(EvotorProduct, on_delete=models.CASCADE, related_name="images")
    evotor_id = models.CharField(_("image id"), max_length=40, unique=True)
    extension = models.CharField(_("extension"), max_length=10, default="png")
    width = models.PositiveIntegerField(_("width"), default=300)
    height = models.PositiveIntegerField(_("height"), default=300)
    file_size = models.PositiveIntegerField(_("file size"), default=0)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox Evotor product image")
        verbose_name_plural = _("sandbox Evotor product images")

    def __str__(self) -> str:
        return self.evotor_id
