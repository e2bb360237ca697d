"""Pytest fixture ``fake_bookstack``: a fresh fake BookStack with default settings for each test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .server import FakeBookStack


@pytest.fixture
def fake_bookstack() -> Iterator[FakeBookStack]:
    """Started before the test and stopped after it (``fake_bookstack.url`` is its base URL)."""
    fake = FakeBookStack()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
