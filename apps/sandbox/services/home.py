"""The sandbox home page's data and actions: who exists in the fake Evotor and VK, and the two
things a newcomer does by hand — install the app for a merchant, change a product's price.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Prefetch, Q

from apps.sandbox.models import (
    EvotorAccount,
    EvotorProduct,
    EvotorStore,
    OutboundDelivery,
    VkGroup,
    VkToken,
    VkUser,
)

from . import outbound
from .seed import change_product

# A select of a merchant's products stays usable; the rest are reachable by product id.
PRODUCTS_IN_SELECT = 200
TOKENS_SHOWN = 5
# A click in the browser should not wait for Evotor's three attempts with exp(N) pauses.
PAGE_DELIVERY = outbound.Delivery(attempts=1, timeout=10.0)


def mask(token: str) -> str:
    """``abcd1234…wxyz``: enough to tell tokens apart on screen."""
    if len(token) <= 12:
        return token[:2] + "…"
    return f"{token[:8]}…{token[-4:]}"


@dataclass(frozen=True)
class AccountRow:
    account: EvotorAccount
    stores: list[EvotorStore]
    product_count: int
    products: list[EvotorProduct]  # for the price-change select (first PRODUCTS_IN_SELECT)


@dataclass(frozen=True)
class VkUserRow:
    user: VkUser
    tokens: list[VkToken]  # newest first, at most TOKENS_SHOWN
    token_count: int
    groups: list[VkGroup]


def accounts() -> list[AccountRow]:
    """Evotor merchants with stores and product counts: 2 queries, plus one per merchant for
    its product select (a handful of merchants in a development sandbox)."""
    rows = (
        EvotorAccount.objects.annotate(product_count=Count("stores__products"))
        .prefetch_related(Prefetch("stores", queryset=EvotorStore.objects.order_by("pk")))
        .order_by("pk")
    )
    result = []
    for account in rows:
        products = EvotorProduct.objects.filter(store__account=account).only(
            "evotor_id", "name", "price", "store_id"
        )
        result.append(
            AccountRow(
                account=account,
                stores=list(account.stores.all()),
                product_count=account.product_count,
                products=list(products.order_by("name", "pk")[:PRODUCTS_IN_SELECT]),
            )
        )
    return result


def vk_users() -> list[VkUserRow]:
    """VK users with their newest tokens and the communities they manage (3 queries)."""
    users = VkUser.objects.prefetch_related(
        Prefetch("tokens", queryset=VkToken.objects.order_by("-pk")),
        Prefetch("managed", queryset=VkGroup.objects.order_by("vk_id")),
    ).order_by("pk")
    rows = []
    for user in users:
        tokens = list(user.tokens.all())
        rows.append(
            VkUserRow(
                user=user,
                tokens=tokens[:TOKENS_SHOWN],
                token_count=len(tokens),
                groups=list(user.managed.all()),
            )
        )
    return rows


def communities() -> list[VkGroup]:
    """Every community with its live item count (``live_items``)."""
    live = Count("items", filter=Q(items__is_removed=False))
    return list(VkGroup.objects.annotate(live_items=live).order_by("vk_id"))


def install(user_id: str, *, new_token: bool = False) -> OutboundDelivery:
    """Install the app for the merchant ``user_id``. Raises LookupError / ValueError."""
    account = EvotorAccount.objects.filter(user_id=user_id).first()
    if account is None:
        raise LookupError(f"no sandbox Evotor user {user_id}")
    return outbound.install_app(account, new_token=new_token, delivery=PAGE_DELIVERY)


def change_price(product_id: str, price: Decimal) -> OutboundDelivery:
    """Set the product's price and send the ``ProductEvent updated`` webhook, as
    ``manage.py sandbox_evotor event <id> --price`` does. Raises LookupError / ValueError."""
    product = (
        EvotorProduct.objects.select_related("store__account").filter(evotor_id=product_id).first()
    )
    if product is None:
        raise LookupError(f"no sandbox product {product_id}")
    change_product(product, price=price)
    return outbound.send_product_event(product, "updated", delivery=PAGE_DELIVERY)
