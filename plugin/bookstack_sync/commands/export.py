"""Export: a complete docs tree (structure file, page files, images, attachments) from a live BookStack.

Three steps, data flowing one way: :func:`read_wiki` reads BookStack in bulk through a read-only client
(listings, one ZIP export per book on v25.07+, page reads on older servers, BookStack's own Markdown
export for pages written in the WYSIWYG editor); :func:`lay_out` decides where everything goes (safe,
unique file names whatever the wiki's names hold) and what cannot be represented; :func:`write_export`
writes the files. :func:`export_wiki` runs the three and returns the report.

Frontmatter tags: BookStack tags are name/value pairs. A tag without a value is written as its name
(``- networking``), a tag with a value as a one-key mapping (``- {topic: api}``); both map back to the
same tag. Tags named like a frontmatter field the plugin records as a tag (``author``, ``last_updated``,
``version``, ``status``, ``toc``, ``search_exclude``) fill that field when their value fits it.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import posixpath
import re
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from ..bookstack import BookStackClient, BookStackError, NotBookStackError, NotFoundError, PermissionDeniedError
from ..bookstack.errors import AuthenticationError
from ..docs.structure import slugify
from ..docs.validate import validate_docs
from ..errors import ExitCode, UsageError
from ..markdown.localize import Target, WikiIndex, WikiRef, image_path, localize
from ..plan.planner import parse_version
from ..plan.remote import app_url_of_book
from ..plan.tags import SYSTEM_TAGS
from ..settings import Settings
from .sync import make_client

ZIP_EXPORT_MIN_VERSION = (25, 7)
MAX_ORDER = 99  # `order` and the NN- file prefix are 1-99
SLUG_MAX = 80  # keeps every path component far below file-system limits (255 bytes)
ASSET_DIR = "_assets"  # beside the pages; never a slug (slugs are [a-z0-9-])
RESERVED_ROOT = frozenset({"bookstack"})  # <docs_dir>/bookstack holds the structure file
DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
STATUSES = ("review", "published")  # `status: draft` would unpublish the page: kept as a tag instead
_BOOL_TAGS = ("toc", "search_exclude")

# ------------------------------------------------------------------------------------------ what was read


@dataclass(frozen=True)
class WikiFile:
    """An image or a file attachment of a page, with its bytes (an attachment link has none)."""

    kind: Target  # IMAGE or ATTACHMENT
    id: int
    name: str
    extension: str
    data: bytes | None
    link: str | None = None


@dataclass
class WikiPage:
    id: int
    name: str
    slug: str
    book_id: int
    chapter_id: int | None
    priority: int
    created_by: int | None
    updated_at: str
    markdown: str = ""  # as BookStack holds it (or its Markdown export of a WYSIWYG page)
    html: str = ""
    editor: str = ""
    from_html: bool = False  # the Markdown came from BookStack's export of the HTML
    tags: list[tuple[str, str]] = field(default_factory=list)
    author: str | None = None  # from a page read (created_by.name)
    images: dict[int, WikiFile] = field(default_factory=dict)  # ZIP export: image id -> file
    attachments: list[WikiFile] = field(default_factory=list)


@dataclass
class WikiContainer:
    kind: Target  # SHELF, BOOK or CHAPTER
    id: int
    name: str
    slug: str
    description: str
    priority: int = 0
    book_id: int | None = None
    tags: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Wiki:
    """What BookStack holds, as read by :func:`read_wiki`."""

    app_url: str
    version: str | None
    shelves: dict[int, WikiContainer] = field(default_factory=dict)
    shelf_books: dict[int, list[int]] = field(default_factory=dict)
    books: dict[int, WikiContainer] = field(default_factory=dict)
    chapters: dict[int, WikiContainer] = field(default_factory=dict)
    pages: dict[int, WikiPage] = field(default_factory=dict)
    users: dict[int, str] = field(default_factory=dict)
    gallery: dict[str, dict[str, Any]] = field(default_factory=dict)  # image URL path -> gallery item
    comments: dict[int, int] = field(default_factory=dict)  # page id -> comment count
    restricted: set[tuple[str, int]] = field(default_factory=set)  # (type, id) with own permissions
    notes: list[str] = field(default_factory=list)

    def file_by_id(self, kind: Target, file_id: int | None) -> WikiFile | None:
        """An image (from a ZIP export) or an attachment of any page, by id."""
        for page in self.pages.values():
            found = page.images.get(file_id or -1) if kind is Target.IMAGE else None
            if kind is Target.ATTACHMENT:
                found = next((a for a in page.attachments if a.id == file_id), None)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class ExportFilter:
    """``--shelf``/``--book`` (names or slugs): the books on the shelves named plus the books named;
    everything when both are empty."""

    shelves: frozenset[str] = frozenset()
    books: frozenset[str] = frozenset()

    @property
    def everything(self) -> bool:
        return not self.shelves and not self.books

    def shelf_named(self, shelf: WikiContainer) -> bool:
        return bool({shelf.name, shelf.slug} & self.shelves)

    def eligible_shelf(self, shelf: WikiContainer) -> bool:
        """Whether books may be placed under this shelf."""
        return not self.shelves or self.shelf_named(shelf)

    def wants_book(self, book: WikiContainer, on_shelves: Iterable[WikiContainer]) -> bool:
        return (
            self.everything
            or bool({book.name, book.slug} & self.books)
            or any(self.shelf_named(shelf) for shelf in on_shelves)
        )


# ------------------------------------------------------------------------------------------ reading


def read_wiki(client: BookStackClient, wanted: ExportFilter) -> Wiki:
    """Everything the export needs, in bulk."""
    system = client.system()
    version = str(system.get("version") or "") or None if system else None
    app_url = str(system.get("base_url") or "").rstrip("/") if system else ""
    wiki = Wiki(app_url=app_url, version=version)
    for item in client.list("shelves"):
        wiki.shelves[int(item["id"])] = _container(Target.SHELF, item)
    for item in client.list("books"):
        wiki.books[int(item["id"])] = _container(Target.BOOK, item)
    for item in client.list("chapters"):
        wiki.chapters[int(item["id"])] = _container(Target.CHAPTER, item)
    listed: dict[int, dict[str, Any]] = {}
    for item in client.list("pages", filters={"draft": 0}):
        if not item.get("draft"):  # the token user's own drafts are not content (templates are)
            listed[int(item["id"])] = item
    for shelf in client.map_concurrently(lambda s: client.read("shelves", s), list(wiki.shelves)):
        shelf_id = int(shelf["id"])
        wiki.shelf_books[shelf_id] = [int(b["id"]) for b in shelf.get("books", [])]
        wiki.shelves[shelf_id].tags = _tag_pairs(shelf.get("tags"))
    if not wiki.app_url:
        found = app_url_of_book(client, int(listed[min(listed)].get("book_id") or 0)) if listed else None
        wiki.app_url = found or client.base_url
        wiki.notes.append(
            f"BookStack {version or 'before v25.05'} has no /api/system: its own address was taken as {wiki.app_url}"
        )
    books = set(_books_to_export(wiki, wanted))
    pages_by_book: dict[int, list[int]] = defaultdict(list)
    for page_id, item in listed.items():
        if int(item.get("book_id") or 0) in books:
            pages_by_book[int(item["book_id"])].append(page_id)
    parsed = parse_version(version)
    exported: dict[int, WikiPage] = {}
    if parsed is not None and parsed >= ZIP_EXPORT_MIN_VERSION and books:
        exported = _read_by_zip(client, wiki, sorted(books))
    else:
        wiki.notes.append(
            f"BookStack {version or 'before v25.05'} has no ZIP export (v25.07+): pages were read one by one"
        )
    for page_id, item in listed.items():
        if int(item.get("book_id") or 0) not in books:
            continue
        page = exported.get(page_id)
        if page is not None:
            page.priority = int(item.get("priority") or page.priority)
            page.created_by = _user_id(item.get("created_by"))
            page.updated_at = str(item.get("updated_at") or "")
            wiki.pages[page_id] = page
    missing = [page_id for book in sorted(books) for page_id in pages_by_book[book] if page_id not in wiki.pages]
    for read in client.map_concurrently(lambda p: client.read("pages", p), missing):
        page = _page_from_read(read)
        wiki.pages[page.id] = page
    _markdown_of_html_pages(client, wiki)
    _files_of_read_pages(client, wiki, set(missing))
    _authors(client, wiki)
    _comments_and_permissions(client, wiki)
    return wiki


def _container(kind: Target, item: Mapping[str, Any]) -> WikiContainer:
    return WikiContainer(
        kind,
        int(item["id"]),
        str(item.get("name") or ""),
        str(item.get("slug") or ""),
        str(item.get("description") or "").strip(),
        int(item.get("priority") or 0),
        int(item["book_id"]) if item.get("book_id") else None,
    )


def _tag_pairs(raw: Any) -> list[tuple[str, str]]:
    if not isinstance(raw, list):
        return []
    return [(str(t.get("name", "")), str(t.get("value") or "")) for t in raw if isinstance(t, dict)]


def _user_id(raw: Any) -> int | None:
    if isinstance(raw, dict):
        raw = raw.get("id")
    return raw if isinstance(raw, int) else None


def shelves_of(wiki: Wiki, book_id: int) -> list[WikiContainer]:
    return [wiki.shelves[s] for s, ids in wiki.shelf_books.items() if book_id in ids and s in wiki.shelves]


def _books_to_export(wiki: Wiki, wanted: ExportFilter) -> list[int]:
    return sorted(b.id for b in wiki.books.values() if wanted.wants_book(b, shelves_of(wiki, b.id)))


def _read_by_zip(client: BookStackClient, wiki: Wiki, book_ids: list[int]) -> dict[int, WikiPage]:
    """One ZIP export per book: every page's markdown, tags, attachments and referenced images."""

    def export(book_id: int, *, first: bool = False) -> tuple[int, bytes | str]:
        try:
            return book_id, client.export_zip("books", book_id)
        except AuthenticationError:
            raise
        except PermissionDeniedError as exc:
            if first:
                raise
            return book_id, exc.message
        except BookStackError as exc:
            return book_id, exc.message

    try:
        results = [export(book_ids[0], first=True)]
    except PermissionDeniedError:
        wiki.notes.append("the token's role may not export content ('Export content'): pages were read one by one")
        return {}
    results += client.map_concurrently(export, book_ids[1:])
    pages: dict[int, WikiPage] = {}
    for book_id, result in results:
        if isinstance(result, str):
            wiki.notes.append(f"the ZIP export of book {book_id} failed ({result}); its pages were read one by one")
            continue
        try:
            _parse_book_zip(result, book_id, wiki, pages)
        except ValueError as exc:
            wiki.notes.append(f"the ZIP export of book {book_id} is unreadable ({exc}); its pages were read one by one")
    return pages


