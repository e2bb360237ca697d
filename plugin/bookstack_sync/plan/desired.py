"""What BookStack should hold, derived from the structure and the validated tree.

Keys identify everything: a shelf by its slug (``eng``), a book by ``shelf/book``, a chapter by
``shelf/book/chapter``, a page by its path relative to docs_dir. The keys are written into BookStack
as the value of the ``bookstack-sync`` tag, which is how later runs recognise what they manage.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..docs.structure import Structure
from ..docs.tree import DocsTree, PageSource
from ..markdown.content import Reference, RefKind, find_references, is_published, page_tags
from ..model import EntityKind

# Book top level: chapters and book-level pages share one priority sequence (BookStack's ``BookContents``). Book-level
# pages keep their `order` (1-99) and so come first; chapters follow in structure order.
CHAPTER_PRIORITY_BASE = 100


@dataclass(frozen=True)
class DesiredShelf:
    key: str
    name: str
    description: str
    book_keys: tuple[str, ...]


@dataclass(frozen=True)
class DesiredBook:
    key: str
    name: str
    description: str
    shelf_key: str


@dataclass(frozen=True)
class DesiredChapter:
    key: str
    name: str
    description: str
    book_key: str
    priority: int


@dataclass(frozen=True)
class DesiredPage:
    key: str
    name: str
    book_key: str
    chapter_key: str | None
    priority: int
    source: PageSource
    tags: tuple[tuple[str, str], ...]  # the page's own tags (from frontmatter), in order
    references: tuple[Reference, ...]

    @property
    def parent_key(self) -> str:
        return self.chapter_key or self.book_key

    @property
    def assets(self) -> tuple[Reference, ...]:
        seen: dict[str, Reference] = {}
        for ref in self.references:
            if ref.kind in (RefKind.IMAGE, RefKind.ATTACHMENT) and ref.target not in seen:
                seen[ref.target] = ref
        return tuple(seen.values())

    @property
    def linked_pages(self) -> tuple[str, ...]:
        return tuple(sorted({ref.target for ref in self.references if ref.kind is RefKind.PAGE}))


@dataclass
class DesiredState:
    shelves: dict[str, DesiredShelf] = field(default_factory=dict)
    books: dict[str, DesiredBook] = field(default_factory=dict)
    chapters: dict[str, DesiredChapter] = field(default_factory=dict)
    pages: dict[str, DesiredPage] = field(default_factory=dict)
    skipped: dict[str, str] = field(default_factory=dict)  # page key -> why it is not published


def desired_keys(desired: DesiredState) -> set[tuple[EntityKind, str]]:
    """Every key this tree publishes (drafts it does not publish included: their pages stay its own)."""
    return (
        {(EntityKind.SHELF, k) for k in desired.shelves}
        | {(EntityKind.BOOK, k) for k in desired.books}
        | {(EntityKind.CHAPTER, k) for k in desired.chapters}
        | {(EntityKind.PAGE, k) for k in [*desired.pages, *desired.skipped]}
    )


def build_desired(structure: Structure, tree: DocsTree, *, publish_drafts: bool = False) -> DesiredState:
    state = DesiredState()
    for shelf in structure.shelves:
        state.shelves[shelf.key] = DesiredShelf(
            shelf.key, shelf.name, (shelf.description or "").strip(), tuple(b.key for b in shelf.books)
        )
        for book in shelf.books:
            state.books[book.key] = DesiredBook(book.key, book.name, (book.description or "").strip(), shelf.key)
            for index, chapter in enumerate(book.chapters):
                state.chapters[chapter.key] = DesiredChapter(
                    chapter.key,
                    chapter.name,
                    (chapter.description or "").strip(),
                    book.key,
                    CHAPTER_PRIORITY_BASE + index,
                )
    for page in sorted(tree.pages, key=lambda p: p.path):
        if not is_published(page, publish_drafts=publish_drafts):
            state.skipped[page.path] = f"status: {page.frontmatter.get('status')}"
            continue
        folder = page.folder
        order = page.frontmatter.get("order")
        state.pages[page.path] = DesiredPage(
            key=page.path,
            name=page.title,
            book_key=folder.book.key,
            chapter_key=folder.chapter.key if folder.chapter else None,
            priority=order if isinstance(order, int) else page.number,
            source=page,
            tags=tuple((tag["name"], tag.get("value", "")) for tag in page_tags(page)),
            references=tuple(find_references(page, tree)),
        )
    return state
