"""``FakeBookStack``: the stateful fake served over real HTTP on 127.0.0.1."""

from __future__ import annotations

import json
import re
import threading
import time
import traceback
import weakref
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, ClassVar
from urllib.parse import parse_qsl, unquote, urlsplit
from zoneinfo import ZoneInfo

from .api import Api, RateLimiter, too_many_attempts
from .faults import FaultRule, Faults
from .holds import Hold, Holds
from .humans import HumanActions
from .imports import begin_run
from .permissions import DEFAULT_PERMISSIONS
from .serving import serve_in_thread, stop_serving
from .state import Chapter, Page, Store, check_sort_rule, parse_version
from .web import web_response
from .wire import Request, Response, error_response, html_response, parse_body, php_nest, trim_strings


def is_record_write(request: RecordedRequest) -> bool:
    """A tags-only book update carrying the plugin's sync record."""
    body = request.body if isinstance(request.body, dict) else {}
    tags = body.get("tags") if set(body) == {"tags"} else None
    return (
        request.method == "PUT"
        and request.path.startswith("/api/books/")
        and isinstance(tags, list)
        and any(isinstance(t, dict) and t.get("name") == "bookstack-sync-state" for t in tags)
    )


@dataclass
class RecordedRequest:
    """One request as the fake saw it, and what it did with it."""

    method: str  # as Laravel routes it (POST with ``_method=PUT`` is "PUT")
    path: str
    query: dict[str, str]
    status: int | None  # None when the connection was dropped
    body_size: int
    http_method: str = ""  # the method on the request line
    fault: str | None = None  # fail | hang | drop | rate_limit | apply_then_fail | apply_then_drop
    body: Any = None  # the parsed (trimmed) input, files left out
    token_id: str = ""  # which API token sent it (two runs with their own tokens can be told apart)


