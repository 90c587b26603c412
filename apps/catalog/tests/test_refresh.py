"""The refresh service: complete, incremental, never half-applied, robust to Evotor's quirks."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from apps.catalog import services
from apps.catalog.models import CatalogRefresh, Product, ProductGroup, Store
from apps.catalog.signals import catalog_changed
from apps.catalog.tests.evotor_fake import product
from apps.connections.models import ConnectionState, EvotorConnection

pytestmark = pytest.mark.django_db


def refresh(user, client_factory, full=False):
    return services.refresh_catalog(user, full=full, client=client_factory())


def test_full_refresh_caches_every_store_group_and_product(
    merchant, connected, evotor, client_factory
):
    evotor.page_size = 3
    first = evotor.add_store(1, groups=2, products=7)
    evotor.add_store(2, groups=1, products=2)
    run = refresh(merchant, client_factory, full=True)
    assert run.status == CatalogRefresh.Status.SUCCESS, run.error
    assert (run.stores, run.groups, run.products, run.removed) == (2, 3, 9, 0)
    # 1 stores page + store 1: 1 group page, 3 product pages + store 2: 1 + 1
    assert run.evotor_requests == 7 == len(evotor.requests)
    assert Product.objects.filter(user=merchant).count() == 9
    item = Product.objects.get(evotor_id=evotor.products[first][0]["id"])
    assert item.store.evotor_id == first
    assert item.price == Decimal("100100") and item.quantity == Decimal("5")
    assert item.barcodes == ["46000000100000"]
    assert item.search_text == "товар 100000 a-100000 100000 46000000100000"
    assert item.evotor_updated_at is not None and item.removed_at is None


def test_quirks_survive_a_refresh(merchant, connected, evotor, client_factory):
    sid = evotor.add_store(1)
    evotor.products[sid] = [
        product(sid, 1, description=None, article_number=None, code="", barcodes=None),
        product(sid, 2, type="FUTURE_MARKED_GOODS", tax="VAT_22"),
        product(sid, 3, quantity=-175.5),
        product(sid, 4, type="SERVICE", quantity=..., cost_price=..., measure_name="усл"),
        product(sid, 5, price=1290.5, cost_price=100.123, measure_name="кг"),
        product(sid, 6, allow_to_sell=False, name="  "),
        {"type": "NORMAL", "name": "без id", "price": 1},  # unusable: skipped, not fatal
    ]
    run = refresh(merchant, client_factory, full=True)
    assert run.status == CatalogRefresh.Status.SUCCESS, run.error
    assert run.products == 6 and run.skipped == 1
    by_n = {p.code or p.evotor_id[-1]: p for p in Product.objects.all()}
    assert by_n["1"].description == "" and by_n["1"].barcodes == []
    assert by_n["2"].type == "FUTURE_MARKED_GOODS" and by_n["2"].tax == "VAT_22"
    assert by_n["3"].quantity == Decimal("-175.5")
    assert by_n["4"].quantity is None and by_n["4"].is_service
    assert by_n["5"].price == Decimal("1290.5") and by_n["5"].cost_price == Decimal("100.123")
    assert by_n["6"].allow_to_sell is False and by_n["6"].name


def test_products_that_do_not_fit_the_columns_are_skipped_with_a_reason(
    merchant, connected, evotor, client_factory
):
    """MariaDB in strict mode would refuse the whole batch; SQLite would store them uncut."""
    sid = evotor.add_store(1)
    evotor.products[sid] = [
        product(sid, 1),
        product(sid, 2, id="x" * 65),
        product(sid, 3, parent_id="g" * 65),
        product(sid, 4, price="1e999999999"),
        product(sid, 5, alcohol_product_kind_code="1e30"),
    ]
    run = refresh(merchant, client_factory, full=True)
    assert run.status == CatalogRefresh.Status.SUCCESS, run.error
    assert run.products == 1 and run.skipped == 4
    assert Product.objects.get().code == "1"


def test_a_product_deleted_in_evotor_is_marked_removed_by_the_next_full_refresh(
    merchant, connected, evotor, client_factory
):
    sid = evotor.add_store(1, groups=2, products=3)
    refresh(merchant, client_factory, full=True)
    gone = evotor.products[sid].pop(1)
    gone_group = evotor.groups[sid].pop(0)
    run = refresh(merchant, client_factory, full=True)
    assert run.removed == 1
    assert Product.objects.get(evotor_id=gone["id"]).removed_at is not None
    assert ProductGroup.objects.get(evotor_id=gone_group["id"]).removed_at is not None
    assert Product.objects.filter(removed_at__isnull=True).count() == 2
    evotor.products[sid].append(gone)  # restored in Evotor: it comes back
    refresh(merchant, client_factory, full=True)
    assert Product.objects.get(evotor_id=gone["id"]).removed_at is None


def test_a_failure_on_page_3_of_5_leaves_the_previous_cache_intact(
    merchant, connected, evotor, client_factory
):
    evotor.page_size = 2
    sid = evotor.add_store(1, products=10)
    refresh(merchant, client_factory, full=True)
    before = list(Product.objects.order_by("evotor_id").values_list("evotor_id", "price", "name"))
    evotor.products[sid][0]["price"] = 1
    evotor.products[sid].pop()
    evotor.fail_product_page = 3
    run = refresh(merchant, client_factory, full=True)
    assert run.status == CatalogRefresh.Status.FAILED
    assert "500" in run.error or "internal" in run.error.lower()
    after = list(Product.objects.order_by("evotor_id").values_list("evotor_id", "price", "name"))
    assert after == before
    assert not Product.objects.filter(removed_at__isnull=False).exists()
    assert EvotorConnection.objects.get().state == ConnectionState.ONLINE


def test_incremental_refresh_asks_only_for_changes_since_the_watermark(
    merchant, connected, evotor, client_factory
):
    sid = evotor.add_store(1, products=5)
    refresh(merchant, client_factory, full=True)
    watermark = Store.objects.get().products_watermark
    assert watermark == max(Product.objects.values_list("evotor_updated_at", flat=True))
    changed = evotor.products[sid][2]
    changed["price"] = 777
    changed["updated_at"] = "2026-11-02T10:00:00.000+0000"
    evotor.requests.clear()
    run = refresh(merchant, client_factory)
    assert run.full is False and run.status == CatalogRefresh.Status.SUCCESS
    product_requests = [url for url in evotor.requests if url.split("?")[0].endswith("/products")]
    assert f"since={int(watermark.timestamp() * 1000)}" in product_requests[0]
    # `since` is inclusive: the changed product, and the one that set the watermark again.
    assert run.products == 2
    assert Product.objects.get(evotor_id=changed["id"]).price == Decimal("777")
    assert Store.objects.get().products_watermark.day == 2


def test_incremental_turns_full_once_a_day(merchant, connected, evotor, client_factory):
    evotor.add_store(1, products=1)
    refresh(merchant, client_factory, full=True)
    CatalogRefresh.objects.update(started_at=timezone.now() - timedelta(hours=25))
    assert refresh(merchant, client_factory).full is True
    assert refresh(merchant, client_factory).full is False


def test_auth_error_revokes_the_connection_and_records_why(
    merchant, connected, evotor, client_factory
):
    evotor.add_store(1, products=1)
    evotor.status_override = 401
    run = refresh(merchant, client_factory, full=True)
    assert run.status == CatalogRefresh.Status.FAILED and run.error
    connected.refresh_from_db()
    assert connected.state == ConnectionState.REVOKED
    assert not Product.objects.exists()


def test_skipped_without_a_usable_connection(merchant, connected):
    connected.state = ConnectionState.REVOKED
    connected.save()
    with pytest.raises(services.RefreshSkipped):
        services.refresh_catalog(merchant)
    assert not CatalogRefresh.objects.exists()


def test_one_refresh_per_merchant_at_a_time(merchant, connected, evotor, client_factory):
    evotor.add_store(1, products=1)
    assert services.claim_lease(merchant.pk, "another-worker")
    with pytest.raises(services.RefreshSkipped, match="already running"):
        refresh(merchant, client_factory)
    assert not CatalogRefresh.objects.exists()
    services.release_lease(merchant.pk, "another-worker")
    assert refresh(merchant, client_factory).status == CatalogRefresh.Status.SUCCESS


def test_a_change_is_announced(merchant, connected, evotor, client_factory):
    evotor.add_store(1, products=2)
    seen = []

    def receiver(sender, user_id, product_ids, **kwargs):
        seen.append(user_id)

    catalog_changed.connect(receiver)
    try:
        refresh(merchant, client_factory, full=True)
    finally:
        catalog_changed.disconnect(receiver)
    assert seen == [merchant.pk]


def test_merchants_caches_are_separate(
    merchant, other_merchant, connected, evotor, client_factory
):
    evotor.add_store(1, products=3)
    refresh(merchant, client_factory, full=True)
    assert Product.objects.filter(user=other_merchant).count() == 0


def test_query_counts_do_not_grow_with_the_catalog(
    merchant, connected, evotor, client_factory, django_assert_max_num_queries
):
    evotor.add_store(1, groups=20, products=1500)
    evotor.add_store(2, groups=20, products=1500)
    with django_assert_max_num_queries(40):
        refresh(merchant, client_factory, full=True)
    assert Product.objects.count() == 3000
    with django_assert_max_num_queries(20):
        refresh(merchant, client_factory)


def test_a_newer_version_written_during_the_fetch_is_not_overwritten_or_removed(
    merchant, connected, evotor, client_factory
):
    """A webhook lands while a full refresh is fetching: the refresh must not undo it."""
    sid = evotor.add_store(1, products=2)
    refresh(merchant, client_factory, full=True)
    run = CatalogRefresh.objects.create(user=merchant, full=True)
    fetched = services.fetch_catalog(client_factory(), {})
    # Meanwhile: product 0 gets a newer version and a brand-new product appears (webhooks).
    first = Product.objects.get(evotor_id=evotor.products[sid][0]["id"])
    first.price, first.evotor_updated_at = Decimal("555"), timezone.now()
    first.save()
    newcomer = Product.objects.create(
        user=merchant, store=first.store, evotor_id="brand-new", name="Новинка",
        fetched_at=timezone.now(),
    )
    services.apply_catalog(run, fetched, {})
    assert Product.objects.get(pk=first.pk).price == Decimal("555")
    assert Product.objects.get(pk=newcomer.pk).removed_at is None
