"""Password reset: Django's stateless tokens, the same answer for unknown addresses."""

from __future__ import annotations

import re

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.core import mail
from django.test import Client, override_settings

from apps.accounts.tests.conftest import link_in_last_email
from conftest import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "fresh-Lantern-river-42"


def _request_reset(client, email: str, **extra):
    return client.post("/forgot-password", {"email": email}, **extra)


def _open_link_and_set(client, password: str = NEW_PASSWORD):
    link = link_in_last_email("/reset-password/")
    form_page = client.get(link)
    assert form_page.status_code == 302  # Django moves the token into the session first
    return client.post(form_page["Location"], {"new_password1": password,
                                               "new_password2": password})


def _without_csrf_tokens(response) -> str:
    # Each render masks the CSRF token differently; everything else must be identical.
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_the_page_asks_for_the_email(client):
    html = client.get("/forgot-password").content.decode()
    assert "Забыли пароль?" in html and 'name="email"' in html


@override_settings(SITE_URL="https://evosync.example.com")
def test_a_known_address_gets_a_link_built_from_site_url(client, merchant):
    response = _request_reset(client, merchant.email)

    assert response.status_code == 302 and response["Location"] == "/forgot-password/sent"
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [merchant.email]
    assert message.subject == "Новый пароль для EvoSync"
    assert "https://evosync.example.com/reset-password/" in message.body
    assert "https://evosync.example.com/reset-password/" in message.alternatives[0][0]


def test_the_address_matches_in_any_letter_case(client, merchant):
    _request_reset(client, "MERCHANT@Example.com")
    assert [m.to for m in mail.outbox] == [[merchant.email]]


def test_an_unknown_address_gets_the_same_answer_and_no_email(client, merchant):
    known = _request_reset(client, merchant.email, follow=True)
    unknown = _request_reset(client, "nobody@example.com", follow=True)

    assert unknown.redirect_chain == known.redirect_chain == [("/forgot-password/sent", 302)]
    assert _without_csrf_tokens(unknown) == _without_csrf_tokens(known)
    assert len(mail.outbox) == 1


def test_a_deactivated_account_gets_no_email(client, merchant):
    merchant.is_active = False
    merchant.save()
    assert _request_reset(client, merchant.email)["Location"] == "/forgot-password/sent"
    assert mail.outbox == []


def test_the_link_sets_a_new_password(client, merchant):
    _request_reset(client, merchant.email)
    response = _open_link_and_set(client)

    assert response.status_code == 302 and response["Location"] == "/reset-password/done"
    merchant.refresh_from_db()
    assert merchant.check_password(NEW_PASSWORD) and not merchant.check_password(PASSWORD)
    assert "Новый пароль установлен" in client.get("/reset-password/done").content.decode()


def test_the_link_works_only_once(client, merchant):
    _request_reset(client, merchant.email)
    link = link_in_last_email("/reset-password/")
    _open_link_and_set(client)

    response = Client().get(link)
    assert response.status_code == 200
    assert "Ссылка для сброса пароля недействительна" in response.content.decode()


@pytest.mark.parametrize("path", [
    "/reset-password/MQ/bad-token",
    "/reset-password/not-base64!/abc-def",
    "/reset-password/OTk5OTk/abc-def",
])
def test_a_bad_link_shows_the_way_to_a_new_one(client, merchant, path):
    response = client.get(path)
    html = response.content.decode()
    assert "Ссылка не работает" in html and 'href="/forgot-password"' in html


def test_a_weak_new_password_is_refused(client, merchant):
    _request_reset(client, merchant.email)
    response = _open_link_and_set(client, password="12345678")

    assert response.status_code == 200
    assert response.context["form"].errors["new_password2"]
    merchant.refresh_from_db()
    assert merchant.check_password(PASSWORD)


def test_resetting_lifts_a_lockout_and_confirms_the_address(client, unconfirmed):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post("/login", {"username": unconfirmed.email, "password": "wrong"})
    assert AccessAttempt.objects.exists()

    _request_reset(client, unconfirmed.email)
    _open_link_and_set(client)

    assert not AccessAttempt.objects.exists()
    unconfirmed.refresh_from_db()
    assert unconfirmed.is_email_confirmed
    response = client.post("/login", {"username": unconfirmed.email, "password": NEW_PASSWORD})
    assert response.status_code == 302


