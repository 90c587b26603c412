"""Evotor's account webhooks: exact error codes, nothing stored unless the request is valid."""

from __future__ import annotations

import base64
import json
import logging

import pytest
from django.test import Client

from apps.connections import crypto
from apps.connections.models import (
    ConnectionState,
    EvotorConnection,
    HealthCheckLog,
    WebhookEvent,
)
from apps.connections.signals import evotor_connected
from apps.connections.tests.conftest import evotor_stores

pytestmark = pytest.mark.django_db

SERVER_TOKEN = "3f0c2f8e-9a51-4a57-b0f4-0d7d3a7c1e11"
EVOTOR_USER = "01-000000000000042"
CLOUD_TOKEN = "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6f"


@pytest.fixture(autouse=True)
def server_token(settings):
    settings.EVOTOR_WEBHOOK_AUTH = "bearer"
    settings.EVOTOR_WEBHOOK_TOKEN = SERVER_TOKEN


@pytest.fixture
def evotor():
    """A client that posts like Evotor does (CSRF checks on, as in production)."""
    client = Client(enforce_csrf_checks=True)

    def post(path: str, body, auth: str | None = f"Bearer {SERVER_TOKEN}", **extra):
        data = body if isinstance(body, (str, bytes)) else json.dumps(body)
        headers = {"HTTP_AUTHORIZATION": auth} if auth is not None else {}
        return client.post(path, data, content_type="application/json", **headers, **extra)

    return post


def _errors(response) -> list[dict]:
    return response.json()["errors"]


def _nothing_stored() -> bool:
    return not (
        EvotorConnection.objects.exists()
        or WebhookEvent.objects.exists()
        or HealthCheckLog.objects.exists()
    )


TOKEN_BODY = {"userId": EVOTOR_USER, "token": CLOUD_TOKEN}
ENDPOINTS = ["/api/v1/user/token", "/api/v1/user/verify", "/api/v2/installation/event"]


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize(
    "auth",
    [None, "Bearer wrong-token", f"Basic {SERVER_TOKEN}", SERVER_TOKEN, f"Bearer {SERVER_TOKEN}x"],
)
def test_refuses_missing_wrong_or_other_scheme_auth(evotor, path, auth):
    response = evotor(path, TOKEN_BODY, auth=auth)
    assert response.status_code == 401
    assert _errors(response) == [{"code": 1001, "reason": "invalid server token"}]
    assert _nothing_stored()


@pytest.mark.parametrize("path", ENDPOINTS)
def test_only_post(path):
    response = Client().get(path, HTTP_AUTHORIZATION=f"Bearer {SERVER_TOKEN}")
    assert response.status_code == 405


def test_basic_auth_when_configured(evotor, settings):
    settings.EVOTOR_WEBHOOK_AUTH = "basic"
    settings.EVOTOR_WEBHOOK_BASIC_USER, settings.EVOTOR_WEBHOOK_BASIC_PASSWORD = "evotor", "s3cret"
    good = "Basic " + base64.b64encode(b"evotor:s3cret").decode()
    bad = "Basic " + base64.b64encode(b"evotor:guess").decode()
    assert evotor("/api/v1/user/token", TOKEN_BODY, auth=bad).status_code == 401
    assert evotor("/api/v1/user/token", TOKEN_BODY, auth="Basic %%%").status_code == 401
    assert evotor("/api/v1/user/token", TOKEN_BODY, auth=good).status_code == 200


def test_an_empty_configured_token_refuses_everything(evotor, settings):
    settings.EVOTOR_WEBHOOK_TOKEN = ""
    assert evotor("/api/v1/user/token", TOKEN_BODY, auth="Bearer ").status_code == 401


def test_failed_authentications_are_throttled_per_ip(evotor):
    for _ in range(10):
        assert evotor("/api/v1/user/token", TOKEN_BODY, auth="Bearer guess").status_code == 401
    blocked = evotor("/api/v1/user/token", TOKEN_BODY)
    assert blocked.status_code == 429 and _errors(blocked)[0]["code"] == 1001
    other_ip = evotor("/api/v1/user/token", TOKEN_BODY, REMOTE_ADDR="10.1.2.3")
    assert other_ip.status_code == 200
    assert EvotorConnection.objects.count() == 1


