"""Admin pages never render a token, and offer no way to type one in plain text."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from apps.connections.models import ConnectionState, EvotorConnection, VkConnection
from apps.connections.tests.conftest import evotor_stores, make_vk_connection, vk_reply

pytestmark = pytest.mark.django_db

CLOUD = "9b6f3c1e-2d4a-4f7b-8c5e-1a2b3c4d5e6f"
ACCESS, REFRESH = "vk1.a.ACCESS-secret-token", "vk1.a.REFRESH-secret-token"


@pytest.fixture
def connections(merchant):
    evotor = EvotorConnection(user=merchant, evotor_user_id="01-000000000000042")
    evotor.cloud_token = CLOUD
    evotor.save()
    vk = VkConnection(user=merchant, group_id=1234, group_name="Кофейня")
    vk.access_token, vk.refresh_token = ACCESS, REFRESH
    vk.save()
    return evotor, vk


@pytest.mark.parametrize(
    "url_name,model_attr",
    [
        ("admin:connections_evotorconnection_change", 0),
        ("admin:connections_vkconnection_change", 1),
        ("admin:connections_evotorconnection_changelist", None),
        ("admin:connections_vkconnection_changelist", None),
    ],
)
def test_pages_never_render_tokens(client, staff_user, connections, url_name, model_attr):
    client.force_login(staff_user)
    args = [connections[model_attr].pk] if model_attr is not None else []
    response = client.get(reverse(url_name, args=args))
    assert response.status_code == 200
    html = response.content.decode()
    for secret in (CLOUD, ACCESS, REFRESH, connections[0].cloud_token_encrypted,
                   connections[1].access_token_encrypted):
        assert secret not in html
    if model_attr is not None:
        assert "stored (key" in html or "сохранён (ключ" in html


def test_change_form_has_no_token_inputs(client, staff_user, connections):
    client.force_login(staff_user)
    html = client.get(
        reverse("admin:connections_vkconnection_change", args=[connections[1].pk])
    ).content.decode()
    for field in ("access_token", "refresh_token", "access_token_encrypted"):
        assert f'name="{field}"' not in html


def test_posting_a_token_field_changes_nothing(client, staff_user, connections):
    client.force_login(staff_user)
    evotor = connections[0]
    url = reverse("admin:connections_evotorconnection_change", args=[evotor.pk])
    client.post(url, {
        "user": evotor.user_id, "evotor_user_id": evotor.evotor_user_id,
        "connection_type": "webhook", "state": "online",
        "cloud_token": "injected", "cloud_token_encrypted": "injected",
    })
    evotor.refresh_from_db()
    assert evotor.cloud_token == CLOUD


@pytest.mark.parametrize("model", ["evotorconnection", "vkconnection"])
def test_check_now_action_checks_and_reports(client, staff_user, merchant, api, model):
    if model == "evotorconnection":
        connection = EvotorConnection(user=merchant, evotor_user_id="01-000000000000042",
                                      state=ConnectionState.ONLINE)
        connection.cloud_token = CLOUD
        connection.save()
        evotor_stores(api, status=401)
    else:
        connection = make_vk_connection(merchant, connection_type=VkConnection.Type.MANUAL,
                                        refresh_token="", token_expires_at=None)
        vk_reply(api, "groups.getById", error=5)
    staff_user.language = "en"
    staff_user.save(update_fields=["language"])
    client.force_login(staff_user)
    response = client.post(
        reverse(f"admin:connections_{model}_changelist"),
        {"action": "check_now", "_selected_action": [connection.pk]},
        follow=True,
    )
    assert response.status_code == 200
    connection.refresh_from_db()
    assert connection.state == ConnectionState.REVOKED and connection.last_checked_at
    assert len(mail.outbox) == 1  # the merchant hears about it as from the periodic job
    assert [str(m) for m in response.context["messages"]] == [
        "Checked 1 connection: 0 online."
    ]
