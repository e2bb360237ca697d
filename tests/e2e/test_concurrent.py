"""Two runs at once (two quick pushes, two pipelines) leave one of everything and no pending import.

The fake holds chosen requests (``fake.hold``) so the interleavings that matter happen every time: a ZIP
import whose transaction took the lower ids and has not committed while the other run finishes, a run
that resumes after the other has created everything, a lost answer while the other run's copy exists.
Each test ends when both runs have ended, without a third run fixing anything: no key twice, no pending
import, every page once, and a third run then writes nothing.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bookstack_sync.apply import settle, zipimport
from bookstack_sync.apply.zipbuild import tree_mark
from bookstack_sync.bookstack import PermissionDeniedError
from bookstack_sync.cli import main
from bookstack_sync.plan.routes import version_allows_import
from bookstack_sync.plan.tags import RUN_TAG
from tests.bookstack_target import BookStackTarget
from tests.fake_bookstack import FakeBookStack
from tests.fake_bookstack.holds import Hold

from .conftest import MANAGED_TAG, TREE_TAG, Docs, Plugin, managed_objects
from .test_import import import_docs, plugin_for
from .test_trees import b_tree, team_b

OTHER_TOKEN = ("second-pipeline-token", "second-pipeline-secret")


@pytest.fixture(autouse=True)
def _quick_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settle, "IMPORT_POLL_S", 0.02)
    monkeypatch.setattr(zipimport, "DEADLOCK_PAUSE_S", 0.0)


@dataclass
class Pipeline:
    """One run of the plugin in a thread, with its own report file (and token, on the fake)."""

    name: str
    env: dict[str, str]
    code: list[int] = field(default_factory=list)
    thread: threading.Thread | None = None

    def start(self) -> Pipeline:
        self.thread = threading.Thread(target=lambda: self.code.append(main([], self.env)), name=self.name)
        self.thread.start()
        return self

    def join(self) -> int:
        assert self.thread is not None
        self.thread.join(timeout=120)
        assert not self.thread.is_alive(), f"{self.name} did not end"
        return self.code[0]

    def report(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(Path(self.env["PLUGIN_REPORT"]).read_text(encoding="utf-8"))
        return data


def pipeline(plugin: Plugin, name: str, token: tuple[str, str] | None = None, **settings: str) -> Pipeline:
    root = plugin.docs.root
    env = plugin.environ("push", report=str(root / f"report-{name}.json"), summary="", **settings)
    if token is not None:
        env["PLUGIN_TOKEN_ID"], env["PLUGIN_TOKEN_SECRET"] = token
    return Pipeline(name, env)


def two_fake_pipelines(
    fake: FakeBookStack, docs: Docs, capsys: pytest.CaptureFixture[str], **settings: str
) -> tuple[Plugin, Pipeline, Pipeline]:
    fake.add_token(*OTHER_TOKEN)
    plugin = plugin_for(fake, docs, capsys)
    return plugin, pipeline(plugin, "a", **settings), pipeline(plugin, "b", OTHER_TOKEN, **settings)


def start_b_while_a_is_held(fake: FakeBookStack, a: Pipeline, b: Pipeline, method: str, path: str) -> Hold:
    """Start A, hold it at its first ``method`` request to ``path`` (a regular expression), then start B.
    A goes on when the returned hold is released."""
    held = fake.hold(method, path, token_id=fake.token_id)
    a.start()
    held.wait_arrived()
    b.start()
    return held


def wait_until(condition: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def import_polls(fake: FakeBookStack, token_id: str) -> int:
    return sum(
        1 for r in list(fake.requests) if r.method == "GET" and r.path == "/api/imports" and r.token_id == token_id
    )


def page_keys(docs: Docs) -> set[str]:
    return {p.relative_to(docs.docs_dir).as_posix() for p in docs.docs_dir.rglob("*.md") if "bookstack" not in p.parts}


def assert_one_of_everything(target: BookStackTarget, docs: Docs) -> None:
    """No object twice, every page once, nothing pending."""
    found = Counter(
        (str(hit["type"]), str(tag.get("value")))
        for hit in managed_objects(target, docs.prefix)
        for tag in hit.get("tags", [])
        if tag.get("name") == MANAGED_TAG
    )
    twice = sorted(key for key, count in found.items() if count > 1)
    assert twice == [], f"duplicates left: {twice}"
    assert {key for kind, key in found if kind == "page"} == page_keys(docs)
    names = {item["book"]["name"] for shelf in docs.shelves for item in shelf["shelf"]["books"]} | {
        chapter["chapter"]["name"]
        for shelf in docs.shelves
        for item in shelf["shelf"]["books"]
        for chapter in item["book"].get("chapters", [])
    }
    client = target.client()
    info = client.system()
    pending = []
    # before v25.07 there is no imports API (GET /api/imports is the web 404): nothing can be pending
    if version_allows_import(str(info["version"]) if info else None):
        try:
            pending = [i for i in client.list("imports") if i.get("name") in names]
        except PermissionDeniedError:  # a real BookStack's token without content-import made no imports
            pending = []
    assert pending == [], "imports left pending"


def assert_third_run_writes_nothing(plugin: Plugin) -> None:
    third = pipeline(plugin, "third").start()
    assert third.join() == 0
    written = [o for o in third.report()["outcomes"] if o["status"] not in ("unchanged", "skipped")]
    assert written == []


def assert_settled(plugin: Plugin, docs: Docs) -> None:
    """How every test ends: one of everything in the wiki, and a third run that writes nothing."""
    assert_one_of_everything(plugin.target, docs)
    assert_third_run_writes_nothing(plugin)


def both_succeed(a: Pipeline, b: Pipeline) -> None:
    assert (a.join(), b.join()) == (0, 0), [
        (run.name, run.report().get("error"), [o for o in run.report()["outcomes"] if o["status"] == "failed"])
        for run in (a, b)
    ]


# --- initial syncs -------------------------------------------------------------------------------------


def test_two_initial_syncs_by_import_while_one_import_holds_the_lower_ids(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes()
    plugin, a, b = two_fake_pipelines(fake, docs, capsys)
    # A's first import has begun its transaction: its book, chapters and pages have the lowest ids but
    # are invisible; meanwhile B creates everything and reaches its end
    held = start_b_while_a_is_held(fake, a, b, "POST", r"/api/imports/\d+")
    wait_until(lambda: import_polls(fake, OTHER_TOKEN[0]) >= 2, "B waiting for A's pending import")
    assert b.thread is not None and b.thread.is_alive()
    held.release()
    both_succeed(a, b)
    # each run removed its own losers: B the copy of A's first book, A everything else it made twice
    deleted_by = {run.name: {o["key"] for o in run.report()["outcomes"] if o["status"] == "deleted"} for run in (a, b)}
    assert deleted_by["a"] and deleted_by["b"]
    assert not deleted_by["a"] & deleted_by["b"]
    assert fake.state.imports == {}
    assert_settled(plugin, docs)


@pytest.mark.parametrize("held_at", ["/api/chapters", "/api/pages"])
def test_two_initial_syncs_object_by_object(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str], held_at: str
) -> None:
    """A stops before its first chapter (or page); B reads A's shelves and books, creates the rest and
    ends; then A creates its copies, which lose to B's (higher ids) and go with their containers."""
    fake = fakes()
    plugin, a, b = two_fake_pipelines(fake, docs, capsys, **{"import": "never"})
    held = start_b_while_a_is_held(fake, a, b, "POST", held_at)
    assert b.join() == 0
    held.release()
    assert a.join() == 0
    assert any(o["status"] == "deleted" for o in a.report()["outcomes"])
    assert_settled(plugin, docs)


