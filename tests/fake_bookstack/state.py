"""The in-memory content of the fake BookStack and the rules that keep it consistent.

Everything here is plain data plus the bookkeeping BookStack does on every write: slugs, priorities,
moves, the recycle bin and book sort rules. HTTP shapes live in ``api.py``.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from .activity import API_IP, Activity, Actor, deletion_descriptor, log, morph_class, remove_entity
from .markdown import random_suffix, slugify

# The token user (id 1) and the person editing in the UI (id 2, see ``FakeBookStack.edit_page_as_human``).
USERS: dict[int, dict[str, Any]] = {
    1: {"id": 1, "name": "Admin", "slug": "admin"},
    2: {"id": 2, "name": "Human Editor", "slug": "human-editor"},
}
API_USER = 1
HUMAN_USER = 2

# BookStack sets Laravel's default string length to 191 and its MariaDB connection runs with
# ``strict => false``: names, tag names and tag values longer than that are cut without an error (§12).
COLUMN_MAX = 191


def stored_text(text: str) -> str:
    """What a varchar(191) column keeps of ``text``."""
    return text[:COLUMN_MAX]


def stored_name(data: dict[str, Any]) -> None:
    """Cut a validated input's ``name`` (validation allows 255) as the database will store it."""
    if isinstance(data.get("name"), str):
        data["name"] = stored_text(data["name"])


SORT_OPERATIONS = (
    "name_asc",
    "name_desc",
    "name_numeric_asc",
    "name_numeric_desc",
    "created_date_asc",
    "created_date_desc",
    "updated_date_asc",
    "updated_date_desc",
    "chapters_first",
    "chapters_last",
)


def check_sort_rule(rule: str | None) -> None:
    """A sort rule is comma-separated operations, e.g. ``"chapters_first,name_asc"``."""
    unknown = [op for op in rule.split(",") if op.strip() not in SORT_OPERATIONS] if rule is not None else []
    if unknown:
        raise ValueError(f"unknown sort operations: {unknown}")


def parse_version(version: str) -> tuple[int, int, int]:
    """``"v25.02.4"`` -> ``(25, 2, 4)``; missing parts are 0, a ``-dev`` tail is ignored."""
    numbers = [int(part) for part in re.findall(r"\d+", version.split("-")[0])[:3]]
    while len(numbers) < 3:
        numbers.append(0)
    return numbers[0], numbers[1], numbers[2]


