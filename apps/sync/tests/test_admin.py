"""The back office: sync settings and their actions (audited), runs, links, the merchant's page
at a glance; no admin page costs a query per row; tokens never appear."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from model_bakery import baker

from apps.accounts.models import AuditEntry
from apps.catalog.models import CatalogRefresh, Product, ProductGroup, Store
from apps.connections.models import (
    ConnectionState,
    EvotorConnection,
    HealthCheckLog,
    VkConnection,
    WebhookEvent,
)
from apps.sync import tasks
from apps.sync.models import AlbumLink, ProductLink, SyncConfig, SyncFilter, SyncItemError, SyncJob

pytestmark = pytest.mark.django_db

ROWS = 32
CLOUD = "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6f"
ACCESS, REFRESH = "vk1.a.ACCESS-secret-token", "vk1.a.REFRESH-secret-token"


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def _connect(user, n: int) -> None:
    evotor = EvotorConnection(user=user, evotor_user_id=f"01-{n:015d}",
                              state=ConnectionState.ONLINE)
    evotor.cloud_token = CLOUD
    evotor.save()
    vk = VkConnection(user=user, group_id=1000 + n, group_name=f"Сообщество {n}",
                      state=ConnectionState.OFFLINE, last_error="The market is switched off.")
    vk.access_token, vk.refresh_token = ACCESS, REFRESH
    vk.save()


def _config(user) -> SyncConfig:
    config = SyncConfig.objects.create(user=user, is_enabled=True, vk_category_id=1,
                                       last_run_at=timezone.now())
    SyncFilter.objects.create(config=config, entity_type="group", entity_id="g1",
                              filter_mode="exclude", entity_name="Архив")
    return config


def _job(user, n: int = 0, errors: int = 0) -> SyncJob:
    job = SyncJob.objects.create(
        user=user, triggered_by=SyncJob.Trigger.SCHEDULE, status=SyncJob.Status.PARTIAL,
        started_at=timezone.now() - timedelta(minutes=n),
        finished_at=timezone.now() - timedelta(minutes=n) + timedelta(seconds=3),
        items_created=2, items_failed=errors,
    )
    for i in range(errors):
        SyncItemError.objects.create(job=job, evotor_product_id=f"p{i}", product_name=f"Товар {i}",
                                     code="vk:1408", vk_error_code=1408, message="rejected")
    return job


@pytest.fixture
def many_merchants(db):
    users = baker.make("accounts.User", _quantity=ROWS, email=iter(
        f"shop{n}@example.com" for n in range(ROWS)))
    for n, user in enumerate(users):
        _connect(user, n)
        _config(user)
        _job(user, n, errors=1)
        ProductLink.objects.create(user=user, vk_group_id=1000 + n, evotor_product_id=f"p{n}",
                                   vk_item_id=500000 + n, state="published")
        AlbumLink.objects.create(user=user, vk_group_id=1000 + n, evotor_group_id=f"g{n}",
                                 vk_album_id=n + 1, title=f"Группа {n}")
        store = baker.make(Store, user=user, evotor_id=f"s{n}", name=f"Магазин {n}")
        baker.make(ProductGroup, user=user, store=store, evotor_id=f"g{n}", name="Группа")
        baker.make(Product, user=user, store=store, evotor_id=f"p{n}", name="Кофе",
                   price=100, quantity=1)
        baker.make(CatalogRefresh, user=user)
        HealthCheckLog.objects.create(user=user, service="vk", event="offline")
        WebhookEvent.objects.create(source="evotor_hook", delivery_id=f"d{n}",
                                    event_type="ProductUpdated", user=user)
    return users


# --- no N+1 -------------------------------------------------------------------------------------

CHANGELISTS = [
    "sync_syncconfig", "sync_syncjob", "sync_productlink", "sync_albumlink", "accounts_user",
    "accounts_auditentry", "connections_evotorconnection", "connections_vkconnection",
    "connections_healthchecklog", "connections_webhookevent", "catalog_store",
    "catalog_productgroup", "catalog_product", "catalog_catalogrefresh",
]


@pytest.mark.parametrize("model", CHANGELISTS)
def test_changelists_cost_the_same_for_many_rows(
    admin_client, many_merchants, model, django_assert_max_num_queries
):
    with django_assert_max_num_queries(15):
        response = admin_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    html = response.content.decode()
    for secret in (CLOUD, ACCESS, REFRESH):
        assert secret not in html


def _one(model):
    return model.objects.order_by("pk").first()


@pytest.mark.parametrize("model,pick", [
    ("sync_syncconfig", lambda: _one(SyncConfig)),
    ("sync_syncjob", lambda: _one(SyncJob)),
    ("sync_productlink", lambda: _one(ProductLink)),
    ("sync_albumlink", lambda: _one(AlbumLink)),
    ("accounts_user", lambda: _one(SyncConfig).user),
    ("catalog_product", lambda: _one(Product)),
    ("catalog_catalogrefresh", lambda: _one(CatalogRefresh)),
    ("connections_evotorconnection", lambda: _one(EvotorConnection)),
    ("connections_vkconnection", lambda: _one(VkConnection)),
])
def test_change_pages_cost_a_bounded_number_of_queries(
    admin_client, many_merchants, model, pick, django_assert_max_num_queries
):
    obj = pick()
    for n in range(ROWS):  # a long history must not cost a query per run or per error
        _job(obj if model == "accounts_user" else many_merchants[0], n + 100, errors=2)
    with django_assert_max_num_queries(25):
        response = admin_client.get(reverse(f"admin:{model}_change", args=[obj.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for secret in (CLOUD, ACCESS, REFRESH):
        assert secret not in html


def test_a_run_with_many_item_errors_is_one_page_of_bounded_queries(
    admin_client, merchant, django_assert_max_num_queries
):
    job = _job(merchant, errors=40)
    with django_assert_max_num_queries(15):
        response = admin_client.get(reverse("admin:sync_syncjob_change", args=[job.pk]))
    html = response.content.decode()
    assert html.count("vk:1408") >= 40 and "Товар 39" in html


# --- the merchant at a glance ---------------------------------------------------------------------


def test_the_merchants_page_shows_connections_settings_and_last_runs(admin_client, merchant):
    _connect(merchant, 7)
    config = _config(merchant)
    jobs = [_job(merchant, n) for n in range(12)]
    html = admin_client.get(reverse("admin:accounts_user_change", args=[merchant.pk])
                            ).content.decode()
    assert "01-000000000000007" in html and "Сообщество 7" in html
    assert "The market is switched off." in html
    assert reverse("admin:sync_syncconfig_change", args=[config.pk]) in html
    assert reverse("admin:sync_syncjob_change", args=[jobs[0].pk]) in html
    assert reverse("admin:sync_syncjob_change", args=[jobs[9].pk]) in html
    assert reverse("admin:sync_syncjob_change", args=[jobs[10].pk]) not in html  # 10 shown
    for secret in (CLOUD, ACCESS, REFRESH):
        assert secret not in html


def test_a_merchant_without_anything_yet_has_a_page(admin_client, merchant):
    response = admin_client.get(reverse("admin:accounts_user_change", args=[merchant.pk]))
    assert response.status_code == 200
    assert admin_client.get(reverse("admin:accounts_user_add")).status_code == 200


# --- actions --------------------------------------------------------------------------------------


def _act(client, action: str, *configs: SyncConfig):
    return client.post(reverse("admin:sync_syncconfig_changelist"), {
        "action": action, "_selected_action": [config.pk for config in configs]})


def test_sync_now_requests_a_manual_run_and_is_audited(
    admin_client, staff_user, merchant, monkeypatch
):
    config = _config(merchant)
    requested = []
    monkeypatch.setattr(tasks, "request_sync",
                        lambda user_id, trigger, **kw: requested.append((user_id, trigger)) or True)
    assert _act(admin_client, "sync_now", config).status_code == 302
    assert requested == [(merchant.pk, "manual")]
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.subject, entry.actor, entry.actor_kind, entry.source) == (
        "sync.run_requested", merchant, staff_user, "staff", "admin")


def test_pause_and_resume_are_applied_and_audited(admin_client, staff_user, merchant):
    config = _config(merchant)
    SyncConfig.objects.filter(pk=config.pk).update(consecutive_failures=2)
    _act(admin_client, "pause", config)
    config.refresh_from_db()
    assert config.is_paused and config.paused_at is not None
    paused = AuditEntry.objects.get()
    assert paused.action == "sync.paused" and paused.source == "admin"
    assert paused.changes == [{"field": "paused_reason", "old": "",
                               "new": "paused by EvoSync support in the admin"}]
    _act(admin_client, "resume", config)
    config.refresh_from_db()
    assert not config.is_paused and config.consecutive_failures == 0
    resumed = AuditEntry.objects.latest("id")
    assert resumed.action == "sync.resumed" and resumed.actor == staff_user
    assert {c["field"] for c in resumed.changes} == {"paused_reason", "consecutive_failures"}


def test_pausing_a_paused_sync_changes_and_records_nothing(admin_client, merchant):
    config = _config(merchant)
    SyncConfig.objects.filter(pk=config.pk).update(paused_reason="5 failed runs")
    _act(admin_client, "pause", config)
    config.refresh_from_db()
    assert config.paused_reason == "5 failed runs" and not AuditEntry.objects.exists()


def test_editing_settings_in_the_admin_is_audited(admin_client, staff_user, merchant):
    config = _config(merchant)
    url = reverse("admin:sync_syncconfig_change", args=[config.pk])
    form = admin_client.get(url).context["adminform"].form
    data = {name: value for name, value in form.initial.items()
            if name in form.fields and value is not None}
    data.update({"is_enabled": "on", "markup_percent": "15", "albums_enabled": "on",
                 "manage_name": "on", "manage_price": "on",
                 "filters-TOTAL_FORMS": "1", "filters-INITIAL_FORMS": "1",
                 "filters-MIN_NUM_FORMS": "0", "filters-MAX_NUM_FORMS": "1000",
                 "filters-0-id": SyncFilter.objects.get().pk, "filters-0-config": config.pk,
                 "filters-0-entity_type": "group", "filters-0-entity_id": "g1",
                 "filters-0-entity_name": "Архив", "filters-0-filter_mode": "exclude",
                 "filters-0-DELETE": "on"})
    response = admin_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    settings_entry = AuditEntry.objects.get(action="sync.settings_changed")
    changed = {c["field"]: (c["old"], c["new"]) for c in settings_entry.changes}
    assert changed["markup_percent"] == ("0.00", "15")
    assert settings_entry.actor == staff_user
    assert AuditEntry.objects.filter(action="sync.filters_changed").exists()
    assert not SyncFilter.objects.exists()


# --- read-only records ----------------------------------------------------------------------------


def test_runs_and_links_are_read_only(admin_client, merchant):
    job = _job(merchant, errors=1)
    link = ProductLink.objects.create(user=merchant, vk_group_id=1, evotor_product_id="p1")
    assert admin_client.get(reverse("admin:sync_syncjob_add")).status_code == 403
    assert admin_client.get(reverse("admin:sync_productlink_add")).status_code == 403
    admin_client.post(reverse("admin:sync_syncjob_change", args=[job.pk]),
                      {"status": "success"})
    job.refresh_from_db()
    assert job.status == SyncJob.Status.PARTIAL
    admin_client.post(reverse("admin:sync_productlink_change", args=[link.pk]),
                      {"vk_item_id": "99"})
    link.refresh_from_db()
    assert link.vk_item_id is None
    assert admin_client.post(reverse("admin:sync_syncjob_delete", args=[job.pk]),
                             {"post": "yes"}).status_code == 403


def test_runs_filter_by_status_trigger_and_date(admin_client, merchant):
    _job(merchant)
    SyncJob.objects.create(user=merchant, triggered_by="manual", status="success")
    url = reverse("admin:sync_syncjob_changelist")
    assert len(admin_client.get(url, {"status__exact": "success"}).context["cl"].result_list) == 1
    assert len(admin_client.get(url, {"triggered_by__exact": "schedule"}
                                ).context["cl"].result_list) == 1
    today = timezone.localdate()
    assert len(admin_client.get(url, {"started_at__year": today.year}
                                ).context["cl"].result_list) == 2


@pytest.mark.parametrize("query", ["p7", "500007", "shop7@example.com"])
def test_product_links_are_found_by_evotor_id_vk_item_or_email(admin_client, many_merchants,
                                                               query):
    found = admin_client.get(reverse("admin:sync_productlink_changelist"), {"q": query}
                             ).context["cl"].result_list
    assert [link.evotor_product_id for link in found] == ["p7"]