@pytest.mark.parametrize("path", ENDPOINTS)
@pytest.mark.parametrize("body", ["{not json", "[1, 2]", "\"text\"", b"\xff\xfe"])
def test_bad_json_is_2001(evotor, path, body):
    response = evotor(path, body)
    assert response.status_code == 400
    assert _errors(response)[0]["code"] == 2001
    assert _nothing_stored()


@pytest.mark.parametrize(
    "body,code,subject",
    [
        ({"token": CLOUD_TOKEN}, 2002, "userId"),
        ({"userId": EVOTOR_USER}, 2002, "token"),
        ({"userId": EVOTOR_USER, "token": ""}, 2002, "token"),
        ({"userId": "42", "token": CLOUD_TOKEN}, 2003, "userId"),
        ({"userId": "01-00000000000004X", "token": CLOUD_TOKEN}, 2003, "userId"),
        ({"userId": 1000000000000042, "token": CLOUD_TOKEN}, 2003, "userId"),
        ({"userId": EVOTOR_USER, "token": ["a"]}, 2003, "token"),
    ],
)
def test_user_token_validates_fields(evotor, body, code, subject):
    response = evotor("/api/v1/user/token", body)
    assert response.status_code == 400
    assert _errors(response)[0]["code"] == code
    assert _errors(response)[0]["subject"] == subject
    assert _nothing_stored()


def test_user_token_creates_an_unclaimed_online_connection(evotor):
    response = evotor("/api/v1/user/token", TOKEN_BODY)
    assert response.status_code == 200
    connection = EvotorConnection.objects.get()
    assert connection.user is None
    assert connection.evotor_user_id == EVOTOR_USER
    assert connection.cloud_token == CLOUD_TOKEN
    assert CLOUD_TOKEN not in connection.cloud_token_encrypted
    assert connection.state == ConnectionState.ONLINE
    assert connection.connection_type == EvotorConnection.Type.WEBHOOK


def test_user_token_redelivery_is_harmless(evotor):
    evotor("/api/v1/user/token", TOKEN_BODY)
    stored = EvotorConnection.objects.get().cloud_token_encrypted
    assert evotor("/api/v1/user/token", TOKEN_BODY).status_code == 200
    assert EvotorConnection.objects.count() == 1
    assert EvotorConnection.objects.get().cloud_token_encrypted == stored


def test_user_token_replaces_a_token_and_announces_a_linked_connection(
    evotor, merchant, django_capture_on_commit_callbacks, api
):
    evotor_stores(api)  # the announcement starts a catalog refresh: Evotor is mocked, not called
    EvotorConnection.objects.create(user=merchant, evotor_user_id=EVOTOR_USER)
    received = []

    def receiver(sender, connection, **kwargs):
        received.append(connection.pk)

    evotor_connected.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            evotor("/api/v1/user/token", TOKEN_BODY)
    finally:
        evotor_connected.disconnect(receiver)
    connection = EvotorConnection.objects.get()
    assert received == [connection.pk]
    assert connection.cloud_token == CLOUD_TOKEN
    log = HealthCheckLog.objects.get()
    assert (log.user, log.service, log.event) == (merchant, "evotor", "online")


def _verify_body(email="merchant@example.com", password=None, user_id=EVOTOR_USER):
    return {"userId": user_id, "username": email, "password": password}


def test_verify_links_the_account_and_returns_a_per_user_token(evotor, merchant, password):
    response = evotor("/api/v1/user/verify", _verify_body("MERCHANT@example.com", password))
    assert response.status_code == 200
    body = response.json()
    assert body["userId"] == EVOTOR_USER and body["hasBilling"] is False
    assert 20 <= len(body["token"]) <= 128
    connection = EvotorConnection.objects.get()
    assert connection.user == merchant
    # Nothing of it is kept: no endpoint of ours accepts it (see issue_webhook_token).
    assert body["token"] not in repr(EvotorConnection.objects.values().get())


