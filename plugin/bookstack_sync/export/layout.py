"""Where each exported object goes: shelf, book and chapter folders by slug, pages numbered in BookStack's
order, and the problems of what cannot be represented in a docs tree.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..docs.structure import slugify
from ..markdown.localize import Target
from ..plan.tags import SYSTEM_TAGS
from .read import (
    MAX_ORDER,
    RESERVED_ROOT,
    SLUG_MAX,
    ExportFilter,
    Wiki,
    WikiContainer,
    WikiPage,
    books_to_export,
)


@dataclass(frozen=True)
class Problem:
    """Something of the wiki the docs tree cannot hold as it is, and what the export did about it."""

    kind: str  # stable id: unshelved-book, book-on-several-shelves, too-many-pages, ...
    object: str  # "book 12 'Guide'"
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "object": self.object, "detail": self.detail}


@dataclass
class Layout:
    """Where everything goes: structure entries, one file per page, the files beside them."""

    structure: list[dict[str, Any]] = field(default_factory=list)
    page_files: dict[int, str] = field(default_factory=dict)  # page id -> path
    page_category: dict[int, str] = field(default_factory=dict)
    page_order: dict[int, int] = field(default_factory=dict)
    folders: dict[tuple[Target, int], str] = field(default_factory=dict)  # container -> folder key
    overflow: list[WikiPage] = field(default_factory=list)  # pages a folder has no number left for
    problems: list[Problem] = field(default_factory=list)


def safe_slug(name: str, bookstack_slug: str, fallback: str) -> str:
    """A kebab-case path component: from the name, else BookStack's slug, else ``fallback`` (names of
    only emoji or non-Latin script). ``/``, ``..`` and every other character outside [a-z0-9] become '-'."""
    for candidate in (slugify(unicodedata.normalize("NFKC", name)), slugify(bookstack_slug)):
        cut = candidate[:SLUG_MAX].strip("-")
        if cut:
            return cut
    return fallback


def unique_name(slug: str, taken: set[str]) -> str:
    if slug not in taken:
        taken.add(slug)
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    taken.add(f"{slug}-{n}")
    return f"{slug}-{n}"


def label_of(obj: WikiContainer | WikiPage) -> str:
    kind = obj.kind.value if isinstance(obj, WikiContainer) else "page"
    return f"{kind} {obj.id} {obj.name!r}"


def lay_out(wiki: Wiki, wanted: ExportFilter, *, unshelved: str | None = None) -> Layout:
    layout = Layout()
    exported = set(books_to_export(wiki, wanted))
    shelves = sorted(
        (s for s in wiki.shelves.values() if wanted.eligible_shelf(s)), key=lambda s: (s.name.casefold(), s.id)
    )
    home: dict[int, int] = {}  # book id -> the shelf it is exported under
    for shelf in shelves:
        for book_id in wiki.shelf_books.get(shelf.id, []):
            if book_id not in exported:
                continue
            if book_id in home:
                layout.problems.append(
                    Problem(
                        "book-on-several-shelves",
                        label_of(wiki.books[book_id]),
                        f"also on shelf {shelf.name!r}: exported under shelf {wiki.shelves[home[book_id]].name!r} "
                        "only; sync leaves it on the other shelves",
                    )
                )
            else:
                home[book_id] = shelf.id
    loose = sorted((wiki.books[b] for b in exported if b not in home), key=lambda b: (b.name.casefold(), b.id))
    root_taken = set(RESERVED_ROOT)
    for shelf in shelves:
        books = [wiki.books[b] for b in wiki.shelf_books.get(shelf.id, []) if home.get(b) == shelf.id]
        if books:
            layout.structure.append(_lay_out_shelf(wiki, shelf, books, root_taken, layout))
        elif wanted.everything or wanted.shelf_named(shelf):
            layout.problems.append(
                Problem(
                    "empty-shelf", label_of(shelf), "holds no book to export: a shelf needs a book in the structure"
                )
            )
    for book in loose:
        if unshelved:
            detail = f"on no exported shelf: exported under the new shelf {unshelved!r}, which the first sync creates"
        else:
            detail = (
                "on no exported shelf, so it has no place in docs/<shelf>/<book>: not exported. Put it on a shelf in "
                "BookStack, or export again with --unshelved NAME to put such books on a new shelf"
            )
        layout.problems.append(Problem("unshelved-book", label_of(book), detail))
    if loose and unshelved:
        synthetic = WikiContainer(Target.SHELF, 0, unshelved, "", "")
        layout.structure.append(_lay_out_shelf(wiki, synthetic, loose, root_taken, layout))
    return layout


def _lay_out_shelf(
    wiki: Wiki, shelf: WikiContainer, books: list[WikiContainer], root_taken: set[str], layout: Layout
) -> dict[str, Any]:
    _, shelf_key, entry = _lay_out_container(shelf, "", root_taken, layout)
    book_entries = []
    book_taken: set[str] = set()
    for book in books:
        book_slug, key, book_entry = _lay_out_container(book, shelf_key, book_taken, layout)
        chapters = sorted((c for c in wiki.chapters.values() if c.book_id == book.id), key=lambda c: (c.priority, c.id))
        top_pages = _pages_in(wiki, book.id, None)
        _check_book_order(book, chapters, top_pages, layout)
        _number_pages(top_pages, key, book_slug, layout)
        chapter_entries = []
        chapter_taken: set[str] = set()
        for chapter in chapters:
            chapter_slug, chapter_key, chapter_entry = _lay_out_container(chapter, key, chapter_taken, layout)
            chapter_entries.append({"chapter": chapter_entry})
            _number_pages(_pages_in(wiki, book.id, chapter.id), chapter_key, chapter_slug, layout)
        if chapter_entries:
            book_entry["chapters"] = chapter_entries
        book_entries.append({"book": book_entry})
    entry["books"] = book_entries
    return {"shelf": entry}


def _lay_out_container(
    obj: WikiContainer, parent_key: str, taken: set[str], layout: Layout
) -> tuple[str, str, dict[str, Any]]:
    """A shelf's, book's or chapter's folder slug (unique among ``taken``, its siblings'), its folder key
    under ``parent_key`` ("" for a shelf) and its structure entry; records the folder and its problems."""
    slug = _checked_slug(obj, f"{obj.kind.value}-{obj.id}", taken, layout)
    key = f"{parent_key}/{slug}" if parent_key else slug
    layout.folders[(obj.kind, obj.id)] = key
    _container_problems(obj, layout)
    entry: dict[str, Any] = {"name": obj.name, "slug": slug}
    if obj.description:
        entry["description"] = obj.description
    return slug, key, entry


def _checked_slug(obj: WikiContainer, fallback: str, taken: set[str], layout: Layout) -> str:
    base = safe_slug(obj.name, obj.slug, fallback)
    slug = unique_name(base, taken)
    if slug != base:
        layout.problems.append(
            Problem(
                "slug-collision",
                label_of(obj),
                f"its name gives the folder name {base!r}, already taken by a sibling: exported as {slug!r}",
            )
        )
    return slug


def _container_problems(obj: WikiContainer, layout: Layout) -> None:
    own = [(n, v) for n, v in obj.tags if n not in SYSTEM_TAGS]
    if own:
        shown = ", ".join(f"{n}={v}" if v else n for n, v in own)
        layout.problems.append(
            Problem(
                "container-tags",
                label_of(obj),
                f"tags on a {obj.kind.value} are not part of the structure file: {shown}",
            )
        )


def _pages_in(wiki: Wiki, book_id: int, chapter_id: int | None) -> list[WikiPage]:
    return sorted(
        (p for p in wiki.pages.values() if p.book_id == book_id and p.chapter_id == chapter_id),
        key=lambda p: (p.priority, p.id),
    )


def _check_book_order(
    book: WikiContainer, chapters: list[WikiContainer], pages: list[WikiPage], layout: Layout
) -> None:
    if chapters and pages and min(c.priority for c in chapters) < max(p.priority for p in pages):
        layout.problems.append(
            Problem(
                "book-order",
                label_of(book),
                "pages directly in the book are shown between its chapters; in the docs tree they come first, "
                "so the first sync moves them before the chapters",
            )
        )


def _number_pages(pages: list[WikiPage], folder: str, category: str, layout: Layout) -> None:
    for position, page in enumerate(pages, start=1):
        if position > MAX_ORDER:
            layout.overflow.append(page)
            layout.problems.append(
                Problem(
                    "too-many-pages",
                    label_of(page),
                    f"{folder} holds {len(pages)} pages, more than the {MAX_ORDER} that `order` and the NN- prefix "
                    "allow: not in the docs tree; its Markdown is saved beside the report",
                )
            )
            continue
        slug = safe_slug(page.name, page.slug, f"page-{page.id}")
        layout.page_files[page.id] = f"{folder}/{position:02d}-{slug}.md"
        layout.page_category[page.id] = category
        layout.page_order[page.id] = position