def test_repeated_requests_are_throttled_silently(client, merchant):
    first = _request_reset(client, merchant.email)
    second = _request_reset(client, merchant.email)

    assert first["Location"] == second["Location"] == "/forgot-password/sent"
    assert len(mail.outbox) == 1


def test_the_email_is_in_the_recipients_language_not_the_requesters(client, merchant):
    merchant.language = "en"
    merchant.save()
    _request_reset(client, merchant.email, HTTP_ACCEPT_LANGUAGE="ru")

    assert mail.outbox[0].subject == "Set a new EvoSync password"
    assert "Hello, Иван!" in mail.outbox[0].body


def test_reset_request_without_csrf_token_is_rejected(merchant):
    client = Client(enforce_csrf_checks=True)
    assert _request_reset(client, merchant.email).status_code == 403
    assert mail.outbox == []


# --- Sent from a task: the request does the same work for every address ------------------------


def _queue(monkeypatch) -> list:
    queued = []
    monkeypatch.setattr("apps.accounts.services.async_task",
                        lambda name, *args, **kwargs: queued.append((name, args)))
    return queued


def test_the_request_only_queues_a_task_with_the_user_id(client, merchant, monkeypatch):
    queued = _queue(monkeypatch)
    _request_reset(client, merchant.email)

    assert queued == [("apps.accounts.tasks.send_password_reset_email", (merchant.pk,))]
    assert mail.outbox == []  # nothing is sent inside the request


def test_known_and_unknown_addresses_cost_the_same_queries(client, merchant, monkeypatch):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    queued = _queue(monkeypatch)
    with CaptureQueriesContext(connection) as known:
        _request_reset(client, merchant.email)
    with CaptureQueriesContext(connection) as unknown:
        _request_reset(client, "nobody@example.com")

    assert len(known) == len(unknown)
    assert [name for name, _args in queued] == ["apps.accounts.tasks.send_password_reset_email"] * 2
    assert queued[1][1] == (None,)


def test_the_task_builds_a_working_link_from_the_user_id(client, merchant):
    from apps.accounts import tasks

    assert tasks.send_password_reset_email(merchant.pk) == "sent"
    assert tasks.send_password_reset_email(merchant.pk) == "skipped: throttled"
    assert tasks.send_password_reset_email(None) == "skipped: no account"
    assert len(mail.outbox) == 1
    response = _open_link_and_set(client)
    assert response["Location"] == "/reset-password/done"


def test_a_mail_server_failure_ends_the_task_not_the_request(client, merchant, monkeypatch):
    import smtplib

    def refuse(*args, **kwargs):
        raise smtplib.SMTPServerDisconnected("gone")

    monkeypatch.setattr("apps.accounts.services.send_email", refuse)
    assert _request_reset(client, merchant.email)["Location"] == "/forgot-password/sent"


def test_the_older_call_with_a_token_queues_the_task_by_id(merchant, monkeypatch):
    # apps.connections sends new Evotor accounts a set-password email this way.
    from apps.accounts import services

    queued = _queue(monkeypatch)
    services.send_password_reset_email(merchant, "uid", "a-token-that-must-not-be-queued")
    assert queued == [("apps.accounts.tasks.send_password_reset_email", (merchant.pk,))]


@pytest.mark.parametrize("email", ["a" * 300 + "@example.com", "ж" * 300, "x@" + "İ" * 250])
def test_an_over_long_address_is_a_form_error(client, email):
    response = _request_reset(client, email)
    assert response.status_code == 200
    assert "email" in response.context["form"].errors


@pytest.mark.parametrize("path", [
    "/reset-password/" + "A" * 5000 + "/abc-def",
    "/reset-password/0KY/abc-def",
    "/reset-password/ж/ж-ж",
    "/reset-password/OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5/abc-def",  # 30 nines: no such int
])
def test_odd_links_show_the_failure_page(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert 'href="/forgot-password"' in response.content.decode()
