"""How new objects are written: whole books and chapters by ZIP import where the server and the tree allow
(``route=IMPORT``), the rest object by object; and the priorities BookStack will give what is created.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import replace

from ..model import Action, ActionKind, EntityKind, Route
from .desired import DesiredState
from .matching import ImportUnit, Matching, PlanOptions
from .remote import RemoteState

IMPORT_MIN_VERSION = (25, 7)  # the /api/imports endpoints came with v25.07


# An import costs three requests (upload, run, one search for the new ids); object by object costs one
# per object. Below three objects inside, the import saves nothing.
IMPORT_MIN_INSIDE = 3


_VERSION = re.compile(r"v?(\d+)\.(\d+)")


def parse_version(version: str | None) -> tuple[int, int] | None:
    found = _VERSION.match(version or "")
    return (int(found.group(1)), int(found.group(2))) if found else None


def version_allows_import(version: str | None) -> bool:
    parsed = parse_version(version)
    return parsed is not None and parsed >= IMPORT_MIN_VERSION


def _chapters_of(desired: DesiredState, book_key: str) -> list[str]:
    chapters = [c for c in desired.chapters.values() if c.book_key == book_key]
    return [c.key for c in sorted(chapters, key=lambda c: (c.priority, c.key))]


def _pages_of(desired: DesiredState, book_key: str, chapter_key: str | None) -> list[str]:
    pages = [p for p in desired.pages.values() if p.book_key == book_key and p.chapter_key == chapter_key]
    return [p.key for p in sorted(pages, key=lambda p: (p.priority, p.key))]


def plan_routes(
    desired: DesiredState,
    remote: RemoteState,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
    notes: list[str],
) -> dict[tuple[EntityKind, str], int]:
    """Mark the creates that go by ZIP import (``route=IMPORT``) and say why others do not.

    A new book and everything created in it is one book import; a book over ``import_max_pages`` takes
    its book-level pages and as many leading chapters as fit, the other chapters follow as one chapter
    import each (appended in book order, so their order holds). A new chapter in an existing book is
    one chapter import. A unit with fewer than ``IMPORT_MIN_INSIDE`` objects inside goes object by
    object, which is as cheap. Returns where the import will put what it creates: priorities, which
    BookStack renumbers (``ZipImportRunner``).
    """
    index = {(a.entity, a.key): i for i, a in enumerate(actions)}

    def creates(kind: EntityKind, key: str) -> bool:
        i = index.get((kind, key))
        return i is not None and actions[i].kind is ActionKind.CREATE

    candidates = [b for b in desired.books.values() if creates(EntityKind.BOOK, b.key)] + [
        c for c in desired.chapters.values() if creates(EntityKind.CHAPTER, c.key)
    ]
    landing: dict[tuple[EntityKind, str], int] = {}
    if not candidates:
        return landing
    if not options.use_import:
        notes.append("ZIP import is off (`import: never`): new books and chapters are created object by object")
        return landing
    if not version_allows_import(remote.version):
        notes.append(
            f"ZIP import not used: BookStack {remote.version or '(version unknown: no /api/system)'} has no "
            "import API (v25.07+); new books and chapters are created object by object"
        )
        return landing

    routed: list[tuple[EntityKind, str]] = []
    books_imported: list[str] = []
    chapters_imported: list[str] = []
    next_top: dict[str, int] = {}  # book key -> where the next chapter import lands

    def new_pages(book_key: str, chapter_key: str | None) -> list[str]:
        return [p for p in _pages_of(desired, book_key, chapter_key) if creates(EntityKind.PAGE, p)]

    def chapter_unit(chapter_key: str, book_key: str, book_id: int | None) -> None:
        pages = new_pages(book_key, chapter_key)
        keys = [(EntityKind.CHAPTER, chapter_key)] + [(EntityKind.PAGE, p) for p in pages]
        if len(pages) < IMPORT_MIN_INSIDE or len(pages) > options.import_max_pages:
            return
        if book_key not in next_top:
            top = [
                o.priority
                for kind in (EntityKind.CHAPTER, EntityKind.PAGE)
                for o in remote.of(kind).values()
                if book_id is not None and o.book_id == book_id and (kind is EntityKind.CHAPTER or o.chapter_id is None)
            ]
            next_top[book_key] = (
                max([*top, 1]) + 1
            )  # BookContents::getLastPriority + 1, as ``ZipImportRunner`` places it
        matching.import_units.append(ImportUnit(EntityKind.CHAPTER, chapter_key, (), tuple(pages)))
        landing[(EntityKind.CHAPTER, chapter_key)] = next_top[book_key]
        next_top[book_key] += 1
        for position, page in enumerate(pages, start=1):
            landing[(EntityKind.PAGE, page)] = position
        routed.extend(keys)
        chapters_imported.append(chapter_key)

    for book in desired.books.values():
        chapters = [c for c in _chapters_of(desired, book.key) if creates(EntityKind.CHAPTER, c)]
        if creates(EntityKind.BOOK, book.key):
            book_pages = new_pages(book.key, None)
            inside: list[str] = []
            total = len(book_pages)
            for chapter in chapters:
                count = len(new_pages(book.key, chapter))
                if inside != chapters[: len(inside)] or total + count > options.import_max_pages:
                    break
                inside.append(chapter)
                total += count
            keys = [(EntityKind.BOOK, book.key)] + [(EntityKind.PAGE, p) for p in book_pages]
            for chapter in inside:
                keys.append((EntityKind.CHAPTER, chapter))
                keys += [(EntityKind.PAGE, p) for p in new_pages(book.key, chapter)]
            if len(book_pages) > options.import_max_pages or len(keys) - 1 < IMPORT_MIN_INSIDE:
                inside = []  # the book itself goes by API; its chapters may still be imported
            else:
                routed.extend(keys)
                books_imported.append(book.key)
                unit_pages = [key for kind, key in keys if kind is EntityKind.PAGE]
                matching.import_units.append(ImportUnit(EntityKind.BOOK, book.key, tuple(inside), tuple(unit_pages)))
                # a new book's first child gets 2, the next 3, ...; pages in a new chapter 1, 2, ...
                top = sorted(
                    [(desired.pages[p].priority, 1, p, EntityKind.PAGE) for p in book_pages]
                    + [(desired.chapters[c].priority, 0, c, EntityKind.CHAPTER) for c in inside]
                )
                for position, (_, _, key, kind) in enumerate(top, start=2):
                    landing[(kind, key)] = position
                next_top[book.key] = len(top) + 2
                for chapter in inside:
                    for position, page in enumerate(new_pages(book.key, chapter), start=1):
                        landing[(EntityKind.PAGE, page)] = position
            for chapter in chapters[len(inside) :]:
                chapter_unit(chapter, book.key, None)
        else:
            book_id = matching.id_of(EntityKind.BOOK, book.key)
            for chapter in chapters:
                chapter_unit(chapter, book.key, book_id)

    for kind, key in routed:
        i = index[(kind, key)]
        actions[i] = replace(actions[i], route=Route.IMPORT)
    if books_imported:
        notes.append(f"by ZIP import: book(s) {', '.join(books_imported)}")
    if chapters_imported:
        notes.append(f"by ZIP import: chapter(s) {', '.join(chapters_imported)}")
    return landing


def settle_priorities(
    desired: DesiredState,
    remote: RemoteState,
    matching: Matching,
    actions: list[Action],
    landing: dict[tuple[EntityKind, str], int],
) -> None:
    """Write priorities only where the order BookStack will show is wrong.

    Order is what people see; the numbers are not. A ZIP import renumbers what it creates (2, 3, ... at
    a book's top level, 1, 2, ... in a chapter), so after an import the numbers differ from the desired
    ones while the order is right: those are left alone. Where a sibling group would end up out of order,
    every member whose number differs gets the desired one (a chapter import that landed in the wrong
    place included: apply sets it after the import).
    """
    index = {(a.entity, a.key): i for i, a in enumerate(actions)}
    groups: dict[str, list[tuple[int, int, EntityKind, str]]] = {}
    for chapter in desired.chapters.values():
        groups.setdefault(chapter.book_key, []).append((chapter.priority, 0, EntityKind.CHAPTER, chapter.key))
    for page in desired.pages.values():
        groups.setdefault(page.parent_key, []).append((page.priority, 1, EntityKind.PAGE, page.key))
    objects = {EntityKind.CHAPTER: remote.of(EntityKind.CHAPTER), EntityKind.PAGE: remote.of(EntityKind.PAGE)}

    def final(kind: EntityKind, key: str, wanted: int) -> int | None:
        i = index.get((kind, key))
        if i is None:
            return None
        action = actions[i]
        if action.kind is ActionKind.CREATE:
            return landing.get((kind, key), wanted) if action.route is Route.IMPORT else wanted
        obj = objects[kind].get(action.remote_id if action.remote_id is not None else -1)
        return obj.priority if obj is not None else wanted

    for members in groups.values():
        members.sort()
        finals = [final(kind, key, wanted) for wanted, _, kind, key in members]
        in_order = all(
            a is None or b is None or a < b or (a == b and members[n][0] == members[n + 1][0])
            for n, (a, b) in enumerate(itertools.pairwise(finals))
        )
        for (wanted, _, kind, key), now in zip(members, finals, strict=True):
            i = index.get((kind, key))
            if i is None or now is None:
                continue
            action = actions[i]
            if action.kind is ActionKind.CREATE:
                if action.route is Route.IMPORT and not in_order and now != wanted:
                    actions[i] = replace(action, changes=(*action.changes, "priority"))
                continue
            needs = not in_order and now != wanted
            actions[i] = _with_priority(action, needs)


def _with_priority(action: Action, needed: bool) -> Action:
    """``action`` with ``priority`` among its changes exactly when ``needed``."""
    has = "priority" in action.changes
    if has == needed or action.kind not in (
        ActionKind.UNCHANGED,
        ActionKind.REORDER,
        ActionKind.UPDATE,
        ActionKind.ADOPT,
        ActionKind.CLAIM,
    ):
        if needed and not has and action.kind is ActionKind.MOVE:
            return replace(action, changes=(*action.changes, "priority"))
        return action
    if needed:
        kind = ActionKind.REORDER if action.kind is ActionKind.UNCHANGED else action.kind
        return replace(action, kind=kind, changes=(*action.changes, "priority"))
    rest = tuple(c for c in action.changes if c != "priority")
    if action.kind is ActionKind.REORDER and not rest:
        return replace(action, kind=ActionKind.UNCHANGED, changes=())
    if action.kind is ActionKind.UPDATE and not rest:
        return replace(action, kind=ActionKind.UNCHANGED, changes=())
    return replace(action, changes=rest)
