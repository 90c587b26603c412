"""Emails: subject / text / html, in the recipient's language, links from SITE_URL."""

from __future__ import annotations

import os
import runpy
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.test import override_settings
from django.utils import translation

from apps.accounts import services
from apps.accounts.emails import render_email

pytestmark = pytest.mark.django_db


def _confirmation(user):
    return render_email(user, "confirm_email", {"confirm_url": "https://x.test/c/1",
                                                "valid_days": 3})


def test_a_message_has_subject_text_and_html(merchant):
    message = _confirmation(merchant)

    assert message.subject == "Подтвердите адрес почты для EvoSync"
    assert "\n" not in message.subject
    assert message.from_email == settings.DEFAULT_FROM_EMAIL
    assert message.to == [merchant.email]
    assert "Здравствуйте, Иван!" in message.body and "https://x.test/c/1" in message.body
    assert "Ссылка действует 3 дня." in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html"
    assert '<a href="https://x.test/c/1">' in html and '<html lang="ru">' in html


def test_the_recipients_language_wins_over_the_active_one(merchant):
    merchant.language = "en"
    with translation.override("ru"):
        message = _confirmation(merchant)
        assert translation.get_language() == "ru"

    assert message.subject == "Confirm your email for EvoSync"
    assert "The link works for 3 days." in message.body
    assert '<html lang="en">' in message.alternatives[0][0]


def test_the_text_part_is_not_html_escaped_but_the_html_part_is(merchant):
    merchant.first_name = "O'Brien <Jr>"
    message = _confirmation(merchant)

    assert "O'Brien <Jr>" in message.body
    assert "O&#x27;Brien &lt;Jr&gt;" in message.alternatives[0][0]


@override_settings(SITE_URL="https://evosync.example.com",
                   DEFAULT_FROM_EMAIL="Shop <robot@evosync.example.com>")
def test_confirmation_links_are_absolute_and_the_sender_is_configurable(unconfirmed):
    services.send_confirmation_email(unconfirmed)

    message = mail.outbox[0]
    assert message.from_email == "Shop <robot@evosync.example.com>"
    assert "https://evosync.example.com/confirm-email/" in message.body
    assert "https://evosync.example.com/confirm-email/" in message.alternatives[0][0]


def test_email_url_configures_the_smtp_backend_and_the_sender(monkeypatch):
    """Production mail: EMAIL_URL and DEFAULT_FROM_EMAIL straight from the environment."""
    for key in list(os.environ):
        if key not in {"PATH", "HOME", "LANG"}:
            monkeypatch.delenv(key)
    monkeypatch.setenv("EMAIL_URL", "smtp+tls://robot:secret@smtp.example.com:587")
    monkeypatch.setenv("DEFAULT_FROM_EMAIL", "EvoSync <robot@example.com>")
    conf = runpy.run_path(str(Path(settings.BASE_DIR) / "evosync" / "settings.py"))

    assert conf["EMAIL_BACKEND"] == "django.core.mail.backends.smtp.EmailBackend"
    assert (conf["EMAIL_HOST"], conf["EMAIL_PORT"], conf["EMAIL_USE_TLS"]) == (
        "smtp.example.com", 587, True)
    assert (conf["EMAIL_HOST_USER"], conf["EMAIL_HOST_PASSWORD"]) == ("robot", "secret")
    assert conf["DEFAULT_FROM_EMAIL"] == "EvoSync <robot@example.com>"
