"""Fixtures of the client's unit tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.unit.test_client_support import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A scripted HTTP server on loopback, stopped after the test."""
    srv = ScriptedServer()
    yield srv
    srv.stop()
