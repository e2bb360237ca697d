"""Restructures keep every BookStack id and leave nothing behind, with git history and without.

Each scenario syncs the standard tree, restructures it as a person would (``restructure``), shows the
plan a pull request would get, syncs again, and checks every id: what continues under a new key keeps
its object, everything else is untouched, nothing else exists, and every object sits where the docs
say. Without history (a plain folder) the planner pairs by name, title and content instead of git.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import MANAGED_TAG, Docs, Plugin, managed_objects
from .restructure import GIT_ONLY, LONG_RESTART, SCENARIOS, Expected, Workspace, git

pytestmark = pytest.mark.real_bookstack


# The writes each restructure of the standard tree costs (ids left out).
WRITES = {
    "insert-and-renumber": ["POST /api/pages", "PUT /api/pages/", "PUT /api/pages/"],
    "move-renumber-and-edit": ["PUT /api/pages/"],
    "rename-and-retitle": ["PUT /api/pages/"],
    "rename-chapter": ["PUT /api/chapters/", "PUT /api/pages/", "PUT /api/pages/"],
    "chapter-to-another-book": ["PUT /api/chapters/", "PUT /api/pages/"],
    "rename-book": ["PUT /api/books/", "PUT /api/chapters/", "PUT /api/pages/"],
    "book-to-another-shelf": [
        "PUT /api/books/",
        "PUT /api/shelves/",
        "PUT /api/shelves/",
        "PUT /api/chapters/",
        "PUT /api/pages/",
    ],
    "rename-retitle-and-rewrite": ["PUT /api/pages/"],
    "rename-shelf": ["PUT /api/shelves/", "PUT /api/books/", "PUT /api/chapters/", "PUT /api/pages/"],
    # the same writes when the name changes too
    "rename-chapter-and-its-name": ["PUT /api/chapters/", "PUT /api/pages/", "PUT /api/pages/"],
    "rename-book-and-its-name": ["PUT /api/books/", "PUT /api/chapters/", "PUT /api/pages/"],
    "rename-shelf-and-its-name": ["PUT /api/shelves/", "PUT /api/books/", "PUT /api/chapters/", "PUT /api/pages/"],
    "shelf-removed-and-its-book-moved": [
        "PUT /api/books/",
        "PUT /api/shelves/",
        "PUT /api/shelves/",
        "PUT /api/chapters/",
        "PUT /api/pages/",
    ],
}


def ids(target: BookStackTarget, docs: Docs) -> dict[str, int]:
    """``<type>:<key>`` -> id of every object this run's tree manages."""
    found: dict[str, int] = {}
    for hit in managed_objects(target, docs.prefix):
        key = next(t["value"] for t in hit["tags"] if t["name"] == MANAGED_TAG)
        typed = f"{hit['type']}:{key}"
        assert typed not in found, f"two objects carry {typed}"
        found[typed] = int(hit["id"])
    return found


def assert_in_place(target: BookStackTarget, now: dict[str, int]) -> None:
    """Every chapter in its book, every page in its chapter or book, every shelf listing its books."""
    client = target.client()
    for typed, obj_id in now.items():
        kind, _, key = typed.partition(":")
        parent = key.rpartition("/")[0]
        if kind == "chapter":
            assert client.read("chapters", obj_id)["book_id"] == now[f"book:{parent}"], typed
        elif kind == "page":
            page = client.read("pages", obj_id)
            # links between pages still point at pages that exist (by id) and none is left relative
            pages = {v for k, v in now.items() if k.startswith("page:")}
            assert {int(n) for n in re.findall(r"/link/(\d+)", page["markdown"])} <= pages, typed
            assert ".md)" not in page["markdown"] and ".md#" not in page["markdown"], typed
            if f"chapter:{parent}" in now:
                assert page["chapter_id"] == now[f"chapter:{parent}"], typed
            else:
                assert page["book_id"] == now[f"book:{parent}"] and not page.get("chapter_id"), typed
        elif kind == "bookshelf":
            listed = [int(b["id"]) for b in client.read("shelves", obj_id)["books"]]
            books = {v for k, v in now.items() if k.startswith(f"book:{key}/")}
            assert set(listed) == books, typed


def plan_of(docs: Docs) -> dict[str, Any]:
    """The plan of the last run, as its report gives it (``actions``, ``notes``)."""
    report = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    plan: dict[str, Any] = report["plan"]
    return plan


def plan_actions(docs: Docs) -> list[dict[str, Any]]:
    actions: list[dict[str, Any]] = plan_of(docs)["actions"]
    return actions


def restructure(
    plugin: Plugin, bookstack: BookStackTarget, ws: Workspace, name: str, **settings: str
) -> tuple[dict[str, int], Expected]:
    """Sync the tree, then restructure it (committed): the ids before, and what the restructure expects."""
    first = plugin.run(**settings)
    assert first.exit_code == 0, first.err
    before = ids(bookstack, ws.docs)
    scenario = SCENARIOS[name] if name in SCENARIOS else GIT_ONLY[name]
    return before, scenario(ws, list(before))


def restructure_and_check(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, ws: Workspace, name: str, **settings: str
) -> dict[str, Any]:
    before, expected = restructure(plugin, bookstack, ws, name, **settings)
    return check_restructure(plugin, bookstack, docs, before, expected, WRITES[name], **settings)


def check_restructure(
    plugin: Plugin,
    bookstack: BookStackTarget,
    docs: Docs,
    before: dict[str, int],
    expected: Expected,
    writes_expected: list[str],
    **settings: str,
) -> dict[str, Any]:
    """Plan (as a pull request), sync and sync again: every id as ``expected`` says, nothing left behind,
    the sync converged. Returns the pull request's plan (``actions``, ``notes``)."""
    planned = plugin.run(event="pull_request", **settings)
    assert planned.exit_code == 0, planned.err
    plan = plan_of(docs)
    actions: list[dict[str, Any]] = plan["actions"]
    continuing = {new.partition(":")[2] for new in expected.continues.values()}
    for action in actions:
        typed = f"{action['entity'].replace('shelf', 'bookshelf')}:{action['key']}"
        assert action["kind"] not in ("orphan", "delete") or typed in expected.orphaned, action
        if action["key"] in continuing:
            assert action["kind"] in ("move", "update", "reorder", "unchanged"), action
    for old, new in expected.continues.items():
        if old.startswith("page:"):
            action = next(a for a in actions if f"page:{a['key']}" == new)
            assert action["kind"] == "move" and old.partition(":")[2] in action["detail"], action
            line = next(line for line in planned.err.splitlines() if f"move page {new.partition(':')[2]}" in line)
            assert f"{old.partition(':')[2]} → {new.partition(':')[2]}" in line
    assert sorted(
        f"{a['entity'].replace('shelf', 'bookshelf')}:{a['key']}" for a in actions if a["kind"] == "create"
    ) == sorted(expected.created)

    if bookstack.fake is not None:
        bookstack.fake.requests.clear()
    synced = plugin.run(**settings)
    assert synced.exit_code == 0, synced.err
    if bookstack.fake is not None:
        # one write per object whose key or place changed, one create per new object, no delete, no read per page
        writes = sorted(f"{r.method} {r.path.rstrip('0123456789')}" for r in bookstack.fake.content_writes())
        assert writes == sorted(writes_expected), writes
        page_reads = [r.path for r in bookstack.fake.requests if r.method == "GET" and r.path.startswith("/api/pages/")]
        assert page_reads == []
    after = ids(bookstack, docs)
    for old, new in expected.continues.items():
        assert after.get(new) == before[old], f"{old} -> {new}: id {before[old]} became {after.get(new)}"
    untouched = {typed: obj_id for typed, obj_id in before.items() if typed not in expected.continues}
    for typed, obj_id in untouched.items():
        assert after.get(typed) == obj_id, typed
    # nothing left behind: exactly the continued, untouched and created objects exist
    assert set(after) == set(untouched) | set(expected.continues.values()) | expected.created
    assert_in_place(bookstack, after)

    again = plugin.run(**settings)
    assert again.exit_code == 0, again.err
    assert {a["kind"] for a in plan_actions(docs)} <= {"unchanged", "orphan"}, again.err  # converged
    return plan


@pytest.mark.parametrize("tracked", [True, False], ids=["git", "no-history"])
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_a_restructure_keeps_every_id_and_leaves_nothing_behind(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, name: str, tracked: bool
) -> None:
    ws = Workspace(docs, tracked)
    ws.start()
    restructure_and_check(plugin, bookstack, docs, ws, name)


def test_git_follows_a_file_renamed_retitled_and_edited(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    """Nothing but git's rename similarity says this is the same page: history is really used."""
    ws = Workspace(docs, tracked=True)
    docs.page("eng/ops/runbooks/01-restart.md", "Restart", LONG_RESTART)
    ws.start()
    restructure_and_check(plugin, bookstack, docs, ws, "rename-retitle-and-rewrite")


def shallow_clone(docs: Docs, tmp_path_factory: pytest.TempPathFactory) -> Docs:
    """A depth-1 clone of ``docs`` (Woodpecker's default): it holds the last commit only."""
    clone = tmp_path_factory.mktemp("shallow") / "repo"
    git(docs, "clone", "-q", "--depth", "1", f"file://{docs.root}", str(clone))
    assert git(docs, "-C", str(clone), "rev-parse", "--is-shallow-repository") == "true"
    return Docs(clone, docs.prefix, docs.shelves)


def test_a_shallow_clone_falls_back_to_pairing(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """The commit the pages were written from is not in a depth-1 clone: pairing by name still holds."""
    ws = Workspace(docs, tracked=True)
    ws.start()
    before, expected = restructure(plugin, bookstack, ws, "insert-and-renumber")
    plugin.docs = shallow_clone(docs, tmp_path_factory)
    run = plugin.run()
    assert run.exit_code == 0, run.err
    assert "not in this checkout (a shallow clone" in run.out + run.err
    after = ids(bookstack, docs)
    for old, new in expected.continues.items():
        assert after[new] == before[old]
    assert set(after) == (set(before) - set(expected.continues)) | set(expected.continues.values()) | expected.created


@pytest.mark.parametrize("name", ["rename-chapter", "book-to-another-shelf"])
def test_with_prune_a_restructure_deletes_nothing(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, name: str
) -> None:
    """Pruning removes what is really gone; an object that moved is not gone."""
    ws = Workspace(docs, tracked=False)
    ws.start()
    restructure_and_check(plugin, bookstack, docs, ws, name, prune="true")


# The container each git-only restructure renames in slug and name at once (its type as the plan names it).
RENAMED = {
    "rename-chapter-and-its-name": ("chapter", "eng/guide/practice", "eng/guide/coding-practices"),
    "rename-book-and-its-name": ("book", "eng/ops", "eng/site-reliability"),
    "rename-shelf-and-its-name": ("shelf", "team", "people"),
}


@pytest.mark.parametrize("name", list(RENAMED))
def test_only_git_follows_a_container_renamed_in_slug_and_name(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, name: str
) -> None:
    """No slug, name or place is left in common: the container keeps its id through its pages' renames alone."""
    ws = Workspace(docs, tracked=True)
    ws.start()
    actions = restructure_and_check(plugin, bookstack, docs, ws, name)["actions"]
    entity, old, new = RENAMED[name]
    (action,) = [a for a in actions if a["key"] == docs.key(new) and a["entity"] == entity]
    assert action["detail"].startswith(f"{docs.key(old)} → {docs.key(new)} (git rename of its pages)"), action


# The writes when no history ties the renamed container to its old self: it is created and what it holds
# moves into it (a gone shelf also lets go of its books); the old container stays, an orphan.
WRITES_WITHOUT_HISTORY: dict[str, list[str]] = {
    "rename-chapter-and-its-name": ["POST /api/chapters", "PUT /api/pages/", "PUT /api/pages/"],
    "rename-book-and-its-name": ["POST /api/books", "PUT /api/chapters/", "PUT /api/pages/", "PUT /api/shelves/"],
    "rename-shelf-and-its-name": [
        "POST /api/shelves",
        "PUT /api/books/",
        "PUT /api/chapters/",
        "PUT /api/pages/",
        "PUT /api/shelves/",
    ],
}


@pytest.mark.parametrize("name", list(RENAMED))
def test_without_history_a_container_renamed_in_slug_and_name_is_new_and_its_content_moves(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path_factory: pytest.TempPathFactory, name: str
) -> None:
    """The documented fallback, in a depth-1 clone: the plan says history is missing; the renamed container
    is created and the old one left as an orphan (nothing is deleted); everything in it keeps its id."""
    ws = Workspace(docs, tracked=True)
    ws.start()
    before, with_history = restructure(plugin, bookstack, ws, name)
    shallow = shallow_clone(docs, tmp_path_factory)
    plugin.docs = shallow
    entity, old, new = RENAMED[name]
    typed_old, typed_new = (f"{entity.replace('shelf', 'bookshelf')}:{docs.key(key)}" for key in (old, new))
    fallback = Expected(
        continues={k: v for k, v in with_history.continues.items() if k != typed_old},
        created={typed_new},
        orphaned={typed_old},
    )
    plan = check_restructure(plugin, bookstack, shallow, before, fallback, WRITES_WITHOUT_HISTORY[name])
    actions = plan["actions"]
    (note,) = [n for n in plan["notes"] if n.startswith("git history:")]
    assert "not in this checkout (a shallow clone" in note and "paired by file name, title and content" in note
    assert "orphan" in [a["kind"] for a in actions if a["entity"] == entity and a["key"] == docs.key(old)]
    assert not [a for a in actions if "git rename" in a.get("detail", "")]
