"""Restructures of the standard docs tree, done as a person would: files moved (``git mv`` in a git
checkout), frontmatter and links fixed, the structure file edited, then committed.

Each scenario returns what it expects of identity: ``"<type>:<old key>" -> "<type>:<new key>"`` for
every object that continues under another key (types as BookStack's search names them), and the keys
of what it creates.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .conftest import Docs

_GIT_ENV = {
    "GIT_AUTHOR_NAME": "Docs Team",
    "GIT_AUTHOR_EMAIL": "docs@example.org",
    "GIT_COMMITTER_NAME": "Docs Team",
    "GIT_COMMITTER_EMAIL": "docs@example.org",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def git(docs: Docs, *args: str) -> str:
    env = {**os.environ, **_GIT_ENV, "HOME": str(docs.root)}
    done = subprocess.run(["git", *args], cwd=docs.root, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@dataclass
class Workspace:
    """The docs tree, in a git repository (``tracked``) or a plain folder."""

    docs: Docs
    tracked: bool

    def start(self) -> None:
        if self.tracked:
            git(self.docs, "init", "-q", "-b", "main")
            self.commit("docs")

    def commit(self, message: str) -> None:
        if self.tracked:
            git(self.docs, "add", "-A")
            git(self.docs, "commit", "-q", "-m", message)

    def move(self, old: str, new: str) -> None:
        """Move a file or folder (paths as ``Docs.page`` takes them: starting with the unprefixed shelf)."""
        source, target = self.docs.path(old), self.docs.path(new)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.tracked:
            git(self.docs, "mv", str(source), str(target))
        else:
            shutil.move(source, target)

    def edit(self, rel: str, *replacements: tuple[str, str]) -> None:
        path = self.docs.path(rel)
        text = path.read_text(encoding="utf-8")
        for old, new in replacements:
            assert old in text, f"{old!r} not in {rel}"
            text = text.replace(old, new)
        path.write_text(text, encoding="utf-8")


@dataclass
class Expected:
    continues: dict[str, str] = field(default_factory=dict)  # "<type>:<old key>" -> "<type>:<new key>"
    created: set[str] = field(default_factory=set)  # "<type>:<key>"
    orphaned: set[str] = field(default_factory=set)  # "<type>:<key>" whose source is really gone


def shelf_of(docs: Docs, shelf: str) -> dict[str, Any]:
    found: dict[str, Any] = next(s["shelf"] for s in docs.shelves if s["shelf"]["slug"] == docs.slug(shelf))
    return found


def book_of(docs: Docs, shelf: str, book: str) -> dict[str, Any]:
    found: dict[str, Any] = next(b["book"] for b in shelf_of(docs, shelf)["books"] if b["book"]["slug"] == book)
    return found


def chapter_of(docs: Docs, shelf: str, book: str, chapter: str) -> dict[str, Any]:
    chapters = book_of(docs, shelf, book)["chapters"]
    found: dict[str, Any] = next(c["chapter"] for c in chapters if c["chapter"]["slug"] == chapter)
    return found


def pages_moved(docs: Docs, *moves: tuple[str, str]) -> dict[str, str]:
    """``"page:<old key>" -> "page:<new key>"`` for page files moved from one path to another."""
    return {f"page:{docs.key(old)}": f"page:{docs.key(new)}" for old, new in moves}


def _folder_moved(docs: Docs, old: str, new: str, keys: list[str]) -> dict[str, str]:
    """Every object under folder ``old`` (``keys`` are typed keys of what exists) continues under ``new``."""
    old_key, new_key = docs.key(old), docs.key(new)
    moved = {}
    for typed in keys:
        kind, _, key = typed.partition(":")
        if key == old_key or key.startswith(old_key + "/"):
            moved[typed] = f"{kind}:{new_key}{key[len(old_key) :]}"
    return moved


def _relocate(ws: Workspace, old: str, new: str, message: str, keys: list[str]) -> Expected:
    """The structure file as edited, folder ``old`` moved to ``new``, committed: all under it continues there."""
    ws.docs.write_structure()
    ws.move(old, new)
    ws.commit(message)
    return Expected(continues=_folder_moved(ws.docs, old, new, keys))


def insert_and_renumber(ws: Workspace, keys: list[str]) -> Expected:
    """A new first page in a chapter; the two pages after it renumbered 01→02, 02→03 (order too)."""
    docs = ws.docs
    chapter_of(docs, "eng", "guide", "practice")["pages"] = ["01-principles", "02-style", "03-review"]
    docs.write_structure()
    ws.move("eng/guide/practice/02-review.md", "eng/guide/practice/03-review.md")
    ws.edit("eng/guide/practice/03-review.md", ("order: 2", "order: 3"), ("(01-style.md)", "(02-style.md)"))
    ws.move("eng/guide/practice/01-style.md", "eng/guide/practice/02-style.md")
    ws.edit("eng/guide/practice/02-style.md", ("order: 1", "order: 2"))
    docs.page("eng/guide/practice/01-principles.md", "Principles", "Simple beats clever.\n")
    ws.commit("practice: principles first")
    return Expected(
        continues=pages_moved(
            docs,
            ("eng/guide/practice/01-style.md", "eng/guide/practice/02-style.md"),
            ("eng/guide/practice/02-review.md", "eng/guide/practice/03-review.md"),
        ),
        created={f"page:{docs.key('eng/guide/practice/01-principles.md')}"},
    )


def move_renumber_and_edit(ws: Workspace, keys: list[str]) -> Expected:
    """A page moved to another chapter, renumbered there, and edited a little."""
    docs = ws.docs
    chapter_of(docs, "eng", "guide", "start")["pages"] = ["01-install", "02-configure", "03-review"]
    chapter_of(docs, "eng", "guide", "practice")["pages"] = ["01-style"]
    docs.write_structure()
    ws.move("eng/guide/practice/02-review.md", "eng/guide/start/03-review.md")
    ws.edit(
        "eng/guide/start/03-review.md",
        ("order: 2", "order: 3"),
        ("category: practice", "category: start"),
        ("Review kindly.", "Review kindly and soon."),
        ("(01-style.md)", "(../practice/01-style.md)"),
    )
    ws.commit("review belongs to getting started")
    return Expected(continues=pages_moved(docs, ("eng/guide/practice/02-review.md", "eng/guide/start/03-review.md")))


def rename_and_retitle(ws: Workspace, keys: list[str]) -> Expected:
    """A file renamed and its title changed, its text kept."""
    docs = ws.docs
    ws.move("eng/ops/runbooks/01-restart.md", "eng/ops/runbooks/01-restart-services.md")
    ws.edit("eng/ops/runbooks/01-restart-services.md", ("title: Restart", "title: Restart services"))
    ws.commit("runbooks: say what is restarted")
    return Expected(
        continues=pages_moved(docs, ("eng/ops/runbooks/01-restart.md", "eng/ops/runbooks/01-restart-services.md"))
    )


LONG_RESTART = "1. Stop\n2. Start\n3. Check\n4. Tell\n5. Log\n6. Rest\n"


def rename_retitle_and_rewrite(ws: Workspace, keys: list[str]) -> Expected:
    """Renamed, retitled and its text edited: only git's rename similarity can tell it is the same file
    (the page must hold ``LONG_RESTART`` before, so that the edit keeps most of it)."""
    docs = ws.docs
    ws.move("eng/ops/runbooks/01-restart.md", "eng/ops/runbooks/01-reboot.md")
    ws.edit("eng/ops/runbooks/01-reboot.md", ("title: Restart", "title: Reboot"), ("6. Rest", "6. Rest a while"))
    ws.commit("runbooks: reboot")
    return Expected(continues=pages_moved(docs, ("eng/ops/runbooks/01-restart.md", "eng/ops/runbooks/01-reboot.md")))


def _rename_chapter(ws: Workspace, keys: list[str], slug: str, name: str | None = None) -> Expected:
    """Chapter ``practice``'s slug and folder renamed (and its name, given one); its pages' category follows."""
    docs = ws.docs
    chapter = chapter_of(docs, "eng", "guide", "practice")
    chapter["slug"] = slug
    if name is not None:
        chapter["name"] = name
    docs.write_structure()
    ws.move("eng/guide/practice", f"eng/guide/{slug}")
    for page in ("01-style.md", "02-review.md"):
        ws.edit(f"eng/guide/{slug}/{page}", ("category: practice", f"category: {slug}"))
    ws.commit(f"practice -> {slug}")
    return Expected(continues=_folder_moved(docs, "eng/guide/practice", f"eng/guide/{slug}", keys))


def rename_chapter(ws: Workspace, keys: list[str]) -> Expected:
    """A chapter's slug and folder renamed, its name kept."""
    return _rename_chapter(ws, keys, "best-practices")


