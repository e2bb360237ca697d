"""ZIP exports (``GET /api/{books,chapters,pages}/{id}/export/zip``, v25.07+).

Facts from ``bookstack-zip-import.md`` §2-§4, §9, §10 and the v26 transcript 23 (``23_zip_export.txt``,
``23_exported_data.json``): ``data.json`` holds one ``book``/``chapter``/``page`` plus ``exported_at`` and
``instance``; pages carry their rendered ``html``, ``markdown`` only when they have some, their real
priorities, tags, attachments (every one, files included) and images (only the ones their content
references). Links to items inside the export become ``[[bsexport:<type>:<real id>]]``; as in BookStack's
``ZipReferenceParser`` only absolute URLs under the base URL are looked at, so a relative ``/link/12``
stays as it is.
"""

from __future__ import annotations

import functools
import io
import json
import re
import secrets
import string
import zipfile
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from .state import Attachment, Book, Chapter, Image, Page, Tag
from .wire import Request, Response, plain_permission_error

if TYPE_CHECKING:
    from .api import Api

_CONTROLLERS = {
    "book": ("BookStack\\Entities\\Queries\\BookQueries", "Exports/Controllers/BookExportApiController"),
    "chapter": ("BookStack\\Entities\\Queries\\ChapterQueries", "Exports/Controllers/ChapterExportApiController"),
    "page": ("BookStack\\Entities\\Queries\\PageQueries", "Exports/Controllers/PageExportApiController"),
}
_FILE_CHARS = string.ascii_letters + string.digits


def _tags(tags: list[Tag]) -> list[dict[str, str]]:
    return [{"name": t.name, "value": t.value} for t in tags]


def _file_name(extension: str) -> str:
    """``ZipExportFiles``: 20 random characters plus the extension."""
    stem = "".join(secrets.choice(_FILE_CHARS) for _ in range(20))
    return f"{stem}.{extension}" if extension else stem


