"""Plan: compare what BookStack should hold with what it holds, and list the actions that close the gap.

Pure: no I/O. Matching is by source key first (the ``bookstack-sync`` tag); then a key no managed
object carries may continue a managed key that is gone — renamed, renumbered or moved, told by git's
rename detection or by the criteria of ``identity`` — and the object is moved or renamed instead of
created beside an orphan; then an unmanaged object of the same name in the same parent is adopted.
Everything matched keeps its BookStack id, so revisions, comments and ``/link/<id>`` links survive.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace

from ..model import EDITED_IN_BOOKSTACK, Action, ActionKind, EntityKind, Plan, Route
from ..settings import OnDrift
from .desired import DesiredPage, DesiredState
from .identity import PageFacts, Pair, pair_containers, pair_pages, parent_of
from .remote import RemoteObject, RemoteState
from .tags import BODY_TAG


@dataclass(frozen=True)
class PlanOptions:
    adopt: bool = True
    on_drift: OnDrift = OnDrift.OVERWRITE
    prune: bool = False
    prune_limit: int = 25  # percent of managed pages
    use_import: bool = False  # the `import` setting allows ZIP imports (the server version is checked here)
    import_max_pages: int = 300


@dataclass(frozen=True)
class ImportUnit:
    """One ZIP import: a new book (with its book-level pages and leading chapters), or one new chapter."""

    kind: EntityKind  # BOOK or CHAPTER
    key: str
    chapter_keys: tuple[str, ...]  # chapters inside (a book unit), in book order
    page_keys: tuple[str, ...]  # every page inside, book-level first, then chapter by chapter

    @property
    def size(self) -> int:
        return len(self.page_keys)


@dataclass
class Matching:
    """Which remote object each desired key maps to (filled by the planner, extended by apply)."""

    ids: dict[tuple[EntityKind, str], int] = field(default_factory=dict)
    adopted: set[tuple[EntityKind, str]] = field(default_factory=set)
    import_units: list[ImportUnit] = field(default_factory=list)  # the ZIP imports the routed creates form
    duplicates: list[RemoteObject] = field(default_factory=list)  # same key twice: the higher ids
    orphans: list[RemoteObject] = field(default_factory=list)
    # new key -> the managed key it continues (renamed, renumbered or moved: same object, same id)
    previous: dict[tuple[EntityKind, str], Pair] = field(default_factory=dict)
    leaving: dict[int, set[int]] = field(default_factory=dict)  # shelf id -> books that moved to another shelf

    def id_of(self, kind: EntityKind, key: str) -> int | None:
        return self.ids.get((kind, key))

    def moved_containers(self) -> dict[str, str]:
        """old → new key of every shelf, book and chapter that continues under another key."""
        return {pair.old: key for (kind, key), pair in self.previous.items() if kind is not EntityKind.PAGE}


# Which desired fields count toward a page's stored hash: what the page *is*, not when it was synced.
def page_hash(page: DesiredPage, markdown: str, parent_id_key: str) -> str:
    payload = {
        "name": page.name,
        "markdown": markdown,
        "tags": [list(tag) for tag in page.tags],
        "parent": parent_id_key,
        "priority": page.priority,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return digest[:32]


def body_hash(markdown: str) -> str:
    """The hash of a page's body alone: it survives a new file name, title, parent or order, so a page
    renamed and retitled at once is still recognised without git history."""
    return hashlib.sha256(markdown.encode()).hexdigest()[:32]


CanonicalRender = Callable[[DesiredPage, Matching], str | None]
"""Renders a page with links resolved to the ids known now and assets as content hashes; ``None`` when
a link target has no id yet (the page must be written after that target is created)."""


def plan_sync(
    desired: DesiredState,
    remote: RemoteState,
    render: CanonicalRender,
    options: PlanOptions,
    renames: Mapping[str, str] | None = None,
) -> tuple[Plan, Matching]:
    """The plan and the matching it is based on. ``renames`` maps old page keys to new ones as git's
    rename detection saw them since each page was last written (``history``); empty without history."""
    matching = Matching()
    actions: list[Action] = []
    notes: list[str] = []
    renames = renames or {}

    _plan_containers(desired, remote, options, matching, actions, renames)
    _plan_pages(desired, remote, render, options, matching, actions, renames)
    landing = plan_routes(desired, remote, options, matching, actions, notes)
    _settle_priorities(desired, remote, matching, actions, landing)
    _plan_orphans(desired, remote, options, matching, actions, notes)
    return Plan(tuple(actions), tuple(notes)), matching


def _adopt(kind: EntityKind, key: str, name: str, candidates: list[RemoteObject], matching: Matching) -> None:
    """The first unmanaged object of the same name among ``candidates`` (in BookStack's order, so
    same-named siblings pair up as an export numbered them) not yet taken becomes this key's object."""
    taken = {object_id for (k, _key), object_id in matching.ids.items() if k is kind}
    for obj in candidates:
        if obj.key is None and obj.id not in taken and obj.name.strip() == name.strip():
            matching.ids[(kind, key)] = obj.id
            matching.adopted.add((kind, key))
            return


