"""Profile: view and edit names, phone, time zone, language; change the password."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.test import Client

from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "fresh-Lantern-river-42"


def _edit(client, **overrides: str):
    data = {"first_name": "Иван", "last_name": "Петров", "phone": "+79161234567",
            "time_zone": "Europe/Moscow", "language": "ru"}
    data.update(overrides)
    return client.post("/profile/edit", data)


@pytest.mark.parametrize("path", ["/profile", "/profile/edit", "/profile/password",
                                  "/profile/delete", "/connections"])
def test_pages_need_a_login(client, path):
    response = client.get(path)
    assert response.status_code == 302 and response["Location"] == f"/login?next={path}"


def test_the_profile_shows_the_account(client, merchant):
    client.force_login(merchant)
    html = client.get("/profile").content.decode()

    for text in ("Иван Петров", "merchant@example.com", "+79161234567", "Europe/Moscow",
                 "Русский", "подтверждена"):
        assert text in html
    assert 'href="/profile/edit"' in html and 'href="/profile/delete"' in html


def test_dates_are_shown_in_the_users_time_zone(client, merchant):
    merchant.date_joined = datetime(2026, 1, 15, 2, 30, tzinfo=UTC)
    merchant.time_zone = "Asia/Vladivostok"  # UTC+10
    merchant.save()
    client.force_login(merchant)
    html = client.get("/profile").content.decode()

    assert "15 января 2026 г. 12:30" in html
    assert "Время указано в часовом поясе Asia/Vladivostok" in html


def test_editing_saves_normalised_values(client, merchant):
    client.force_login(merchant)
    response = _edit(client, first_name="Пётр", last_name="Сидоров", phone="8 (999) 000-11-22",
                     time_zone="Asia/Yekaterinburg")

    assert response["Location"] == "/profile"
    merchant.refresh_from_db()
    assert (merchant.first_name, merchant.last_name) == ("Пётр", "Сидоров")
    assert merchant.phone == "+79990001122"
    assert merchant.time_zone == "Asia/Yekaterinburg"


def test_the_form_lists_russian_zones_by_city_first(client, merchant):
    client.force_login(merchant)
    html = client.get("/profile/edit").content.decode()
    assert '<optgroup label="Россия">' in html
    assert html.index("Калининград (UTC+02:00)") < html.index("Камчатка (UTC+12:00)")
    assert '<option value="Europe/Moscow" selected>Москва (UTC+03:00)</option>' in html
    assert '<option value="America/New_York">' in html


def test_switching_the_language_to_english_changes_the_ui(client, merchant):
    client.force_login(merchant)
    response = _edit(client, language="en")

    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    merchant.refresh_from_db()
    assert merchant.language == "en"
    page = client.get("/profile", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="en">' in page and "Your profile has been saved." in page


def test_the_profile_language_wins_over_the_browser_and_the_cookie(client, merchant):
    merchant.language = "en"
    merchant.save()
    client.force_login(merchant)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"

    html = client.get("/profile", HTTP_ACCEPT_LANGUAGE="ru").content.decode()
    assert '<html lang="en">' in html and "Your profile" in html


def test_the_footer_switch_saves_the_language_into_the_profile(client, merchant):
    client.force_login(merchant)
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/profile"})

    assert response["Location"] == "/profile"
    merchant.refresh_from_db()
    assert merchant.language == "en"
    assert '<html lang="en">' in client.get("/profile").content.decode()


def test_a_phone_of_another_account_is_refused_in_any_format(client, merchant, other_merchant):
    client.force_login(merchant)
    response = _edit(client, phone="8 916 765-43-21", first_name="Новое")

    assert response.status_code == 200
    html = response.content.decode()
    assert "Учётная запись с этим номером телефона уже существует." in html
    assert 'value="8 916 765-43-21"' in html and 'value="Новое"' in html
    merchant.refresh_from_db()
    assert merchant.phone == "+79161234567" and merchant.first_name == "Иван"


def test_keeping_ones_own_phone_in_another_format_is_fine(client, merchant):
    client.force_login(merchant)
    assert _edit(client, phone="8 916 123 45 67").status_code == 302


def test_a_zone_set_by_an_operator_outside_the_list_stays_selectable(client, merchant):
    merchant.time_zone = "Etc/GMT-3"
    merchant.save()
    client.force_login(merchant)
    html = client.get("/profile/edit").content.decode()

    assert '<option value="Etc/GMT-3" selected>' in html
    assert _edit(client, time_zone="Etc/GMT-3").status_code == 302


@pytest.mark.parametrize("field,value", [
    ("time_zone", "Mars/Olympus_Mons"),
    ("language", "de"),
    ("phone", "12345"),
    ("first_name", ""),
])
def test_bad_values_are_field_errors_and_change_nothing(client, merchant, field, value):
    client.force_login(merchant)
    response = _edit(client, **{field: value})

    assert response.status_code == 200
    assert field in response.context["form"].errors
    merchant.refresh_from_db()
    assert (merchant.time_zone, merchant.language, merchant.phone) == (
        "Europe/Moscow", "ru", "+79161234567")


def test_a_rejected_edit_does_not_leak_into_the_page_chrome(client, merchant):
    client.force_login(merchant)
    response = _edit(client, language="en", phone="12345")
    assert '<html lang="ru">' in response.content.decode()


def test_profile_edit_without_csrf_token_is_rejected(merchant):
    client = Client(enforce_csrf_checks=True)
    client.force_login(merchant)
    assert _edit(client, first_name="Взлом").status_code == 403
    merchant.refresh_from_db()
    assert merchant.first_name == "Иван"


# --- Password change ----------------------------------------------------------------------------


def test_changing_the_password_keeps_the_session(client, merchant):
    client.force_login(merchant)
    response = client.post("/profile/password", {"old_password": PASSWORD,
                                                 "new_password1": NEW_PASSWORD,
                                                 "new_password2": NEW_PASSWORD}, follow=True)

    assert response.redirect_chain == [("/profile", 302)]
    assert "Пароль изменён." in response.content.decode()
    merchant.refresh_from_db()
    assert merchant.check_password(NEW_PASSWORD)
    assert client.get("/profile").status_code == 200


def test_a_wrong_current_password_is_refused(client, merchant):
    client.force_login(merchant)
    response = client.post("/profile/password", {"old_password": "nope",
                                                 "new_password1": NEW_PASSWORD,
                                                 "new_password2": NEW_PASSWORD})

    assert response.status_code == 200
    assert "old_password" in response.context["form"].errors
    merchant.refresh_from_db()
    assert merchant.check_password(PASSWORD)


def test_a_weak_new_password_is_refused(client, merchant):
    client.force_login(merchant)
    response = client.post("/profile/password", {"old_password": PASSWORD,
                                                 "new_password1": "qwerty",
                                                 "new_password2": "qwerty"})
    assert response.context["form"].errors["new_password2"]