def iso(moment: datetime) -> str:
    """BookStack's JSON timestamp format, ``2026-11-26T06:11:06.000000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# The ``tags`` table's auto-increment id: BookStack deletes an item's tag rows and inserts new ones on
# every tag write (``TagRepo::saveTagsToEntity``), so the item whose tags were written last has the
# highest rows. An unordered tag search can come back in this order (see ``Api.search``).
_TAG_ROWS = itertools.count(1)


@dataclass
class Tag:
    name: str
    value: str = ""
    row: int = field(default_factory=lambda: next(_TAG_ROWS), compare=False, repr=False)

    def as_json(self) -> dict[str, Any]:
        # API-written tags all get order 0 (TagRepo::saveTagsToEntity; transcripts 02, 11).
        return {"name": self.name, "value": self.value, "order": 0}


@dataclass
class Shelf:
    id: int
    name: str
    slug: str
    description: str
    description_html: str
    created_at: datetime
    updated_at: datetime
    tags: list[Tag] = field(default_factory=list)
    book_ids: list[int] = field(default_factory=list)
    created_by: int = API_USER
    updated_by: int = API_USER
    owned_by: int = API_USER


@dataclass
class Book:
    id: int
    name: str
    slug: str
    description: str
    description_html: str
    created_at: datetime
    updated_at: datetime
    tags: list[Tag] = field(default_factory=list)
    default_template_id: int | None = None
    sort_rule: str | None = None
    created_by: int = API_USER
    updated_by: int = API_USER
    owned_by: int = API_USER


@dataclass
class Chapter:
    id: int
    book_id: int
    name: str
    slug: str
    description: str
    description_html: str
    priority: int
    created_at: datetime
    updated_at: datetime
    tags: list[Tag] = field(default_factory=list)
    default_template_id: int | None = None
    created_by: int = API_USER
    updated_by: int = API_USER
    owned_by: int = API_USER


@dataclass
class Page:
    id: int
    book_id: int
    chapter_id: int | None  # None = at the top level of the book (shown as 0 or null, see Store)
    name: str
    slug: str
    html: str  # the stored HTML (``raw_html``); ``html`` in responses is the same here (no includes)
    markdown: str
    editor: str
    priority: int
    created_at: datetime
    updated_at: datetime
    tags: list[Tag] = field(default_factory=list)
    revision_count: int = 1
    draft: bool = False
    template: bool = False
    created_by: int = API_USER
    updated_by: int = API_USER
    owned_by: int = API_USER


@dataclass
class Image:
    id: int
    name: str
    type: str  # gallery | drawio
    uploaded_to: int | None
    path: str  # "/uploads/images/gallery/2026-11/cat.png"
    data: bytes
    created_at: datetime
    updated_at: datetime
    created_by: int = API_USER
    updated_by: int = API_USER


@dataclass
class Attachment:
    id: int
    name: str
    uploaded_to: int
    external: bool
    link: str  # the URL for links, "" for files
    data: bytes  # the file for uploads, b"" for links
    extension: str
    order: int
    created_at: datetime
    updated_at: datetime
    created_by: int = API_USER
    updated_by: int = API_USER


@dataclass
class ImportRecord:
    id: int
    name: str
    type: str  # book | chapter | page
    size: int
    path: str
    data: dict[str, Any]  # the parsed data.json
    files: dict[str, bytes]  # "files/<name>" entries of the ZIP, keyed by <name>
    created_at: datetime
    updated_at: datetime
    created_by: int = API_USER
    reserved: dict[str, list[int]] = field(default_factory=dict)  # ids its running transaction took


@dataclass
class Deletion:
    """One recycle-bin entry: the deleted item and everything that went with it."""

    id: int
    deletable_type: str  # page | chapter | book | bookshelf
    deletable_id: int
    created_at: datetime
    updated_at: datetime
    items: list[tuple[str, Any]] = field(default_factory=list)  # (kind, entity) removed from the store
    deleted_by: int = API_USER


class Store:
    """All content of one fake instance. Callers hold ``lock`` (in ``server.py``) around every use."""

    def __init__(self, *, version: tuple[int, int, int], chapterless_chapter_id: int | None) -> None:
        self.version = version
        self.chapterless_chapter_id = chapterless_chapter_id
        self.shelves: dict[int, Shelf] = {}
        self.books: dict[int, Book] = {}
        self.chapters: dict[int, Chapter] = {}
        self.pages: dict[int, Page] = {}
        # created, but a failed permission rebuild left them without joint_permissions rows: invisible
        self.without_permissions: list[tuple[str, Any]] = []
        self.images: dict[int, Image] = {}
        self.attachments: dict[int, Attachment] = {}
        self.imports: dict[int, ImportRecord] = {}
        self.recycle_bin: dict[int, Deletion] = {}
        self.app_timezone: tzinfo = UTC  # BookStack's APP_TIMEZONE (set by FakeBookStack)
        self._counters: dict[str, int] = {}
        # where ids start: 1 on a fresh BookStack; a wiki in use has ids of five or six digits, which is
        # what a tag value holding ids (the sync record) must fit with
        self.first_id = 1
        # ids an uncommitted transaction took before others wrote (see ``reserve_ids``), handed out first
        self._reserved: dict[str, list[int]] = {}
        # how far the server's clock is from this machine's (a test sets it to model a server clock
        # that is off, or that moved back)
        self.clock_offset = timedelta(0)
        # time the tests skipped instead of waiting for it (``FakeBookStack.advance_clock``): only grows
        self.clock_skipped = timedelta(0)
        self.sort_rule_ids: dict[str, int] = {}
        # the audit log (``activity.py``) and who the writes now being made are logged for
        self.activities: list[Activity] = []
        self.actor = Actor(API_USER, API_IP)

    # ------------------------------------------------------------------------------------- ids & time

    def lose_permissions(self, collection: str, entity_id: int) -> None:
        """A create whose permission rebuild failed (BookStack issue #4838): the row stays in the database,
        but without ``joint_permissions`` rows no API call sees it (admin included). The rebuild comes before
        the repo's ``Activity::add`` (``BaseRepo::create``, ``PageRepo::getNewDraftPage``): nothing was logged."""
        stores: dict[str, dict[int, Any]] = {"pages": self.pages, "chapters": self.chapters, "books": self.books}
        item = stores[collection].pop(entity_id)
        self.without_permissions.append((collection, item))
        self.activities = [
            a for a in self.activities if (a.loggable_type, a.loggable_id) != (morph_class(item), item.id)
        ]

    def regenerate_permissions(self) -> list[int]:
        """``php artisan bookstack:regenerate-permissions``: every stored object is visible again."""
        stores: dict[str, dict[int, Any]] = {"pages": self.pages, "chapters": self.chapters, "books": self.books}
        restored = []
        for collection, item in self.without_permissions:
            stores[collection][item.id] = item
            restored.append(item.id)
        self.without_permissions = []
        return restored

    def next_id(self, kind: str) -> int:
        """A fresh id; deleted ids are never reused (auto-increment).

        From v25.11 shelves, books, chapters and pages live in one ``entities`` table, so new items of
        those types draw from one sequence (the v26 transcripts show book 1, page 2, chapter 3, page 4).
        """
        kind = self._sequence(kind)
        if self._reserved.get(kind):
            return self._reserved[kind].pop(0)
        self._counters[kind] = self._counters.get(kind, self.first_id - 1) + 1
        return self._counters[kind]

    def _sequence(self, kind: str) -> str:
        if kind in ("shelf", "book", "chapter", "page") and self.version >= (25, 11, 0):
            return "entity"
        return kind

    def reserve_ids(self, kinds: list[str]) -> dict[str, list[int]]:
        """Take ids now for items created later, as a MariaDB transaction does: auto-increment values are
        handed out at insert time, but the rows become visible only at commit, so writes committed in
        between get higher ids yet are seen first. ``use_reserved`` gives them back to ``next_id``."""
        taken: dict[str, list[int]] = {}
        for kind in kinds:
            sequence = self._sequence(kind)
            self._counters[sequence] = self._counters.get(sequence, self.first_id - 1) + 1
            taken.setdefault(sequence, []).append(self._counters[sequence])
        return taken

    def use_reserved(self, taken: dict[str, list[int]]) -> None:
        self._reserved = {sequence: list(ids) for sequence, ids in taken.items()}

    def now(self) -> datetime:
        """The server's clock in whole seconds, as BookStack stores timestamps (``.000000Z``): two writes
        in one second share an ``updated_at``, and a clock set back gives earlier times than before."""
        return (datetime.now(UTC) + self.clock_offset + self.clock_skipped).replace(microsecond=0)

    # ----------------------------------------------------------------------------------------- slugs

    def unique_slug(self, kind: str, name: str, *, book_id: int | None = None, exclude: int | None = None) -> str:
        """``SlugGenerator``: pages and chapters are unique per book, books and shelves globally.

        Items in the recycle bin do not count (they are not in these dicts).
        """
        pool: list[Any]
        if kind == "page":
            pool = [p for p in self.pages.values() if p.book_id == book_id]
        elif kind == "chapter":
            pool = [c for c in self.chapters.values() if c.book_id == book_id]
        elif kind == "book":
            pool = list(self.books.values())
        else:
            pool = list(self.shelves.values())
        taken = {item.slug for item in pool if item.id != exclude}
        slug = slugify(name)
        while slug in taken:
            slug = f"{slugify(name)}-{random_suffix()}"
        return slug

    # ------------------------------------------------------------------------------------ priorities

    def book_last_priority(self, book_id: int) -> int:
        """``BookContents::getLastPriority``: max over chapters and loose pages, never below 1."""
        prios = [c.priority for c in self.chapters.values() if c.book_id == book_id]
        prios += [p.priority for p in self.pages.values() if p.book_id == book_id and p.chapter_id is None]
        return max([*prios, 1])

    def chapter_next_priority(self, chapter_id: int) -> int:
        """Last page priority + 1. An empty chapter gives 1, as observed (transcript 02, v26 imports)."""
        prios = [p.priority for p in self.pages.values() if p.chapter_id == chapter_id]
        return max([*prios, 0]) + 1

    def chapter_id_out(self, page: Page) -> int | None:
        """How a page's chapter_id is shown: its chapter, or 0 / null for book-level pages."""
        return page.chapter_id if page.chapter_id is not None else self.chapterless_chapter_id

    # ----------------------------------------------------------------------------------------- moves

    def move_page(self, page: Page, *, book_id: int, chapter_id: int | None) -> None:
        """``PageRepo::move``: keeps the priority, regenerates the slug when the book changes."""
        if page.book_id != book_id:
            page.slug = self.unique_slug("page", page.name, book_id=book_id, exclude=page.id)
        page.book_id = book_id
        page.chapter_id = chapter_id

    def move_chapter(self, chapter: Chapter, book_id: int) -> None:
        """``ChapterRepo::move``: the chapter and all its pages, those in the recycle bin too, go to the
        other book, with new slugs and a new ``updated_at`` each (``BookChild::changeBook`` saves every one)."""
        if chapter.book_id == book_id:
            return
        moment = self.now()
        chapter.book_id = book_id
        chapter.slug = self.unique_slug("chapter", chapter.name, book_id=book_id, exclude=chapter.id)
        chapter.updated_at = moment
        binned = [e for d in self.recycle_bin.values() for k, e in d.items if k == "page"]
        for page in [*self.pages.values(), *binned]:
            if page.chapter_id == chapter.id:
                # BookChild::changeBook saves each page with its new book_id, those in the recycle bin too
                # (`pages()->withTrashed()`): its updated_at moves too
                page.book_id = book_id
                page.slug = self.unique_slug("page", page.name, book_id=book_id, exclude=page.id)
                page.updated_at = moment

    # ------------------------------------------------------------------------------------ sort rules

    def sort_rule_id(self, book: Book) -> int | None:
        if book.sort_rule is None:
            return None
        return self.sort_rule_ids.setdefault(book.sort_rule, len(self.sort_rule_ids) + 1)

    def run_book_auto_sort(self, book_id: int) -> None:
        """``BookSorter::runBookAutoSort``: renumber 1..n by the book's rule, without touching timestamps."""
        book = self.books.get(book_id)
        if book is None or not book.sort_rule:
            return
        operations = [op.strip() for op in book.sort_rule.split(",") if op.strip()]
        top: list[Chapter | Page] = [c for c in self.chapters.values() if c.book_id == book_id]
        top += [p for p in self.pages.values() if p.book_id == book_id and p.chapter_id is None]
        for index, item in enumerate(_sorted_by_rule(top, operations), start=1):
            item.priority = index
        for chapter in [c for c in self.chapters.values() if c.book_id == book_id]:
            pages: list[Chapter | Page] = [p for p in self.pages.values() if p.chapter_id == chapter.id]
            for index, item in enumerate(_sorted_by_rule(pages, operations), start=1):
                item.priority = index

    # ----------------------------------------------------------------------------------- book tree

    def book_contents(self, book_id: int) -> list[Chapter | Page]:
        """Chapters and loose pages of a book in display order (priority, then id as the DB would)."""
        items: list[Chapter | Page] = [c for c in self.chapters.values() if c.book_id == book_id]
        items += [p for p in self.pages.values() if p.book_id == book_id and p.chapter_id is None]
        return sorted(items, key=lambda item: (item.priority, isinstance(item, Page), item.id))

    def chapter_pages(self, chapter_id: int) -> list[Page]:
        return sorted(
            (p for p in self.pages.values() if p.chapter_id == chapter_id),
            key=lambda p: (not p.draft, p.priority, p.id),
        )

    # -------------------------------------------------------------------------------- recycle bin

    def delete(self, kind: str, entity_id: int) -> Deletion:
        """Move an item (and for books/chapters its children) into the recycle bin."""
        moment = self.now()
        deletion = Deletion(
            id=self.next_id("deletion"),
            deletable_type="bookshelf" if kind == "shelf" else kind,
            deletable_id=entity_id,
            created_at=moment,
            updated_at=moment,
        )
        if kind == "shelf":
            deletion.items.append(("shelf", self.shelves.pop(entity_id)))
        elif kind == "book":
            for page in [p for p in self.pages.values() if p.book_id == entity_id]:
                deletion.items.append(("page", self.pages.pop(page.id)))
            for chapter in [c for c in self.chapters.values() if c.book_id == entity_id]:
                deletion.items.append(("chapter", self.chapters.pop(chapter.id)))
            deletion.items.append(("book", self.books.pop(entity_id)))
        elif kind == "chapter":
            for page in [p for p in self.pages.values() if p.chapter_id == entity_id]:
                deletion.items.append(("page", self.pages.pop(page.id)))
            deletion.items.append(("chapter", self.chapters.pop(entity_id)))
        else:
            deletion.items.append(("page", self.pages.pop(entity_id)))
        for _, entity in deletion.items:
            # Laravel's SoftDeletes::runSoftDelete sets updated_at with deleted_at (invisible until restored)
            entity.updated_at = moment
        self.recycle_bin[deletion.id] = deletion
        # the *Repo::destroy methods log after the soft delete
        log(self, f"{deletion.deletable_type}_delete", _deleted_item(deletion)[1])
        return deletion

    def restore(self, deletion_id: int) -> int:
        """``TrashCan::restoreFromDeletion`` (v25.02, v26.03): nothing comes back while the item's parent
        (a page's chapter or book, a chapter's book) is itself in the bin, and the entry goes either way.
        Else each item's ``restore()`` saves it, so its ``updated_at`` is the time of the restore (its
        ``created_at`` and ``revision_count`` are kept); a chapter or book brings back every one of its
        pages (a book: and chapters) still in the bin, deleted with it or before it, and their own entries
        go (``restoreEntity``: ``pages()->withTrashed()``, ``deletions()->delete()``). ``DeletionRepo::restore``
        logs ``recycle_bin_restore`` first, about the deletion (no entity: NULL loggable)."""
        deletion = self.recycle_bin.pop(deletion_id)
        kind, entity = _deleted_item(deletion)
        log(self, "recycle_bin_restore", deletion_descriptor(deletion, entity))
        if self._parent_trashed(kind, entity):
            return 0
        items = list(deletion.items)
        if kind in ("chapter", "book"):
            items += self._trashed_children(kind, entity.id)
        moment = self.now()
        for item_kind, item in items:
            item.updated_at = moment
            self._table(item_kind)[item.id] = item
        return len(items)

    def _parent_trashed(self, kind: str, entity: Any) -> bool:
        if kind == "page" and entity.chapter_id is not None and entity.chapter_id not in self.chapters:
            return True
        return kind in ("page", "chapter") and entity.book_id not in self.books

    def _trashed_children(self, kind: str, entity_id: int) -> list[tuple[str, Any]]:
        """The pages (and a book's chapters) of a chapter or book sitting in other bin entries, taken out
        of them; an entry whose own item is one of them goes."""
        found: list[tuple[str, Any]] = []
        for other_id, other in list(self.recycle_bin.items()):
            children = [
                (k, e)
                for k, e in other.items
                if k in ("page", "chapter")
                and (e.book_id == entity_id if kind == "book" else k == "page" and e.chapter_id == entity_id)
            ]
            if not children:
                continue
            found += children
            other.items = [item for item in other.items if item not in children]
            if (_kind_of(other.deletable_type), other.deletable_id) in {(k, e.id) for k, e in children}:
                del self.recycle_bin[other_id]
        return found

    def destroy(self, deletion_id: int) -> int:
        """``DeletionRepo::destroy``: ``recycle_bin_destroy`` is logged (NULL loggable), then
        ``TrashCan::destroyEntity`` destroys the item and, for a chapter or book, every page (a book: and
        chapter) of it still in the bin (``pages()->withTrashed()``), their own entries with them; the audit
        log's rows about each lose their loggable (``removeEntity``)."""
        deletion = self.recycle_bin.pop(deletion_id)
        kind, entity = _deleted_item(deletion)
        log(self, "recycle_bin_destroy", deletion_descriptor(deletion, entity))
        items = list(deletion.items)
        if kind in ("chapter", "book"):
            items += self._trashed_children(kind, entity.id)
        for kind, entity in items:
            remove_entity(self, entity)
            if kind == "page":
                # Attachments go with the page; images stay but lose their page (v25.11 behaviour).
                for att in [a for a in self.attachments.values() if a.uploaded_to == entity.id]:
                    del self.attachments[att.id]
                for image in self.images.values():
                    if image.uploaded_to == entity.id:
                        image.uploaded_to = None
        return len(items)

    def _table(self, kind: str) -> dict[int, Any]:
        tables: dict[str, dict[int, Any]] = {
            "shelf": self.shelves,
            "book": self.books,
            "chapter": self.chapters,
            "page": self.pages,
        }
        return tables[kind]


def _kind_of(deletable_type: str) -> str:
    return "shelf" if deletable_type == "bookshelf" else deletable_type


def _deleted_item(deletion: Deletion) -> tuple[str, Any]:
    """The (kind, entity) a recycle-bin entry is for, among the items that went with it."""
    wanted = (_kind_of(deletion.deletable_type), deletion.deletable_id)
    return next((k, e) for k, e in deletion.items if (k, e.id) == wanted)


def _numeric_key(name: str) -> tuple[float, str]:
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", name)
    return (float(match.group(1)) if match else float("inf"), name.lower())


def _sorted_by_rule(items: list[Chapter | Page], operations: list[str]) -> list[Chapter | Page]:
    """Apply the operations as successive sort keys (first operation = primary key)."""
    keyed: dict[str, tuple[Callable[[Chapter | Page], Any], bool]] = {
        "name_asc": (lambda i: i.name.lower(), False),
        "name_desc": (lambda i: i.name.lower(), True),
        "name_numeric_asc": (lambda i: _numeric_key(i.name), False),
        "name_numeric_desc": (lambda i: _numeric_key(i.name), True),
        "created_date_asc": (lambda i: i.created_at, False),
        "created_date_desc": (lambda i: i.created_at, True),
        "updated_date_asc": (lambda i: i.updated_at, False),
        "updated_date_desc": (lambda i: i.updated_at, True),
        "chapters_first": (lambda i: isinstance(i, Page), False),
        "chapters_last": (lambda i: isinstance(i, Chapter), False),
    }
    result = sorted(items, key=lambda i: (i.priority, i.id))
    for op in reversed(operations):
        if op in keyed:
            key, reverse = keyed[op]
            result.sort(key=key, reverse=reverse)
    return result