def _match_containers(
    kind: EntityKind,
    names: dict[str, str],
    remote: RemoteState,
    options: PlanOptions,
    matching: Matching,
    renames: Mapping[str, str],
    candidates: Callable[[str], list[RemoteObject]],
) -> None:
    """Match every desired shelf, book or chapter (key -> name): by key, then as the continuation of a
    managed key that is gone, then by adopting an unmanaged object of the same name."""
    managed = remote.managed(kind)
    for key in names:
        objs = managed.get(key, [])
        if objs:
            matching.ids[(kind, key)] = objs[0].id
            matching.duplicates.extend(objs[1:])
    loose = {key: objs[0].name for key, objs in managed.items() if key not in names}
    unmatched = {key: name for key, name in names.items() if (kind, key) not in matching.ids}
    if loose and unmatched:
        pairs = pair_containers(kind, loose, unmatched, renames, matching.moved_containers())
        for key, pair in pairs.items():
            objs = managed[pair.old]
            matching.ids[(kind, key)] = objs[0].id
            matching.duplicates.extend(objs[1:])
            matching.previous[(kind, key)] = pair
    if options.adopt:
        for key, name in names.items():
            if (kind, key) not in matching.ids:
                _adopt(kind, key, name, candidates(key), matching)


def _container_action(
    kind: EntityKind, key: str, name: str, obj: RemoteObject | None, changes: list[str], matching: Matching
) -> Action:
    if obj is None:
        return Action(ActionKind.CREATE, kind, key, name)
    if (kind, key) in matching.adopted:
        return Action(
            ActionKind.ADOPT, kind, key, name, obj.id, (*tuple(changes), "tags"), "unmanaged object of the same name"
        )
    previous = matching.previous.get((kind, key))
    detail = _with_rename(f"{previous.old} → {key} ({previous.reason})" if previous else "", obj, name)
    if changes:
        if {"parent", "shelf"} & set(changes):
            return Action(ActionKind.MOVE, kind, key, name, obj.id, tuple(changes), detail)
        only_order = set(changes) <= {"priority", "books"}
        action_kind = ActionKind.REORDER if only_order else ActionKind.UPDATE
        return Action(action_kind, kind, key, name, obj.id, tuple(changes), detail)
    return Action(ActionKind.UNCHANGED, kind, key, name, obj.id)


def _with_rename(detail: str, obj: RemoteObject, name: str) -> str:
    """``detail`` with the old and new name when the object is renamed, so a reader sees both."""
    if obj.name == name:
        return detail
    renamed = f"renamed {obj.name!r} → {name!r}"
    return f"{detail}; {renamed}" if detail else renamed


def _text_changes(obj: RemoteObject | None, name: str, description: str) -> list[str]:
    """Which of name and description differ. BookStack derives the plain description from its HTML
    copy, so line breaks may come back as other whitespace: compare the words."""
    if obj is None:
        return []
    changes = []
    if obj.name != name:
        changes.append("name")
    if obj.description.split() != description.split():
        changes.append("description")
    return changes


