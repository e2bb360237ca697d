"""The BookStack a test talks to: a real one when configured, else the in-process fake.

Set all three of ``BOOKSTACK_TEST_URL``, ``BOOKSTACK_TEST_TOKEN_ID`` and ``BOOKSTACK_TEST_TOKEN_SECRET`` to
run against a real BookStack. Everything a test creates there is named ``bookstack-sync-test-<random>-...``,
tracked, and deleted afterwards (then purged from the recycle bin when the token may). Without them a
``FakeBookStack`` is started on 127.0.0.1.

A test marked ``@also_before_system_api`` runs twice against the fake: once as usual, once against a
v25.02 (no ``/api/system`` to say what BookStack's ``APP_URL`` is) reached through a reverse proxy with
nginx's defaults (``tests.reverse_proxy``), so the address the test uses is not ``APP_URL`` and the
redirects BookStack sends name the proxy. Against a real BookStack the second run is skipped: the
server is the version it is, reached the way it is.

Register the ``bookstack`` fixture in a ``conftest.py`` with ``pytest_plugins = ["tests.bookstack_target"]``
(at the root conftest) or ``from tests.bookstack_target import bookstack``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient, BookStackError, NotFoundError, PermissionDeniedError
from tests.reverse_proxy import ReverseProxy

ENV_URL = "BOOKSTACK_TEST_URL"
ENV_TOKEN_ID = "BOOKSTACK_TEST_TOKEN_ID"
ENV_TOKEN_SECRET = "BOOKSTACK_TEST_TOKEN_SECRET"
NAME_PREFIX = "bookstack-sync-test-"

# Children before parents, so a parent's deletion never hides a child that needs its own entry.
_DELETE_ORDER = ("attachments", "image-gallery", "imports", "pages", "chapters", "books", "shelves")
# recycle-bin `deletable_type` per kind (api §2 recycle bin)
_DELETABLE_TYPE = {"pages": "page", "chapters": "chapter", "books": "book", "shelves": "bookshelf"}

_log = logging.getLogger(__name__)

# The fake's version for the second run of a test marked ``also_before_system_api``: the last before v25.05,
# behind a reverse proxy.
BEFORE_SYSTEM_API = "v25.02.4"
also_before_system_api = pytest.mark.parametrize(
    "bookstack", [None, BEFORE_SYSTEM_API], ids=["default-version", "v25.02-no-system-api"], indirect=True
)


def real_target_configured(environ: Mapping[str, str] | None = None) -> bool:
    env = os.environ if environ is None else environ
    return all(env.get(name) for name in (ENV_URL, ENV_TOKEN_ID, ENV_TOKEN_SECRET))


class BookStackTarget:
    """What a test needs to talk to its BookStack, and to leave it as it found it."""

    def __init__(self, url: str, token_id: str, token_secret: str, *, fake: Any | None = None) -> None:
        self.url = url
        self.token_id = token_id
        self.token_secret = token_secret
        self.fake = fake
        self.run_id = secrets.token_hex(4)
        self._counter = 0
        self._tracked: list[tuple[str, int]] = []
        self._clients: list[BookStackClient] = []
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"BookStackTarget({self.url!r}, fake={self.is_fake})"

    @property
    def is_fake(self) -> bool:
        return self.fake is not None

    def client(self, **kwargs: Any) -> BookStackClient:
        """A client for this target; keyword arguments go to ``BookStackClient``. Closed at teardown.

        The fake has no rate limit unless asked, so the client's limiter is off by default there.
        """
        if self.is_fake:
            kwargs.setdefault("rate_limit", 0)
        client = BookStackClient(self.url, self.token_id, self.token_secret, **kwargs)
        self._clients.append(client)
        return client

    def let_a_second_pass(self) -> None:
        """Make the next write land in a later second of the server's clock than the last (BookStack keeps
        whole seconds): a real BookStack is waited for; the fake's clock is moved on instead."""
        if self.fake is not None:
            self.fake.advance_clock(1.1)
        else:
            time.sleep(1.1)

    def unique_name(self, prefix: str = "item") -> str:
        """``bookstack-sync-test-<run>-<prefix>-<n>``: unique per run, recognisable on a shared server."""
        with self._lock:
            self._counter += 1
            return f"{NAME_PREFIX}{self.run_id}-{prefix}-{self._counter}"

    def track(self, kind: str, id: int) -> int:
        """Register an item for deletion at teardown; returns the id."""
        with self._lock:
            self._tracked.append((kind, int(id)))
        return int(id)

    def create(self, kind: str, payload: Mapping[str, Any], client: BookStackClient | None = None) -> dict[str, Any]:
        """Create and track in one step (the item is created through ``client`` or a fresh one)."""
        item = (client or self._cleanup_client()).create(kind, payload)
        self.track(kind, int(item["id"]))
        return item

    def _cleanup_client(self) -> BookStackClient:
        return self.client(rate_limit=0 if self.is_fake else 180)

    def cleanup(self) -> None:
        """Delete every tracked item (children first), then purge them from the recycle bin."""
        try:
            if self.is_fake or not self._tracked:
                return
            client = self._cleanup_client()
            self._track_images_of_tracked_pages(client)
            deleted: set[tuple[str, int]] = set()
            for kind in _DELETE_ORDER:
                for tracked_kind, item_id in reversed(self._tracked):
                    if tracked_kind != kind or (kind, item_id) in deleted:
                        continue
                    try:
                        client.delete(kind, item_id)
                    except NotFoundError:
                        pass  # deleted by the test, or with its parent
                    except BookStackError as exc:
                        _log.warning("cleanup: could not delete %s %d: %s", kind, item_id, exc)
                    deleted.add((kind, item_id))
            self._purge_recycle_bin(client)
        finally:
            for c in self._clients:
                c.close()
            self._clients.clear()

    def _track_images_of_tracked_pages(self, client: BookStackClient) -> None:
        """Gallery images uploaded to a tracked page: BookStack keeps them when the page is purged."""
        pages = sorted({i for k, i in self._tracked if k == "pages"})
        try:
            for page_id in pages:
                for image in client.list("image-gallery", filters={"uploaded_to": page_id}):
                    self.track("image-gallery", int(image["id"]))
        except BookStackError as exc:
            _log.warning("cleanup: could not list the images of test pages: %s", exc)

    def _ours_in_recycle_bin(self, entry: Mapping[str, Any], wanted: set[tuple[str, int]]) -> bool:
        """A tracked item, or a shelf or book the plugin deleted itself during the test (named with the run id).

        Purging a book destroys its chapters and pages too, with their own recycle-bin entries.
        """
        if (entry.get("deletable_type"), entry.get("deletable_id")) in wanted:
            return True
        deletable = entry.get("deletable") or {}
        return entry.get("deletable_type") in ("book", "bookshelf") and self.run_id in str(deletable.get("name", ""))

    def _purge_recycle_bin(self, client: BookStackClient) -> None:
        wanted = {(_DELETABLE_TYPE[k], i) for k, i in self._tracked if k in _DELETABLE_TYPE}
        try:
            entries = [e for e in client.list("recycle-bin") if self._ours_in_recycle_bin(e, wanted)]
            for entry in entries:
                # an entry of a page or chapter is gone once its book was purged just before
                with contextlib.suppress(NotFoundError):
                    client.delete("recycle-bin", int(entry["id"]))
        except PermissionDeniedError:
            # Needs settings-manage + restrictions-manage-all (api §2); the items stay in the bin.
            _log.info("cleanup: the token may not purge the recycle bin; test items stay there")
        except BookStackError as exc:
            _log.warning("cleanup: recycle bin purge failed: %s", exc)


