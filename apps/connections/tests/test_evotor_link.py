"""/evotor: pasting a cloud token, claiming a webhook-made connection, Test and disconnect."""

from __future__ import annotations

import pytest

from apps.connections.models import ConnectionState, EvotorConnection, HealthCheckLog
from apps.connections.signals import evotor_connected
from apps.connections.tests.conftest import (
    CLOUD_TOKEN,
    EVOTOR_USER,
    evotor_stores,
    store_json,
)

pytestmark = pytest.mark.django_db

OTHER_EVOTOR_USER = "01-000000000000777"


@pytest.fixture
def announced():
    """Receives evotor_connected (sent after commit) like the catalog app does."""
    received: list[EvotorConnection] = []

    def receiver(sender, connection, **kwargs):
        received.append(connection)

    evotor_connected.connect(receiver, dispatch_uid="test-evotor-link")
    yield received
    evotor_connected.disconnect(dispatch_uid="test-evotor-link")


def _field_errors(response, field: str = "token") -> list[str]:
    return response.context["form"].errors.get(field, [])


def test_a_valid_token_is_stored_encrypted_and_online(
    page, merchant, api, announced, django_capture_on_commit_callbacks
):
    evotor_stores(api, store_json(), store_json(n=2))
    with django_capture_on_commit_callbacks(execute=True):
        response = page.post("/evotor", {"token": f"  {CLOUD_TOKEN} "})
    assert response.status_code == 302 and response["Location"] == "/evotor"
    connection = EvotorConnection.objects.get(user=merchant)
    assert connection.evotor_user_id == EVOTOR_USER
    assert connection.connection_type == EvotorConnection.Type.MANUAL
    assert connection.state == ConnectionState.ONLINE and connection.last_checked_at
    assert connection.cloud_token == CLOUD_TOKEN
    assert CLOUD_TOKEN not in connection.cloud_token_encrypted
    assert api.calls[0].request.headers["Authorization"] == f"Bearer {CLOUD_TOKEN}"
    # The first catalog refresh hangs off this signal, sent once the row is committed.
    assert [c.pk for c in announced] == [connection.pk]


def test_a_token_evotor_refuses_is_a_field_error_and_nothing_is_saved(page, api, announced):
    evotor_stores(api, status=401)
    response = page.post("/evotor", {"token": CLOUD_TOKEN})
    assert response.status_code == 200
    assert _field_errors(response) == [
        "Evotor did not accept this token. Copy it again from the EvoSync app in your Evotor "
        "account."
    ]
    assert not EvotorConnection.objects.exists()
    assert not HealthCheckLog.objects.exists()
    assert announced == []
    assert CLOUD_TOKEN not in response.content.decode()


def test_an_empty_token_never_reaches_evotor(page, api):
    response = page.post("/evotor", {"token": "   "})
    assert _field_errors(response) and len(api.calls) == 0
    assert not EvotorConnection.objects.exists()


def test_an_account_without_stores_is_explained(page, api):
    evotor_stores(api)
    response = page.post("/evotor", {"token": CLOUD_TOKEN})
    assert "has no stores yet" in _field_errors(response)[0]
    assert not EvotorConnection.objects.exists()


def test_evotor_down_is_a_retry_later_error(page, api):
    evotor_stores(api, status=503)
    response = page.post("/evotor", {"token": CLOUD_TOKEN})
    assert _field_errors(response)
    assert not EvotorConnection.objects.exists()


def test_claims_the_unclaimed_connection_of_the_same_evotor_user(
    page, merchant, api, announced, django_capture_on_commit_callbacks
):
    unclaimed = EvotorConnection.objects.create(evotor_user_id=EVOTOR_USER)
    evotor_stores(api, store_json())
    with django_capture_on_commit_callbacks(execute=True):
        page.post("/evotor", {"token": CLOUD_TOKEN})
    unclaimed.refresh_from_db()
    assert unclaimed.user == merchant
    assert unclaimed.cloud_token == CLOUD_TOKEN
    assert unclaimed.state == ConnectionState.ONLINE
    assert EvotorConnection.objects.count() == 1
    assert [c.pk for c in announced] == [unclaimed.pk]


def test_a_different_evotor_account_is_refused_plainly(page, evotor_connection, api):
    evotor_stores(api, store_json(user_id=OTHER_EVOTOR_USER))
    response = page.post("/evotor", {"token": "another-token"})
    error = _field_errors(response)[0]
    assert EVOTOR_USER in error and OTHER_EVOTOR_USER in error
    assert "Disconnect Evotor first" in error
    evotor_connection.refresh_from_db()
    assert evotor_connection.cloud_token == CLOUD_TOKEN