_AMBIGUOUS_REFERENCE = re.compile(r"\[\[bsexport:\w+:\d+\]\][0-9]")


def _parse_book_zip(archive: bytes, book_id: int, wiki: Wiki, pages: dict[int, WikiPage]) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            data = json.loads(zf.read("data.json").decode("utf-8"))
            files = {name[len("files/") :]: zf.read(name) for name in zf.namelist() if name.startswith("files/")}
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"no readable data.json: {exc}") from None
    book = data.get("book") if isinstance(data, dict) else None
    if not isinstance(book, dict):
        raise ValueError("data.json holds no book")
    if book_id in wiki.books:
        wiki.books[book_id].tags = _tag_pairs(book.get("tags"))
    raw_pages: list[tuple[dict[str, Any], int | None]] = [(p, None) for p in _dicts(book.get("pages"))]
    for chapter in _dicts(book.get("chapters")):
        chapter_id = chapter.get("id")
        if isinstance(chapter_id, int) and chapter_id in wiki.chapters:
            wiki.chapters[chapter_id].tags = _tag_pairs(chapter.get("tags"))
        raw_pages += [(p, chapter_id if isinstance(chapter_id, int) else None) for p in _dicts(chapter.get("pages"))]
    for raw, chapter_id in raw_pages:
        page_id = raw.get("id")
        if not isinstance(page_id, int):
            continue
        markdown = str(raw.get("markdown") or "")
        if _AMBIGUOUS_REFERENCE.search(markdown):
            continue  # BookStack's reference replacement hit /link/5 inside /link/55: read this page instead
        page = WikiPage(
            id=page_id,
            name=str(raw.get("name") or ""),
            slug="",
            book_id=book_id,
            chapter_id=chapter_id,
            priority=int(raw.get("priority") or 0),
            created_by=None,
            updated_at="",
            markdown=markdown,
            html=str(raw.get("html") or ""),
            tags=_tag_pairs(raw.get("tags")),
        )
        for image in _dicts(raw.get("images")):
            name, file = str(image.get("name") or ""), str(image.get("file") or "")
            if isinstance(image.get("id"), int) and file in files:
                extension = file.rpartition(".")[2] if "." in file else ""
                page.images[image["id"]] = WikiFile(Target.IMAGE, image["id"], name, extension, files[file])
        for attachment in _dicts(raw.get("attachments")):
            if not isinstance(attachment.get("id"), int):
                continue
            name, file = str(attachment.get("name") or ""), str(attachment.get("file") or "")
            if file and file in files:
                extension = file.rpartition(".")[2] if "." in file else ""
                page.attachments.append(WikiFile(Target.ATTACHMENT, attachment["id"], name, extension, files[file]))
            else:
                link = str(attachment.get("link") or "")
                page.attachments.append(WikiFile(Target.ATTACHMENT, attachment["id"], name, "", None, link))
        pages[page_id] = page