def test_two_runs_started_together_converge(plugin: Plugin, docs: Docs) -> None:
    """No interleaving forced (so this also runs on a real BookStack): whatever happens, both end well."""
    import_docs(docs)
    a, b = pipeline(plugin, "a"), pipeline(plugin, "b")
    a.start()
    b.start()
    both_succeed(a, b)
    assert_settled(plugin, docs)


def test_a_torn_read_never_takes_the_other_runs_pages_down_with_its_losing_book(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    """B lists the books while A's first import is still running (no book yet), then lists chapters and
    pages after it committed: B sees A's pages in a book it does not know, creates its own book and moves
    A's book-level page into it. That book loses to A's; deleting it must not take A's page along."""
    import_docs(docs)
    fake = fakes()
    plugin, a, b = two_fake_pipelines(fake, docs, capsys)
    held_import = fake.hold("POST", r"/api/imports/\d+", token_id=fake.token_id)
    a.start()
    held_import.wait_arrived()
    held_read = fake.hold("GET", "/api/chapters", token_id=OTHER_TOKEN[0])
    b.start()
    held_read.wait_arrived()
    held_import.release()
    wait_until(
        lambda: any(
            r.method == "POST" and r.path.startswith("/api/imports/") and r.token_id == fake.token_id
            for r in list(fake.requests)
        ),
        "A's first import to commit",
    )
    held_read.release()
    both_succeed(a, b)
    moved_by_b = {o["key"] for o in b.report()["outcomes"] if o["status"] == "moved"}
    assert docs.key("eng/guide/01-overview.md") in moved_by_b  # the torn read happened
    assert_settled(plugin, docs)


# --- incremental syncs ----------------------------------------------------------------------------------


def add_new_pages(docs: Docs) -> None:
    """A new chapter of three pages (one chapter import) and two new pages in existing chapters, one
    linking to a new page of the new chapter."""
    guide = docs.shelves[0]["shelf"]["books"][0]["book"]
    guide["chapters"].append({"chapter": {"name": "Reference", "slug": "reference"}})
    guide["chapters"][0]["chapter"]["pages"].append("03-upgrade")
    docs.write_structure()
    docs.page("eng/guide/reference/01-cli.md", "CLI", "Commands. See [settings](02-settings.md).\n")
    docs.page("eng/guide/reference/02-settings.md", "Settings", "Every setting.\n")
    docs.page("eng/guide/reference/03-api.md", "API", "Endpoints.\n")
    docs.page("eng/guide/start/03-upgrade.md", "Upgrade", "Read the [CLI](../reference/01-cli.md) first.\n")
    docs.page("eng/ops/runbooks/04-drain.md", "Drain", "Drain a node.\n")


def test_two_incremental_syncs_with_new_pages(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes()
    plugin, a, b = two_fake_pipelines(fake, docs, capsys)
    assert pipeline(plugin, "first").start().join() == 0
    add_new_pages(docs)
    held = start_b_while_a_is_held(fake, a, b, "POST", r"/api/imports/\d+")  # A's chapter import: lower ids
    wait_until(lambda: import_polls(fake, OTHER_TOKEN[0]) >= 2, "B waiting for A's pending import")
    held.release()
    both_succeed(a, b)
    assert fake.state.imports == {}
    assert_settled(plugin, docs)


def test_two_incremental_syncs_one_after_the_others_read(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    """A has read and planned; B creates the new pages and ends; A's copies lose to B's."""
    import_docs(docs)
    fake = fakes()
    plugin, a, b = two_fake_pipelines(fake, docs, capsys)
    assert pipeline(plugin, "first").start().join() == 0
    add_new_pages(docs)
    held = start_b_while_a_is_held(fake, a, b, "POST", r"/api/imports")  # A's upload, after its read
    assert b.join() == 0
    held.release()
    assert a.join() == 0
    assert_settled(plugin, docs)


# --- faults ------------------------------------------------------------------------------------------------


def test_a_deadlocked_import_run_is_run_again(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes()
    plugin = plugin_for(fake, docs, capsys)
    fake.faults.deadlock_next(1)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "rolled back by a database deadlock" in run.err
    deadlocked = [r for r in fake.requests if r.fault == "deadlock"]
    assert len(deadlocked) == 1 and deadlocked[0].status == 500
    report = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    assert {o["route"] for o in report["outcomes"] if o["entity"] == "book" and o["status"] == "created"} >= {"import"}
    assert fake.state.imports == {}
    assert_settled(plugin, docs)


def test_an_import_deadlocked_every_time_is_deleted_and_done_object_by_object(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes()
    plugin = plugin_for(fake, docs, capsys)
    fake.faults.deadlock_next(zipimport.DEADLOCK_ATTEMPTS)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "SQLSTATE[40001]" in run.err and "created object by object instead" in run.err
    assert fake.state.imports == {}
    assert_settled(plugin, docs)


def test_stale_imports_are_deleted_only_when_they_are_this_trees(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    import_docs(docs)
    fake = fakes()
    plugin = plugin_for(fake, docs, capsys)
    client = plugin.target.client()
    other = f"{docs.tree}-other"

    def upload(name: str, book: dict[str, Any]) -> int:
        return int(client.upload_import(f"{name}.zip", zip_of({"book": {"name": name, **book}}))["id"])

    def plugin_book(tree: str) -> dict[str, Any]:
        # as the plugin's ZIP builder writes it: the import's details show the id, not the tags' values
        return {"id": tree_mark(tree), "tags": [{"name": MANAGED_TAG, "value": "x"}, {"name": TREE_TAG, "value": tree}]}

    ours = upload("Left", plugin_book(docs.tree))  # a dead run of this tree
    other_tree = upload("Other", plugin_book(other))  # another tree's run (the same token user)
    other_user = upload("Other user", plugin_book(other))  # another tree's, by a user this admin token sees
    fake.state.imports[other_user].created_by = 2
    unmarked = upload("Unmarked", {"id": 1, "tags": [{"name": MANAGED_TAG}]})  # a version before tree marks
    theirs = upload("Theirs", {})  # someone's own pending import
    for record in fake.state.imports.values():  # all an hour old
        record.created_at = record.created_at.replace(year=record.created_at.year - 1)
    busy = upload("Busy", plugin_book(other))  # another tree's run importing right now
    ran = plugin.run()
    assert ran.exit_code == 0, ran.err
    assert set(fake.state.imports) == {other_tree, other_user, unmarked, theirs, busy}
    assert ours not in fake.state.imports
    assert import_polls(fake, fake.token_id) == 1  # another tree's import in flight is not waited for
    warning = next(line for line in ran.err.splitlines() if f"pending import {unmarked} " in line)
    assert "names no docs tree" in warning and "left alone" in warning
    assert f"pending import {other_tree} (Other, " in ran.err and "another docs tree's: left to it" in ran.err


def test_another_trees_import_running_long_is_not_taken_away(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """B (another docs tree, the same token) has uploaded its import and its run is slow; A's sync,
    whose end looks at pending imports, neither deletes it nor waits for it: B's books still come."""
    fake = fakes()
    a = plugin_for(fake, docs, capsys)
    docs_b = team_b(tmp_path / "b", docs.prefix, shelf="team-b", shelf_name=f"Team B {docs.prefix}",
                    book_names=(f"B One {docs.prefix}",))  # fmt: skip
    b = pipeline(Plugin(a.target, docs_b, capsys), "b", tree=b_tree(docs))
    held = fake.hold("POST", r"/api/imports/\d+")
    b.start()
    held.wait_arrived()
    [pending] = fake.state.imports.values()
    pending.created_at = pending.created_at.replace(year=pending.created_at.year - 1)
    ran = a.run()
    assert ran.exit_code == 0, ran.err
    assert pending.id in fake.state.imports
    held.release()
    assert b.join() == 0, b.report().get("error")
    assert fake.state.imports == {}
    created = sorted(o["key"] for o in b.report()["outcomes"] if o["status"] == "created" and o["entity"] == "page")
    assert [key.partition("/")[2] for key in created] == ["b1/notes/01-first.md", "b1/notes/02-second.md"]


def zip_of(document: dict[str, Any]) -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.json", json.dumps(document))
    return buffer.getvalue()


@pytest.mark.parametrize(("import_setting", "lost"), [("auto", "/api/imports/"), ("never", "/api/books")])
def test_a_lost_answer_never_takes_the_other_runs_object_for_its_own(
    docs: Docs,
    fakes: Callable[..., FakeBookStack],
    capsys: pytest.CaptureFixture[str],
    import_setting: str,
    lost: str,
) -> None:
    """A's create of a book loses its answer before anything happened, while B's book of the same key
    exists: A must not take B's book for its own (it creates its own, which then loses to B's). A writes
    one thing at a time, so that its other books wait behind the held one."""
    import_docs(docs)
    fake = fakes()
    plugin, a, b = two_fake_pipelines(fake, docs, capsys, **{"import": import_setting, "concurrency": "1"})
    first_write = "/api/imports" if import_setting == "auto" else "/api/books"
    held = start_b_while_a_is_held(fake, a, b, "POST", first_write)
    assert b.join() == 0
    others = {
        str(tag["value"]): int(hit["id"])
        for hit in managed_objects(plugin.target, docs.prefix)
        if hit["type"] == "book"
        for tag in hit["tags"]
        if tag["name"] == MANAGED_TAG
    }
    fake.faults.drop_next(methods="POST", path_prefix=lost)  # A's first import run or book create: not done
    held.release()
    assert a.join() == 0, a.report().get("error")
    created = {o["key"]: o["id"] for o in a.report()["outcomes"] if o["entity"] == "book" and o["status"] == "created"}
    assert created and all(created[key] != others[key] for key in created)
    assert not any("not found afterwards" in str(o.get("detail")) for o in a.report()["outcomes"])
    assert fake.state.imports == {}
    assert all(
        any(t.name == RUN_TAG for t in book.tags) for book in fake.state.books.values()
    )  # every copy says which run made it
    assert_settled(plugin, docs)


# --- cost ---------------------------------------------------------------------------------------------------


def test_the_check_costs_two_reads_for_a_new_page_and_nothing_for_a_run_that_creates_nothing(
    docs: Docs,
    fakes: Callable[..., FakeBookStack],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Against the same runs without the end-of-run check: one imports listing and one tag search of
    the book for a new page, no request at all for a run that creates nothing, never a page read."""
    import_docs(docs)
    counts: dict[bool, list[int]] = {}
    for checked in (True, False):
        fake = fakes()
        plugin = plugin_for(fake, docs, capsys)
        if not checked:
            monkeypatch.setattr("bookstack_sync.commands.sync.settle", lambda *args, **kwargs: None)
        assert plugin.run().exit_code == 0
        docs.page("eng/ops/runbooks/04-drain.md", "Drain", "Drain a node.\n")
        counts[checked] = []
        for _ in ("new page", "nothing new"):
            fake.requests.clear()
            assert plugin.run().exit_code == 0
            counts[checked].append(len(fake.requests))
            assert not any(r.method == "GET" and r.path.startswith("/api/pages/") for r in fake.requests)
        docs.path("eng/ops/runbooks/04-drain.md").unlink()
    assert [a - b for a, b in zip(counts[True], counts[False], strict=True)] == [2, 0]
