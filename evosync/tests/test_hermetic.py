"""Tests never reach the network: only the database, Redis and their own live server."""

from __future__ import annotations

import socket
import time
import urllib.request

import pytest
import requests
from django.conf import settings

from conftest import NetworkBlocked


def test_provider_urls_of_the_test_settings_never_resolve():
    for url in (settings.EVOTOR_API_URL, settings.VK_API_URL, settings.VK_ID_URL,
                settings.SITE_URL):
        assert url.split("/")[2].endswith(".invalid"), url


def test_a_forgotten_mock_fails_at_once_and_loudly():
    started = time.monotonic()
    with pytest.raises(NetworkBlocked, match="evotor.invalid"):
        requests.get(f"{settings.EVOTOR_API_URL}/stores", timeout=5)
    assert time.monotonic() - started < 1


@pytest.mark.parametrize("port", [8000, 80, 443])
def test_a_server_on_this_machine_is_out_of_reach(port):
    """`make run` on 127.0.0.1:8000 must not answer a test's request."""
    with socket.socket() as sock, pytest.raises(NetworkBlocked, match=f"127.0.0.1:{port}"):
        sock.connect(("127.0.0.1", port))
    with pytest.raises(NetworkBlocked):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1)  # noqa: S310


@pytest.mark.allow_connect(("127.0.0.1", 1))
def test_a_test_can_allow_a_connection_on_purpose():
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", 1)) != 0  # refused by the OS, not by the guard


def test_the_live_server_is_reachable_from_its_tests_and_nothing_else(live_server):
    with urllib.request.urlopen(f"{live_server.url}/health", timeout=10) as response:  # noqa: S310
        assert response.status in (200, 503)
    with pytest.raises(NetworkBlocked):
        requests.get("http://127.0.0.1:8000/", timeout=1)


@pytest.mark.skipif(not settings.REDIS_URL, reason="Redis is not configured")
def test_redis_stays_reachable():
    from django.core.cache import cache

    cache.set("hermetic-probe", 1)
    assert cache.get("hermetic-probe") == 1
