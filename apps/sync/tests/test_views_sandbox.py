"""The sync pages against the sandbox over real HTTP: the preview shows old → new and writes
nothing; Sync now runs the real task (inline in tests) and its page shows the outcome."""

from __future__ import annotations

from decimal import Decimal

import pytest

from apps.sandbox.models import VkMarketItem
from apps.sync.models import SyncConfig, SyncFilter, SyncJob

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def published(shop, catalog, client):
    job = shop.sync()
    assert job.status == SyncJob.Status.SUCCESS, job.error_summary
    shop.user.language = "en"
    shop.user.save(update_fields=["language"])
    client.force_login(shop.user)
    return shop


def _vk_state(shop) -> list[tuple]:
    return list(VkMarketItem.objects.filter(group=shop.group).order_by("pk").values_list(
        "pk", "title", "price", "description", "is_removed", "is_hidden"))


def test_preview_shows_old_and_new_and_writes_nothing(published, catalog, client):
    shop = published
    SyncConfig.objects.filter(pk=shop.config.pk).update(markup_percent=Decimal(10))
    bakery = catalog["croissant"].parent_id
    SyncFilter.objects.create(config=shop.config, entity_type="group", entity_id=bakery,
                              filter_mode="exclude")
    before, jobs = _vk_state(shop), SyncJob.objects.count()

    response = client.get("/sync/preview")

    assert response.status_code == 200
    tiles = {t["name"]: t["count"] for t in response.context["tiles"]}
    assert (tiles["update"], tiles["hide"], tiles["create"]) == (3, 2, 0)
    rows = {row.name: row for row in response.context["rows"]}
    coffee = rows["Кофе по-венски 0,3"]
    assert coffee.action == "update"
    price = next(c for c in coffee.changes if c.field == "price")
    assert (price.old, price.new) == ("149,90 ₽", "164,89 ₽")
    assert rows["Круассан с миндалём"].action == "hide"
    assert rows["Круассан с миндалём"].reason == "its group is excluded"
    body = response.content.decode()
    assert "149,90 ₽" in body and "164,89 ₽" in body
    assert _vk_state(shop) == before and SyncJob.objects.count() == jobs


def test_sync_now_runs_and_its_page_shows_the_outcome(published, catalog, client):
    shop = published
    SyncConfig.objects.filter(pk=shop.config.pk).update(markup_percent=Decimal(10))

    response = client.post("/sync/run")

    job = SyncJob.objects.filter(user=shop.user).first()
    assert response.status_code == 302 and response["Location"] == f"/sync/jobs/{job.pk}"
    assert job.status == SyncJob.Status.SUCCESS and job.items_updated == 5
    assert shop.item(catalog["coffee"]).price == 16489
    progress = client.get(f"/sync/jobs/{job.pk}/progress").json()
    assert progress["finished"] and progress["percent"] == 100
    assert progress["counts"]["updated"] == 5