def test_verify_claims_the_unclaimed_connection_with_its_token(
    evotor, merchant, password, django_capture_on_commit_callbacks
):
    evotor("/api/v1/user/token", TOKEN_BODY)
    with django_capture_on_commit_callbacks() as callbacks:
        evotor("/api/v1/user/verify", _verify_body(password=password))
    connection = EvotorConnection.objects.get()
    assert connection.user == merchant and connection.cloud_token == CLOUD_TOKEN
    assert len(callbacks) == 1  # evotor_connected: the first catalog refresh can start


@pytest.mark.parametrize(
    "email,password", [("merchant@example.com", "wrong"), ("nobody@example.com", "whatever")]
)
def test_verify_wrong_credentials_is_1006(evotor, merchant, email, password):
    response = evotor("/api/v1/user/verify", _verify_body(email, password))
    assert response.status_code == 401
    assert _errors(response)[0]["code"] == 1006
    assert _nothing_stored()


def test_verify_inactive_account_is_1006(evotor, merchant, password):
    merchant.is_active = False
    merchant.save()
    response = evotor("/api/v1/user/verify", _verify_body(password=password))
    assert _errors(response)[0]["code"] == 1006


@pytest.mark.parametrize("missing", ["username", "password"])
def test_verify_missing_field_is_2002(evotor, merchant, password, missing):
    body = _verify_body(password=password)
    del body[missing]
    response = evotor("/api/v1/user/verify", body)
    assert response.status_code == 400
    assert _errors(response)[0] == {
        "code": 2002, "reason": "required field is missing", "subject": missing
    }


def test_verify_when_the_evotor_user_belongs_to_another_account_is_2004(
    evotor, merchant, other_merchant, password
):
    EvotorConnection.objects.create(user=other_merchant, evotor_user_id=EVOTOR_USER)
    response = evotor("/api/v1/user/verify", _verify_body(password=password))
    assert response.status_code == 409
    assert _errors(response)[0]["code"] == 2004
    assert EvotorConnection.objects.get().user == other_merchant


def test_verify_when_the_account_is_linked_to_another_evotor_user_is_2004(
    evotor, merchant, password
):
    EvotorConnection.objects.create(user=merchant, evotor_user_id="01-000000000000001")
    response = evotor("/api/v1/user/verify", _verify_body(password=password))
    assert response.status_code == 409
    assert _errors(response)[0]["code"] == 2004
    assert EvotorConnection.objects.count() == 1


def test_verify_redelivery_links_once_and_answers_a_fresh_token(evotor, merchant, password):
    first = evotor("/api/v1/user/verify", _verify_body(password=password)).json()["token"]
    second = evotor("/api/v1/user/verify", _verify_body(password=password)).json()["token"]
    assert EvotorConnection.objects.get().user == merchant
    assert first != second and 20 <= len(second) <= 128


def _installation(event_type="ApplicationUninstalled", event_id="a7d4b8c2-0000-4000-8000-1"):
    return {
        "id": event_id,
        "timestamp": 1718000000000,
        "version": 2,
        "type": event_type,
        "data": {"productId": "app-id", "userId": EVOTOR_USER},
    }


def test_uninstall_revokes_once_however_often_it_is_delivered(evotor, merchant):
    evotor("/api/v1/user/token", TOKEN_BODY)
    EvotorConnection.objects.update(user=merchant)
    for _ in range(3):
        assert evotor("/api/v2/installation/event", _installation()).status_code == 200
    connection = EvotorConnection.objects.get()
    assert connection.state == ConnectionState.REVOKED
    assert "uninstalled" in connection.last_error
    assert WebhookEvent.objects.count() == 1
    event = WebhookEvent.objects.get()
    assert event.processed_at is not None and event.user == merchant
    assert list(HealthCheckLog.objects.values_list("event", flat=True)) == ["revoked"]


def test_install_event_is_recorded_without_changing_the_connection(evotor):
    evotor("/api/v1/user/token", TOKEN_BODY)
    response = evotor("/api/v2/installation/event", _installation("ApplicationInstalled"))
    assert response.status_code == 200
    assert WebhookEvent.objects.get().event_type == "ApplicationInstalled"
    assert EvotorConnection.objects.get().state == ConnectionState.ONLINE


