"""What the common runs cost in requests, and whether every hand change is still found.

For each tree size (68, 1,000 and 5,000 pages by default, made by ``bench/gen_tree.py`` in a git
repository) against the fake BookStack on loopback: the initial sync, then a push with nothing changed
(no-op), a push with one page edited (committed), and one push after each change a person can make by
hand in BookStack — the fake makes them as BookStack does (``FakeBookStack.change_as_human`` and
friends: a second user, the ``updated_at``, revision and recycle-bin behaviour of the real one). After
each hand change the row says how many requests (and writes) the next run took and whether its plan
names the changed object ("found"); ``on_drift`` is the default (``overwrite``), so the run repairs it
and the next row starts from a clean wiki.

Then the hand changes that move no ``updated_at`` (a book's Sort screen, a deletion hidden by a restore
from the recycle bin, a permission change), each followed by the push after it. The wiki holds someone
else's book beside the tree (three pages, a fourth in the recycle bin), made before the initial sync;
the rows about it have nothing of the tree to find, only their cost.

Each size is measured with two tokens: one whose role may read BookStack's audit log ("Manage app
settings" and "Manage users": the probe reads the log instead of listing shelves), and one whose role
lacks "Manage users" (the probe keeps the wiki's layout instead). Prints one Markdown table per token;
not a test.

    .venv/bin/python bench/noop_cost.py [--sizes 68,1000,5000] [--token both|audit-log|no-audit-log]
        [--bookstack-version v25.11.0]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bookstack import FakeBookStack
from tests.fake_bookstack.permissions import DEFAULT_PERMISSIONS

from bench.gen_tree import generate_tree, page_files
from bench.sync_cost import _commit, _fake, _git, _run
from bookstack_sync.bookstack import BookStackClient

# pages -> gen_tree's (shelves, books per shelf, chapters per book, pages per chapter, pages per book)
SHAPES = {
    68: (2, 2, 4, 4, 1),
    1000: (4, 5, 5, 10, 0),
    5000: (4, 5, 5, 50, 0),
}
MANAGED_TAG = "bookstack-sync"
STATE_TAG = "bookstack-sync-state"  # the tree's sync record
# the token's role: may it read BookStack's audit log (AuditLogApiController: settings-manage and users-manage)
TOKENS = {
    "audit-log": DEFAULT_PERMISSIONS,
    "no-audit-log": DEFAULT_PERMISSIONS - {"users-manage"},
}


@dataclass
class Row:
    label: str
    code: int
    requests: int
    writes: int
    found: bool | None  # None: nothing to find (no-op, an edit in git)


class Wiki:
    """The fake's objects of the synced tree, by key (read from the fake's state, not over the API)."""

    def __init__(self, fake: FakeBookStack) -> None:
        self.fake = fake

    def find(self, kind: str, key: str) -> Any:
        table = {"shelf": "shelves", "book": "books", "chapter": "chapters", "page": "pages"}[kind]
        for item in getattr(self.fake.state, table).values():
            if any(t.name == MANAGED_TAG and t.value == key for t in item.tags):
                return item
        raise KeyError(f"{kind} {key}")


def _named(report: Path, ids: set[int], keys: set[str]) -> bool:
    """Whether the run's plan has an action other than "unchanged" on one of ``ids`` or ``keys``."""
    data = json.loads(report.read_text(encoding="utf-8"))
    actions = (data.get("plan") or {}).get("actions", [])
    return any(a["kind"] != "unchanged" and (a.get("id") in ids or a.get("key") in keys) for a in actions)


