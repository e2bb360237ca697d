"""Every way a run ends leaves the JSON report and the summary: what BookStack acknowledged, what failed
and why, what was not attempted. Each test goes through the entrypoint and reads the files."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from jsonschema import Draft202012Validator

import bookstack_sync.apply.writers
from bookstack_sync.report.files import report_schema
from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin, Run
from .test_sync import by_key, fake_only


def report(docs: Docs) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    Draft202012Validator(report_schema()).validate(data)
    return data


def summary(docs: Docs) -> str:
    return (docs.root / "summary.md").read_text(encoding="utf-8")


def statuses(data: dict[str, Any]) -> dict[str, str]:
    """Page key -> outcome status."""
    return {o["key"]: o["status"] for o in data["outcomes"] if o["entity"] == "page"}


def no_report_yet(docs: Docs) -> None:
    for name in ("report.json", "summary.md"):
        (docs.root / name).unlink(missing_ok=True)


def edit(docs: Docs, rels: list[str]) -> None:
    for rel in rels:
        path = docs.path(rel)
        path.write_text(path.read_text(encoding="utf-8") + "\nEdited.\n", encoding="utf-8")


EDITED = [
    "eng/guide/01-overview.md",
    "eng/guide/practice/01-style.md",
    "eng/guide/practice/02-review.md",
    "eng/guide/start/02-configure.md",
    "team/handbook/onboarding/01-welcome.md",
]


def test_invalid_docs(plugin: Plugin, docs: Docs) -> None:
    docs.page("eng/guide/start/01-install.md", "", "no title\n")
    run = plugin.run()
    assert run.exit_code == 1
    data = report(docs)
    assert data["exit_status"] == "invalid_docs" and data["validation"]["errors"] >= 1
    assert "invalid" in data["error"] and data["outcomes"] == []
    assert "01-install.md" in summary(docs)


def test_a_malformed_setting_in_a_pipeline(plugin: Plugin, docs: Docs) -> None:
    run = plugin.run(on_drift="sometimes")
    assert run.exit_code == 2
    assert "on_drift" in run.err and f"wrote {docs.root / 'report.json'}" in run.err
    data = report(docs)
    assert data["exit_status"] == "usage" and "on_drift" in data["error"]
    assert data["settings"]["token_secret"] == "***" and data["plan"] is None
    assert "on\\_drift" in summary(docs) or "on_drift" in summary(docs)


def test_a_missing_token(plugin: Plugin, docs: Docs) -> None:
    run = plugin.run(token_secret="", token_id="")
    assert run.exit_code == 2
    data = report(docs)
    assert data["exit_status"] == "usage" and "token_id" in data["error"]
    assert data["validation"]["pages_checked"] == 7  # validated before it stopped
    # the hint is said once, in the exit line, not again as an `error: hint:` line
    assert run.err.count("add them to the step's settings") == 1 and "hint:" not in run.err
    assert "exit 2 (settings or usage error): cannot sync without" in run.err


def test_bookstack_refusing_the_token(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    bookstack.fake.token_expired = True
    run = plugin.run()
    assert run.exit_code == 3
    data = report(docs)
    assert data["exit_status"] == "sync_failed" and "expired" in data["error"]
    assert data["requests"]["total"] >= 1
    assert "expired" in summary(docs)


def test_one_page_the_token_may_not_edit_fails_alone_and_the_rest_is_reported(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    assert plugin.run().exit_code == 0
    locked = docs.key("eng/guide/practice/02-review.md")
    locked_id = int(by_key(bookstack, docs)[f"page:{locked}"]["id"])
    bookstack.fake.set_entity_permission("page", locked_id, update=False)
    edit(docs, EDITED)
    run = plugin.run()
    assert run.exit_code == 3
    data = report(docs)
    pages = statuses(data)
    assert pages[locked] == "failed"
    assert sorted(k for k, s in pages.items() if s == "updated") == sorted(
        docs.key(r) for r in EDITED if "review" not in r
    )
    failed = next(o for o in data["outcomes"] if o["key"] == locked)
    assert "403" in failed["error"] and "permission" in failed["error"]
    assert "1 action(s) failed" in data["error"]
    text = summary(docs)
    assert "02-review.md" in text and "failed" in text
    # what BookStack took is really there
    configure = bookstack.client().read("pages", int(by_key(bookstack, docs)[f"page:{docs.key(EDITED[3])}"]["id"]))
    assert configure["markdown"].endswith("Edited.")


def test_a_role_without_the_permission_stops_after_ten_refusals(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    for n in range(2, 14):
        docs.page(f"eng/ops/runbooks/{n:02d}-step.md", f"Step {n}", f"Step {n}.\n")
    assert plugin.run().exit_code == 0
    book_id = int(by_key(bookstack, docs)[f"book:{docs.key('eng/ops')}"]["id"])
    bookstack.fake.set_entity_permission("book", book_id, update=False)
    edit(docs, [f"eng/ops/runbooks/{n:02d}-step.md" for n in range(2, 14)])
    bookstack.fake.requests.clear()
    run = plugin.run(concurrency="1")  # one write at a time: the count of refusals is exact
    assert run.exit_code == 3
    data = report(docs)
    counts = Counter(statuses(data).values())
    assert counts["failed"] == 10 and counts["not_attempted"] == 2
    assert len(bookstack.fake.content_writes()) == 10
    assert "refused 10 writes in a row" in data["error"]
    skipped = next(o for o in data["outcomes"] if o["status"] == "not_attempted")
    assert skipped["error"].startswith("not attempted: the run stopped (BookStack refused 10 writes in a row")
    assert "not attempted" in summary(docs)


def test_drift_refused_with_on_drift_fail(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake_only(bookstack)
    assert bookstack.fake is not None
    assert plugin.run().exit_code == 0
    style = docs.key("eng/guide/practice/01-style.md")
    bookstack.fake.edit_page_as_human(int(by_key(bookstack, docs)[f"page:{style}"]["id"]), markdown="A person's edit")
    edit(docs, ["eng/guide/01-overview.md"])
    no_report_yet(docs)
    bookstack.fake.requests.clear()
    run = plugin.run(on_drift="fail")
    assert run.exit_code == 3
    assert "No changes" not in run.err
    data = report(docs)
    assert "edited in BookStack since the last sync" in data["error"]
    pages = statuses(data)
    assert pages[style] == "drift"
    assert pages[docs.key("eng/guide/01-overview.md")] == "not_attempted"
    assert bookstack.fake.content_writes() == []
    assert "01-style.md" in summary(docs)


def test_the_prune_guard(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    assert plugin.run().exit_code == 0
    for rel in ("eng/guide/practice/01-style.md", "eng/guide/practice/02-review.md", "eng/ops/runbooks/01-restart.md"):
        docs.path(rel).unlink()
    docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"][1]["chapter"]["pages"] = []
    docs.write_structure()
    no_report_yet(docs)
    run = plugin.run(prune="true")
    assert run.exit_code == 3
    data = report(docs)
    assert "prune_limit" in data["error"]
    deletes = [o for o in data["outcomes"] if o["kind"] == "delete"]
    assert len(deletes) == 3 and {o["status"] for o in deletes} == {"not_attempted"}
    assert "prune" in summary(docs)


def synced_then_edited_with_a_bug(
    plugin: Plugin,
    bookstack: BookStackTarget,
    docs: Docs,
    monkeypatch: pytest.MonkeyPatch,
    fails: Callable[[Any], bool],
) -> None:
    """A synced tree whose EDITED pages then changed, and a bug in the next run: each page write that
    ``fails`` picks raises RuntimeError("a bug") (an internal error, not a BookStack failure)."""
    fake_only(bookstack)
    assert plugin.run().exit_code == 0
    edit(docs, EDITED)
    real = bookstack_sync.apply.writers._apply_page

    def buggy(ctx: Any, action: Any) -> Any:
        if fails(action):
            raise RuntimeError("a bug")
        return real(ctx, action)

    monkeypatch.setattr(bookstack_sync.apply.writers, "_apply_page", buggy)


def test_an_internal_error_midway(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = itertools.count(1)
    synced_then_edited_with_a_bug(plugin, bookstack, docs, monkeypatch, lambda _: next(calls) == 3)
    run: Run = plugin.run(concurrency="1")
    assert run.exit_code == 4
    assert "Traceback" in run.err and "RuntimeError: a bug" in run.err
    data = report(docs)
    assert data["exit_status"] == "internal" and "RuntimeError: a bug" in data["error"]
    counts = Counter(statuses(data).values())
    assert counts["updated"] == 2 and counts["not_attempted"] == 3
    assert "internal error" in summary(docs)


def test_a_stop_while_writing_in_parallel_reports_exactly_what_bookstack_took(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, monkeypatch: pytest.MonkeyPatch
) -> None:
    style = docs.key("eng/guide/practice/01-style.md")
    synced_then_edited_with_a_bug(plugin, bookstack, docs, monkeypatch, lambda action: action.key == style)
    assert plugin.run(concurrency="4").exit_code == 4
    pages = statuses(report(docs))
    objects = by_key(bookstack, docs)
    for rel in EDITED:
        key = docs.key(rel)
        written = bookstack.client().read("pages", int(objects[f"page:{key}"]["id"]))["markdown"].endswith("Edited.")
        assert pages[key] == ("updated" if written else "not_attempted"), key
    assert pages[style] == "not_attempted"