@pytest.mark.parametrize(
    "change,code",
    [
        ({"type": "ApplicationExploded"}, 2003),
        ({"data": None}, 2002),
        ({"data": {"userId": "nope"}}, 2003),
        ({"id": ""}, 2002),
    ],
)
def test_invalid_installation_events_store_nothing(evotor, change, code):
    response = evotor("/api/v2/installation/event", {**_installation(), **change})
    assert response.status_code == 400
    assert _errors(response)[0]["code"] == code
    assert _nothing_stored()


def test_tokens_never_reach_the_logs(evotor, merchant, password, caplog):
    caplog.set_level(logging.DEBUG)
    evotor("/api/v1/user/token", TOKEN_BODY)
    token = evotor("/api/v1/user/verify", _verify_body(password=password)).json()["token"]
    evotor("/api/v1/user/token", TOKEN_BODY, auth="Bearer guess")
    logged = "\n".join(record.getMessage() for record in caplog.records)
    for secret in (CLOUD_TOKEN, token, SERVER_TOKEN, password):
        assert secret not in logged


def test_stored_token_needs_the_configured_key(evotor, settings):
    evotor("/api/v1/user/token", TOKEN_BODY)
    settings.TOKEN_ENCRYPTION_KEYS = ["Jqz0o0m5gYpQbV0cQ3Yb1q3v8t1m0Q3xXr9s5pYw0a8="]
    with pytest.raises(crypto.TokenDecryptionError):
        _ = EvotorConnection.objects.get().cloud_token


def _create_body(**fields):
    return {"userId": EVOTOR_USER, "email": "New.Merchant@Example.com", "firstName": "Ольга",
            "lastName": "Смирнова", "phone": "8 (916) 555-44-33", **fields}


def test_create_makes_an_unconfirmed_account_that_sets_its_password_by_email(
    evotor, mailoutbox, django_capture_on_commit_callbacks
):
    from django.contrib.auth import get_user_model

    with django_capture_on_commit_callbacks(execute=True):
        response = evotor("/api/v1/user/create", _create_body())
    assert response.status_code == 200
    body = response.json()
    assert body["userId"] == EVOTOR_USER and 20 <= len(body["token"]) <= 128
    user = get_user_model().objects.get()
    assert (user.email, user.first_name, user.phone) == (
        "new.merchant@example.com", "Ольга", "+79165554433"
    )
    assert not user.is_email_confirmed and not user.has_usable_password()
    connection = EvotorConnection.objects.get()
    assert connection.user == user
    assert body["token"] not in repr(EvotorConnection.objects.values().get())
    assert len(mailoutbox) == 1 and mailoutbox[0].to == ["new.merchant@example.com"]
    assert "/reset-password/" in mailoutbox[0].body


