"""Waits are said with how long they last; a quiet log says why it is quiet (injected clocks)."""

from __future__ import annotations

import io
import logging

import pytest

from bookstack_sync.bookstack import RateLimiter
from bookstack_sync.bookstack.activity import Activity
from bookstack_sync.report.log import Heartbeat, RunLog
from tests.unit.test_client_support import FakeClock


def test_a_rate_limit_wait_is_announced_once_with_its_length(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    activity = Activity(clock)
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep, activity=activity)
    waits: list[float] = []
    real_sleep = clock.sleep

    def sleep(seconds: float) -> None:
        waits.append(activity.snapshot().wait_left)
        real_sleep(seconds)

    limiter._sleep = sleep
    with caplog.at_level(logging.INFO):
        for _ in range(7):
            limiter.acquire()
            clock.sleep(1.0)
    announced = [r.getMessage() for r in caplog.records if "waiting" in r.getMessage()]
    # three starts at 0, 1, 2 s; the fourth waits until 60 s, the seventh until 120 s
    assert announced == [
        "waiting 57.0 s for the rate limit (3 requests a minute)",
        "waiting 57.0 s for the rate limit (3 requests a minute)",
    ]
    assert waits[0] == pytest.approx(57.0)  # the heartbeat can tell how long is left


def test_a_wait_the_server_imposed_names_bookstack(caplog: pytest.LogCaptureFixture) -> None:
    clock = FakeClock()
    activity = Activity(clock)
    limiter = RateLimiter(180, clock=clock, sleep=clock.sleep, activity=activity)
    limiter.acquire()
    limiter.observe({"X-RateLimit-Limit": "180", "X-RateLimit-Remaining": "0"})
    assert activity.snapshot().wait is not None and activity.snapshot().wait_left == pytest.approx(60.0)
    with caplog.at_level(logging.INFO):
        limiter.acquire()
    messages = [r.getMessage() for r in caplog.records]
    # observe() said it already ("pausing 60.0 s"): the waiting thread does not say it twice
    assert not any(m.startswith("waiting") for m in messages)


def test_a_429_with_retry_after_is_not_stretched_to_a_whole_window() -> None:
    clock = FakeClock()
    limiter = RateLimiter(180, clock=clock, sleep=clock.sleep)
    limiter.acquire()
    limiter.observe({"X-RateLimit-Limit": "180", "X-RateLimit-Remaining": "0", "Retry-After": "3"})
    limiter.block_for(3.0)
    started = clock()
    limiter.acquire()
    assert clock() - started == pytest.approx(3.0)


class _Log:
    def __init__(self) -> None:
        self.clock = FakeClock()
        self.stream = io.StringIO()
        self.run_log = RunLog(self.stream, clock=self.clock)
        self.activity = Activity(self.clock)
        self.heartbeat = Heartbeat(self.run_log, self.activity.snapshot)

    def advance(self, seconds: float, step: float = 0.5) -> None:
        """Let time pass the way the heartbeat thread sees it: a look every ``step`` seconds."""
        for _ in range(int(seconds / step)):
            self.clock.sleep(step)
            text = self.heartbeat.line()
            if text is not None:
                self.run_log.info(f"{self.clock():.1f} {text}")

    def lines(self) -> list[str]:
        return self.stream.getvalue().splitlines()


def test_a_slow_request_is_named_after_four_quiet_seconds() -> None:
    log = _Log()
    with log.activity.request("POST", "/api/imports/3"):
        log.advance(9.0)
    start = 1000.0  # FakeClock's epoch
    assert log.lines() == [
        f"{start + 4:.1f} … waiting for BookStack to answer POST /api/imports/3: 4 s so far",
        f"{start + 8:.1f} … waiting for BookStack to answer POST /api/imports/3: 8 s so far",
    ]


def test_a_long_wait_shows_a_line_at_least_every_thirty_seconds() -> None:
    log = _Log()
    log.activity.waiting("the rate limit (180 requests a minute)", 49.0)
    log.run_log.info("waiting 49.0 s for the rate limit (180 requests a minute)")
    log.advance(50.0)
    lines = log.lines()
    assert lines[1:] == [
        "1015.0 … still waiting for the rate limit (180 requests a minute): 34 s left",
        "1030.0 … still waiting for the rate limit (180 requests a minute): 19 s left",
        "1045.0 … still waiting for the rate limit (180 requests a minute): 4 s left",
        "1049.0 … still working (4 s since the last line)",
    ]


def test_a_busy_log_gets_no_heartbeat() -> None:
    log = _Log()
    for _ in range(20):
        with log.activity.request("PUT", "/api/pages/1"):
            log.advance(1.0)
        log.run_log.info("[1/20] updated a.md")
    assert not any("…" in line for line in log.lines())


def test_a_wait_that_ends_early_stops_being_reported() -> None:
    log = _Log()
    wait = log.activity.waiting("another run's ZIP import(s) 3", 600.0)
    log.advance(16.0)
    log.activity.end(wait)
    log.advance(5.0)
    assert log.lines() == [
        "1015.0 … still waiting for another run's ZIP import(s) 3: 585 s left",
        "1019.0 … still working (4 s since the last line)",
    ]
