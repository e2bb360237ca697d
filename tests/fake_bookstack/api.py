"""The BookStack REST API of the fake: routing, auth, throttling, handlers and JSON shapes.

Shapes follow the v25.02.4 transcripts (``shared/reference/bookstack-transcripts``) and, for v25.11+
extras (``type``, ``comments``, ``chapter_id: null``), the v26 transcripts.
"""

from __future__ import annotations

import base64
import html
import math
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import Any

from .activity import AUDIT_FIELDS, Activity, Actor, acting, log
from .html_markdown import html_to_markdown
from .markdown import add_bookmark_ids, html_to_text, plain_to_description_html, render_markdown
from .permissions import Permissions
from .references import targets, update_references
from .state import (
    API_USER,
    USERS,
    Attachment,
    Book,
    Chapter,
    Image,
    Page,
    Shelf,
    Store,
    Tag,
    iso,
    stored_name,
    stored_text,
)
from .validation import Validator, is_empty, is_int
from .wire import (
    PERMISSION_MESSAGE,
    ApiError,
    Request,
    Response,
    UploadedFile,
    api_error,
    error_response,
    json_error,
    json_response,
    model_not_found,
    validation_error,
    web_not_found,
)

Handler = Callable[[Request, dict[str, str]], Response]

DEFAULT_EDITOR = "wysiwyg"  # the system default editor of a fresh BookStack
BOOK_MODEL = "BookStack\\Entities\\Models\\Book"
CHAPTER_MODEL = "BookStack\\Entities\\Models\\Chapter"

# Sortable/filterable fields per listing (§3); the first one is the fallback sort.
PAGE_FIELDS = [
    "id", "book_id", "chapter_id", "name", "slug", "priority", "draft", "template",
    "created_at", "updated_at", "created_by", "updated_by", "owned_by",
]  # fmt: skip
CHAPTER_FIELDS = [
    "id", "book_id", "name", "slug", "description", "priority",
    "created_at", "updated_at", "created_by", "updated_by", "owned_by",
]  # fmt: skip
BOOK_FIELDS = ["id", "name", "slug", "description", "created_at", "updated_at", "created_by", "updated_by", "owned_by"]
ATTACHMENT_FIELDS = [
    "id", "name", "extension", "uploaded_to", "external", "order",
    "created_at", "updated_at", "created_by", "updated_by",
]  # fmt: skip
IMAGE_FIELDS = [
    "id",
    "name",
    "url",
    "path",
    "type",
    "uploaded_to",
    "created_by",
    "updated_by",
    "created_at",
    "updated_at",
]
RECYCLE_FIELDS = ["id", "deleted_by", "created_at", "updated_at", "deletable_type", "deletable_id"]
IMPORT_FIELDS = ["id", "name", "size", "type", "created_by", "created_at", "updated_at"]

IMAGE_MIMES = {"image/png": "png", "image/jpeg": "jpg", "image/gif": "gif", "image/webp": "webp"}


