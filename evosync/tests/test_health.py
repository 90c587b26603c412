"""/health: 200 JSON when the database (and Redis) answer, 503 otherwise; reports the queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.test import override_settings
from django_q.tasks import async_task


@pytest.mark.django_db
def test_healthy_returns_200_json(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"]["ok"] is True
    assert ("redis" in body["checks"]) == bool(settings.REDIS_URL)
    assert body["qcluster"]["clusters"] == []  # no cluster runs in this test
    assert body["qcluster"]["ok"] is False
    assert body["qcluster"]["queue_length"] == 0


@pytest.mark.django_db
def test_reports_queue_length(client, settings):
    settings.Q_CLUSTER = {**settings.Q_CLUSTER, "sync": False}
    from django_q import conf

    original = conf.Conf.SYNC
    conf.Conf.SYNC = False
    try:
        async_task("math.floor", 1.5)
        async_task("math.floor", 2.5)
    finally:
        conf.Conf.SYNC = original
    assert client.get("/health").json()["qcluster"]["queue_length"] == 2


@pytest.mark.django_db
def test_post_is_not_allowed(client):
    assert client.post("/health").status_code == 405


@pytest.mark.django_db
@pytest.mark.allow_connect(("127.0.0.1", 1))
def test_redis_unreachable_returns_503(client, monkeypatch):
    """A real Redis client pointed at a port where nothing listens."""
    from django.core.cache.backends.redis import RedisCache

    from evosync import health

    unreachable = "redis://127.0.0.1:1/0"
    dead_cache = RedisCache(unreachable, {"OPTIONS": {"socket_connect_timeout": 0.5}})
    monkeypatch.setattr(health, "cache", dead_cache)
    with override_settings(REDIS_URL=unreachable):
        response = client.get("/health")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "error"
    assert body["checks"]["redis"] == {"ok": False, "error": "ConnectionError"}
    assert body["checks"]["database"]["ok"] is True


def test_database_unreachable_returns_503(tmp_path):
    """A real unreachable database: a SQLite file in a directory that does not exist."""
    code = (
        "import django, json; django.setup();"
        "from django.test import Client;"
        "r = Client().get('/health');"
        "print(json.dumps({'status': r.status_code, 'body': r.json()}))"
    )
    environ = {
        "PATH": os.environ["PATH"],
        "DJANGO_SETTINGS_MODULE": "evosync.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path}/missing-dir/db.sqlite3",
        "EVOSYNC_TESTING": "false",
    }
    result = subprocess.run(
        [sys.executable, "-c", code], env=environ, capture_output=True, text=True, timeout=60,
        cwd=settings.BASE_DIR,
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout.strip().splitlines()[-1])
    assert outcome["status"] == 503
    assert outcome["body"]["status"] == "error"
    assert outcome["body"]["checks"]["database"] == {"ok": False, "error": "OperationalError"}