class _HTTPServer(ThreadingHTTPServer):
    # Daemon handler threads: a hanging request must never block shutdown.
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], fake: FakeBookStack) -> None:
        super().__init__(address, _Handler)
        self.fake = fake


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in one segment (buffered, flushed per request) with Nagle off: otherwise
    # keep-alive clients wait ~40 ms per request on delayed ACKs.
    wbufsize = 1 << 16
    disable_nagle_algorithm = True
    server: _HTTPServer

    def _serve(self) -> None:
        self.server.fake._serve(self)

    def date_time_string(self, timestamp: float | None = None) -> str:
        """The ``Date`` header from the server's clock (the one ``updated_at`` comes from)."""
        if timestamp is None:
            timestamp = self.server.fake.state.now().timestamp()
        return super().date_time_string(timestamp)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the request log is ``FakeBookStack.requests``."""


class FakeBookStack(HumanActions):
    """An in-memory BookStack over HTTP. See the package docstring for the behaviour it models; a person's
    changes in the UI are the ``*_as_human`` methods (``humans.py``)."""

    _running: ClassVar[weakref.WeakSet[FakeBookStack]] = weakref.WeakSet()  # started and not stopped

    def __init__(
        self,
        token_id: str = "test-token-id",
        token_secret: str = "test-token-secret",
        version: str = "v25.11.0",
        chapterless_chapter_id: int | None = None,
        rate_limit: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        permissions: Iterable[str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        latency: float = 0.0,
        app_url: str | None = None,
        unordered_tag_search: bool | None = None,
        app_timezone: str = "UTC",
    ) -> None:
        self.token_id = token_id
        # seconds each request takes before it is handled (a real server spends ~240 ms checking the
        # token's bcrypt hash); requests wait side by side, as on a server with several PHP workers
        self.latency = latency
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it was handling at once (a client's parallelism)
        # writes that rebuilt one book's permissions while another did: on a real BookStack they collide
        # (HTTP 500 "Duplicate entry" in joint_permissions, objects left invisible; BookStack issue #4838)
        self.same_book_overlaps = 0
        self._books_in_write: Counter[int] = Counter()
        self.token_secret = token_secret
        self.version = version
        self.host = host
        self.port = port
        self.state = Store(version=parse_version(version), chapterless_chapter_id=chapterless_chapter_id)
        # BookStack's APP_TIMEZONE: dates are stored as its wall time and dates in queries are read in it
        # (``{updated_after:…}``, ``filter[updated_at:gt]``); answers are UTC whatever it is
        self.state.app_timezone = ZoneInfo(app_timezone)
        self.permissions: set[str] = set(DEFAULT_PERMISSIONS if permissions is None else permissions)
        self.rate_limiter = RateLimiter(rate_limit, clock)
        self.faults = Faults()
        self.holds = Holds()
        self.requests: list[RecordedRequest] = []
        self.server_errors: list[str] = []  # tracebacks of unexpected exceptions answered as 500
        self.url = ""  # the address clients use
        # BookStack's APP_URL: every URL it writes (object ``url``s, images, attachments, export references)
        # starts with it, whatever address the request came to (§12). By default ``http://localhost:PORT``,
        # which reaches this server but is not the address the tests use, so nothing can confuse the two.
        self._app_url = app_url
        self._api = Api(
            self.state,
            token_id=token_id,
            token_secret=token_secret,
            version=version,
            permissions=self.permissions,
            rate_limiter=self.rate_limiter,
            base_url=lambda: self.app_url,
        )
        # None: as seen, page 1 of a tag-only search in tag-write order and later pages in id order
        # before v25.11 (``search.search_page``); True/False force it on any version
        self._api.unordered_tag_search = (
            parse_version(version) < (25, 11, 0) if unordered_tag_search is None else unordered_tag_search
        )
        self._lock = self._api.lock
        self._log_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------------------------ lifecycle

    def start(self) -> str:
        """Start serving in a background thread; returns the base URL (``http://127.0.0.1:PORT``)."""
        if self._server is not None:
            return self.url
        self._stopping.clear()
        self._server = _HTTPServer((self.host, self.port), self)
        self.url = f"http://{self.host}:{self._server.server_address[1]}"
        self._thread = serve_in_thread(self._server, "fake-bookstack")
        FakeBookStack._running.add(self)
        return self.url

    def stop(self) -> None:
        """Stop serving; wakes any hanging or held request so shutdown is immediate."""
        FakeBookStack._running.discard(self)
        self._stopping.set()
        self.holds.release_all()
        if self._server is not None:
            stop_serving(self._server, self._thread)
            self._server = None
        self._thread = None

    def __enter__(self) -> FakeBookStack:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        if exc_type is None:
            self.assert_not_crashed()

    def assert_not_crashed(self) -> None:
        """Fail when the fake itself raised while answering (a bug in the fake, hidden behind a 500).

        Every test fixture calls this at teardown: a test whose fake crashed fails even when the plugin
        coped with the 500.
        """
        if self.server_errors:
            raise AssertionError(
                f"the fake BookStack crashed {len(self.server_errors)} time(s):\n" + "\n".join(self.server_errors)
            )

    # --------------------------------------------------------------------------------------- knobs

    @property
    def base_url(self) -> str:
        return self.url

    @property
    def app_url(self) -> str:
        """BookStack's ``APP_URL`` (see ``__init__``)."""
        if self._app_url is not None:
            return self._app_url
        return self.url.replace(f"//{self.host}:", "//localhost:", 1) if self.url else ""

    @property
    def token_expired(self) -> bool:
        """Set to True to make every API call answer 403 "The authorization token used has expired"."""
        return self._api.token_expired

    @token_expired.setter
    def token_expired(self, value: bool) -> None:
        self._api.token_expired = value

    def add_token(self, token_id: str, token_secret: str) -> None:
        """Another API token of the same user (two pipelines, each with its own token)."""
        with self._lock:
            self._api.other_tokens[token_id] = token_secret

    def hold(self, method: str, path: str, token_id: str | None = None) -> Hold:
        """Hold the next request matching ``method`` and the regular expression ``path`` (whole path),
        optionally only from ``token_id``, before it is handled, until the test releases it (``holds.py``)."""
        return self.holds.add(method, path, token_id)

    def writes(self) -> list[RecordedRequest]:
        """Recorded requests that may change something (not GET/HEAD)."""
        return [r for r in list(self.requests) if r.method not in ("GET", "HEAD")]

    def content_writes(self) -> list[RecordedRequest]:
        """``writes()`` less the plugin's sync-record writes: a tags-only PUT of a book that carries the
        tree's record (``bookstack-sync-state``), written once at the end of a sync that wrote."""
        return [r for r in self.writes() if not is_record_write(r)]

    def set_server_clock(self, offset_seconds: float) -> None:
        """Set the server's clock ``offset_seconds`` from this machine's (negative: it moved back), on top
        of the time skipped with ``advance_clock``."""
        with self._lock:
            self.state.clock_offset = timedelta(seconds=offset_seconds)

    def advance_clock(self, seconds: float) -> None:
        """Move the server's clock on by ``seconds`` at once, as if that much time had passed: what a
        client would sleep for to see a later second (``updated_at`` keeps whole seconds) is skipped.
        Adds up, and ``set_server_clock`` keeps it."""
        with self._lock:
            self.state.clock_skipped += timedelta(seconds=max(0.0, seconds))

    @classmethod
    def advance_running_clocks(cls, seconds: float) -> None:
        """``advance_clock`` on every fake serving now in this process (the plugin does not say which
        BookStack it waits for; moving the others' clocks on too is time passing for them)."""
        for fake in list(cls._running):
            fake.advance_clock(seconds)

    def set_sort_rule(self, book_id: int, rule: str | None) -> None:
        """Give a book an auto-sort rule (comma-separated operations, e.g. ``"chapters_first,name_asc"``).

        From now on every create/update/move inside the book renumbers priorities 1..n (§8). The API
        itself cannot set this, like in BookStack. A setting made before the test's story: nothing moves,
        nothing is logged (a person choosing it on the Sort screen is ``set_sort_rule_as_human``).
        """
        check_sort_rule(rule)
        with self._lock:
            self.state.books[book_id].sort_rule = rule
            self.state.run_book_auto_sort(book_id)

    def set_entity_permission(self, kind: str, item_id: int, **actions: bool) -> None:
        """An entity permission for the token's role on one item, as set in BookStack's permissions view.

        ``kind`` is ``bookshelf``, ``book``, ``chapter`` or ``page``; ``actions`` any of ``view``, ``create``,
        ``update``, ``delete``. ``set_entity_permission("page", 7, update=False)`` makes ``PUT /api/pages/7``
        answer 403 while every other page stays writable; a setting on a book or chapter is inherited by
        what it holds unless the item sets that action itself.
        """
        with self._lock:
            self._api.access.set_entity(kind, item_id, **actions)

    def snapshot(self) -> dict[str, Any]:
        """An id-free, deterministic description of all content, for comparing two runs."""
        with self._lock:
            store = self.state

            def page_snap(page: Page) -> dict[str, Any]:
                data: dict[str, Any] = {"type": "page", "name": page.name, "markdown": page.markdown}
                if not page.markdown:
                    data["html"] = page.html
                data["tags"] = [[t.name, t.value] for t in page.tags]
                data["images"] = sorted(i.name for i in store.images.values() if i.uploaded_to == page.id)
                data["attachments"] = [
                    a.name
                    for a in sorted(store.attachments.values(), key=lambda a: (a.order, a.id))
                    if a.uploaded_to == page.id
                ]
                return data

            books = []
            for book in store.books.values():
                contents: list[dict[str, Any]] = []
                for item in store.book_contents(book.id):
                    if isinstance(item, Chapter):
                        contents.append(
                            {
                                "type": "chapter",
                                "name": item.name,
                                "description": item.description,
                                "tags": [[t.name, t.value] for t in item.tags],
                                "pages": [page_snap(p) for p in store.chapter_pages(item.id)],
                            }
                        )
                    else:
                        contents.append(page_snap(item))
                books.append(
                    {
                        "name": book.name,
                        "description": book.description,
                        "tags": [[t.name, t.value] for t in book.tags],
                        "contents": contents,
                    }
                )
            shelves = [
                {
                    "name": shelf.name,
                    "description": shelf.description,
                    "tags": [[t.name, t.value] for t in shelf.tags],
                    "books": [store.books[i].name for i in shelf.book_ids if i in store.books],
                }
                for shelf in store.shelves.values()
            ]

        def order(item: dict[str, Any]) -> str:
            return json.dumps(item, sort_keys=True)

        return {"shelves": sorted(shelves, key=order), "books": sorted(books, key=order)}

    # ------------------------------------------------------------------------------------- serving

    def _read_request(self, handler: _Handler) -> Request:
        split = urlsplit(handler.path)
        pairs = parse_qsl(split.query, keep_blank_values=True)
        headers = {k.lower(): v for k, v in handler.headers.items()}
        if headers.get("transfer-encoding", "").lower() == "chunked":
            body = b""
            while True:
                size = int(handler.rfile.readline().strip().split(b";")[0] or b"0", 16)
                if size == 0:
                    handler.rfile.readline()
                    break
                body += handler.rfile.read(size)
                handler.rfile.readline()
        else:
            body = handler.rfile.read(int(headers.get("content-length") or 0))
        body_input, files = parse_body(headers.get("content-type", ""), body)
        data = trim_strings({**php_nest(pairs), **body_input})
        method = handler.command.upper()
        override = (
            data.get("_method") if isinstance(data.get("_method"), str) else headers.get("x-http-method-override")
        )
        if method == "POST" and override and override.upper() in ("PUT", "PATCH", "DELETE"):
            # Laravel method spoofing: PHP can't parse multipart PUT bodies, so clients POST + _method=PUT.
            method = override.upper()
        data.pop("_method", None)
        return Request(
            method=method,
            http_method=handler.command.upper(),
            path=unquote(split.path),
            query=dict(pairs),
            headers=headers,
            body=body,
            input=data,
            files=files,
            client_ip=handler.client_address[0],
        )

    def _serve(self, handler: _Handler) -> None:
        with self._log_lock:
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            self._serve_one(handler)
        finally:
            with self._log_lock:
                self.in_flight -= 1

    def _serve_one(self, handler: _Handler) -> None:
        request = self._read_request(handler)
        books = self._books_written(request)
        with self._log_lock:
            if any(self._books_in_write[book] for book in books):
                self.same_book_overlaps += 1
            self._books_in_write.update(books)
        try:
            self._serve_request(handler, request)
        finally:
            with self._log_lock:
                self._books_in_write.subtract(books)

    def _books_written(self, request: Request) -> set[int]:
        """The books whose content permissions BookStack rebuilds for this request: every create, update
        or move of a book, chapter or page rebuilds its book's (and the book it leaves). A shelf write
        keeps only the listed books visible at that instant (``BookshelfRepo::updateBooks``), so it
        overlaps with a rebuild of any book it lists."""
        shelf = re.fullmatch(r"/api/shelves(?:/\d+)?", request.path)
        if shelf is not None and request.method in ("POST", "PUT") and isinstance(request.input, dict):
            listed = request.input.get("books")
            return {book for book in map(_int, listed if isinstance(listed, list) else []) if book}
        entity = re.fullmatch(r"/api/(books|chapters|pages)(?:/(\d+))?", request.path)
        if entity is None or request.method not in ("POST", "PUT"):
            return set()
        kind, item = entity.group(1), entity.group(2)
        books: set[int] = set()
        with self._lock:
            if kind == "books":
                return {int(item)} if item else set()
            current = (self.state.chapters if kind == "chapters" else self.state.pages).get(int(item or 0))
            if current is not None:
                books.add(current.book_id)
            if isinstance(request.input, dict):
                chapter = self.state.chapters.get(_int(request.input.get("chapter_id")) or 0)
                if chapter is not None:
                    books.add(chapter.book_id)
                book_id = _int(request.input.get("book_id"))
                if book_id:
                    books.add(book_id)
        return books

    def _serve_request(self, handler: _Handler, request: Request) -> None:
        token_id = request.headers.get("authorization", "").removeprefix("Token ").partition(":")[0].strip()
        hold = self.holds.take(request.method, request.path, token_id)
        if hold is not None:
            self._wait_on(hold, request)
        if self.latency > 0 and self._stopping.wait(self.latency):
            handler.close_connection = True
            return
        fault = self.faults.take(request.method, request.path)
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=request.query,
            status=None,
            body_size=len(request.body),
            http_method=request.http_method,
            fault=fault.kind if fault else None,
            body=request.input,
            token_id=token_id,
        )
        response = self._respond(request, fault, record)
        with self._log_lock:
            self.requests.append(record)
        if response is None:
            # Drop: no status line at all, the client sees the connection close.
            handler.close_connection = True
            return
        record.status = response.status
        self._send(handler, request, response)

    def _wait_on(self, hold: Hold, request: Request) -> None:
        run = re.fullmatch(r"/api/imports/(\d+)", request.path)
        if run is not None and request.method == "POST":
            with self._lock:
                begin_run(self.state, int(run.group(1)))
        hold.arrived.set()
        while not hold.released.wait(0.05) and not self._stopping.is_set():
            pass

    def _respond(self, request: Request, fault: FaultRule | None, record: RecordedRequest) -> Response | None:
        if fault is not None and fault.kind == "deadlock":
            run = re.fullmatch(r"/api/imports/(\d+)", request.path)
            if run is not None:
                with self._lock:
                    begin_run(self.state, int(run.group(1)))
                    record_of_run = self.state.imports.get(int(run.group(1)))
                    if record_of_run is not None:
                        record_of_run.reserved = {}  # rolled back: MariaDB does not give the ids back
            return error_response(500, DEADLOCK_MESSAGE)
        if fault is not None:
            if fault.kind == "drop":
                return None
            if fault.kind == "fail":
                return _injected_failure(fault.status or 500)
            if fault.kind == "rate_limit":
                retry = str(fault.retry_after)
                return too_many_attempts(
                    [
                        ("X-RateLimit-Limit", str(self.rate_limiter.limit or 180)),
                        ("X-RateLimit-Remaining", "0"),
                        ("Retry-After", retry),
                        ("X-RateLimit-Reset", str(int(time.time()) + fault.retry_after)),
                    ]
                )
            if fault.kind == "hang" and self._stopping.wait(fault.seconds):
                return None
        response = self._route(request)
        if fault is not None and fault.kind == "joint_permissions" and response.status == 200:
            created = json.loads(response.body)
            with self._lock:
                self.state.lose_permissions(request.path.removeprefix("/api/"), int(created["id"]))
            return error_response(500, joint_permissions_message(int(created["id"]), request.path))
        if fault is not None and fault.kind == "apply_then_fail":
            if fault.status is None:
                record.fault = "apply_then_drop"
                return None
            return _injected_failure(fault.status)
        return response

    def regenerate_permissions(self) -> list[int]:
        """``php artisan bookstack:regenerate-permissions``: objects a failed rebuild left without permission
        rows become visible again. Returns their ids."""
        with self._lock:
            return self.state.regenerate_permissions()

    def _route(self, request: Request) -> Response:
        with self._lock:
            try:
                if request.path == "/api" or request.path.startswith("/api/"):
                    return self._api.handle(request)
                return web_response(self.state, self._api, request)
            except (KeyError, ValueError, TypeError, AttributeError, IndexError) as error:
                # BookStack answers any other exception with a 500 carrying the raw message (§6). Keep
                # the traceback so a test can tell a fake bug from an intended 500.
                self.server_errors.append(traceback.format_exc())
                return error_response(500, f"{type(error).__name__}: {error}")

    def _send(self, handler: _Handler, request: Request, response: Response) -> None:
        try:
            handler.send_response(response.status)
            for name, value in response.headers:
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(response.body)))
            handler.end_headers()
            if request.http_method != "HEAD" and response.body:
                handler.wfile.write(response.body)
            handler.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (e.g. its timeout fired during hang_next); the work is done anyway.
            handler.close_connection = True