def _dicts(value: Any) -> list[dict[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def _page_from_read(read: Mapping[str, Any]) -> WikiPage:
    created = read.get("created_by")
    from ..bookstack import normalise_chapter_id

    return WikiPage(
        id=int(read["id"]),
        name=str(read.get("name") or ""),
        slug=str(read.get("slug") or ""),
        book_id=int(read.get("book_id") or 0),
        chapter_id=normalise_chapter_id(read.get("chapter_id")),
        priority=int(read.get("priority") or 0),
        created_by=_user_id(created),
        updated_at=str(read.get("updated_at") or ""),
        markdown=str(read.get("markdown") or ""),
        html=str(read.get("html") or ""),
        editor=str(read.get("editor") or ""),
        tags=_tag_pairs(read.get("tags")),
        author=str(created["name"]) if isinstance(created, dict) and created.get("name") else None,
    )


_EXPORT_TITLE = re.compile(r"\A# [^\n]*\n(?:\n)?")


def markdown_export(client: BookStackClient, page_id: int) -> str:
    """BookStack's own Markdown of a page (``GET /api/pages/{id}/export/markdown``): its markdown, or its
    HTML converted for a page saved in the WYSIWYG editor. ``ExportFormatter::pageToMarkdown`` puts
    "# <name>" and a blank line first; they are not part of the page's text."""
    path = f"/api/pages/{page_id}/export/markdown"
    response = client.fetch_web(path)
    if response.status_code != 200:
        raise NotBookStackError(
            f"GET {path} -> {response.status_code}",
            hint="the token's role needs 'Export content' (content-export) to read pages written in the WYSIWYG editor",
            method="GET",
            path=path,
            status=response.status_code,
        )
    text = response.content.decode("utf-8", errors="replace").replace("\r\n", "\n")
    return _EXPORT_TITLE.sub("", text, count=1).strip()


def _markdown_of_html_pages(client: BookStackClient, wiki: Wiki) -> None:
    """Pages without markdown (the WYSIWYG editor) through BookStack's own Markdown export."""
    html_pages = [page for page in wiki.pages.values() if not page.markdown.strip() and page.html.strip()]
    exported = client.map_concurrently(lambda page: markdown_export(client, page.id), html_pages)
    for page, markdown in zip(html_pages, exported, strict=True):
        page.markdown = markdown
        page.from_html = True


def _files_of_read_pages(client: BookStackClient, wiki: Wiki, read_ids: set[int]) -> None:
    """Attachments of pages read one by one (a ZIP export carries them), and the gallery for image names."""
    try:
        for item in client.list("image-gallery"):
            path = image_path(str(item.get("url") or ""))
            if path:
                wiki.gallery[path] = item
    except PermissionDeniedError as exc:
        wiki.notes.append(f"the image gallery could not be listed ({exc.message}); images are named by their URL")
    if not read_ids:
        return
    wanted = [a for a in client.list("attachments") if int(a.get("uploaded_to") or 0) in read_ids]
    wanted.sort(key=lambda a: (int(a.get("order") or 0), int(a["id"])))
    for item in client.map_concurrently(lambda a: client.read("attachments", int(a["id"])), wanted):
        page = wiki.pages.get(int(item.get("uploaded_to") or 0))
        if page is None:
            continue
        name, extension = str(item.get("name") or ""), str(item.get("extension") or "")
        if item.get("external"):
            page.attachments.append(
                WikiFile(Target.ATTACHMENT, int(item["id"]), name, "", None, str(item.get("content")))
            )
        else:
            data = base64.b64decode(str(item.get("content") or ""))
            page.attachments.append(WikiFile(Target.ATTACHMENT, int(item["id"]), name, extension, data))


def _authors(client: BookStackClient, wiki: Wiki) -> None:
    """User names for `author`: the users listing when the token may read it, else one page read per
    author not yet named (a page read carries its creator's name)."""
    for page in wiki.pages.values():
        if page.author and page.created_by is not None:
            wiki.users[page.created_by] = page.author
    unnamed = {p.created_by for p in wiki.pages.values() if p.created_by is not None} - set(wiki.users)
    if not unnamed:
        return
    try:
        for user in client.list("users"):
            wiki.users[int(user["id"])] = str(user.get("name") or "")
        return
    except (PermissionDeniedError, NotFoundError, NotBookStackError):
        pass
    samples = {}
    for page in sorted(wiki.pages.values(), key=lambda p: p.id):
        if page.created_by in unnamed and page.created_by not in samples:
            samples[page.created_by] = page.id
    for read in client.map_concurrently(lambda p: client.read("pages", p), list(samples.values())):
        created = read.get("created_by")
        if isinstance(created, dict) and isinstance(created.get("id"), int):
            wiki.users[created["id"]] = str(created.get("name") or "")


def _comments_and_permissions(client: BookStackClient, wiki: Wiki) -> None:
    """What the docs tree cannot hold, to report it: comments (v25.11+) and content permissions (the
    audit log, readable by admins only)."""
    try:
        for comment in client.list("comments"):
            # a morph type: "page", or the model's class name
            if str(comment.get("commentable_type") or "").rpartition("\\")[2].lower() == "page":
                page_id = int(comment.get("commentable_id") or 0)
                if page_id in wiki.pages:
                    wiki.comments[page_id] = wiki.comments.get(page_id, 0) + 1
    except (NotFoundError, NotBookStackError):
        wiki.notes.append(
            "comments could not be checked (BookStack has a comments API from v25.11): any comments stay in BookStack"
        )
    except PermissionDeniedError:
        wiki.notes.append("comments could not be listed with this token; any comments stay in BookStack")
    try:
        for entry in client.list("audit-log", filters={"type": "permissions_update"}):
            kind, loggable = str(entry.get("loggable_type") or ""), entry.get("loggable_id")
            if isinstance(loggable, int):
                wiki.restricted.add((kind.rpartition("\\")[2].lower(), loggable))
    except (PermissionDeniedError, NotFoundError, NotBookStackError):
        wiki.notes.append(
            "content permissions could not be checked (the audit log needs an admin token); BookStack keeps "
            "any permissions, the docs tree does not hold them"
        )


# ------------------------------------------------------------------------------------------ layout


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


def _unique(slug: str, taken: set[str]) -> str:
    if slug not in taken:
        taken.add(slug)
        return slug
    n = 2
    while f"{slug}-{n}" in taken:
        n += 1
    taken.add(f"{slug}-{n}")
    return f"{slug}-{n}"


def _label(obj: WikiContainer | WikiPage) -> str:
    kind = obj.kind.value if isinstance(obj, WikiContainer) else "page"
    return f"{kind} {obj.id} {obj.name!r}"


def lay_out(wiki: Wiki, wanted: ExportFilter, *, unshelved: str | None = None) -> Layout:
    layout = Layout()
    exported = set(_books_to_export(wiki, wanted))
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
                        _label(wiki.books[book_id]),
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
                Problem("empty-shelf", _label(shelf), "holds no book to export: a shelf needs a book in the structure")
            )
    for book in loose:
        if unshelved:
            detail = f"on no exported shelf: exported under the new shelf {unshelved!r}, which the first sync creates"
        else:
            detail = (
                "on no exported shelf, so it has no place in docs/<shelf>/<book>: not exported. Put it on a shelf in "
                "BookStack, or export again with --unshelved NAME to put such books on a new shelf"
            )
        layout.problems.append(Problem("unshelved-book", _label(book), detail))
    if loose and unshelved:
        synthetic = WikiContainer(Target.SHELF, 0, unshelved, "", "")
        layout.structure.append(_lay_out_shelf(wiki, synthetic, loose, root_taken, layout))
    return layout


def _lay_out_shelf(
    wiki: Wiki, shelf: WikiContainer, books: list[WikiContainer], root_taken: set[str], layout: Layout
) -> dict[str, Any]:
    shelf_slug = _checked_slug(shelf, f"shelf-{shelf.id}", root_taken, layout)
    layout.folders[(Target.SHELF, shelf.id)] = shelf_slug
    _container_problems(shelf, layout)
    entry: dict[str, Any] = {"name": shelf.name, "slug": shelf_slug}
    if shelf.description:
        entry["description"] = shelf.description
    book_entries = []
    book_taken: set[str] = set()
    for book in books:
        book_slug = _checked_slug(book, f"book-{book.id}", book_taken, layout)
        key = f"{shelf_slug}/{book_slug}"
        layout.folders[(Target.BOOK, book.id)] = key
        _container_problems(book, layout)
        book_entry: dict[str, Any] = {"name": book.name, "slug": book_slug}
        if book.description:
            book_entry["description"] = book.description
        chapters = sorted((c for c in wiki.chapters.values() if c.book_id == book.id), key=lambda c: (c.priority, c.id))
        top_pages = _pages_in(wiki, book.id, None)
        _check_book_order(book, chapters, top_pages, layout)
        _number_pages(top_pages, key, book_slug, layout)
        chapter_entries = []
        chapter_taken: set[str] = set()
        for chapter in chapters:
            chapter_slug = _checked_slug(chapter, f"chapter-{chapter.id}", chapter_taken, layout)
            chapter_key = f"{key}/{chapter_slug}"
            layout.folders[(Target.CHAPTER, chapter.id)] = chapter_key
            _container_problems(chapter, layout)
            chapter_entry: dict[str, Any] = {"name": chapter.name, "slug": chapter_slug}
            if chapter.description:
                chapter_entry["description"] = chapter.description
            chapter_entries.append({"chapter": chapter_entry})
            _number_pages(_pages_in(wiki, book.id, chapter.id), chapter_key, chapter_slug, layout)
        if chapter_entries:
            book_entry["chapters"] = chapter_entries
        book_entries.append({"book": book_entry})
    entry["books"] = book_entries
    return {"shelf": entry}


def _checked_slug(obj: WikiContainer, fallback: str, taken: set[str], layout: Layout) -> str:
    base = safe_slug(obj.name, obj.slug, fallback)
    slug = _unique(base, taken)
    if slug != base:
        layout.problems.append(
            Problem(
                "slug-collision",
                _label(obj),
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
                "container-tags", _label(obj), f"tags on a {obj.kind.value} are not part of the structure file: {shown}"
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
                _label(book),
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
                    _label(page),
                    f"{folder} holds {len(pages)} pages, more than the {MAX_ORDER} that `order` and the NN- prefix "
                    "allow: not in the docs tree; its Markdown is saved beside the report",
                )
            )
            continue
        slug = safe_slug(page.name, page.slug, f"page-{page.id}")
        layout.page_files[page.id] = f"{folder}/{position:02d}-{slug}.md"
        layout.page_category[page.id] = category
        layout.page_order[page.id] = position


# ------------------------------------------------------------------------------------------ writing


@dataclass
class ExportResult:
    layout: Layout
    files: list[str] = field(default_factory=list)  # written, relative to docs_dir
    assets: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    requests: dict[str, Any] = field(default_factory=dict)
    saved: list[str] = field(default_factory=list)  # pages kept outside the tree (paths as given)

    def to_json(self, docs_dir: str) -> dict[str, Any]:
        return {
            "docs_dir": docs_dir,
            "pages": len(self.layout.page_files),
            "files": len(self.files) + len(self.assets),
            "not_represented": [p.to_json() for p in self.problems],
            "saved_outside": self.saved,
            "notes": self.notes,
            "requests": self.requests,
        }


def index_of(wiki: Wiki, layout: Layout) -> WikiIndex:
    books = {i: layout.folders[(Target.BOOK, i)] for i in wiki.books if (Target.BOOK, i) in layout.folders}
    return WikiIndex(
        app_url=wiki.app_url,
        pages=dict(layout.page_files),
        books=books,
        chapters={
            i: layout.folders[(Target.CHAPTER, i)] for i in wiki.chapters if (Target.CHAPTER, i) in layout.folders
        },
        shelves={i: layout.folders[(Target.SHELF, i)] for i in wiki.shelves if (Target.SHELF, i) in layout.folders},
        page_slugs={
            (wiki.books[p.book_id].slug, p.slug): p.id
            for p in wiki.pages.values()
            if p.book_id in wiki.books and p.slug
        },
        chapter_slugs={
            (wiki.books[c.book_id].slug, c.slug): c.id for c in wiki.chapters.values() if c.book_id in wiki.books
        },
        book_slugs={b.slug: b.id for b in wiki.books.values()},
        shelf_slugs={s.slug: s.id for s in wiki.shelves.values()},
        page_markdown={p.id: p.markdown for p in wiki.pages.values()},
    )


class _AssetWriter:
    """Gives each image and attachment of a folder one file in ``<folder>/_assets/``, named after it."""

    def __init__(self, client: BookStackClient, wiki: Wiki, result: ExportResult) -> None:
        self.client = client
        self.wiki = wiki
        self.result = result
        self.files: dict[tuple[str, str], bytes] = {}  # (folder, file name) -> bytes
        self.placed: dict[tuple[Target, str], str] = {}  # (kind, id or path) -> path
        self.names: dict[str, set[str]] = defaultdict(set)
        self.page: WikiPage | None = None
        self.folder = ""

    def locate(self, ref: WikiRef) -> str | None:
        """The file of an image or attachment, written once beside the first page that uses it."""
        if ref.target is Target.ATTACHMENT:
            found = self.wiki.file_by_id(Target.ATTACHMENT, ref.id)
            if found is None or found.data is None:
                return None
            return self._place(("id", found.id), found.name, found.extension, found.data, Target.ATTACHMENT)
        if ref.id is not None:  # a ZIP export reference
            image = self.wiki.file_by_id(Target.IMAGE, ref.id)
            if image is None or image.data is None:
                return None
            return self._place(("id", image.id), image.name, image.extension, image.data, Target.IMAGE)
        item = self.wiki.gallery.get(ref.path)
        key: tuple[str, str | int] = ("path", ref.path)
        if item is not None and isinstance(item.get("id"), int):
            key = ("id", int(item["id"]))
        if (Target.IMAGE, str(key)) in self.placed:
            return self.placed[(Target.IMAGE, str(key))]
        extension = ref.path.rpartition(".")[2] if "." in posixpath.basename(ref.path) else ""
        data = self._download(ref.path)
        if data is None:
            return None
        name = str(item.get("name") or "") if item is not None else posixpath.basename(ref.path)
        return self._place(key, name, extension, data, Target.IMAGE)

    def _download(self, path: str) -> bytes | None:
        response = self.client.fetch_web(path)
        if response.status_code != 200:
            self.result.notes.append(f"image {path} could not be downloaded (HTTP {response.status_code}); link kept")
            return None
        return response.content

    def _place(self, key: tuple[str, str | int], name: str, extension: str, data: bytes, kind: Target) -> str:
        marker = (kind, str(key))
        if marker in self.placed:
            return self.placed[marker]
        base = posixpath.basename(name.replace("\\", "/")) or kind.value
        stem, dot, ext = base.rpartition(".")
        if not dot:
            stem, ext = base, extension
        clean_stem = safe_slug(stem, "", kind.value)
        clean_ext = re.sub(r"[^a-z0-9]", "", (ext or extension).lower())[:10]
        file_name = _unique(clean_stem + (f".{clean_ext}" if clean_ext else ""), self.names[self.folder])
        path = f"{self.folder}/{ASSET_DIR}/{file_name}"
        self.files[(self.folder, file_name)] = data
        self.placed[marker] = path
        return path


def export_wiki(
    client: BookStackClient,
    docs_dir: Path,
    structure_path: Path,
    *,
    wanted: ExportFilter = ExportFilter(),
    unshelved: str | None = None,
    force: bool = False,
    saved_dir: Path | None = None,
) -> ExportResult:
    """Read the wiki and write the docs tree; returns what was written and what could not be represented."""
    _refuse_non_empty(docs_dir, force)
    wiki = read_wiki(client, wanted)
    layout = lay_out(wiki, wanted, unshelved=unshelved)
    result = ExportResult(layout, problems=list(layout.problems), notes=list(wiki.notes))
    index = index_of(wiki, layout)
    assets = _AssetWriter(client, wiki, result)
    texts: dict[str, str] = {}
    for page_id, path in sorted(layout.page_files.items(), key=lambda item: item[1]):
        page = wiki.pages[page_id]
        assets.page, assets.folder = page, posixpath.dirname(path)
        localized = localize(page.markdown, path, index, assets.locate)
        texts[path] = _page_text(page, layout, wiki, localized.markdown)
        _page_problems(page, wiki, localized.kept, assets, result)
    for page in layout.overflow:
        if saved_dir is not None:
            target = saved_dir / f"{page.id}-{safe_slug(page.name, page.slug, 'page')}.md"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(page.markdown + "\n", encoding="utf-8")
            result.saved.append(target.as_posix())
    structure_path.parent.mkdir(parents=True, exist_ok=True)
    structure_path.write_text(structure_yaml(layout.structure), encoding="utf-8")
    for path, text in texts.items():
        target = docs_dir / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        result.files.append(path)
    for (folder, file_name), data in sorted(assets.files.items()):
        target = docs_dir / folder / ASSET_DIR / file_name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(data)
        result.assets.append(f"{folder}/{ASSET_DIR}/{file_name}")
    return result


def _refuse_non_empty(docs_dir: Path, force: bool) -> None:
    if force or not docs_dir.exists():
        return
    if not docs_dir.is_dir():
        raise UsageError(f"{docs_dir} is not a folder", hint="point `docs_dir` at a folder for the exported tree")
    if any(docs_dir.iterdir()):
        raise UsageError(
            f"{docs_dir} is not empty: refusing to write an export into it",
            hint="export into an empty folder, or pass --force to overwrite the files the export writes",
        )


def structure_yaml(structure: list[dict[str, Any]]) -> str:
    header = "# Written by `bookstack-sync export`: shelves -> books -> chapters, in BookStack's order.\n"
    return header + yaml.safe_dump({"structure": structure}, sort_keys=False, allow_unicode=True, width=100)


def frontmatter_fields(page: WikiPage, wiki: Wiki, *, order: int, category: str) -> dict[str, Any]:
    """title, order, category, tags, last_updated, author (+ version, status, toc, search_exclude from tags)."""
    fields: dict[str, Any] = {}
    tags: list[str | dict[str, str]] = []
    for name, value in page.tags:
        if name in SYSTEM_TAGS or not name.strip():
            continue
        if name in fields or not _fills_field(name, value):
            tags.append({name: value} if value else name)
            continue
        fields[name] = (value == "true") if name in _BOOL_TAGS else value
    last_updated = fields.pop("last_updated", None) or (
        page.updated_at[:10] if DATE.match(page.updated_at[:10]) else ""
    )
    author = fields.pop("author", None) or wiki.users.get(page.created_by or -1) or "unknown"
    out: dict[str, Any] = {
        "title": page.name,
        "order": order,
        "category": category,
        "tags": tags,
        "last_updated": last_updated or dt.date.today().isoformat(),
        "author": author,
    }
    for name in ("version", "status", *_BOOL_TAGS):
        if name in fields:
            out[name] = fields[name]
    return out


def _fills_field(name: str, value: str) -> bool:
    if name == "last_updated":
        return bool(DATE.match(value))
    if name in ("author", "version"):
        return bool(value.strip()) and value == value.strip()
    if name == "status":
        return value in STATUSES
    if name in _BOOL_TAGS:
        return value in ("true", "false")
    return False


def _page_text(page: WikiPage, layout: Layout, wiki: Wiki, body: str) -> str:
    fields = frontmatter_fields(page, wiki, order=layout.page_order[page.id], category=layout.page_category[page.id])
    head = yaml.safe_dump(fields, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{head}---\n\n{body.strip()}\n" if body.strip() else f"---\n{head}---\n"


def _page_problems(page: WikiPage, wiki: Wiki, kept: Iterable[str], assets: _AssetWriter, result: ExportResult) -> None:
    label = _label(page)
    for url in sorted(set(kept)):
        result.problems.append(
            Problem("link-kept", label, f"{url} points at something not in the docs tree: left as it is")
        )
    placed = {key for (kind, key) in assets.placed if kind is Target.ATTACHMENT}
    for attachment in page.attachments:
        if attachment.link is not None:
            result.problems.append(
                Problem(
                    "attachment-link",
                    label,
                    f"link attachment {attachment.name!r} -> {attachment.link}: stays in BookStack",
                )
            )
        elif str(("id", attachment.id)) not in placed:
            result.problems.append(
                Problem(
                    "attachment-not-linked",
                    label,
                    f"attachment {attachment.name!r} is not linked from the page text: it stays in BookStack "
                    "(sync never deletes it) but is not in the docs tree",
                )
            )
    if wiki.comments.get(page.id):
        result.problems.append(
            Problem("comments", label, f"{wiki.comments[page.id]} comment(s) stay in BookStack, not in the docs tree")
        )
    if ("page", page.id) in wiki.restricted:
        result.problems.append(
            Problem(
                "permissions", label, "has its own permissions: BookStack keeps them, the docs tree does not hold them"
            )
        )
    if page.from_html:
        result.notes.append(
            f"{label} was written in the WYSIWYG editor: its Markdown is BookStack's own export of the HTML; "
            "the first sync stores that Markdown"
        )


def report_markdown(result: ExportResult, docs_dir: str) -> str:
    lines = [
        "# bookstack-sync export",
        "",
        f"{len(result.layout.page_files)} pages and {len(result.assets)} images/attachments written to `{docs_dir}`; "
        f"{result.requests.get('total', 0)} requests to BookStack.",
        "",
    ]
    if result.problems:
        lines += ["## Not represented in the docs tree", "", "| What | Object | Detail |", "| --- | --- | --- |"]
        for p in result.problems:
            lines.append(f"| {p.kind} | {_cell(p.object)} | {_cell(p.detail)} |")
        lines.append("")
    else:
        lines += ["Everything was represented.", ""]
    if result.notes:
        lines += ["## Notes", ""] + [f"- {note}" for note in result.notes] + [""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_export_report(result: ExportResult, path: Path, docs_dir: str) -> list[Path]:
    """The JSON report at ``path`` and the Markdown one beside it (``.md``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result.to_json(docs_dir), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    summary = path.with_suffix(".md")
    summary.write_text(report_markdown(result, docs_dir), encoding="utf-8")
    return [path, summary]


def run_export(
    settings: Settings,
    env: Mapping[str, str],
    *,
    wanted: ExportFilter,
    unshelved: str | None,
    force: bool,
    report: Path,
    out: TextIO,
) -> ExitCode:
    """The `export` command: export, write the reports, validate the written tree."""
    if not settings.url or not settings.has_token:
        raise UsageError(
            "export needs BookStack's `url`, `token_id` and `token_secret`",
            hint="set BOOKSTACK_URL / BOOKSTACK_TOKEN_ID / BOOKSTACK_TOKEN_SECRET or pass --url/--token-id/--token-secret",
        )
    client = make_client(settings, read_only=True)
    try:
        result = export_wiki(
            client,
            settings.docs_dir,
            settings.structure_path,
            wanted=wanted,
            unshelved=unshelved,
            force=force,
            saved_dir=report.parent / (report.stem + "-pages"),
        )
    except BookStackError as exc:
        out.write(f"export failed: {exc}\n")
        return ExitCode.SYNC_FAILED
    finally:
        stats = client.stats.as_dict()
        client.close()
    result.requests = stats
    written = write_export_report(result, report, settings.docs_dir.as_posix())
    out.write(
        f"exported {len(result.layout.page_files)} pages and {len(result.assets)} images/attachments into "
        f"{settings.docs_dir} with {stats.get('total', 0)} requests\n"
    )
    for problem in result.problems:
        out.write(f"not represented: [{problem.kind}] {problem.object}: {problem.detail}\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
    out.write(f"report: {', '.join(p.as_posix() for p in written)}\n")
    validation = validate_docs(settings.docs_dir, settings.structure_path, ignore=settings.ignore)
    for diagnostic in validation.diagnostics:
        out.write(diagnostic.format() + "\n")
    out.write(validation.summary() + "\n")
    return ExitCode.INVALID_DOCS if validation.failed(settings.strict) else ExitCode.OK
