"""BookStack's links in a page's Markdown turned back into the docs tree's relative paths.

The inverse of what :mod:`bookstack_sync.markdown.content` does on the way in: ``/link/<id>``, absolute URLs of
the wiki's pages, chapters, books and shelves (by the server's own address, ``APP_URL``, which is what
BookStack writes into its content and its ZIP exports), ZIP export references
(``[[bsexport:page:12]]``), gallery image URLs and ``/attachments/<id>`` become paths relative to the
page's file; a ``#bkmrk-…`` fragment becomes the GitHub-style anchor of the heading that carries the id.
Destinations are located with :mod:`bookstack_sync.markdown.links`; every other character stays as written.
Pure: no I/O.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from urllib.parse import unquote, urlsplit

from .content import apply_replacements
from .destinations import Destination
from .headings import heading_ids
from .links import scan


class Target(StrEnum):
    """What a wiki URL names."""

    PAGE = "page"
    CHAPTER = "chapter"
    BOOK = "book"
    SHELF = "shelf"
    IMAGE = "image"
    ATTACHMENT = "attachment"


@dataclass(frozen=True)
class WikiRef:
    """A URL of the wiki, understood: what it names, by id or by slug, and its fragment."""

    target: Target
    id: int | None = None  # by id: /link/12, /attachments/3, [[bsexport:page:12]]
    book_slug: str = ""  # by slug: /books/<book>/page/<page>
    slug: str = ""
    path: str = ""  # an image's URL path, thumbnails folded into the original
    fragment: str | None = None


@dataclass(frozen=True)
class WikiIndex:
    """Where each exported BookStack object lives in the docs tree (paths relative to docs_dir)."""

    app_url: str  # BookStack's own address (APP_URL), without a trailing '/'
    pages: Mapping[int, str] = field(default_factory=dict)  # page id -> page file
    books: Mapping[int, str] = field(default_factory=dict)  # book id -> folder key
    chapters: Mapping[int, str] = field(default_factory=dict)  # chapter id -> folder key
    shelves: Mapping[int, str] = field(default_factory=dict)  # shelf id -> folder key
    page_slugs: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (book slug, page slug) -> id
    chapter_slugs: Mapping[tuple[str, str], int] = field(default_factory=dict)
    book_slugs: Mapping[str, int] = field(default_factory=dict)
    shelf_slugs: Mapping[str, int] = field(default_factory=dict)
    page_markdown: Mapping[int, str] = field(default_factory=dict)  # for heading anchors of link targets

    def page_of(self, ref: WikiRef) -> int | None:
        return ref.id if ref.id is not None else self.page_slugs.get((ref.book_slug, ref.slug))

    def folder_of(self, ref: WikiRef) -> str | None:
        if ref.target is Target.BOOK:
            found = ref.id if ref.id is not None else self.book_slugs.get(ref.slug)
            return self.books.get(found) if found is not None else None
        if ref.target is Target.CHAPTER:
            found = ref.id if ref.id is not None else self.chapter_slugs.get((ref.book_slug, ref.slug))
            return self.chapters.get(found) if found is not None else None
        if ref.target is Target.SHELF:
            found = ref.id if ref.id is not None else self.shelf_slugs.get(ref.slug)
            return self.shelves.get(found) if found is not None else None
        return None


AssetLocator = Callable[[WikiRef], str | None]
"""The docs-tree path of an image or attachment reference, or None when it has none."""

_EXPORT_REF = re.compile(r"\[\[bsexport:(page|chapter|book|image|attachment):(\d+)\]\]")
_THUMB_FOLDER = re.compile(r"^(?:thumbs-\d+-\d+|scaled-\d+-\d*)$")


def parse_wiki_url(url: str, app_url: str) -> WikiRef | None:
    """What ``url`` names in the wiki at ``app_url``, or None when it is not one of its content URLs."""
    text, _, fragment_raw = url.partition("#")
    fragment = unquote(fragment_raw) if fragment_raw else None
    found = _EXPORT_REF.fullmatch(text)
    if found:
        return WikiRef(Target(found.group(1)), id=int(found.group(2)), fragment=fragment)
    app = urlsplit(app_url)
    parts = urlsplit(text)
    if parts.scheme or parts.netloc:
        if (parts.scheme.lower(), parts.netloc.lower()) != (app.scheme.lower(), app.netloc.lower()):
            return None
    elif not text.startswith("/") or text.startswith("//"):
        return None
    prefix = app.path.rstrip("/")
    path = parts.path
    if prefix:
        if not (path == prefix or path.startswith(prefix + "/")):
            return None
        path = path[len(prefix) :]
    segments = [unquote(s) for s in path.strip("/").split("/")] if path.strip("/") else []
    match segments:
        case ["link", page_id] if page_id.isdigit():
            return WikiRef(Target.PAGE, id=int(page_id), fragment=fragment)
        case ["attachments", attachment_id] if attachment_id.isdigit():
            return WikiRef(Target.ATTACHMENT, id=int(attachment_id), fragment=fragment)
        case ["books", book, "page", page]:
            return WikiRef(Target.PAGE, book_slug=book, slug=page, fragment=fragment)
        case ["books", book, "chapter", chapter]:
            return WikiRef(Target.CHAPTER, book_slug=book, slug=chapter, fragment=fragment)
        case ["books", book]:
            return WikiRef(Target.BOOK, slug=book, fragment=fragment)
        case ["shelves", shelf]:
            return WikiRef(Target.SHELF, slug=shelf, fragment=fragment)
        case ["uploads", "images", *rest] if rest:
            kept = [s for s in rest if not _THUMB_FOLDER.match(s)]
            return WikiRef(Target.IMAGE, path="/uploads/images/" + "/".join(kept), fragment=fragment)
    return None


def image_path(url: str) -> str | None:
    """The URL path of a gallery image, thumbnails folded into the original; None for other URLs."""
    ref = parse_wiki_url(urlsplit(url).path, "http://wiki.invalid")
    return ref.path if ref is not None and ref.target is Target.IMAGE else None


@lru_cache(maxsize=1024)
def _anchor_names(markdown: str) -> dict[str, str]:
    """``bkmrk-…`` id of each heading -> its GitHub-style anchor: the inverse of what sync writes."""
    return {bkmrk: slug for slug, bkmrk in heading_ids(markdown).items()}


def _relative(target: str, page_path: str) -> str:
    return posixpath.relpath(target, posixpath.dirname(page_path) or ".")


@dataclass(frozen=True)
class Localized:
    markdown: str
    kept: tuple[str, ...]  # wiki URLs left as they were: their target is not in the docs tree


def localize(markdown: str, page_path: str, index: WikiIndex, assets: AssetLocator) -> Localized:
    """``markdown`` (as BookStack holds it) with every link to the exported wiki made relative to
    ``page_path``. Links to what the docs tree does not hold stay as they are and are listed in ``kept``."""
    replacements: list[tuple[Destination, str]] = []
    kept: list[str] = []
    for dest in scan(markdown).destinations:
        if dest.url.startswith("#bkmrk-"):
            anchor = _anchor_names(markdown).get(unquote(dest.url[1:]))
            if anchor is not None:
                replacements.append((dest, f"#{anchor}"))
            continue
        ref = parse_wiki_url(dest.url, index.app_url)
        if ref is None:
            continue
        local = _local(ref, page_path, index, assets)
        if local is None:
            kept.append(dest.url)
        elif local != dest.url:
            replacements.append((dest, local))
    text = apply_replacements(markdown, replacements)
    leftover = _EXPORT_REF.search(text)
    if leftover is not None:
        kept.append(leftover.group(0))
    return Localized(text, tuple(kept))


def _local(ref: WikiRef, page_path: str, index: WikiIndex, assets: AssetLocator) -> str | None:
    if ref.target is Target.PAGE:
        page_id = index.page_of(ref)
        target = index.pages.get(page_id) if page_id is not None else None
        if target is None or page_id is None:
            return None
        fragment = ref.fragment
        if fragment and fragment.startswith("bkmrk-") and page_id in index.page_markdown:
            fragment = _anchor_names(index.page_markdown[page_id]).get(fragment, fragment)
        if target == page_path and fragment:
            return f"#{fragment}"
        return _relative(target, page_path) + (f"#{fragment}" if fragment else "")
    if ref.target in (Target.BOOK, Target.CHAPTER, Target.SHELF):
        folder = index.folder_of(ref)
        return None if folder is None else _relative(folder, page_path) + "/"
    found = assets(ref)
    if found is None:
        return None
    return _relative(found, page_path) + (f"#{ref.fragment}" if ref.fragment else "")
