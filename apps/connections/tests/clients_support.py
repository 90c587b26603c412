"""Helpers shared by the ``test_clients_*`` modules (no Django, no database)."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"


def load_json(name: str) -> Any:
    """A recorded/spec payload from ``tests/data``."""
    return json.loads((DATA_DIR / name).read_text(encoding="utf-8"))


class FakeTime:
    """A clock that only moves when someone sleeps; records every sleep. Thread-safe."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds


class NoSleep:
    """A ``sleep`` that returns at once and remembers what it was asked to wait."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


def fixed_rand() -> float:
    """Deterministic jitter for retry tests: the middle of the range."""
    return 0.5