def rename_chapter_and_its_name(ws: Workspace, keys: list[str]) -> Expected:
    """A chapter's slug, folder and name changed at once: only its pages' git renames tie old and new."""
    return _rename_chapter(ws, keys, "coding-practices", "Coding Practices")


def chapter_to_another_book(ws: Workspace, keys: list[str]) -> Expected:
    """A chapter moved into a book on another shelf, with its pages."""
    docs = ws.docs
    ops = book_of(docs, "eng", "ops")
    runbooks = ops.pop("chapters")
    book_of(docs, "team", "handbook")["chapters"] += runbooks
    return _relocate(ws, "eng/ops/runbooks", "team/handbook/runbooks", "runbooks belong to the handbook", keys)


def rename_book(ws: Workspace, keys: list[str]) -> Expected:
    """A book's slug and folder renamed."""
    docs = ws.docs
    book_of(docs, "eng", "ops")["slug"] = "operations"
    return _relocate(ws, "eng/ops", "eng/operations", "ops -> operations", keys)


def rename_book_and_its_name(ws: Workspace, keys: list[str]) -> Expected:
    """A book's slug, folder and name changed at once: only its pages' git renames tie old and new."""
    docs = ws.docs
    book = book_of(docs, "eng", "ops")
    book["slug"], book["name"] = "site-reliability", f"Site Reliability {docs.prefix}"
    return _relocate(ws, "eng/ops", "eng/site-reliability", "ops -> site reliability", keys)


