"""The sync side of the catalog pages: states and reasons, include/exclude endpoints."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client
from model_bakery import baker

from apps.catalog.models import Product, ProductGroup, Store
from apps.connections.models import ConnectionState, VkConnection
from apps.sync.models import ProductLink, SyncFilter
from apps.sync.publishing import item_url, link_problem
from apps.sync.services import config_for

pytestmark = pytest.mark.django_db
GROUP_ID = 4242


@pytest.fixture
def shop(merchant):
    merchant.language = "en"
    merchant.save()
    store = baker.make(Store, user=merchant, evotor_id="S1", name="Ленина")
    other_store = baker.make(Store, user=merchant, evotor_id="S2", name="Пушкина")
    drinks = baker.make(ProductGroup, user=merchant, store=store, evotor_id="G1", name="Напитки")
    coffee = baker.make(ProductGroup, user=merchant, store=store, evotor_id="G2", name="Кофе",
                        parent_evotor_id="G1")

    def product(key, price="100", group="", store=store, **fields):
        return baker.make(Product, user=merchant, store=store, name=f"Товар {key}",
                          evotor_id=f"P{key}", price=None if price is None else Decimal(price),
                          group_evotor_id=group, search_text=f"товар {key}", **fields)

    return {
        "store": store, "other_store": other_store, "drinks": drinks, "coffee": coffee,
        "latte": product("latte", group="G2"),
        "juice": product("juice", group="G1"),
        "bread": product("bread"),
        "free": product("free", price=None),
        "gone": product("gone", quantity=Decimal(0)),
        "stop": product("stop", allow_to_sell=False),
        "far": product("far", store=other_store),
        "product": product,
    }


@pytest.fixture
def signed_in(client, merchant):
    client.force_login(merchant)
    return client


def states(client, **params) -> dict[str, str]:
    response = client.get("/catalog", params)
    return {p.name: p.publishing.label for p in response.context["page"]}


def publish(client, kind, pk, mode, **extra):
    return client.post("/catalog/publishing",
                       {"entity_type": kind, "pk": pk, "mode": mode, **extra})


def test_rows_say_what_will_happen_and_why(signed_in, shop):
    found = states(signed_in)
    assert found["Товар latte"] == "will be published"
    assert found["Товар free"] == "no price"
    assert found["Товар gone"] == "out of stock"
    assert found["Товар stop"] == "not for sale"
    assert found["Товар far"] == "another store feeds the community"


def test_heading_counts_products_that_will_be_published(signed_in, shop):
    html = signed_in.get("/catalog").content.decode()
    assert "3 of 7 products will be published" in html


def test_excluding_a_group_excludes_its_subgroups_with_the_groups_name(signed_in, shop):
    response = publish(signed_in, "group", shop["drinks"].pk, "exclude", next="/catalog?q=x")
    assert response.status_code == 302 and response["Location"] == "/catalog?q=x"
    row = SyncFilter.objects.get()
    assert (row.entity_type, row.entity_id, row.filter_mode, row.entity_name,
            row.parent_entity_id) == ("group", "G1", "exclude", "Напитки", "S1")
    found = states(signed_in)
    assert found["Товар latte"] == "excluded by the group «Напитки»"
    assert found["Товар juice"] == "excluded by the group «Напитки»"
    assert found["Товар bread"] == "will be published"


def test_a_product_filter_beats_its_group(signed_in, shop):
    publish(signed_in, "group", shop["drinks"].pk, "exclude")
    publish(signed_in, "product", shop["latte"].pk, "include")
    assert SyncFilter.objects.get(entity_type="product").parent_entity_id == "G2"
    assert states(signed_in)["Товар latte"] == "will be published"
    publish(signed_in, "product", shop["latte"].pk, "inherit")
    assert not SyncFilter.objects.filter(entity_type="product").exists()
    assert states(signed_in)["Товар latte"] == "excluded by the group «Напитки»"


def test_store_rows_show_their_mode_and_state(signed_in, shop):
    publish(signed_in, "store", shop["other_store"].pk, "include")
    response = signed_in.get("/catalog")
    stores = {s.name: s.publishing for s in response.context["view"].stores}
    assert stores["Пушкина"].mode == "include" and stores["Пушкина"].published
    assert stores["Ленина"].label == "another store feeds the community"
    assert states(signed_in)["Товар far"] == "will be published"


def test_group_rows_show_their_state(signed_in, shop):
    publish(signed_in, "group", shop["coffee"].pk, "exclude")
    response = signed_in.get("/catalog", {"store": shop["store"].pk})
    groups = {g.name: g.publishing for g in response.context["view"].groups}
    assert groups["Кофе"].mode == "exclude"
    assert groups["Кофе"].label == "excluded by the group «Кофе»"
    assert groups["Напитки"].published and groups["Напитки"].mode == ""


def test_removed_products_say_so(signed_in, shop):
    from django.utils import timezone

    Product.objects.filter(pk=shop["bread"].pk).update(removed_at=timezone.now())
    assert states(signed_in, removed="on")["Товар bread"] == "deleted in Evotor"


def test_bulk_excludes_every_product_the_filtered_list_shows(signed_in, shop):
    response = signed_in.post("/catalog/publishing/bulk",
                              {"mode": "exclude", "q": "товар j", "next": "/catalog"})
    assert response.status_code == 302
    assert list(SyncFilter.objects.values_list("entity_id", "filter_mode")) == [
        ("Pjuice", "exclude")
    ]
    signed_in.post("/catalog/publishing/bulk", {"mode": "include", "store": shop["store"].pk})
    assert SyncFilter.objects.filter(filter_mode="include").count() == 6
    assert SyncFilter.objects.count() == 6  # the juice's exclude was replaced, not doubled
    signed_in.post("/catalog/publishing/bulk", {"mode": "inherit"})
    assert not SyncFilter.objects.exists()


@pytest.mark.parametrize("kind", ["store", "group", "product"])
def test_another_merchants_rows_are_404(signed_in, other_merchant, kind):
    store = baker.make(Store, user=other_merchant, evotor_id="X")
    entity = {
        "store": store,
        "group": baker.make(ProductGroup, user=other_merchant, store=store, evotor_id="XG"),
        "product": baker.make(Product, user=other_merchant, store=store, evotor_id="XP"),
    }[kind]
    assert publish(signed_in, kind, entity.pk, "exclude").status_code == 404
    assert not SyncFilter.objects.exists()


@pytest.mark.parametrize("data", [
    {"entity_type": "user", "pk": "1", "mode": "exclude"},
    {"entity_type": "product", "pk": "1", "mode": "delete"},
    {"entity_type": "product", "pk": "x", "mode": "exclude"},
])
def test_unknown_actions_are_refused(signed_in, shop, data):
    assert signed_in.post("/catalog/publishing", data).status_code == 400


def test_buttons_need_post_login_and_csrf(client, merchant, shop):
    assert client.get("/catalog/publishing").status_code in (302, 405)
    assert publish(client, "product", shop["latte"].pk, "exclude")["Location"].startswith(
        "/login")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(merchant)
    assert publish(strict, "product", shop["latte"].pk, "exclude").status_code == 403
    assert strict.post("/catalog/publishing/bulk", {"mode": "exclude"}).status_code == 403
    assert not SyncFilter.objects.exists()


def test_next_outside_the_site_goes_back_to_the_catalog(signed_in, shop):
    response = publish(signed_in, "product", shop["latte"].pk, "exclude",
                       next="https://evil.example/")
    assert response["Location"] == "/catalog"


def test_vk_status_of_each_product(signed_in, merchant, shop, settings):
    baker.make(VkConnection, user=merchant, group_id=GROUP_ID, state=ConnectionState.ONLINE)
    link = {"user": merchant, "vk_group_id": GROUP_ID}
    baker.make(ProductLink, **link, evotor_product_id="Platte", state="published", vk_item_id=7)
    baker.make(ProductLink, **link, evotor_product_id="Pjuice", state="failed",
               last_error_code="vk:1408", last_error="Item has bad links")
    baker.make(ProductLink, **link, evotor_product_id="Pstop", state="hidden", vk_item_id=9)
    response = signed_in.get("/catalog")
    vk = {p.name: p.publishing.vk for p in response.context["page"]}
    assert vk["Товар latte"].label == "published"
    assert vk["Товар latte"].url == item_url(GROUP_ID, 7)
    assert vk["Товар juice"].label == "failed"
    assert "links" in vk["Товар juice"].problem.title
    assert vk["Товар stop"].label == "hidden in VK"
    assert vk["Товар bread"].label == "waiting for the next sync"
    assert vk["Товар free"].label == "not in VK"
    html = response.content.decode()
    assert "Item has bad links" not in html  # VK's English stays out; the explanation shows
    assert "VK 1408" in html


def test_item_url_is_the_sandbox_storefront_in_development_and_vk_otherwise(settings):
    settings.SANDBOX_ENABLED = False
    assert item_url(5, 6) == "https://vk.com/market-5_6"


def test_link_problem_reads_codes():
    assert link_problem("vk:1403").code == "VK 1403"
    assert link_problem("vk:transient").code == ""


def test_product_page_shows_state_vk_status_and_the_toggle(signed_in, shop):
    html = signed_in.get(f"/catalog/products/{shop['free'].pk}").content.decode()
    assert "no price" in html
    assert 'name="entity_type" value="product"' in html


def test_catalog_page_queries_do_not_grow_with_the_catalog(
    signed_in, merchant, shop, django_assert_max_num_queries
):
    config_for(merchant)
    baker.make(VkConnection, user=merchant, group_id=GROUP_ID, state=ConnectionState.ONLINE)
    for key in range(300):
        shop["product"](f"n{key}", group="G2" if key % 2 else "")
    SyncFilter.objects.create(config=config_for(merchant), entity_type="group", entity_id="G1",
                              filter_mode="exclude")
    # Session and user 2, stores, groups, count and page 4, both connections 2, the refresh
    # status 2 (no run yet: the lease on its own), sync settings 1, all groups, filters and the
    # page's links 3, the products' fingerprint 1; and on a first view the decision columns of
    # every product 1, to count what will be published (test_publishing_counts.py): 16 for 300
    # products as for 10,000, then 15.
    with django_assert_max_num_queries(16):
        response = signed_in.get("/catalog", {"store": shop["store"].pk})
    with django_assert_max_num_queries(15):
        signed_in.get("/catalog", {"store": shop["store"].pk})
    assert "151 of 307 products will be published" in response.content.decode()