def _hand_changes(wiki: Wiki) -> list[tuple[str, Callable[[], tuple[set[int], set[str]]]]]:
    """(label, make the change -> the ids and keys a plan must name) for each hand change of issue 21."""
    fake = wiki.fake
    shelf_a, shelf_b = "shelf-01", "shelf-02"
    book_a, book_b = f"{shelf_a}/book-01", f"{shelf_a}/book-02"
    chapter_1, chapter_2 = f"{book_a}/chapter-01", f"{book_a}/chapter-02"
    page_key = f"{chapter_1}/02-setup.md"
    deleted: dict[str, int] = {}

    def page() -> Any:
        return wiki.find("page", page_key)

    def edited() -> tuple[set[int], set[str]]:
        fake.edit_page_as_human(page().id, markdown=page().markdown + "\n\nA person's line.")
        return {page().id}, {page_key}

    def tags() -> tuple[set[int], set[str]]:
        item = page()
        fake.change_as_human("page", item.id, tags=[(t.name, t.value) for t in item.tags] + [("hand", "made")])
        return {item.id}, {page_key}

    def revision() -> tuple[set[int], set[str]]:
        fake.restore_revision_as_human(page().id, "An older text of the page.")
        return {page().id}, {page_key}

    def to_chapter() -> tuple[set[int], set[str]]:
        fake.change_as_human("page", page().id, chapter_id=wiki.find("chapter", chapter_2).id)
        return {page().id}, {page_key}

    def to_book() -> tuple[set[int], set[str]]:
        fake.change_as_human("page", page().id, book_id=wiki.find("book", book_b).id)
        return {page().id}, {page_key}

    def rename(kind: str, key: str) -> Callable[[], tuple[set[int], set[str]]]:
        def change() -> tuple[set[int], set[str]]:
            item = wiki.find(kind, key)
            fake.change_as_human(kind, item.id, name=item.name + " (renamed by hand)")
            return {item.id}, {key}

        return change

    def off_shelf() -> tuple[set[int], set[str]]:
        shelf, book = wiki.find("shelf", shelf_a), wiki.find("book", book_a)
        fake.change_as_human("shelf", shelf.id, books=[b for b in shelf.book_ids if b != book.id])
        return {shelf.id, book.id}, {shelf_a, book_a}

    def on_shelf() -> tuple[set[int], set[str]]:
        shelf, book = wiki.find("shelf", shelf_b), wiki.find("book", book_a)
        fake.change_as_human("shelf", shelf.id, books=[*shelf.book_ids, book.id])
        return {shelf.id, book.id}, {shelf_b, book_a}

    def delete() -> tuple[set[int], set[str]]:
        item = page()
        deleted["deletion"], deleted["id"] = fake.delete_as_human("page", item.id), item.id
        return {item.id}, {page_key}

    def restore() -> tuple[set[int], set[str]]:
        fake.restore_as_human(deleted["deletion"])
        return {deleted["id"]}, {page_key}

    return [
        ("page edited", edited),
        ("page tags changed", tags),
        ("revision restored", revision),
        ("page moved to another chapter", to_chapter),
        ("page moved to another book", to_book),
        ("page renamed", rename("page", page_key)),
        ("chapter renamed", rename("chapter", chapter_1)),
        ("book renamed", rename("book", book_a)),
        ("book taken off its shelf", off_shelf),
        # not drift today either: a shelf keeps the books others put on it (README, "Shelves keep what
        # others put there"); the row shows the run still reads it
        ("book put on another shelf (kept)", on_shelf),
        ("page deleted (recycle bin)", delete),
        ("page restored from the recycle bin", restore),
    ]


@dataclass
class Theirs:
    """Someone else's book in the same wiki: its pages, and the deletion of a fourth (in the recycle bin)."""

    book: int
    pages: list[int]
    deletion: int


def _someone_elses(fake: FakeBookStack) -> Theirs:
    """Made before the initial sync (through the API: no tags of the plugin, so not the tree's)."""
    with BookStackClient(fake.url, fake.token_id, fake.token_secret, rate_limit=0) as client:
        book = int(client.create("books", {"name": "Someone else's book"})["id"])
        pages = [
            int(client.create("pages", {"book_id": book, "name": f"Their page {n}", "markdown": "Theirs."})["id"])
            for n in range(1, 5)
        ]
    return Theirs(book, pages[:3], fake.delete_as_human("page", pages[3]))


Change = Callable[[], tuple[set[int], set[str]] | None]  # the ids and keys a plan must name; None: nothing


