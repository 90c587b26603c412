"""Small fixes from the new-user walk: the phone input, profiles without a phone, zone names."""

from __future__ import annotations

import pytest

from apps.accounts.forms import PhoneField, ProfileForm, time_zone_label

pytestmark = pytest.mark.django_db


def test_phone_input_has_one_type_attribute():
    html = str(PhoneField().widget.render("phone", ""))
    assert html.count("type=") == 1 and 'type="tel"' in html


def test_profile_of_an_account_without_a_phone_saves_without_one(merchant, other_merchant):
    for user in (merchant, other_merchant):
        user.phone = None
        user.save()
        form = ProfileForm({"first_name": "Анна", "last_name": "Петрова", "phone": "",
                            "time_zone": "Europe/Moscow", "language": "ru"}, instance=user)
        assert form.is_valid(), form.errors
        form.save()
        user.refresh_from_db()
        assert user.phone is None


def test_profile_with_a_phone_still_requires_it(merchant):
    assert merchant.phone
    form = ProfileForm({"first_name": "Анна", "last_name": "Петрова", "phone": "",
                        "time_zone": "Europe/Moscow", "language": "ru"}, instance=merchant)
    assert "phone" in form.errors


def test_time_zones_by_name(client, merchant):
    from django.utils import translation

    with translation.override("en"):
        assert time_zone_label("Europe/Moscow") == "Moscow (UTC+03:00)"
    assert time_zone_label("America/New_York") == "America/New_York"
    merchant.language, merchant.time_zone = "en", "Asia/Novosibirsk"
    merchant.save()
    client.force_login(merchant)
    assert "Novosibirsk (UTC+07:00)" in client.get("/profile").content.decode()
