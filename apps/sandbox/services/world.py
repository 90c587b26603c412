"""Public helpers to set up sandbox state in tests, demos and benchmarks.

Other apps' tests may import these (the product code never does). Each helper creates rows
directly, with realistic identifiers, and returns them:

    vk = make_vk_world()                      # community + managing user + user token
    photo = make_vk_photo(vk.group)           # a saved, unattached product photo
    account = make_evotor_account()           # an Evotor merchant with a cloud token
    store = make_store(account)
    make_product(store, name="Кофе по-венски 0,3", price=Decimal("300"))
    make_products(store, 2500)                # bulk: plain goods for paging tests
"""

from __future__ import annotations

import random
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.utils import timezone

from apps.sandbox.models import (
    EvotorAccount,
    EvotorProduct,
    EvotorProductGroup,
    EvotorStore,
    VkGroup,
    VkGroupManager,
    VkMarketItem,
    VkPhoto,
    VkToken,
    VkUser,
)
from apps.sandbox.models.evotor import DEFAULT_EVOTOR_SCOPES

from .config import update_config
from .faults import FaultSpec, add_fault
from .images import sample_image

__all__ = [
    "VkWorld",
    "evotor_store_id",
    "evotor_user_id",
    "inject_fault",
    "make_evotor_account",
    "make_group",
    "make_product",
    "make_products",
    "make_store",
    "make_vk_community",
    "make_vk_item",
    "make_vk_photo",
    "make_vk_token",
    "make_vk_user",
    "make_vk_world",
    "sample_image",
    "set_config",
]

_rng = random.SystemRandom()
USER_SCOPES = "market groups photos"


# --- identifiers --------------------------------------------------------------------------------


def evotor_user_id(rng: random.Random | None = None) -> str:
    """``NN-NNNNNNNNNNNNNNN`` (docs/evotor.md#conventions)."""
    return f"01-{(rng or _rng).randrange(10**14, 10**15):015d}"


def evotor_store_id(created: datetime, rng: random.Random | None = None) -> str:
    """A date-prefixed, upper-case GUID such as ``20190315-7A1B-40C2-8095-3D6E11A0B7C4``."""
    tail = uuid.UUID(int=(rng or _rng).getrandbits(128)).hex.upper()
    return f"{created:%Y%m%d}-{tail[:4]}-{tail[4:8]}-{tail[8:12]}-{tail[12:24]}"


def evotor_uuid(rng: random.Random | None = None) -> str:
    """Product / group ids: lower-case UUID4."""
    return str(uuid.UUID(int=(rng or _rng).getrandbits(128), version=4))


# --- Evotor -------------------------------------------------------------------------------------


def make_evotor_account(
    *, user_id: str | None = None, token: str | None = None, scopes: str = DEFAULT_EVOTOR_SCOPES
) -> EvotorAccount:
    return EvotorAccount.objects.create(
        user_id=user_id or evotor_user_id(),
        token=token or str(uuid.uuid4()),
        scopes=scopes,
    )


def make_store(
    account: EvotorAccount, *, name: str = "Магазин на Ленина", **fields: Any
) -> EvotorStore:
    created = fields.pop("created_at", timezone.now())
    fields.setdefault("address", "Россия, г. Казань, ул. Ленина, 10")
    return EvotorStore.objects.create(
        account=account,
        evotor_id=fields.pop("evotor_id", None) or evotor_store_id(created),
        name=name,
        created_at=created,
        updated_at=fields.pop("updated_at", created),
        **fields,
    )


def make_group(store: EvotorStore, *, name: str = "Напитки", **fields: Any) -> EvotorProductGroup:
    fields.setdefault("evotor_id", evotor_uuid())
    return EvotorProductGroup.objects.create(store=store, name=name, **fields)


def make_product(
    store: EvotorStore,
    *,
    name: str = "Кофе по-венски 0,3",
    price: Decimal | int = 300,
    **fields: Any,
) -> EvotorProduct:
    fields.setdefault("evotor_id", evotor_uuid())
    fields.setdefault("quantity", Decimal("10"))
    fields.setdefault("cost_price", Decimal("120"))
    return EvotorProduct.objects.create(store=store, name=name, price=Decimal(price), **fields)


