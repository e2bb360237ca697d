"""The one BookStack API client: a session, timeouts, retries, a rate limiter, typed errors.

Every request to BookStack goes through this client, so limits, retries and the token's redaction live in one
place; the only other network traffic is the pull-request comment, sent by ``report/forge.py`` to the forge with
its own session. Only ``apply/`` calls the write methods (a test holds that). Payloads are returned raw
(``dict``); callers turn them into their own types.
"""

from __future__ import annotations

import builtins
import itertools
import json
import logging
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter

from .. import __version__
from .activity import Activity
from .errors import (
    FailureKind,
    IncompleteSearchError,
    NotBookStackError,
    NotFoundError,
    PermissionDeniedError,
    ReadOnlyError,
    ServerError,
    ambiguous_from_server_error,
    error_for_response,
    error_for_transport,
    not_api_json_error,
    parse_json_body,
    redact,
)
from .ratelimit import RateLimiter
from .retry import IDEMPOTENT_METHODS, RetryPolicy
from .search import range_bounds, range_query, split_tag
from .stats import RequestStats
from .transport import (
    RefuseAllCookies,
    Secret,
    TokenAuth,
    check_token,
    failure_detail,
    failure_kind,
    normalise_base_url,
)
from .uploads import UploadRequests

__all__ = ["KINDS", "BookStackClient"]


T = TypeVar("T")


R = TypeVar("R")


KINDS = frozenset(
    {
        "shelves",
        "books",
        "chapters",
        "pages",
        "attachments",
        "image-gallery",
        "imports",
        "recycle-bin",
        "comments",
        "users",
        "roles",
        "audit-log",
    }
)


LIST_COUNT = 500  # API_MAX_ITEM_COUNT: larger values are clamped anyway (``ListingResponseBuilder``)


SEARCH_COUNT = 100  # count > 100 is a 422 on /api/search, not a clamp (``SearchApiController``)


