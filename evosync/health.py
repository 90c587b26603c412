"""What /health reports: the database and Redis (hard requirements) and the task queue (info)."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, connection
from django.utils import timezone

# Cluster stats live in the cache for a few seconds after each guard cycle; older means gone.
HEARTBEAT_STALE_SECONDS = 60


def check_database() -> dict[str, Any]:
    started = time.monotonic()
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError as exc:
        return {"ok": False, "error": exc.__class__.__name__}
    return {"ok": True, "latency_ms": round((time.monotonic() - started) * 1000, 1)}


def check_redis() -> dict[str, Any] | None:
    """None when Redis is not configured (then it is not part of health)."""
    if not settings.REDIS_URL:
        return None
    started = time.monotonic()
    key = "health:probe"
    try:
        cache.set(key, "1", timeout=10)
        ok = cache.get(key) == "1"
    except Exception as exc:  # redis-py raises its own hierarchy; any failure means unhealthy.
        return {"ok": False, "error": exc.__class__.__name__}
    result: dict[str, Any] = {"ok": ok, "latency_ms": round((time.monotonic() - started) * 1000, 1)}
    if not ok:
        result["error"] = "value not read back"
    return result


def task_queue_status() -> dict[str, Any]:
    """django-q's own cluster stats (the heartbeat each cluster writes) and the queue length."""
    from django_q.brokers import get_broker
    from django_q.conf import Conf
    from django_q.status import Stat

    try:
        broker = get_broker()
        clusters = Stat.get_all(broker=broker)
        queued = broker.queue_size()
    except Exception as exc:  # Informational only: a broken queue must not hide the DB status.
        return {"ok": False, "error": exc.__class__.__name__}
    now = timezone.now()
    # Cluster states are lazy translations: compare them in the language they are rendered in.
    gone = {str(Conf.STOPPING), str(Conf.STOPPED)}
    described = [_describe_cluster(stat, now) for stat in clusters]
    alive = [
        c
        for c in described
        if c["heartbeat_age_seconds"] <= HEARTBEAT_STALE_SECONDS and c["status"] not in gone
    ]
    return {
        "ok": bool(alive),
        "clusters": described,
        "queue_length": queued,
        "last_heartbeat": max((c["heartbeat"] for c in described), default=None),
    }


def _describe_cluster(stat: Any, now) -> dict[str, Any]:
    stamp = stat.timestamp
    if timezone.is_naive(stamp):
        stamp = timezone.make_aware(stamp, timezone.get_default_timezone())
    return {
        "id": str(stat.cluster_id),
        "host": stat.host,
        "status": str(stat.status),
        "workers": len(stat.workers or []),
        "heartbeat": stamp.isoformat(),
        "heartbeat_age_seconds": round((now - stamp).total_seconds(), 1),
    }


def health_report() -> tuple[bool, dict[str, Any]]:
    checks: dict[str, Any] = {"database": check_database()}
    redis = check_redis()
    if redis is not None:
        checks["redis"] = redis
    healthy = all(check["ok"] for check in checks.values())
    report = {
        "status": "ok" if healthy else "error",
        "checks": checks,
        "qcluster": task_queue_status() if checks["database"]["ok"] else {"ok": False},
        "time": timezone.now().isoformat(),
    }
    return healthy, report