def test_create_redelivery_answers_again_without_a_second_account(
    evotor, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        first = evotor("/api/v1/user/create", _create_body())
        second = evotor("/api/v1/user/create", _create_body())
    assert first.status_code == second.status_code == 200
    assert second.json()["token"] and second.json()["token"] != first.json()["token"]
    assert EvotorConnection.objects.count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.parametrize(
    "fields", [{"email": "MERCHANT@example.com"}, {"phone": "+7 916 123 45 67"}]
)
def test_create_for_an_existing_email_or_phone_is_2005(evotor, merchant, fields):
    response = evotor("/api/v1/user/create", _create_body(**fields))
    assert response.status_code == 409
    assert _errors(response)[0]["code"] == 2005
    assert not EvotorConnection.objects.exists()


def test_create_for_a_linked_evotor_user_is_2004(evotor, merchant):
    EvotorConnection.objects.create(user=merchant, evotor_user_id=EVOTOR_USER)
    response = evotor("/api/v1/user/create", _create_body())
    assert response.status_code == 409 and _errors(response)[0]["code"] == 2004


@pytest.mark.parametrize(
    "fields,code,subject",
    [
        ({"email": "not-an-email"}, 2003, "email"),
        ({"email": ""}, 2002, "email"),
        ({"phone": "12"}, 2003, "phone"),
        ({"firstName": ["x"]}, 2003, "firstName"),
        ({"userId": "bad"}, 2003, "userId"),
    ],
)
def test_create_validates_fields_and_stores_nothing(evotor, fields, code, subject):
    from django.contrib.auth import get_user_model

    response = evotor("/api/v1/user/create", _create_body(**fields))
    assert response.status_code == 400
    assert _errors(response)[0]["code"] == code and _errors(response)[0]["subject"] == subject
    assert not get_user_model().objects.exists() and _nothing_stored()


def test_create_claims_a_connection_that_already_has_its_token(
    evotor, django_capture_on_commit_callbacks
):
    evotor("/api/v1/user/token", TOKEN_BODY)
    with django_capture_on_commit_callbacks() as callbacks:
        evotor("/api/v1/user/create", _create_body())
    assert len(callbacks) == 2  # the set-password email, and evotor_connected
    connection = EvotorConnection.objects.get()
    assert connection.user.email == "new.merchant@example.com"
    assert connection.cloud_token == CLOUD_TOKEN


def test_create_requires_server_auth(evotor):
    assert evotor("/api/v1/user/create", _create_body(), auth=None).status_code == 401


# --- malformed input never reaches a 500 ---------------------------------------------------------

ALL_ENDPOINTS = [*ENDPOINTS, "/api/v1/user/create"]


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
def test_deeply_nested_bodies_are_2001(evotor, path):
    response = evotor(path, "[" * 10_000 + "]" * 10_000)
    assert response.status_code == 400 and _errors(response)[0]["code"] == 2001
    assert _nothing_stored()


@pytest.mark.parametrize("path", ALL_ENDPOINTS)
@pytest.mark.parametrize("body", ['{"userId": NaN}', '{"a": [' + "9" * 20_000 + "]}"])
def test_unusable_numbers_are_2001(evotor, path, body):
    response = evotor(path, body)
    assert response.status_code == 400 and _errors(response)[0]["code"] == 2001
    assert _nothing_stored()


@pytest.mark.parametrize(
    "token", ["токен-из-эвотора", "9b6f3c1e 2d4a", "ä" * 36, "x" * 201, CLOUD_TOKEN + "\u200b"]
)
def test_user_token_refuses_a_token_that_is_not_printable_ascii_and_stores_nothing(
    evotor, token
):
    response = evotor("/api/v1/user/token", {"userId": EVOTOR_USER, "token": token})
    assert response.status_code == 400
    assert _errors(response)[0]["code"] == 2003 and _errors(response)[0]["subject"] == "token"
    assert _nothing_stored()


def test_installation_event_with_a_number_beyond_float_is_stored_as_text(evotor):
    body = json.dumps(_installation()).replace('"version": 2', '"version": 1e5000')
    assert evotor("/api/v2/installation/event", body).status_code == 200
    assert WebhookEvent.objects.get().payload["version"] == "1E+5000"


def test_non_ascii_authorization_is_401(evotor):
    response = evotor("/api/v1/user/token", TOKEN_BODY, auth="Bearer токен")
    assert response.status_code == 401 and _errors(response)[0]["code"] == 1001
    basic = evotor("/api/v1/user/token", TOKEN_BODY, auth="Basic Жж==")
    assert basic.status_code == 401
    assert _nothing_stored()


@pytest.mark.parametrize("forwarded", ["x" * 5000, "Ж, 10.0.0.1, не-ip", "1.2.3.4\u0000"])
def test_a_forwarded_for_that_is_not_an_address_falls_back_to_the_peer(
    evotor, settings, forwarded
):
    settings.AXES_IPWARE_PROXY_COUNT = 1
    response = evotor("/api/v1/user/token", TOKEN_BODY, auth="Bearer guess",
                      HTTP_X_FORWARDED_FOR=forwarded)
    assert response.status_code == 401


def test_a_forwarded_for_address_is_the_client_behind_a_trusted_proxy(rf, settings):
    from apps.connections.evotor_webhooks import client_ip

    settings.AXES_IPWARE_PROXY_COUNT = 1
    request = rf.post("/", HTTP_X_FORWARDED_FOR="198.51.100.7, 203.0.113.9")
    assert client_ip(request) == "203.0.113.9"
