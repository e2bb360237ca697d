"""What a person reads after a run, through the entrypoint: the plan in the log, the summary file."""

from __future__ import annotations

import re

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin
from .test_sync import fake_only, page

pytestmark = pytest.mark.real_bookstack


def summary(docs: Docs) -> str:
    return (docs.root / "summary.md").read_text(encoding="utf-8")


def test_a_plan_lists_only_what_changes_with_one_plan_line(plugin: Plugin, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly and briefly.\n")
    run = plugin.run("pull_request")
    assert run.exit_code == 0, run.err
    plan_lines = [line for line in run.err.splitlines() if line.startswith("Plan:")]
    assert plan_lines == ["Plan: 0 to create, 1 to update, 0 to move, 0 to delete. (15 unchanged)"]
    # the one book with a change is listed, with its unchanged objects counted on one line
    assert f"  ~ update page {docs.key('eng/guide/practice/01-style.md')} (content)" in run.err
    assert re.findall(r"^  = \d+ unchanged$", run.err, re.M) == ["  = 7 unchanged"]
    assert docs.key("eng/ops") not in run.err and docs.key("team/handbook") not in run.err
    text = summary(docs)
    assert text.startswith("## ✅ bookstack-sync plan: 1 page changes, nothing deleted\n")
    assert text.count("\n- ") == 1


def test_drift_names_the_editor_and_the_revisions(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    assert plugin.run().exit_code == 0
    style = page(bookstack, docs, "eng/guide/practice/01-style.md")
    ours = int(style["revision_count"])
    bookstack.fake.edit_page_as_human(int(style["id"]), markdown="A person's edit")
    words = f"edited in BookStack by Human Editor, revision {ours + 1} after our {ours}"
    planned = plugin.run("pull_request")
    assert f"{words}; git wins" in planned.err
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert f"updated {docs.key('eng/guide/practice/01-style.md')} ({words}; git wins)" in run.err
    assert f"{words}; git wins" in summary(docs)
    assert "1 edited in BookStack" in summary(docs).splitlines()[0]
    bookstack.fake.edit_page_as_human(int(style["id"]), markdown="Another edit")
    kept = plugin.run(on_drift="skip")
    assert "; kept (on_drift: skip)" in kept.err and "edited in BookStack by Human Editor" in summary(docs)


def test_orphans_are_called_orphans(plugin: Plugin, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    docs.path("eng/ops/runbooks/01-restart.md").unlink()
    docs.shelves[0]["shelf"]["books"][1]["book"]["chapters"][0]["chapter"]["pages"] = []
    docs.write_structure()
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert f"? orphan page {docs.key('eng/ops/runbooks/01-restart.md')}" in run.err
    text = summary(docs)
    assert "orphan page" in text and "1 orphan kept" in text.splitlines()[0]
    assert "skipped" not in text and "skipped" not in run.err


def test_a_sync_with_nothing_to_do_says_so(plugin: Plugin, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    assert plugin.run().exit_code == 0
    assert summary(docs).startswith("## ✅ bookstack-sync sync: nothing changed: BookStack already matched the docs\n")
