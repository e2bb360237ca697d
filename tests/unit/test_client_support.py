"""Test helpers for the client tests: a scripted loopback HTTP server and a fake clock.

No tests here; the module name only keeps it next to the tests that use it.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from bookstack_sync.bookstack import BookStackClient, RetryPolicy
from tests.fake_bookstack.serving import serve_in_thread, stop_serving

TOKEN_ID = "test-token-id"
SECRET = "S3CRET-abc"

HTML_404 = (
    b'<!DOCTYPE html>\n<html lang="en-GB"><head><title>BookStack</title></head>'
    b"<body><h1>Page Not Found</h1></body></html>"
)


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON; str/bytes -> as is
    headers: dict[str, str] = field(default_factory=dict)
    action: str | None = None  # "drop": close without answering; "hang": wait `delay` first
    delay: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if self.body is None:
            return b"", "application/json"
        if isinstance(self.body, bytes):
            return self.body, "text/html; charset=UTF-8"
        if isinstance(self.body, str):
            return self.body.encode(), "text/html; charset=UTF-8"
        return json.dumps(self.body).encode(), "application/json"


def err(status: int, message: str, **extra: Any) -> Reply:
    """BookStack's usual error shape (api §6)."""
    body: dict[str, Any] = {"message": message, "code": status}
    body.update(extra)
    return Reply(status, {"error": body})


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes


class ScriptedServer:
    """Answers from a FIFO script, then from ``default`` (a function of the request)."""

    def __init__(self, default: Callable[[Seen], Reply] | None = None) -> None:
        self.script: deque[Reply] = deque()
        self.default = default or (lambda seen: Reply(200, {"ok": True}))
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                seen = Seen(
                    self.command,
                    parts.path,
                    dict(parse_qsl(parts.query, keep_blank_values=True)),
                    {k: v for k, v in self.headers.items()},
                    body,
                )
                with server._lock:
                    server.seen.append(seen)
                    reply = server.script.popleft() if server.script else None
                if reply is None:
                    reply = server.default(seen)
                if reply.action == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                if reply.delay:
                    time.sleep(reply.delay)
                payload, ctype = reply.encoded()
                self.send_response(reply.status)
                headers = {"Content-Type": ctype, **reply.headers}
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    try:
                        self.wfile.write(payload)
                    except (BrokenPipeError, ConnectionResetError):
                        self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._httpd.server_address[1]}"
        self._thread = serve_in_thread(self._httpd, "scripted-server")

    def push(self, *replies: Reply) -> None:
        with self._lock:
            self.script.extend(replies)

    def stop(self) -> None:
        stop_serving(self._httpd, self._thread)


class FakeClock:
    """A monotonic clock that only moves when someone sleeps; thread-safe."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def make_client(url: str, clock: FakeClock | None = None, **kwargs: Any) -> BookStackClient:
    clock = clock or FakeClock()
    kwargs.setdefault("rate_limit", 0)
    kwargs.setdefault("timeout", (2.0, 2.0))
    kwargs.setdefault("retry", RetryPolicy(base_delay=1.0, jitter=0.0))
    return BookStackClient(url, TOKEN_ID, SECRET, sleep=clock.sleep, clock=clock, **kwargs)


def free_port() -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
