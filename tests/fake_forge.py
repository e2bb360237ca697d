"""A fake forge over real HTTP on 127.0.0.1: the pull-request comment APIs of GitHub (Enterprise paths),
Gitea/Forgejo and GitLab, as their servers answer them.

- GitHub: ``/api/v3/repos/{owner}/{repo}/issues/{n}/comments`` (GET paged by ``page``/``per_page``,
  default 30, at most 100, with a ``Link`` header; POST 201), ``PATCH /api/v3/repos/{o}/{r}/issues/comments/{id}``;
  ``Authorization: Bearer|token <token>``.
- Gitea/Forgejo: ``/api/v1/repos/{owner}/{repo}/issues/{n}/comments`` (GET returns every comment: the
  endpoint takes no page parameters, ``routers/api/v1/repo/issue_comment.go``; POST 201),
  ``PATCH /api/v1/repos/{o}/{r}/issues/comments/{id}``; ``Authorization: token <token>``.
- GitLab: ``/api/v4/projects/{id or url-encoded path}/merge_requests/{iid}/notes`` (GET paged, default 20,
  at most 100, ``Link`` and ``X-Next-Page`` headers; POST 201), ``PUT .../notes/{id}``; ``PRIVATE-TOKEN``.

A wrong token is 401; a comment may be edited by its author only (403 otherwise); an unknown repository
or pull request is 404. ``fail(method, status)`` answers every request of that method with ``status``;
``hang(seconds)`` holds every answer that long (a timeout). ``requests`` records what was asked.
"""

from __future__ import annotations

import json
import re
import shutil
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import pytest

from tests.fake_bookstack.serving import serve_in_thread, stop_serving

TOKEN = "forge-token-Zx81kQ"
BOT = "bookstack-bot"


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int


