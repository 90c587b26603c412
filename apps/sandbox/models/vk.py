"""The fake VK: users, communities, API tokens, market items, albums and product photos."""

from __future__ import annotations

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from apps.sandbox.services.vk_ids import ALBUM, ITEM, PHOTO


class VkUser(models.Model):
    vk_id = models.BigIntegerField(_("VK user id"), unique=True)
    first_name = models.CharField(_("first name"), max_length=100)
    last_name = models.CharField(_("last name"), max_length=100)

    class Meta:
        verbose_name = _("sandbox VK user")
        verbose_name_plural = _("sandbox VK users")

    def __str__(self) -> str:
        return f"{self.first_name} {self.last_name} ({self.vk_id})"


class VkGroup(models.Model):
    """A VK community with its market («Товары») settings and the caps VK never documented."""

    vk_id = models.BigIntegerField(_("community id"), unique=True)
    name = models.CharField(_("name"), max_length=255)
    screen_name = models.CharField(_("screen name"), max_length=100, unique=True)
    is_closed = models.PositiveSmallIntegerField(_("closed"), default=0)
    type = models.CharField(_("type"), max_length=10, default="group")
    description = models.TextField(_("description"), blank=True, default="")
    market_enabled = models.BooleanField(_("market enabled"), default=True)
    market_type = models.CharField(_("market type"), max_length=20, default="basic")
    # VK returns 1405/1406/1407 past limits it does not publish (docs/vk.md#numeric-caps);
    # null = none.
    max_items = models.PositiveIntegerField(_("max items"), null=True, blank=True)
    max_albums = models.PositiveIntegerField(_("max albums"), null=True, blank=True)
    max_items_per_album = models.PositiveIntegerField(
        _("max items per album"), null=True, blank=True
    )
    managers = models.ManyToManyField(VkUser, through="VkGroupManager", related_name="managed")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK community")
        verbose_name_plural = _("sandbox VK communities")

    def __str__(self) -> str:
        return f"{self.name} ({self.vk_id})"

    @property
    def owner_id(self) -> int:
        return -self.vk_id


class VkGroupManager(models.Model):
    """A user who manages a community; admin_level 1 moderator, 2 editor, 3 administrator."""

    group = models.ForeignKey(VkGroup, on_delete=models.CASCADE)
    user = models.ForeignKey(VkUser, on_delete=models.CASCADE)
    admin_level = models.PositiveSmallIntegerField(_("admin level"), default=3)

    class Meta:
        verbose_name = _("sandbox VK community manager")
        verbose_name_plural = _("sandbox VK community managers")
        constraints = [
            models.UniqueConstraint(fields=["group", "user"], name="sandbox_one_manager_row")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} manages {self.group_id} (level {self.admin_level})"


