"""Evotor's outbound side: installing the app and signed product-change webhooks."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from decimal import Decimal

import pytest
import requests
import responses
from django.core.management import CommandError, call_command

from apps.sandbox.models import EvotorProduct, OutboundDelivery
from apps.sandbox.services import outbound
from apps.sandbox.services.config import get_config
from apps.sandbox.services.world import make_group, make_product, set_config

TOKEN_URL = "http://product.test/api/v1/user/token"
EVENTS_URL = "http://product.test/api/v1/evotor/events"
INSTALL_URL = "http://product.test/api/v2/installation/event"
NO_WAIT = outbound.Delivery(sleep=lambda seconds: None)


@pytest.fixture
def targets(db):
    set_config(
        evotor_token_url=TOKEN_URL,
        evotor_installation_url=INSTALL_URL,
        evotor_server_token="server-token-1",
        evotor_events_url=EVENTS_URL,
        evotor_events_secret="s3cret",
    )


@responses.activate
def test_install_posts_user_id_and_token_with_our_server_token(targets, evotor_account):
    evotor_account.is_revoked = True
    evotor_account.save()
    responses.post(TOKEN_URL, status=200)

    record = outbound.install_app(evotor_account, delivery=NO_WAIT)

    [call] = responses.calls
    assert call.request.headers["Authorization"] == "Bearer server-token-1"
    assert call.request.headers["Content-Type"] == "application/json;charset=UTF-8"
    assert json.loads(call.request.body) == {
        "userId": "01-000000000000042",
        "token": evotor_account.token,
    }
    assert record.delivered and record.attempts == 1
    evotor_account.refresh_from_db()
    assert not evotor_account.is_revoked


@responses.activate
def test_a_reinstall_can_issue_a_new_token(targets, evotor_account):
    old = evotor_account.token
    responses.post(TOKEN_URL, status=200)

    outbound.install_app(evotor_account, new_token=True, delivery=NO_WAIT)

    assert json.loads(responses.calls[0].request.body)["token"] != old
    uuid.UUID(evotor_account.token)


@responses.activate
def test_product_event_is_signed_and_shaped_like_hookshot(targets, store, evotor_get):
    product = make_product(store, name="Футболка белая M", price=Decimal("1190"))
    responses.post(EVENTS_URL, status=200)

    outbound.send_product_event(product, "updated", delivery=NO_WAIT)

    request = responses.calls[0].request
    body = request.body
    expected = hmac.new(b"s3cret", body, hashlib.sha1).hexdigest()
    assert request.headers["X-Hub-Signature"] == f"sha1={expected}"
    assert request.headers["User-Agent"] == "Evotor-Hookshot"
    assert request.headers["Content-Type"] == "application/vnd.evotor.v2+json;charset=UTF-8"
    assert "Authorization" not in request.headers
    uuid.UUID(request.headers["X-Evotor-Delivery"])
    envelope = json.loads(body)
    assert set(envelope) == {"id", "timestamp", "type", "action", "payload"}
    assert (envelope["type"], envelope["action"]) == ("ProductEvent", "updated")
    assert isinstance(envelope["timestamp"], int)
    api_view = evotor_get(f"/stores/{store.evotor_id}/products/{product.evotor_id}").json()
    assert envelope["payload"] == api_view


@responses.activate
def test_a_removed_event_deletes_the_product(targets, store):
    product = make_product(store)
    responses.post(EVENTS_URL, status=200)

    outbound.send_product_event(product, "removed", delivery=NO_WAIT)

    assert json.loads(responses.calls[0].request.body)["payload"]["id"] == product.evotor_id
    assert not EvotorProduct.objects.exists()


@responses.activate
def test_group_events_too(targets, store):
    group = make_group(store, name="Напитки")
    responses.post(EVENTS_URL, status=200)

    outbound.send_group_event(group, "created", delivery=NO_WAIT)

    envelope = json.loads(responses.calls[0].request.body)
    assert envelope["type"] == "ProductGroupEvent" and envelope["payload"]["name"] == "Напитки"


@responses.activate
def test_5xx_and_network_failures_are_retried_4xx_is_delivered(targets, store):
    product = make_product(store)
    responses.post(EVENTS_URL, status=502)
    responses.post(EVENTS_URL, body=requests.ConnectionError("refused"))
    responses.post(EVENTS_URL, status=400)
    waits = []

    record = outbound.send_product_event(
        product, "updated", delivery=outbound.Delivery(sleep=waits.append)
    )

    assert record.attempts == 3 and record.status_code == 400 and record.delivered
    assert len(waits) == 2 and waits[0] < waits[1]
    # All attempts carry the same delivery id and body, so the receiver can de-duplicate.
    assert len({c.request.headers["X-Evotor-Delivery"] for c in responses.calls}) == 1


@responses.activate
def test_a_failing_receiver_is_recorded_as_not_delivered(targets, store):
    responses.post(EVENTS_URL, status=500)

    record = outbound.send_product_event(make_product(store), "updated", delivery=NO_WAIT)

    assert not record.delivered and OutboundDelivery.objects.get().status_code == 500


@responses.activate
def test_uninstall_revokes_the_token_and_posts_the_event(targets, evotor_account, evotor_get):
    responses.post(INSTALL_URL, status=200)

    outbound.uninstall_app(evotor_account, delivery=NO_WAIT)

    event = json.loads(responses.calls[0].request.body)
    assert (
        event["type"] == "ApplicationUninstalled"
        and event["data"]["userId"] == evotor_account.user_id
    )
    assert responses.calls[0].request.headers["Authorization"] == "Bearer server-token-1"
    assert evotor_get("/stores").status_code == 403


def test_without_a_target_nothing_is_sent(evotor_account, store):
    with pytest.raises(ValueError):
        outbound.install_app(evotor_account, delivery=NO_WAIT)
    with pytest.raises(ValueError):
        outbound.send_product_event(make_product(store), "updated", delivery=NO_WAIT)
    with pytest.raises(ValueError):
        outbound.send_product_event(make_product(store), "exploded", url=EVENTS_URL, secret="x")


@responses.activate
def test_the_command_configures_installs_and_sends_changed_products(evotor_account, store, capsys):
    product = make_product(store, price=Decimal("100"))
    responses.post(TOKEN_URL, status=200)
    responses.post(EVENTS_URL, status=204)

    call_command(
        "sandbox_evotor",
        "configure",
        "--token-url",
        TOKEN_URL,
        "--server-token",
        "srv",
        "--events-url",
        EVENTS_URL,
        "--events-secret",
        "sec",
    )
    call_command("sandbox_evotor", "install", evotor_account.user_id)
    call_command("sandbox_evotor", "event", product.evotor_id, "--price", "149.90")

    assert get_config().evotor_events_secret == "sec"
    assert json.loads(responses.calls[1].request.body)["payload"]["price"] == 149.9
    product.refresh_from_db()
    assert product.price == Decimal("149.90")
    assert "delivered" in capsys.readouterr().out


@responses.activate
def test_the_command_fails_loudly_when_not_delivered(targets, evotor_account):
    responses.post(TOKEN_URL, status=503)

    with pytest.raises(CommandError):
        call_command("sandbox_evotor", "install", evotor_account.user_id, "--attempts", "1")
    with pytest.raises(CommandError):
        call_command("sandbox_evotor", "install", "01-999999999999999")


@responses.activate
def test_the_control_endpoint_installs_and_sends_events(targets, client, evotor_account, store):
    product = make_product(store)
    responses.post(TOKEN_URL, status=200)
    responses.post(EVENTS_URL, status=200)
    headers = {"X-Sandbox-Control-Token": get_config().control_token}

    installed = client.post(
        "/sandbox/control/evotor/install", {"user_id": evotor_account.user_id}, headers=headers
    )
    event = client.post(
        "/sandbox/control/evotor/events",
        json.dumps({"product_id": product.evotor_id, "action": "updated"}),
        content_type="application/json",
        headers=headers,
    )
    touched = client.post("/sandbox/control/evotor/touch", {"percent": "100"}, headers=headers)

    assert installed.json()["delivered"] and event.json()["status_code"] == 200
    assert touched.json()["touched"] == 1
