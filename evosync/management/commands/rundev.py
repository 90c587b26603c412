"""Run the development web server and a qcluster side by side; Ctrl-C stops both.

Each child gets its own process group so that a signal reaches the whole tree (runserver's
autoreloader and qcluster's worker processes), and the first child to exit takes the other down:
a web server without its task queue would look fine while nothing happens in the background.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 15
PORT_WAIT_SECONDS = 30


class Command(BaseCommand):
    help = "Run the development web server and a django-q2 cluster together (Ctrl-C stops both)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
        parser.add_argument("--noreload", action="store_true", help="No code autoreload.")

    def handle(self, *args, host: str, port: int, noreload: bool, **options) -> None:
        manage = [sys.executable, os.path.abspath(sys.argv[0])]
        server = manage + ["runserver", f"{host}:{port}"] + (["--noreload"] if noreload else [])
        # The web server first: the cluster's first tasks (the demo's catalog refresh and sync)
        # call the sandbox it serves, and would fail if they ran before it listens.
        children = [self._start(server)]
        self._wait_for_port(host, port)
        children.append(self._start(manage + ["qcluster"]))
        self.stdout.write(self.style.SUCCESS(f"EvoSync is running at http://{host}:{port}/"))
        self.stdout.write(f"Health: http://{host}:{port}/health · Press Ctrl-C to stop.")
        self._stop_requested = False
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._request_stop)
        code = self._wait_for_first_exit(children)
        self._stop_all(children)
        if code not in (0, None) and not self._stop_requested:
            raise SystemExit(code)

    @staticmethod
    def _wait_for_port(host: str, port: int) -> None:
        # A server bound to every interface is reached on loopback (we connect, not bind).
        anywhere = host in ("0.0.0.0", "", "::")  # noqa: S104
        target = "127.0.0.1" if anywhere else host.strip("[]")
        deadline = time.monotonic() + PORT_WAIT_SECONDS
        while time.monotonic() < deadline:
            try:
                with socket.create_connection((target, port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)

    @staticmethod
    def _start(command: list[str]) -> subprocess.Popen:
        return subprocess.Popen(command, start_new_session=True)

    def _request_stop(self, signum, frame) -> None:
        self._stop_requested = True

    def _wait_for_first_exit(self, children: list[subprocess.Popen]) -> int | None:
        while not self._stop_requested:
            for child in children:
                if child.poll() is not None:
                    return child.returncode
            time.sleep(0.2)
        return None

    def _stop_all(self, children: list[subprocess.Popen]) -> None:
        for child in children:
            self._signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for child in children:
            try:
                child.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._signal_group(child, signal.SIGKILL)
                child.wait()
        self.stdout.write("Stopped the web server and the qcluster.")

    @staticmethod
    def _signal_group(child: subprocess.Popen, signum: int) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass
