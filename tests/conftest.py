"""Shared test setup: every test starts with no PLUGIN_*/CI_*/BOOKSTACK_* variables of the machine."""

from __future__ import annotations

import os

import pytest

pytest_plugins = ["tests.fake_bookstack.fixtures"]

_PREFIXES = ("PLUGIN_", "CI_", "BOOKSTACK_", "DRONE_")
# The real-BookStack target is chosen by these; keep them for the suites that read them.
_KEEP = {"BOOKSTACK_TEST_URL", "BOOKSTACK_TEST_TOKEN_ID", "BOOKSTACK_TEST_TOKEN_SECRET"}


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith(_PREFIXES) and name not in _KEEP:
            monkeypatch.delenv(name)
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