def _start_fake(version: str | None) -> Any:
    from tests.fake_bookstack import FakeBookStack

    fake = FakeBookStack() if version is None else FakeBookStack(version=version)
    fake.start()
    return fake


@pytest.fixture
def bookstack(request: pytest.FixtureRequest) -> Iterator[BookStackTarget]:
    """The BookStack under test (see the module docstring)."""
    version: str | None = getattr(request, "param", None)  # a fake's version (``also_before_system_api``)
    if real_target_configured():
        if version is not None:
            pytest.skip(f"imitates BookStack {version} on the fake; a real BookStack is the version it is")
        target = BookStackTarget(os.environ[ENV_URL], os.environ[ENV_TOKEN_ID], os.environ[ENV_TOKEN_SECRET], fake=None)
        try:
            yield target
        finally:
            target.cleanup()
        return
    fake = _start_fake(version)
    proxy = None if version is None else ReverseProxy(fake.base_url, fake.app_url)
    try:
        address = fake.base_url if proxy is None else proxy.start()
        target = BookStackTarget(address, fake.token_id, fake.token_secret, fake=fake)
        try:
            yield target
        finally:
            target.cleanup()
    finally:
        if proxy is not None:
            proxy.stop()
        fake.stop()
    fake.assert_not_crashed()