class VkToken(models.Model):
    """An API access token: a user's (VK ID or pasted) or a community's."""

    USER = "user"
    GROUP = "group"
    KINDS = [(USER, _("user")), (GROUP, _("community"))]

    token = models.CharField(_("token"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=10, choices=KINDS, default=USER)
    user = models.ForeignKey(
        VkUser, on_delete=models.CASCADE, null=True, blank=True, related_name="tokens"
    )
    group = models.ForeignKey(
        VkGroup, on_delete=models.CASCADE, null=True, blank=True, related_name="tokens"
    )
    scopes = models.CharField(_("scopes"), max_length=255, default="market groups photos")
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    is_revoked = models.BooleanField(_("revoked"), default=False)
    source = models.CharField(_("issued by"), max_length=20, default="manual")
    # The VK ID grant a token came from (client + device), so revoking it can find the
    # refresh tokens issued alongside; blank for pasted and community tokens.
    client_id = models.CharField(_("VK ID client id"), max_length=100, blank=True, default="")
    device_id = models.CharField(_("VK ID device id"), max_length=100, blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK token")
        verbose_name_plural = _("sandbox VK tokens")

    def __str__(self) -> str:
        return f"{self.kind} token …{self.token[-6:]}"

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes.replace(",", " ").split()


class VkMarketItem(models.Model):
    """A market item. Prices are kept in kopecks, as VK answers them (docs/vk.md#prices)."""

    group = models.ForeignKey(VkGroup, on_delete=models.CASCADE, related_name="items")
    title = models.CharField(_("title"), max_length=400)
    description = models.TextField(_("description"))
    category_id = models.PositiveIntegerField(_("category"))
    price = models.BigIntegerField(_("price, kopecks"), default=0)
    old_price = models.BigIntegerField(_("old price, kopecks"), null=True, blank=True)
    # market.add/edit deleted=1: kept but unavailable (availability 2).
    is_hidden = models.BooleanField(_("hidden"), default=False)
    # market.delete: gone from market.get, restorable for a while (availability 1).
    is_removed = models.BooleanField(_("removed"), default=False)
    removed_at = models.DateTimeField(_("removed at"), null=True, blank=True)
    sku = models.CharField(_("sku"), max_length=50, blank=True, default="")
    url = models.CharField(_("url"), max_length=320, blank=True, default="")
    stock_amount = models.IntegerField(_("stock amount"), null=True, blank=True)
    dimension_width = models.PositiveIntegerField(null=True, blank=True)
    dimension_height = models.PositiveIntegerField(null=True, blank=True)
    dimension_length = models.PositiveIntegerField(null=True, blank=True)
    weight = models.PositiveIntegerField(null=True, blank=True)
    # Set when VK moderation rejected the item: market.get/getById then add ``reject_info``.
    rejected_at = models.DateTimeField(_("rejected by moderation at"), null=True, blank=True)
    reject_title = models.CharField(_("rejection title"), max_length=200, blank=True, default="")
    reject_description = models.TextField(_("rejection description"), blank=True, default="")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK market item")
        verbose_name_plural = _("sandbox VK market items")
        indexes = [models.Index(fields=["group", "is_removed"], name="sandbox_item_live")]

    def __str__(self) -> str:
        return self.title

    @property
    def vk_id(self) -> int:
        """The id VK shows for this item (not the pk: see services/vk_ids.py)."""
        return ITEM.public(self.pk)

    @property
    def is_rejected(self) -> bool:
        return self.rejected_at is not None


class VkPhoto(models.Model):
    """A product photo: created by the upload server, usable once saved, owned by one community.

    ``item`` is the one item the photo is attached to — VK refuses a second
    (docs/architecture.md#photos);
    position 0 is the item's main photo, 1..4 the extra ``photo_ids``.
    """

    group = models.ForeignKey(VkGroup, on_delete=models.CASCADE, related_name="photos")
    item = models.ForeignKey(
        VkMarketItem, on_delete=models.SET_NULL, null=True, blank=True, related_name="photos"
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    width = models.PositiveIntegerField(_("width"))
    height = models.PositiveIntegerField(_("height"))
    sha = models.CharField(_("SHA-1 of the file"), max_length=40)
    thumbnail = models.BinaryField(_("thumbnail"), null=True, blank=True)
    # One upload reply may hold several photos (bulk); it is saved once, as a whole.
    upload_batch = models.CharField(_("upload batch"), max_length=32, db_index=True)
    is_saved = models.BooleanField(_("saved"), default=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK photo")
        verbose_name_plural = _("sandbox VK photos")

    def __str__(self) -> str:
        return f"photo {self.vk_id}"

    @property
    def vk_id(self) -> int:
        """The id VK shows for this photo (not the pk: see services/vk_ids.py)."""
        return PHOTO.public(self.pk)


class VkAlbum(models.Model):
    """A market album («подборка»)."""

    group = models.ForeignKey(VkGroup, on_delete=models.CASCADE, related_name="albums")
    title = models.CharField(_("title"), max_length=128)
    photo = models.ForeignKey(
        VkPhoto, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    is_main = models.BooleanField(_("main"), default=False)
    is_hidden = models.BooleanField(_("hidden"), default=False)
    items = models.ManyToManyField(VkMarketItem, through="VkAlbumItem", related_name="albums")
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    updated_at = models.DateTimeField(_("updated at"), default=timezone.now)

    class Meta:
        verbose_name = _("sandbox VK album")
        verbose_name_plural = _("sandbox VK albums")

    def __str__(self) -> str:
        return self.title

    @property
    def vk_id(self) -> int:
        """The id VK shows for this album (not the pk: see services/vk_ids.py)."""
        return ALBUM.public(self.pk)


class VkAlbumItem(models.Model):
    album = models.ForeignKey(VkAlbum, on_delete=models.CASCADE)
    item = models.ForeignKey(VkMarketItem, on_delete=models.CASCADE)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["album", "item"], name="sandbox_item_once_per_album")
        ]

    def __str__(self) -> str:
        return f"item {self.item_id} in album {self.album_id}"
