"""Plain values the pure core works on: what Evotor has, what we published, what VK shows.

No Django, no HTTP, no clock here or anywhere under ``apps/sync/core``. Money is ``Decimal``.
The executor builds a :class:`SyncContext` from the database and the VK read-back, calls
``engine.plan_sync`` and applies the :class:`SyncPlan` it gets.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# --- settings ---------------------------------------------------------------------------------


class Rounding(enum.StrEnum):
    NONE = "none"  # to the kopeck
    RUBLES = "rubles"  # to whole rubles, half up
    TENS = "tens"  # up to a multiple of 10 rubles
    NINETY_NINE = "ninety_nine"  # up to the next price ending in 99 rubles (1 234 → 1 299)


class OutOfStock(enum.StrEnum):
    HIDE = "hide"  # hide the VK item while quantity ≤ 0
    KEEP = "keep"  # keep it visible, stock untouched
    ZERO = "zero"  # keep it visible with stock_amount = 0


class Removal(enum.StrEnum):
    HIDE = "hide"  # market.edit deleted=1: the item stays in VK, unavailable
    DELETE = "delete"  # market.delete


class Field(enum.StrEnum):
    """Fields EvoSync may manage; an unmanaged one keeps whatever the merchant set in VK."""

    NAME = "name"
    DESCRIPTION = "description"
    PRICE = "price"
    PHOTO = "photo"
    STOCK = "stock"
    ALBUMS = "albums"


ALL_FIELDS = frozenset(Field)

DEFAULT_TEMPLATE = (
    "{name}\n\n{description}\n\nЦена: {price} ₽{measure}\nАртикул: {article}\n{store}"
)


@dataclass(frozen=True, slots=True)
class SyncSettings:
    category_id: int
    markup_percent: Decimal = Decimal(0)  # may be negative (a discount), > -100
    rounding: Rounding = Rounding.NONE
    min_price: Decimal = Decimal(0)
    description_template: str = DEFAULT_TEMPLATE
    out_of_stock: OutOfStock = OutOfStock.HIDE
    removal: Removal = Removal.HIDE
    albums: bool = True
    managed: frozenset[Field] = ALL_FIELDS


# --- what Evotor has (from the catalog cache) ------------------------------------------------


@dataclass(frozen=True, slots=True)
class Store:
    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Group:
    id: str
    name: str
    store_id: str
    parent_id: str | None = None
    removed: bool = False


@dataclass(frozen=True, slots=True)
class Product:
    id: str  # the Evotor product id; also the VK item's sku
    store_id: str
    name: str
    price: Decimal | None
    group_id: str | None = None
    quantity: Decimal | None = None  # None: unknown (no stock rights) or a service
    measure_name: str = ""
    type: str = "NORMAL"
    allow_to_sell: bool = True
    description: str = ""
    article: str = ""
    code: str = ""
    removed: bool = False
    # Modification values as (attribute name, value name), in a stable order.
    attributes: tuple[tuple[str, str], ...] = ()
    # The Evotor image to publish (URL as known to the executor), "" = none: a card is drawn.
    image_url: str = ""

    @property
    def is_service(self) -> bool:
        return self.type == "SERVICE"


class FilterType(enum.StrEnum):
    STORE = "store"
    GROUP = "group"
    PRODUCT = "product"


class FilterMode(enum.StrEnum):
    INCLUDE = "include"
    EXCLUDE = "exclude"


@dataclass(frozen=True, slots=True)
class Filter:
    entity_type: FilterType
    entity_id: str
    mode: FilterMode


# --- what we published (ProductLink / AlbumLink) and what VK shows ----------------------------


class LinkState(enum.StrEnum):
    PENDING = "pending"  # known, nothing in VK yet
    CREATING = "creating"  # market.add may have been sent: adopt by sku before adding again
    PUBLISHED = "published"
    HIDDEN = "hidden"
    DELETED = "deleted"
    FAILED = "failed"  # the last attempt failed; vk_item_id tells whether an item exists


@dataclass(frozen=True, slots=True)
class Link:
    product_id: str
    state: LinkState
    vk_item_id: int | None = None
    payload_hash: str = ""  # hash of the published managed fields (see transform.payload_hash)
    photo_key: str = ""  # what the published photo shows (see transform.photo_key)
    vk_photo_id: int | None = None
    album_group_id: str | None = None  # the Evotor group whose album holds the item
    published: dict | None = None  # the last published values, for "old → new" in previews


@dataclass(frozen=True, slots=True)
class AlbumLink:
    group_id: str  # Evotor group id
    vk_album_id: int | None
    title: str


@dataclass(frozen=True, slots=True)
class VkItem:
    """A VK item as read back (market.get with_disabled=1)."""

    id: int
    sku: str | None
    title: str = ""
    price_minor: int | None = None  # kopecks
    removed: bool = False  # availability 1
    hidden: bool = False  # availability 2
    album_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class SyncContext:
    settings: SyncSettings
    stores: tuple[Store, ...]
    groups: tuple[Group, ...]
    products: tuple[Product, ...]
    filters: tuple[Filter, ...] = ()
    links: tuple[Link, ...] = ()
    albums: tuple[AlbumLink, ...] = ()
    # None when VK was not read this run; otherwise every item of the community.
    vk_items: tuple[VkItem, ...] | None = None
    now: datetime | None = None
    # Limit the plan to these products (retry of failed items); None = all.
    only_product_ids: frozenset[str] | None = None


# --- decisions and the plan -------------------------------------------------------------------


class Reason(enum.StrEnum):
    """Why a product is (not) published: codes the pages translate."""

    PUBLISHED = "published"
    STORE_NOT_CHOSEN = "store_not_chosen"  # another store feeds the community
    EXCLUDED_STORE = "excluded_store"
    EXCLUDED_GROUP = "excluded_group"
    EXCLUDED_PRODUCT = "excluded_product"
    NOT_INCLUDED = "not_included"  # include filters exist and none covers it
    REMOVED = "removed"  # gone from Evotor
    NOT_FOR_SALE = "not_for_sale"  # allow_to_sell = false
    OUT_OF_STOCK = "out_of_stock"
    NO_PRICE = "no_price"
    PRICE_TOO_HIGH = "price_too_high"
    NO_NAME = "no_name"


@dataclass(frozen=True, slots=True)
class Decision:
    """The filter verdict for one product; ``by`` names the deciding filter's entity id."""

    included: bool
    reason: Reason
    by: str | None = None


