"""Fixtures for the sync: a merchant connected to the sandbox, served over real HTTP.

The sandbox runs in the live server (its own thread, the same test database), so the executor
talks to VK and Evotor stand-ins through real sockets, exactly as in production. Clients built
by providers never back off or pace here: the sandbox's rate limits are lifted instead.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.servers.basehttp import WSGIRequestHandler

from apps.connections import providers
from apps.connections.clients import RetryPolicy
from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
from apps.sandbox.models import EvotorProduct, EvotorStore, VkGroup, VkMarketItem
from apps.sandbox.services.world import (
    VkWorld,
    make_evotor_account,
    make_group,
    make_product,
    make_store,
    make_vk_world,
    set_config,
)
from apps.sync.models import SyncConfig, SyncJob
from apps.sync.services import run_sync

CATEGORY = 20001

# The live server writes headers and body separately; with Nagle's algorithm on, each request
# then waits for a delayed ACK (~40 ms). Real servers (gunicorn) do not pay that.
WSGIRequestHandler.disable_nagle_algorithm = True


@pytest.fixture(autouse=True)
def quick_clients(monkeypatch):
    """No real waiting between retries; a short retry budget so faults surface fast."""
    original = providers._options

    def quick(base_url: str, interactive: bool, overrides: dict[str, Any]) -> dict[str, Any]:
        options = original(base_url, interactive, overrides)
        return {**options, "retry": RetryPolicy(max_attempts=3, base_delay=0.0, max_delay=0.0),
                "sleep": lambda seconds: None}

    monkeypatch.setattr(providers, "_options", quick)


@dataclass
class Shop:
    """A merchant connected to a sandbox Evotor store and a sandbox VK community."""

    user: Any
    store: EvotorStore
    vk: VkWorld
    config: SyncConfig

    @property
    def group(self) -> VkGroup:
        return self.vk.group

    def product(self, **fields: Any) -> EvotorProduct:
        return make_product(self.store, **fields)

    def items(self, *, live_only: bool = True):
        items = VkMarketItem.objects.filter(group=self.group)
        return items.filter(is_removed=False) if live_only else items

    def item(self, product: EvotorProduct) -> VkMarketItem:
        return self.items().get(sku=product.evotor_id)

    def sync(self, trigger: str = SyncJob.Trigger.MANUAL, **kwargs: Any) -> SyncJob:
        job = run_sync(self.user, trigger, **kwargs)
        assert job is not None
        return job


@pytest.fixture
def sandbox(live_server, settings):
    base = live_server.url
    settings.EVOTOR_API_URL = f"{base}/sandbox/evotor"
    settings.VK_API_URL = f"{base}/sandbox/vk"
    settings.VK_ID_URL = f"{base}/sandbox/vkid"
    settings.SITE_URL = base
    settings.SYNC_DEBOUNCE_SECONDS = 0
    settings.SYNC_DEBOUNCE_MAX_SECONDS = 0
    set_config(vk_user_rate=10_000, vk_group_rate=10_000, evotor_rate_limit=100_000)
    return base


def connect(user, *, store_name: str = "Магазин на Ленина", vk: VkWorld | None = None) -> Shop:
    account = make_evotor_account()
    store = make_store(account, name=store_name)
    vk = vk or make_vk_world()
    evotor = EvotorConnection(user=user, evotor_user_id=account.user_id,
                              state=ConnectionState.ONLINE)
    evotor.cloud_token = account.token
    evotor.save()
    connection = VkConnection(
        user=user, connection_type=VkConnection.Type.MANUAL, group_id=vk.group_id,
        group_name=vk.group.name, state=ConnectionState.ONLINE,
    )
    connection.access_token = vk.access_token
    connection.save()
    config, _ = SyncConfig.objects.get_or_create(user=user)
    config.is_enabled = True
    config.vk_category_id = CATEGORY
    config.save()
    return Shop(user, store, vk, config)


@pytest.fixture
def shop(sandbox, merchant) -> Shop:
    return connect(merchant)


@pytest.fixture
def catalog(shop: Shop) -> dict[str, EvotorProduct]:
    """Two groups, five products: the everyday shape of a small coffee shop."""
    drinks = make_group(shop.store, name="Напитки")
    bakery = make_group(shop.store, name="Выпечка")
    return {
        "coffee": shop.product(name="Кофе по-венски 0,3", price=Decimal("149.90"),
                               parent_id=drinks.evotor_id),
        "tea": shop.product(name="Чай чёрный с бергамотом", price=90, parent_id=drinks.evotor_id),
        "croissant": shop.product(name="Круассан с миндалём", price=120,
                                  parent_id=bakery.evotor_id),
        "bun": shop.product(name="Булочка с корицей", price=75, parent_id=bakery.evotor_id),
        "water": shop.product(name="Вода питьевая 0,5", price=50),
    }


# --- browser tests (apps/sync/tests/browser.py) -------------------------------------------------


@pytest.fixture
def shots():
    from apps.sync.tests.browser import screenshot_folder

    return screenshot_folder()


@pytest.fixture
def browser_page(live_server, monkeypatch):
    """Needs the live server running (the page opens its URLs)."""
    from apps.sync.tests.browser import open_page

    yield from open_page(monkeypatch)
