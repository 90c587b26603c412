"""Login and logout: email + password, safe ``next``, axes lockout with a cooldown (429)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import Client, override_settings

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

LIMIT = settings.AXES_FAILURE_LIMIT


def _login(client, email: str, password: str, **extra):
    return client.post("/login", {"username": email, "password": password}, **extra)


def _fail(client, email: str, times: int, **extra):
    return [_login(client, email, "wrong-password", **extra) for _ in range(times)][-1]


def test_the_page_asks_for_email_and_password_in_russian(client):
    html = client.get("/login").content.decode()
    assert "Вход в EvoSync" in html
    assert 'type="email" name="username"' in html and 'name="password"' in html
    assert 'href="/forgot-password"' in html and 'href="/register"' in html


def test_a_merchant_logs_in_with_the_email_in_any_letter_case(client, merchant):
    response = _login(client, "Merchant@Example.COM", PASSWORD)

    assert response.status_code == 302 and response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(merchant.pk)
    assert client.get("/")["Location"] == "/connections"


def test_login_remembers_the_profile_language_in_the_cookie(client, merchant):
    merchant.language = "en"
    merchant.save()
    response = _login(client, merchant.email, PASSWORD)
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


@pytest.mark.parametrize("email,password", [
    ("merchant@example.com", "wrong-password"),
    ("nobody@example.com", PASSWORD),
])
def test_wrong_password_or_unknown_email_get_the_same_error(client, merchant, email, password):
    response = _login(client, email, password)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Неверный адрес почты или пароль." in html
    assert f'value="{email}"' in html
    assert "_auth_user_id" not in client.session


def test_a_deactivated_account_cannot_log_in(client, merchant):
    merchant.is_active = False
    merchant.save()
    response = _login(client, merchant.email, PASSWORD)
    assert response.status_code == 200 and "_auth_user_id" not in client.session


def test_an_unconfirmed_user_can_log_in_and_sees_the_banner(client, unconfirmed):
    response = _login(client, unconfirmed.email, PASSWORD, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1] == ("/connections", 302)
    assert 'id="banner-unconfirmed-email"' in html
    assert "До этого синхронизацию включить нельзя." in html


def test_next_leads_back_to_a_page_of_ours(client, merchant):
    response = client.post("/login?next=/profile",
                           {"username": merchant.email, "password": PASSWORD})
    assert response["Location"] == "/profile"


@pytest.mark.parametrize("target", [
    "https://evil.example/",
    "//evil.example/",
    "http://testserver@evil.example/",
    "https:///evil.example/",
    "javascript:alert(1)",
])
def test_next_never_leads_off_site(client, merchant, target):
    response = client.post("/login", {"username": merchant.email, "password": PASSWORD,
                                      "next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_a_signed_in_user_visiting_login_is_sent_on(client, merchant):
    client.force_login(merchant)
    assert client.get("/login")["Location"] == "/"


def test_login_without_csrf_token_is_rejected(merchant):
    client = Client(enforce_csrf_checks=True)
    response = _login(client, merchant.email, PASSWORD)

    assert response.status_code == 403
    assert "Форма устарела" in response.content.decode()
    assert "_auth_user_id" not in client.session


# --- Lockout (django-axes) ----------------------------------------------------------------------


def test_repeated_failures_lock_the_account_with_429_and_say_when(client, merchant):
    for _ in range(LIMIT - 1):
        assert _login(client, merchant.email, "wrong-password").status_code == 200
    response = _login(client, merchant.email, "wrong-password")

    assert response.status_code == 429
    html = response.content.decode()
    assert "Слишком много попыток входа" in html
    assert f"Попробуйте снова через {settings.AXES_COOLOFF_TIME.seconds // 60} минут" in html
    assert "по времени Europe/Moscow" in html  # visitors are shown Moscow time


def test_while_locked_even_the_right_password_is_refused(client, merchant):
    _fail(client, merchant.email, LIMIT)
    response = _login(client, merchant.email, PASSWORD)

    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_the_lock_counts_the_address_in_any_letter_case(client, merchant):
    _fail(client, "MERCHANT@example.com", LIMIT - 1)
    assert _login(client, "merchant@EXAMPLE.com", "wrong-password").status_code == 429


def test_the_lock_is_per_address_and_network(client, merchant, other_merchant):
    _fail(client, merchant.email, LIMIT)

    assert _login(client, other_merchant.email, PASSWORD).status_code == 302
    elsewhere = Client(REMOTE_ADDR="203.0.113.9")
    assert _login(elsewhere, merchant.email, PASSWORD).status_code == 302


def test_the_lock_lifts_after_the_cooldown(client, merchant):
    _fail(client, merchant.email, LIMIT)
    # Move the recorded failures back past the cooldown instead of waiting it out.
    past = settings.AXES_COOLOFF_TIME + timedelta(seconds=1)
    for attempt in AccessAttempt.objects.all():
        attempt.attempt_time -= past
        attempt.save()

    response = _login(client, merchant.email, PASSWORD)
    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(merchant.pk)


@override_settings(AXES_COOLOFF_TIME=timedelta(minutes=1))
def test_the_page_names_the_configured_cooldown_in_the_visitors_language(client, merchant):
    response = _fail(client, merchant.email, LIMIT, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 429
    assert "Try again in 1 minute, after" in response.content.decode()


def test_a_successful_login_resets_the_failure_count(client, merchant):
    _fail(client, merchant.email, LIMIT - 1)
    assert _login(client, merchant.email, PASSWORD).status_code == 302
    client.post("/logout")
    assert _fail(client, merchant.email, LIMIT - 1).status_code == 200


def test_the_admin_login_is_locked_out_too(client, staff_user):
    staff_user.set_password(PASSWORD)
    staff_user.save()
    for _ in range(LIMIT):
        response = client.post("/admin/login/", {"username": staff_user.email,
                                                 "password": "wrong-password"})
    assert response.status_code == 429
    response = client.post("/admin/login/", {"username": staff_user.email, "password": PASSWORD})
    assert response.status_code == 429


# --- Logout -------------------------------------------------------------------------------------


def test_logout_is_a_post_and_ends_the_session(client, merchant):
    client.force_login(merchant)
    assert client.get("/logout").status_code == 405

    response = client.post("/logout", follow=True)
    assert "_auth_user_id" not in client.session
    assert response.redirect_chain[-1] == ("/login", 302)
    assert "Вы вышли из EvoSync." in response.content.decode()


def test_logout_without_csrf_token_is_rejected(merchant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant)

    assert client.post("/logout").status_code == 403
    assert client.session["_auth_user_id"] == str(merchant.pk)


def test_the_navbar_follows_the_login_state(client, merchant):
    anonymous = client.get("/login").content.decode()
    assert 'href="/register"' in anonymous and 'action="/logout"' not in anonymous

    client.force_login(merchant)
    html = client.get("/profile").content.decode()
    assert 'href="/connections"' in html and 'href="/profile"' in html
    assert '<form method="post" action="/logout"' in html


# --- Over-long and non-ASCII logins (no 500: axes stores at most 255 characters) ---------------


LONG_LOGINS = [
    "a" * 300,
    "ж" * 300,
    "a" * 290 + "@example.com",
    "Иван" * 75 + "@почта.рф",
]


@pytest.mark.parametrize("username", LONG_LOGINS)
@pytest.mark.parametrize("path", ["/login", "/admin/login/"])
def test_an_over_long_login_is_a_form_error_not_a_500(client, merchant, path, username):
    response = client.post(path, {"username": username, "password": "wrong-password"})

    assert response.status_code == 200
    assert "username" in response.context["form"].errors
    assert "_auth_user_id" not in client.session
    assert all(len(a.username or "") <= 255 for a in AccessAttempt.objects.all())


@pytest.mark.parametrize("path", ["/login", "/admin/login/"])
def test_an_over_long_password_is_refused_before_hashing(client, merchant, path):
    response = client.post(path, {"username": merchant.email, "password": "x" * 5000})
    assert response.status_code == 200
    assert "password" in response.context["form"].errors


def test_a_login_that_lower_casing_lengthens_is_stored_cut_to_255(client):
    # "İ".lower() is two characters: 200 of them pass the 254-character form limit and become
    # 400 characters in the axes key, which must still fit its 255-character column.
    username = "İ" * 200
    response = client.post("/login", {"username": username, "password": "wrong-password"})

    assert response.status_code == 200
    attempt = AccessAttempt.objects.get()
    assert len(attempt.username) == 255


def test_the_lockout_key_is_cut_whatever_the_caller_passes(rf):
    from apps.accounts.lockout import lockout_username

    request = rf.post("/login", {"username": "Ж" * 300})
    assert len(lockout_username(request)) == 255
    assert len(lockout_username(request, {"username": "Ж" * 300})) == 255
    assert lockout_username(request, {"username": None}) is None
    assert lockout_username(rf.post("/login", {})) is None


def test_repeated_long_logins_still_lock_out(client):
    username = "ж" * 250 + "@x.ru"  # 255 characters: over the form's 254
    for _ in range(LIMIT):
        response = client.post("/login", {"username": username, "password": "wrong"})
    # Refused by the form, never authenticated: nothing to count, nothing stored, no 500.
    assert response.status_code == 200
    assert not AccessAttempt.objects.exists()


@pytest.mark.parametrize("target", ["abc", "http://testserver/profile", "/" + "x" * 5000])
def test_login_and_logout_ignore_a_next_that_is_not_a_local_path(client, merchant, target):
    response = client.post("/login", {"username": merchant.email, "password": PASSWORD,
                                      "next": target})
    assert response.status_code == 302 and response["Location"] == "/"
    response = client.post("/logout", {"next": target})
    assert response.status_code == 302 and response["Location"] == "/"


def test_the_login_page_does_not_echo_a_foreign_next(client):
    html = client.get("/login?next=https://evil.example/").content.decode()
    assert '<input type="hidden" name="next"' not in html
    html = client.get("/login?next=/profile").content.decode()
    assert '<input type="hidden" name="next" value="/profile">' in html