def sniff_mime(data: bytes) -> str:
    """Content sniffing like PHP finfo, for the few types BookStack accepts as images."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data.startswith(b"PK\x03\x04"):
        return "application/zip"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return "application/octet-stream"
    return "text/plain" if data else "application/x-empty"


def user_obj(user_id: int) -> dict[str, Any]:
    return dict(USERS.get(user_id, {"id": user_id, "name": f"User {user_id}", "slug": f"user-{user_id}"}))


def parse_int_id(raw: str, query_class: str, controller: str) -> int:
    """Route ids are typed ``int`` in the controllers: anything else is a PHP TypeError -> 500 (transcript 12)."""
    if re.fullmatch(r"\d+", raw):
        return int(raw)
    raise api_error(
        500,
        f"{query_class}::findVisibleByIdOrFail(): Argument #1 ($id) must be of type int, string given, "
        f"called in /var/www/bookstack/app/{controller}.php on line 102",
    )


def parse_time(raw: str, zone: tzinfo = UTC) -> datetime | None:
    """A date in a query, read in ``zone`` (BookStack's APP_TIMEZONE: the database keeps its wall time and
    a listing filter compares the raw text with it) unless it names its own offset."""
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            return datetime.strptime(raw, fmt).replace(tzinfo=zone)
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def parse_tags(raw: Any) -> list[Tag]:
    """``TagRepo::saveTagsToEntity``: blank names dropped, a missing value is ``""``."""
    tags: list[Tag] = []
    for item in raw if isinstance(raw, list) else list(raw.values()):
        if not isinstance(item, dict):
            # No per-item rules exist, so PHP fails on the array access (inferred 500, §2).
            raise api_error(500, f"Cannot access offset of type string on {type(item).__name__}")
        name = str(item.get("name") or "").strip()
        if not name:
            continue
        value = item.get("value")
        tags.append(Tag(stored_text(name), stored_text("" if value is None else str(value).strip())))
    return tags


@dataclass
class RateLimiter:
    """Laravel's ThrottleRequests with a fixed 60 s window that starts at the window's first hit (§5)."""

    limit: int | None
    clock: Callable[[], float]
    window_start: float | None = None
    hits: int = 0

    def check(self) -> tuple[bool, list[tuple[str, str]]]:
        """-> (allowed, headers). Rejected requests do not count as hits (transcript 10)."""
        if self.limit is None:
            return True, []
        now = self.clock()
        if self.window_start is None or now >= self.window_start + 60:
            self.window_start, self.hits = now, 0
        if self.hits >= self.limit:
            retry_after = max(1, math.ceil(self.window_start + 60 - now))
            return False, [
                ("X-RateLimit-Limit", str(self.limit)),
                ("X-RateLimit-Remaining", "0"),
                ("Retry-After", str(retry_after)),
                ("X-RateLimit-Reset", str(int(time.time()) + retry_after)),
            ]
        self.hits += 1
        return True, [("X-RateLimit-Limit", str(self.limit)), ("X-RateLimit-Remaining", str(self.limit - self.hits))]


def too_many_attempts(headers: list[tuple[str, str]]) -> Response:
    return error_response(429, "Too Many Attempts.", headers)


class Api:
    """Routes API requests to handlers; ``handle`` is called with the server's lock held."""

    def __init__(
        self,
        store: Store,
        *,
        token_id: str,
        token_secret: str,
        version: str,
        permissions: set[str],
        rate_limiter: RateLimiter,
        base_url: Callable[[], str],
    ) -> None:
        self.store = store
        self.token_id = token_id
        self.token_secret = token_secret
        self.other_tokens: dict[str, str] = {}  # more tokens of the same user (token id -> secret)
        self.version_string = version
        self.version = store.version
        self.permissions = permissions
        self.access = Permissions(permissions)
        self.rate_limiter = rate_limiter
        self.base_url = base_url
        self.token_expired = False
        # a search of tags alone pages as MySQL may without ORDER BY (``search.search_page``); the
        # server sets it (by default before v25.11, where it was seen)
        self.unordered_tag_search = False
        self.instance_id = "5f1c2a0e-fa4e-4b7c-9a3d-000000000001"
        self.lock = threading.RLock()
        self.routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self._register_routes()

    # ------------------------------------------------------------------------------------- routing

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        regex = "^/api/" + re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", pattern) + "$"
        self.routes.append((method, re.compile(regex), handler))

    def _register_routes(self) -> None:
        for name, kind in (("shelves", "shelf"), ("books", "book"), ("chapters", "chapter"), ("pages", "page")):
            self._route("GET", name, getattr(self, f"list_{name}"))
            self._route("POST", name, getattr(self, f"create_{kind}"))
            self._route("GET", name + "/{id}", getattr(self, f"read_{kind}"))
            self._route("PUT", name + "/{id}", getattr(self, f"update_{kind}"))
            self._route("DELETE", name + "/{id}", getattr(self, f"delete_{kind}"))
        self._route("GET", "pages/{id}/export/markdown", self.export_page_markdown)
        self._route("GET", "pages/{id}/export/plaintext", self.export_page_plaintext)
        self._route("GET", "attachments", self.list_attachments)
        self._route("POST", "attachments", self.create_attachment)
        self._route("GET", "attachments/{id}", self.read_attachment)
        self._route("PUT", "attachments/{id}", self.update_attachment)
        self._route("DELETE", "attachments/{id}", self.delete_attachment)
        self._route("GET", "image-gallery", self.list_images)
        self._route("POST", "image-gallery", self.create_image)
        self._route("GET", "image-gallery/{id}", self.read_image)
        self._route("PUT", "image-gallery/{id}", self.update_image)
        self._route("DELETE", "image-gallery/{id}", self.delete_image)
        self._route("GET", "search", self.search)
        self._route("GET", "audit-log", self.list_audit_log)
        self._route("GET", "recycle-bin", self.list_recycle_bin)
        self._route("PUT", "recycle-bin/{id}", self.restore_deletion)
        self._route("DELETE", "recycle-bin/{id}", self.destroy_deletion)
        if self.version >= (25, 5, 0):
            self._route("GET", "system", self.system)
        if self.version >= (25, 7, 0):
            from . import imports  # local: imports.py needs Api's helpers

            handlers = imports.ImportHandlers(self)
            self._route("GET", "imports", handlers.list)
            self._route("POST", "imports", handlers.upload)
            self._route("GET", "imports/{id}", handlers.read)
            self._route("POST", "imports/{id}", handlers.run)
            self._route("DELETE", "imports/{id}", handlers.delete)
            from . import exports  # local, like imports

            export = exports.ExportHandlers(self)
            self._route("GET", "books/{id}/export/zip", export.book)
            self._route("GET", "chapters/{id}/export/zip", export.chapter)
            self._route("GET", "pages/{id}/export/zip", export.page)

    def match(self, method: str, path: str) -> tuple[Handler | None, dict[str, str], list[str]]:
        """-> (handler, params, methods the path supports)."""
        wanted = "GET" if method == "HEAD" else method
        allowed: list[str] = []
        for route_method, regex, handler in self.routes:
            found = regex.match(path)
            if not found:
                continue
            if route_method == wanted:
                return handler, found.groupdict(), []
            allowed.append(route_method)
        return None, {}, allowed

    def handle(self, request: Request) -> Response:
        """The whole API stack for one request under /api: routing, throttle, auth, controller."""
        handler, params, allowed = self.match(request.method, request.path)
        if handler is None:
            if request.method in ("GET", "HEAD"):
                # The web fallback route answers: BookStack's HTML 404 page, not JSON (§2).
                return web_not_found()
            # The GET/HEAD fallback exists for every path, so other methods get a 405 (§2, transcript 12).
            methods = ["GET", "HEAD", *[m for m in ("POST", "PUT", "DELETE") if m in allowed]]
            supported = ", ".join(methods)
            route = request.path.lstrip("/")
            message = f"The {request.method} method is not supported for route {route}. Supported methods: {supported}."
            return error_response(405, message, [("Allow", supported)])
        allowed_now, rate_headers = self.rate_limiter.check()
        if not allowed_now:
            return too_many_attempts(rate_headers)
        try:
            self.authenticate(request)
            with acting(self.store, Actor(API_USER, request.client_ip)):
                response = handler(request, params)
        except ApiError as error:
            response = error.response
        response.headers.extend(rate_headers)
        return response

    # ---------------------------------------------------------------------------------------- auth

    def authenticate(self, request: Request) -> None:
        """``ApiTokenGuard``: the 401/403 cases of §1. Cookies are ignored (no session auth here)."""
        header = request.headers.get("authorization", "").strip()
        if not header:
            raise api_error(401, "No authorization token found on the request")
        if not header.startswith("Token ") or ":" not in header:
            raise api_error(401, "An authorization token was found on the request but the format appeared incorrect")
        parts = header[len("Token ") :].strip().split(":")
        token_id, secret = parts[0], parts[1]
        tokens = {self.token_id: self.token_secret, **self.other_tokens}
        if token_id not in tokens:
            raise api_error(401, "No matching API token was found for the provided authorization token")
        if secret != tokens[token_id]:
            raise api_error(401, "The secret provided for the given used API token is incorrect")
        if self.token_expired:
            raise api_error(403, "The authorization token used has expired")
        if "access-api" not in self.permissions:
            raise api_error(403, "The owner of the used API token does not have permission to make API calls")

    def require(self, *permissions: str) -> None:
        """``Controller::checkPermission``: plain role permissions."""
        if not all(self.access.has(p) for p in permissions):
            raise api_error(403, PERMISSION_MESSAGE)

    def require_can(self, permission: str, item: Any) -> None:
        """``Controller::checkOwnablePermission``: role ``-all``/``-own`` and entity permissions."""
        if not self.access.can(permission, item):
            raise api_error(403, PERMISSION_MESSAGE)

    # ----------------------------------------------------------------------------------- helpers

    @property
    def modern(self) -> bool:
        """v25.11+: one entities table, ``type`` keys on reads, comments on page reads."""
        return self.version >= (25, 11, 0)

    def url(self, path: str) -> str:
        return self.base_url() + path

    def book_url(self, book: Book) -> str:
        return self.url(f"/books/{book.slug}")

    def page_url(self, page: Page) -> str:
        return self.url(f"/books/{self.store.books[page.book_id].slug}/page/{page.slug}")

    def chapter_url(self, chapter: Chapter) -> str:
        return self.url(f"/books/{self.store.books[chapter.book_id].slug}/chapter/{chapter.slug}")

    def find_page(self, page_id: int) -> Page:
        page = self.store.pages.get(page_id)
        if page is None or page.draft:
            raise api_error(404, "Page not found")
        return page

    def find_book(self, book_id: int) -> Book:
        book = self.store.books.get(book_id)
        if book is None:
            raise model_not_found(BOOK_MODEL, book_id)
        return book

    def find_chapter(self, chapter_id: int) -> Chapter:
        chapter = self.store.chapters.get(chapter_id)
        if chapter is None:
            raise model_not_found(CHAPTER_MODEL, chapter_id)
        return chapter

    def find_shelf(self, shelf_id: int) -> Shelf:
        shelf = self.store.shelves.get(shelf_id)
        if shelf is None:
            raise api_error(404, "Shelf not found")
        return shelf

    ROUTE_IDS: dict[str, tuple[str, str]] = {
        "shelf": ("BookStack\\Entities\\Queries\\BookshelfQueries", "Entities/Controllers/BookshelfApiController"),
        "book": ("BookStack\\Entities\\Queries\\BookQueries", "Entities/Controllers/BookApiController"),
        "chapter": ("BookStack\\Entities\\Queries\\ChapterQueries", "Entities/Controllers/ChapterApiController"),
        "page": ("BookStack\\Entities\\Queries\\PageQueries", "Entities/Controllers/PageApiController"),
        "page_export": ("BookStack\\Entities\\Queries\\PageQueries", "Exports/Controllers/PageExportApiController"),
    }

    def route_id(self, params: dict[str, str], kind: str) -> int:
        query_class, controller = self.ROUTE_IDS[kind]
        return parse_int_id(params["id"], query_class, controller)

    @staticmethod
    def users(item: Any, as_objects: bool) -> dict[str, Any]:
        if as_objects:
            return {
                "created_by": user_obj(item.created_by),
                "updated_by": user_obj(item.updated_by),
                "owned_by": user_obj(item.owned_by),
            }
        return {"created_by": item.created_by, "updated_by": item.updated_by, "owned_by": item.owned_by}

    @staticmethod
    def description_from_input(data: dict[str, Any], current: tuple[str, str] | None) -> tuple[str, str]:
        """``description_html`` wins and the plain text is derived from it; else wrap ``description``."""
        if data.get("description_html") is not None:
            description_html = str(data["description_html"])
            return html_to_text(description_html).strip(), description_html
        if data.get("description") is not None:
            return str(data["description"]), plain_to_description_html(str(data["description"]))
        return current if current is not None else ("", "<p></p>")

    def saved(self, entity: Shelf | Book | Chapter, before: tuple[Any, ...], *, tags_sent: bool) -> None:
        """``BaseRepo::update`` for shelves, books and chapters: ``updated_by`` becomes the token user and
        Eloquent's ``save()`` writes (and moves ``updated_at``) only when a column changed — a name,
        description, parent, priority or template, or ``updated_by`` itself; sending ``tags`` always
        ``touch()``es it. A shelf PUT that changes only its book list, by the user who saved it last,
        leaves ``updated_at`` as it was (the list is a pivot table)."""
        if tags_sent or before != _saved_fields(entity) or entity.updated_by != API_USER:
            entity.updated_at = self.store.now()
        entity.updated_by = API_USER

    # ------------------------------------------------------------------------------------ listings

    def listing(self, request: Request, rows: list[dict[str, Any]], fields: list[str]) -> Response:
        """``ListingResponseBuilder``: filter, sort, count (1..500, default 100), offset; total before paging."""
        for key, raw in request.query.items():
            match = re.fullmatch(r"filter\[([^\]:]+)(?::(\w+))?\]", key)
            if not match:
                continue
            field_name, op = match.group(1).lower(), (match.group(2) or "eq").lower()
            if field_name not in fields:
                continue  # unknown filter fields are silently ignored (transcript 12)
            if op not in ("eq", "ne", "gt", "lt", "gte", "lte", "like"):
                op = "eq"
            rows = [row for row in rows if _filter_matches(row.get(field_name), op, raw, self.store.app_timezone)]
        sort = request.query.get("sort", "")
        descending = sort.startswith("-")
        sort_field = sort.lstrip("+-")
        if sort_field not in fields:
            sort_field, descending = fields[0], False
        rows = sorted(rows, key=lambda row: row["id"])
        rows = sorted(rows, key=lambda row: _sort_key(row.get(sort_field)), reverse=descending)
        count = _int_param(request.query.get("count"), 100)
        count = min(max(count, 1), 500)
        offset = max(_int_param(request.query.get("offset"), 0), 0)
        return json_response(200, {"data": rows[offset : offset + count], "total": len(rows)})

    # --------------------------------------------------------------------------------------- shelves

    def shelf_json(self, shelf: Shelf, *, as_objects: bool) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": shelf.id,
            "name": shelf.name,
            "slug": shelf.slug,
            "description": shelf.description,
        }
        users = self.users(shelf, as_objects)
        data.update(created_by=users["created_by"], updated_by=users["updated_by"])
        data.update(created_at=iso(shelf.created_at), updated_at=iso(shelf.updated_at), owned_by=users["owned_by"])
        data.update(description_html=shelf.description_html, tags=[t.as_json() for t in shelf.tags], cover=None)
        return data

    def shelf_list_item(self, shelf: Shelf) -> dict[str, Any]:
        return {
            "id": shelf.id, "slug": shelf.slug, "name": shelf.name, "description": shelf.description,
            "created_at": iso(shelf.created_at), "updated_at": iso(shelf.updated_at),
            "owned_by": shelf.owned_by, "created_by": shelf.created_by, "updated_by": shelf.updated_by, "cover": None,
        }  # fmt: skip

    def list_shelves(self, request: Request, params: dict[str, str]) -> Response:
        rows = [self.shelf_list_item(s) for s in self.store.shelves.values()]
        return self.listing(request, rows, BOOK_FIELDS)

    def _shelf_rules(self, v: Validator, creating: bool) -> None:
        v.check("name", *(["required"] if creating else []), "string", "min:1", "max:255")
        v.check("description", "string", "max:1900")
        v.check("description_html", "string", "max:2000")
        v.check("books", "array")
        v.check("tags", "array")
        v.raise_if_failed()
        stored_name(v.data)

    def _shelf_books(self, raw: Any) -> list[int]:
        """``books`` sets the whole list in order; unknown ids are silently dropped (§2)."""
        ids: list[int] = []
        for item in raw if isinstance(raw, list) else list(raw.values()):
            if is_int(item) and int(item) in self.store.books and int(item) not in ids:
                ids.append(int(item))
        return ids

    def create_shelf(self, request: Request, params: dict[str, str]) -> Response:
        data = request.input
        self._shelf_rules(Validator(data, request.files), creating=True)
        self.require("bookshelf-create-all")
        description, description_html = self.description_from_input(data, None)
        moment = self.store.now()
        shelf = Shelf(
            id=self.store.next_id("shelf"),
            name=data["name"],
            slug=self.store.unique_slug("shelf", data["name"]),
            description=description,
            description_html=description_html,
            created_at=moment,
            updated_at=moment,
            tags=parse_tags(data["tags"]) if data.get("tags") is not None else [],
            book_ids=self._shelf_books(data["books"]) if data.get("books") is not None else [],
        )
        self.store.shelves[shelf.id] = shelf
        log(self.store, "bookshelf_create", shelf)
        return json_response(200, self.shelf_json(shelf, as_objects=False))

    def read_shelf(self, request: Request, params: dict[str, str]) -> Response:
        shelf = self.find_shelf(self.route_id(params, "shelf"))
        data = self.shelf_json(shelf, as_objects=True)
        data["books"] = [self.book_basic(self.store.books[i]) for i in shelf.book_ids if i in self.store.books]
        return json_response(200, data)

    def update_shelf(self, request: Request, params: dict[str, str]) -> Response:
        shelf = self.find_shelf(self.route_id(params, "shelf"))
        data = request.input
        self._shelf_rules(Validator(data, request.files), creating=False)
        self.require_can("bookshelf-update", shelf)
        before = _saved_fields(shelf)
        linked = targets(self, "shelf", shelf)
        if data.get("name") is not None and data["name"] != shelf.name:
            shelf.name = data["name"]
            shelf.slug = self.store.unique_slug("shelf", shelf.name, exclude=shelf.id)
        shelf.description, shelf.description_html = self.description_from_input(
            data, (shelf.description, shelf.description_html)
        )
        if data.get("tags") is not None:
            shelf.tags = parse_tags(data["tags"])
        if data.get("books") is not None:
            # a pivot-table sync: the shelf row itself is not saved for it
            shelf.book_ids = self._shelf_books(data["books"])
        self.saved(shelf, before, tags_sent=data.get("tags") is not None)
        log(self.store, "bookshelf_update", shelf)
        update_references(self, linked)
        return json_response(200, self.shelf_json(shelf, as_objects=False))

    def delete_shelf(self, request: Request, params: dict[str, str]) -> Response:
        shelf = self.find_shelf(self.route_id(params, "shelf"))
        self.require_can("bookshelf-delete", shelf)
        self.store.delete("shelf", shelf.id)
        return Response(204)

    # ----------------------------------------------------------------------------------------- books

    def book_basic(self, book: Book) -> dict[str, Any]:
        """A book as embedded in a shelf read (transcript 07)."""
        data: dict[str, Any] = {
            "id": book.id, "name": book.name, "slug": book.slug, "description": book.description,
            "created_at": iso(book.created_at), "updated_at": iso(book.updated_at),
            "created_by": book.created_by, "updated_by": book.updated_by, "owned_by": book.owned_by,
            "default_template_id": book.default_template_id, "sort_rule_id": self.store.sort_rule_id(book),
        }  # fmt: skip
        return data

    def book_json(self, book: Book, *, as_objects: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"id": book.id}
        if self.modern and as_objects:
            data["type"] = "book"
        data.update(name=book.name, slug=book.slug, description=book.description)
        data.update(created_at=iso(book.created_at), updated_at=iso(book.updated_at))
        data.update(self.users(book, as_objects))
        data.update(default_template_id=book.default_template_id, description_html=book.description_html)
        if self.modern and as_objects:
            data["image_id"] = None
        data.update(sort_rule_id=self.store.sort_rule_id(book), tags=[t.as_json() for t in book.tags], cover=None)
        return data

    def book_list_item(self, book: Book) -> dict[str, Any]:
        return {
            "id": book.id, "slug": book.slug, "name": book.name, "description": book.description,
            "created_at": iso(book.created_at), "updated_at": iso(book.updated_at),
            "owned_by": book.owned_by, "created_by": book.created_by, "updated_by": book.updated_by, "cover": None,
        }  # fmt: skip

    def list_books(self, request: Request, params: dict[str, str]) -> Response:
        rows = [self.book_list_item(b) for b in self.store.books.values()]
        return self.listing(request, rows, BOOK_FIELDS)

    def _book_rules(self, v: Validator, creating: bool) -> None:
        v.check("name", *(["required"] if creating else []), "string", "min:1", "max:255")
        v.check("description", "string", "max:1900")
        v.check("description_html", "string", "max:2000")
        v.check("tags", "array")
        v.check("default_template_id", "integer")
        v.raise_if_failed()
        stored_name(v.data)

    def _template_id(self, raw: Any) -> int | None:
        """Only a visible template page sticks; anything else is silently null (§2 Books)."""
        if raw is None or not is_int(raw):
            return None
        page = self.store.pages.get(int(raw))
        return page.id if page is not None and page.template else None

    def create_book(self, request: Request, params: dict[str, str]) -> Response:
        data = request.input
        self._book_rules(Validator(data, request.files), creating=True)
        self.require("book-create-all")
        book = self.new_book(
            name=data["name"],
            description_pair=self.description_from_input(data, None),
            tags=parse_tags(data["tags"]) if data.get("tags") is not None else [],
        )
        book.default_template_id = self._template_id(data.get("default_template_id"))
        return json_response(200, self.book_json(book, as_objects=False))

    def new_book(self, *, name: str, description_pair: tuple[str, str], tags: list[Tag]) -> Book:
        moment = self.store.now()
        book = Book(
            id=self.store.next_id("book"),
            name=name,
            slug=self.store.unique_slug("book", name),
            description=description_pair[0],
            description_html=description_pair[1],
            created_at=moment,
            updated_at=moment,
            tags=tags,
        )
        self.store.books[book.id] = book
        log(self.store, "book_create", book)  # BookRepo::create, for the API and a ZIP import alike
        return book

    def book_contents_json(self, book: Book) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        for item in self.store.book_contents(book.id):
            if isinstance(item, Chapter):
                items.append(
                    {
                        "id": item.id,
                        "name": item.name,
                        "slug": item.slug,
                        "book_id": item.book_id,
                        "priority": item.priority,
                        "created_at": iso(item.created_at),
                        "updated_at": iso(item.updated_at),
                        "url": self.chapter_url(item),
                        "type": "chapter",
                        "pages": [self.contents_page(p) for p in self.store.chapter_pages(item.id) if not p.draft],
                    }
                )
            elif not item.draft:
                items.append({**self.contents_page(item), "type": "page"})
        return items

    def contents_page(self, page: Page) -> dict[str, Any]:
        data: dict[str, Any] = {"id": page.id, "name": page.name, "slug": page.slug, "book_id": page.book_id}
        chapter_id = self.store.chapter_id_out(page)
        if chapter_id is not None or not self.modern:
            data["chapter_id"] = chapter_id
        data.update(draft=page.draft, template=page.template, priority=page.priority)
        data.update(created_at=iso(page.created_at), updated_at=iso(page.updated_at), url=self.page_url(page))
        return data

    def read_book(self, request: Request, params: dict[str, str]) -> Response:
        book = self.find_book(self.route_id(params, "book"))
        data = self.book_json(book, as_objects=True)
        tags, cover = data.pop("tags"), data.pop("cover")
        data["contents"] = self.book_contents_json(book)
        data.update(tags=tags, cover=cover)
        if self.version >= (26, 3, 0):
            data["shelves"] = [
                self.shelf_list_item(s)
                for s in sorted(self.store.shelves.values(), key=lambda s: s.id)
                if book.id in s.book_ids
            ]
        return json_response(200, data)

    def update_book(self, request: Request, params: dict[str, str]) -> Response:
        book = self.find_book(self.route_id(params, "book"))
        data = request.input
        self._book_rules(Validator(data, request.files), creating=False)
        self.require_can("book-update", book)
        before = _saved_fields(book)
        linked = targets(self, "book", book)
        if data.get("name") is not None and data["name"] != book.name:
            book.name = data["name"]
            book.slug = self.store.unique_slug("book", book.name, exclude=book.id)
        book.description, book.description_html = self.description_from_input(
            data, (book.description, book.description_html)
        )
        if data.get("tags") is not None:
            book.tags = parse_tags(data["tags"])
        if "default_template_id" in data:
            book.default_template_id = self._template_id(data["default_template_id"])
        self.saved(book, before, tags_sent=data.get("tags") is not None)
        log(self.store, "book_update", book)
        update_references(self, linked)
        return json_response(200, self.book_json(book, as_objects=False))

    def delete_book(self, request: Request, params: dict[str, str]) -> Response:
        book = self.find_book(self.route_id(params, "book"))
        self.require_can("book-delete", book)
        self.store.delete("book", book.id)
        return Response(204)

    # -------------------------------------------------------------------------------------- chapters

    def chapter_json(self, chapter: Chapter, *, as_objects: bool) -> dict[str, Any]:
        data: dict[str, Any] = {"id": chapter.id}
        if self.modern and as_objects:
            data["type"] = "chapter"
        data.update(book_id=chapter.book_id, slug=chapter.slug, name=chapter.name, description=chapter.description)
        data.update(priority=chapter.priority, created_at=iso(chapter.created_at), updated_at=iso(chapter.updated_at))
        data.update(self.users(chapter, as_objects))
        data.update(description_html=chapter.description_html, default_template_id=chapter.default_template_id)
        data.update(book_slug=self.store.books[chapter.book_id].slug, tags=[t.as_json() for t in chapter.tags])
        return data

    def chapter_list_item(self, chapter: Chapter) -> dict[str, Any]:
        return {
            "id": chapter.id, "book_id": chapter.book_id, "name": chapter.name, "slug": chapter.slug,
            "description": chapter.description, "priority": chapter.priority,
            "created_at": iso(chapter.created_at), "updated_at": iso(chapter.updated_at),
            "created_by": chapter.created_by, "updated_by": chapter.updated_by, "owned_by": chapter.owned_by,
            "book_slug": self.store.books[chapter.book_id].slug,
        }  # fmt: skip

    def list_chapters(self, request: Request, params: dict[str, str]) -> Response:
        rows = [self.chapter_list_item(c) for c in self.store.chapters.values()]
        return self.listing(request, rows, CHAPTER_FIELDS)

    def _chapter_rules(self, v: Validator, creating: bool) -> None:
        v.check("book_id", *(["required"] if creating else []), "integer")
        v.check("name", *(["required"] if creating else []), "string", "min:1", "max:255")
        v.check("description", "string", "max:1900")
        v.check("description_html", "string", "max:2000")
        v.check("tags", "array")
        v.check("priority", "integer")
        v.check("default_template_id", "integer")
        v.raise_if_failed()
        stored_name(v.data)

    def create_chapter(self, request: Request, params: dict[str, str]) -> Response:
        data = request.input
        self._chapter_rules(Validator(data, request.files), creating=True)
        book = self.find_book(int(data["book_id"]))
        self.require_can("chapter-create", book)
        chapter = self.new_chapter(
            book,
            name=data["name"],
            description_pair=self.description_from_input(data, None),
            tags=parse_tags(data["tags"]) if data.get("tags") is not None else [],
            priority=int(data["priority"]) if data.get("priority") is not None else None,
        )
        chapter.default_template_id = self._template_id(data.get("default_template_id"))
        return json_response(200, self.chapter_json(chapter, as_objects=False))

    def new_chapter(
        self, book: Book, *, name: str, description_pair: tuple[str, str], tags: list[Tag], priority: int | None
    ) -> Chapter:
        moment = self.store.now()
        chapter = Chapter(
            id=self.store.next_id("chapter"),
            book_id=book.id,
            name=name,
            slug=self.store.unique_slug("chapter", name, book_id=book.id),
            description=description_pair[0],
            description_html=description_pair[1],
            priority=priority if priority is not None else self.store.book_last_priority(book.id) + 1,
            created_at=moment,
            updated_at=moment,
            tags=tags,
        )
        self.store.chapters[chapter.id] = chapter
        log(self.store, "chapter_create", chapter)  # ChapterRepo::create, for the API and a ZIP import alike
        self.store.run_book_auto_sort(book.id)
        return chapter

    def read_chapter(self, request: Request, params: dict[str, str]) -> Response:
        chapter = self.find_chapter(self.route_id(params, "chapter"))
        data = self.chapter_json(chapter, as_objects=True)
        data["pages"] = [self.page_list_item(p) for p in self.store.chapter_pages(chapter.id) if not p.draft]
        return json_response(200, data)

    def update_chapter(self, request: Request, params: dict[str, str]) -> Response:
        chapter = self.find_chapter(self.route_id(params, "chapter"))
        data = request.input
        self._chapter_rules(Validator(data, request.files), creating=False)
        self.require_can("chapter-update", chapter)
        before = _saved_fields(chapter)
        linked = targets(self, "chapter", chapter)
        old_book = chapter.book_id
        if data.get("book_id") is not None and int(data["book_id"]) != chapter.book_id:
            self.require_can("chapter-delete", chapter)
            if int(data["book_id"]) not in self.store.books:
                # MoveOperationException -> Controller::jsonError, a 500 in the odd shape (§2 Chapters).
                raise json_error("The selected book was not found")
            # ChapterRepo::move: a PermissionsException becomes the usual 403.
            self.require_can("chapter-create", self.store.books[int(data["book_id"])])
            self.store.move_chapter(chapter, int(data["book_id"]))
            log(self.store, "chapter_move", chapter)  # ChapterRepo::move; the update below logs too
        if data.get("name") is not None and data["name"] != chapter.name:
            chapter.name = data["name"]
            chapter.slug = self.store.unique_slug("chapter", chapter.name, book_id=chapter.book_id, exclude=chapter.id)
        chapter.description, chapter.description_html = self.description_from_input(
            data, (chapter.description, chapter.description_html)
        )
        if data.get("tags") is not None:
            chapter.tags = parse_tags(data["tags"])
        if data.get("priority") is not None:
            chapter.priority = int(data["priority"])
        if "default_template_id" in data:
            chapter.default_template_id = self._template_id(data["default_template_id"])
        self.saved(chapter, before, tags_sent=data.get("tags") is not None)
        log(self.store, "chapter_update", chapter)
        self.store.run_book_auto_sort(chapter.book_id)
        if old_book != chapter.book_id:
            self.store.run_book_auto_sort(old_book)
        update_references(self, linked)
        return json_response(200, self.chapter_json(chapter, as_objects=False))

    def delete_chapter(self, request: Request, params: dict[str, str]) -> Response:
        chapter = self.find_chapter(self.route_id(params, "chapter"))
        self.require_can("chapter-delete", chapter)
        self.store.delete("chapter", chapter.id)
        return Response(204)

    # ----------------------------------------------------------------------------------------- pages

    def page_json(self, page: Page) -> dict[str, Any]:
        """A full page: create, read and update all answer with user objects (transcripts 02, 08)."""
        data: dict[str, Any] = {"id": page.id}
        if self.modern:
            data["type"] = "page"
        data.update(book_id=page.book_id, chapter_id=self.store.chapter_id_out(page), name=page.name, slug=page.slug)
        data.update(html=page.html, priority=page.priority)
        data.update(created_at=iso(page.created_at), updated_at=iso(page.updated_at))
        data.update(created_by=user_obj(page.created_by), updated_by=user_obj(page.updated_by))
        if self.modern:
            data["page_id"] = page.id
        data.update(draft=page.draft, markdown=page.markdown, revision_count=page.revision_count)
        data.update(template=page.template, owned_by=user_obj(page.owned_by), editor=page.editor, raw_html=page.html)
        if self.modern:
            data["comments"] = {"active": [], "archived": []}
        data["tags"] = [t.as_json() for t in page.tags]
        return data

    def page_list_item(self, page: Page) -> dict[str, Any]:
        return {
            "name": page.name, "id": page.id, "slug": page.slug, "book_id": page.book_id,
            "chapter_id": self.store.chapter_id_out(page), "draft": page.draft, "template": page.template,
            "created_at": iso(page.created_at), "updated_at": iso(page.updated_at), "priority": page.priority,
            "owned_by": page.owned_by, "book_slug": self.store.books[page.book_id].slug,
            "created_by": page.created_by, "updated_by": page.updated_by,
            "revision_count": page.revision_count, "editor": page.editor,
        }  # fmt: skip

    def list_pages(self, request: Request, params: dict[str, str]) -> Response:
        rows = [self.page_list_item(p) for p in self.store.pages.values()]
        return self.listing(request, rows, PAGE_FIELDS)

    def _page_rules(self, v: Validator, creating: bool) -> None:
        if creating:
            v.check("book_id", "required_without:chapter_id", "integer")
            v.check("chapter_id", "required_without:book_id", "integer")
            v.check("name", "required", "string", "max:255")
            v.check("html", "required_without:markdown", "string")
            v.check("markdown", "required_without:html", "string")
        else:
            v.check("book_id", "integer")
            v.check("chapter_id", "integer")
            v.check("name", "string", "min:1", "max:255")
            v.check("html", "string")
            v.check("markdown", "string")
        v.check("tags", "array")
        v.check("priority", "integer")
        v.raise_if_failed()
        stored_name(v.data)

    def set_page_content(self, page: Page, data: dict[str, Any], *, can_change_editor: bool) -> None:
        """``PageRepo::updateTemplateStatusAndContentFromInput`` (§7): markdown wins, html clears markdown."""
        markdown, html_in = data.get("markdown"), data.get("html")
        current = page.editor or DEFAULT_EDITOR
        new_editor = current
        have_input = markdown is not None or html_in is not None
        if have_input and not markdown and not html_in:
            page.html, page.markdown = "", ""
        elif isinstance(markdown, str) and markdown:
            new_editor = "markdown"
            page.markdown = markdown
            page.html = add_bookmark_ids(render_markdown(markdown))
        elif html_in is not None:
            new_editor = "wysiwyg" if current == "markdown" else current
            page.html = add_bookmark_ids(str(html_in))
            page.markdown = ""
        if (new_editor != current or not page.editor) and can_change_editor:
            page.editor = new_editor
        elif not page.editor:
            page.editor = DEFAULT_EDITOR

    def page_parent(self, data: dict[str, Any]) -> tuple[Book, Chapter | None]:
        """``chapter_id`` wins over ``book_id``; a missing parent is a 404 (transcript 06)."""
        if "chapter_id" in data:
            chapter = self.find_chapter(int(data["chapter_id"]) if is_int(data["chapter_id"]) else 0)
            return self.store.books[chapter.book_id], chapter
        return self.find_book(int(data["book_id"])), None

    def new_page(
        self,
        book: Book,
        chapter: Chapter | None,
        *,
        name: str,
        content: dict[str, Any],
        tags: list[Tag],
        priority: int | None,
    ) -> Page:
        moment = self.store.now()
        if priority is None:
            if chapter is not None:
                priority = self.store.chapter_next_priority(chapter.id)
            else:
                priority = self.store.book_last_priority(book.id) + 1
        page = Page(
            id=self.store.next_id("page"),
            book_id=book.id,
            chapter_id=chapter.id if chapter else None,
            name=name,
            slug=self.store.unique_slug("page", name, book_id=book.id),
            html="",
            markdown="",
            editor="",
            priority=priority,
            created_at=moment,
            updated_at=moment,
            tags=tags,
        )
        self.set_page_content(page, content, can_change_editor="editor-change" in self.permissions)
        self.store.pages[page.id] = page
        log(self.store, "page_create", page)  # PageRepo::publishDraft, for the API and a ZIP import alike
        self.store.run_book_auto_sort(book.id)
        return page

    def create_page(self, request: Request, params: dict[str, str]) -> Response:
        data = request.input
        self._page_rules(Validator(data, request.files), creating=True)
        book, chapter = self.page_parent(data)
        self.require_can("page-create", chapter or book)
        page = self.new_page(
            book,
            chapter,
            name=data["name"],
            content=data,
            tags=parse_tags(data["tags"]) if data.get("tags") is not None else [],
            priority=int(data["priority"]) if data.get("priority") is not None else None,
        )
        return json_response(200, self.page_json(page))

    def read_page(self, request: Request, params: dict[str, str]) -> Response:
        page = self.find_page(self.route_id(params, "page"))
        return json_response(200, self.page_json(page))

    def update_page(self, request: Request, params: dict[str, str]) -> Response:
        page = self.find_page(self.route_id(params, "page"))
        data = request.input
        self._page_rules(Validator(data, request.files), creating=False)
        self.require_can("page-update", page)
        old_book = page.book_id
        linked = targets(self, "page", page)
        if "chapter_id" in data or "book_id" in data:
            book, chapter = self.page_parent(data)
            # The parent compared is the chapter for chapter pages, so sending book_id (even the same
            # book) pulls a page out of its chapter (§2 Pages, "the trap").
            if chapter is not None:
                moves = page.chapter_id != chapter.id
            else:
                moves = page.chapter_id is not None or page.book_id != book.id
            if moves:
                # A move needs delete on the page and create in the new parent (PageRepo::move).
                self.require_can("page-delete", page)
                self.require_can("page-create", chapter or book)
                self.store.move_page(page, book_id=book.id, chapter_id=chapter.id if chapter else None)
                log(self.store, "page_move", page)  # PageRepo::move; the update below logs too
        if data.get("name") is not None and data["name"] != page.name:
            page.name = data["name"]
            page.slug = self.store.unique_slug("page", page.name, book_id=page.book_id, exclude=page.id)
        self.set_page_content(page, data, can_change_editor="editor-change" in self.permissions)
        if data.get("tags") is not None:
            page.tags = parse_tags(data["tags"])
        if data.get("priority") is not None:
            page.priority = int(data["priority"])
        # Every PUT is an edit: +1 revision_count and a new updated_at, even for {} (transcript 08).
        page.revision_count += 1
        page.updated_at, page.updated_by = self.store.now(), 1
        log(self.store, "page_update", page)
        self.store.run_book_auto_sort(page.book_id)
        if old_book != page.book_id:
            self.store.run_book_auto_sort(old_book)
        update_references(self, linked)
        return json_response(200, self.page_json(page))

    def delete_page(self, request: Request, params: dict[str, str]) -> Response:
        page = self.find_page(self.route_id(params, "page"))
        self.require_can("page-delete", page)
        self.store.delete("page", page.id)
        return Response(204)

    def export_page_markdown(self, request: Request, params: dict[str, str]) -> Response:
        """``ExportFormatter::pageToMarkdown``: "# <name>", a blank line, then the page's markdown, or
        ``HtmlToMarkdown`` of its HTML for a page without markdown. The export controllers need the
        ``content-export`` permission, like the ZIP export."""
        self.require("content-export")
        page = self.find_page(self.route_id(params, "page_export"))
        body = page.markdown if page.markdown else html_to_markdown(page.html)
        return _download(f"# {page.name}\n\n{body}", f"{page.slug}.md")

    def export_page_plaintext(self, request: Request, params: dict[str, str]) -> Response:
        page = self.find_page(self.route_id(params, "page_export"))
        return _download(f"{page.name}\n\n{html_to_text(page.html).strip()}", f"{page.slug}.txt")

    # ----------------------------------------------------------------------------------- attachments

    def attachment_json(self, att: Attachment) -> dict[str, Any]:
        return {
            "id": att.id, "name": att.name, "extension": att.extension, "uploaded_to": att.uploaded_to,
            "external": att.external, "order": att.order, "created_at": iso(att.created_at),
            "updated_at": iso(att.updated_at), "created_by": att.created_by, "updated_by": att.updated_by,
        }  # fmt: skip

    def find_attachment(self, raw: str) -> Attachment:
        att_id = parse_int_id(raw, "BookStack\\Uploads\\Attachment", "Uploads/Controllers/AttachmentApiController")
        att = self.store.attachments.get(att_id)
        if att is None:
            raise model_not_found("BookStack\\Uploads\\Attachment", att_id)
        return att

    def list_attachments(self, request: Request, params: dict[str, str]) -> Response:
        rows = [self.attachment_json(a) for a in self.store.attachments.values()]
        return self.listing(request, rows, ATTACHMENT_FIELDS)

    def _attachment_rules(self, request: Request, creating: bool) -> None:
        v = Validator(request.input, request.files)
        req = ["required"] if creating else []
        v.check("name", *req, "string", "min:1", "max:255")
        v.check("uploaded_to", *req, "integer")
        v.check("file", *(["required_without:link"] if creating else []), "file", "max:50000")
        v.check("link", *(["required_without:file"] if creating else []), "string", "min:1", "max:2000")
        uploaded_to = request.input.get("uploaded_to")
        if "uploaded_to" not in v.errors and uploaded_to is not None and int(uploaded_to) not in self.store.pages:
            v.errors["uploaded_to"] = ["The selected uploaded to is invalid."]  # exists:pages,id
        link = request.input.get("link")
        if "link" not in v.errors and isinstance(link, str) and re.match(r"\s*(javascript|data):", link, re.I):
            v.errors["link"] = ["The link format is invalid."]  # safe_url rule (inferred message)
        v.raise_if_failed()
        stored_name(request.input)

    def create_attachment(self, request: Request, params: dict[str, str]) -> Response:
        self._attachment_rules(request, creating=True)
        self.require("attachment-create-all")
        data = request.input
        page = self.find_page(int(data["uploaded_to"]))
        self.require_can("page-update", page)
        upload = request.files.get("file")
        att = self.new_attachment(page, name=data["name"], upload=upload, link=None if upload else data["link"])
        return json_response(200, self.attachment_json(att))

    def new_attachment(self, page: Page, *, name: str, upload: UploadedFile | None, link: str | None) -> Attachment:
        orders = [a.order for a in self.store.attachments.values() if a.uploaded_to == page.id]
        moment = self.store.now()
        att = Attachment(
            id=self.store.next_id("attachment"),
            name=name,
            uploaded_to=page.id,
            external=upload is None,
            link=link or "",
            data=upload.data if upload else b"",
            extension=_extension(upload.filename) if upload else "",
            order=max([*orders, 0]) + 1,
            created_at=moment,
            updated_at=moment,
        )
        self.store.attachments[att.id] = att
        return att

    def read_attachment(self, request: Request, params: dict[str, str]) -> Response:
        att = self.find_attachment(params["id"])
        data = self.attachment_json(att)
        data["created_by"], data["updated_by"] = user_obj(att.created_by), user_obj(att.updated_by)
        link = self.url(f"/attachments/{att.id}")
        data["links"] = {
            "html": f'<a target="_blank" href="{link}">{html.escape(att.name)}</a>',
            "markdown": f"[{att.name}]({link})",
        }
        data["content"] = att.link if att.external else base64.b64encode(att.data).decode()
        return json_response(200, data)

    def update_attachment(self, request: Request, params: dict[str, str]) -> Response:
        att = self.find_attachment(params["id"])
        self._attachment_rules(request, creating=False)
        self.require_can("page-update", self.find_page(att.uploaded_to))
        self.require_can("attachment-update", att)
        data = request.input
        if data.get("name") is not None:
            att.name = data["name"]
        if data.get("uploaded_to") is not None:
            att.uploaded_to = int(data["uploaded_to"])
        upload = request.files.get("file")
        if upload is not None:
            att.external, att.link, att.data, att.extension = False, "", upload.data, _extension(upload.filename)
        elif data.get("link") is not None:
            att.external, att.link, att.data, att.extension = True, data["link"], b"", ""
        att.updated_at = self.store.now()
        return json_response(200, self.attachment_json(att))

    def delete_attachment(self, request: Request, params: dict[str, str]) -> Response:
        att = self.find_attachment(params["id"])
        self.require_can("attachment-delete", att)
        del self.store.attachments[att.id]  # attachments skip the recycle bin
        return Response(204)

    # ---------------------------------------------------------------------------------- image gallery

    def image_base(self, image: Image) -> dict[str, Any]:
        return {
            "id": image.id, "name": image.name, "url": self.url(image.path), "path": image.path,
            "type": image.type, "uploaded_to": image.uploaded_to, "created_by": image.created_by,
            "updated_by": image.updated_by, "created_at": iso(image.created_at), "updated_at": iso(image.updated_at),
        }  # fmt: skip

    def image_display_url(self, image: Image) -> str:
        folder, _, filename = image.path.rpartition("/")
        return self.url(f"{folder}/scaled-1680-/{filename}")

    def image_json(self, image: Image) -> dict[str, Any]:
        """Create/read/update shape of ``image-gallery-create.json``: ``thumbs`` and ``content`` snippets."""
        data = self.image_base(image)
        data["created_by"], data["updated_by"] = user_obj(image.created_by), user_obj(image.updated_by)
        folder, _, filename = image.path.rpartition("/")
        url, display = self.url(image.path), self.image_display_url(image)
        data["thumbs"] = {"gallery": self.url(f"{folder}/thumbs-150-150/{filename}"), "display": display}
        alt = html.escape(image.name)
        data["content"] = {
            "html": f'<a href="{url}" target="_blank"><img src="{display}" alt="{alt}"></a>',
            "markdown": f"![{image.name}]({display})",
        }
        return data

    def find_image(self, raw: str) -> Image:
        image_id = parse_int_id(raw, "BookStack\\Uploads\\Image", "Uploads/Controllers/ImageGalleryApiController")
        image = self.store.images.get(image_id)
        if image is None:
            raise model_not_found("BookStack\\Uploads\\Image", image_id)
        return image

    def list_images(self, request: Request, params: dict[str, str]) -> Response:
        rows = [self.image_base(i) for i in self.store.images.values()]
        return self.listing(request, rows, IMAGE_FIELDS)

    def new_image(self, page_id: int | None, *, name: str, image_type: str, filename: str, data: bytes) -> Image:
        """Store an image under ``/uploads/images/<type>/<YYYY-MM>/``; a clash prefixes 3 random chars."""
        from .markdown import random_suffix

        moment = self.store.now()
        folder = f"/uploads/images/{image_type}/{moment:%Y-%m}"
        safe = re.sub(r"[^\w.-]+", "-", filename.replace(" ", "-")).strip("-") or "image"
        ext = IMAGE_MIMES.get(sniff_mime(data), _extension(safe) or "png")
        stem = safe.rsplit(".", 1)[0] if "." in safe else safe
        safe = f"{stem}.{ext}"
        taken = {i.path for i in self.store.images.values()}
        while f"{folder}/{safe}" in taken:
            safe = random_suffix() + safe
        image = Image(
            id=self.store.next_id("image"),
            name=name,
            type=image_type,
            uploaded_to=page_id,
            path=f"{folder}/{safe}",
            data=data,
            created_at=moment,
            updated_at=moment,
        )
        self.store.images[image.id] = image
        return image

    def create_image(self, request: Request, params: dict[str, str]) -> Response:
        v = Validator(request.input, request.files)
        v.check("type", "required", "string", "in:gallery,drawio")
        v.check("uploaded_to", "required", "integer")
        v.check("image", "required", "file")
        v.check("name", "string", "max:180")
        upload = request.files.get("image")
        if "image" not in v.errors and upload is not None and sniff_mime(upload.data) not in IMAGE_MIMES:
            v.errors["image"] = ["The image must be a file of type: jpeg, png, gif, webp."]
        v.raise_if_failed()
        self.require("image-create-all")
        assert upload is not None
        page = self.find_page(int(request.input["uploaded_to"]))
        name = request.input.get("name") or upload.filename
        image = self.new_image(
            page.id, name=name, image_type=request.input["type"], filename=upload.filename, data=upload.data
        )
        return json_response(200, self.image_json(image))

    def read_image(self, request: Request, params: dict[str, str]) -> Response:
        return json_response(200, self.image_json(self.find_image(params["id"])))

    def update_image(self, request: Request, params: dict[str, str]) -> Response:
        image = self.find_image(params["id"])
        v = Validator(request.input, request.files)
        v.check("name", "string", "max:180")
        v.check("image", "file")
        upload = request.files.get("image")
        if "image" not in v.errors and upload is not None and sniff_mime(upload.data) not in IMAGE_MIMES:
            v.errors["image"] = ["The image must be a file of type: jpeg, png, gif, webp."]
        v.raise_if_failed()
        self.require_can("image-update", image)
        if request.input.get("name") is not None:
            image.name = request.input["name"]
        if upload is not None:
            image.data = upload.data  # replaced in place: the URL stays the same
        image.updated_at = self.store.now()
        return json_response(200, self.image_json(image))

    def delete_image(self, request: Request, params: dict[str, str]) -> Response:
        image = self.find_image(params["id"])
        self.require_can("image-delete", image)
        del self.store.images[image.id]  # no check whether a page still uses it (§2)
        return Response(204)

    # ---------------------------------------------------------------------------------------- search

    def search(self, request: Request, params: dict[str, str]) -> Response:
        query = {k: v.strip() for k, v in request.query.items()}
        v = Validator(dict(query))
        v.check("query", "required")
        v.check("page", "integer", "num_min:1")
        v.check("count", "integer", "num_min:1", "num_max:100")
        v.raise_if_failed()
        page_no = int(query.get("page") or 1)
        count = int(query.get("count") or 20)
        from .search import search_page

        chosen, total = search_page(self, query["query"], page_no, count)
        return json_response(200, {"data": chosen, "total": total})

    # ---------------------------------------------------------------------------------- audit log

    def list_audit_log(self, request: Request, params: dict[str, str]) -> Response:
        """``AuditLogApiController::list``: needs settings-manage and users-manage; each row carries its
        ``user`` (``->with(['user'])``: the user's id, name and slug, the rest of the model is hidden)."""
        self.require("settings-manage", "users-manage")
        rows = [{**_activity_json(a), "user": user_obj(a.user_id)} for a in self.store.activities]
        return self.listing(request, rows, AUDIT_FIELDS)

    # ------------------------------------------------------------------------------------ system

    def system(self, request: Request, params: dict[str, str]) -> Response:
        return json_response(
            200,
            {
                "version": self.version_string,
                "instance_id": self.instance_id,
                "app_name": "BookStack",
                "app_logo": None,
                "base_url": self.base_url(),
            },
        )

    # ------------------------------------------------------------------------------- recycle bin

    def list_recycle_bin(self, request: Request, params: dict[str, str]) -> Response:
        self.require("settings-manage", "restrictions-manage-all")
        rows = [self.deletion_json(d) for d in self.store.recycle_bin.values()]
        return self.listing(request, rows, RECYCLE_FIELDS)

    def deletion_json(self, deletion: Any) -> dict[str, Any]:
        entity = next(
            e
            for kind, e in deletion.items
            if e.id == deletion.deletable_id and _kind_name(kind) == deletion.deletable_type
        )
        deletable: dict[str, Any]
        if isinstance(entity, Page):
            deletable = self.page_list_item_detached(entity)
        elif isinstance(entity, Chapter):
            deletable = {**self.chapter_json(entity, as_objects=False), "pages_count": len(deletion.items) - 1}
            deletable.pop("tags", None)
        elif isinstance(entity, Book):
            deletable = self.book_json(entity, as_objects=False)
            deletable.pop("tags", None)
            deletable["pages_count"] = sum(1 for k, _ in deletion.items if k == "page")
            deletable["chapters_count"] = sum(1 for k, _ in deletion.items if k == "chapter")
        else:
            deletable = self.shelf_list_item(entity)
        if isinstance(entity, Page | Chapter):
            parent = self.store.books.get(entity.book_id)
            if parent is not None:
                deletable["parent"] = {**self.book_basic(parent), "type": "book"}
        return {
            "id": deletion.id, "deleted_by": deletion.deleted_by, "created_at": iso(deletion.created_at),
            "updated_at": iso(deletion.updated_at), "deletable_type": deletion.deletable_type,
            "deletable_id": deletion.deletable_id, "deletable": deletable,
        }  # fmt: skip

    def page_list_item_detached(self, page: Page) -> dict[str, Any]:
        book = self.store.books.get(page.book_id)
        return {
            "id": page.id, "book_id": page.book_id, "chapter_id": self.store.chapter_id_out(page),
            "name": page.name, "slug": page.slug, "priority": page.priority,
            "created_at": iso(page.created_at), "updated_at": iso(page.updated_at),
            "created_by": page.created_by, "updated_by": page.updated_by, "draft": page.draft,
            "revision_count": page.revision_count, "template": page.template, "owned_by": page.owned_by,
            "editor": page.editor, "book_slug": book.slug if book else "",
        }  # fmt: skip

    def _find_deletion(self, raw: str) -> int:
        # RecycleBinApiController takes the id as a string and passes intval() of it to DeletionRepo
        # (v25.02, v26.03): "abc" is 0, a 404, not the TypeError a typed route id gives
        deletion_id = _int_param(raw, 0)
        if deletion_id not in self.store.recycle_bin:
            raise model_not_found("BookStack\\Entities\\Models\\Deletion", deletion_id)
        return deletion_id

    def restore_deletion(self, request: Request, params: dict[str, str]) -> Response:
        self.require("settings-manage", "restrictions-manage-all")
        return json_response(200, {"restore_count": self.store.restore(self._find_deletion(params["id"]))})

    def destroy_deletion(self, request: Request, params: dict[str, str]) -> Response:
        self.require("settings-manage", "restrictions-manage-all")
        return json_response(200, {"delete_count": self.store.destroy(self._find_deletion(params["id"]))})


