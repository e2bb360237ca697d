"""The client-side rate limiter: never more than N starts in any 60 s window (injected clock)."""

from __future__ import annotations

import threading
from collections import deque

import pytest

from bookstack_sync.bookstack import RateLimiter
from tests.unit.test_client_support import FakeClock, Reply, ScriptedServer, make_client


def _max_in_any_window(starts: list[float], window: float = 60.0) -> int:
    """The most starts inside any half-open interval [t, t + window)."""
    starts = sorted(starts)
    best, lo = 0, 0
    for hi, t in enumerate(starts):
        while starts[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_never_more_than_limit_in_any_window_sequential() -> None:
    clock = FakeClock()
    limiter = RateLimiter(180, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(1000):
        limiter.acquire()
        starts.append(clock())
    assert _max_in_any_window(starts) == 180
    # ...and it is not slower than needed: 1000 starts need 5 full windows of waiting.
    assert clock() - 1000.0 == pytest.approx(5 * 60.0)


@pytest.mark.parametrize("limit", [1, 7, 60, 180])
def test_bound_holds_for_several_limits(limit: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit, clock=clock, sleep=clock.sleep)
    starts = []
    for _ in range(5 * limit + 3):
        limiter.acquire()
        starts.append(clock())
    assert _max_in_any_window(starts) == limit


def test_bound_holds_with_threads() -> None:
    clock = FakeClock()
    limiter = RateLimiter(50, clock=clock, sleep=clock.sleep)
    recorded: list[float] = []

    class SpyLog(deque[float]):
        # The start times exactly as the limiter records them (under its lock).
        def append(self, value: float) -> None:
            recorded.append(value)
            super().append(value)

    limiter._starts = SpyLog()
    done = []

    def worker() -> None:
        for _ in range(125):
            limiter.acquire()
        done.append(1)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(done) == 8
    assert len(recorded) == 1000
    assert _max_in_any_window(recorded) <= 50


def test_disabled_limiter_never_waits() -> None:
    clock = FakeClock()
    limiter = RateLimiter(0, clock=clock, sleep=clock.sleep)
    for _ in range(10_000):
        limiter.acquire()
    assert clock.sleeps == []
    limiter.observe({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0"})
    limiter.acquire()
    assert clock.sleeps == []


def test_server_limit_lowers_the_client_limit() -> None:
    clock = FakeClock()
    limiter = RateLimiter(180, clock=clock, sleep=clock.sleep)
    limiter.observe({"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "9"})
    assert limiter.limit == 10
    limiter.observe({"X-RateLimit-Limit": "500", "X-RateLimit-Remaining": "9"})
    assert limiter.limit == 10  # only ever downward
    starts = []
    for _ in range(35):
        limiter.acquire()
        starts.append(clock())
    assert _max_in_any_window(starts) == 10


def test_remaining_zero_pauses_until_the_window_passes() -> None:
    clock = FakeClock()
    limiter = RateLimiter(180, clock=clock, sleep=clock.sleep)
    limiter.acquire()  # first start at t=1000
    clock.now += 20
    limiter.acquire()
    limiter.observe({"X-RateLimit-Limit": "180", "X-RateLimit-Remaining": "0"})
    limiter.acquire()
    # Paused until the oldest start in the window + 60 s.
    assert clock() == pytest.approx(1060.0)


def test_remaining_zero_without_history_waits_a_whole_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(180, clock=clock, sleep=clock.sleep)
    limiter.observe({"X-RateLimit-Remaining": "0"})
    limiter.acquire()
    assert clock() == pytest.approx(1060.0)


def test_garbage_headers_are_ignored() -> None:
    clock = FakeClock()
    limiter = RateLimiter(180, clock=clock, sleep=clock.sleep)
    limiter.observe({"X-RateLimit-Limit": "lots", "X-RateLimit-Remaining": ""})
    assert limiter.limit == 180
    limiter.acquire()
    assert clock.sleeps == []


def test_client_adapts_to_server_headers(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock, rate_limit=180)
    server.push(
        Reply(200, {"id": 1}, headers={"X-RateLimit-Limit": "180", "X-RateLimit-Remaining": "0"}),
        Reply(200, {"id": 1}),
    )
    client.read("pages", 1)
    client.read("pages", 1)
    assert sum(clock.sleeps) == pytest.approx(60.0)


def test_client_rate_limit_bounds_requests(server: ScriptedServer) -> None:
    clock = FakeClock()
    client = make_client(server.url, clock, rate_limit=5)
    times = []
    for i in range(12):
        client.read("pages", i)
        times.append(clock())
    assert _max_in_any_window(times) == 5
    assert len(server.seen) == 12


def test_negative_limit_is_rejected() -> None:
    with pytest.raises(ValueError):
        RateLimiter(-1)
