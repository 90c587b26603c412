"""Every account page speaks Russian by default and English on request; no inline code (CSP)."""

from __future__ import annotations

import re

import pytest
from django.utils import timezone

from apps.accounts.tokens import make_confirmation_token

pytestmark = pytest.mark.django_db

ANONYMOUS_PAGES = {
    "/login": ("Вход в EvoSync", "Log in to EvoSync"),
    "/register": ("Регистрация в EvoSync", "Create your EvoSync account"),
    "/forgot-password": ("Забыли пароль?", "Forgot your password?"),
    "/forgot-password/sent": ("Проверьте почту", "Check your email"),
    "/reset-password/MQ/x-y": ("Ссылка не работает", "This link does not work"),
    "/reset-password/done": ("Пароль сохранён", "Password saved"),
    "/confirm-email/garbage": ("Эта ссылка не может", "This link cannot confirm"),
}
MERCHANT_PAGES = {
    "/profile": ("Ваш профиль", "Your profile"),
    "/profile/edit": ("Изменить профиль", "Edit profile"),
    "/profile/password": ("Сменить пароль", "Change password"),
    "/profile/delete": ("Удаление учётной записи", "Delete your account"),
    "/resend-confirm": ("Подтвердите адрес почты", "Confirm your email"),
    "/connections": ("Подключения", "Connections"),
}


def _assert_csp_clean(html: str) -> None:
    assert not re.search(r"<script(?![^>]*\bsrc=)", html), "inline script"
    assert "<style" not in html and " style=" not in html, "inline style"
    assert not re.search(r"\son[a-z]+=", html), "inline event handler"


@pytest.mark.parametrize("path", ANONYMOUS_PAGES)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_anonymous_pages_in_both_languages(client, path, language):
    russian, english = ANONYMOUS_PAGES[path]
    html = client.get(path, HTTP_ACCEPT_LANGUAGE=language).content.decode()

    assert f'<html lang="{language}">' in html
    assert (russian if language == "ru" else english) in html
    _assert_csp_clean(html)


@pytest.mark.parametrize("path", MERCHANT_PAGES)
@pytest.mark.parametrize("language", ["ru", "en"])
def test_merchant_pages_follow_the_profile_language(client, unconfirmed, path, language):
    unconfirmed.language = language
    unconfirmed.save()
    client.force_login(unconfirmed)
    russian, english = MERCHANT_PAGES[path]
    html = client.get(path).content.decode()

    assert f'<html lang="{language}">' in html
    assert (russian if language == "ru" else english) in html
    _assert_csp_clean(html)


def test_the_unconfirmed_banner_speaks_english_too(client, unconfirmed):
    unconfirmed.language = "en"
    unconfirmed.save()
    client.force_login(unconfirmed)
    html = client.get("/profile").content.decode()
    assert "Please confirm your email address" in html and "Send again" in html


def test_the_lockout_page_is_csp_clean(client, merchant, settings):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = client.post("/login", {"username": merchant.email, "password": "x"})
    assert response.status_code == 429
    _assert_csp_clean(response.content.decode())


def test_the_users_time_zone_is_active_during_their_requests(client, merchant):
    merchant.time_zone = "Asia/Kamchatka"
    merchant.save()
    client.force_login(merchant)
    response = client.get("/profile")
    assert response.context["TIME_ZONE"] == "Asia/Kamchatka"


def test_a_broken_stored_time_zone_falls_back_instead_of_failing(client, merchant):
    type(merchant).objects.filter(pk=merchant.pk).update(time_zone="Nowhere/Atlantis")
    client.force_login(merchant)
    response = client.get("/profile")
    assert response.status_code == 200
    assert response.context["TIME_ZONE"] == "Europe/Moscow"


def test_visitors_see_moscow_time(client):
    response = client.get("/login")
    assert response.context["TIME_ZONE"] == "Europe/Moscow"
    assert timezone.get_current_timezone_name() == "Europe/Moscow"


def test_confirmation_page_messages_in_english(client, unconfirmed):
    html = client.get(f"/confirm-email/{make_confirmation_token(unconfirmed)}",
                      HTTP_ACCEPT_LANGUAGE="en", follow=True).content.decode()
    assert "Thank you! Your email address is confirmed." in html
