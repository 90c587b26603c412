"""Crash safety: a run killed after any VK call, rerun, ends exactly like an uninterrupted run.

The kill is simulated where it hurts most: the k-th request reaches VK (which applies it) and
the worker dies before reading the reply. A BaseException, so no handler of ours can swallow it.
"""

from __future__ import annotations

import threading
from collections import Counter
from decimal import Decimal

import pytest
import requests

from apps.connections import providers
from apps.sandbox.models import VkAlbumItem, VkMarketItem
from apps.sandbox.services.world import inject_fault, make_group, make_vk_world
from apps.sync import lease
from apps.sync.models import AlbumLink, ProductLink, SyncConfig, SyncJob
from apps.sync.services import Clients, run_sync

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PRODUCTS = 100


class Killed(BaseException):
    """The worker process died."""


class DyingSession(requests.Session):
    """Sends the k-th request, then dies before the reply is read."""

    def __init__(self, die_after: int | None) -> None:
        super().__init__()
        self.die_after = die_after
        self.sent = 0

    def request(self, *args, **kwargs):
        response = super().request(*args, **kwargs)
        self.sent += 1
        if self.die_after is not None and self.sent >= self.die_after:
            raise Killed(f"killed after request {self.sent}")
        return response


def _client(shop, session):
    return providers.vk_client(shop.user.vk_connection.access_token, session=session)


def _catalog(shop, count: int = PRODUCTS):
    groups = [make_group(shop.store, name=f"Группа {n}") for n in range(4)]
    for n in range(count):
        shop.product(name=f"Товар номер {n:03d}", price=Decimal(100 + n),
                     parent_id=groups[n % 4].evotor_id)


def _state(group) -> tuple[Counter, dict, set]:
    live = VkMarketItem.objects.filter(group=group, is_removed=False)
    skus = Counter(live.values_list("sku", flat=True))
    values = {i.sku: (i.title, i.price, i.is_hidden) for i in live}
    albums = set(
        VkAlbumItem.objects.filter(item__in=live).values_list("album__title", "item__sku")
    )
    return skus, values, albums


def _fresh_community(shop):
    """A new, empty community for the next attempt (and no memory of the previous one)."""
    world = make_vk_world()
    connection = shop.user.vk_connection
    connection.group_id, connection.access_token = world.group_id, world.access_token
    connection.save()
    return world


def test_a_run_killed_after_any_vk_call_converges_without_duplicates_or_orphans(shop):
    _catalog(shop)
    clean = DyingSession(None)
    reference = shop.sync(clients=Clients(vk=_client(shop, clean)))
    assert reference.status == SyncJob.Status.SUCCESS, reference.error_summary
    expected_skus, expected_values, expected_albums = _state(shop.group)
    assert len(expected_skus) == PRODUCTS and set(expected_skus.values()) == {1}
    calls = clean.sent

    for k in range(1, calls + 1):
        world = _fresh_community(shop)
        with pytest.raises(Killed):
            run_sync(shop.user, "manual", clients=Clients(vk=_client(shop, DyingSession(k))))
        # The worker is gone; its lease runs out before the next run.
        SyncConfig.objects.filter(user=shop.user).update(lease_owner="x", lease_expires_at=None)
        job = shop.sync()
        assert job.status == SyncJob.Status.SUCCESS, (k, job.error_summary)

        skus, values, albums = _state(world.group)
        assert skus == expected_skus, f"k={k}: duplicates or missing items"
        assert values == expected_values, f"k={k}"
        assert albums == expected_albums, f"k={k}"
        known = set(
            ProductLink.objects.filter(vk_group_id=world.group_id, vk_item_id__isnull=False)
            .values_list("vk_item_id", flat=True)
        )
        live_ids = set(VkMarketItem.objects.filter(group=world.group, is_removed=False)
                       .values_list("pk", flat=True))
        assert len(known) == len(live_ids) == PRODUCTS, f"k={k}: orphans"
        assert not SyncJob.objects.filter(user=shop.user, status="running").exists()
        assert AlbumLink.objects.filter(vk_group_id=world.group_id).count() == 4


def test_a_trigger_during_a_run_is_served_by_the_holder_not_lost(shop, catalog):
    config = SyncConfig.objects.get(user=shop.user)
    assert lease.claim(config.pk, "another-run")

    assert run_sync(shop.user, "manual") is None  # the holder will serve it
    lease.request(config.pk, "webhook")
    assert not lease.release(config.pk, "another-run")  # a trigger is pending: run again
    lease.force_release(config.pk, "another-run")

    job = shop.sync()
    assert job.items_created == 5
    assert SyncConfig.objects.get(pk=config.pk).requested_at is None


def test_two_runs_started_at_once_never_duplicate(shop, catalog):
    start = threading.Barrier(2)
    jobs, errors = [], []

    def worker():
        try:
            start.wait()
            jobs.append(run_sync(shop.user, "manual"))
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert not errors
    assert Counter(shop.items().values_list("sku", flat=True)) == Counter(
        p.evotor_id for p in catalog.values()
    )
    done = [job for job in jobs if job is not None]
    assert sum(job.items_created for job in done) == 5


def test_transient_vk_faults_converge_with_truthful_counts(shop):
    """A fifth of VK's answers are 6, 9, 10 or HTTP 5xx, at random: the catalogue still
    converges, with no duplicate, and every run's counts add up to what VK shows."""
    _catalog(shop, 40)
    for code in (6, 9, 10):
        inject_fault("vk", "*", count=None, error_code=code, probability=0.05)
    inject_fault("vk", "*", count=None, http_status=502, probability=0.05)

    runs = [shop.sync()]
    while runs[-1].status != SyncJob.Status.SUCCESS and len(runs) < 6:
        runs.append(shop.sync())

    assert runs[-1].status == SyncJob.Status.SUCCESS, [(r.status, r.error_summary) for r in runs]
    skus = Counter(shop.items().values_list("sku", flat=True))
    assert len(skus) == 40 and set(skus.values()) == {1}
    assert sum(job.items_created for job in runs) == 40
    for job in runs:
        partial = job.item_errors.exists()
        assert (job.status == SyncJob.Status.PARTIAL) == (partial and job.status != "failed")
    assert set(ProductLink.objects.values_list("state", flat=True)) == {"published"}


class LosingSession(requests.Session):
    """VK applies the first batch of market.add, and its reply is lost on the way back."""

    lost = False

    def request(self, method, url, *args, **kwargs):
        response = super().request(method, url, *args, **kwargs)
        code = (kwargs.get("data") or {}).get("code", "")
        if "market.add(" in code and not self.lost:
            self.lost = True
            raise requests.ReadTimeout("the reply was lost")
        return response


def test_a_lost_reply_to_market_add_is_recovered_in_the_same_run(shop, catalog):
    session = LosingSession()

    job = shop.sync(clients=Clients(vk=_client(shop, session)))

    assert session.lost
    assert job.status == SyncJob.Status.SUCCESS, job.error_summary
    assert job.items_created == 5
    assert Counter(shop.items().values_list("sku", flat=True)) == Counter(
        p.evotor_id for p in catalog.values()
    )