# What Laravel's QueryException says when MariaDB picks a run as the deadlock victim (bookstack-api §12).
DEADLOCK_MESSAGE = (
    "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock; try restarting "
    "transaction (Connection: mysql, SQL: insert into `tags` (`name`, `value`, `order`, `entity_id`, "
    "`entity_type`, `updated_at`, `created_at`) values (bookstack-sync, docs, 0, 12, page, 2026-12-01 09:00:00, "
    "2026-12-01 09:00:00))"
)


def joint_permissions_message(entity_id: int, path: str) -> str:
    """The QueryException BookStack's API answers with when two permission rebuilds of one book collide."""
    entity_type = {"/api/pages": "page", "/api/chapters": "chapter", "/api/books": "book"}.get(path, "page")
    return (
        f"SQLSTATE[23000]: Integrity constraint violation: 1062 Duplicate entry '1-{entity_type}-{entity_id}' for "
        "key 'PRIMARY' (Connection: mysql, SQL: insert into `joint_permissions` (`entity_id`, `entity_type`, "
        f"`role_id`, `status`, `owner_id`) values ({entity_id}, {entity_type}, 1, 3, 1))"
    )


def _injected_failure(status: int) -> Response:
    """500 from the app in BookStack's JSON shape; 502/503/504 as a proxy's HTML page."""
    if status == 500:
        return error_response(500, "Injected failure (fake BookStack)")
    reason = {502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Time-out"}.get(status, "Error")
    return html_response(
        status,
        f"<html>\n<head><title>{status} {reason}</title></head>\n<body>\n<center><h1>{status} {reason}</h1></center>\n</body>\n</html>\n",
    )


def _int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
