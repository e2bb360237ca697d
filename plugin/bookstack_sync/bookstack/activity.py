"""What the client is doing right now: requests in flight and the wait it is in, if any.

The run's log asks this when it has been quiet for a while, so a person watching CI sees why nothing
moves (a slow request, the rate limit, a retry) instead of a silent step.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

__all__ = ["Activity", "ActivitySnapshot", "InFlight", "Wait"]


@dataclass(frozen=True)
class Wait:
    """A pause the client decided on: ``reason`` ("the rate limit", "a retry of PUT /api/pages/3")."""

    reason: str
    until: float  # on the activity's clock


@dataclass(frozen=True)
class InFlight:
    method: str
    path: str
    started: float


@dataclass(frozen=True)
class ActivitySnapshot:
    now: float
    wait: Wait | None  # the pause that ends last, while one lasts
    in_flight: tuple[InFlight, ...]  # oldest first

    @property
    def wait_left(self) -> float:
        return max(0.0, self.wait.until - self.now) if self.wait is not None else 0.0


class Activity:
    """Thread-safe record of requests in flight and of the current wait."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._requests: dict[int, InFlight] = {}
        self._ids = itertools.count()
        self._wait: Wait | None = None
        self.last_write_done: float | None = None  # when the latest write (not GET/HEAD) was answered

    @contextmanager
    def request(self, method: str, path: str) -> Iterator[None]:
        ident = next(self._ids)
        with self._lock:
            self._requests[ident] = InFlight(method, path, self.clock())
        try:
            yield
        finally:
            with self._lock:
                del self._requests[ident]
                if method not in ("GET", "HEAD"):
                    self.last_write_done = self.clock()

    def waiting(self, reason: str, seconds: float) -> Wait:
        """Record a pause of ``seconds`` from now; the longest pause in force is the one reported."""
        wait = Wait(reason, self.clock() + seconds)
        with self._lock:
            if self._wait is None or self._wait.until <= wait.until or self._wait.until <= self.clock():
                self._wait = wait
        return wait

    def end(self, wait: Wait) -> None:
        """A wait that ended before its time (what it waited for came sooner)."""
        with self._lock:
            if self._wait == wait:
                self._wait = None

    def snapshot(self) -> ActivitySnapshot:
        with self._lock:
            now = self.clock()
            wait = self._wait if self._wait is not None and self._wait.until > now else None
            in_flight = tuple(sorted(self._requests.values(), key=lambda r: r.started))
        return ActivitySnapshot(now, wait, in_flight)
