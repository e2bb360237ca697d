"""Fault injection for the fake: failures a real BookStack behind a proxy can show a client."""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass


@dataclass
class FaultRule:
    kind: str  # fail | hang | drop | rate_limit | apply_then_fail | deadlock | joint_permissions
    remaining: int
    status: int | None = None  # fail / apply_then_fail: the status; None for apply_then_fail = drop
    seconds: float = 0.0  # hang
    retry_after: int = 2  # rate_limit
    methods: frozenset[str] | None = None
    path_prefix: str | None = None

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method not in self.methods:
            return False
        return self.path_prefix is None or path.startswith(self.path_prefix)


def _methods(methods: tuple[str, ...] | list[str] | set[str] | frozenset[str] | str | None) -> frozenset[str] | None:
    if methods is None:
        return None
    if isinstance(methods, str):
        methods = [methods]
    return frozenset(m.upper() for m in methods)


class Faults:
    """Queued one-shot faults (first matching rule wins) plus an optional random failure rate.

    ``methods`` limits a rule to some HTTP methods (as Laravel sees them, so ``_method=PUT`` counts
    as PUT) and ``path_prefix`` to paths starting with it; both default to "any request".
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._fraction: tuple[float, random.Random, tuple[int, ...], FaultRule] | None = None

    def fail_next(
        self,
        n: int = 1,
        status: int = 500,
        methods: tuple[str, ...] | list[str] | str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Answer the next ``n`` matching requests with ``status`` without doing anything."""
        self._add(FaultRule("fail", n, status=status, methods=_methods(methods), path_prefix=path_prefix))

    def fail_fraction(
        self,
        p: float,
        seed: int = 0,
        statuses: tuple[int, ...] = (500, 502, 503),
        methods: tuple[str, ...] | list[str] | str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """From now on fail each matching request with probability ``p`` (seeded, so reproducible)."""
        with self._lock:
            scope = FaultRule("fail", 0, methods=_methods(methods), path_prefix=path_prefix)
            self._fraction = (p, random.Random(seed), tuple(statuses), scope) if p > 0 else None

    def hang_next(
        self,
        seconds: float,
        n: int = 1,
        methods: tuple[str, ...] | list[str] | str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Sleep ``seconds`` before handling the next matching request (it is still carried out)."""
        self._add(FaultRule("hang", n, seconds=seconds, methods=_methods(methods), path_prefix=path_prefix))

    def drop_next(
        self,
        n: int = 1,
        methods: tuple[str, ...] | list[str] | str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Close the connection of the next matching request without any response (nothing is done)."""
        self._add(FaultRule("drop", n, methods=_methods(methods), path_prefix=path_prefix))

    def rate_limit_next(
        self,
        retry_after: int = 2,
        n: int = 1,
        methods: tuple[str, ...] | list[str] | str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Answer the next matching request with BookStack's 429 and ``Retry-After: retry_after``."""
        self._add(
            FaultRule("rate_limit", n, retry_after=retry_after, methods=_methods(methods), path_prefix=path_prefix)
        )

    def apply_then_fail_next(
        self,
        n: int = 1,
        status: int | None = 500,
        methods: tuple[str, ...] | list[str] | str | None = None,
        path_prefix: str | None = None,
    ) -> None:
        """Carry out the next matching request, then answer ``status`` instead (``None`` = drop the connection).

        Models a lost answer to a write that did happen: a retrying client must look before re-creating.
        """
        self._add(FaultRule("apply_then_fail", n, status=status, methods=_methods(methods), path_prefix=path_prefix))

    def deadlock_next(self, n: int = 1) -> None:
        """Fail the next ``n`` import runs (``POST /api/imports/{id}``) as MariaDB does when two imports
        run at once (bookstack-api §12): HTTP 500 with the ``SQLSTATE[40001]`` deadlock message, the
        transaction rolled back (its ids are lost) and the import left pending."""
        self._add(FaultRule("deadlock", n, methods=frozenset({"POST"}), path_prefix="/api/imports/"))

    def joint_permissions_next(self, n: int = 1, path_prefix: str = "/api/pages") -> None:
        """Carry out the next ``n`` creates under ``path_prefix``, then fail them as BookStack does when two
        writes rebuild one book's permissions at the same moment (BookStack issue #4838, seen on v25.02):
        HTTP 500 with the "Duplicate entry" of ``joint_permissions``, the object stored but without its
        permission rows, so invisible to every API call until ``FakeBookStack.regenerate_permissions``."""
        self._add(FaultRule("joint_permissions", n, methods=frozenset({"POST"}), path_prefix=path_prefix))

    def clear(self) -> None:
        with self._lock:
            self._rules.clear()
            self._fraction = None

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(rule.remaining for rule in self._rules)

    def _add(self, rule: FaultRule) -> None:
        if rule.remaining < 1:
            raise ValueError("n must be at least 1")
        with self._lock:
            self._rules.append(rule)

    def take(self, method: str, path: str) -> FaultRule | None:
        """The fault for this request, if any (consumes one use of a queued rule)."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(method, path):
                    rule.remaining -= 1
                    if rule.remaining <= 0:
                        self._rules.remove(rule)
                    return rule
            if self._fraction is not None:
                p, rng, statuses, scope = self._fraction
                if scope.matches(method, path) and rng.random() < p:
                    return FaultRule("fail", 1, status=rng.choice(statuses))
        return None
