"""Many docs trees, one wiki: each tree owns what it wrote, shares shelves, and never touches another tree.

Team A is the standard docs tree; team B a second, smaller tree in another checkout, published into the
same wiki. Both variants of issue 18's table: B on its own shelf with a book named like one of A's, and
B listing two books on A's shelf. After every step, every object of the other tree is as it was.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from bookstack_sync.cli import main
from bookstack_sync.plan.tags import STATE_TAG
from tests.bookstack_target import BookStackTarget

from .conftest import MANAGED_TAG, TREE_TAG, Docs, Plugin

pytestmark = pytest.mark.real_bookstack

WRITES = {"created", "updated", "moved", "adopted", "claimed", "deleted"}


def tree_objects(target: BookStackTarget, tree: str) -> dict[tuple[str, int], tuple[Any, ...]]:
    """Every object of ``tree`` as it is now (name, slug, place, tags, last update), and its shelves' lists."""
    client = target.client()
    found: dict[tuple[str, int], tuple[Any, ...]] = {}
    for hit in client.search(f"[{MANAGED_TAG}] [{TREE_TAG}={tree}]"):
        tags = sorted((str(t["name"]), str(t.get("value") or "")) for t in hit.get("tags", []))
        # the tree's sync record (one tag on one of its books) is its own bookkeeping, not content: a run
        # that could not trust it (two runs at once) writes it again, moving that book's updated_at
        record = any(name == STATE_TAG for name, _ in tags)
        tags = [(name, value) for name, value in tags if name != STATE_TAG]
        place = (hit.get("book_id"), hit.get("chapter_id"))
        state: tuple[Any, ...] = (hit["name"], hit["slug"], place, tags, None if record else hit.get("updated_at"))
        if hit["type"] == "bookshelf":
            state += (tuple(b["id"] for b in client.read("shelves", int(hit["id"]))["books"]),)
        found[(str(hit["type"]), int(hit["id"]))] = state
    return found


def key_of(hit_tags: list[tuple[str, str]]) -> str:
    return next(value for name, value in hit_tags if name == MANAGED_TAG)


def report(docs: Docs) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    return data


def writes_of(docs: Docs) -> list[str]:
    """What the last run wrote, from its report."""
    return [f"{o['status']} {o['entity']} {o['key']}" for o in report(docs)["outcomes"] if o["status"] in WRITES]


def team_b(root: Path, prefix: str, *, shelf: str, shelf_name: str, book_names: tuple[str, ...]) -> Docs:
    """A second docs tree (another repository): books ``b1``, ``b2``... on shelf ``shelf``, two pages each."""
    docs = Docs(root, prefix)
    books = []
    for n, name in enumerate(book_names, start=1):
        books.append(
            {"book": {"name": name, "slug": f"b{n}", "chapters": [{"chapter": {"name": "Notes", "slug": "notes"}}]}}
        )
    docs.shelves = [{"shelf": {"name": shelf_name, "slug": docs.slug(shelf), "books": books}}]
    docs.write_structure()
    for n in range(1, len(book_names) + 1):
        docs.page(f"{shelf}/b{n}/notes/01-first.md", f"First {n}", "See [the second](02-second.md).\n")
        docs.page(f"{shelf}/b{n}/notes/02-second.md", f"Second {n}", "More words.\n")
    return docs


def b_plugin(bookstack: BookStackTarget, docs_b: Docs, capsys: pytest.CaptureFixture[str]) -> Plugin:
    return Plugin(bookstack, docs_b, capsys)


def b_tree(docs: Docs) -> str:
    return f"{docs.tree}-b"


