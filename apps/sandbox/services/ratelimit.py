"""Fixed-window request counters in a table, shared by every process.

One row per caller; a request is counted with a single conditional UPDATE (the database
serialises concurrent increments, so the web workers and a qcluster never both slip past the
limit) and read back with one SELECT. The Django cache would also be shared, but its database
backend needs several queries per increment and does not increment atomically.
"""

from __future__ import annotations

import hashlib
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Case, F, Value, When

from apps.sandbox.models import RateCounter


@dataclass(frozen=True)
class RateWindow:
    limit: int
    used: int
    reset: float  # seconds until the next window

    @property
    def exceeded(self) -> bool:
        return self.used > self.limit

    @property
    def remaining(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def reset_seconds(self) -> int:
        """Whole seconds for the X-RateLimit-Reset header (never 0 while a window runs)."""
        return max(1, math.ceil(self.reset))


def hit(
    scope: str, key: str, *, limit: int, window: float, clock: Callable[[], float] = time.time
) -> RateWindow:
    """Count one request of ``key`` in the current window of ``window`` seconds."""
    window = max(window, 0.001)
    now = clock()
    index = int(now // window)
    row_key = f"{scope}:{hashlib.sha256(key.encode()).hexdigest()[:40]}"
    if not _increment(row_key, index):
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=row_key, window=index, count=1)
        except IntegrityError:  # another process created it first: count on its row
            _increment(row_key, index)
    used = RateCounter.objects.filter(key=row_key).values_list("count", flat=True).first() or 1
    return RateWindow(limit=limit, used=used, reset=(index + 1) * window - now)


def _increment(row_key: str, index: int) -> bool:
    # ``count`` must be assigned before ``window``: MySQL/MariaDB evaluate SET clauses left to
    # right with already-updated values, SQLite with the old ones; in this order both agree.
    changed = RateCounter.objects.filter(key=row_key).update(
        count=Case(When(window=index, then=F("count") + 1), default=Value(1)),
        window=Value(index),
    )
    return bool(changed)
