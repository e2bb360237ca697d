"""When to try a request again, and how long to wait first.

The table:

- 429: retry any method, after ``Retry-After`` (capped); 429s are refused before any work is done.
- 5xx, timeouts, dropped connections: retry only GET, HEAD, PUT, DELETE. A POST may already have
  created something, so it is never blindly repeated (the client raises ``AmbiguousWriteError``).
- connect failures (refused, DNS, connect timeout): nothing reached the server, so any method is retried.
- TLS failures and every other 4xx: never retried; repeating cannot change the answer.
- 5xx with BookStack's ``{"message", "status": "error"}`` body is a deliberate refusal: not retried.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from .errors import FailureKind

__all__ = ["IDEMPOTENT_METHODS", "RetryPolicy"]

IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE"})


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently the client retries.

    ``rng`` supplies the jitter; inject a seeded ``random.Random`` for repeatable waits.
    ``jitter`` is the fraction of each backoff that is randomised (0 = exact doubling).
    """

    max_attempts: int = 5
    base_delay: float = 1.0
    max_delay: float = 30.0
    jitter: float = 0.5
    retry_after_cap: float = 120.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if not 0.0 <= self.jitter <= 1.0:
            raise ValueError("jitter must be between 0 and 1")
        if self.base_delay < 0 or self.max_delay < 0 or self.retry_after_cap < 0:
            raise ValueError("delays must not be negative")

    def should_retry_status(self, method: str, status: int, *, refused: bool = False) -> bool:
        """Whether an HTTP answer with ``status`` may be retried (attempts aside)."""
        if status == 429:
            return True
        if status >= 500:
            return not refused and method.upper() in IDEMPOTENT_METHODS
        return False

    def should_retry_failure(self, method: str, kind: FailureKind) -> bool:
        """Whether a failure without an HTTP answer may be retried (attempts aside)."""
        if kind is FailureKind.CONNECT:
            return True
        if kind is FailureKind.TLS:
            return False
        return method.upper() in IDEMPOTENT_METHODS

    def backoff(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based): exponential, capped,
        with the top ``jitter`` fraction randomised so that parallel clients spread out."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** max(0, attempt - 1))
        return ceiling * (1.0 - self.jitter * self.rng.random())

    def retry_after(self, header: str | None, attempt: int, *, now: datetime | None = None) -> float:
        """Seconds to wait after a 429: ``Retry-After`` (seconds or HTTP date), capped at
        ``retry_after_cap``; the backoff when the header is missing or unreadable."""
        seconds = parse_retry_after(header, now=now)
        if seconds is None:
            return self.backoff(attempt)
        return min(max(seconds, 0.0), self.retry_after_cap)


def parse_retry_after(header: str | None, *, now: datetime | None = None) -> float | None:
    """``Retry-After`` as seconds: BookStack (Laravel) sends an integer; RFC 9110 also allows a date."""
    if header is None:
        return None
    text = header.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        pass
    else:
        return value if math.isfinite(value) else None
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
