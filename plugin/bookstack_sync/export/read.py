"""Export, reading: a complete docs tree (structure file, page files, images, attachments) from a live BookStack.

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
import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..bookstack import BookStackClient, BookStackError, NotBookStackError, NotFoundError, PermissionDeniedError
from ..bookstack.errors import AuthenticationError
from ..markdown.localize import Target, image_path
from ..plan.remote import app_url_of_book
from ..plan.routes import parse_version
from ..plan.tags import MANAGED_TAG, TREE_TAG

ZIP_EXPORT_MIN_VERSION = (25, 7)


MAX_ORDER = 99  # `order` and the NN- file prefix are 1-99


SLUG_MAX = 80  # keeps every path component far below file-system limits (255 bytes)


ASSET_DIR = "_assets"  # beside the pages; never a slug (slugs are [a-z0-9-])


RESERVED_ROOT = frozenset({"bookstack"})  # <docs_dir>/bookstack holds the structure file


DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


STATUSES = ("review", "published")  # `status: draft` would unpublish the page: kept as a tag instead


_BOOL_TAGS = ("toc", "search_exclude")


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


def read_wiki(client: BookStackClient, wanted: ExportFilter, tree_id: str = "") -> Wiki:
    """Everything the export needs, in bulk: with ``tree_id``, less the books other docs trees own."""
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
    if tree_id:
        _leave_other_trees(client, wiki, tree_id)
    if not wiki.app_url:
        found = app_url_of_book(client, int(listed[min(listed)].get("book_id") or 0)) if listed else None
        wiki.app_url = found or client.base_url
        wiki.notes.append(
            f"BookStack {version or 'before v25.05'} has no /api/system: its own address was taken as {wiki.app_url}"
        )
    books = set(books_to_export(wiki, wanted))
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


def _leave_other_trees(client: BookStackClient, wiki: Wiki, tree_id: str) -> None:
    """Books another docs tree owns (its ``bookstack-sync-tree``) belong to that tree's git: not exported,
    and a shelf another tree owns only as far as it lists books exported here (one search)."""
    owners: dict[tuple[str, int], str] = {}
    for hit in client.search(f"{{type:book|bookshelf}} [{MANAGED_TAG}] [{TREE_TAG}] -[{TREE_TAG}={tree_id}]"):
        tree = next((str(t.get("value") or "") for t in hit.get("tags", []) if t.get("name") == TREE_TAG), "")
        owners[(str(hit.get("type")), int(hit["id"]))] = tree
    left: dict[str, list[str]] = defaultdict(list)
    for (kind, obj_id), tree in sorted(owners.items()):
        if kind == "book" and obj_id in wiki.books:
            left[tree].append(wiki.books.pop(obj_id).name)
    for kind, obj_id in owners:
        listed_here = any(book in wiki.books for book in wiki.shelf_books.get(obj_id, []))
        if kind == "bookshelf" and obj_id in wiki.shelves and not listed_here:
            del wiki.shelves[obj_id]
    for tree, names in sorted(left.items()):
        wiki.notes.append(
            f"{len(names)} book(s) of docs tree {tree} not exported (that tree's own): {', '.join(names)}"
        )


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


def books_to_export(wiki: Wiki, wanted: ExportFilter) -> list[int]:
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