def b_on_shelf_eng(
    bookstack: BookStackTarget, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str], *, shelf_name: str = ""
) -> Plugin:
    """Team B's tree listing its books "B One" and "B Two" on A's shelf `eng` (under ``shelf_name``, else
    A's name for it), after B's first sync: B's runner (B's docs are its ``docs``)."""
    docs_b = team_b(
        tmp_path / "b",
        docs.prefix,
        shelf="eng",
        shelf_name=shelf_name or f"Engineering {docs.prefix}",
        book_names=(f"B One {docs.prefix}", f"B Two {docs.prefix}"),
    )
    b = b_plugin(bookstack, docs_b, capsys)
    first = b.run(tree=b_tree(docs))
    assert first.exit_code == 0, first.err
    return b


def test_own_shelf_with_a_book_named_like_the_other_trees(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plugin.run().exit_code == 0
    a_after_sync = tree_objects(bookstack, docs.tree)
    a_guide = next(k for k, v in a_after_sync.items() if k[0] == "book" and v[0] == f"Development Guide {docs.prefix}")
    docs_b = team_b(
        tmp_path / "b",
        docs.prefix,
        shelf="bteam",
        shelf_name=f"Team B {docs.prefix}",
        book_names=(f"Development Guide {docs.prefix}",),
    )
    docs_b.page("bteam/b1/notes/03-links.md", "Links", "The [book](../) and [its first page](01-first.md).\n")
    b = b_plugin(bookstack, docs_b, capsys)

    first = b.run(tree=b_tree(docs))
    assert first.exit_code == 0, first.err
    assert tree_objects(bookstack, docs.tree) == a_after_sync  # A's book is not taken, moved or re-keyed
    b_objects = tree_objects(bookstack, b_tree(docs))
    b_guide = next(v for k, v in b_objects.items() if k[0] == "book")
    assert b_guide[0] == f"Development Guide {docs.prefix}" and b_guide[1] != a_after_sync[a_guide][1]
    # links resolve within the tree that wrote them: to B's own book (its other slug), never to A's
    pages = {key_of(v[3]): k[1] for k, v in b_objects.items() if k[0] == "page"}
    links = bookstack.client().read("pages", pages[docs_b.key("bteam/b1/notes/03-links.md")])["markdown"]
    assert f"/books/{b_guide[1]})" in links and f"/books/{a_after_sync[a_guide][1]})" not in links
    assert f"](/link/{pages[docs_b.key('bteam/b1/notes/01-first.md')]})" in links
    notes = report(docs_b)["plan"]["notes"]
    assert any("named" in note and docs.tree in note for note in notes), notes
    assert not any(
        docs.tree in a["key"] or a["kind"] in ("orphan", "delete") for a in report(docs_b)["plan"]["actions"]
    )

    # the reruns write nothing, on either side
    assert plugin.run().exit_code == 0 and writes_of(docs) == []
    assert b.run(tree=b_tree(docs)).exit_code == 0 and writes_of(docs_b) == []
    assert tree_objects(bookstack, docs.tree) == a_after_sync

    # prune on either side deletes nothing of the other tree
    assert b.run(tree=b_tree(docs), prune="true").exit_code == 0 and writes_of(docs_b) == []
    assert plugin.run(prune="true").exit_code == 0 and writes_of(docs) == []
    assert tree_objects(bookstack, docs.tree) == a_after_sync
    assert tree_objects(bookstack, b_tree(docs)) == b_objects


def test_a_shared_shelf_keeps_the_other_trees_books_and_order(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plugin.run().exit_code == 0
    client = bookstack.client()
    a_objects = tree_objects(bookstack, docs.tree)
    [shelf_id] = [k[1] for k, v in a_objects.items() if k[0] == "bookshelf" and key_of(v[3]) == docs.slug("eng")]
    a_list = [b["id"] for b in client.read("shelves", shelf_id)["books"]]
    # B's structure names A's shelf `eng` too (another name: the tree that created the shelf keeps its own)
    b = b_on_shelf_eng(bookstack, docs, tmp_path, capsys, shelf_name=f"Engineering (B's name) {docs.prefix}")
    docs_b = b.docs
    shelf = client.read("shelves", shelf_id)
    listed = [book["id"] for book in shelf["books"]]
    assert [i for i in listed if i in a_list] == a_list  # A's books, in A's order
    assert [book["name"] for book in shelf["books"] if book["id"] not in a_list] == [
        f"B One {docs.prefix}",
        f"B Two {docs.prefix}",
    ]
    assert shelf["name"] == f"Engineering {docs.prefix}"  # the creator's name stays
    tags = {(t["name"], t.get("value") or "") for t in shelf["tags"]}
    assert (TREE_TAG, docs.tree) in tags and (TREE_TAG, b_tree(docs)) not in tags
    notes = report(docs_b)["plan"]["notes"]
    assert any(note.startswith("warning: shelf") and docs.tree in note for note in notes), notes
    a_now = tree_objects(bookstack, docs.tree)
    assert a_now.keys() == a_objects.keys()
    for k, was in a_objects.items():
        # the shelf's list grew (and so its time moved); its name, slug and tags, and A's other objects, did not
        assert a_now[k][:4] == was[:4] if k[0] == "bookshelf" else a_now[k] == was

    # no back and forth: each tree's rerun writes nothing (the shelf included)
    assert plugin.run().exit_code == 0 and writes_of(docs) == []
    assert b.run(tree=b_tree(docs)).exit_code == 0 and writes_of(docs_b) == []
    # the same books in the same order (a rerun that read everything may move its record, a tags-only
    # write, onto one of A's books: that book's updated_at moves, nothing a reader sees)
    assert [(b["id"], b["name"], b["slug"]) for b in client.read("shelves", shelf_id)["books"]] == [
        (b["id"], b["name"], b["slug"]) for b in shelf["books"]
    ]

    # A adds a book to the shelf: B's books stay on it, in their order
    docs.shelves[0]["shelf"]["books"].append({"book": {"name": f"Extra {docs.prefix}", "slug": "extra"}})
    docs.write_structure()
    docs.page("eng/extra/01-one.md", "One", "Text.\n")
    assert plugin.run().exit_code == 0
    names = [book["name"] for book in client.read("shelves", shelf_id)["books"]]
    assert [n for n in names if n.startswith("B ")] == [f"B One {docs.prefix}", f"B Two {docs.prefix}"]
    assert b.run(tree=b_tree(docs)).exit_code == 0 and writes_of(docs_b) == []

    # prunes: neither deletes the other's books (nor the shared shelf)
    b_objects = tree_objects(bookstack, b_tree(docs))
    assert b.run(tree=b_tree(docs), prune="true").exit_code == 0 and writes_of(docs_b) == []
    assert plugin.run(prune="true").exit_code == 0 and writes_of(docs) == []
    assert tree_objects(bookstack, b_tree(docs)) == b_objects
    assert len(client.read("shelves", shelf_id)["books"]) == len(names)


def _strip_tree_tags(bookstack: BookStackTarget, tree: str) -> int:
    """Make ``tree``'s objects look as an earlier version left them: no tree recorded (a page's recorded
    revision follows its write, as the earlier version's own write would have left it)."""
    client = bookstack.client()
    kinds = {"page": "pages", "chapter": "chapters", "book": "books", "bookshelf": "shelves"}
    hits = list(client.search(f"[{MANAGED_TAG}] [{TREE_TAG}={tree}]"))
    for hit in hits:
        kept = [t for t in hit["tags"] if t["name"] != TREE_TAG]
        if hit["type"] == "page":
            revision = int(client.read("pages", int(hit["id"]))["revision_count"]) + 1
            kept = [
                {"name": t["name"], "value": str(revision)} if t["name"] == "bookstack-sync-revision" else t
                for t in kept
            ]
        client.update(
            kinds[str(hit["type"])],
            int(hit["id"]),
            {"tags": [{"name": t["name"], "value": t.get("value") or ""} for t in kept]},
        )
    return len(hits)


def test_objects_of_an_earlier_version_are_claimed_by_their_tree_only(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plugin.run().exit_code == 0
    count = _strip_tree_tags(bookstack, docs.tree)
    assert count == 2 + 3 + 4 + 7 and tree_objects(bookstack, docs.tree) == {}
    # another tree syncs first: it claims nothing that is not its own (its keys differ)
    docs_b = team_b(tmp_path / "b", docs.prefix, shelf="bteam", shelf_name=f"Team B {docs.prefix}", book_names=("B",))
    b = b_plugin(bookstack, docs_b, capsys)
    assert b.run(tree=b_tree(docs)).exit_code == 0
    assert not [a for a in report(docs_b)["plan"]["actions"] if a["kind"] == "claim"]
    assert len(tree_objects(bookstack, b_tree(docs))) == 1 + 1 + 1 + 2

    run = plugin.run()
    assert run.exit_code == 0, run.err
    claims = [a for a in report(docs)["plan"]["actions"] if a["kind"] == "claim"]
    assert len(claims) == count
    assert "claim" in run.out or "claim" in run.err
    assert all(o["status"] in ("claimed", "unchanged") for o in report(docs)["outcomes"])
    assert len(tree_objects(bookstack, docs.tree)) == count
    assert plugin.run().exit_code == 0 and writes_of(docs) == []


def test_a_renamed_repository_refuses_until_the_tree_setting_names_the_old_tree(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    old_repo, new_repo = f"e2e/{docs.prefix}-old", f"e2e/{docs.prefix}-new"
    first = plugin.run(tree="", CI_REPO=old_repo)
    assert first.exit_code == 0, first.err
    old_tree = report(docs)["tree"]
    assert old_tree == f"{old_repo}:docs"
    owned = tree_objects(bookstack, old_tree)
    assert len(owned) == 2 + 3 + 4 + 7

    renamed = plugin.run(tree="", CI_REPO=new_repo)
    assert renamed.exit_code == 3
    said = renamed.out + renamed.err
    assert old_tree in said and f"tree: {old_tree}" in said
    assert tree_objects(bookstack, old_tree) == owned and tree_objects(bookstack, f"{new_repo}:docs") == {}

    kept = plugin.run(tree=old_tree, CI_REPO=new_repo)
    assert kept.exit_code == 0, kept.err
    assert writes_of(docs) == [] and tree_objects(bookstack, old_tree) == owned


def test_two_trees_syncing_at_once_never_touch_each_other(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    docs_b = team_b(
        tmp_path / "b",
        docs.prefix,
        shelf="eng",  # the same shelf, and a book named like A's
        shelf_name=f"Engineering {docs.prefix}",
        book_names=(f"Development Guide {docs.prefix}", f"B Two {docs.prefix}"),
    )
    b = b_plugin(bookstack, docs_b, capsys)
    environs = [plugin.environ(), b.environ(tree=b_tree(docs))]
    codes: list[int] = []

    def sync(env: dict[str, str]) -> None:
        codes.append(main([], env))

    threads = [threading.Thread(target=sync, args=(env,)) for env in environs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert codes == [0, 0]
    a_objects = tree_objects(bookstack, docs.tree)
    b_objects = tree_objects(bookstack, b_tree(docs))
    # one shelf `eng`, whichever tree's first run made it first (the other gave way), listing all four books
    shelves = [
        (k[1], tree)
        for tree, objects in ((docs.tree, a_objects), (b_tree(docs), b_objects))
        for k, v in objects.items()
        if k[0] == "bookshelf" and key_of(v[3]) == docs.slug("eng")
    ]
    assert len(shelves) == 1, shelves
    assert len([k for k in a_objects if k[0] != "bookshelf"]) == 3 + 4 + 7
    assert len([k for k in b_objects if k[0] != "bookshelf"]) == 2 * (1 + 1 + 2)
    # the next runs write nothing, and nobody's object is gone
    assert plugin.run().exit_code == 0 and writes_of(docs) == []
    assert b.run(tree=b_tree(docs)).exit_code == 0 and writes_of(docs_b) == []
    assert tree_objects(bookstack, docs.tree) == a_objects and tree_objects(bookstack, b_tree(docs)) == b_objects
    books = [book["name"] for book in bookstack.client().read("shelves", shelves[0][0])["books"]]
    assert sorted(books) == sorted(
        [f"Development Guide {docs.prefix}"] * 2 + [f"Operations {docs.prefix}", f"B Two {docs.prefix}"]
    )


def test_a_joint_permissions_500_is_explained_and_the_copy_removed_once_visible(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    if bookstack.fake is None:
        pytest.skip("needs the fake's fault injection")
    bookstack.fake.faults.joint_permissions_next(1, path_prefix="/api/pages")
    run = plugin.run(**{"import": "never"})
    assert run.exit_code == 0, run.err
    said = run.out + run.err
    assert "php artisan bookstack:regenerate-permissions" in said
    assert any("regenerate-permissions" in m for m in report(docs)["messages"])
    visible = tree_objects(bookstack, docs.tree)
    assert sum(1 for k in visible if k[0] == "page") == 7  # the invisible copy is not listed

    [restored] = bookstack.fake.regenerate_permissions()
    again = plugin.run(**{"import": "never"})
    assert again.exit_code == 0, again.err
    deleted = [o for o in report(docs)["outcomes"] if o["status"] == "deleted"]
    assert len(deleted) == 1 and "duplicate" in deleted[0]["detail"]
    pages = [k for k in tree_objects(bookstack, docs.tree) if k[0] == "page"]
    assert len(pages) == 7
    assert plugin.run(**{"import": "never"}).exit_code == 0 and writes_of(docs) == []
    assert restored in {k[1] for k in pages} or restored == deleted[0]["id"]


def test_export_leaves_out_the_books_of_other_trees(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plugin.run().exit_code == 0
    b = b_on_shelf_eng(bookstack, docs, tmp_path, capsys)
    exported = tmp_path / "exported" / "docs"
    env = b.environ(tree=b_tree(docs), docs_dir=str(exported))
    argv = ["export", "--shelf", f"Engineering {docs.prefix}", "--export-report", str(tmp_path / "export.json")]
    assert main(argv, env) == 0
    structure = yaml.safe_load((exported / "bookstack" / "bookstack-structure.yaml").read_text(encoding="utf-8"))
    books = [book["book"]["name"] for shelf in structure["structure"] for book in shelf["shelf"]["books"]]
    assert books == [f"B One {docs.prefix}", f"B Two {docs.prefix}"]  # A's two books stay A's
    notes = json.loads((tmp_path / "export.json").read_text(encoding="utf-8"))["notes"]
    assert any(docs.tree in note and "not exported" in note for note in notes), notes


def test_a_shelf_other_trees_list_books_on_is_not_pruned_with_its_creators_books(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert plugin.run().exit_code == 0
    b_on_shelf_eng(bookstack, docs, tmp_path, capsys)
    [shelf_id] = [
        k[1]
        for k, v in tree_objects(bookstack, docs.tree).items()
        if k[0] == "bookshelf" and key_of(v[3]) == docs.slug("eng")
    ]
    # A moves its two books to its other shelf; shelf `eng` is gone from A's structure
    eng, team = docs.shelves
    team["shelf"]["books"] += eng["shelf"]["books"]
    docs.shelves = [team]
    docs.write_structure()
    docs.path("eng").rename(docs.path("team-moved"))
    for book in docs.path("team-moved").iterdir():
        book.rename(docs.path("team") / book.name)
    run = plugin.run(prune="true")
    assert run.exit_code == 0, run.err
    [kept] = [o for o in report(docs)["outcomes"] if o["entity"] == "shelf" and o["id"] == shelf_id]
    assert kept["status"] == "orphan" and "other docs trees list 2 book(s)" in kept["detail"]
    names = [book["name"] for book in bookstack.client().read("shelves", shelf_id)["books"]]
    assert names == [f"B One {docs.prefix}", f"B Two {docs.prefix}"]  # A's books left it, B's stay
