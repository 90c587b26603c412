"""Sign-up: validated, normalised, unique, logged in at once, confirmation email sent."""

from __future__ import annotations

import smtplib

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

User = get_user_model()


def _form(**overrides: str) -> dict[str, str]:
    data = {
        "first_name": "Ольга",
        "last_name": "Иванова",
        "email": "Olga.Ivanova@Example.com",
        "phone": "8 (903) 555-12-34",
        "password1": PASSWORD,
        "password2": PASSWORD,
    }
    data.update(overrides)
    return data


def test_the_page_shows_the_form_in_russian(client):
    response = client.get("/register")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Регистрация в EvoSync" in html
    for name in ("first_name", "last_name", "email", "phone", "password1", "password2"):
        assert f'name="{name}"' in html
    assert 'type="tel"' in html


def test_sign_up_creates_a_normalised_unconfirmed_account_and_logs_it_in(client):
    response = client.post("/register", _form())

    assert response.status_code == 302 and response["Location"] == "/connections"
    user = User.objects.get()
    assert user.email == "olga.ivanova@example.com"
    assert user.phone == "+79035551234"
    assert (user.first_name, user.last_name) == ("Ольга", "Иванова")
    assert user.is_email_confirmed is False and user.is_active and not user.is_staff
    assert user.check_password(PASSWORD)
    assert user.language == "ru"
    assert client.session["_auth_user_id"] == str(user.pk)


def test_sign_up_sends_the_confirmation_email_and_says_so(client):
    response = client.post("/register", _form(), follow=True)

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["olga.ivanova@example.com"]
    assert "/confirm-email/" in mail.outbox[0].body
    html = response.content.decode()
    assert "Мы отправили ссылку для подтверждения на olga.ivanova@example.com" in html
    assert 'id="banner-unconfirmed-email"' in html


def test_the_account_keeps_the_language_the_visitor_signed_up_in(client):
    client.post("/register", _form(), HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get().language == "en"
    assert "Confirm your email for EvoSync" == mail.outbox[0].subject


@pytest.mark.parametrize(
    "email", ["merchant@example.com", "MERCHANT@Example.COM", " Merchant@example.com "]
)
def test_an_email_already_used_in_any_letter_case_is_refused(client, merchant, email):
    response = client.post("/register", _form(email=email))

    assert response.status_code == 200
    assert response.context["form"].errors["email"] == [
        "Учётная запись с этим адресом почты уже существует."
    ]
    assert User.objects.count() == 1 and mail.outbox == []


@pytest.mark.parametrize(
    "phone", ["+79161234567", "8 916 123-45-67", "9161234567", "+7 (916) 123 45 67"]
)
def test_a_phone_already_used_in_any_format_is_refused(client, merchant, phone):
    response = client.post("/register", _form(phone=phone))

    assert response.context["form"].errors["phone"] == [
        "Учётная запись с этим номером телефона уже существует."
    ]
    assert User.objects.count() == 1


def test_a_malformed_phone_is_a_field_error_and_the_entered_values_are_kept(client):
    response = client.post("/register", _form(phone="916-CALL-ME"))

    html = response.content.decode()
    assert "Введите российский номер телефона" in html
    assert 'value="916-CALL-ME"' in html
    assert 'value="Ольга"' in html and 'value="Olga.Ivanova@Example.com"' in html
    assert PASSWORD not in html  # passwords are never echoed back
    assert not User.objects.exists()


@pytest.mark.parametrize("weak", ["12345678", "password", "olga.ivanova", "Ab1"])
def test_a_weak_password_is_refused_by_djangos_validators(client, weak):
    response = client.post("/register", _form(password1=weak, password2=weak))

    assert response.status_code == 200
    assert response.context["form"].errors["password2"]
    assert not User.objects.exists()


def test_passwords_that_differ_are_refused(client):
    response = client.post("/register", _form(password2=PASSWORD + "x"))

    assert "password2" in response.context["form"].errors
    assert not User.objects.exists()


def test_names_and_phone_are_required(client):
    response = client.post("/register", _form(first_name="", last_name="", phone=""))

    errors = response.context["form"].errors
    assert set(errors) == {"first_name", "last_name", "phone"}
    assert not User.objects.exists()


def test_a_failing_mail_server_does_not_lose_the_account(client, monkeypatch):
    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("apps.accounts.services.send_email", refuse)
    response = client.post("/register", _form(), follow=True)

    assert User.objects.filter(email="olga.ivanova@example.com").exists()
    assert "Сейчас не получилось отправить письмо для подтверждения" in response.content.decode()


def test_a_signed_in_user_is_sent_onwards(client, merchant):
    client.force_login(merchant)
    response = client.get("/register")
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_post_without_csrf_token_is_rejected():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/register", _form())

    assert response.status_code == 403
    assert not User.objects.exists()
