"""Contract suite setup: the ``bookstack`` target (real or fake) plus small helpers.

The contract tests check, through ``BookStackClient``, the BookStack behaviours the sync relies on. They are
written from the reference notes and the v25.02 transcripts, not from the fake.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient
from tests import images
from tests.bookstack_target import BookStackTarget, bookstack  # noqa: F401 - the fixture

pytestmark = pytest.mark.real_bookstack


class StatusLog(logging.Handler):
    """Collects (method, path, status) from the client's per-request debug line."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.seen: list[tuple[str, str, int]] = []

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and record.msg.startswith("%s %s -> %d"):
            self.seen.append((str(args[0]), str(args[1]), int(args[2])))  # type: ignore[call-overload]

    def last(self, method: str) -> int:
        return next(status for m, _, status in reversed(self.seen) if m == method)


@pytest.fixture
def status_log() -> StatusLog:
    return StatusLog()


@pytest.fixture
def client(bookstack: BookStackTarget, status_log: StatusLog) -> Iterator[BookStackClient]:  # noqa: F811
    logger = logging.getLogger(f"bookstack_sync.contract.{id(status_log)}")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(status_log)
    logger.propagate = False
    try:
        yield bookstack.client(logger=logger)
    finally:
        logger.removeHandler(status_log)


@pytest.fixture
def book(bookstack: BookStackTarget, client: BookStackClient) -> dict[str, Any]:  # noqa: F811
    return bookstack.create("books", {"name": bookstack.unique_name("book")}, client)


def raw_get(client: BookStackClient, path: str, params: dict[str, str | int]) -> dict[str, Any]:
    """A GET with parameters the client's own methods never send (count/offset probes, search count)."""
    return client._object("GET", path, params=params)


def png(color: tuple[int, int, int] = (200, 30, 30), size: int = 2) -> bytes:
    """A valid tiny PNG (BookStack sniffs image content)."""
    return images.png(color, size, size)


def version_tuple(version: str | None) -> tuple[int, ...]:
    """``"v25.11.0"`` → (25, 11, 0); unknown → (0,)."""
    if not version:
        return (0,)
    parts = []
    for piece in version.lstrip("v").split("-")[0].split("."):
        if not piece.isdigit():
            break
        parts.append(int(piece))
    return tuple(parts) or (0,)
