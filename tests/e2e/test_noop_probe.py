"""A push that changes nothing costs five requests; every change a person makes in BookStack is still found.

The hand changes are made the way BookStack makes them (the fake's ``*_as_human`` helpers: another
user, BookStack's ``updated_at``, revision and recycle-bin behaviour), so these tests need the fake.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from typing import Any

import pytest

from tests.bookstack_target import BookStackTarget
from tests.fake_bookstack import FakeBookStack

from .conftest import MANAGED_TAG, Docs, Plugin, Run

pytestmark = pytest.mark.real_bookstack


def report(docs: Docs) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    return data


def synced(plugin: Plugin) -> None:
    """A first sync and the one after it: the wiki as the plugin leaves it, with its record."""
    for _ in range(2):
        run = plugin.run()
        assert run.exit_code == 0, run.err


def test_a_push_that_changes_nothing_costs_five_requests_and_no_write(plugin: Plugin, docs: Docs) -> None:
    synced(plugin)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    requests = report(docs)["requests"]
    assert requests["total"] <= 5 and requests["writes"] == 0, requests
    assert report(docs)["plan"]["actions"] == []
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err
    # and it stays so
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["total"] <= 5


def test_an_edited_file_is_synced_and_the_next_push_is_cheap_again(plugin: Plugin, docs: Docs) -> None:
    synced(plugin)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly, and briefly.\n")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "reading everything in BookStack: the docs changed since the last sync" in run.err
    written = [o for o in report(docs)["outcomes"] if o["status"] == "updated"]
    assert [o["key"] for o in written] == [docs.key("eng/guide/practice/01-style.md")]
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["total"] <= 5


def _fake(bookstack: BookStackTarget) -> FakeBookStack:
    if bookstack.fake is None:
        pytest.skip("a person's changes are made through the fake")
    fake: FakeBookStack = bookstack.fake
    return fake


def _managed(fake: FakeBookStack, kind: str, key: str) -> Any:
    table = {"shelf": fake.state.shelves, "book": fake.state.books, "chapter": fake.state.chapters}.get(
        kind, fake.state.pages
    )
    return next(item for item in table.values() if any(t.name == MANAGED_TAG and t.value == key for t in item.tags))


Change = Callable[[FakeBookStack, Docs], set[int]]


def _edit(fake: FakeBookStack, docs: Docs) -> set[int]:
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.edit_page_as_human(page.id, markdown="A person's text")
    return {page.id}


def _tags(fake: FakeBookStack, docs: Docs) -> set[int]:
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.change_as_human("page", page.id, tags=[(t.name, t.value) for t in page.tags] + [("topic", "hand")])
    return {page.id}


def _revision(fake: FakeBookStack, docs: Docs) -> set[int]:
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.restore_revision_as_human(page.id, "An older text")
    return {page.id}


def _to_chapter(fake: FakeBookStack, docs: Docs) -> set[int]:
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.change_as_human("page", page.id, chapter_id=_managed(fake, "chapter", docs.key("eng/guide/start")).id)
    return {page.id}


def _to_book(fake: FakeBookStack, docs: Docs) -> set[int]:
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.change_as_human("page", page.id, book_id=_managed(fake, "book", docs.key("eng/ops")).id)
    return {page.id}


def _rename(kind: str, rel: str) -> Change:
    def change(fake: FakeBookStack, docs: Docs) -> set[int]:
        item = _managed(fake, kind, docs.key(rel))
        fake.change_as_human(kind, item.id, name=item.name + " (by hand)")
        return {item.id}

    return change


def _off_shelf(fake: FakeBookStack, docs: Docs) -> set[int]:
    shelf = _managed(fake, "shelf", docs.slug("eng"))
    book = _managed(fake, "book", docs.key("eng/ops"))
    fake.change_as_human("shelf", shelf.id, books=[b for b in shelf.book_ids if b != book.id])
    return {shelf.id}


def _delete(fake: FakeBookStack, docs: Docs) -> set[int]:
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    fake.delete_as_human("page", page.id)
    return {page.id}


HAND_CHANGES: dict[str, Change] = {
    "page edited": _edit,
    "tags changed": _tags,
    "revision restored": _revision,
    "page moved to another chapter": _to_chapter,
    "page moved to another book": _to_book,
    "page renamed": _rename("page", "eng/guide/practice/01-style.md"),
    "chapter renamed": _rename("chapter", "eng/guide/practice"),
    "book renamed": _rename("book", "eng/guide"),
    "book taken off its shelf": _off_shelf,
    "page deleted": _delete,
}


@pytest.mark.parametrize("change", list(HAND_CHANGES), ids=list(HAND_CHANGES))
def test_every_hand_change_is_found_named_and_repaired(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, change: str
) -> None:
    fake = _fake(bookstack)
    synced(plugin)
    ids = HAND_CHANGES[change](fake, docs)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    # a page is put back alone; anything else reads everything; either way the log says why
    assert "reading everything in BookStack:" in run.err or "pages changed in BookStack: " in run.err, run.err
    actions = report(docs)["plan"]["actions"]
    named = [a for a in actions if a["kind"] != "unchanged"]
    assert named, actions
    if change != "page deleted":  # a deleted page is created again: a new id
        assert any(a["id"] in ids for a in named), named
    # repaired (on_drift: overwrite), and the wiki is cheap to check again
    assert plugin.run().exit_code == 0
    assert report(docs)["plan"]["actions"] == [] or report(docs)["requests"]["writes"] <= 1


REPAIRS = {
    "page edited": "with page",
    "tags changed": "with page",
    "page renamed": "with page",
    "page moved to another chapter": "with page",
    "chapter renamed": "on book",
    "book renamed": "on book",
    "book taken off its shelf": "on book",
}


@pytest.mark.parametrize("change", list(REPAIRS))
def test_a_repair_after_a_hand_change_is_recorded_without_listing_again_and_the_next_push_is_a_no_op(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, change: str
) -> None:
    fake = _fake(bookstack)
    synced(plugin)
    HAND_CHANGES[change](fake, docs)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    # a page repaired carries the record; else the record names the repair: no listings after the run
    assert f"sync record written {REPAIRS[change]}" in run.err, run.err
    requests = report(docs)["requests"]
    assert requests["writes"] == (1 if REPAIRS[change] == "with page" else 2), requests
    run = plugin.run()
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err, run.err
    assert report(docs)["requests"]["total"] <= 5


@pytest.mark.parametrize("change", ["page edited", "tags changed", "page moved to another book", "page renamed"])
def test_a_page_changed_by_hand_is_put_back_without_reading_everything(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, change: str
) -> None:
    fake = _fake(bookstack)
    synced(plugin)
    ids = HAND_CHANGES[change](fake, docs)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "pages changed in BookStack: " + docs.key("eng/guide/practice/01-style.md") in run.err, run.err
    data = report(docs)
    assert [a["id"] for a in data["plan"]["actions"]] == sorted(ids)
    # the probe, a read of the page's tags, one search for the ids its write needs, the write
    assert data["requests"]["total"] <= 8 and data["requests"]["writes"] == 1, data["requests"]
    nothing_left_to_do(plugin, docs)


def test_a_page_restored_from_the_recycle_bin_is_found(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    fake = _fake(bookstack)
    synced(plugin)
    page = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))
    deletion = fake.delete_as_human("page", page.id)
    assert plugin.run().exit_code == 0  # created again
    synced(plugin)
    fake.restore_as_human(deletion)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    said = ("something was deleted or restored", "changed in BookStack", "came back from the recycle bin")
    assert any(reason in run.err for reason in said), run.err
    named = [a for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"]
    assert any(a["id"] == page.id or a["key"] == docs.key("eng/guide/practice/01-style.md") for a in named), named
    # the run deleted one of the two copies; its record counts what is left: the next push is a no-op
    run = plugin.run()
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err, run.err
    assert report(docs)["requests"]["total"] <= 5


def test_after_a_prune_of_a_chapter_and_its_pages_the_next_push_is_a_no_op(plugin: Plugin, docs: Docs) -> None:
    synced(plugin)
    for rel in ("eng/guide/practice/01-style.md", "eng/guide/practice/02-review.md"):
        docs.path(rel).unlink()
    chapters = docs.shelves[0]["shelf"]["books"][0]["book"]["chapters"]
    chapters[:] = [c for c in chapters if c["chapter"]["slug"] != "practice"]
    docs.write_structure()
    run = plugin.run(prune="true", prune_limit="50")
    assert run.exit_code == 0, run.err
    assert sum(o["status"] == "deleted" for o in report(docs)["outcomes"]) >= 1
    run = plugin.run(prune="true", prune_limit="50")
    assert "nothing changed in the docs or in BookStack since the last sync" in run.err, run.err
    assert report(docs)["requests"]["total"] <= 5


@pytest.mark.parametrize(("on_drift", "code", "kind"), [("skip", 0, "drift"), ("fail", 3, "drift")])
def test_a_hand_edit_is_handled_as_on_drift_says_and_seen_again_while_it_stays(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, on_drift: str, code: int, kind: str
) -> None:
    fake = _fake(bookstack)
    synced(plugin)
    edited = _edit(fake, docs)
    for _ in range(2):  # left alone, it is named again by the next run too
        run = plugin.run(on_drift=on_drift)
        assert run.exit_code == code, run.err
        drift = [a for a in report(docs)["plan"]["actions"] if a["kind"] == kind]
        assert [a["id"] for a in drift] == sorted(edited)


def test_where_the_probe_cannot_be_sure_everything_is_read_and_the_log_says_why(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    fake = _fake(bookstack)
    client = bookstack.client()
    stranger = client.create("books", {"name": "Someone else's"})  # counted by the sync's record
    run = plugin.run()
    assert "reading everything in BookStack: no record of a last sync" in run.err
    synced(plugin)
    fake.set_server_clock(-3600)  # the server's clock moved back an hour
    run = plugin.run()
    assert "BookStack's clock is behind the last sync's" in run.err, run.err
    fake.set_server_clock(0)
    synced(plugin)
    # someone else's book deleted: no updated_at shows it, the count does
    client.delete("books", int(stranger["id"]))
    run = plugin.run()
    assert "something was deleted or restored" in run.err, run.err
    # that run wrote nothing of the tree but recorded the new count: the next push is cheap again
    assert [o for o in report(docs)["outcomes"] if o["status"] not in ("unchanged", "skipped")] == []
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["total"] <= 5, run.err
    run = plugin.run("manual")
    assert "reading everything in BookStack: a full resync reads everything" in run.err


def test_a_record_the_token_may_not_write_leaves_the_run_as_it_was(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    """The record only saves requests: when BookStack refuses it (the token's role may no longer update
    books), a run that had nothing else to write still ends well, and says what it costs."""
    fake = _fake(bookstack)
    client = bookstack.client()
    stranger = client.create("books", {"name": "Someone else's"})
    synced(plugin)
    client.delete("books", int(stranger["id"]))  # the count is off: the next push reads everything
    fake.permissions.discard("book-update-all")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "no sync record written: BookStack refused the update of book" in run.err, run.err
    assert "the next run reads everything" in run.err


def test_someone_elses_change_elsewhere_in_the_wiki_costs_a_look_not_a_full_read(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    fake = _fake(bookstack)
    client = bookstack.client()
    theirs = client.create("books", {"name": "Someone else's book"})
    synced(plugin)
    fake.change_as_human("book", int(theirs["id"]), name="Someone else's book, renamed")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert report(docs)["plan"]["actions"] == []
    assert report(docs)["requests"]["total"] <= 6  # the probe, and one read of the changed book's tags


def nothing_left_to_do(plugin: Plugin, docs: Docs, *, next_push: bool = True) -> None:
    """BookStack holds what a full sync leaves: the next push costs the probe alone (``next_push``), and
    a full resync writes nothing."""
    if next_push:
        assert plugin.run().exit_code == 0
        assert report(docs)["requests"]["total"] <= 5
    assert plugin.run("manual").exit_code == 0
    assert [o for o in report(docs)["outcomes"] if o["status"] not in ("unchanged", "skipped")] == []


def written_alone(run: Run, docs: Docs, *, writes: int = 1, most: int = 7) -> dict[str, Any]:
    """The run wrote the edited pages without reading everything: it ended well, in at most ``most``
    requests and ``writes`` writes. Its report."""
    assert run.exit_code == 0, run.err
    data = report(docs)
    assert data["requests"]["total"] <= most and data["requests"]["writes"] == writes, (data["requests"], run.err)
    return data


def _git(docs: Docs, *args: str) -> None:
    env = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@e", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@e"}
    subprocess.run(["git", *args], cwd=docs.root, env={**env, "HOME": str(docs.root), "PATH": "/usr/bin:/bin"},
                   check=True, capture_output=True)  # fmt: skip


def _committed(docs: Docs, message: str) -> None:
    _git(docs, "add", "-A")
    _git(docs, "commit", "-qm", message)


@pytest.fixture
def in_git(docs: Docs) -> Docs:
    """The docs in a git repository, committed: git can say which files changed since a sync."""
    _git(docs, "init", "-q")
    _committed(docs, "docs")
    return docs


def test_one_page_edited_in_git_costs_seven_requests_and_one_write(
    plugin: Plugin, bookstack: BookStackTarget, in_git: Docs
) -> None:
    docs = in_git
    synced(plugin)
    # a page with a link to another page (its id comes from the same search)
    docs.page("eng/guide/start/01-install.md", "Install", "Run `make`, then [configure](02-configure.md#options).\n")
    _committed(docs, "edit")
    run = plugin.run()
    data = written_alone(run, docs)
    assert "one page changed in git: " + docs.key("eng/guide/start/01-install.md") in run.err
    assert [(o["key"], o["status"]) for o in data["outcomes"]] == [
        (docs.key("eng/guide/start/01-install.md"), "updated")
    ]
    info = bookstack.client().system()
    app_url = str(info["base_url"]).rstrip("/") if info else bookstack.url
    assert str(data["outcomes"][0]["url"]).startswith(app_url + "/")  # BookStack's own address, from the search
    install = bookstack.client().read("pages", int(data["outcomes"][0]["id"]))
    configure = _managed_hit(bookstack, docs, "eng/guide/start/02-configure.md")
    assert f"/link/{configure}#bkmrk-options" in install["markdown"]
    # nothing left to do: a full resync agrees, and the next push is five requests again
    nothing_left_to_do(plugin, docs)


def test_the_edited_page_carrying_the_record_is_still_watched(
    plugin: Plugin, bookstack: BookStackTarget, in_git: Docs
) -> None:
    fake = _fake(bookstack)
    docs = in_git
    synced(plugin)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly, and briefly.\n")
    _committed(docs, "edit")
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["writes"] == 1
    _edit(fake, docs)  # a person edits the page that now carries the record
    run = plugin.run()
    assert "pages changed in BookStack: " in run.err, run.err
    assert any(a["kind"] != "unchanged" for a in report(docs)["plan"]["actions"])


def test_an_edit_that_moves_more_than_the_text_is_read_in_full(plugin: Plugin, in_git: Docs) -> None:
    docs = in_git
    synced(plugin)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly.\n", order=5)
    _committed(docs, "reorder")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "01-style.md, its order" in run.err
    for rel in ("eng/guide/practice/02-review.md", "eng/guide/start/02-configure.md", "eng/ops/runbooks/01-restart.md"):
        docs.page(rel, "Edited", "Edited.\n")
    docs.page("eng/guide/practice/01-style.md", "Style", "Write.\n", order=5)
    _committed(docs, "four pages")
    run = plugin.run()
    assert "the docs changed since the last sync (4 files)" in run.err, run.err


def test_a_few_edited_pages_cost_one_write_each_and_the_next_push_is_cheap_again(
    plugin: Plugin, bookstack: BookStackTarget, in_git: Docs
) -> None:
    docs = in_git
    synced(plugin)
    edited = [
        "eng/guide/practice/01-style.md",
        "eng/ops/runbooks/01-restart.md",
        "team/handbook/onboarding/01-welcome.md",
    ]
    docs.page(edited[0], "Style", "Write clearly. Read [the restart](../../ops/runbooks/01-restart.md).\n")
    docs.page(edited[1], "Restart, again", "1. Stop\n2. Wait\n3. Start\n")
    docs.page(edited[2], "Welcome", "Hello, and welcome aboard.\n")
    _committed(docs, "three pages")
    run = plugin.run()
    # the probe, at most one search per page (pages of different shelves are far apart), one write each
    data = written_alone(run, docs, writes=3, most=5 + 3 + 3)
    assert "pages changed in git: " + ", ".join(docs.key(rel) for rel in edited) in run.err, run.err
    assert sorted((o["key"], o["status"]) for o in data["outcomes"]) == [(docs.key(rel), "updated") for rel in edited]
    assert {"read", "apply"} <= set(data["timings"])
    style = bookstack.client().read("pages", _managed_hit(bookstack, docs, edited[0]))
    assert f"/link/{_managed_hit(bookstack, docs, edited[1])})" in style["markdown"]
    # the record vouches for all three writes: nothing to read next time, and a full resync agrees
    nothing_left_to_do(plugin, docs)


def test_a_hand_edit_of_a_page_a_few_page_run_wrote_is_found(
    plugin: Plugin, bookstack: BookStackTarget, in_git: Docs
) -> None:
    fake = _fake(bookstack)
    docs = in_git
    synced(plugin)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly, and briefly.\n")
    docs.page("eng/guide/practice/02-review.md", "Review", "Review kindly, and soon.\n")
    _committed(docs, "two pages")
    assert plugin.run().exit_code == 0
    assert report(docs)["requests"]["writes"] == 2
    style = _managed(fake, "page", docs.key("eng/guide/practice/01-style.md"))  # written first: not the carrier
    fake.edit_page_as_human(style.id, markdown=style.markdown + "\n\nA person's line.")
    run = plugin.run()
    assert "pages changed in BookStack: " in run.err, run.err
    assert [a["key"] for a in report(docs)["plan"]["actions"] if a["kind"] != "unchanged"] == [
        docs.key("eng/guide/practice/01-style.md")
    ]


def test_an_edited_page_linking_to_a_chapter_and_a_book_is_written_without_a_full_read(
    plugin: Plugin, bookstack: BookStackTarget, in_git: Docs
) -> None:
    docs = in_git
    synced(plugin)
    rel = "eng/guide/start/01-install.md"
    docs.page(rel, "Install", "See [the practice](../practice/), [the guide](../) and [the ops book](../../ops/).\n")
    _committed(docs, "folder links")
    run = plugin.run()
    written_alone(run, docs)
    assert "one page changed in git: " + docs.key(rel) in run.err, run.err
    install = bookstack.client().read("pages", _managed_hit(bookstack, docs, rel))
    guide = bookstack.client().read("books", _managed_hit(bookstack, docs, "eng/guide"))
    assert (
        f"/books/{guide['slug']}/chapter/" in install["markdown"] and f"/books/{guide['slug']})" in install["markdown"]
    )
    # what a full resync would write: nothing differs
    nothing_left_to_do(plugin, docs, next_push=False)


def test_a_pull_request_plan_of_one_edited_page_reads_only_that_page(plugin: Plugin, in_git: Docs) -> None:
    docs = in_git
    synced(plugin)
    docs.page("eng/guide/practice/01-style.md", "Style", "Write clearly, in a pull request.\n")
    run = plugin.run("pull_request")
    assert run.exit_code == 0, run.err
    data = report(docs)
    assert [(a["key"], a["kind"]) for a in data["plan"]["actions"]] == [
        (docs.key("eng/guide/practice/01-style.md"), "update")
    ]
    assert data["requests"]["total"] <= 6 and data["requests"]["writes"] == 0


def _managed_hit(bookstack: BookStackTarget, docs: Docs, rel: str) -> int:
    for hit in bookstack.client().search(f"[{MANAGED_TAG}={docs.key(rel)}]"):
        return int(hit["id"])
    raise AssertionError(rel)


def test_an_edited_heading_another_page_links_to_rewrites_that_page_too(plugin: Plugin, in_git: Docs) -> None:
    docs = in_git
    docs.page("eng/guide/start/01-install.md", "Install", "Run `make`. Then [configure](02-configure.md#ärger).\n")
    docs.page("eng/guide/start/02-configure.md", "Configure", "## Ärger\n\nSet things.\n")
    _committed(docs, "a heading with a capital umlaut")
    synced(plugin)
    # the same heading to git's eyes (the link still matches), another heading id in BookStack (case kept)
    docs.page("eng/guide/start/02-configure.md", "Configure", "## ärger\n\nSet things.\n")
    _committed(docs, "its case")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "02-configure.md, its headings, which " + docs.key("eng/guide/start/01-install.md") in run.err, run.err
    written = sorted(o["key"] for o in report(docs)["outcomes"] if o["status"] == "updated")
    assert written == [docs.key("eng/guide/start/01-install.md"), docs.key("eng/guide/start/02-configure.md")]
    nothing_left_to_do(plugin, docs, next_push=False)


def test_a_retitled_page_another_page_redirects_to_rewrites_that_page_too(plugin: Plugin, in_git: Docs) -> None:
    docs = in_git
    docs.page("eng/guide/practice/02-review.md", "Review", "Moved.\n", redirect_to="01-style.md")
    _committed(docs, "a redirect")
    synced(plugin)
    docs.page("eng/guide/practice/01-style.md", "Writing style", "Write clearly.\n")
    _committed(docs, "a new title")
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "01-style.md, its title, which " + docs.key("eng/guide/practice/02-review.md") in run.err, run.err
    nothing_left_to_do(plugin, docs, next_push=False)