def _plan_containers(
    desired: DesiredState,
    remote: RemoteState,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
    renames: Mapping[str, str],
) -> None:
    shelves = remote.of(EntityKind.SHELF)
    books = remote.of(EntityKind.BOOK)
    chapters = remote.of(EntityKind.CHAPTER)

    def books_on_shelf(book_key: str) -> list[RemoteObject]:
        shelf_id = matching.id_of(EntityKind.SHELF, desired.books[book_key].shelf_key)
        return [books[i] for i in remote.shelf_books.get(shelf_id, []) if i in books] if shelf_id else []

    def chapters_in_book(chapter_key: str) -> list[RemoteObject]:
        book_id = matching.id_of(EntityKind.BOOK, desired.chapters[chapter_key].book_key)
        found = [c for c in chapters.values() if book_id is not None and c.book_id == book_id]
        return sorted(found, key=lambda c: (c.priority, c.id))

    _match_containers(
        EntityKind.SHELF,
        {s.key: s.name for s in desired.shelves.values()},
        remote,
        options,
        matching,
        renames,
        lambda _: sorted(shelves.values(), key=lambda o: o.id),
    )
    for shelf in desired.shelves.values():
        obj = shelves.get(matching.id_of(EntityKind.SHELF, shelf.key) or -1)
        changes = _text_changes(obj, shelf.name, shelf.description) + _key_change(matching, EntityKind.SHELF, shelf.key)
        actions.append(_container_action(EntityKind.SHELF, shelf.key, shelf.name, obj, changes, matching))

    _match_containers(
        EntityKind.BOOK,
        {b.key: b.name for b in desired.books.values()},
        remote,
        options,
        matching,
        renames,
        books_on_shelf,
    )
    moved = matching.moved_containers()
    managed_shelves = remote.managed(EntityKind.SHELF)
    for book in desired.books.values():
        obj = books.get(matching.id_of(EntityKind.BOOK, book.key) or -1)
        changes = _text_changes(obj, book.name, book.description) + _key_change(matching, EntityKind.BOOK, book.key)
        previous = matching.previous.get((EntityKind.BOOK, book.key))
        if obj is not None and previous is not None:
            old_shelf = parent_of(previous.old)
            if moved.get(old_shelf, old_shelf) != book.shelf_key and old_shelf in managed_shelves:
                # its old shelf's list must let it go, its new shelf's list take it
                changes.append("shelf")
                matching.leaving.setdefault(managed_shelves[old_shelf][0].id, set()).add(obj.id)
        actions.append(_container_action(EntityKind.BOOK, book.key, book.name, obj, changes, matching))

    _match_containers(
        EntityKind.CHAPTER,
        {c.key: c.name for c in desired.chapters.values()},
        remote,
        options,
        matching,
        renames,
        chapters_in_book,
    )
    for chapter in desired.chapters.values():
        book_id = matching.id_of(EntityKind.BOOK, chapter.book_key)
        obj = chapters.get(matching.id_of(EntityKind.CHAPTER, chapter.key) or -1)
        changes = _text_changes(obj, chapter.name, chapter.description)
        if obj is not None:
            if obj.priority != chapter.priority:
                changes.append("priority")
            if book_id is None or obj.book_id != book_id:  # None: its book is created this run
                changes.append("parent")  # BookStack moves its pages with it (ParentChanger::changeBook)
        changes += _key_change(matching, EntityKind.CHAPTER, chapter.key)
        actions.append(_container_action(EntityKind.CHAPTER, chapter.key, chapter.name, obj, changes, matching))
    # a shelf gone from the structure still lists the books that moved off it: they leave it too
    desired_shelf_ids = {matching.id_of(EntityKind.SHELF, key) for key in desired.shelves}
    if not options.prune:  # pruned, it goes to the recycle bin anyway
        for key, objs in remote.managed(EntityKind.SHELF).items():
            if objs[0].id in matching.leaving and objs[0].id not in desired_shelf_ids:
                detail = "gone from the structure: the books that moved to other shelves leave its list"
                actions.append(
                    Action(ActionKind.UPDATE, EntityKind.SHELF, key, objs[0].name, objs[0].id, ("books",), detail)
                )
    # shelf membership: managed books in structure order, then every other book already there
    for shelf in desired.shelves.values():
        shelf_id = matching.id_of(EntityKind.SHELF, shelf.key)
        wanted = [matching.id_of(EntityKind.BOOK, k) for k in shelf.book_keys]
        if shelf_id is None:
            continue  # a new shelf is created with its books
        current = remote.shelf_books.get(shelf_id, [])
        # a book created this run has no id yet: the list changes, and apply writes it once the book exists
        desired_list = shelf_books_order([i for i in wanted if i is not None], current, matching.leaving.get(shelf_id))
        if None in wanted or desired_list != current:
            for index, action in enumerate(actions):
                if action.entity is EntityKind.SHELF and action.key == shelf.key:
                    with_books = tuple(dict.fromkeys((*action.changes, "books")))
                    kind = action.kind if action.kind is not ActionKind.UNCHANGED else ActionKind.REORDER
                    actions[index] = Action(
                        kind, EntityKind.SHELF, shelf.key, shelf.name, shelf_id, with_books, action.detail
                    )


