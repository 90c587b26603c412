"""One refresh per merchant, decided by the lease row (conditional UPDATEs), and the pages'
"refreshing now" read from the same lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from apps.catalog import services
from apps.catalog.browse import refresh_status
from apps.catalog.models import CatalogRefresh, RefreshLease

pytestmark = pytest.mark.django_db


def refresh(user, client_factory, full=False):
    return services.refresh_catalog(user, full=full, client=client_factory())


def test_the_first_claim_creates_the_row_and_a_second_claimant_loses(merchant):
    assert services.claim_lease(merchant.pk, "a")
    assert not services.claim_lease(merchant.pk, "b")
    lease = RefreshLease.objects.get(user=merchant)
    assert lease.owner == "a" and lease.expires_at > timezone.now()


def test_only_the_holder_renews_or_releases(merchant):
    assert services.claim_lease(merchant.pk, "a")
    assert not services.renew_lease(merchant.pk, "b")
    services.release_lease(merchant.pk, "b")
    assert RefreshLease.objects.get(user=merchant).owner == "a"
    assert services.renew_lease(merchant.pk, "a")
    services.release_lease(merchant.pk, "a")
    assert RefreshLease.objects.get(user=merchant).owner == ""
    assert services.claim_lease(merchant.pk, "b")


def test_an_expired_lease_is_free(merchant):
    now = timezone.now()
    assert services.claim_lease(merchant.pk, "dead", now=now - services.LEASE_DURATION * 2)
    assert services.claim_lease(merchant.pk, "alive", now=now)
    # The dead holder cannot renew or release what is no longer its own.
    assert not services.renew_lease(merchant.pk, "dead")
    services.release_lease(merchant.pk, "dead")
    assert RefreshLease.objects.get(user=merchant).owner == "alive"


def test_leases_are_per_merchant(merchant, other_merchant):
    assert services.claim_lease(merchant.pk, "a")
    assert services.claim_lease(other_merchant.pk, "b")


def test_a_run_releases_the_lease_and_the_page_follows_it(
    merchant, connected, evotor, client_factory, monkeypatch
):
    evotor.add_store(1, products=2)
    seen = []
    original = services.apply_catalog

    def spy(run, fetched, previous):
        seen.append(refresh_status(merchant).running)
        return original(run, fetched, previous)

    monkeypatch.setattr(services, "apply_catalog", spy)
    run = refresh(merchant, client_factory, full=True)
    assert run.status == CatalogRefresh.Status.SUCCESS
    assert seen == [True]
    assert refresh_status(merchant).running is False
    assert RefreshLease.objects.get(user=merchant).owner == ""


def test_a_run_left_running_by_a_killed_worker(merchant, connected, evotor, client_factory):
    """Its record says running and its lease is unexpired: the page says refreshing and a new
    run is refused. Once the lease expires the page stops saying so, and the next run claims
    it and marks the dead run failed."""
    evotor.add_store(1, products=1)
    started = timezone.now() - timedelta(minutes=3)
    dead = CatalogRefresh.objects.create(user=merchant, full=True, started_at=started)
    assert services.claim_lease(merchant.pk, "killed-worker", now=started)
    assert refresh_status(merchant).running is True
    with pytest.raises(services.RefreshSkipped, match="already running"):
        refresh(merchant, client_factory)

    RefreshLease.objects.filter(user=merchant).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert refresh_status(merchant).running is False
    run = refresh(merchant, client_factory)
    assert run.status == CatalogRefresh.Status.SUCCESS, run.error
    dead.refresh_from_db()
    assert dead.status == CatalogRefresh.Status.FAILED
    assert dead.error == services.INTERRUPTED and dead.finished_at is not None


def test_a_run_that_lost_its_lease_writes_nothing_and_releases_nothing(
    merchant, connected, evotor, client_factory, monkeypatch
):
    evotor.add_store(1, products=3)
    real_fetch = services.fetch_catalog

    def slow_fetch(client, watermarks, *, heartbeat=None):
        fetched = real_fetch(client, watermarks, heartbeat=heartbeat)
        # The run stalled past its lease; another worker claimed it meanwhile.
        RefreshLease.objects.filter(user=merchant).update(
            owner="newcomer", expires_at=timezone.now() + services.LEASE_DURATION
        )
        return fetched

    monkeypatch.setattr(services, "fetch_catalog", slow_fetch)
    run = refresh(merchant, client_factory, full=True)
    assert run.status == CatalogRefresh.Status.FAILED and "another run" in run.error
    assert not merchant.products.exists()
    assert RefreshLease.objects.get(user=merchant).owner == "newcomer"


def test_the_lease_is_renewed_while_fetching(
    merchant, connected, evotor, client_factory, monkeypatch
):
    evotor.page_size = 1
    evotor.add_store(1, products=3)
    monkeypatch.setattr(services, "RENEW_AFTER", timedelta(0))
    renewals = []
    real_renew = services.renew_lease

    def counting(user_id, owner, *, now=None):
        renewals.append(owner)
        return real_renew(user_id, owner, now=now)

    monkeypatch.setattr(services, "renew_lease", counting)
    assert refresh(merchant, client_factory, full=True).status == CatalogRefresh.Status.SUCCESS
    # 1 store page + 1 group page + 3 product pages, then once more before applying.
    assert len(renewals) == 6 and len(set(renewals)) == 1


def test_an_unexpected_error_fails_the_run_and_frees_the_lease(
    merchant, connected, evotor, client_factory, monkeypatch
):
    evotor.add_store(1, products=1)

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(services, "apply_catalog", broken)
    with pytest.raises(RuntimeError):
        refresh(merchant, client_factory, full=True)
    run = CatalogRefresh.objects.get(user=merchant)
    assert run.status == CatalogRefresh.Status.FAILED and run.error == "disk full"
    assert refresh_status(merchant).running is False