# ------------------------------------------------------------------------------------------ helpers


def _activity_json(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.id, "type": activity.type, "detail": activity.detail, "user_id": activity.user_id,
        "loggable_id": activity.loggable_id, "loggable_type": activity.loggable_type, "ip": activity.ip,
        "created_at": iso(activity.created_at),
    }  # fmt: skip


def _kind_name(kind: str) -> str:
    return "bookshelf" if kind == "shelf" else kind


def _extension(filename: str) -> str:
    return filename.rsplit(".", 1)[1].lower() if "." in filename else ""


def _download(text: str, filename: str) -> Response:
    return Response(
        200,
        text.encode(),
        [
            ("Content-Type", "application/octet-stream"),
            ("Content-Disposition", f'attachment; filename="{filename}"'),
            ("X-Content-Type-Options", "nosniff"),
        ],
    )


def _int_param(raw: str | None, default: int) -> int:
    """PHP ``(int)`` of a query value: leading digits, else 0; absent -> default."""
    if raw is None:
        return default
    match = re.match(r"\s*(-?\d+)", raw)
    return int(match.group(1)) if match else 0


def _saved_fields(entity: Shelf | Book | Chapter) -> tuple[Any, ...]:
    """The columns of a shelf, book or chapter an update may change (dirty checking, see ``Api.saved``)."""
    return (
        entity.name,
        entity.slug,
        entity.description,
        entity.description_html,
        getattr(entity, "book_id", None),
        getattr(entity, "priority", None),
        getattr(entity, "default_template_id", None),
    )


