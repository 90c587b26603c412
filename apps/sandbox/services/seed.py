"""``sandbox_seed``: a realistic Evotor catalogue and a VK community ready to publish into.

Built with bulk_create (a handful of queries per store) so 10,000 products take seconds. The
catalogue carries the quirks real payloads have: weight goods, services without quantity,
negative stock, ``allow_to_sell=false``, modification groups with ``attributes``, empty strings,
missing optional fields, unknown product types, over-long and too-short names.
"""

from __future__ import annotations

import math
import random
import secrets
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from apps.sandbox.models import (
    EvotorAccount,
    EvotorProduct,
    EvotorProductGroup,
    EvotorProductImage,
    EvotorStore,
    VkGroup,
    VkGroupManager,
    VkToken,
)

from . import seed_data as words
from .images import evotor_image_size
from .world import (
    VkWorld,
    evotor_store_id,
    evotor_user_id,
    evotor_uuid,
    make_vk_community,
    make_vk_token,
    make_vk_user,
)

BATCH = 1000
CATALOGUE_START = datetime(2024, 1, 10, 9, 0, tzinfo=UTC)


@dataclass
class SeedResult:
    account: EvotorAccount
    stores: list[EvotorStore]
    vk: VkWorld
    groups: int = 0
    products: int = 0

    def as_json(self) -> dict[str, Any]:
        """Exactly what scripts read (the shape is a contract, do not add keys)."""
        return {
            "evotor": {
                "token": self.account.token,
                "user_id": self.account.user_id,
                "store_ids": [store.evotor_id for store in self.stores],
            },
            "vk": {"user_token": self.vk.token.token, "group_id": self.vk.group.vk_id},
        }


def seed(
    *,
    stores: int = 1,
    groups: int = 10,
    products: int = 100,
    seed: int | None = None,
    evotor_token: str | None = None,
    evotor_user_id: str | None = None,
    vk_token: str | None = None,
    vk_group_id: int | None = None,
) -> SeedResult:
    """Create (or, for given ids/tokens, replace) a merchant's catalogue and a VK community."""
    if stores < 1 or groups < 0 or products < 0:
        raise ValueError("need at least one store and non-negative group/product counts")
    # Fake data, repeatable with --seed: a plain PRNG is what we want (no secrets derive from it).
    rng = random.Random(seed)  # noqa: S311
    with transaction.atomic():
        account = _evotor_account(evotor_user_id, evotor_token, rng)
        catalogue = _Catalogue(rng, timezone.now())
        store_rows = [catalogue.store(account, index) for index in range(stores)]
        for index, store in enumerate(store_rows):
            catalogue.fill(store, _share(groups, stores, index), _share(products, stores, index))
        vk = _vk_world(vk_group_id, vk_token)
    return SeedResult(account, store_rows, vk, catalogue.group_count, catalogue.product_count)


def _share(total: int, parts: int, index: int) -> int:
    return total // parts + (1 if index < total % parts else 0)


def _evotor_account(user_id: str | None, token: str | None, rng: random.Random) -> EvotorAccount:
    """A fresh account, or the named one with its catalogue wiped (re-seeding is idempotent)."""
    existing = None
    if user_id:
        existing = EvotorAccount.objects.filter(user_id=user_id).first()
    if existing is None and token:
        existing = EvotorAccount.objects.filter(token=token).first()
    if existing is None:
        return EvotorAccount.objects.create(
            user_id=user_id or evotor_user_id(rng), token=token or str(uuid.uuid4())
        )
    existing.stores.all().delete()
    existing.token = token or existing.token
    existing.is_revoked = False
    existing.save(update_fields=["token", "is_revoked"])
    return existing


