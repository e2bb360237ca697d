"""Shared test setup: every test starts with no PLUGIN_*/CI_*/BOOKSTACK_* variables of the machine, and
a sync's wait for BookStack's clock is skipped on the fake BookStacks (their clocks move on instead)."""

from __future__ import annotations

import os

import pytest

from tests.bookstack_target import real_target_configured
from tests.fake_bookstack import FakeBookStack

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


@pytest.fixture(autouse=True)
def _fake_clocks_instead_of_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A sync that wrote waits up to two seconds before its record, for BookStack's clock (whole seconds)
    to pass its last write (``apply.record.wait_for_bookstack_clock``). A fake's clock can be moved on
    instead: every running fake skips that time, so the listing after it sees the same later second
    without the wait. Against a real BookStack (``BOOKSTACK_TEST_URL`` …) every run waits as in use.
    A plugin run in a subprocess waits too: only this process's waits are skipped."""
    if real_target_configured():
        return
    from bookstack_sync.apply import record

    monkeypatch.setattr(record, "wait_for_bookstack_clock", FakeBookStack.advance_running_clocks)
