"""The catalog heading's "N of M products will be published": computed over the whole catalog,
remembered under a fingerprint of everything it reads (apps/sync/publishing.py), so it follows
every change at once (filters, products, groups, stores, settings) without anyone invalidating
it, and a page view does not decide the whole catalog again."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from model_bakery import baker

from apps.catalog.models import CatalogRefresh, Product, ProductGroup, Store
from apps.sync import publishing
from apps.sync.models import SyncFilter
from apps.sync.services import config_for

pytestmark = pytest.mark.django_db
count_published = publishing.count_published  # the real one, whatever a test spies on


@pytest.fixture(autouse=True)
def _forget_counts():
    """Counts this process remembers from other tests: right for their data (the key says whose
    catalog, in which state), but a test counting computations starts from none."""
    publishing._REMEMBERED.clear()


@pytest.fixture
def shop(merchant):
    """Two stores (Ленина feeds the community: first by name); 3 of 7 will be published."""
    merchant.language = "en"
    merchant.save()
    store = baker.make(Store, user=merchant, evotor_id="S1", name="Ленина")
    other = baker.make(Store, user=merchant, evotor_id="S2", name="Пушкина")
    baker.make(ProductGroup, user=merchant, store=store, evotor_id="G1", name="Напитки")
    baker.make(ProductGroup, user=merchant, store=store, evotor_id="G2", name="Кофе",
               parent_evotor_id="G1")

    def product(key, price="100", group="", store=store, **fields):
        return baker.make(Product, user=merchant, store=store, name=f"Товар {key}",
                          evotor_id=f"P{key}", price=None if price is None else Decimal(price),
                          group_evotor_id=group, search_text=f"товар {key}", **fields)

    for key, fields in {
        "latte": {"group": "G2"}, "juice": {"group": "G1"}, "bread": {},
        "free": {"price": None}, "gone": {"quantity": Decimal(0)},
        "stop": {"allow_to_sell": False}, "far": {"store": other},
    }.items():
        product(key, **fields)
    return {"store": store, "other": other, "product": product}


@pytest.fixture
def signed_in(client, merchant):
    client.force_login(merchant)
    return client


@pytest.fixture
def computed(monkeypatch):
    """How many times the whole catalog was decided."""
    calls = []

    def spy(ctx):
        calls.append(len(ctx.products))
        return count_published(ctx)

    monkeypatch.setattr(publishing, "count_published", spy)
    return calls


def counts(client, **params) -> tuple[int, int]:
    page = client.get("/catalog", params).context["publishing"]
    return page.published_count, page.total_count


def fresh_count(merchant) -> int:
    """The figure computed from scratch, as the page did on every view before."""
    return count_published(publishing.decision_context(config_for(merchant)))


def test_the_heading_counts_the_whole_catalog_once_then_remembers(signed_in, shop, computed):
    html = signed_in.get("/catalog").content.decode()
    assert "3 of 7 products will be published" in html
    assert computed == [7]
    for params in ({}, {"page": 1}, {"q": "товар"}, {"store": shop["store"].pk}):
        assert counts(signed_in, **params) == (3, 7)
    assert computed == [7]  # filters and pages of the list do not change the heading


def test_the_product_page_computes_no_count(signed_in, shop, computed):
    product = Product.objects.get(evotor_id="Platte")
    assert signed_in.get(f"/catalog/products/{product.pk}").status_code == 200
    assert computed == []


def test_the_count_follows_filters_at_once(signed_in, shop):
    assert counts(signed_in) == (3, 7)
    group = ProductGroup.objects.get(evotor_id="G1")
    signed_in.post("/catalog/publishing", {"entity_type": "group", "pk": group.pk,
                                           "mode": "exclude"})
    assert counts(signed_in) == (1, 7)  # the bread: latte and juice are in Напитки
    latte = Product.objects.get(evotor_id="Platte")
    signed_in.post("/catalog/publishing", {"entity_type": "product", "pk": latte.pk,
                                           "mode": "include"})
    assert counts(signed_in) == (1, 7)  # an include below the store: only what is included
    signed_in.post("/catalog/publishing/bulk", {"mode": "inherit"})
    SyncFilter.objects.all().delete()
    assert counts(signed_in) == (3, 7)
    signed_in.post("/catalog/publishing", {"entity_type": "store", "pk": shop["other"].pk,
                                           "mode": "include"})
    assert counts(signed_in) == (1, 7)  # the far product's store feeds the community now


# Each changes one product behind the page's back: a queryset update, no signal, no save().
BEHIND_ITS_BACK = {
    "price removed": ("Platte", {"price": None}, (2, 7)),
    "price too high": ("Platte", {"price": Decimal("9999999999")}, (2, 7)),
    "price given": ("Pfree", {"price": Decimal("5")}, (4, 7)),
    "removed in Evotor": ("Pbread", {"removed_at": timezone.now()}, (2, 6)),
    "not for sale": ("Pjuice", {"allow_to_sell": False}, (2, 7)),
    "for sale again": ("Pstop", {"allow_to_sell": True}, (4, 7)),
    "back in stock": ("Pgone", {"quantity": Decimal(3)}, (4, 7)),
    "out of stock": ("Platte", {"quantity": Decimal("-1")}, (2, 7)),
    "a service has no stock": ("Pgone", {"type": "SERVICE"}, (4, 7)),
    "a blank name": ("Pbread", {"name": " \t"}, (2, 7)),
    "moved to the other store": ("Pbread", {"store_id": "other"}, (2, 7)),
    "moved from the other store": ("Pfar", {"store_id": "store"}, (4, 7)),
    "moved into an excluded group": ("Pbread", {"group_evotor_id": "G1"}, (0, 7)),
}


@pytest.mark.parametrize("change", BEHIND_ITS_BACK, ids=list(BEHIND_ITS_BACK))
def test_the_count_follows_any_product_change(signed_in, merchant, shop, change, computed):
    evotor_id, values, expected = BEHIND_ITS_BACK[change]
    if change == "moved into an excluded group":
        SyncFilter.objects.create(config=config_for(merchant), entity_type="group",
                                  entity_id="G1", filter_mode="exclude")
        expected_before = (1, 7)
    else:
        expected_before = (3, 7)
    assert counts(signed_in) == expected_before
    values = {key: shop[value].pk if key == "store_id" else value for key, value in values.items()}
    Product.objects.filter(user=merchant, evotor_id=evotor_id).update(**values)
    assert counts(signed_in) == expected
    assert expected[0] == fresh_count(merchant)
    assert len(computed) == 2


def test_the_count_follows_added_and_deleted_products(signed_in, merchant, shop):
    assert counts(signed_in) == (3, 7)
    shop["product"]("new")
    assert counts(signed_in) == (4, 8)
    Product.objects.filter(evotor_id__in=["Pnew", "Platte"]).delete()
    assert counts(signed_in) == (2, 6)


def test_the_count_follows_groups_and_stores(signed_in, merchant, shop):
    SyncFilter.objects.create(config=config_for(merchant), entity_type="group", entity_id="G1",
                              filter_mode="exclude")
    assert counts(signed_in) == (1, 7)
    ProductGroup.objects.filter(evotor_id="G2").update(parent_evotor_id="")  # Кофе on its own
    assert counts(signed_in) == (2, 7)
    Store.objects.filter(evotor_id="S2").update(name="Арбат")  # now first by name: the default
    assert counts(signed_in) == (1, 7)  # only the far product, in Арбат
    Store.objects.filter(evotor_id="S2").update(removed_at=timezone.now())
    assert counts(signed_in) == (2, 7)  # Ленина again; Кофе's latte and the bread


def test_the_count_follows_the_sync_settings(signed_in, merchant, shop):
    assert counts(signed_in) == (3, 7)
    config = config_for(merchant)
    config.out_of_stock = "keep"
    config.save()
    assert counts(signed_in) == (4, 7)  # the product out of stock stays visible
    Product.objects.filter(evotor_id="Pbread").update(price=Decimal("99999999"))
    assert counts(signed_in) == (4, 7)
    config.markup_percent = Decimal("1000")
    config.save()
    assert counts(signed_in) == (3, 7)  # the bread's price is now too high for VK


def test_a_count_is_kept_under_the_rows_it_was_computed_from(signed_in, merchant, shop,
                                                            monkeypatch, computed):
    """A product changed between the fingerprint and the reading of the catalog: the count
    computed from the new rows is not kept under the old fingerprint."""
    real = publishing.products_fingerprint
    monkeypatch.setattr(publishing, "products_fingerprint",
                        lambda user_id: publishing.Fingerprint(0, 0, 0))
    assert counts(signed_in) == (3, 7)  # the live count too comes from the rows read
    monkeypatch.setattr(publishing, "products_fingerprint", real)
    assert counts(signed_in) == (3, 7)
    assert len(computed) == 1  # the real fingerprint found the count computed from real rows


def test_the_fingerprint_is_the_same_in_sql_and_from_the_rows(merchant, shop):
    found = publishing.products_fingerprint(merchant.pk)
    rows = Product.objects.filter(user=merchant).values_list(publishing.ROW_HASH, flat=True)
    digest = 0
    for row_hash in rows:
        digest ^= int(row_hash[:16], 16)
    assert (found.rows, found.live, found.digest) == (7, 7, digest)
    Product.objects.filter(evotor_id="Pbread").update(price=Decimal("100.01"))
    assert publishing.products_fingerprint(merchant.pk).digest != digest


def test_other_processes_take_the_count_from_the_shared_cache(signed_in, shop, settings,
                                                              computed):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                                   "LOCATION": "publishing-counts"}}
    assert counts(signed_in) == (3, 7)
    publishing._REMEMBERED.clear()  # as a process that never saw this catalog
    assert counts(signed_in) == (3, 7)
    assert len(computed) == 1


def test_a_merchant_never_reads_anothers_count(signed_in, merchant, other_merchant, shop,
                                               client):
    assert counts(signed_in) == (3, 7)
    store = baker.make(Store, user=other_merchant, evotor_id="S1", name="Ленина")
    baker.make(Product, user=other_merchant, store=store, evotor_id="Pbread", price=1)
    client.force_login(other_merchant)
    assert counts(client) == (1, 1)


def test_ten_thousand_products_cost_the_same_queries(signed_in, merchant, shop,
                                                     django_assert_max_num_queries):
    now = timezone.now()
    store = shop["store"]
    baker.make(CatalogRefresh, user=merchant, status=CatalogRefresh.Status.SUCCESS,
               finished_at=now)
    Product.objects.bulk_create([
        Product(user=merchant, store=store, evotor_id=f"N{key}", name=f"Товар {key:05d}",
                price=Decimal(key % 500 + 1), quantity=Decimal(key % 7),
                group_evotor_id="G2" if key % 3 else "", search_text=f"товар {key:05d}",
                fetched_at=now - timedelta(seconds=key))
        for key in range(10_000)
    ], batch_size=2000)
    expected = fresh_count(merchant)
    # A first view computes the count (one more query: the catalog's decision columns) ...
    with django_assert_max_num_queries(15):
        first = signed_in.get("/catalog", {"store": store.pk})
    assert first.context["publishing"].published_count == expected
    # ... the next ones read only the fingerprint. Session and user 2, stores and the store's
    # groups 2, count and page 2, both connections 2, refresh runs 1, sync settings 1, all
    # groups, filters and the page's links 3, the fingerprint 1.
    for params in ({"store": store.pk}, {}, {"sort": "-price", "page": 100}):
        with django_assert_max_num_queries(14):
            response = signed_in.get("/catalog", params)
        assert response.context["publishing"].total_count == 10_007