def _sort_key(value: Any) -> tuple[int, Any]:
    # NULLs sort first ascending, like MySQL; strings compare case-insensitively (default collation).
    if value is None:
        return (0, "")
    if isinstance(value, str):
        return (1, value.lower())
    return (1, value)


def _like(pattern: str) -> re.Pattern[str]:
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    return re.compile("".join(parts), re.I | re.S)


def _filter_matches(actual: Any, op: str, raw: str, zone: tzinfo = UTC) -> bool:
    """SQL-ish comparison of one column against a filter value (NULL never matches)."""
    if actual is None:
        return False
    if op == "like":
        return _like(raw).fullmatch(str(int(actual) if isinstance(actual, bool) else actual)) is not None
    left: Any
    right: Any
    if isinstance(actual, bool | int):
        left = int(actual)
        try:
            right = float(raw)
        except ValueError:
            # MySQL casts a non-numeric string to 0 when compared with a number.
            right = 0.0
    elif isinstance(actual, str) and re.fullmatch(r"\d{4}-\d\d-\d\dT[\d:.]+Z", actual):
        left, parsed = parse_time(actual.replace("Z", "+00:00")), parse_time(raw, zone)
        if left is None or parsed is None:
            left, right = actual, raw
        else:
            right = parsed
    else:
        left, right = str(actual).lower(), raw.lower()
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if op == "gt":
        return bool(left > right)
    if op == "lt":
        return bool(left < right)
    if op == "gte":
        return bool(left >= right)
    return bool(left <= right)


__all__ = ["Api", "RateLimiter", "is_empty", "validation_error"]
