"""Sign-up: validated, normalised, unique, logged in at once, confirmation email sent."""

from __future__ import annotations

import re
import smtplib
import time

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client, override_settings

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


def _without_csrf_tokens(response) -> str:
    # Each render masks the CSRF token differently; everything else must be identical.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_sign_up_creates_a_normalised_unconfirmed_account(client):
    response = client.post("/register", _form())

    assert response.status_code == 302 and response["Location"] == "/register/sent"
    user = User.objects.get()
    assert user.email == "olga.ivanova@example.com"
    assert user.phone == "+79035551234"
    assert (user.first_name, user.last_name) == ("Ольга", "Иванова")
    assert user.is_email_confirmed is False and user.is_active and not user.is_staff
    assert user.check_password(PASSWORD)
    assert user.language == "ru"
    # Not logged in: the answer must not differ from the one for an address already taken.
    assert "_auth_user_id" not in client.session


def test_sign_up_sends_the_confirmation_email_and_the_new_account_can_log_in(client):
    client.post("/register", _form())

    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["olga.ivanova@example.com"]
    assert "/confirm-email/" in mail.outbox[0].body
    response = client.post("/login", {"username": "olga.ivanova@example.com",
                                      "password": PASSWORD}, follow=True)
    assert 'id="banner-unconfirmed-email"' in response.content.decode()


def test_the_confirmation_email_is_sent_by_a_task_given_the_user_id(client, monkeypatch):
    queued = []
    monkeypatch.setattr("apps.accounts.services.async_task",
                        lambda name, *args, **kwargs: queued.append((name, args)))
    client.post("/register", _form())

    user = User.objects.get()
    assert queued == [("apps.accounts.tasks.send_confirmation_email", (user.pk,))]
    assert mail.outbox == []  # nothing is sent inside the request


def test_the_page_after_sign_up_says_to_check_the_inbox(client):
    response = client.post("/register", _form(), follow=True, HTTP_ACCEPT_LANGUAGE="en")
    html = response.content.decode()
    assert response.redirect_chain == [("/register/sent", 302)]
    assert "Check your email" in html and 'href="/login"' in html


def test_the_account_keeps_the_language_the_visitor_signed_up_in(client):
    client.post("/register", _form(), HTTP_ACCEPT_LANGUAGE="en")
    assert User.objects.get().language == "en"
    assert "Confirm your email for EvoSync" == mail.outbox[0].subject


# --- An email or phone that already has an account: the same answer, the owner told by email ---


@pytest.mark.parametrize(
    "email", ["merchant@example.com", "MERCHANT@Example.COM", " Merchant@example.com "]
)
def test_an_email_already_used_gets_the_same_answer_and_its_owner_an_email(
    client, merchant, email
):
    new = Client().post("/register", _form(email="fresh@example.com", phone="+79035550000"),
                        follow=True)
    mail.outbox.clear()
    taken = client.post("/register", _form(email=email), follow=True)

    assert taken.redirect_chain == new.redirect_chain == [("/register/sent", 302)]
    assert _without_csrf_tokens(taken) == _without_csrf_tokens(new)
    assert "_auth_user_id" not in client.session
    assert User.objects.filter(email="merchant@example.com").count() == 1
    merchant.refresh_from_db()
    assert merchant.check_password(PASSWORD) and merchant.first_name == "Иван"
    # The owner hears of it, in their language, with the ways back in; nothing for the visitor.
    assert [m.to for m in mail.outbox] == [[merchant.email]]
    message = mail.outbox[0]
    assert "/login" in message.body and "/forgot-password" in message.body
    assert "/confirm-email/" not in message.body and "/reset-password/" not in message.body
    assert PASSWORD not in message.body


def test_the_owner_notice_is_in_english_for_an_english_profile(client, merchant):
    merchant.language = "en"
    merchant.save()
    client.post("/register", _form(email=merchant.email))

    message = mail.outbox[0]
    assert message.subject == "Someone tried to sign up for EvoSync with your email"
    assert "Hello, Иван!" in message.body
    assert "It already has an account, so nothing was created or changed." in message.body
    assert 'href="http://' in message.alternatives[0][0]


def test_the_owner_notice_is_throttled(client, merchant):
    for _ in range(3):
        response = client.post("/register", _form(email=merchant.email))
        assert response["Location"] == "/register/sent"
    assert len(mail.outbox) == 1


def test_the_owner_notice_is_queued_with_the_owners_id_only(client, merchant, monkeypatch):
    queued = []
    monkeypatch.setattr("apps.accounts.services.async_task",
                        lambda name, *args, **kwargs: queued.append((name, args)))
    client.post("/register", _form(email=merchant.email))
    assert queued == [("apps.accounts.tasks.send_signup_attempt_notice", (merchant.pk,))]


def test_a_deactivated_owner_gets_no_notice(client, merchant):
    merchant.is_active = False
    merchant.save()
    response = client.post("/register", _form(email=merchant.email))
    assert response["Location"] == "/register/sent"
    assert mail.outbox == []


