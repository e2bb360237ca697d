"""The suite's fake path never sleeps for BookStack's clock: the wait a sync makes before its record
(``apply.record.wait_for_bookstack_clock``) moves the fake's clock on instead (``tests/conftest.py``)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bookstack_sync.plan.tags import STATE_TAG
from tests.bookstack_target import BookStackTarget

from .conftest import Plugin


def test_a_sync_that_writes_moves_the_fakes_clock_on_instead_of_waiting(
    plugin: Plugin, bookstack: BookStackTarget
) -> None:
    if bookstack.fake is None:
        pytest.skip("a real BookStack's clock is waited for")
    fake = bookstack.fake
    assert plugin.run().exit_code == 0
    # the record is written, in a later second than the run's writes, and that second was skipped to
    assert any(t.name == STATE_TAG for b in fake.state.books.values() for t in b.tags)
    assert timedelta(0) < fake.state.clock_skipped <= timedelta(seconds=2.2)
    skipped = fake.state.clock_skipped
    assert plugin.run().exit_code == 0  # a run that writes nothing does not wait
    assert fake.state.clock_skipped == skipped
