"""Counts of requests actually sent (retries included), by method and endpoint template."""

from __future__ import annotations

import re
import threading
from collections import Counter
from urllib.parse import urlsplit

__all__ = ["RequestStats", "endpoint_template"]

_READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_NUMERIC = re.compile(r"^\d+$")


def endpoint_template(method: str, path: str) -> str:
    """``"PUT /api/pages/{id}"`` for ``PUT /api/pages/12?x=1``. Paths outside ``/api/`` keep only their
    first segment (``GET /link/{id}``, ``GET /uploads/...``) so image URLs don't make one key each."""
    path = urlsplit(path).path or "/"
    parts = [p for p in path.split("/") if p]
    if parts and parts[0] != "api" and len(parts) > 2:
        parts = [parts[0], "..."]
    templated = ["{id}" if _NUMERIC.match(p) else p for p in parts]
    return f"{method.upper()} /" + "/".join(templated)


class RequestStats:
    """Thread-safe request counter."""

    def __init__(self) -> None:
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def record(self, method: str, path: str) -> None:
        key = endpoint_template(method, path)
        with self._lock:
            self._counts[key] += 1

    def by_endpoint(self) -> dict[str, int]:
        """Counts keyed by ``"METHOD /template"``, sorted by key."""
        with self._lock:
            return dict(sorted(self._counts.items()))

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._counts.values())

    @property
    def reads(self) -> int:
        with self._lock:
            return sum(n for k, n in self._counts.items() if k.split(" ", 1)[0] in _READ_METHODS)

    @property
    def writes(self) -> int:
        with self._lock:
            return sum(n for k, n in self._counts.items() if k.split(" ", 1)[0] not in _READ_METHODS)

    def as_dict(self) -> dict[str, object]:
        """For the run report: totals plus the per-endpoint counts."""
        endpoints = self.by_endpoint()
        reads = sum(n for k, n in endpoints.items() if k.split(" ", 1)[0] in _READ_METHODS)
        total = sum(endpoints.values())
        return {"total": total, "reads": reads, "writes": total - reads, "by_endpoint": endpoints}