@dataclass
class FakeForge:
    """One forge of one kind (``github``, ``gitea``, ``forgejo``, ``gitlab``) holding one repository."""

    kind: str
    repo: str = "team/docs"
    project_id: int = 4711
    pulls: set[int] = field(default_factory=lambda: {7})
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # pull number -> comments
    requests: list[Seen] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)  # method -> status
    delay: float = 0.0
    url: str = ""
    _next_id: int = 1000
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- test helpers -----------------------------------------------------------------------------

    def add_comment(self, pull: int, body: str, user: str = "someone", *, system: bool = False) -> dict[str, Any]:
        with self._lock:
            self._next_id += 1
            comment = {"id": self._next_id, "body": body, "user": {"login": user}}
            if self.kind == "gitlab":
                comment = {"id": self._next_id, "body": body, "author": {"username": user}, "system": system}
            self.comments.setdefault(pull, []).append(comment)
            return comment

    def bot_comments(self, pull: int = 7) -> list[dict[str, Any]]:
        return [c for c in self.comments.get(pull, []) if self._author(c) == BOT]

    def fail(self, method: str, status: int) -> None:
        self.failures[method] = status

    def hang(self, seconds: float) -> None:
        self.delay = seconds

    def writes(self) -> list[Seen]:
        return [r for r in self.requests if r.method != "GET"]

    # --- serving ----------------------------------------------------------------------------------

    def _author(self, comment: dict[str, Any]) -> str:
        who = comment.get("author") if self.kind == "gitlab" else comment.get("user")
        return str((who or {}).get("username" if self.kind == "gitlab" else "login", ""))

    def _authorised(self, headers: dict[str, str]) -> bool:
        if self.kind == "gitlab":
            return headers.get("private-token") == TOKEN or headers.get("authorization") == f"Bearer {TOKEN}"
        given = headers.get("authorization", "")
        allowed = {f"token {TOKEN}", f"Bearer {TOKEN}"}
        return given in allowed

    def _routes(self, path: str) -> tuple[str, int | None, int | None] | None:
        """(kind of route, pull number, comment id) or None when the path names nothing."""
        if self.kind == "gitlab":
            project = rf"(?:{self.project_id}|{re.escape(self.repo.replace('/', '%2F'))})"
            found = re.fullmatch(rf"/api/v4/projects/{project}/merge_requests/(\d+)/notes(?:/(\d+))?", path)
            if not found:
                return None
            return ("note" if found[2] else "notes", int(found[1]), int(found[2]) if found[2] else None)
        prefix = "/api/v3" if self.kind == "github" else "/api/v1"
        repo = re.escape(self.repo)
        found = re.fullmatch(rf"{prefix}/repos/{repo}/issues/(\d+)/comments", path)
        if found:
            return ("comments", int(found[1]), None)
        found = re.fullmatch(rf"{prefix}/repos/{repo}/issues/comments/(\d+)", path)
        if found:
            return ("comment", None, int(found[1]))
        return None

    def handle(
        self, method: str, raw_path: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        split = urlsplit(raw_path)
        path, query = split.path, dict(parse_qsl(split.query))
        if self.delay:
            time.sleep(self.delay)
        status, payload, extra = self._answer(method, path, query, headers, body)
        with self._lock:
            self.requests.append(Seen(method, unquote(path), query, headers, status))
        return status, payload, extra

    def _answer(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: bytes
    ) -> tuple[int, Any, dict[str, str]]:
        if method in self.failures:
            return self.failures[method], {"message": "refused by the test"}, {}
        if not self._authorised(headers):
            return 401, {"message": "Bad credentials" if self.kind == "github" else "401 Unauthorized"}, {}
        route = self._routes(path)
        if route is None:
            return 404, {"message": "Not Found"}, {}
        what, pull, comment_id = route
        if pull is not None and pull not in self.pulls:
            return 404, {"message": "Not Found"}, {}
        if what in ("comments", "notes") and method == "GET":
            return self._list(path, pull or 0, query)
        if what in ("comments", "notes") and method == "POST":
            text = json.loads(body or b"{}").get("body")
            if not isinstance(text, str) or not text:
                return 422, {"message": "body is missing"}, {}
            if self.kind == "github" and len(text) > 65_536:
                return 422, {"message": "Body is too long (maximum is 65536 characters)"}, {}
            return 201, self._shown(self.add_comment(pull or 0, text, BOT), pull or 0), {}
        edit = "PUT" if self.kind == "gitlab" else "PATCH"
        if what in ("comment", "note") and method == edit:
            found = [(n, c) for n, cs in self.comments.items() for c in cs if c["id"] == comment_id]
            if pull is not None:
                found = [(n, c) for n, c in found if n == pull]
            if not found:
                return 404, {"message": "Not Found"}, {}
            number, comment = found[0]
            if self._author(comment) != BOT:
                return 403, {"message": "Forbidden"}, {}
            text = json.loads(body or b"{}").get("body")
            if self.kind == "github" and isinstance(text, str) and len(text) > 65_536:
                return 422, {"message": "Body is too long (maximum is 65536 characters)"}, {}
            comment["body"] = text
            return 200, self._shown(comment, number), {}
        return 405, {"message": "Method Not Allowed"}, {}

    def _shown(self, comment: dict[str, Any], pull: int) -> dict[str, Any]:
        if self.kind == "gitlab":
            return dict(comment)
        pulls = "pull" if self.kind == "github" else "pulls"
        return {**comment, "html_url": f"{self.url}/{self.repo}/{pulls}/{pull}#issuecomment-{comment['id']}"}

    def _list(self, path: str, pull: int, query: dict[str, str]) -> tuple[int, Any, dict[str, str]]:
        everything = [self._shown(c, pull) for c in self.comments.get(pull, [])]
        if self.kind in ("gitea", "forgejo"):
            return 200, everything, {"X-Total-Count": str(len(everything))}
        default = 30 if self.kind == "github" else 20
        per_page = min(int(query.get("per_page") or default), 100)
        page = max(int(query.get("page") or 1), 1)
        shown = everything[(page - 1) * per_page : page * per_page]
        headers: dict[str, str] = {}
        if page * per_page < len(everything):
            following = {**query, "page": str(page + 1), "per_page": str(per_page)}
            link = f"{self.url}{path}?" + "&".join(f"{k}={v}" for k, v in following.items())
            headers["Link"] = f'<{link}>; rel="next"'
            if self.kind == "gitlab":
                headers["X-Next-Page"] = str(page + 1)
        return 200, shown, headers


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        try:
            status, payload, extra = self.server.forge.handle(self.command, self.path, headers, body)
        except Exception as exc:  # noqa: BLE001 - a crash in the fake is a failed test, recorded for it
            self.server.crashes.append(repr(exc))
            status, payload, extra = 500, {"message": "fake forge crashed"}, {}
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in extra.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            return

    do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``FakeForge.requests``."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, forge: FakeForge) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.forge = forge
        self.crashes: list[str] = []


def self_signed_certificate(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command line (skips without it)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is not installed")
    cert, key = folder / "forge-cert.pem", folder / "forge-key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


@contextmanager
def serve(kind: str, *, tls: tuple[Path, Path] | None = None) -> Iterator[FakeForge]:
    """A fake forge of ``kind`` listening on a free loopback port until the block ends (over HTTPS
    with ``tls`` = (certificate, key)); a crash inside it fails the test."""
    forge = FakeForge(kind)
    server = _Server(forge)
    scheme = "http"
    if tls is not None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(tls[0]), str(tls[1]))
        server.socket = context.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    forge.url = f"{scheme}://127.0.0.1:{server.server_address[1]}"
    thread = serve_in_thread(server, f"fake-{kind}")
    try:
        yield forge
    finally:
        stop_serving(server, thread)
    assert not server.crashes, f"the fake forge crashed: {server.crashes}"