def make_products(
    store: EvotorStore,
    count: int,
    *,
    updated_at: datetime | None = None,
    parent: EvotorProductGroup | None = None,
) -> list[str]:
    """``count`` plain piece goods in one bulk insert; returns their Evotor ids in order."""
    moment = updated_at or datetime(2024, 5, 1, 12, 0, tzinfo=UTC)
    rows = [
        EvotorProduct(
            store=store,
            evotor_id=evotor_uuid(),
            parent_id=parent.evotor_id if parent else None,
            name=f"Товар №{index + 1}",
            price=Decimal(100 + index % 900),
            cost_price=Decimal(60),
            quantity=Decimal(index % 50),
            created_at=moment,
            updated_at=moment,
        )
        for index in range(count)
    ]
    EvotorProduct.objects.bulk_create(rows, batch_size=1000)
    return [row.evotor_id for row in rows]


# --- VK -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class VkWorld:
    """A community with its market on, a user who administers it, and that user's token."""

    group: VkGroup
    user: VkUser
    token: VkToken

    @property
    def group_id(self) -> int:
        return self.group.vk_id

    @property
    def access_token(self) -> str:
        return self.token.token


def make_vk_user(
    *, vk_id: int | None = None, first_name: str = "Анна", last_name: str = "Смирнова"
) -> VkUser:
    return VkUser.objects.create(
        vk_id=vk_id or _rng.randrange(100_000_000, 999_999_999),
        first_name=first_name,
        last_name=last_name,
    )


def make_vk_community(
    *,
    group_id: int | None = None,
    name: str = "Кофейня у Ленина",
    market_enabled: bool = True,
    manager: VkUser | None = None,
    admin_level: int = 3,
    **fields: Any,
) -> VkGroup:
    vk_id = group_id or _rng.randrange(100_000_000, 299_999_999)
    group = VkGroup.objects.create(
        vk_id=vk_id,
        name=name,
        screen_name=fields.pop("screen_name", f"club{vk_id}"),
        market_enabled=market_enabled,
        **fields,
    )
    if manager is not None:
        VkGroupManager.objects.create(group=group, user=manager, admin_level=admin_level)
    return group


def make_vk_token(
    *,
    user: VkUser | None = None,
    group: VkGroup | None = None,
    scopes: str = USER_SCOPES,
    token: str | None = None,
    expires_at: datetime | None = None,
) -> VkToken:
    """A user token (``user``) or a community token (``group``)."""
    kind = VkToken.GROUP if group is not None and user is None else VkToken.USER
    prefix = "vk1.g." if kind == VkToken.GROUP else "vk1.a."
    return VkToken.objects.create(
        token=token or prefix + secrets.token_urlsafe(48),
        kind=kind,
        user=user,
        group=group if kind == VkToken.GROUP else None,
        scopes=scopes,
        expires_at=expires_at,
    )


def make_vk_world(
    *,
    group_id: int | None = None,
    token: str | None = None,
    market_enabled: bool = True,
    scopes: str = USER_SCOPES,
    **group_fields: Any,
) -> VkWorld:
    user = make_vk_user()
    group = make_vk_community(
        group_id=group_id, market_enabled=market_enabled, manager=user, **group_fields
    )
    return VkWorld(
        group=group, user=user, token=make_vk_token(user=user, scopes=scopes, token=token)
    )


def make_vk_photo(
    group: VkGroup, *, width: int = 800, height: int = 800, saved: bool = True
) -> VkPhoto:
    """A product photo as if uploaded and saved (no image bytes: tests rarely need them)."""
    return VkPhoto.objects.create(
        group=group,
        width=width,
        height=height,
        sha=secrets.token_hex(20),
        upload_batch=uuid.uuid4().hex,
        is_saved=saved,
    )


def make_vk_item(group: VkGroup, *, photo: VkPhoto | None = None, **fields: Any) -> VkMarketItem:
    """A market item with its own main photo (made when not given)."""
    fields.setdefault("title", "Кофе по-венски 0,3")
    fields.setdefault("description", "Ароматный кофе с шапкой сливок")
    fields.setdefault("category_id", 20001)
    fields.setdefault("price", 30000)
    item = VkMarketItem.objects.create(group=group, **fields)
    photo = photo or make_vk_photo(group)
    VkPhoto.objects.filter(pk=photo.pk).update(item=item, position=0)
    return item


# --- knobs --------------------------------------------------------------------------------------


def set_config(**changes: Any) -> None:
    """Change sandbox limits and targets, e.g. ``set_config(vk_user_rate=2, vk_rate_window=60)``."""
    update_config(**changes)


def inject_fault(service: str, target: str = "*", **spec: Any):
    """``inject_fault("vk", "market.add", count=3, error_code=6)``; see :class:`FaultSpec`."""
    return add_fault(FaultSpec(service=service, target=target, **spec))
