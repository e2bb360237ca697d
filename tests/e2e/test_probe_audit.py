"""The probe with and without BookStack's audit log: the same five requests, and every hand change found.

A token whose role may read the audit log ("Manage app settings" and "Manage users") has the probe read
the newest activities instead of listing shelves; one without has it list shelves and compare the wiki's
layout. Hand changes are made the way BookStack makes them (the fake's ``*_as_human`` helpers), so these
tests need the fake.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.fake_bookstack import FakeBookStack

from .conftest import Docs, Plugin
from .test_import import plugin_for
from .test_noop_probe import HAND_CHANGES, _managed, report, synced
from .test_probe_blind_spots import NO_AUDIT_LOG

pytestmark = pytest.mark.real_bookstack

Setup = Callable[..., tuple[FakeBookStack, Plugin]]


@pytest.fixture
def wiki(fakes: Callable[..., FakeBookStack], docs: Docs, capsys: pytest.CaptureFixture[str]) -> Setup:
    def make(audit_log: bool = True) -> tuple[FakeBookStack, Plugin]:
        fake = fakes() if audit_log else fakes(permissions=NO_AUDIT_LOG)
        return fake, plugin_for(fake, docs, capsys)

    return make


def _paths(fake: FakeBookStack, since: int) -> list[str]:
    return [r.path for r in fake.requests[since:]]


def _record(fake: FakeBookStack) -> str:
    return next(t.value for b in fake.state.books.values() for t in b.tags if t.name == "bookstack-sync-state")


@pytest.mark.parametrize("audit_log", [True, False], ids=["audit log", "no audit log"])
def test_a_no_op_costs_five_requests_with_or_without_the_audit_log(wiki: Setup, docs: Docs, audit_log: bool) -> None:
    fake, plugin = wiki(audit_log)
    synced(plugin)
    assert (";a=" in _record(fake)) is audit_log and (";l=" in _record(fake)) is not audit_log
    start = len(fake.requests)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err, run.err
    assert report(docs)["requests"]["total"] <= 5
    assert "note: without BookStack's audit log" not in run.err  # it sees everything here
    paths = _paths(fake, start)
    # the audit log stands in for the shelves' listing
    assert ("/api/audit-log" in paths) is audit_log and ("/api/shelves" in paths) is not audit_log, paths


@pytest.mark.parametrize("change", list(HAND_CHANGES), ids=list(HAND_CHANGES))
def test_every_hand_change_is_found_and_repaired_without_the_audit_log_too(
    wiki: Setup, docs: Docs, change: str
) -> None:
    fake, plugin = wiki(audit_log=False)
    synced(plugin)
    ids = HAND_CHANGES[change](fake, docs)
    start = len(fake.requests)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    # the record says the token may not read the audit log: asked again once, by a new record, at most
    assert _paths(fake, start).count("/api/audit-log") <= 1
    named = [a for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"]
    assert named, run.err
    if change != "page deleted":  # a deleted page is created again: a new id
        assert any(a["id"] in ids for a in named), named
    assert plugin.run().exit_code == 0
    assert report(docs)["plan"]["actions"] == [] and report(docs)["requests"]["total"] <= 5, run.err


def test_a_permission_change_sends_the_push_to_read_everything_once(wiki: Setup, docs: Docs) -> None:
    """Someone else's page given new permissions: what the token sees may have changed (an object come
    into sight can cancel a deletion in a count), which the audit log says and no listing shows."""
    fake, plugin = wiki()
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    their_page = client.create("pages", {"book_id": theirs["id"], "name": "Theirs", "markdown": "x"})
    synced(plugin)
    fake.set_permissions_as_human("page", int(their_page["id"]), view=True)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert f"reading everything in BookStack: permissions changed on page {their_page['id']}" in run.err, run.err
    assert [a for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"] == []
    run = plugin.run()
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err, run.err
    assert report(docs)["requests"]["total"] <= 5


def test_someone_elses_book_sorted_costs_a_look_not_a_full_read(wiki: Setup, docs: Docs) -> None:
    fake, plugin = wiki()
    client = plugin.target.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    pages = [client.create("pages", {"book_id": theirs["id"], "name": n, "markdown": "x"}) for n in ("A", "B")]
    synced(plugin)
    fake.sort_as_human("page", int(pages[0]["id"]), 9)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "reading everything" not in run.err, run.err
    assert report(docs)["plan"]["actions"] == []
    assert report(docs)["requests"]["total"] <= 6  # the probe, and one read of the sorted book's tags


def test_a_page_of_the_tree_restored_from_the_recycle_bin_is_found(wiki: Setup, docs: Docs) -> None:
    """Deleted by hand, created again by the next push, then its old copy restored: two pages with one
    key. The restore moves the old copy's updated_at, and the audit log names it: the push reads
    everything and keeps one."""
    fake, plugin = wiki()
    synced(plugin)
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    deletion = fake.delete_as_human("page", page.id)
    assert plugin.run().exit_code == 0  # created again
    fake.restore_as_human(deletion)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "reading everything in BookStack: something came back from the recycle bin" in run.err, run.err
    key = docs.key("eng/guide/practice/01-style.md")
    copies = [
        p for p in fake.state.pages.values() if any(t.name == "bookstack-sync" and t.value == key for t in p.tags)
    ]
    assert len(copies) == 1, copies
    assert plugin.run().exit_code == 0 and report(docs)["requests"]["total"] <= 5


def test_a_token_that_loses_the_audit_log_reads_everything_once_then_lists_shelves(wiki: Setup, docs: Docs) -> None:
    fake, plugin = wiki()
    synced(plugin)
    fake.permissions.discard("users-manage")  # an admin takes the permission from the role
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "reading everything in BookStack: the token may no longer read BookStack's audit log" in run.err, run.err
    assert ";a=" not in _record(fake) and ";l=" in _record(fake)
    start = len(fake.requests)
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["total"] <= 5 and "/api/shelves" in _paths(fake, start)


def test_a_busy_wiki_costs_a_request_per_500_activities_and_past_1500_a_full_read(wiki: Setup, docs: Docs) -> None:
    fake, plugin = wiki()
    synced(plugin)
    start = len(fake.requests)
    for _ in range(501):
        fake.login_as_human()
    run = plugin.run()
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err, run.err
    assert report(docs)["requests"]["total"] == 6 and _paths(fake, start).count("/api/audit-log") == 2
    for _ in range(1000):
        fake.login_as_human()
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "more than 1500 activities in BookStack's audit log since the last sync" in run.err, run.err
    assert plugin.run().exit_code == 0 and report(docs)["requests"]["total"] <= 5
