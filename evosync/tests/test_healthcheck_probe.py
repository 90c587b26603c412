"""The container probe: exits 0 only on a 200 from /health, sending an allowed Host header."""

from __future__ import annotations

import pytest

from evosync import healthcheck


@pytest.mark.parametrize(
    "allowed,expected",
    [
        ("shop.example.com,www.shop.example.com", "shop.example.com"),
        ("*,.example.com", "example.com"),
        ("", "localhost"),
    ],
)
def test_probe_host_picks_a_concrete_allowed_name(allowed, expected):
    assert healthcheck.probe_host(allowed) == expected


def test_probe_succeeds_against_a_healthy_server(live_server, monkeypatch):
    monkeypatch.setenv("ALLOWED_HOSTS", "localhost")
    assert healthcheck.main([f"{live_server.url}/health"]) == 0


@pytest.mark.allow_connect(("127.0.0.1", 1))
def test_probe_fails_when_nothing_listens(capsys):
    assert healthcheck.main(["http://127.0.0.1:1/health"]) == 1
    assert "health check failed" in capsys.readouterr().err