def book_to_another_shelf(ws: Workspace, keys: list[str]) -> Expected:
    """A book moved to another shelf, with its chapters and pages."""
    docs = ws.docs
    eng_books = shelf_of(docs, "eng")["books"]
    ops = next(b for b in eng_books if b["book"]["slug"] == "ops")
    eng_books.remove(ops)
    shelf_of(docs, "team")["books"].append(ops)
    return _relocate(ws, "eng/ops", "team/ops", "ops belongs to the team", keys)


def rename_shelf(ws: Workspace, keys: list[str]) -> Expected:
    """A shelf's slug and folder renamed: everything on it follows."""
    shelf_of(ws.docs, "team")["slug"] = ws.docs.slug("people")
    return _relocate(ws, "team", "people", "team -> people", keys)


def rename_shelf_and_its_name(ws: Workspace, keys: list[str]) -> Expected:
    """A shelf's slug, folder and name changed at once: only its pages' git renames tie old and new."""
    shelf = shelf_of(ws.docs, "team")
    shelf["slug"], shelf["name"] = ws.docs.slug("people"), f"People {ws.docs.prefix}"
    return _relocate(ws, "team", "people", "team -> people", keys)


def shelf_removed_and_its_book_moved(ws: Workspace, keys: list[str]) -> Expected:
    """A shelf taken out of the structure, its book moved to another shelf: the book moves, the shelf
    (its source really gone) is an orphan that no longer lists it."""
    docs = ws.docs
    team = shelf_of(docs, "team")
    docs.shelves = [s for s in docs.shelves if s["shelf"] is not team]
    shelf_of(docs, "eng")["books"] += team["books"]
    docs.write_structure()
    ws.move("team/handbook", "eng/handbook")
    ws.commit("the handbook joins engineering")
    return Expected(
        continues=_folder_moved(docs, "team/handbook", "eng/handbook", keys),
        orphaned={f"bookshelf:{docs.key('team')}"},
    )


Scenario = Callable[[Workspace, list[str]], Expected]

SCENARIOS: dict[str, Scenario] = {
    "insert-and-renumber": insert_and_renumber,
    "move-renumber-and-edit": move_renumber_and_edit,
    "rename-and-retitle": rename_and_retitle,
    "rename-chapter": rename_chapter,
    "chapter-to-another-book": chapter_to_another_book,
    "rename-book": rename_book,
    "book-to-another-shelf": book_to_another_shelf,
    "rename-shelf": rename_shelf,
    "shelf-removed-and-its-book-moved": shelf_removed_and_its_book_moved,
}

# Restructures that nothing but git history can follow: without it the planner cannot tell old from new.
GIT_ONLY: dict[str, Scenario] = {
    "rename-retitle-and-rewrite": rename_retitle_and_rewrite,
    "rename-chapter-and-its-name": rename_chapter_and_its_name,
    "rename-book-and-its-name": rename_book_and_its_name,
    "rename-shelf-and-its-name": rename_shelf_and_its_name,
}
