"""Pytest fixtures: ``fake_bookstack``, a fresh fake BookStack for each test, and ``make_fake_bookstack``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from .server import FakeBookStack


@pytest.fixture
def fake_bookstack() -> Iterator[FakeBookStack]:
    """Started before the test, stopped after it; the test fails if the fake crashed (``.url`` is its base URL)."""
    fake = FakeBookStack()
    fake.start()
    try:
        yield fake
    finally:
        fake.stop()
    fake.assert_not_crashed()


@pytest.fixture
def make_fake_bookstack() -> Iterator[Callable[..., FakeBookStack]]:
    """A factory of started fakes (``make_fake_bookstack(version=..., permissions=...)``), all stopped after."""
    started: list[FakeBookStack] = []

    def make(**kwargs: Any) -> FakeBookStack:
        fake = FakeBookStack(**kwargs)
        fake.start()
        started.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in started:
            fake.stop()
    for fake in started:
        fake.assert_not_crashed()
