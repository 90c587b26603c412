"""Per-token rate limiting: spacing, thread safety, sharing between client instances."""

from __future__ import annotations

import sys
import threading
from typing import Any

import pytest
import responses

from apps.connections.clients import RateLimiter, RateLimiterRegistry, VkClient
from apps.connections.clients.ratelimit import token_key

from .clients_support import FakeTime

TOKEN = "vk1.a.SECRET-USER-TOKEN"
BASE = "https://vk.test"


def test_calls_are_spaced_one_third_of_a_second_apart() -> None:
    fake = FakeTime()
    limiter = RateLimiter(3, clock=fake.clock, sleep=fake.sleep)

    waits = [limiter.acquire() for _ in range(4)]

    assert waits[0] == 0
    assert waits[1:] == pytest.approx([1 / 3] * 3)
    assert fake.now == pytest.approx(1000 + 1.0)


def test_no_wait_after_an_idle_period() -> None:
    fake = FakeTime()
    limiter = RateLimiter(3, clock=fake.clock, sleep=fake.sleep)
    limiter.acquire()
    fake.now += 5
    assert limiter.acquire() == 0 and fake.sleeps == []


def test_a_given_sleep_overrides_the_limiters_own() -> None:
    fake = FakeTime()
    limiter = RateLimiter(3, clock=fake.clock, sleep=fake.sleep)
    asked: list[float] = []
    limiter.acquire(sleep=asked.append)
    limiter.acquire(sleep=asked.append)
    assert asked == [pytest.approx(1 / 3)] and fake.sleeps == []


def test_concurrent_callers_get_distinct_slots() -> None:
    # The clock never moves, so every caller must be handed its own slot; switching threads
    # every microsecond makes an unlocked read-modify-write of the free slot lose updates.
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    limiter = RateLimiter(3, clock=lambda: 0.0, sleep=lambda _: None)
    threads_count, per_thread = 8, 500
    start = threading.Barrier(threads_count)
    waits: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        start.wait()
        mine = [limiter.acquire() for _ in range(per_thread)]
        with lock:
            waits.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(threads_count)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        sys.setswitchinterval(previous)

    total = threads_count * per_thread
    assert len(waits) == total
    assert sorted(round(w * 3) for w in waits) == list(range(total))


def test_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        RateLimiter(0)


def test_registry_shares_a_limiter_per_token_and_never_stores_the_token() -> None:
    registry = RateLimiterRegistry()
    first = registry.for_token(TOKEN, 3)
    again = registry.for_token(TOKEN, 3)
    other = registry.for_token("another-token", 3)

    assert first is again and first is not other
    assert registry.keys() == [token_key(TOKEN), token_key("another-token")]
    assert all(TOKEN not in key for key in registry.keys())
    assert len(token_key(TOKEN)) == 64


def test_registry_keeps_the_stricter_rate() -> None:
    registry = RateLimiterRegistry()
    limiter = registry.for_token(TOKEN, 20)
    registry.for_token(TOKEN, 3)
    assert limiter.rate == pytest.approx(3)
    registry.for_token(TOKEN, 20)
    assert limiter.rate == pytest.approx(3)


def test_registry_forgets_limiters_idle_for_minutes() -> None:
    fake = FakeTime()
    registry = RateLimiterRegistry(clock=fake.clock, sleep=fake.sleep)
    registry.for_token(TOKEN, 3).acquire()
    fake.now += 3600
    registry.for_token("another-token", 3)
    assert registry.keys() == [token_key("another-token")]


def test_two_clients_with_one_token_share_the_pace() -> None:
    fake = FakeTime()
    registry = RateLimiterRegistry(clock=fake.clock, sleep=fake.sleep)
    hits: list[float] = []

    def reply(request: Any) -> tuple[int, dict[str, str], str]:
        hits.append(fake.clock())
        return 200, {}, '{"response": 1}'

    first, second = (
        VkClient(TOKEN, base_url=BASE, limiters=registry, sleep=fake.sleep) for _ in range(2)
    )
    with responses.RequestsMock() as http:
        http.add_callback(responses.POST, f"{BASE}/method/market.delete", callback=reply)
        for client in (first, second, first, second):
            client.delete_item(1, 1)

    gaps = [b - a for a, b in zip(hits, hits[1:], strict=False)]
    assert gaps == pytest.approx([1 / 3] * 3)


def test_clients_with_different_tokens_do_not_slow_each_other() -> None:
    fake = FakeTime()
    registry = RateLimiterRegistry(clock=fake.clock, sleep=fake.sleep)
    first = VkClient(TOKEN, base_url=BASE, limiters=registry, sleep=fake.sleep)
    second = VkClient("another-token", base_url=BASE, limiters=registry, sleep=fake.sleep)
    with responses.RequestsMock() as http:
        http.post(f"{BASE}/method/market.delete", json={"response": 1})
        first.delete_item(1, 1)
        second.delete_item(1, 1)
    assert fake.sleeps == []