def _unseen_changes(wiki: Wiki, theirs: Theirs) -> list[tuple[str, Change]]:
    """(label, make the change) for each hand change that moves no ``updated_at``: the audit log, or the
    record's layout (a wiki of at most 500 objects of a kind), shows it, or nothing does."""
    fake = wiki.fake
    book = "shelf-01/book-01"
    chapter_1, chapter_2 = f"{book}/chapter-01", f"{book}/chapter-02"
    dragged_key, first_key, second_key = (
        f"{chapter_1}/{name}.md" for name in ("03-configuration", "01-overview", "02-setup")
    )

    def dragged() -> tuple[set[int], set[str]]:
        page = wiki.find("page", dragged_key)
        fake.sort_as_human("page", page.id, 9, chapter_id=wiki.find("chapter", chapter_2).id)
        return {page.id}, {dragged_key}

    def reordered() -> tuple[set[int], set[str]]:
        first, second = wiki.find("page", first_key), wiki.find("page", second_key)
        fake.sort_as_human("page", first.id, second.priority + 1, chapter_id=first.chapter_id)
        return {first.id}, {first_key}

    def carrier_reordered() -> tuple[set[int], set[str]]:
        # the repair before this row rode the record on the page it wrote
        page = next(p for p in fake.state.pages.values() if any(t.name == STATE_TAG for t in p.tags))
        key = next(t.value for t in page.tags if t.name == MANAGED_TAG)
        place = (page.book_id, page.chapter_id)
        # its neighbours: the pages of its chapter, or the chapters and pages at the top of its book
        neighbours = [p.priority for p in fake.state.pages.values() if (p.book_id, p.chapter_id) == place]
        if not page.chapter_id:
            neighbours += [c.priority for c in fake.state.chapters.values() if c.book_id == page.book_id]
        later = [priority for priority in neighbours if priority > page.priority]
        # past the next one, as in the row before (or before the one before it, when it is the last)
        moved = min(later) + 1 if later else max(p for p in neighbours if p < page.priority) - 1
        fake.sort_as_human("page", page.id, moved, chapter_id=page.chapter_id)
        return {page.id}, {key}

    def deleted_and_restored() -> tuple[set[int], set[str]]:
        page = wiki.find("page", first_key)
        fake.delete_as_human("page", page.id)
        fake.restore_as_human(theirs.deletion)
        return {page.id}, {first_key}

    def permissions() -> None:
        fake.set_permissions_as_human("page", theirs.pages[0], view=False, update=False)

    def their_book_sorted() -> None:
        fake.sort_as_human("page", theirs.pages[0], 99, chapter_id=None)

    return [
        ("page dragged to another chapter on the Sort screen", dragged),
        ("pages reordered on the Sort screen", reordered),
        ("the page carrying the record reordered alone on the Sort screen", carrier_reordered),
        ("page deleted while someone else's comes back from the recycle bin", deleted_and_restored),
        ("someone else's page: its permissions changed", permissions),
        ("someone else's book sorted on its Sort screen", their_book_sorted),
    ]


