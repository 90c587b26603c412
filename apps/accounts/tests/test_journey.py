"""The whole first-minutes journey through the test client, as a merchant lives it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from apps.accounts.tests.conftest import link_in_last_email

pytestmark = pytest.mark.django_db

FIRST_PASSWORD = "amber-Tundra-kettle-7"
SECOND_PASSWORD = "violet-Harbor-candle-8"


def test_register_confirm_logout_reset_login(client):
    # 1. Sign up: "check your inbox" (the same answer as for a taken address), the
    #    confirmation email on its way; the new account can log in at once, unconfirmed.
    response = client.post("/register", {
        "first_name": "Ольга", "last_name": "Иванова", "email": "Olga@Example.com",
        "phone": "+7 (903) 555-12-34", "password1": FIRST_PASSWORD, "password2": FIRST_PASSWORD,
    }, follow=True)
    assert response.redirect_chain == [("/register/sent", 302)]
    assert len(mail.outbox) == 1
    response = client.post("/login", {"username": "olga@example.com",
                                      "password": FIRST_PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302), ("/connections", 302)]
    assert 'id="banner-unconfirmed-email"' in response.content.decode()

    # 2. Confirm from the email: the banner disappears.
    response = client.get(link_in_last_email("/confirm-email/"), follow=True)
    assert "Спасибо! Адрес почты подтверждён." in response.content.decode()
    assert 'id="banner-unconfirmed-email"' not in response.content.decode()
    assert get_user_model().objects.get(email="olga@example.com").is_email_confirmed

    # 3. Log out.
    response = client.post("/logout", follow=True)
    assert response.redirect_chain[-1] == ("/login", 302)
    assert client.get("/connections").status_code == 302

    # 4. Forgot the password: the reset link arrives, the new password is set.
    client.post("/forgot-password", {"email": "olga@example.com"})
    assert len(mail.outbox) == 2
    form_url = client.get(link_in_last_email("/reset-password/"))["Location"]
    response = client.post(form_url, {"new_password1": SECOND_PASSWORD,
                                      "new_password2": SECOND_PASSWORD}, follow=True)
    assert "Новый пароль установлен" in response.content.decode()

    # 5. The old password no longer works; the new one does.
    assert client.post("/login", {"username": "olga@example.com",
                                  "password": FIRST_PASSWORD}).status_code == 200
    response = client.post("/login", {"username": "olga@example.com",
                                      "password": SECOND_PASSWORD}, follow=True)
    assert response.redirect_chain == [("/", 302), ("/connections", 302)]
    assert "Подключения" in response.content.decode()
