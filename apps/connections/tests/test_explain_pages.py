"""Connection pages, banners, flash messages and e-mails say provider errors in words."""

from __future__ import annotations

import pytest
from django.core import mail

from apps.connections import health
from apps.connections.models import ConnectionState
from apps.connections.tests.conftest import make_vk_connection

pytestmark = pytest.mark.django_db
RAW = "vk market.get: User authorization failed: invalid access_token (4). (code 5)"


def test_pages_and_banner_explain_the_stored_error(page, merchant):
    make_vk_connection(merchant, group_id=1, state=ConnectionState.REVOKED, last_error=RAW)
    for url in ("/connections", "/vk", "/catalog"):
        html = page.get(url).content.decode()
        assert "User authorization failed" not in html, url
        assert "expired or was revoked" in html, url
        assert "VK 5" in html, url


def test_vk_badge_is_not_green_without_a_community(page, merchant):
    make_vk_connection(merchant, group_id=None, state=ConnectionState.ONLINE)
    html = page.get("/connections").content.decode()
    assert 'data-state="no-community"' in html and "no community chosen" in html


def test_health_email_explains_in_the_merchants_language(merchant, evotor_connection):
    merchant.language = "en"
    merchant.save()
    evotor_connection.state = ConnectionState.REVOKED
    evotor_connection.last_error = "The EvoSync app was uninstalled in Evotor."
    evotor_connection.save()
    assert health.notify_if_due(evotor_connection, merchant)
    body = mail.outbox[0].body
    assert "removed from your Evotor account" in body
    assert "uninstalled in Evotor" not in body
    assert "removed from your Evotor account" in mail.outbox[0].alternatives[0][0]