def _key_change(matching: Matching, kind: EntityKind, key: str) -> list[str]:
    """``key`` among the changes of an object that continues another key: its source-key tag is rewritten."""
    return ["key"] if (kind, key) in matching.previous else []


def shelf_books_order(managed: list[int], current: list[int], leaving: set[int] | None = None) -> list[int]:
    """The shelf's book list: managed books in structure order, then the others in their existing order,
    less the managed books that moved to another shelf."""
    gone = set(managed) | (leaving or set())
    return managed + [book_id for book_id in current if book_id not in gone]


def _plan_pages(
    desired: DesiredState,
    remote: RemoteState,
    render: CanonicalRender,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
    renames: Mapping[str, str],
) -> None:
    pages = remote.of(EntityKind.PAGE)
    managed = remote.managed(EntityKind.PAGE)
    desired_keys = set(desired.pages) | set(desired.skipped)
    # managed pages whose key is gone can still be the same page: renamed, renumbered or moved
    loose = {key: objs[0] for key, objs in managed.items() if key not in desired_keys}
    for key, objs in managed.items():
        if key in desired_keys:
            matching.ids[(EntityKind.PAGE, key)] = objs[0].id
        matching.duplicates.extend(objs[1:])

    unmatched = {p.key: p.name for p in desired.pages.values() if (EntityKind.PAGE, p.key) not in matching.ids}
    if loose and unmatched:
        _pair_pages(desired, render, matching, loose, unmatched, renames)
    # adoption: an unmanaged page of the same name in the same parent
    adopted_ids: set[int] = set()
    for page in desired.pages.values():
        if (EntityKind.PAGE, page.key) in matching.ids or not options.adopt:
            continue
        book_id = matching.id_of(EntityKind.BOOK, page.book_key)
        chapter_id = matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
        if book_id is None or (page.chapter_key and chapter_id is None):
            continue
        # in BookStack's order, so same-named pages pair up as an export numbered them
        for obj in sorted(pages.values(), key=lambda o: (o.priority, o.id)):
            if (
                obj.key is None
                and obj.id not in adopted_ids
                and obj.name.strip() == page.name
                and obj.book_id == book_id
                and obj.chapter_id == chapter_id
            ):
                matching.ids[(EntityKind.PAGE, page.key)] = obj.id
                matching.adopted.add((EntityKind.PAGE, page.key))
                adopted_ids.add(obj.id)
                break
    matching.orphans.extend(loose.values())

    for page in desired.pages.values():
        actions.append(_page_action(page, pages, render, options, matching))
    for key, why in desired.skipped.items():
        existing = managed.get(key)
        remote_id = existing[0].id if existing else None
        actions.append(Action(ActionKind.SKIP, EntityKind.PAGE, key, key, remote_id, (), f"not published ({why})"))


def _pair_pages(
    desired: DesiredState,
    render: CanonicalRender,
    matching: Matching,
    loose: dict[str, RemoteObject],
    unmatched: dict[str, str],
    renames: Mapping[str, str],
) -> None:
    """Give each new page key that continues a loose one its object (taken out of ``loose``)."""
    rendered: dict[str, str] = {}

    def markdown(key: str) -> str | None:
        if key not in rendered:
            text = render(desired.pages[key], matching)
            if text is None:
                return None  # a link target without an id yet: it may get one from a later pair
            rendered[key] = text
        return rendered[key]

    def body_of(key: str) -> str | None:
        text = markdown(key)
        return body_hash(text) if text is not None else None

    def full_hash_of(key: str) -> str | None:
        text = markdown(key)
        page = desired.pages[key]
        return page_hash(page, text, page.parent_key) if text is not None else None

    def paired(new: str, old: str) -> None:
        matching.ids[(EntityKind.PAGE, new)] = loose.pop(old).id

    facts = {key: PageFacts(obj.name, obj.tag(BODY_TAG) or None, obj.content_hash) for key, obj in loose.items()}
    pairs = pair_pages(facts, unmatched, body_of, full_hash_of, renames, matching.moved_containers(), on_pair=paired)
    for key, pair in pairs.items():
        matching.previous[(EntityKind.PAGE, key)] = pair


