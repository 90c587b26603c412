"""The sync pages: settings, preview, switching on and off, sync now, history, one run.

VK is mocked at the HTTP boundary (responses) with only the read methods the pages may call,
so any write the pages attempted would fail the test loudly. Texts are asserted in English
(merchant.language = "en"); Russian comes from the translations.
"""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import responses
from django.test import Client
from django.utils import timezone
from model_bakery import baker

from apps.accounts.models import AuditEntry
from apps.catalog.models import Product, ProductGroup, Store
from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
from apps.sync import tasks
from apps.sync.models import ProductLink, SyncConfig, SyncFilter, SyncItemError, SyncJob

pytestmark = pytest.mark.django_db

VK = "http://vk.invalid/method/"
GROUP_ID = 4242
CATEGORY = 20001

GET_PAGES = ["/sync", "/sync/preview", "/sync/enable", "/sync/jobs", "/sync/jobs/1",
             "/sync/jobs/1/progress"]
POST_ACTIONS = ["/sync/example", "/sync/enable", "/sync/disable", "/sync/resume", "/sync/run",
                "/sync/jobs/1/retry"]


# --- fixtures -----------------------------------------------------------------------------------


def connect_evotor(user, state=ConnectionState.ONLINE) -> EvotorConnection:
    connection = EvotorConnection(user=user, evotor_user_id=f"01-{user.pk:015d}", state=state)
    connection.cloud_token = "evotor-cloud-token"
    connection.save()
    return connection


def connect_vk(user, group_id: int | None = GROUP_ID, state=ConnectionState.ONLINE):
    connection = VkConnection(user=user, connection_type=VkConnection.Type.MANUAL,
                              group_id=group_id, group_name="Кофейня", state=state)
    connection.access_token = "vk-user-token"
    connection.save()
    return connection


@pytest.fixture
def merchant_en(merchant):
    merchant.language = "en"
    merchant.save(update_fields=["language"])
    return merchant


@pytest.fixture
def page(client, merchant_en):
    client.force_login(merchant_en)
    return client


@pytest.fixture
def goods(merchant_en):
    """Two stores; the first by name («Магазин на Ленина») has a group and three products."""
    lenina = baker.make(Store, user=merchant_en, evotor_id="S1", name="Магазин на Ленина")
    baker.make(Store, user=merchant_en, evotor_id="S2", name="Склад на Мира")
    baker.make(ProductGroup, user=merchant_en, store=lenina, evotor_id="G1", name="Напитки")

    def product(evotor_id, name, price, **fields):
        return baker.make(Product, user=merchant_en, store=lenina, evotor_id=evotor_id,
                          name=name, price=Decimal(price), group_evotor_id="G1",
                          quantity=Decimal(5), **fields)

    return {
        "latte": product("P1", "Латте большой", "250", description="Двойной эспрессо"),
        "tea": product("P2", "Чай чёрный", "90"),
        "free": product("P3", "Пакет", "0"),
    }


@pytest.fixture
def ready(merchant_en, goods):
    """Everything sync needs: confirmed email, both connections, a category."""
    connect_evotor(merchant_en)
    connect_vk(merchant_en)
    config = SyncConfig.objects.create(user=merchant_en, vk_category_id=CATEGORY,
                                       vk_category_name="Кофе")
    return config