def _vk_world(group_id: int | None, token: str | None) -> VkWorld:
    group = VkGroup.objects.filter(vk_id=group_id).first() if group_id else None
    if group is None:
        user = make_vk_user()
        group = make_vk_community(
            group_id=group_id, name="EvoSync демо", manager=user, description="Витрина для демо"
        )
    else:
        group.market_enabled = True
        group.save(update_fields=["market_enabled"])
        manager = VkGroupManager.objects.filter(group=group).select_related("user").first()
        user = manager.user if manager else make_vk_user()
        if manager is None:
            VkGroupManager.objects.create(group=group, user=user, admin_level=3)
    row = VkToken.objects.filter(token=token).first() if token else None
    if row is None:
        row = make_vk_token(user=user, token=token)
    else:
        row.user, row.kind, row.is_revoked, row.expires_at = user, VkToken.USER, False, None
        row.save()
    return VkWorld(group=group, user=user, token=row)


class _Catalogue:
    """Generates one merchant's stores, groups, products and images."""

    def __init__(self, rng: random.Random, now: datetime) -> None:
        self.rng = rng
        self.latest = now - timedelta(hours=1)
        self.group_count = 0
        self.product_count = 0
        self._root_id: str | None = None

    def moment(self) -> tuple[datetime, datetime]:
        created = CATALOGUE_START + timedelta(minutes=self.rng.randrange(0, 300 * 24 * 60))
        updated = created + timedelta(minutes=self.rng.randrange(0, 200 * 24 * 60))
        return created, min(updated, self.latest)

    def store(self, account: EvotorAccount, index: int) -> EvotorStore:
        created, updated = self.moment()
        address = None
        # Some stores have no address (docs/evotor.md#stores-and-groups).
        if self.rng.random() > 0.2:
            address = (
                f"Россия, г. {self.rng.choice(words.CITIES)}, "
                f"{self.rng.choice(words.STREETS)}, {self.rng.randrange(1, 120)}"
            )
        return EvotorStore.objects.create(
            account=account,
            evotor_id=evotor_store_id(created, self.rng),
            name=words.STORE_NAMES[index % len(words.STORE_NAMES)]
            + (
                f" {index // len(words.STORE_NAMES) + 1}" if index >= len(words.STORE_NAMES) else ""
            ),
            address=address,
            created_at=created,
            updated_at=updated,
        )

    def fill(self, store: EvotorStore, groups: int, products: int) -> None:
        self._root_id = None
        group_rows = [self._group(store, i, groups) for i in range(groups)]
        EvotorProductGroup.objects.bulk_create(group_rows, batch_size=BATCH)
        product_rows = [self._product(store, i, group_rows) for i in range(products)]
        EvotorProduct.objects.bulk_create(product_rows, batch_size=BATCH)
        self._images(store, product_rows)
        self.group_count += len(group_rows)
        self.product_count += len(product_rows)

    # --- groups ----------------------------------------------------------------------------

    def _group(self, store: EvotorStore, index: int, total: int) -> EvotorProductGroup:
        rng = self.rng
        created, updated = self.moment()
        names = words.GROUP_NAMES
        name = names[index % len(names)] + (
            f" {index // len(names) + 1}" if index >= len(names) else ""
        )
        group = EvotorProductGroup(
            store=store,
            evotor_id=evotor_uuid(rng),
            name=name,
            created_at=created,
            updated_at=updated,
        )
        # Every 12th group (from the 5th on) is a modification group, every 7th is nested.
        if total >= 5 and index % 12 == 4:
            base = rng.choice(words.VARIANT_BASES)
            attr_name, choices = rng.choice(words.VARIANT_ATTRIBUTES)
            group.name = f"{base} (модификации)"
            group.barcodes = [ean13(rng)]
            group.attributes = [
                {
                    "id": evotor_uuid(rng),
                    "name": attr_name,
                    "choices": [{"id": evotor_uuid(rng), "name": c} for c in choices],
                }
            ]
            group.variant_base = base  # type: ignore[attr-defined]
        if index % 7 == 3 and self._root_id:
            group.parent_id = self._root_id
        elif not group.attributes:
            # Only plain groups hold subgroups: a modification group holds variants only.
            self._root_id = group.evotor_id
        return group

    # --- products --------------------------------------------------------------------------

    def _product(
        self, store: EvotorStore, index: int, groups: list[EvotorProductGroup]
    ) -> EvotorProduct:
        rng = self.rng
        created, updated = self.moment()
        group = rng.choice(groups) if groups and rng.random() > 0.05 else None
        product = EvotorProduct(
            store=store,
            evotor_id=evotor_uuid(rng),
            parent_id=group.evotor_id if group else None,
            tax=rng.choice(words.TAXES),
            code=str(index + 1) if rng.random() > 0.3 else None,
            created_at=created,
            updated_at=updated,
        )
        if group is not None and group.attributes:
            self._variant(product, group, index)
        else:
            self._kind(product)
        self._optional_texts(product)
        self._quirks(product)
        return product

    def _variant(self, product: EvotorProduct, group: EvotorProductGroup, index: int) -> None:
        attribute = group.attributes[0]
        choice = attribute["choices"][index % len(attribute["choices"])]
        product.name = f"{group.variant_base} {choice['name']}"  # type: ignore[attr-defined]
        product.attributes_choices = {attribute["id"]: choice["id"]}
        self._piece(product)

    def _kind(self, product: EvotorProduct) -> None:
        roll = self.rng.random()
        if roll < 0.62:
            self._piece(product)
        elif roll < 0.74:
            self._weighed(product, words.WEIGHT_NOUNS, "кг")
        elif roll < 0.80:
            self._weighed(product, words.LIQUID_NOUNS, "л")
        elif roll < 0.86:
            product.type, product.measure_name = "SERVICE", "ед"
            product.name = self.rng.choice(words.SERVICE_NAMES)
            product.price = self._price(150, 3000)
        elif roll < 0.91:
            self._alcohol(product)
        elif roll < 0.94:
            self._piece(product)
            product.type = self.rng.choice(words.NEW_TYPES)
        else:
            self._piece(product)
            product.measure_name = self.rng.choice(words.OTHER_MEASURES)

    def _piece(self, product: EvotorProduct) -> None:
        rng = self.rng
        parts = (
            rng.choice(words.PIECE_NOUNS),
            rng.choice(words.PIECE_QUALIFIERS),
            rng.choice(words.PIECE_SIZES),
        )
        product.name = product.name or " ".join(p for p in parts if p)
        product.measure_name = "шт"
        product.price = self._price(29, 2990)
        product.cost_price = (product.price * Decimal("0.6")).quantize(Decimal("0.01"))
        product.quantity = Decimal(rng.randrange(0, 200))

    def _weighed(self, product: EvotorProduct, nouns: tuple[str, ...], measure: str) -> None:
        product.name = self.rng.choice(nouns)
        product.measure_name = measure
        product.price = self._price(59, 1890)
        product.cost_price = (product.price * Decimal("0.55")).quantize(Decimal("0.001"))
        product.quantity = Decimal(self.rng.randrange(0, 80_000)) / 1000

    def _alcohol(self, product: EvotorProduct) -> None:
        self._piece(product)
        product.name = self.rng.choice(words.ALCOHOL_NAMES)
        product.type = "ALCOHOL_NOT_MARKED"
        product.extra = {
            "alcohol_by_volume": self.rng.choice([4.5, 12, 13.5, 40]),
            "alcohol_product_kind_code": self.rng.randrange(200, 500),
            "tare_volume": self.rng.choice([0.5, 0.75, 0.45]),
        }

    def _price(self, low: int, high: int) -> Decimal:
        rubles = self.rng.randrange(low, high)
        return Decimal(rubles) + self.rng.choice(
            [Decimal(0), Decimal(0), Decimal("0.5"), Decimal("0.9")]
        )

    def _optional_texts(self, product: EvotorProduct) -> None:
        rng = self.rng
        # Present-but-empty, absent, or filled: all three occur in real payloads
        # (docs/evotor.md#conventions).
        roll = rng.random()
        product.description = (
            "" if roll < 0.4 else None if roll < 0.6 else rng.choice(words.DESCRIPTIONS)
        )
        roll = rng.random()
        product.article_number = (
            "" if roll < 0.3 else None if roll < 0.5 else f"ART-{rng.randrange(10**5):05d}"
        )
        product.barcodes = (
            [] if rng.random() < 0.3 else [ean13(rng)] if rng.random() < 0.9 else None
        )
        if rng.random() < 0.3:
            product.extra = {
                **(product.extra or {}),
                "classification_code": "",
                "quantity_in_package": 0,
            }

    def _quirks(self, product: EvotorProduct) -> None:
        rng = self.rng
        if product.type != "SERVICE" and rng.random() < 0.03:
            product.quantity = -Decimal(rng.randrange(1, 50))
        if rng.random() < 0.03:
            product.allow_to_sell = False
        roll = rng.random()
        if roll < 0.005:
            product.name = rng.choice(["Чай", "Сок", "Хлеб"])  # shorter than VK's 4 letters
        elif roll < 0.01:
            product.name = f"{product.name} — " + "очень длинное название для проверки обрезки " * 3
        elif roll < 0.015:
            product.price = Decimal(0)

    # --- images ----------------------------------------------------------------------------

    def _images(self, store: EvotorStore, products: list[EvotorProduct]) -> None:
        chosen = [p.evotor_id for p in products if p.type != "SERVICE" and self.rng.random() < 0.1]
        rows = []
        for start in range(0, len(chosen), BATCH):
            ids = EvotorProduct.objects.filter(
                store=store, evotor_id__in=chosen[start : start + BATCH]
            )
            for pk, created in ids.values_list("pk", "created_at"):
                image_id = evotor_uuid(self.rng)
                rows.append(
                    EvotorProductImage(
                        product_id=pk,
                        evotor_id=image_id,
                        file_size=evotor_image_size(image_id),
                        created_at=created,
                        updated_at=created,
                    )
                )
        EvotorProductImage.objects.bulk_create(rows, batch_size=BATCH)


