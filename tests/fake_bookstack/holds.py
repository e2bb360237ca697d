"""Requests held at the door, so a test can interleave two clients step by step.

``fake.hold("POST", r"/api/books", token_id="run-b")`` returns a ``Hold``: the first matching request
waits before it is handled until ``release()``; ``wait_arrived()`` blocks the test until it is there.
A held import run (``POST /api/imports/{id}``) has begun its transaction: it has taken the ids of
everything it creates, which stay invisible until it is released (``imports.begin_run``).
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field


@dataclass
class Hold:
    method: str
    path: re.Pattern[str]
    token_id: str | None
    arrived: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)
    seen_path: str = ""

    def matches(self, method: str, path: str, token_id: str) -> bool:
        if self.token_id is not None and token_id != self.token_id:
            return False
        return method == self.method and self.path.fullmatch(path) is not None

    def wait_arrived(self, timeout: float = 30.0) -> None:
        if not self.arrived.wait(timeout):
            raise AssertionError(f"no {self.method} {self.path.pattern} arrived within {timeout} s")

    def release(self) -> None:
        self.released.set()


class Holds:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: list[Hold] = []
        self._all: list[Hold] = []

    def add(self, method: str, path: str, token_id: str | None = None) -> Hold:
        hold = Hold(method.upper(), re.compile(path), token_id)
        with self._lock:
            self._waiting.append(hold)
            self._all.append(hold)
        return hold

    def take(self, method: str, path: str, token_id: str) -> Hold | None:
        """The first hold waiting for this request; each hold catches one request."""
        with self._lock:
            for hold in self._waiting:
                if hold.matches(method, path, token_id):
                    self._waiting.remove(hold)
                    hold.seen_path = path
                    return hold
        return None

    def release_all(self) -> None:
        """Let every held request go (the server is stopping)."""
        with self._lock:
            self._waiting = []
            held = list(self._all)
        for hold in held:
            hold.release()