@pytest.fixture
def vk():
    """VK answering reads only; an unregistered (write) method raises ConnectionError."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.post(VK + "market.get", json={"response": {"count": 0, "items": []}})
        mock.post(VK + "market.getCategories", json={"response": {"items": [
            {"id": 10001, "name": "Продукты питания", "children": [
                {"id": 20001, "name": "Кофе"}, {"id": 20002, "name": "Чай"}]},
            {"id": 1100, "name": "Услуги", "children": [{"id": 1200, "name": "Доставка"}]},
        ]}})
        yield mock


def methods(mock) -> list[str]:
    return [call.request.url.rsplit("/", 1)[-1] for call in mock.calls]


@pytest.fixture
def queued(monkeypatch):
    """request_sync recorded instead of run (tests that need a run use the sandbox)."""
    calls = []
    monkeypatch.setattr(tasks, "request_sync",
                        lambda user_id, trigger, only=None: calls.append((user_id, trigger, only)))
    return calls


def text(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def flashes(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


# --- access --------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", GET_PAGES)
def test_every_page_needs_a_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", POST_ACTIONS)
def test_every_action_needs_a_sign_in(client, path):
    response = client.post(path)
    assert response.status_code == 302 and response["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", ["/sync/disable", "/sync/resume", "/sync/run", "/sync/example"])
def test_actions_are_post_only(page, path):
    assert page.get(path).status_code == 405


def test_posts_need_the_csrf_token(merchant_en, ready, queued, vk):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(merchant_en)
    for path in ("/sync", "/sync/run", "/sync/disable", "/sync/enable"):
        assert strict.post(path, {"markup_percent": "10"}).status_code == 403
    assert queued == []
    settings_page = strict.get("/sync")
    token = settings_page.cookies["csrftoken"].value
    response = strict.post("/sync/disable", {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


@pytest.fixture
def others_job(other_merchant):
    job = baker.make(SyncJob, user=other_merchant, status=SyncJob.Status.PARTIAL,
                     triggered_by=SyncJob.Trigger.MANUAL, items_failed=1)
    baker.make(SyncItemError, job=job, evotor_product_id="X1", code="vk:1408")
    return job


def test_another_merchants_runs_are_404(page, others_job, queued):
    for path in (f"/sync/jobs/{others_job.pk}", f"/sync/jobs/{others_job.pk}/progress"):
        assert page.get(path).status_code == 404
    assert page.post(f"/sync/jobs/{others_job.pk}/retry").status_code == 404
    assert queued == []
    assert f'data-job="{others_job.pk}"' not in text(page.get("/sync/jobs"))


# --- settings ------------------------------------------------------------------------------------


def test_settings_page_lists_stores_categories_and_an_example(page, ready, vk):
    response = page.get("/sync")
    assert response.status_code == 200
    body = text(response)
    # No store filter: the first store by name is the one published, and the page says so.
    assert "(the first store by name)" in body and "«Магазин на Ленина»" in body
    assert '<optgroup label="Продукты питания">' in body
    assert '<option value="20001" selected>Кофе</option>' in body
    # The example is one of the merchant's own products, rendered by the real transform.
    assert "Латте большой" in body and "Двойной эспрессо" in body
    # Categories come from VK once, then from the cache.
    page.get("/sync")
    assert methods(vk) == ["market.getCategories"]


def test_saving_settings_records_the_change_and_the_stores(page, ready, vk, merchant_en):
    form = {
        "stores": ["S2"], "vk_category_id": "20002", "markup_percent": "10",
        "rounding": "ninety_nine", "min_price": "100", "description_template": "{name} — {price} ₽",
        "out_of_stock": "zero", "removal": "delete", "albums_enabled": "on",
        "manage_name": "on", "manage_price": "on",
    }
    response = page.post("/sync", form)
    assert response.status_code == 302 and response["Location"] == "/sync"
    config = SyncConfig.objects.get(user=merchant_en)
    assert (config.vk_category_id, config.vk_category_name) == (20002, "Чай")
    assert config.markup_percent == Decimal("10.00") and config.rounding == "ninety_nine"
    assert (config.out_of_stock, config.removal) == ("zero", "delete")
    assert not config.manage_description and config.manage_price
    store_filters = SyncFilter.objects.filter(config=config, entity_type="store")
    assert list(store_filters.values_list("entity_id", "filter_mode", "entity_name")) == [
        ("S2", "include", "Склад на Мира")]
    entry = AuditEntry.objects.get(action="sync.settings")
    assert entry.subject == merchant_en and entry.actor == merchant_en
    changed = {c["field"]: (c["old"], c["new"]) for c in entry.changes}
    assert changed["markup_percent"] == ("0.00", "10")
    assert changed["stores"] == ("", "Склад на Мира")
    assert changed["vk_category_id"] == (CATEGORY, 20002)
    # Unticking every store goes back to the default store.
    page.post("/sync", {**form, "stores": []})
    assert not SyncFilter.objects.filter(config=config, entity_type="store").exists()


def test_saving_unchanged_settings_writes_no_audit_entry(page, ready, vk):
    form = page.get("/sync").context["form"]
    data = {name: value for name, value in form.initial.items() if value not in (None, False)}
    data["stores"] = []
    page.post("/sync", data)
    assert not AuditEntry.objects.filter(action="sync.settings").exists()


@pytest.mark.parametrize("field,value,error", [
    ("markup_percent", "5000", "less than or equal to 1000"),
    ("markup_percent", "-95", "greater than or equal to -90"),
    ("markup_percent", "много", "Enter a number."),
    ("min_price", "-1", "greater than or equal to 0"),
    ("description_template", "x" * 3001, "at most 3000 characters"),
    ("rounding", "sometimes", "Select a valid choice."),
    ("vk_category_id", "999999", "Select a valid choice."),
])
def test_field_errors_keep_the_settings(page, ready, vk, field, value, error):
    data = {"markup_percent": "0", "rounding": "none", "min_price": "0",
            "description_template": "{name}", "out_of_stock": "hide", "removal": "hide",
            field: value}
    response = page.post("/sync", data)
    assert response.status_code == 200
    assert error in " ".join(response.context["form"].errors[field])
    assert SyncConfig.objects.get(pk=ready.pk).markup_percent == 0
    assert not AuditEntry.objects.exists()


def test_a_template_with_a_link_is_saved_with_a_warning(page, ready, vk):
    data = {"markup_percent": "0", "rounding": "none", "min_price": "0",
            "description_template": "{name}\nЗаказ на shop.example.ru", "out_of_stock": "hide",
            "removal": "hide", "vk_category_id": str(CATEGORY)}
    response = page.post("/sync", data, follow=True)
    assert any("VK refuses links in descriptions" in m for m in flashes(response))


def test_the_example_follows_the_values_being_typed(page, ready):
    response = page.post("/sync/example", {
        "description_template": "{name}: {price} ₽ {prise}\nhttps://evil.example.com",
        "markup_percent": "10", "rounding": "tens", "min_price": "0",
    })
    data = response.json()
    assert data["available"] and data["product"] == "Латте большой"
    assert data["price"] == "280 ₽"  # 250 + 10 % = 275, up to tens
    assert data["description"].startswith("Латте большой: 280 ₽ {prise}")
    assert "evil.example.com" not in data["description"]
    warnings = " ".join(data["warnings"])
    assert "{prise}" in warnings and "VK refuses links" in warnings


def test_the_example_is_not_an_excluded_product(page, ready, goods):
    SyncFilter.objects.create(config=ready, entity_type="product", entity_id="P1",
                              filter_mode="exclude")
    assert page.post("/sync/example", {"description_template": "{name}"}).json()[
        "product"] == "Чай чёрный"


def test_the_example_reports_a_too_long_template(page, ready):
    data = page.post("/sync/example", {"description_template": "x" * 3001}).json()
    assert "at most 3000 characters" in data["errors"][0]


def test_the_example_without_products(page, merchant_en):
    assert page.post("/sync/example", {"description_template": "{name}"}).json() == {
        "available": False, "errors": []}


def test_settings_without_vk_still_work(page, merchant_en):
    response = page.get("/sync")
    body = text(response)
    assert response.status_code == 200
    assert "could not be loaded from VK" in body
    assert "Evotor is not connected." in body and 'href="/evotor"' in body


# --- preview ------------------------------------------------------------------------------------


def test_preview_lists_what_the_next_run_would_do_and_writes_nothing(page, ready, vk):
    response = page.get("/sync/preview")
    assert response.status_code == 200
    tiles = {t["name"]: t["count"] for t in response.context["tiles"]}
    assert tiles["create"] == 2 and tiles["invalid"] == 1
    rows = {r.name: r for r in response.context["rows"]}
    assert rows["Латте большой"].action == "create"
    assert rows["Пакет"].action == "invalid" and rows["Пакет"].reason == "no price in Evotor"
    body = text(response)
    assert f'href="/catalog/products/{rows["Латте большой"].product_pk}"' in body
    assert set(methods(vk)) == {"market.get"}
    assert not ProductLink.objects.exists() and not SyncJob.objects.exists()


def test_preview_filters_by_action(page, ready, vk):
    rows = page.get("/sync/preview", {"action": "invalid"}).context["rows"]
    assert [r.name for r in rows] == ["Пакет"]
    assert len(page.get("/sync/preview", {"action": "nonsense"}).context["rows"]) == 3


def test_preview_pages_by_fifty(page, ready, vk, goods, merchant_en):
    store = goods["latte"].store
    baker.make(Product, user=merchant_en, store=store, price=Decimal(10), quantity=Decimal(1),
               name=iter(f"Товар {i:03d}" for i in range(60)),
               evotor_id=iter(f"Q{i}" for i in range(60)), _quantity=60)
    first = page.get("/sync/preview", {"action": "create"})
    assert len(first.context["rows"]) == 50 and first.context["page"].paginator.num_pages == 2
    assert "action=create&page=2" in text(first)
    second = page.get("/sync/preview", {"action": "create", "page": 2})
    assert len(second.context["rows"]) == 12


@pytest.mark.parametrize("missing,message", [
    ("evotor", "Evotor is not connected."),
    ("vk", "VK is not connected, or no community is chosen."),
    ("community", "VK is not connected, or no community is chosen."),
    ("category", "No VK category is chosen for the goods."),
])
def test_preview_says_what_is_missing(page, ready, merchant_en, missing, message):
    if missing == "evotor":
        EvotorConnection.objects.filter(user=merchant_en).update(state=ConnectionState.REVOKED)
    elif missing == "vk":
        VkConnection.objects.filter(user=merchant_en).delete()
    elif missing == "community":
        VkConnection.objects.filter(user=merchant_en).update(group_id=None)
    else:
        SyncConfig.objects.filter(pk=ready.pk).update(vk_category_id=None)
    response = page.get("/sync/preview")
    assert response.status_code == 200
    assert message in text(response)


@pytest.mark.parametrize("error,message", [
    ({"error_code": 5, "error_msg": "User authorization failed"}, "VK no longer accepts"),
    ({"error_code": 1438, "error_msg": "Market is disabled"}, "switched off in the VK community"),
])
def test_preview_explains_a_vk_refusal(page, ready, error, message):
    with responses.RequestsMock() as mock:
        mock.post(VK + "market.get", json={"error": {**error, "request_params": []}})
        response = page.get("/sync/preview")
    assert response.status_code == 200
    body = text(response)
    assert message in body and "User authorization failed" not in body


def test_preview_when_vk_is_down(page, ready):
    with responses.RequestsMock() as mock:
        mock.post(VK + "market.get", status=503)
        response = page.get("/sync/preview")
    assert response.status_code == 200
    assert "VK is temporarily unavailable." in text(response)


# --- switching on --------------------------------------------------------------------------------


@pytest.mark.parametrize("missing,message", [
    ("email", "Your email address is not confirmed yet."),
    ("evotor", "Evotor is not connected."),
    ("evotor_revoked", "Evotor is not connected."),
    ("vk", "VK is not connected, or no community is chosen."),
    ("vk_revoked", "VK is not connected, or no community is chosen."),
    ("community", "VK is not connected, or no community is chosen."),
    ("category", "No VK category is chosen for the goods."),
])
def test_enable_is_refused_with_the_precise_reason(page, ready, merchant_en, queued, vk,
                                                   missing, message):
    if missing == "email":
        merchant_en.is_email_confirmed = False
        merchant_en.save(update_fields=["is_email_confirmed"])
    elif missing == "evotor":
        EvotorConnection.objects.filter(user=merchant_en).delete()
    elif missing == "evotor_revoked":
        EvotorConnection.objects.filter(user=merchant_en).update(state=ConnectionState.REVOKED)
    elif missing == "vk":
        VkConnection.objects.filter(user=merchant_en).delete()
    elif missing == "vk_revoked":
        VkConnection.objects.filter(user=merchant_en).update(state=ConnectionState.REVOKED)
    elif missing == "community":
        VkConnection.objects.filter(user=merchant_en).update(group_id=None)
    else:
        SyncConfig.objects.filter(pk=ready.pk).update(vk_category_id=None)
    for response in (page.post("/sync/enable", {"confirm": "1"}), page.get("/sync/enable")):
        assert response.status_code == 302 and response["Location"] == "/sync"
        assert any(message in m for m in flashes(response))
    config = SyncConfig.objects.get(pk=ready.pk)
    assert not config.is_enabled and config.confirmed_at is None
    assert queued == [] and not AuditEntry.objects.exists()
    assert message in text(page.get("/sync"))  # and the settings page says it before asking


def test_the_first_enable_asks_for_confirmation_with_the_counts(page, ready, vk, queued,
                                                                merchant_en):
    settings_page = text(page.get("/sync"))
    assert 'href="/sync/enable" id="sync-enable"' in settings_page
    response = page.get("/sync/enable")
    assert response.status_code == 200
    tiles = {t["name"]: t["count"] for t in response.context["tiles"]}
    assert tiles["create"] == 2
    assert 'name="confirm" value="1"' in text(response)
    # A POST without the confirmation shows the same page and switches nothing on.
    assert page.post("/sync/enable").status_code == 200
    assert not SyncConfig.objects.get(pk=ready.pk).is_enabled
    response = page.post("/sync/enable", {"confirm": "1"})
    assert response.status_code == 302 and response["Location"] == "/sync/jobs"
    config = SyncConfig.objects.get(pk=ready.pk)
    assert config.is_enabled and config.confirmed_at is not None
    # The first run is recorded as what caused it, not as the "Sync now" button.
    assert queued == [(merchant_en.pk, SyncJob.Trigger.ENABLE, None)]
    entry = AuditEntry.objects.get(action="sync.enable")
    assert {c["field"] for c in entry.changes} == {"is_enabled", "confirmed_at"}
    assert set(methods(vk)) <= {"market.get", "market.getCategories"}


def test_later_enables_need_no_confirmation(page, ready, queued, vk):
    SyncConfig.objects.filter(pk=ready.pk).update(confirmed_at=timezone.now())
    assert 'action="/sync/enable"' in text(page.get("/sync"))
    response = page.post("/sync/enable")
    assert response.status_code == 302
    assert SyncConfig.objects.get(pk=ready.pk).is_enabled and len(queued) == 1


def test_disable_any_time(page, ready, queued):
    SyncConfig.objects.filter(pk=ready.pk).update(is_enabled=True, confirmed_at=timezone.now())
    response = page.post("/sync/disable")
    assert response.status_code == 302
    assert not SyncConfig.objects.get(pk=ready.pk).is_enabled
    entry = AuditEntry.objects.get(action="sync.disable")
    assert entry.changes == [{"field": "is_enabled", "old": True, "new": False}]


def test_resume_a_paused_sync(page, ready, queued, merchant_en, vk):
    SyncConfig.objects.filter(pk=ready.pk).update(
        is_enabled=True, confirmed_at=timezone.now(), paused_reason="5 failed runs in a row",
        paused_at=timezone.now(), consecutive_failures=5,
    )
    baker.make(SyncJob, user=merchant_en, status=SyncJob.Status.FAILED, error_code="vk_auth",
               triggered_by="schedule")
    body = text(page.get("/sync"))
    assert 'id="sync-resume"' in body and "VK no longer accepts" in body
    assert 'id="sync-paused"' in body and "paused itself after 5 failed runs in a row" in body
    response = page.post("/sync/resume")
    assert response.status_code == 302
    config = SyncConfig.objects.get(pk=ready.pk)
    assert not config.is_paused and config.consecutive_failures == 0
    assert queued == [(merchant_en.pk, SyncJob.Trigger.RESUME, None)]
    assert AuditEntry.objects.filter(action="sync.resume").exists()
    assert page.post("/sync/resume").status_code == 302 and len(queued) == 1



def test_a_pause_by_support_is_lifted_by_support_only(page, ready, queued, merchant_en, vk):
    SyncConfig.objects.filter(pk=ready.pk).update(
        is_enabled=True, confirmed_at=timezone.now(), paused_reason=SyncConfig.PAUSED_BY_STAFF,
        paused_at=timezone.now(),
    )
    body = text(page.get("/sync"))
    assert 'id="sync-resume"' not in body and "paused by EvoSync support" in body
    response = page.post("/sync/resume", follow=True)
    assert "write to support" in text(response)
    config = SyncConfig.objects.get(pk=ready.pk)
    assert config.paused_by_staff and queued == []
    assert not AuditEntry.objects.filter(action="sync.resume").exists()


# --- sync now ------------------------------------------------------------------------------------


@pytest.fixture
def enabled(ready):
    SyncConfig.objects.filter(pk=ready.pk).update(is_enabled=True, confirmed_at=timezone.now())
    ready.refresh_from_db()
    return ready


def test_sync_now_queues_a_run(page, enabled, queued, merchant_en):
    response = page.post("/sync/run")
    assert response.status_code == 302
    assert queued == [(merchant_en.pk, "manual", None)]


@pytest.mark.parametrize("how", ["lease", "job"])
def test_sync_now_while_a_run_goes_says_so(page, enabled, queued, merchant_en, how):
    if how == "lease":
        SyncConfig.objects.filter(pk=enabled.pk).update(
            lease_owner="someone", lease_expires_at=timezone.now() + timedelta(minutes=5))
    else:
        baker.make(SyncJob, user=merchant_en, status=SyncJob.Status.RUNNING,
                   triggered_by="schedule")
    response = page.post("/sync/run")
    assert any("already running" in m for m in flashes(response))
    assert queued == []


def test_sync_now_when_switched_off(page, ready, queued):
    response = page.post("/sync/run")
    assert any("Sync is switched off." in m for m in flashes(response))
    assert queued == []


# --- history and one run -------------------------------------------------------------------------


def test_history_lists_the_merchants_runs_in_their_zone(page, merchant_en, others_job):
    merchant_en.time_zone = "Asia/Vladivostok"
    merchant_en.save(update_fields=["time_zone"])
    started = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
    job = baker.make(SyncJob, user=merchant_en, status=SyncJob.Status.PARTIAL,
                     triggered_by="webhook", started_at=started,
                     finished_at=started + timedelta(seconds=75), items_created=3,
                     items_failed=1, error_code="albums_capped")
    response = page.get("/sync/jobs")
    body = text(response)
    assert f'data-job="{job.pk}"' in body and f'data-job="{others_job.pk}"' not in body
    assert "March 1, 2026, 7 p.m." in body  # 09:00 UTC is 19:00 in Vladivostok
    assert "Change in Evotor" in body and "1 min 15 s" in body
    assert "3 items created" in body and "1 error" in body
    assert "collections (подборки) is reached" in body


def test_history_pages_by_fifty(page, merchant_en):
    baker.make(SyncJob, user=merchant_en, triggered_by="schedule", status="success",
               _quantity=55)
    assert len(page.get("/sync/jobs").context["page"]) == 50
    assert len(page.get("/sync/jobs", {"page": 2}).context["page"]) == 5


@pytest.fixture
def failed_run(merchant_en, goods):
    job = baker.make(SyncJob, user=merchant_en, status=SyncJob.Status.PARTIAL,
                     triggered_by="manual", finished_at=timezone.now(), items_created=1,
                     items_failed=4, error_code="album_full")
    rows = [
        ("P1", "Латте большой", "vk:1408", "Links are not allowed"),
        ("P2", "Чай чёрный", "vk:1408", "Links are not allowed"),
        ("P3", "Пакет", "vk:100", "One of the parameters specified was missing or invalid: "
                              "photo is undefined"),
        ("GONE", "Старый товар", "vk:moderation", "Запрещённый товар"),
    ]
    for product_id, name, code, message in rows:
        baker.make(SyncItemError, job=job, evotor_product_id=product_id, product_name=name,
                   code=code, message=message)
    return job


def test_a_run_groups_its_failures_by_cause(page, failed_run, goods):
    response = page.get(f"/sync/jobs/{failed_run.pk}")
    assert response.status_code == 200
    groups = response.context["groups"]
    assert [(g.key, len(g.items)) for g in groups] == [
        ("vk:1408", 2), ("vk:100:1", 1), ("vk:moderation", 1)]
    body = text(response)
    assert "VK does not allow links in the item's description." in body
    assert "Remove web addresses" in body
    assert "VK refused the product photo." in body
    assert "Запрещённый товар" in body  # moderation's own reason is the merchant's to read
    assert "Links are not allowed" not in body  # VK's English is not
    assert f'href="/catalog/products/{goods["latte"].pk}"' in body
    assert "Старый товар" in body  # gone from the catalog: named, not linked
    assert "A collection (подборка) is full" in body
    assert 'id="sync-retry"' in body and "w-100" in body


def test_a_run_page_costs_a_few_queries(page, failed_run, django_assert_max_num_queries):
    with django_assert_max_num_queries(12):
        page.get(f"/sync/jobs/{failed_run.pk}")


def test_retry_failed_items(page, failed_run, enabled, queued, merchant_en):
    response = page.post(f"/sync/jobs/{failed_run.pk}/retry")
    assert response.status_code == 302
    assert queued == [(merchant_en.pk, "retry", ["GONE", "P1", "P2", "P3"])]


def test_retry_when_sync_is_off(page, failed_run, ready, queued):
    response = page.post(f"/sync/jobs/{failed_run.pk}/retry")
    assert any("Sync is switched off." in m for m in flashes(response)) and queued == []


def test_progress_of_a_running_run(page, merchant_en):
    job = baker.make(SyncJob, user=merchant_en, status=SyncJob.Status.RUNNING,
                     triggered_by="manual", progress_done=30, progress_total=120,
                     items_created=25, items_failed=1)
    body = text(page.get(f"/sync/jobs/{job.pk}"))
    assert f'data-progress-url="/sync/jobs/{job.pk}/progress"' in body
    assert 'data-percent="25"' in body and "/static/js/sync.js" in body
    assert "<script>" not in body and 'style="' not in body
    data = json.loads(page.get(f"/sync/jobs/{job.pk}/progress").content)
    assert data == {
        "status": "running", "status_label": "running", "finished": False, "done": 30,
        "total": 120, "percent": 25,
        "counts": {"created": 25, "updated": 0, "hidden": 0, "deleted": 0, "skipped": 0,
                   "failed": 1},
        # The words under each number agree with it (the page's script swaps them in).
        "labels": {"created": "items created", "updated": "items updated",
                   "hidden": "items hidden", "deleted": "items deleted",
                   "skipped": "items skipped", "failed": "error"},
    }
    SyncJob.objects.filter(pk=job.pk).update(status="success", finished_at=timezone.now())
    data = page.get(f"/sync/jobs/{job.pk}/progress").json()
    assert data["finished"] and data["percent"] == 100


def test_a_finished_run_is_not_polled(page, merchant_en):
    job = baker.make(SyncJob, user=merchant_en, status="success", triggered_by="manual",
                     finished_at=timezone.now())
    body = text(page.get(f"/sync/jobs/{job.pk}"))
    assert "data-progress-url" not in body and "No item failed in this run." in body