_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class BookStackClient(UploadRequests):
    """Talks to one BookStack over its REST API. Thread-safe; use as a context manager or ``close()``."""

    def __init__(
        self,
        base_url: str,
        token_id: str,
        token_secret: str,
        *,
        timeout: tuple[float, float] = (10.0, 60.0),
        rate_limit: int = 180,
        concurrency: int = 4,
        verify: bool | str = True,
        read_only: bool = False,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        self.base_url = normalise_base_url(base_url)
        check_token(token_id, token_secret)
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        if rate_limit < 0:
            raise ValueError("rate_limit must not be negative")
        self._secret = Secret(token_secret)
        self._auth = TokenAuth(token_id, token_secret)
        self._timeout = timeout
        self.concurrency = concurrency
        self.read_only = read_only
        self._verify = verify
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._log = logger or logging.getLogger("bookstack_sync.bookstack")
        self.activity = Activity(clock)  # requests in flight and waits, for the run's log
        self._limiter = RateLimiter(rate_limit, clock=clock, sleep=sleep, logger=self._log, activity=self.activity)
        self.stats = RequestStats()
        origin = urlsplit(self.base_url)
        self._origin = (origin.scheme, origin.netloc)

        session = requests.Session()
        session.cookies.set_policy(RefuseAllCookies())
        session.headers.update(
            {
                "Accept": "application/json",  # otherwise 403 messages differ (``Handler::renderApiException``)
                "User-Agent": f"bookstack-sync/{__version__} (+python-requests)",
            }
        )
        session.verify = verify
        # No urllib3-level retries: every retry decision is ours (and counted).
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(10, concurrency), max_retries=0)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        self._session = session
        if verify is False:
            self._log.warning(
                "TLS certificate verification is OFF (`insecure`): anyone on the network path can read "
                "and change the traffic, including the API token. Use `ca_cert` instead."
            )

    # -- lifecycle ---------------------------------------------------------------------------------

    def close(self) -> None:
        self._session.close()

    def __enter__(self) -> BookStackClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"BookStackClient({self.base_url!r}, read_only={self.read_only})"

    # -- the single request path -------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json_body: Mapping[str, Any] | None = None,
        form: Mapping[str, str] | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        retry_as: str | None = None,
        raw: bool = False,
        url: str | None = None,
        allow_redirects: bool = False,
    ) -> requests.Response:
        """Send one logical request with limiter, retries and error mapping.

        ``retry_as`` is the method whose retry rules apply (a multipart update is a POST that means PUT).
        ``raw`` returns any answer but a 429 as it is (for non-API fetches).
        """
        method = method.upper()
        if self.read_only and method in _WRITE_METHODS:
            raise ReadOnlyError(
                f"{method} {path}: refused, the client is read-only (dry run); nothing was sent",
                hint="this is a bug if it happens outside a dry run",
                method=method,
                path=path,
            )
        semantic = (retry_as or method).upper()
        target = url or self.base_url + path
        same_origin = (urlsplit(target).scheme, urlsplit(target).netloc) == self._origin
        headers: dict[str, str] = {}
        data: Any = None
        if json_body is not None:
            data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        elif form is not None:
            data = dict(form)
        policy = self._retry
        attempt = 0
        failed_ambiguously = False
        while True:
            attempt += 1
            last = attempt >= policy.max_attempts
            self._limiter.acquire()
            self.stats.record(method, path)
            started = time.perf_counter()
            try:
                with self.activity.request(method, path):
                    response = self._session.request(
                        method,
                        target,
                        params=params,
                        data=data,
                        files=files,
                        headers=headers,
                        auth=self._auth if same_origin else None,
                        timeout=self._timeout,
                        verify=self._verify,
                        allow_redirects=allow_redirects,
                    )
            except requests.RequestException as exc:
                kind = failure_kind(exc)
                detail = redact(failure_detail(exc), self._secret.value)
                if kind is None:
                    raise error_for_transport(
                        method, path, FailureKind.CONNECT, detail, secret=self._secret.value, ambiguous=False
                    ) from None
                if not last and policy.should_retry_failure(semantic, kind):
                    failed_ambiguously = failed_ambiguously or kind is not FailureKind.CONNECT
                    self._pause(method, path, attempt, policy.backoff(attempt), f"{kind.value} error")
                    continue
                ambiguous = semantic not in IDEMPOTENT_METHODS and kind in (
                    FailureKind.TIMEOUT,
                    FailureKind.DROPPED,
                )
                # "from None": the requests exception adds nothing for the user and carries the full URL.
                raise error_for_transport(
                    method, path, kind, detail, secret=self._secret.value, ambiguous=ambiguous
                ) from None

            status = response.status_code
            self._limiter.observe(response.headers)
            self._log.debug(
                "%s %s -> %d (%.0f ms, attempt %d)",
                method,
                path,
                status,
                (time.perf_counter() - started) * 1000,
                attempt,
            )
            if status == 429:
                if not last:
                    wait_s = policy.retry_after(response.headers.get("Retry-After"), attempt)
                    if self._limiter.enabled:
                        # Hold every thread, not just this one: the budget is shared (one per token, ``ThrottleApiRequests``).
                        self._limiter.block_for(wait_s)
                        self._log_retry(method, path, attempt, wait_s, "429 rate limited")
                    else:
                        self._pause(method, path, attempt, wait_s, "429 rate limited")
                    continue
            elif raw or 200 <= status < 300:
                return response

            error = error_for_response(
                method, path, status, response.headers, response.content, secret=self._secret.value
            )
            if status >= 500:
                refused = isinstance(error, ServerError) and error.refused
                if not last and policy.should_retry_status(semantic, status, refused=refused):
                    failed_ambiguously = True
                    self._pause(method, path, attempt, policy.backoff(attempt), f"{status} server error")
                    continue
                if semantic not in IDEMPOTENT_METHODS and not refused:
                    raise ambiguous_from_server_error(error)
            if status == 404 and method == "DELETE" and failed_ambiguously and isinstance(error, NotFoundError):
                # An earlier attempt that timed out or failed with 5xx did delete it.
                self._log.info("%s %s: already gone after a retried attempt; treating as deleted", method, path)
                return response
            raise error

    def _log_retry(self, method: str, path: str, attempt: int, wait_s: float, why: str) -> None:
        self._log.warning(
            "%s %s: %s on attempt %d of %d; retrying in %.1f s",
            method,
            path,
            why,
            attempt,
            self._retry.max_attempts,
            wait_s,
        )

    def _pause(self, method: str, path: str, attempt: int, wait_s: float, why: str) -> None:
        self._log_retry(method, path, attempt, wait_s, why)
        if wait_s > 0:
            self.activity.waiting(f"a retry of {method} {path}", wait_s)
            self._sleep(wait_s)

    def _json(self, method: str, path: str, response: requests.Response) -> Any:
        data = parse_json_body(response.content, response.headers.get("Content-Type", ""))
        if data is None:
            raise not_api_json_error(method, path, response.status_code, response.headers.get("Content-Type", ""))
        return data

    def _object(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._request(method, path, **kwargs)
        data = self._json(method, path, response)
        if not isinstance(data, dict):
            raise not_api_json_error(method, path, response.status_code, response.headers.get("Content-Type", ""))
        return data

    @staticmethod
    def _kind_path(kind: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown BookStack kind {kind!r}; expected one of {sorted(KINDS)}")
        return f"/api/{kind}"

    # -- generic CRUD ------------------------------------------------------------------------------

    def list(
        self, kind: str, *, filters: Mapping[str, str | int] | None = None, sort: str | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a listing endpoint, 500 per request, following ``offset`` until ``total``.

        ``filters={"book_id": 3, "updated_at:gt": "2025-01-01 00:00:00"}`` becomes ``filter[book_id]=3&...``.
        A filter on a field that is not filterable is silently ignored by BookStack (``ListingResponseBuilder``).
        """
        path = self._kind_path(kind)
        params: dict[str, str | int] = {"count": LIST_COUNT}
        if sort:
            params["sort"] = sort
        for key, value in (filters or {}).items():
            # Booleans filter as 0/1.
            params[f"filter[{key}]"] = int(value) if isinstance(value, bool) else value
        return self._paginate(path, params)

    def list_first(
        self,
        kind: str,
        *,
        sort: str,
        filters: Mapping[str, str | int] | None = None,
        count: int = LIST_COUNT,
        offset: int = 0,
    ) -> tuple[builtins.list[dict[str, Any]], int, datetime | None]:
        """One request: the first ``count`` (500) items of a listing in ``sort`` order (from ``offset``),
        ``total`` — the count of every item the filters match, whatever the page holds (api §3) — and the
        server's clock as its ``Date`` header gives it (None when absent or unreadable)."""
        path = self._kind_path(kind)
        params: dict[str, str | int] = {"count": count, "sort": sort, "offset": offset}
        for key, value in (filters or {}).items():
            params[f"filter[{key}]"] = int(value) if isinstance(value, bool) else value
        response = self._request("GET", path, params=params)
        body = self._json("GET", path, response)
        data = body.get("data") if isinstance(body, dict) else None
        total = body.get("total") if isinstance(body, dict) else None
        if not isinstance(data, builtins.list) or not isinstance(total, int):
            raise not_api_json_error("GET", path, 200, "JSON without data/total")
        try:
            server_time: datetime | None = parsedate_to_datetime(response.headers.get("Date", ""))
        except (TypeError, ValueError):
            server_time = None
        if server_time is not None and server_time.tzinfo is None:
            server_time = server_time.replace(tzinfo=UTC)  # an HTTP date is GMT whatever it says
        return data, total, server_time

    def _paginate(self, path: str, params: dict[str, str | int]) -> Iterator[dict[str, Any]]:
        offset = 0
        while True:
            body = self._object("GET", path, params={**params, "offset": offset})
            data, total = body.get("data"), body.get("total")
            if not isinstance(data, builtins.list) or not isinstance(total, int):
                raise not_api_json_error("GET", path, 200, "JSON without data/total")
            yield from data
            offset += len(data)
            if not data or offset >= total:
                return

    def read(self, kind: str, id: int) -> dict[str, Any]:
        return self._object("GET", f"{self._kind_path(kind)}/{int(id)}")

    def create(self, kind: str, payload: Mapping[str, Any]) -> dict[str, Any]:
        """POST; BookStack answers 200 with the full item. Never retried on 5xx/timeouts:
        those raise ``AmbiguousWriteError``."""
        return self._object("POST", self._kind_path(kind), json_body=payload)

    def update(self, kind: str, id: int, payload: Mapping[str, Any]) -> dict[str, Any]:
        """PUT, a partial update: only the keys sent change."""
        return self._object("PUT", f"{self._kind_path(kind)}/{int(id)}", json_body=payload)

    def delete(self, kind: str, id: int) -> None:
        """DELETE; 204. Content goes to the recycle bin, attachments are gone for good."""
        self._request("DELETE", f"{self._kind_path(kind)}/{int(id)}")

    # -- search and system -------------------------------------------------------------------------

    def search(self, query: str, *, split_by: str | None = None) -> Iterator[dict[str, Any]]:
        """Every hit of ``query`` (UI search syntax, e.g. ``{type:page} [managed-by=bookstack-sync]``), each once.

        Pages are followed until ``total`` (before v25.11 each type was paged separately, a page could hold
        up to 4 x count items and ``total`` was the sum over types). BookStack does not order a search of
        tags alone, so its pages may repeat hits and miss others: when fewer different hits came than
        ``total``, they are read again in ranges of the value of tag ``split_by`` (by default the query's
        first tag term, see ``search.split_tag``; every hit must carry it), each range read whole.
        Raises ``IncompleteSearchError`` rather than return part of the hits.
        """
        hits, total = self._search_pages(query)
        if len(hits) < total:
            tag = split_by or split_tag(query)
            if tag is None:
                raise IncompleteSearchError(query, len(hits), total)
            self._search_ranges(query, tag, (None, None), hits, total, into=hits)
            if len(hits) < total:  # hits without the tag are in no range
                raise IncompleteSearchError(query, len(hits), total)
        yield from hits.values()

    def search_first(self, query: str) -> tuple[builtins.list[dict[str, Any]], int]:
        """One request: the first page of hits (100, each once) and ``total``, the count of every hit."""
        hits, _, total = self._search_answer(query, 1)
        return list(hits.values()), total

    def _search_answer(self, query: str, page: int) -> tuple[dict[tuple[str, int], dict[str, Any]], int, int]:
        """One page of a search: its hits by (type, id), how many items it held, ``total``."""
        params: dict[str, str | int] = {"query": query, "page": page, "count": SEARCH_COUNT}
        body = self._object("GET", "/api/search", params=params)
        data, total = body.get("data"), body.get("total")
        if not isinstance(data, builtins.list) or not isinstance(total, int):
            raise not_api_json_error("GET", "/api/search", 200, "JSON without data/total")
        hits = {(str(item.get("type")), int(item.get("id", 0))): item for item in data}
        return hits, len(data), total

    def _search_pages(self, query: str) -> tuple[dict[tuple[str, int], dict[str, Any]], int]:
        hits: dict[tuple[str, int], dict[str, Any]] = {}
        page, received = 1, 0
        while True:
            found, size, total = self._search_answer(query, page)
            new = {key: hit for key, hit in found.items() if key not in hits}
            hits |= new
            received += size
            if not size or received >= total or not new:
                return hits, total
            page += 1

    def _search_ranges(
        self,
        query: str,
        tag: str,
        span: tuple[str | None, str | None],
        seen: dict[tuple[str, int], dict[str, Any]],
        total: int,
        *,
        into: dict[tuple[str, int], dict[str, Any]],
    ) -> None:
        """Read the ``total`` hits of ``query`` whose ``tag`` value is in ``span`` in ranges cut at the
        values of the hits ``seen`` there, each range from one answer, cut again where it is not whole."""
        low, high = span
        values = [
            str(t.get("value") or "") for hit in seen.values() for t in hit.get("tags", []) if t.get("name") == tag
        ]
        bounds = range_bounds(values, low, high, total)
        if not bounds:
            raise IncompleteSearchError(range_query(query, tag, low, high), len(seen), total)
        edges = [low, *bounds, high]
        for part in itertools.pairwise(edges):
            part_query = range_query(query, tag, *part)
            found, _size, part_total = self._search_answer(part_query, 1)
            into |= found
            if len(found) >= part_total:
                continue
            if part_total >= total:  # the cut did not make it smaller: no end to cutting
                raise IncompleteSearchError(part_query, len(found), part_total)
            self._search_ranges(query, tag, part, found, part_total, into=into)

    def system(self) -> dict[str, Any] | None:
        """``GET /api/system`` (v25.05+): version, instance id, base URL. None on older servers, which
        answer with the HTML 404 page."""
        try:
            return self._object("GET", "/api/system")
        except (NotFoundError, NotBookStackError) as exc:
            if exc.status == 404:
                return None
            raise

    # -- exports -----------------------------------------------------------------------------------

    def export_zip(self, kind: str, id: int) -> bytes:
        """``GET /api/{books,chapters,pages}/{id}/export/zip`` (v25.07+, ``ZipExportBuilder``): the portable ZIP
        (``data.json`` + ``files/``) of one item with everything inside it, as bytes. A read, so allowed in
        a dry run. The answer is ``application/octet-stream``; errors are the usual JSON (a role without
        ``content-export`` gets a 403), and servers before v25.07 answer the HTML 404 page
        (``NotBookStackError``, status 404)."""
        if kind not in ("books", "chapters", "pages"):
            raise ValueError(f"only books, chapters and pages export as ZIP, not {kind!r}")
        path = f"{self._kind_path(kind)}/{int(id)}/export/zip"
        try:
            response = self._request("GET", path)
        except PermissionDeniedError as exc:
            raise PermissionDeniedError(
                exc.message,
                hint="the token's role lacks the 'Export content' (content-export) permission; if every "
                "call fails, the token has expired or lacks 'Access System API'",
                reason=exc.reason,
                **exc.request_facts(),
            ) from None
        body = response.content
        if not body.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            content_type = response.headers.get("Content-Type", "")
            raise NotBookStackError(
                f"GET {path} -> {response.status_code}: expected a ZIP file, got "
                f"{content_type or 'no content type'} ({len(body)} bytes)",
                hint="check `url`: something other than BookStack answered (a proxy or login page?)",
                method="GET",
                path=path,
                status=response.status_code,
            )
        return body

    # -- non-API fetches ---------------------------------------------------------------------------

    def fetch_web(self, path_or_url: str, *, allow_redirects: bool = False) -> requests.Response:
        """GET a non-API URL (``/link/12``, an image URL) with the same session; counted, rate-limited,
        429s retried; any other status is returned as it is. A relative path is taken under the base URL
        (its prefix included). The token is only sent to BookStack's own origin."""
        parts = urlsplit(path_or_url)
        if parts.scheme:
            url = path_or_url
            path = parts.path or "/"
        else:
            path = "/" + path_or_url.lstrip("/")
            url = self.base_url + path
        return self._request("GET", path, url=url, raw=True, allow_redirects=allow_redirects)

    # -- concurrency -------------------------------------------------------------------------------

    def map_concurrently(self, fn: Callable[[T], R], items: Iterable[T]) -> builtins.list[R]:
        """``[fn(x) for x in items]`` on up to ``concurrency`` threads; the shared rate limiter still
        bounds the request rate. Results come in input order.

        An exception escaping ``fn`` stops the batch: items not yet started are skipped, running ones
        finish, then the first exception raised is re-raised. Catch per-item errors inside ``fn`` to
        carry on past them.
        """
        work = builtins.list(items)
        if self.concurrency == 1 or len(work) <= 1:
            return [fn(x) for x in work]
        first_error: builtins.list[BaseException] = []
        lock = threading.Lock()

        def run(x: T) -> R:
            try:
                return fn(x)
            except BaseException as exc:
                with lock:
                    if not first_error:
                        first_error.append(exc)
                raise

        with ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="bookstack") as pool:
            futures: builtins.list[Future[R]] = [pool.submit(run, x) for x in work]
            done, pending = wait(futures, return_when=FIRST_EXCEPTION)
            if first_error or any(f.exception() is not None for f in done):
                for future in pending:
                    future.cancel()
            wait(futures)
        if first_error:
            raise first_error[0]
        return [f.result() for f in futures]