def ean13(rng: random.Random) -> str:
    digits = [2, 0, 0] + [rng.randrange(10) for _ in range(9)]
    check = (10 - sum(d * (3 if i % 2 else 1) for i, d in enumerate(digits)) % 10) % 10
    return "".join(map(str, digits)) + str(check)


# --- incremental-refresh benchmarks -----------------------------------------------------------


@dataclass
class TouchResult:
    touched: int
    since: int  # epoch ms to pass as ``since`` to see exactly the touched products
    product_ids: list[str] = field(default_factory=list)


def touch_products(
    percent: float, *, account: EvotorAccount | None = None, seed: int | None = None
) -> TouchResult:
    """Change ``percent`` % of the products (price +1 ₽, ``updated_at`` = now)."""
    if not 0 <= percent <= 100:
        raise ValueError("percent must be 0..100")
    products = EvotorProduct.objects.all()
    if account is not None:
        products = products.filter(store__account=account)
    rows = list(products.values_list("pk", "evotor_id"))
    rng = random.Random(seed if seed is not None else secrets.randbits(32))  # noqa: S311
    chosen = rng.sample(rows, min(len(rows), math.ceil(len(rows) * percent / 100)))
    now = timezone.now()
    for start in range(0, len(chosen), BATCH):
        pks = [pk for pk, _id in chosen[start : start + BATCH]]
        EvotorProduct.objects.filter(pk__in=pks).update(updated_at=now, price=F("price") + 1)
    return TouchResult(
        touched=len(chosen),
        since=int(now.timestamp() * 1000),
        product_ids=[evotor_id for _pk, evotor_id in chosen],
    )


def change_product(product: EvotorProduct, **changes: Any) -> EvotorProduct:
    """Edit a product as a cashier would (name, price, quantity, ...): ``updated_at`` moves on."""
    allowed = {"name", "price", "quantity", "allow_to_sell", "description", "measure_name"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"cannot change {', '.join(sorted(unknown))}")
    for name, value in changes.items():
        setattr(product, name, value)
    product.updated_at = timezone.now()
    product.save(update_fields=[*changes, "updated_at"])
    return product
