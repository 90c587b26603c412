"""Per-token request pacing, shared by every client instance in the process.

VK counts requests per token (3/s for a user token). Several client instances can use one token
at once (a sync run, a photo upload, a health check in another thread), so the limiter is looked
up by a hash of the token in a process-wide registry. The raw token is never a key, never stored.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable

Clock = Callable[[], float]
Sleep = Callable[[float], None]

# A limiter idle this long has no state worth keeping; dropping it bounds the registry when
# VK ID rotates access tokens every hour.
_IDLE_SECONDS = 300.0


class RateLimiter:
    """Spaces calls at least ``1 / rate`` seconds apart; safe to share between threads.

    Each caller reserves the next free slot under the lock and sleeps outside it, so waiting
    threads do not block each other's bookkeeping and no two callers get the same slot.
    """

    def __init__(self, rate: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep):
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._next_free: float | None = None

    @property
    def rate(self) -> float:
        return 1.0 / self.interval

    def acquire(self, sleep: Sleep | None = None) -> float:
        """Block until the caller may send one request; return the seconds waited.

        ``sleep`` overrides the limiter's own for this call, so a client built with an injected
        sleep (tests) never really waits even on the process-wide shared limiter.
        """
        wait = self._reserve()
        if wait > 0:
            (sleep or self._sleep)(wait)
        return wait

    def _reserve(self) -> float:
        with self._lock:
            now = self._clock()
            slot = now if self._next_free is None else max(now, self._next_free)
            self._next_free = slot + self.interval
            return slot - now

    def slow_down(self, rate: float) -> None:
        """Adopt a stricter rate (never a looser one) when another user of the token asks."""
        with self._lock:
            self.interval = max(self.interval, 1.0 / rate)

    def idle_for(self, now: float) -> float:
        with self._lock:
            return 0.0 if self._next_free is None else now - self._next_free


def token_key(token: str) -> str:
    """Registry key for a token: a SHA-256 digest, so the token never sits in a dict."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class RateLimiterRegistry:
    """Hands out one RateLimiter per token; tests build their own registry with a fake clock."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep):
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._limiters: dict[str, RateLimiter] = {}

    def for_token(self, token: str, rate: float) -> RateLimiter:
        """The limiter shared by every holder of ``token`` (created on first use)."""
        key = token_key(token)
        with self._lock:
            self._forget_idle()
            limiter = self._limiters.get(key)
            if limiter is None:
                limiter = RateLimiter(rate, clock=self._clock, sleep=self._sleep)
                self._limiters[key] = limiter
            else:
                limiter.slow_down(rate)
            return limiter

    def keys(self) -> list[str]:
        with self._lock:
            return list(self._limiters)

    def _forget_idle(self) -> None:
        now = self._clock()
        idle = [k for k, lim in self._limiters.items() if lim.idle_for(now) > _IDLE_SECONDS]
        for key in idle:
            del self._limiters[key]


# The process-wide registry used when a client is not given one explicitly.
SHARED_LIMITERS = RateLimiterRegistry()
