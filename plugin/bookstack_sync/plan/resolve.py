"""Where a page's links point when it is written: the page-link rule, written once for every route, folder
paths by slug, and the canonical rendering the stored page hash is taken over.

A resolver answers ``markdown.content``'s questions (a page's URL, a folder's, an asset's). Each route has
its own for folders and assets (the per-object writes in ``apply/writers``, the ZIP import's
``[[bsexport:…]]`` references in ``apply/zipimport``, the canonical form here); a page link is always
``/link/<id>``, and a page that is not published (a draft) is linked through its chapter or book.
"""

from __future__ import annotations

from ..docs.tree import DocsTree
from ..markdown.content import Reference, RefKind, render_page
from ..model import EntityKind
from .desired import DesiredPage, DesiredState
from .matching import Matching


def unpublished_parent(page_path: str, desired: DesiredState) -> str | None:
    """Where a link to a page that is not published (a draft) goes: its chapter or book, never a dead link."""
    if page_path not in desired.skipped:
        return None
    return page_path.rpartition("/")[0]


class PageLinks:
    """The page-link rule: a page by its id, a draft by the folder holding it. Subclasses say how ids and
    folders are found on their route."""

    desired: DesiredState

    def page_id(self, page_path: str) -> int | None:
        raise NotImplementedError

    def folder_url(self, key: str) -> str | None:
        raise NotImplementedError

    def page_url(self, page_path: str) -> str | None:
        page_id = self.page_id(page_path)
        if page_id is not None:
            return f"/link/{page_id}"
        parent = unpublished_parent(page_path, self.desired)
        return self.folder_url(parent) if parent else None

    def heading_anchor(self, page_path: str, fragment: str) -> str | None:
        return None


class CanonicalResolver(PageLinks):
    """Links to ids known now, assets as content hashes: the form the stored page hash is taken over."""

    def __init__(self, matching: Matching, tree: DocsTree, desired: DesiredState) -> None:
        self.matching = matching
        self.tree = tree
        self.desired = desired

    def page_id(self, page_path: str) -> int | None:
        return self.matching.id_of(EntityKind.PAGE, page_path)

    def folder_url(self, key: str) -> str | None:
        return f"folder:{key}"

    def image_url(self, asset_path: str) -> str | None:
        asset = self.tree.assets.get(asset_path)
        return f"asset:{asset.sha256[:16]}" if asset else None

    def attachment_url(self, asset_path: str) -> str | None:
        return self.image_url(asset_path)


def canonical_markdown(
    page: DesiredPage,
    matching: Matching,
    tree: DocsTree,
    desired: DesiredState,
    *,
    strip_title_heading: bool,
    forge_markdown: bool,
) -> str | None:
    """The page's text as its stored hash covers it; ``None`` while a link waits for an id this run makes."""
    rendered = render_page(
        page.source,
        tree,
        CanonicalResolver(matching, tree, desired),
        strip_title_heading=strip_title_heading,
        forge_markdown=forge_markdown,
    )
    if waits_for_pages(rendered.unresolved, desired):
        return None
    return rendered.markdown


def waits_for_pages(unresolved: tuple[Reference, ...], desired: DesiredState) -> bool:
    """Whether a rendering lacks the URL of something this run creates (and so must be written again):
    a page it publishes, a shelf, book or chapter it makes, or the folder standing in for a draft page."""
    containers = desired.shelves.keys() | desired.books.keys() | desired.chapters.keys()
    for ref in unresolved:
        if ref.kind is RefKind.PAGE and (ref.target in desired.pages or ref.target in desired.skipped):
            return True
        if ref.kind is RefKind.FOLDER and ref.target in containers:
            return True
    return False


def slug_folder_path(slugs: dict[tuple[EntityKind, str], str], key: str) -> str | None:
    """The path (``/books/<slug>``...) of a shelf, book or chapter by its source key, from the slugs known now."""
    parts = key.split("/")
    if len(parts) == 1:
        slug = slugs.get((EntityKind.SHELF, key))
        return f"/shelves/{slug}" if slug else None
    book_slug = slugs.get((EntityKind.BOOK, "/".join(parts[:2])))
    if not book_slug:
        return None
    if len(parts) == 2:
        return f"/books/{book_slug}"
    chapter_slug = slugs.get((EntityKind.CHAPTER, key))
    return f"/books/{book_slug}/chapter/{chapter_slug}" if chapter_slug else None