def measure(pages: int, version: str, token: str) -> list[Row]:
    shape = SHAPES[pages]
    rows: list[Row] = []
    with tempfile.TemporaryDirectory() as tmp, _fake(version, permissions=TOKENS[token]) as fake:
        workspace = Path(tmp)
        theirs = _someone_elses(fake)
        docs = generate_tree(workspace / "docs", *shape[:4], book_pages=shape[4])
        _git(workspace, "init", "-q")
        _commit(workspace, "docs", tracked=True)
        report = workspace / "report.json"

        def run(label: str, found: Callable[[], bool] | None = None) -> None:
            code, counts, _ = _run(fake, docs, workspace, "push", "auto", str(report))
            rows.append(Row(label, code, counts["read"] + counts["write"], counts["write"], found() if found else None))

        run("initial sync")
        run("second sync (settles)")
        run("no-op")
        first = page_files(docs)[0]
        first.write_text(first.read_text(encoding="utf-8") + "\nOne edit.\n", encoding="utf-8")
        _commit(workspace, "one edit", tracked=True)
        run("1 page edited (git)")
        run("no-op after the edit")
        files = page_files(docs)
        books: dict[tuple[str, ...], Path] = {}
        for page in files:  # the first page of each book; those of the first two books and the last are edited
            books.setdefault(page.relative_to(docs).parts[:2], page)
        for page in [*list(books.values())[:2], list(books.values())[-1]]:
            page.write_text(page.read_text(encoding="utf-8") + "\nAnother edit.\n", encoding="utf-8")
        _commit(workspace, "three edits", tracked=True)
        run("3 pages edited in 3 books (git)")
        linking = next(p for p in files if p.parent.name == "chapter-01")
        linking.write_text(
            linking.read_text(encoding="utf-8") + "\nSee [the book](../) and [the next chapter](../chapter-02/).\n",
            encoding="utf-8",
        )
        _commit(workspace, "folder links", tracked=True)
        run("1 page edited, now linking to a book and a chapter (git)")
        run("no-op after the edits")
        # Woodpecker's default clone holds one commit: git cannot say what changed since the last sync's
        (workspace / ".git").rename(workspace / "hidden.git")
        first.write_text(first.read_text(encoding="utf-8") + "\nAn edit in a shallow clone.\n", encoding="utf-8")
        named = json.dumps([first.relative_to(workspace).as_posix()])
        code, counts, _ = _run(fake, docs, workspace, "push", "auto", str(report), CI_PIPELINE_FILES=named)
        label = "1 page edited, no git history (CI_PIPELINE_FILES)"
        rows.append(Row(label, code, counts["read"] + counts["write"], counts["write"], None))
        (workspace / "hidden.git").rename(workspace / ".git")
        _commit(workspace, "shallow edit", tracked=True)
        wiki = Wiki(fake)
        for label, change in _hand_changes(wiki):
            ids, keys = change()
            run(label, lambda ids=ids, keys=keys: _named(report, ids, keys))  # type: ignore[misc]
        for label, unseen in _unseen_changes(wiki, theirs):
            expected = unseen()
            if expected is None:
                run(label)
            else:
                run(label, lambda expected=expected: _named(report, *expected))  # type: ignore[misc]
            run("  the push after it")
        run("no-op at the end")
    return rows


def _table(results: dict[int, list[Row]], sizes: list[int]) -> None:
    print("| run | " + " | ".join(f"{size:,} pages" for size in sizes) + " |")
    print("|---|" + "---|" * len(sizes))
    for index, label in enumerate(row.label for row in results[sizes[0]]):
        cells = []
        for size in sizes:
            row = results[size][index]
            cell = f"{row.requests} ({row.writes})"
            if row.code:
                cell += f" exit {row.code}"
            if row.found is not None:
                cell += ", found" if row.found else ", **MISSED**"
            cells.append(cell)
        print(f"| {label} | " + " | ".join(cells) + " |")


def _machine() -> str:
    load = ", ".join(f"{n:.2f}" for n in os.getloadavg())
    return f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}, load average {load}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="68,1000,5000", help="comma-separated page counts: 68, 1000, 5000")
    parser.add_argument(
        "--token",
        choices=["both", *TOKENS],
        default="both",
        help="the token's role: may read the audit log, may not, or one table for each (default)",
    )
    parser.add_argument("--bookstack-version", default="v25.11.0")
    args = parser.parse_args()
    sizes = [int(size) for size in args.sizes.split(",")]
    tokens = list(TOKENS) if args.token == "both" else [args.token]
    print(f"machine at the start: {_machine()}", flush=True)
    for token in tokens:
        results = {size: measure(size, args.bookstack_version, token) for size in sizes}
        print(
            f"\nBookStack (fake) {args.bookstack_version}, token: {token}; requests (writes) of each run;"
            " found = named in the plan"
        )
        _table(results, sizes)
        print(f"machine after it: {_machine()}", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
