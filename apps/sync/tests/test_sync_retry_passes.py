"""VK's passing failures are tried again within the run (services._work): over real HTTP.

A pass that leaves goods failed only for a passing reason (VK 1/6/9/10, 5xx, a lost reply) or
that stopped on one is followed, after a short back-off, by another pass of the same run: the
plan is made afresh (a 'creating' link is adopted by sku, so nothing is added twice), goods
that failed for good are left out, and the one SyncJob counts what happened in the end.
"""

from __future__ import annotations

from collections import Counter
from decimal import Decimal

import pytest

from apps.sandbox.models import SandboxFault
from apps.sandbox.services.world import inject_fault, make_group, set_config
from apps.sync.models import ProductLink, SyncItemError, SyncJob

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def no_backoff(settings):
    settings.SYNC_RETRY_BACKOFF = 0
    settings.SYNC_RETRY_PASSES = 2


def _catalog(shop, count: int, *, groups: int = 2) -> None:
    parents = [make_group(shop.store, name=f"Группа {n}") for n in range(groups)]
    for n in range(count):
        shop.product(name=f"Товар номер {n:03d}", price=Decimal(100 + n),
                     parent_id=parents[n % groups].evotor_id if parents else None)


def _skus(shop) -> Counter:
    return Counter(shop.items().values_list("sku", flat=True))


def _one_run_converged(shop, job: SyncJob, count: int) -> None:
    assert SyncJob.objects.filter(user=shop.user).count() == 1
    assert job.status == SyncJob.Status.SUCCESS, (job.status, job.error_code, job.error_summary)
    skus = _skus(shop)
    assert len(skus) == count and set(skus.values()) == {1}
    assert job.items_created == count
    assert job.items_failed == 0
    assert not SyncItemError.objects.filter(job=job).exists()
    assert set(ProductLink.objects.values_list("state", flat=True)) == {"published"}


def test_items_failed_by_vk_overload_are_created_by_another_pass(shop):
    """VK answers 10 to a market.add inside execute more often than the client tries it: the
    run tries that good again and counts it created, not failed; its first error does not stay
    on the run."""
    _catalog(shop, 4)
    inject_fault("vk", "market.add", count=4 * 3, error_code=10)  # the client's three tries

    job = shop.sync()

    _one_run_converged(shop, job, 4)
    assert not SandboxFault.objects.filter(remaining__gt=0).exists()


def test_a_batch_answered_with_502_is_settled_in_the_same_run(shop):
    """An execute of writes is answered 502: VK may have done them, so the client does not
    repeat it; the run reads VK back and passes again; nothing is duplicated."""
    _catalog(shop, 6, groups=0)
    inject_fault("vk", "execute", count=1, http_status=502)

    job = shop.sync()

    _one_run_converged(shop, job, 6)


def test_lost_reply_of_a_batch_is_settled_in_the_same_run(shop, settings):
    """A request times out after VK did the work (the reply is lost): the client must not
    repeat it, the run reads VK back and passes again; nothing is duplicated."""
    _catalog(shop, 8, groups=0)
    set_config(timeout_sleep=1.5)
    settings.HTTP_TIMEOUT_SECONDS = 1
    inject_fault("vk", "execute", count=2, timeout=True)

    job = shop.sync()

    _one_run_converged(shop, job, 8)


def test_a_run_stopped_by_vk_being_down_goes_on_after_a_pause(shop):
    """VK answers 503 to every try of the read-back: the first pass stops (vk_unavailable)
    and the second one does the work; the run is not 'failed'."""
    _catalog(shop, 5)
    inject_fault("vk", "market.get", count=3, http_status=503)

    job = shop.sync()

    _one_run_converged(shop, job, 5)


def test_permanent_item_errors_are_not_tried_again_within_the_run(shop):
    """An item VK refuses for good (1408) fails once; a passing failure next to it is retried.
    The run is partial with exactly the permanent error."""
    _catalog(shop, 3, groups=0)
    inject_fault("vk", "market.add", count=1, error_code=1408)
    inject_fault("vk", "market.add", count=2 * 3, error_code=10)  # the others, three tries

    job = shop.sync()

    assert SyncJob.objects.filter(user=shop.user).count() == 1
    assert job.status == SyncJob.Status.PARTIAL
    errors = list(SyncItemError.objects.filter(job=job))
    assert [e.code for e in errors] == ["vk:1408"]
    assert job.items_failed == 1 and job.items_created == 2
    skus = _skus(shop)
    assert len(skus) == 2 and set(skus.values()) == {1}
    assert errors[0].evotor_product_id not in skus  # not added again by the second pass


def test_retries_within_the_run_are_bounded(shop, settings):
    """VK keeps failing: the run makes at most SYNC_RETRY_PASSES more passes and then says
    truthfully what is left failed."""
    settings.SYNC_RETRY_PASSES = 1
    _catalog(shop, 3, groups=0)
    inject_fault("vk", "market.add", count=100, error_code=10)

    job = shop.sync()

    assert job.status == SyncJob.Status.PARTIAL
    assert job.items_created == 0 and job.items_failed == 3
    assert SyncItemError.objects.filter(job=job, code="vk:10").count() == 3
    # Three goods, three tries each by the client, in two passes: no third pass.
    assert SandboxFault.objects.get().remaining == 100 - 3 * 3 * 2


def test_goods_in_the_basic_mode_stop_the_run_with_their_own_reason(shop):
    """VK 1409 (goods on, but basic): not "market switched off" but its own code, the VK
    connection offline with the words for 1409; a permanent stop is not tried again."""
    from django.utils import translation

    from apps.connections.explain import connection_problem
    from apps.connections.models import ConnectionState, VkConnection
    from apps.sync.explain import run_reason

    _catalog(shop, 2, groups=0)
    inject_fault("vk", "market.get", count=3, error_code=1409)

    job = shop.sync()

    assert job.status == SyncJob.Status.FAILED and job.error_code == "market_basic"
    vk = VkConnection.objects.get(user=shop.user)
    assert vk.state == ConnectionState.OFFLINE
    with translation.override("en"):
        assert "extended goods" in run_reason(job.error_code).title
        assert "extended goods" in connection_problem("vk", vk.last_error).title
    assert SandboxFault.objects.get().remaining == 2  # asked once: no pass again
