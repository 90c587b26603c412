"""Account deletion takes the merchant's connections with it, and calls no provider."""

from __future__ import annotations

import pytest

from apps.accounts.services import delete_account
from apps.connections.models import EvotorConnection, HealthCheckLog, VkConnection, WebhookEvent

pytestmark = pytest.mark.django_db


def test_deleting_the_account_leaves_no_connection_data(
    merchant, other_merchant, evotor_connection, vk_connection, api,
    django_capture_on_commit_callbacks,
):
    HealthCheckLog.objects.create(user=merchant, service="vk", event="online")
    WebhookEvent.objects.create(source="evotor_installation", delivery_id="d-1",
                                event_type="ApplicationInstalled", user=merchant)
    kept = EvotorConnection.objects.create(user=other_merchant, evotor_user_id="01-000000000000777")
    with django_capture_on_commit_callbacks(execute=True):
        delete_account(merchant)
    assert list(EvotorConnection.objects.all()) == [kept]
    assert not VkConnection.objects.exists()
    assert not HealthCheckLog.objects.exists()
    assert not WebhookEvent.objects.exists()
    assert len(api.calls) == 0  # RequestsMock would also refuse any unexpected request


def test_a_failing_deletion_keeps_the_connections(merchant, evotor_connection, monkeypatch):
    from apps.accounts.services import AccessLog

    def broken(*args, **kwargs):
        raise RuntimeError("database hiccup")

    monkeypatch.setattr(AccessLog.objects, "filter", broken)
    with pytest.raises(RuntimeError):
        delete_account(merchant)
    assert EvotorConnection.objects.filter(pk=evotor_connection.pk).exists()
