"""The audit log of account changes, the merchant's /profile/activity and the staff's admin."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from apps.accounts import audit
from apps.accounts.models import AuditEntry, User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "fresh-Lantern-river-42"


def _changes(entry: AuditEntry) -> dict[str, tuple]:
    return {change["field"]: (change["old"], change["new"]) for change in entry.changes}


def _no_password_anywhere(*passwords: str) -> None:
    dumped = json.dumps(list(AuditEntry.objects.values()), default=str)
    for value in passwords:
        assert value not in dumped


# --- the merchant's own changes -------------------------------------------------------------------


def test_profile_changes_are_recorded_field_by_field(client, merchant):
    client.force_login(merchant)
    client.post("/profile/edit", {"first_name": "Иван", "last_name": "Сидоров",
                                  "phone": "+79161234567", "time_zone": "Asia/Omsk",
                                  "language": "ru"})
    entry = AuditEntry.objects.get()
    assert entry.action == "account.profile_changed"
    assert (entry.subject, entry.actor, entry.actor_kind, entry.source, entry.path) == (
        merchant, merchant, "merchant", "page", "/profile/edit")
    assert _changes(entry) == {"last_name": ("Петров", "Сидоров"),
                               "time_zone": ("Europe/Moscow", "Asia/Omsk")}


def test_a_password_change_is_recorded_as_replaced(client, merchant):
    client.force_login(merchant)
    response = client.post("/profile/password", {"old_password": PASSWORD,
                                                 "new_password1": NEW_PASSWORD,
                                                 "new_password2": NEW_PASSWORD})
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert entry.action == "account.password_changed"
    assert _changes(entry) == {"password": ("replaced", "replaced")}
    _no_password_anywhere(PASSWORD, NEW_PASSWORD, User.objects.get().password)


def test_a_password_set_from_the_reset_link_is_recorded_without_the_link(client, merchant):
    uid = urlsafe_base64_encode(force_bytes(merchant.pk))
    token = default_token_generator.make_token(merchant)
    page = client.get(f"/reset-password/{uid}/{token}", follow=True)
    client.post(page.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD,
                                             "new_password2": NEW_PASSWORD})
    entry = AuditEntry.objects.get()
    assert entry.action == "account.password_reset" and entry.subject == merchant
    assert token not in entry.path and entry.path == "/reset-password"


def test_deleting_the_account_keeps_whose_it_was(client, merchant):
    audit.record("sync.paused", subject=merchant)
    client.force_login(merchant)
    client.post("/profile/delete", {"password": PASSWORD})
    assert not User.objects.filter(pk=merchant.pk).exists()
    deleted = AuditEntry.objects.get(action="account.deleted")
    assert (deleted.subject, deleted.subject_email, deleted.actor_kind) == (
        None, "merchant@example.com", "merchant")
    # Earlier entries outlive the account too, unlinked but named.
    assert AuditEntry.objects.get(action="sync.paused").subject_email == "merchant@example.com"


# --- staff in the admin -------------------------------------------------------------------------


def _admin_change(client, user: User, **overrides):
    data = {"email": user.email, "first_name": user.first_name, "last_name": user.last_name,
            "phone": user.phone, "time_zone": user.time_zone, "language": user.language,
            "is_active": "on", "is_email_confirmed": "on",
            "date_joined_0": "2024-01-01", "date_joined_1": "10:00:00"}
    data.update(overrides)
    return client.post(reverse("admin:accounts_user_change", args=[user.pk]), data)


def test_an_email_change_in_the_admin_is_recorded_as_staff(client, staff_user, merchant):
    client.force_login(staff_user)
    response = _admin_change(client, merchant, email="ivan.new@example.com")
    assert response.status_code == 302, response.content.decode()[:2000]
    entry = AuditEntry.objects.get()
    assert entry.action == "account.changed"
    assert (entry.subject, entry.actor, entry.actor_kind, entry.source) == (
        merchant, staff_user, "staff", "admin")
    assert _changes(entry)["email"] == ("merchant@example.com", "ivan.new@example.com")


def test_a_password_set_in_the_admin_is_recorded(client, staff_user, merchant):
    client.force_login(staff_user)
    url = reverse("admin:auth_user_password_change", args=[merchant.pk])
    response = client.post(url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD,
                                 "usable_password": "true"})
    assert response.status_code == 302
    entry = AuditEntry.objects.get()
    assert entry.action == "account.password_changed" and entry.source == "admin"
    assert _changes(entry) == {"password": ("replaced", "replaced")}
    _no_password_anywhere(NEW_PASSWORD)


def test_deactivating_and_deleting_in_the_admin_are_recorded(client, staff_user, merchant):
    client.force_login(staff_user)
    changelist = reverse("admin:accounts_user_changelist")
    client.post(changelist, {"action": "deactivate", "_selected_action": [merchant.pk]})
    entry = AuditEntry.objects.get()
    assert entry.action == "account.deactivated" and entry.actor == staff_user
    client.post(reverse("admin:accounts_user_delete", args=[merchant.pk]), {"post": "yes"})
    deleted = AuditEntry.objects.get(action="account.deleted")
    assert deleted.subject_email == "merchant@example.com" and deleted.actor == staff_user


# --- /profile/activity -------------------------------------------------------------------------


def test_activity_needs_a_login(client):
    response = client.get("/profile/activity")
    assert response.status_code == 302 and response["Location"].startswith("/login")


def test_merchants_see_only_their_own_entries(client, merchant, other_merchant):
    audit.record("vk.connected", subject=merchant, changes=[
        {"field": "access_token", "old": "", "new": "replaced"}])
    audit.record("evotor.disconnected", subject=other_merchant)
    merchant.language = "en"
    merchant.save()
    client.force_login(merchant)
    html = client.get("/profile/activity").content.decode()
    assert "VK connected" in html and "Evotor disconnected" not in html
    assert "VK access token" in html and ": set" in html


def test_activity_is_in_the_merchants_time_zone_and_plain_words(client, merchant, staff_user):
    merchant.time_zone, merchant.language = "Asia/Vladivostok", "en"
    merchant.save()
    entry = audit.record("sync.paused", subject=merchant, actor=staff_user, actor_kind="staff",
                         source="admin", changes=[{"field": "paused_reason", "old": "",
                                                   "new": "проверка"}])
    AuditEntry.objects.filter(pk=entry.pk).update(created_at=datetime(2026, 3, 1, 1, 0, tzinfo=UTC))
    client.force_login(merchant)
    html = client.get("/profile/activity").content.decode()
    assert "Sync paused" in html and "EvoSync support" in html
    assert staff_user.email not in html
    assert "2026-03-01T11:00:00+10:00" in html  # 01:00 UTC is 11:00 in Vladivostok
    assert "— → проверка" in html


def test_activity_is_paginated(client, merchant):
    for _n in range(30):
        audit.record("sync.resumed", subject=merchant)
    client.force_login(merchant)
    first = client.get("/profile/activity")
    assert len(first.context["rows"]) == 25 and first.context["page"].has_next()
    assert len(client.get("/profile/activity?page=2").context["rows"]) == 5
    assert client.get("/profile/activity?page=x").status_code == 200


# --- the admin's audit log ------------------------------------------------------------------------


def test_the_admin_log_is_read_only(client, staff_user, merchant):
    entry = audit.record("vk.connected", subject=merchant)
    client.force_login(staff_user)
    assert client.get(reverse("admin:accounts_auditentry_changelist")).status_code == 200
    assert client.get(reverse("admin:accounts_auditentry_change", args=[entry.pk])
                      ).status_code == 200
    assert client.get(reverse("admin:accounts_auditentry_add")).status_code == 403
    assert client.post(reverse("admin:accounts_auditentry_delete", args=[entry.pk]),
                       {"post": "yes"}).status_code == 403
    assert AuditEntry.objects.filter(pk=entry.pk).exists()


def test_the_admin_log_filters_and_searches(client, staff_user, merchant, other_merchant):
    audit.record("vk.connected", subject=merchant)
    audit.record("evotor.connected", subject=other_merchant, actor_kind="evotor",
                 source="webhook")
    client.force_login(staff_user)
    url = reverse("admin:accounts_auditentry_changelist")
    found = client.get(url, {"q": "other@"}).context["cl"].result_list
    assert [e.subject_email for e in found] == ["other@example.com"]
    assert len(client.get(url, {"action": "vk.connected"}).context["cl"].result_list) == 1
    assert len(client.get(url, {"actor_kind__exact": "evotor"}).context["cl"].result_list) == 1
    assert len(client.get(url, {"source__exact": "webhook"}).context["cl"].result_list) == 1


def test_the_admin_log_list_does_no_n_plus_one(
    client, staff_user, merchant, django_assert_max_num_queries
):
    for n in range(35):
        audit.record("account.changed", subject=merchant, actor=staff_user, actor_kind="staff",
                     source="admin", changes=[{"field": "first_name", "old": n, "new": n + 1}])
    client.force_login(staff_user)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:accounts_auditentry_changelist"))
    assert response.status_code == 200
