"""ensure_fresh_vk_token: refresh ahead of expiry, once, without losing a rotated grant."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from apps.connections import crypto
from apps.connections.clients import AuthError, TransientError
from apps.connections.models import ConnectionState, HealthCheckLog, VkConnection
from apps.connections.tests.conftest import VK_REFRESH, VK_TOKEN, form_of, vkid_tokens
from apps.connections.vk_tokens import _lock_key, ensure_fresh_vk_token

pytestmark = pytest.mark.django_db


def _expiring(connection: VkConnection, minutes: float) -> VkConnection:
    connection.token_expires_at = timezone.now() + timedelta(minutes=minutes)
    connection.save()
    return connection


def _events() -> list[str]:
    return list(HealthCheckLog.objects.order_by("id").values_list("event", flat=True))


def test_a_token_with_time_left_is_not_refreshed(vk_connection, api):
    assert ensure_fresh_vk_token(_expiring(vk_connection, 30)).access_token == VK_TOKEN
    assert len(api.calls) == 0


@pytest.mark.parametrize("minutes", [9, 1, -5])
def test_a_token_expiring_within_ten_minutes_or_expired_is_refreshed(vk_connection, api, minutes):
    vkid_tokens(api, access="vk2.a.ACCESS-2", refresh="vk2.a.REFRESH-2")
    connection = ensure_fresh_vk_token(_expiring(vk_connection, minutes))
    sent = form_of(api.calls[0])
    assert sent["grant_type"] == "refresh_token"
    assert (sent["refresh_token"], sent["device_id"]) == (VK_REFRESH, "device-1")
    assert sent["client_id"] == "evosync-test"
    stored = VkConnection.objects.get(pk=vk_connection.pk)
    assert (stored.access_token, stored.refresh_token) == ("vk2.a.ACCESS-2", "vk2.a.REFRESH-2")
    assert stored.token_expires_at > timezone.now() + timedelta(minutes=55)
    assert connection.access_token == "vk2.a.ACCESS-2"
    assert _events() == ["token_refreshed"]
    assert cache.get(_lock_key(vk_connection.pk)) is None


def test_pasted_tokens_are_never_refreshed(vk_connection, api):
    vk_connection.connection_type = VkConnection.Type.MANUAL
    vk_connection.refresh_token = ""
    _expiring(vk_connection, -60)
    assert ensure_fresh_vk_token(vk_connection).access_token == VK_TOKEN
    assert len(api.calls) == 0


def test_a_refused_refresh_revokes_the_connection(vk_connection, api):
    vkid_tokens(api, access="", refresh="", status=400, error="invalid_grant")
    with pytest.raises(AuthError):
        ensure_fresh_vk_token(_expiring(vk_connection, 2))
    vk_connection.refresh_from_db()
    assert vk_connection.state == ConnectionState.REVOKED
    assert _events() == ["token_refresh_failed", "revoked"]
    assert VK_REFRESH not in HealthCheckLog.objects.first().detail


def test_vk_id_down_while_the_token_still_works_changes_nothing(vk_connection, api):
    vkid_tokens(api, access="", refresh="", status=503)
    connection = ensure_fresh_vk_token(_expiring(vk_connection, 5))
    assert connection.access_token == VK_TOKEN
    assert connection.state == ConnectionState.ONLINE
    assert _events() == []


def test_vk_id_down_after_expiry_puts_the_connection_offline(vk_connection, api):
    vkid_tokens(api, access="", refresh="", status=503)
    with pytest.raises(TransientError):
        ensure_fresh_vk_token(_expiring(vk_connection, -1))
    vk_connection.refresh_from_db()
    assert vk_connection.state == ConnectionState.OFFLINE
    assert _events() == ["offline"]


def test_waits_for_a_refresh_another_worker_is_doing(vk_connection, api):
    _expiring(vk_connection, -1)
    cache.add(_lock_key(vk_connection.pk), "1", 60)

    def other_worker_finishes(seconds: float) -> None:
        VkConnection.objects.filter(pk=vk_connection.pk).update(
            access_token_encrypted=crypto.encrypt("vk2.a.BY-OTHER-WORKER"),
            refresh_token_encrypted=crypto.encrypt("vk2.a.REFRESH-OTHER"),
            token_expires_at=timezone.now() + timedelta(hours=1),
        )
        cache.delete(_lock_key(vk_connection.pk))

    connection = ensure_fresh_vk_token(vk_connection, sleep=other_worker_finishes)
    assert connection.access_token == "vk2.a.BY-OTHER-WORKER"
    assert len(api.calls) == 0


def test_a_refresh_that_lost_the_race_is_not_repeated(vk_connection, api):
    """Between reading the row and taking the lock, another worker refreshed: no second
    refresh with the spent token (VK ID could revoke the whole grant for that)."""
    _expiring(vk_connection, 2)
    stale = VkConnection.objects.get(pk=vk_connection.pk)
    VkConnection.objects.filter(pk=vk_connection.pk).update(
        refresh_token_encrypted=crypto.encrypt("vk2.a.REFRESH-OTHER"),
        token_expires_at=timezone.now() + timedelta(hours=1),
    )
    ensure_fresh_vk_token(stale)
    assert len(api.calls) == 0
    assert stale.refresh_token == "vk2.a.REFRESH-OTHER"


def test_a_reconnect_during_the_refresh_wins(vk_connection, api):
    _expiring(vk_connection, 2)

    def reconnect_meanwhile(request):
        VkConnection.objects.filter(pk=vk_connection.pk).update(
            access_token_encrypted=crypto.encrypt("vk2.a.RECONNECTED"),
            refresh_token_encrypted=crypto.encrypt("vk2.a.REFRESH-RECONNECTED"),
        )
        return 200, {}, '{"access_token": "vk2.a.STALE", "refresh_token": "vk2.a.R", ' \
                        '"expires_in": 3600}'

    api.add_callback("POST", "https://vkid.test/oauth2/auth", callback=reconnect_meanwhile)
    connection = ensure_fresh_vk_token(vk_connection)
    assert connection.access_token == "vk2.a.RECONNECTED"
    assert _events() == []