def _page_action(
    page: DesiredPage,
    pages: dict[int, RemoteObject],
    render: CanonicalRender,
    options: PlanOptions,
    matching: Matching,
) -> Action:
    page_id = matching.id_of(EntityKind.PAGE, page.key)
    obj = pages.get(page_id) if page_id is not None else None
    if obj is None:
        return Action(ActionKind.CREATE, EntityKind.PAGE, page.key, page.name)
    changes: list[str] = []
    book_id = matching.id_of(EntityKind.BOOK, page.book_key)
    chapter_id = matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
    if page.chapter_key:
        # a page in a chapter goes wherever its chapter goes: only the chapter is compared
        moves = chapter_id is None or obj.chapter_id != chapter_id
    else:
        moves = book_id is None or obj.book_id != book_id or obj.chapter_id is not None
    if moves:
        changes.append("parent")
    if obj.name != page.name:
        changes.append("name")
    if obj.priority != page.priority:
        changes.append("priority")
    markdown = render(page, matching)
    if markdown is None or obj.content_hash != page_hash(page, markdown, page.parent_key):
        changes.append("content")
    key = (EntityKind.PAGE, page.key)
    if key in matching.adopted:
        return Action(
            ActionKind.ADOPT,
            EntityKind.PAGE,
            page.key,
            page.name,
            obj.id,
            (*tuple(changes), "tags"),
            "unmanaged page of the same name",
        )
    previous = matching.previous.get(key)
    if previous is not None:
        changes.append("key")
    if obj.drifted:
        editor = f" by {obj.updated_by_name}" if obj.updated_by_name else ""
        detail = f"{EDITED_IN_BOOKSTACK}{editor}, revision {obj.revision_count} after our {obj.recorded_revision}"
        if options.on_drift is OnDrift.OVERWRITE:
            return Action(
                ActionKind.UPDATE,
                EntityKind.PAGE,
                page.key,
                page.name,
                obj.id,
                tuple(dict.fromkeys([*changes, "content"])),
                detail + "; git wins",
            )
        outcome = "kept (on_drift: skip)" if options.on_drift is OnDrift.SKIP else "the run stops (on_drift: fail)"
        return Action(
            ActionKind.DRIFT, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes), f"{detail}; {outcome}"
        )
    if previous is not None:
        # a new file name or folder is a move in git's words, even within one chapter
        detail = _with_rename(f"{previous.old} → {page.key} ({previous.reason})", obj, page.name)
        return Action(ActionKind.MOVE, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes), detail)
    if not changes:
        return Action(ActionKind.UNCHANGED, EntityKind.PAGE, page.key, page.name, obj.id)
    if changes == ["priority"]:
        return Action(ActionKind.REORDER, EntityKind.PAGE, page.key, page.name, obj.id, ("priority",))
    kind = ActionKind.MOVE if "parent" in changes else ActionKind.UPDATE
    return Action(kind, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes), _with_rename("", obj, page.name))


def _plan_orphans(
    desired: DesiredState,
    remote: RemoteState,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
    notes: list[str],
) -> None:
    kind_of_delete = ActionKind.DELETE if options.prune else ActionKind.ORPHAN
    for obj in matching.duplicates:
        # a second object with the same key: made by two runs at once; ours, so safe to remove
        actions.append(
            Action(
                ActionKind.DELETE,
                obj.kind,
                obj.key or "",
                obj.name,
                obj.id,
                (),
                "duplicate of the same source (concurrent runs)",
            )
        )
    for obj in matching.orphans:
        actions.append(
            Action(kind_of_delete, EntityKind.PAGE, obj.key or "", obj.name, obj.id, (), "source file is gone")
        )
    desired_keys = {
        EntityKind.CHAPTER: set(desired.chapters),
        EntityKind.BOOK: set(desired.books),
        EntityKind.SHELF: set(desired.shelves),
    }
    continued = {(kind, obj_id) for (kind, _), obj_id in matching.ids.items()}
    for kind in (EntityKind.CHAPTER, EntityKind.BOOK, EntityKind.SHELF):
        for key, objs in remote.managed(kind).items():
            # a key that is gone but whose object continues under a new key is no orphan
            if key not in desired_keys[kind] and (kind, objs[0].id) not in continued:
                actions.append(
                    Action(kind_of_delete, kind, key, objs[0].name, objs[0].id, (), "no longer in the structure file")
                )


# --- ZIP import routes ---------------------------------------------------------------------------------

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


# --- priorities ---------------------------------------------------------------------------------------


def _settle_priorities(
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
