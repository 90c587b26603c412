"""`make run`'s last step: the web server and a real qcluster together; Ctrl-C stops both."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.e2e

MANAGE = str(Path(settings.BASE_DIR) / "manage.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            result = predicate()
        except OSError:
            result = None
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serves_health_and_russian_page_with_a_qcluster_and_stops_on_ctrl_c(tmp_path):
    environ = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3",
        "EVOSYNC_TESTING": "false",
        "PYTHONUNBUFFERED": "1",
    }
    # `migrate` alone must give a working site (it creates the database cache's table too).
    migrate = [sys.executable, MANAGE, "migrate", "--noinput", "-v0"]
    subprocess.run(migrate, env=environ, check=True, timeout=120)
    port = _free_port()
    log = (tmp_path / "rundev.log").open("w")
    process = subprocess.Popen(
        [sys.executable, MANAGE, "rundev", "--port", str(port), "--noreload"],
        env=environ, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        def cluster_alive():
            status, body = _get(f"{base}/health")
            report = json.loads(body)
            clusters = report["qcluster"].get("clusters") or [{}]
            # A cluster reports itself while it is still starting its worker processes.
            working = clusters[0].get("workers", 0) >= 1
            return status == 200 and report["qcluster"]["ok"] and working and report

        report = _wait_for(cluster_alive, 60, "/health to show a live qcluster with workers")
        assert report["checks"]["database"]["ok"] is True
        assert report["qcluster"]["clusters"][0]["status"] in {"Idle", "Working", "Starting"}
        status, page = _get(f"{base}/")
        assert status == 200 and "Каталог Эвотор" in page.decode()

        os.kill(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0
        # Nothing of either child is left behind: the port is free again.
        _wait_for(lambda: not _port_open(port), 10, "the web server to stop")
        output = (tmp_path / "rundev.log").read_text()
        assert f"http://127.0.0.1:{port}/" in output
        assert "Stopped the web server and the qcluster." in output
    finally:
        # On a failed assertion, still let rundev stop its children (they run in sessions of
        # their own, so killing rundev alone would orphan the web server and the qcluster).
        if _alive(process.pid):
            os.kill(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0
