"""The sync record holds ids (``x=``, ``w=``) in one tag value, which BookStack keeps in a 191-character
column (``tags.value``: ``Schema::defaultStringLength(191)``, non-strict SQL cuts the rest silently; the
record gives up its time rather than be cut). A fresh fake hands out ids from 1; a wiki in use has ids of
six digits, so the record must still fit there (``fake.state.first_id``)."""

from __future__ import annotations

from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin
from .test_noop_probe import _committed, _fake, _git, report, synced

STATE_TAG = "bookstack-sync-state"


def test_a_few_pages_written_in_a_wiki_with_six_digit_ids_leave_a_record_that_holds(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    fake = _fake(bookstack)
    fake.state.first_id = 400_000
    _git(docs, "init", "-q")
    _committed(docs, "docs")
    synced(plugin)
    edited = [
        "eng/guide/practice/01-style.md",
        "eng/ops/runbooks/01-restart.md",
        "team/handbook/onboarding/01-welcome.md",
    ]
    for rel in edited:
        docs.page(rel, "Edited", f"New text of {rel}.\n")
    _committed(docs, "three pages")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert report(docs)["requests"]["writes"] == 3, report(docs)["requests"]
    records = [t.value for p in fake.state.pages.values() for t in p.tags if t.name == STATE_TAG]
    assert records and all(";t=?" not in value and len(value) <= 191 for value in records), records
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["total"] <= 5
