"""Client-side rate limiter: at most N request starts in any 60-second window.

BookStack allows ``API_REQUESTS_PER_MIN`` (default 180) per minute, in a fixed 60 s window keyed by
client IP (``ThrottleApiRequests``), and answers every request with ``X-RateLimit-Limit``/``X-RateLimit-Remaining``.

A sliding log of start times makes the bound exact: a start is recorded only while fewer than N
recorded starts lie within the last 60 s, so no 60 s interval can ever hold more than N starts,
whatever the threads do. The server's headers only ever make it stricter.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

from .activity import Activity

__all__ = ["RateLimiter"]

WINDOW_SECONDS = 60.0
ANNOUNCE_SECONDS = 1.0  # a wait this long or longer is said in the log, once for all threads waiting


class RateLimiter:
    """Thread-safe sliding-window limiter; ``limit=0`` disables it."""

    def __init__(
        self,
        limit: int,
        *,
        window: float = WINDOW_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        logger: logging.Logger | None = None,
        activity: Activity | None = None,
    ) -> None:
        if limit < 0:
            raise ValueError("rate limit must not be negative")
        self._configured = limit
        self._limit = limit
        self._window = window
        self._clock = clock
        self._sleep = sleep
        self._log = logger or logging.getLogger(__name__)
        self._starts: deque[float] = deque()
        self._blocked_until = 0.0
        self._announced_until = 0.0  # the end of the last wait the log was told about
        self._activity = activity or Activity(clock)
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self._configured > 0

    @property
    def limit(self) -> int:
        """The limit in force now (the configured one, or lower if the server said so)."""
        with self._lock:
            return self._limit

    def _prune(self, now: float) -> None:
        # A start at exactly now - window is outside the half-open window (now - window, now].
        while self._starts and self._starts[0] <= now - self._window:
            self._starts.popleft()

    def _wait_needed(self, now: float) -> float:
        wait = self._blocked_until - now
        if len(self._starts) >= self._limit:
            # Slots free up as the oldest starts leave the window.
            oldest_blocking = self._starts[len(self._starts) - self._limit]
            wait = max(wait, oldest_blocking + self._window - now)
        return wait

    def acquire(self) -> float:
        """Block until a request may start and record its start; returns the seconds waited."""
        if not self.enabled:
            return 0.0
        waited = 0.0
        while True:
            announce = ""
            with self._lock:
                now = self._clock()
                self._prune(now)
                wait = self._wait_needed(now)
                if wait <= 0:
                    self._starts.append(now)
                    return waited
                if wait >= ANNOUNCE_SECONDS and now + wait > self._announced_until + ANNOUNCE_SECONDS:
                    self._announced_until = now + wait
                    announce = (
                        "BookStack's rate limit"
                        if self._blocked_until - now >= wait
                        else f"the rate limit ({self._limit} requests a minute)"
                    )
            if announce:
                self._activity.waiting(announce, wait)
                self._log.info("waiting %.1f s for %s", wait, announce)
            # Sleep outside the lock so other threads can observe headers or finish; re-check after.
            self._sleep(wait)
            waited += wait

    def block_for(self, seconds: float) -> None:
        """Let no request start for ``seconds`` (after a 429 with ``Retry-After``; the caller says so)."""
        if not self.enabled or seconds <= 0:
            return
        with self._lock:
            self._blocked_until = max(self._blocked_until, self._clock() + seconds)
            self._announced_until = max(self._announced_until, self._blocked_until)
        self._activity.waiting("BookStack's rate limit", seconds)

    def observe(self, headers: Mapping[str, str]) -> None:
        """Adapt downward from the server's ``X-RateLimit-Limit`` and ``X-RateLimit-Remaining``."""
        if not self.enabled:
            return
        server_limit = _int_header(headers, "X-RateLimit-Limit")
        remaining = _int_header(headers, "X-RateLimit-Remaining")
        with self._lock:
            if server_limit is not None and 0 < server_limit < self._limit:
                self._log.info(
                    "BookStack allows %d requests per minute; lowering the client limit from %d",
                    server_limit,
                    self._limit,
                )
                self._limit = server_limit
            if remaining is not None and remaining <= 0 and headers.get("Retry-After") is None:
                # (a 429 says exactly when the window ends, in Retry-After: the client blocks for that)
                # Estimate when the server's fixed window ends: our oldest start still in our own
                # window + 60 s. If the server's window began later than that (it reset in between),
                # the next request gets a 429 whose Retry-After corrects us; 429s cost no budget.
                # Without any recorded start, wait a whole window.
                now = self._clock()
                self._prune(now)
                until = (self._starts[0] if self._starts else now) + self._window
                if until > self._blocked_until:
                    self._log.info("BookStack reports no requests left in this minute; pausing %.1f s", until - now)
                    self._blocked_until = until
                    self._announced_until = max(self._announced_until, until)
                    self._activity.waiting("BookStack's rate limit", until - now)


def _int_header(headers: Mapping[str, str], name: str) -> int | None:
    value = headers.get(name)
    if value is None:
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None