def test_an_evotor_account_linked_to_another_merchant_is_refused(
    page, other_merchant, api
):
    taken = EvotorConnection(user=other_merchant, evotor_user_id=EVOTOR_USER)
    taken.cloud_token = "other-merchant-token"
    taken.save()
    evotor_stores(api, store_json())
    response = page.post("/evotor", {"token": CLOUD_TOKEN})
    assert "another EvoSync account" in _field_errors(response)[0]
    taken.refresh_from_db()
    assert taken.cloud_token == "other-merchant-token"


def test_pasting_a_new_token_for_the_same_account_replaces_it(page, evotor_connection, api):
    evotor_stores(api, store_json())
    page.post("/evotor", {"token": "new-cloud-token"})
    evotor_connection.refresh_from_db()
    assert evotor_connection.cloud_token == "new-cloud-token"


def test_test_button_records_online(page, evotor_connection, api):
    evotor_connection.state = ConnectionState.OFFLINE
    evotor_connection.save()
    evotor_stores(api, store_json())
    response = page.post("/evotor/test", {"next": "connections"})
    assert response["Location"] == "/connections"
    evotor_connection.refresh_from_db()
    assert evotor_connection.state == ConnectionState.ONLINE
    assert evotor_connection.last_checked_at is not None
    assert list(HealthCheckLog.objects.values_list("event", flat=True)) == ["online"]


@pytest.mark.parametrize("status,state", [(401, "revoked"), (403, "revoked"), (402, "revoked"),
                                          (500, "offline")])
def test_test_button_records_the_failure(page, evotor_connection, api, status, state):
    evotor_stores(api, status=status)
    response = page.post("/evotor/test", follow=True)
    evotor_connection.refresh_from_db()
    assert evotor_connection.state == state
    assert evotor_connection.last_error
    assert response.redirect_chain[-1][0] == "/evotor"
    assert CLOUD_TOKEN not in response.content.decode()


def test_test_button_never_redirects_elsewhere(page, evotor_connection, api):
    evotor_stores(api, store_json())
    response = page.post("/evotor/test", {"next": "https://evil.example/"})
    assert response["Location"] == "/evotor"


def test_disconnect_asks_first_then_deletes(page, evotor_connection):
    confirm = page.get("/evotor/disconnect")
    assert confirm.status_code == 200
    assert EvotorConnection.objects.filter(pk=evotor_connection.pk).exists()
    response = page.post("/evotor/disconnect")
    assert response["Location"] == "/connections"
    assert not EvotorConnection.objects.filter(pk=evotor_connection.pk).exists()


def test_test_and_disconnect_without_a_connection_are_404(page):
    assert page.post("/evotor/test").status_code == 404
    assert page.get("/evotor/disconnect").status_code == 404
    assert page.post("/evotor/disconnect").status_code == 404


def test_page_shows_status_and_never_the_token(page, evotor_connection):
    html = page.get("/evotor").content.decode()
    assert 'id="evotor-state" data-state="online"' in html
    assert EVOTOR_USER in html
    assert CLOUD_TOKEN not in html and evotor_connection.cloud_token_encrypted not in html


@pytest.mark.parametrize(
    "token", ["токен-эвотора", "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6Ж", "é" * 36, "a b", "x" * 201]
)
def test_a_token_that_is_not_printable_ascii_is_a_field_error_without_calling_evotor(
    page, api, token
):
    response = page.post("/evotor", {"token": token})
    assert response.status_code == 200 and _field_errors(response)
    assert len(api.calls) == 0
    assert not EvotorConnection.objects.exists()


def test_a_token_of_another_ascii_form_is_accepted(page, merchant, api):
    evotor_stores(api, store_json())
    response = page.post("/evotor", {"token": "evo_Tk.9b6f3c1e:2d4a/4f7b+8c5e=="})
    assert response.status_code == 302
    assert EvotorConnection.objects.get(user=merchant).cloud_token.startswith("evo_Tk.")


def test_test_button_with_a_malformed_stored_token_revokes_instead_of_failing(
    page, evotor_connection, api
):
    """A token stored before tokens were checked on the way in (e.g. by user/token)."""
    evotor_connection.cloud_token = "токен-с-кириллицей"
    evotor_connection.save()
    response = page.post("/evotor/test", follow=True)
    assert response.status_code == 200 and len(api.calls) == 0
    evotor_connection.refresh_from_db()
    assert evotor_connection.state == ConnectionState.REVOKED
    assert "not a valid token" in evotor_connection.last_error


def test_a_stores_user_id_with_a_trailing_newline_is_not_an_evotor_user(page, api):
    evotor_stores(api, store_json(user_id=EVOTOR_USER + "\n"))
    response = page.post("/evotor", {"token": CLOUD_TOKEN})
    assert "did not say which account" in _field_errors(response)[0]
    assert not EvotorConnection.objects.exists()