@pytest.mark.parametrize(
    "phone", ["+79161234567", "8 916 123-45-67", "9161234567", "+7 (916) 123 45 67"]
)
def test_a_phone_already_used_gets_the_same_answer_and_the_typed_address_an_email(
    client, merchant, phone
):
    response = client.post("/register", _form(phone=phone), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 302 and response["Location"] == "/register/sent"
    assert User.objects.count() == 1  # phones stay unique
    assert [m.to for m in mail.outbox] == [["olga.ivanova@example.com"]]
    message = mail.outbox[0]
    assert message.subject == "Your EvoSync account was not created"
    assert "Hello, Ольга!" in message.body
    assert "already belongs to another EvoSync account" in message.body
    assert merchant.email not in message.body and merchant.phone not in message.body


def test_an_email_and_phone_both_taken_tell_the_email_owner(client, merchant, other_merchant):
    client.post("/register", _form(email=merchant.email, phone=other_merchant.phone))
    assert [m.to for m in mail.outbox] == [[merchant.email]]


def test_a_sign_up_race_lost_at_the_unique_index_gets_the_same_answer(client, merchant,
                                                                        monkeypatch):
    # The lookup saw nothing, then another request took the address before our INSERT.
    real_filter = type(User.objects).filter
    calls = []

    def blind_first_lookup(manager, *args, **kwargs):
        calls.append(1)
        queryset = real_filter(manager, *args, **kwargs)
        return queryset.none() if len(calls) == 1 else queryset

    monkeypatch.setattr(type(User.objects), "filter", blind_first_lookup)
    response = client.post("/register", _form(email=merchant.email))

    assert response["Location"] == "/register/sent"
    assert User.objects.count() == 1
    assert [m.to for m in mail.outbox] == [[merchant.email]]
    # The blinded lookup, the one after the IntegrityError, the notice task's.
    assert len(calls) == 3, calls


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
    response = client.post("/register", _form())

    assert response["Location"] == "/register/sent"
    assert User.objects.filter(email="olga.ivanova@example.com").exists()


def test_a_signed_in_user_is_sent_onwards(client, merchant):
    client.force_login(merchant)
    response = client.get("/register")
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_post_without_csrf_token_is_rejected():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/register", _form())

    assert response.status_code == 403
    assert not User.objects.exists()


# --- Rate limit (services.SIGNUP_LIMIT_PER_IP / _PER_EMAIL, set explicitly here) ---------------


def _numbered(n: int) -> dict[str, str]:
    return _form(email=f"shop{n}@example.com", phone=f"+7903555{n:04d}")


@override_settings(SIGNUP_LIMIT_PER_IP=3)
def test_sign_ups_from_one_address_are_limited_with_a_429(client):
    for n in range(3):
        assert client.post("/register", _numbered(n)).status_code == 302
    response = client.post("/register", _numbered(3), HTTP_ACCEPT_LANGUAGE="en")

    assert response.status_code == 429
    assert response.context["form"].non_field_errors() == [
        "Too many sign-up attempts. Please try again in an hour."
    ]
    assert 'value="shop3@example.com"' in response.content.decode()
    assert User.objects.count() == 3 and len(mail.outbox) == 3
    # Another address is not held back.
    other = Client(REMOTE_ADDR="203.0.113.7")
    assert other.post("/register", _numbered(4)).status_code == 302


@override_settings(SIGNUP_LIMIT_PER_EMAIL=2)
def test_sign_ups_with_one_email_are_limited_from_any_address(client, merchant):
    for n in range(2):
        visitor = Client(REMOTE_ADDR=f"203.0.113.{n + 1}")
        assert visitor.post("/register", _form(email=merchant.email)).status_code == 302
    visitor = Client(REMOTE_ADDR="203.0.113.99")
    response = visitor.post("/register", _form(email="MERCHANT@example.com"))
    assert response.status_code == 429


@override_settings(SIGNUP_LIMIT_PER_IP=1)
def test_invalid_forms_do_not_use_up_the_limit(client):
    for _ in range(3):
        assert client.post("/register", _form(password2="mismatch")).status_code == 200
    assert client.post("/register", _form()).status_code == 302


@override_settings(SIGNUP_LIMIT_PER_IP=1)
def test_the_limit_window_ends(client, monkeypatch):
    from apps.accounts import services

    assert client.post("/register", _numbered(1)).status_code == 302
    assert client.post("/register", _numbered(2)).status_code == 429
    later = time.time() + services.SIGNUP_WINDOW_SECONDS
    monkeypatch.setattr("apps.accounts.services.time.time", lambda: later)
    assert client.post("/register", _numbered(3)).status_code == 302


def test_the_default_limits_let_a_normal_day_through():
    from apps.accounts import services

    assert services.SIGNUP_LIMIT_PER_IP >= 10 and services.SIGNUP_LIMIT_PER_EMAIL >= 3


# --- Bounds: over-long and non-ASCII input is a form error, never a 500 ------------------------


@pytest.mark.parametrize("field,value", [
    ("email", "a" * 250 + "@example.com"),
    ("email", "ж" * 300 + "@почта.рф"),
    ("first_name", "Ж" * 151),
    ("last_name", "x" * 10_000),
    ("phone", "8" * 33),
    ("phone", "+7 916 ١٢٣٤٥٦٧"),
    ("password1", "x" * 5000),
])
def test_over_long_or_odd_input_is_a_field_error(client, field, value):
    data = _form(**{field: value})
    if field == "password1":
        data["password2"] = value
    response = client.post("/register", data)

    assert response.status_code == 200
    assert response.context["form"].errors
    assert not User.objects.exists()


def test_an_email_that_lower_casing_lengthens_past_254_is_refused(client):
    # "İ" lower-cases to two characters; 240 of them pass the form's 254 but not the column.
    response = client.post("/register", _form(email="a@" + "İ" * 240 + ".ru"))
    assert response.status_code == 200
    assert "email" in response.context["form"].errors
    assert not User.objects.exists()