class ExportHandlers:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store

    def _require(self) -> None:
        # The export controllers guard with the same ``can:`` middleware as the import API, whose
        # 403 is this plain-string shape (transcript 25); for exports the shape is inferred.
        if "content-export" not in self.api.permissions:
            raise plain_permission_error()

    def _id(self, params: dict[str, str], kind: str) -> int:
        from .api import parse_int_id

        query_class, controller = _CONTROLLERS[kind]
        return parse_int_id(params["id"], query_class, controller)

    def book(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        book = self.api.find_book(self._id(params, "book"))
        return self._download(_Export(self.api).book(book), book.slug)

    def chapter(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        chapter = self.api.find_chapter(self._id(params, "chapter"))
        return self._download(_Export(self.api).chapter(chapter), chapter.slug)

    def page(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        page = self.api.find_page(self._id(params, "page"))
        return self._download(_Export(self.api).page(page), page.slug)

    def _download(self, export: tuple[str, dict[str, Any], dict[str, bytes]], slug: str) -> Response:
        kind, item, files = export
        data = {
            kind: item,
            "exported_at": datetime.now(UTC).isoformat(timespec="seconds"),  # PHP DATE_ATOM
            "instance": {"id": self.api.instance_id, "version": self.api.version_string},
        }
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.json", json.dumps(data, separators=(",", ":")).replace("/", "\\/"))
            archive.writestr("files/", b"")
            for name, content in files.items():
                archive.writestr(f"files/{name}", content)
        # v26.03 sends the RFC 5987 form, earlier versions the quoted name (zip-import §9)
        if self.api.version >= (26, 3, 0):
            disposition = f"attachment; filename*=UTF-8''{slug}.zip"
        else:
            disposition = f'attachment; filename="{slug}.zip"'
        return Response(
            200,
            buffer.getvalue(),
            [
                ("Content-Type", "application/octet-stream"),
                ("Content-Disposition", disposition),
                ("X-Content-Type-Options", "nosniff"),
                ("Cache-Control", "no-cache, no-store, private"),
            ],
        )


class _Export:
    """``ZipExportBuilder`` for one item: models first, then the reference pass over their content."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store
        self.files: dict[str, bytes] = {}
        self.pages: dict[int, dict[str, Any]] = {}
        self.chapters: dict[int, dict[str, Any]] = {}
        self.books: dict[int, dict[str, Any]] = {}
        self.attachments: set[int] = set()
        self.images: dict[int, dict[str, Any]] = {}

    # -- models (ZipExport*::fromModel) ------------------------------------------------------------

    def _page(self, page: Page) -> dict[str, Any]:
        data: dict[str, Any] = {"id": page.id, "name": page.name, "html": page.html}
        if page.markdown:
            data["markdown"] = page.markdown
        data["priority"] = page.priority
        atts = sorted((a for a in self.store.attachments.values() if a.uploaded_to == page.id), key=_att_order)
        data["attachments"] = [self._attachment(a) for a in atts]
        data["images"] = []
        data["tags"] = _tags(page.tags)
        self.pages[page.id] = data
        return data

    def _attachment(self, att: Attachment) -> dict[str, Any]:
        self.attachments.add(att.id)
        if att.external:
            return {"id": att.id, "name": att.name, "link": att.link}
        name = _file_name(att.extension)
        self.files[name] = att.data
        return {"id": att.id, "name": att.name, "file": name}

    def _chapter(self, chapter: Chapter) -> dict[str, Any]:
        pages = [self._page(p) for p in self.store.chapter_pages(chapter.id) if not p.draft]
        data: dict[str, Any] = {
            "id": chapter.id,
            "name": chapter.name,
            "description_html": chapter.description_html,
            "priority": chapter.priority,
            "pages": pages,
            "tags": _tags(chapter.tags),
        }
        self.chapters[chapter.id] = data
        return data

    def _book(self, book: Book) -> dict[str, Any]:
        chapters: list[dict[str, Any]] = []
        pages: list[dict[str, Any]] = []
        for item in self.store.book_contents(book.id):
            if isinstance(item, Chapter):
                chapters.append(self._chapter(item))
            elif not item.draft:
                pages.append(self._page(item))
        data: dict[str, Any] = {
            "id": book.id,
            "name": book.name,
            "description_html": book.description_html,
            "chapters": chapters,
            "pages": pages,
            "tags": _tags(book.tags),
        }
        self.books[book.id] = data
        return data

    def book(self, book: Book) -> tuple[str, dict[str, Any], dict[str, bytes]]:
        data = self._book(book)
        self._references()
        return "book", data, self.files

    def chapter(self, chapter: Chapter) -> tuple[str, dict[str, Any], dict[str, bytes]]:
        data = self._chapter(chapter)
        self._references()
        return "chapter", data, self.files

    def page(self, page: Page) -> tuple[str, dict[str, Any], dict[str, bytes]]:
        data = self._page(page)
        self._references()
        return "page", data, self.files

    # -- references (ZipExportReferences::buildReferences) -------------------------------------------

    def _references(self) -> None:
        for page in self.pages.values():
            handler = functools.partial(self._reference, page=page)
            page["html"] = self._parse(page["html"] or "", handler)
            if page.get("markdown"):
                page["markdown"] = self._parse(page["markdown"], handler)
        for holder in [*self.chapters.values(), *self.books.values()]:
            if holder["description_html"]:
                holder["description_html"] = self._parse(
                    holder["description_html"], functools.partial(self._reference, page=None)
                )

    def _parse(self, content: str, handler: Callable[[object], str | None]) -> str:
        """``ZipReferenceParser::parse``: every ``<base>...`` up to a delimiter, resolved to a model and
        replaced with ``str_replace`` over the whole text (so ``/link/5`` also hits ``/link/55``, as there)."""
        base = self.api.base_url()
        links = re.findall("(" + re.escape(base) + r".*?)[\t\n\f>\"'=?#()]", content)
        for link in links:
            model = self._resolve(link, base)
            if model is not None:
                result = handler(model)
                if result is not None:
                    content = content.replace(link, result)
        return content

    def _resolve(self, link: str, base: str) -> object | None:
        """The model resolvers in BookStack's order: permalink, page, chapter, book, image, attachment."""
        found = re.match(re.escape(base + "/link") + r"/(\d+)", link)
        if found:
            return self.store.pages.get(int(found.group(1)))
        books = re.escape(base + "/books")
        found = re.match(books + r"/([\w-]+)/page/([\w-]+)([#?/]|$)", link)
        if found:
            book = self._book_by_slug(found.group(1))
            return next(
                (p for p in self.store.pages.values() if book and p.book_id == book.id and p.slug == found.group(2)),
                None,
            )
        found = re.match(books + r"/([\w-]+)/chapter/([\w-]+)([#?/]|$)", link)
        if found:
            book = self._book_by_slug(found.group(1))
            return next(
                (c for c in self.store.chapters.values() if book and c.book_id == book.id and c.slug == found.group(2)),
                None,
            )
        found = re.match(books + r"/([\w-]+)([#?/]|$)", link)
        if found:
            return self._book_by_slug(found.group(1))
        found = re.match(re.escape(base + "/uploads/images") + r"/(.+)", link)
        if found:
            parts = [
                part
                for part in found.group(1).split("/")
                if not (part.startswith(("thumbs-", "scaled-")) and "." not in part)
            ]
            path = "/uploads/images/" + "/".join(parts).lstrip("/")
            return next((i for i in self.store.images.values() if i.path == path), None)
        found = re.match(re.escape(base + "/attachments") + r"/(\d+)", link)
        if found:
            return self.store.attachments.get(int(found.group(1)))
        return None

    def _book_by_slug(self, slug: str) -> Book | None:
        return next((b for b in self.store.books.values() if b.slug == slug), None)

    def _reference(self, model: object, page: dict[str, Any] | None) -> str | None:
        """``ZipExportReferences::handleModelReference``."""
        if isinstance(model, Attachment):
            return f"[[bsexport:attachment:{model.id}]]" if model.id in self.attachments else None
        if isinstance(model, Image):
            if model.type not in ("gallery", "drawio") or page is None:
                return None
            owner = self.store.pages.get(model.uploaded_to or -1)
            if owner is None:
                return None
            if model.id not in self.images:
                extension = model.path.rsplit(".", 1)[-1] if "." in model.path else ""
                name = _file_name(extension)
                self.files[name] = model.data
                self.images[model.id] = {"id": model.id, "name": model.name, "file": name, "type": model.type}
                page["images"].append(self.images[model.id])
            return f"[[bsexport:image:{model.id}]]"
        if isinstance(model, Book) and model.id in self.books:
            return f"[[bsexport:book:{model.id}]]"
        if isinstance(model, Chapter) and model.id in self.chapters:
            return f"[[bsexport:chapter:{model.id}]]"
        if isinstance(model, Page) and model.id in self.pages:
            return f"[[bsexport:page:{model.id}]]"
        return None


def _att_order(att: Attachment) -> tuple[int, int]:
    return (att.order, att.id)
