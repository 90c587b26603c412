"""The user admin: find merchants, create ready-to-use accounts, resend, deactivate, delete."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from apps.accounts.signals import account_deleting
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()
CHANGELIST = "/admin/accounts/user/"


@pytest.fixture
def admin_client(client, staff_user):
    client.force_login(staff_user)
    return client


def test_the_list_shows_the_useful_columns_and_filters(admin_client, merchant):
    html = admin_client.get(CHANGELIST).content.decode()
    assert "merchant@example.com" in html and "+79161234567" in html
    for column in ("column-is_email_confirmed", "column-is_active", "column-date_joined"):
        assert column in html
    assert "is_email_confirmed__exact" in html  # the filter sidebar


@pytest.mark.parametrize("query", ["MERCHANT@example", "Петров", "9161234567"])
def test_search_finds_by_email_name_or_phone(admin_client, merchant, other_merchant, query):
    other_merchant.last_name = "Сидоров"
    other_merchant.save()
    response = admin_client.get(CHANGELIST, {"q": query})
    assert list(response.context["cl"].result_list) == [merchant]


def test_the_add_form_creates_an_active_confirmed_normalised_account(admin_client):
    response = admin_client.post(f"{CHANGELIST}add/", {
        "email": "Shop@Example.com", "first_name": "Мария", "last_name": "Кузнецова",
        "phone": "8 (926) 000-00-01", "usable_password": "true",
        "password1": PASSWORD, "password2": PASSWORD,
        "is_email_confirmed": "on", "is_active": "on",
    })

    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="shop@example.com")
    assert user.phone == "+79260000001"
    assert user.is_active and user.is_email_confirmed and not user.is_staff
    assert user.check_password(PASSWORD)


def test_the_add_form_starts_with_confirmed_ticked(admin_client):
    form = admin_client.get(f"{CHANGELIST}add/").context["adminform"].form
    assert form.fields["is_email_confirmed"].initial is True


def test_the_add_form_refuses_a_duplicate_email_in_another_case(admin_client, merchant):
    response = admin_client.post(f"{CHANGELIST}add/", {
        "email": "MERCHANT@example.com", "usable_password": "true",
        "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 200
    assert "email" in response.context["adminform"].form.errors


def test_the_change_page_never_shows_the_password_hash(admin_client, merchant):
    html = admin_client.get(f"{CHANGELIST}{merchant.pk}/change/").content.decode()
    assert merchant.password not in html
    assert merchant.password.split("$")[-1] not in html


def test_the_change_form_normalises_the_phone(admin_client, merchant):
    page = admin_client.get(f"{CHANGELIST}{merchant.pk}/change/")
    data = page.context["adminform"].form.initial.copy()
    data.update({"phone": "8 916 000 00 02", "time_zone": "Europe/Moscow", "language": "ru",
                 "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00"})
    data = {key: value for key, value in data.items() if value is not None
            and key not in {"groups", "user_permissions", "password", "last_login"}}
    response = admin_client.post(f"{CHANGELIST}{merchant.pk}/change/", data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    merchant.refresh_from_db()
    assert merchant.phone == "+79160000002"


def test_resend_action_emails_only_unconfirmed_active_users(admin_client, merchant, unconfirmed):
    response = admin_client.post(CHANGELIST, {
        "action": "resend_confirmation", "_selected_action": [merchant.pk, unconfirmed.pk],
    }, follow=True)

    assert [m.to for m in mail.outbox] == [[unconfirmed.email]]
    html = response.content.decode()
    assert "Письмо для подтверждения отправлено 1 пользователю." in html
    assert "1 пользователь пропущен" in html


def test_resend_action_respects_the_throttle(admin_client, unconfirmed):
    for _ in range(2):
        response = admin_client.post(CHANGELIST, {
            "action": "resend_confirmation", "_selected_action": [unconfirmed.pk]}, follow=True)
    assert len(mail.outbox) == 1
    assert "1 письмо не отправлено" in response.content.decode()


def test_deactivate_action_blocks_logins_but_not_ones_own(admin_client, staff_user, merchant):
    admin_client.post(CHANGELIST, {"action": "deactivate",
                                   "_selected_action": [merchant.pk, staff_user.pk]})

    merchant.refresh_from_db()
    staff_user.refresh_from_db()
    assert not merchant.is_active and staff_user.is_active


def test_deleting_in_the_admin_runs_the_cleanup_hook(admin_client, merchant, other_merchant):
    deleted = []

    def receiver(sender, user, **kwargs):
        deleted.append(user.email)

    account_deleting.connect(receiver, weak=False)
    try:
        admin_client.post(f"{CHANGELIST}{merchant.pk}/delete/", {"post": "yes"})
        admin_client.post(CHANGELIST, {"action": "delete_selected", "post": "yes",
                                       "_selected_action": [other_merchant.pk]})
    finally:
        account_deleting.disconnect(receiver)

    assert deleted == [merchant.email, other_merchant.email]
    assert not User.objects.filter(pk__in=[merchant.pk, other_merchant.pk]).exists()
