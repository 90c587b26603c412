"""Account deletion: password confirmation, cleanup hook, then everything is gone."""

from __future__ import annotations

import pytest
from axes.models import AccessLog
from django.contrib.auth import get_user_model
from django.test import Client

from apps.accounts.services import delete_account
from apps.accounts.signals import account_deleting
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()


@pytest.fixture
def receiver_calls():
    """A stand-in for the cleanup later apps hook in (connections revoked, syncs stopped)."""
    calls = []

    def receiver(sender, user, **kwargs):
        calls.append((sender, user.pk, User.objects.filter(pk=user.pk).exists()))

    account_deleting.connect(receiver, weak=False)
    yield calls
    account_deleting.disconnect(receiver)


def test_the_page_explains_and_asks_for_the_password(client, merchant):
    client.force_login(merchant)
    html = client.get("/profile/delete").content.decode()
    assert "Отменить это нельзя." in html and 'name="password"' in html


def test_a_wrong_password_deletes_nothing(client, merchant, receiver_calls):
    client.force_login(merchant)
    response = client.post("/profile/delete", {"password": "wrong"})

    assert response.status_code == 200
    assert "Неверный пароль. Учётная запись не удалена." in response.content.decode()
    assert User.objects.filter(pk=merchant.pk).exists()
    assert receiver_calls == []


def test_the_right_password_deletes_the_account_and_logs_out(client, merchant, other_merchant,
                                                             receiver_calls):
    client.force_login(merchant)
    response = client.post("/profile/delete", {"password": PASSWORD}, follow=True)

    assert response.redirect_chain == [("/login", 302)]
    assert "Учётная запись и все её данные удалены." in response.content.decode()
    assert not User.objects.filter(pk=merchant.pk).exists()
    assert User.objects.filter(pk=other_merchant.pk).exists()
    assert "_auth_user_id" not in client.session
    assert client.get("/profile").status_code == 302


def test_cleanup_receivers_run_before_the_user_is_gone(merchant, receiver_calls):
    pk = merchant.pk
    delete_account(merchant)
    assert receiver_calls == [(User, pk, True)]


def test_a_failing_receiver_keeps_the_account(client, merchant):
    def refuse(sender, user, **kwargs):
        raise RuntimeError("the VK token could not be revoked")

    account_deleting.connect(refuse, weak=False)
    try:
        with pytest.raises(RuntimeError):
            delete_account(merchant)
    finally:
        account_deleting.disconnect(refuse)
    assert User.objects.filter(pk=merchant.pk).exists()


def test_login_records_of_the_address_go_with_the_account(client, merchant, other_merchant):
    for user in (merchant, other_merchant):
        Client().post("/login", {"username": user.email, "password": PASSWORD})
    assert AccessLog.objects.count() == 2

    delete_account(merchant)
    assert list(AccessLog.objects.values_list("username", flat=True)) == [other_merchant.email]


def test_the_address_can_sign_up_again_afterwards(client, merchant):
    delete_account(merchant)
    response = client.post("/register", {
        "first_name": "Иван", "last_name": "Петров", "email": "merchant@example.com",
        "phone": "+79161234567", "password1": PASSWORD, "password2": PASSWORD,
    })
    assert response.status_code == 302


def test_deletion_without_csrf_token_is_rejected(merchant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant)

    assert client.post("/profile/delete", {"password": PASSWORD}).status_code == 403
    assert User.objects.filter(pk=merchant.pk).exists()
