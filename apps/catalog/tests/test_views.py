"""Catalog pages: browse, search, sort, page, export, refresh — only ever the merchant's own."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone, translation
from model_bakery import baker

from apps.catalog import export
from apps.catalog.models import CatalogRefresh, Product, ProductGroup, Store

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop(merchant):
    store = baker.make(Store, user=merchant, evotor_id="S1", name="Магазин на Ленина")
    baker.make(ProductGroup, user=merchant, store=store, evotor_id="G1", name="Напитки")
    baker.make(
        ProductGroup, user=merchant, store=store, evotor_id="G2", name="Кофе",
        parent_evotor_id="G1",
    )

    def product(name, price, group="", **fields):
        defaults = {"article_number": "", "code": "", "barcodes": []}
        defaults.update(fields)
        return baker.make(
            Product, user=merchant, store=store, name=name, price=Decimal(price),
            group_evotor_id=group, evotor_id=f"P-{name}",
            search_text=" ".join(
                [name, defaults["article_number"], defaults["code"], *defaults["barcodes"]]
            ).lower(),
            **defaults,
        )

    latte = product("Латте большой", "250", "G2", article_number="LT-1", barcodes=["4601"])
    juice = product("Сок яблочный", "120", "G1", code="77")
    bread = product("Хлеб", "45")
    return {"store": store, "latte": latte, "juice": juice, "bread": bread}


@pytest.fixture
def signed_in(client, merchant):
    client.force_login(merchant)
    return client


def names(response) -> list[str]:
    return [p.name for p in response.context["page"]]


@pytest.mark.parametrize("url", ["/catalog", "/catalog/export.csv", "/catalog/products/1"])
def test_login_required(client, url):
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_lists_the_merchants_products(signed_in, shop):
    response = signed_in.get("/catalog")
    assert response.status_code == 200
    assert names(response) == ["Латте большой", "Сок яблочный", "Хлеб"]
    assert "Магазин на Ленина" in response.content.decode()


@pytest.mark.parametrize(
    "query,expected",
    [("латте", ["Латте большой"]), ("СОК", ["Сок яблочный"]), ("lt-1", ["Латте большой"]),
     ("4601", ["Латте большой"]), ("77", ["Сок яблочный"]), ("нет такого", [])],
)
def test_search_by_name_article_barcode_code(signed_in, shop, query, expected):
    assert names(signed_in.get("/catalog", {"q": query})) == expected


def test_sort_by_price(signed_in, shop):
    assert names(signed_in.get("/catalog", {"sort": "price"}))[0] == "Хлеб"
    assert names(signed_in.get("/catalog", {"sort": "-price"}))[0] == "Латте большой"


def test_a_group_covers_its_nested_groups(signed_in, shop):
    response = signed_in.get("/catalog", {"store": shop["store"].pk, "group": "G1"})
    assert names(response) == ["Латте большой", "Сок яблочный"]
    html = response.content.decode()
    assert "Напитки" in html and "Кофе" in html  # the tree


def test_fifty_per_page(signed_in, merchant, shop):
    baker.make(Product, user=merchant, store=shop["store"], _quantity=60, search_text="x")
    first = signed_in.get("/catalog")
    assert len(first.context["page"]) == 50
    second = signed_in.get("/catalog", {"page": 2})
    assert len(second.context["page"]) == 13


def test_removed_products_are_hidden_unless_asked(signed_in, shop):
    Product.objects.filter(pk=shop["bread"].pk).update(removed_at=timezone.now())
    assert "Хлеб" not in names(signed_in.get("/catalog"))
    assert "Хлеб" in names(signed_in.get("/catalog", {"removed": "on"}))


def test_the_page_costs_a_fixed_number_of_queries(
    signed_in, merchant, shop, django_assert_max_num_queries
):
    baker.make(Product, user=merchant, store=shop["store"], _quantity=40, search_text="x")
    signed_in.get("/catalog")  # the first visit creates the merchant's sync settings
    # Session, user, the page's own reads, both connections, the refresh status, and the sync's
    # one read per table for the publishing states (apps/sync/publishing.py).
    with django_assert_max_num_queries(16):
        signed_in.get("/catalog")


def test_product_page_shows_every_cached_field_in_words(signed_in, merchant, shop):
    merchant.language = "en"
    merchant.save()
    latte = shop["latte"]
    Product.objects.filter(pk=latte.pk).update(
        price=Decimal("1250"), cost_price=Decimal("100.5"), quantity=Decimal("-3"),
        measure_name="шт", tax="VAT_18", type="ALCOHOL_NOT_MARKED",
        description="Двойной эспрессо", extra={"is_excisable": False, "classification_code": "X1"},
    )
    html = signed_in.get(f"/catalog/products/{latte.pk}").content.decode()
    for text in ("Латте большой", "1,250\xa0₽", "100.50\xa0₽", "-3 шт", "VAT 20 %",
                 "Alcohol, not marked", "LT-1", "4601", "Кофе", "Двойной эспрессо",
                 "Classification code", "X1", "Excisable", latte.evotor_id):
        assert text in html, text
    for code in ("VAT_18", "ALCOHOL_NOT_MARKED", "classification_code", "is_excisable"):
        assert code not in html, code


def test_other_merchants_catalog_is_unreachable(signed_in, other_merchant, shop):
    store = baker.make(Store, user=other_merchant, evotor_id="S9", name="Чужой магазин")
    theirs = baker.make(Product, user=other_merchant, store=store, name="Чужой товар")
    assert signed_in.get(f"/catalog/products/{theirs.pk}").status_code == 404
    response = signed_in.get("/catalog", {"store": store.pk, "q": "чужой"})
    assert names(response) == [] and "Чужой магазин" not in response.content.decode()
    exported = signed_in.get("/catalog/export.csv", {"store": store.pk})
    assert "Чужой" not in b"".join(exported.streaming_content).decode("utf-8-sig")


def test_csv_opens_in_russian_excel_with_cyrillic_intact(signed_in, shop):
    response = signed_in.get("/catalog/export.csv", {"q": "латте"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")  # BOM: Excel reads it as UTF-8
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    header, (latte,) = rows[0], rows[1:]
    with translation.override("ru"):
        assert header == export.header()  # in the page's language, Russian by default
    assert latte[2] == "Латте большой" and latte[0] == "Магазин на Ленина"
    assert latte[6] == "250"  # decimal comma would show for fractions: 12,5
    assert len(latte) == len(header) == 16


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_excel_would_run_as_formulas_are_neutralised(signed_in, merchant, start):
    formula = f"{start}HYPERLINK(\"http://evil.example\";\"click\")"
    store = baker.make(Store, user=merchant, evotor_id="S1", name=formula)
    baker.make(
        Product, user=merchant, store=store, evotor_id=formula, name=formula, code=formula,
        article_number=formula, barcodes=[formula], measure_name=formula, type=formula,
        tax=formula, group_evotor_id=formula, price=Decimal("-5.5"), quantity=Decimal("-2"),
    )
    raw = b"".join(signed_in.get("/catalog/export.csv").streaming_content).decode("utf-8-sig")
    (row,) = list(csv.reader(io.StringIO(raw), delimiter=";"))[1:]
    texts = [row[i] for i in (0, 1, 2, 3, 4, 5, 9, 10, 11, 13)]
    assert texts == [f"'{formula}"] * 10
    assert (row[6], row[8]) == ("-5,5", "-2")  # our own numbers stay numbers


def test_csv_leaves_ordinary_text_alone():
    assert export._text("Кофе = радость") == "Кофе = радость"
    assert export._text("") == "" and export._text(None) == ""


def test_refresh_now_enqueues_and_reports(signed_in, merchant, connected, evotor):
    evotor.add_store(1, products=2)
    response = signed_in.post("/catalog/refresh", follow=True)
    assert response.redirect_chain[-1][0] == "/catalog"
    # Tests run tasks inline (Q_CLUSTER sync): the refresh has happened.
    assert CatalogRefresh.objects.get(user=merchant).status == CatalogRefresh.Status.SUCCESS
    assert len(response.context["messages"]) == 1


def test_refresh_now_without_evotor_says_what_to_do(signed_in, merchant):
    response = signed_in.post("/catalog/refresh", follow=True)
    assert not CatalogRefresh.objects.exists()
    assert list(response.context["messages"])[0].level_tag == "error"


def test_refresh_now_is_post_only(signed_in):
    assert signed_in.get("/catalog/refresh").status_code == 405


def test_webhook_price_change_shows_on_the_product_page(signed_in, merchant, connected, settings):
    """Acceptance: the webhook applies a price change so the product page shows it."""
    import hashlib
    import hmac
    import json

    from django.test import Client

    from apps.catalog.tests.evotor_fake import USER, product, store

    settings.EVOTOR_HOOK_SECRET = "s"
    payload = product(store(1)["id"], 5, price=4321.5, user_id=USER)
    body = json.dumps({"id": "e1", "type": "ProductEvent", "action": "updated",
                       "payload": payload}).encode()
    signature = "sha1=" + hmac.new(b"s", body, hashlib.sha1).hexdigest()
    Client().post("/api/v2/evotor/events", body, content_type="application/json",
                  HTTP_X_HUB_SIGNATURE=signature, HTTP_X_EVOTOR_DELIVERY="e1")
    item = Product.objects.get(user=merchant)
    assert "4\xa0321,50\xa0₽" in signed_in.get(f"/catalog/products/{item.pk}").content.decode()


def test_csv_says_types_and_taxes_in_words(signed_in, merchant, shop):
    merchant.language = "en"
    merchant.save()
    Product.objects.filter(pk=shop["bread"].pk).update(type="SERVICE", tax="NO_VAT")
    Product.objects.filter(pk=shop["juice"].pk).update(type="=cmd", tax="VAT_10")
    body = b"".join(signed_in.get("/catalog/export.csv").streaming_content).decode()
    assert "Service" in body and "No VAT" in body and "VAT 10 %" in body
    assert "'=cmd" in body  # an unknown type stays as it is, still defused


def test_empty_catalog_without_evotor_links_to_connecting_it(signed_in):
    html = signed_in.get("/catalog").content.decode()
    assert 'id="catalog-connect-evotor"' in html and 'href="/evotor"' in html


def test_refresh_on_a_revoked_connection_says_it_is_revoked(signed_in, merchant):
    from apps.connections.models import ConnectionState, EvotorConnection

    merchant.language = "en"
    merchant.save()
    EvotorConnection.objects.create(user=merchant, evotor_user_id="01-1",
                                    state=ConnectionState.REVOKED)
    response = signed_in.post("/catalog/refresh", follow=True)
    assert "no longer gives EvoSync access" in response.content.decode()


def test_favicon_is_linked(signed_in):
    assert "img/favicon.svg" in signed_in.get("/catalog").content.decode()


def test_rows_of_a_removed_store_still_name_it(signed_in, merchant, shop):
    """The page's rows take their store from the sidebar's (live) stores; a removed store's
    products, listed with "show removed", have theirs read for them."""
    gone = baker.make(Store, user=merchant, evotor_id="S0", name="Закрытый магазин",
                      removed_at=timezone.now())
    baker.make(Product, user=merchant, store=gone, name="Квас", price=Decimal(60),
               evotor_id="P-kvas", search_text="квас", removed_at=timezone.now())
    response = signed_in.get("/catalog", {"removed": "on"})
    stores = {p.name: p.store.name for p in response.context["page"]}
    assert stores == {"Квас": "Закрытый магазин", "Латте большой": "Магазин на Ленина",
                      "Сок яблочный": "Магазин на Ленина", "Хлеб": "Магазин на Ленина"}
    assert "Закрытый магазин" in response.content.decode()


def test_a_search_finding_nothing_shows_an_empty_page(signed_in, shop):
    response = signed_in.get("/catalog", {"q": "нет такого"})
    assert names(response) == [] and response.status_code == 200


def test_the_refresh_status_reads_the_lease_with_the_runs(merchant):
    from apps.catalog.browse import refresh_status
    from apps.catalog.models import RefreshLease

    assert refresh_status(merchant).running is False  # no runs: the lease on its own
    baker.make(CatalogRefresh, user=merchant, status=CatalogRefresh.Status.SUCCESS)
    RefreshLease.objects.create(user=merchant, owner="w1",
                                expires_at=timezone.now() + timedelta(minutes=5))
    assert refresh_status(merchant).running is True
    RefreshLease.objects.filter(user=merchant).update(
        expires_at=timezone.now() - timedelta(seconds=1))
    assert refresh_status(merchant).running is False  # its holder died