@dataclass(frozen=True, slots=True)
class Payload:
    """What we want the VK item to show (managed fields only are compared and sent on edits)."""

    name: str
    description: str
    price: Decimal
    photo_key: str  # hash of what the photo shows; equal keys = same image bytes
    stock_amount: int | None = None  # 0 under OutOfStock.ZERO, else None (not sent)
    album_group_id: str | None = None  # Evotor group whose album should hold it (albums on)
    # What the description was rendered from (transform.DESCRIPTION_KEY); not a VK field.
    description_key: str = field(default="", compare=False, repr=False)

    def hash(self, managed: frozenset[Field]) -> str:
        from .transform import payload_hash

        return payload_hash(self, managed)


class Action(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    HIDE = "hide"
    SHOW = "show"  # unhide (may carry field changes too)
    DELETE = "delete"
    MOVE_ALBUM = "move_album"
    ADOPT = "adopt"  # a VK item with our sku that no link knows, or a creating link's item
    DELETE_DUPLICATE = "delete_duplicate"  # a second VK item with the same sku
    UNCHANGED = "unchanged"
    SKIP = "skip"  # not wanted and nothing in VK
    INVALID = "invalid"  # wanted but cannot be published (reason says why)


@dataclass(frozen=True, slots=True)
class ItemOp:
    action: Action
    product_id: str
    reason: Reason = Reason.PUBLISHED
    vk_item_id: int | None = None
    payload: Payload | None = None
    # Managed fields whose value changes (UPDATE/SHOW), with old and new values for previews.
    changes: tuple[str, ...] = ()
    old: dict = field(default_factory=dict)
    needs_photo: bool = False  # a new photo must be uploaded (CREATE, or the photo changed)
    from_album: int | None = None  # MOVE_ALBUM / UPDATE: the VK album to leave
    to_album_group: str | None = None  # Evotor group whose album to join
    # The hash the link stores once an op with a payload succeeded (over the managed fields as
    # transform.managed_fields counts them), and "make the item available again" (SHOW, or
    # ADOPT of a hidden item that is wanted visible).
    payload_hash: str = ""
    unhide: bool = False


class AlbumAction(enum.StrEnum):
    CREATE = "create"
    RENAME = "rename"
    DELETE = "delete"  # emptied: no published product of the group left


@dataclass(frozen=True, slots=True)
class AlbumOp:
    action: AlbumAction
    group_id: str
    title: str
    vk_album_id: int | None = None


@dataclass
class SyncPlan:
    items: list[ItemOp] = field(default_factory=list)
    albums: list[AlbumOp] = field(default_factory=list)

    def of(self, *actions: Action) -> list[ItemOp]:
        return [op for op in self.items if op.action in actions]

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = {a.value: 0 for a in Action}
        for op in self.items:
            counts[op.action.value] += 1
        return counts

    @property
    def writes(self) -> int:
        """Item and album operations that would write to VK."""
        quiet = {Action.UNCHANGED, Action.SKIP, Action.INVALID}
        return sum(1 for op in self.items if op.action not in quiet) + len(self.albums)
