"""ZIP imports (``/api/imports``, v25.07+): upload + validate, read, run, delete.

Facts from ``bookstack-zip-import.md`` §2-§8 and the v26 transcripts 20-25. Messages not seen live are
marked "inferred".
"""

from __future__ import annotations

import io
import json
import re
import secrets
import zipfile
from typing import TYPE_CHECKING, Any

from .activity import descriptor, log
from .markdown import add_bookmark_ids, html_to_text, render_markdown
from .state import API_USER, Book, Chapter, ImportRecord, Page, Store, Tag, iso, stored_text
from .validation import Validator, is_int
from .wire import (
    ApiError,
    Request,
    Response,
    UploadedFile,
    api_error,
    json_error,
    json_response,
    model_not_found,
    plain_permission_error,
)

if TYPE_CHECKING:
    from .api import Api

IMPORT_MODEL = "BookStack\\Exports\\Import"
IMAGE_TYPES = "image/png,image/jpeg,image/gif,image/webp"
_REFERENCE = re.compile(r"\[\[bsexport:(page|chapter|book|image|attachment):(\d+)\]\]")


class ImportFailure(Exception):
    """A run problem: answered as the 500 ``{"message": "ZIP import failed ...", "status": "error"}``."""


def _upload_failed(errors: list[str]) -> ApiError:
    return json_error("ZIP upload failed with the following validation errors: \n" + "\n".join(errors), 422)


class _ZipValidator:
    """``ZipExport*::validate``: one ``[dotted.path] message`` line per problem."""

    def __init__(self, files: dict[str, bytes]) -> None:
        self.files = files
        self.errors: list[str] = []
        self.ids: dict[str, set[int]] = {}

    def _fields(self, obj: dict[str, Any], path: str, rules: list[tuple[str, tuple[str, ...]]]) -> None:
        validator = Validator(obj)
        for key, key_rules in rules:
            validator.check(key, *key_rules)
        for key, messages in validator.errors.items():
            self.errors.extend(f"[{path}.{key}] {message}" for message in messages)

    def _unique_id(self, obj: dict[str, Any], kind: str, path: str) -> None:
        ident = obj.get("id")
        if ident is None or not is_int(ident):
            return
        seen = self.ids.setdefault(kind, set())
        if int(ident) in seen:
            self.errors.append(f"[{path}.id] The id must be unique for the object type within the ZIP.")
        seen.add(int(ident))

    def _file_ref(self, obj: dict[str, Any], key: str, path: str, *, image: bool) -> None:
        ref = obj.get(key)
        if not isinstance(ref, str) or not ref:
            return
        data = self.files.get(ref)
        if data is None:
            if image:
                # BookStack bug (v25.07-v26.05): the MIME sniff runs after the failed exists check (§8).
                raise api_error(500, "fread(): Argument #1 ($stream) must be of type resource, bool given")
            # Message inferred from the validation language file (zip_file rule).
            self.errors.append(f"[{path}.{key}] The {key} needs to reference a file within the ZIP.")
            return
        if image:
            from .api import sniff_mime

            found = sniff_mime(data)
            if found not in IMAGE_TYPES.split(","):
                self.errors.append(
                    f"[{path}.{key}] The {key} needs to reference a file of type {IMAGE_TYPES}, found {found}."
                )

    def _children(self, obj: dict[str, Any], key: str, path: str, check: Any) -> None:
        items = obj.get(key)
        if isinstance(items, list):
            for index, item in enumerate(items):
                if isinstance(item, dict):
                    check(item, f"{path}.{key}.{index}")

    def tag(self, obj: dict[str, Any], path: str) -> None:
        self._fields(obj, path, [("name", ("required", "string")), ("value", ("string",))])

    def image(self, obj: dict[str, Any], path: str) -> None:
        self._fields(
            obj,
            path,
            [
                ("id", ("integer",)),
                ("name", ("required", "string")),
                ("file", ("required", "string")),
                ("type", ("required", "in:gallery,drawio")),
            ],
        )
        self._unique_id(obj, "image", path)
        self._file_ref(obj, "file", path, image=True)

    def attachment(self, obj: dict[str, Any], path: str) -> None:
        self._fields(
            obj,
            path,
            [
                ("id", ("integer",)),
                ("name", ("required", "string")),
                ("link", ("required_without:file", "string", "max:2000")),
                ("file", ("required_without:link", "string")),
            ],
        )
        self._unique_id(obj, "attachment", path)
        self._file_ref(obj, "file", path, image=False)

    def page(self, obj: dict[str, Any], path: str) -> None:
        self._fields(
            obj,
            path,
            [
                ("id", ("integer",)),
                ("name", ("required", "string", "min:1")),
                ("html", ("string",)),
                ("markdown", ("string",)),
                ("priority", ("integer",)),
                ("attachments", ("array",)),
                ("images", ("array",)),
                ("tags", ("array",)),
            ],
        )
        self._unique_id(obj, "page", path)
        self._children(obj, "attachments", path, self.attachment)
        self._children(obj, "images", path, self.image)
        self._children(obj, "tags", path, self.tag)

    def chapter(self, obj: dict[str, Any], path: str) -> None:
        self._fields(
            obj,
            path,
            [
                ("id", ("integer",)),
                ("name", ("required", "string", "min:1")),
                ("description_html", ("string",)),
                ("priority", ("integer",)),
                ("pages", ("array",)),
                ("tags", ("array",)),
            ],
        )
        self._unique_id(obj, "chapter", path)
        self._children(obj, "pages", path, self.page)
        self._children(obj, "tags", path, self.tag)

    def book(self, obj: dict[str, Any], path: str) -> None:
        self._fields(
            obj,
            path,
            [
                ("id", ("integer",)),
                ("name", ("required", "string", "min:1")),
                ("description_html", ("string",)),
                ("cover", ("string",)),
                ("chapters", ("array",)),
                ("pages", ("array",)),
                ("tags", ("array",)),
            ],
        )
        self._unique_id(obj, "book", path)
        self._file_ref(obj, "cover", path, image=False)
        self._children(obj, "chapters", path, self.chapter)
        self._children(obj, "pages", path, self.page)
        self._children(obj, "tags", path, self.tag)


def read_zip(data: bytes) -> tuple[str, dict[str, Any], dict[str, bytes]]:
    """-> (type, data.json content, files). Raises the 422 upload error shape on any problem."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _upload_failed(["[format] Could not read ZIP file."]) from None
    try:
        payload = json.loads(archive.read("data.json").decode("utf-8"))
    except (KeyError, UnicodeDecodeError, json.JSONDecodeError, zipfile.BadZipFile):
        raise _upload_failed(["[format] Could not find and decode ZIP data.json content."]) from None
    if not isinstance(payload, dict):
        raise _upload_failed(["[format] Could not find and decode ZIP data.json content."])
    kind = next((k for k in ("book", "chapter", "page") if isinstance(payload.get(k), dict)), None)
    if kind is None:
        raise _upload_failed(["[format] ZIP file data has no expected book, chapter or page content."])
    files = {
        name[len("files/") :]: archive.read(name)
        for name in names
        if name.startswith("files/") and not name.endswith("/")
    }
    checker = _ZipValidator(files)
    getattr(checker, kind)(payload[kind], kind)
    if checker.errors:
        raise _upload_failed(checker.errors)
    return kind, payload, files


def _details(kind: str, obj: dict[str, Any]) -> dict[str, Any]:
    """``metadataOnly()``: names, ids, priorities and tag names; keys absent from the ZIP stay absent."""
    out: dict[str, Any] = {}
    if "id" in obj:
        out["id"] = obj["id"]
    out["name"] = obj.get("name")
    if kind in ("chapter", "page") and "priority" in obj:
        out["priority"] = obj["priority"]
    if kind == "book":
        out["chapters"] = [_details("chapter", c) for c in obj.get("chapters") or [] if isinstance(c, dict)]
    if kind in ("book", "chapter"):
        out["pages"] = [_details("page", p) for p in obj.get("pages") or [] if isinstance(p, dict)]
    if kind == "page":
        out["attachments"] = [
            {**({"id": a["id"]} if "id" in a else {}), "name": a.get("name")} for a in obj.get("attachments") or []
        ]
        out["images"] = [
            {
                **({"id": i["id"]} if "id" in i else {}),
                "name": i.get("name"),
                "file": i.get("file"),
                "type": i.get("type"),
            }
            for i in obj.get("images") or []
        ]
    out["tags"] = [{"name": t.get("name")} for t in obj.get("tags") or [] if isinstance(t, dict)]
    return out


def _cut(text: Any) -> str:
    return stored_text(str(text))


def _tags(raw: Any) -> list[Tag]:
    tags = []
    for item in raw or []:
        name = str(item.get("name") or "").strip()
        if name:
            tags.append(Tag(_cut(name), _cut(str(item.get("value") or "").strip())))
    return tags


def _by_priority(items: list[tuple[str, dict[str, Any]]]) -> list[tuple[str, dict[str, Any]]]:
    """Stable sort by priority (missing = 0), so ties keep array order, chapters before pages (§7)."""
    return sorted(items, key=lambda pair: int(pair[1].get("priority") or 0))


class ImportHandlers:
    def __init__(self, api: Api) -> None:
        self.api = api
        self.store = api.store

    def _require(self) -> None:
        if "content-import" not in self.api.permissions:
            raise plain_permission_error()

    def _find(self, raw: str) -> ImportRecord:
        from .api import parse_int_id

        import_id = parse_int_id(raw, IMPORT_MODEL, "Exports/Controllers/ImportApiController")
        record = self.store.imports.get(import_id)
        if record is None or not self._visible(record):
            raise model_not_found(IMPORT_MODEL, import_id)
        return record

    def _visible(self, record: ImportRecord) -> bool:
        """``ImportRepo::queryVisible``/``findVisible``: without settings-manage, only one's own imports."""
        return "settings-manage" in self.api.permissions or record.created_by == API_USER

    @staticmethod
    def _list_item(record: ImportRecord) -> dict[str, Any]:
        return {
            "id": record.id, "name": record.name, "size": record.size, "type": record.type,
            "created_by": record.created_by, "created_at": iso(record.created_at), "updated_at": iso(record.updated_at),
        }  # fmt: skip

    def list(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        from .api import IMPORT_FIELDS

        rows = [self._list_item(r) for r in self.store.imports.values() if self._visible(r)]
        return self.api.listing(request, rows, IMPORT_FIELDS)

    def upload(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        validator = Validator(request.input, request.files)
        validator.check("file", "required", "file")
        validator.raise_if_failed()
        upload = request.files["file"]
        assert isinstance(upload, UploadedFile)
        kind, payload, files = read_zip(upload.data)
        moment = self.store.now()
        record = ImportRecord(
            id=self.store.next_id("import"),
            name=str(payload[kind].get("name")),
            type=kind,
            size=len(upload.data),
            path=f"uploads/files/imports/{secrets.token_urlsafe(12)[:16]}.zip",
            data=payload,
            files=files,
            created_at=moment,
            updated_at=moment,
        )
        self.store.imports[record.id] = record
        log(self.store, "import_create", descriptor(record))  # an import is no entity: NULL loggable
        return json_response(
            200,
            {
                "type": record.type, "name": record.name, "created_by": record.created_by, "size": record.size,
                "path": record.path, "updated_at": iso(record.updated_at), "created_at": iso(record.created_at),
                "id": record.id,
            },
        )  # fmt: skip

    def read(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        record = self._find(params["id"])
        data = {
            "id": record.id, "name": record.name, "path": record.path, "size": record.size, "type": record.type,
            "created_by": record.created_by, "created_at": iso(record.created_at), "updated_at": iso(record.updated_at),
            "details": _details(record.type, record.data[record.type]),
        }  # fmt: skip
        return json_response(200, data)

    def delete(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        record = self._find(params["id"])
        self._delete(record)
        return Response(204)

    def _delete(self, record: ImportRecord) -> None:
        """``ImportRepo::deleteImport``."""
        del self.store.imports[record.id]
        log(self.store, "import_delete", descriptor(record))

    # -------------------------------------------------------------------------------------------- run

    def run(self, request: Request, params: dict[str, str]) -> Response:
        self._require()
        record = self._find(params["id"])
        if record.type != "book":
            validator = Validator(request.input)
            validator.check("parent_type", "required", "in:book,chapter")
            validator.check("parent_id", "required", "integer")
            validator.raise_if_failed()
        try:
            book, chapter = self._check_run(record, request.input)
            self.store.use_reserved(record.reserved)
            created = _Run(self, record).go(book, chapter)
        except ImportFailure as failure:
            # Nothing was created (checks come first), so the import simply stays pending (§5).
            raise json_error("ZIP import failed with the following errors: \n" + str(failure)) from None
        finally:
            self.store.use_reserved({})
            record.reserved = {}
        # ImportRepo::runImport, after the commit: the import is deleted (import_delete), then import_run;
        # the books, chapters and pages were created through their repos, each logging its *_create
        self._delete(record)
        log(self.store, "import_run", descriptor(record))
        return json_response(200, self._run_json(created))

    def _check_run(self, record: ImportRecord, data: dict[str, Any]) -> tuple[Book | None, Chapter | None]:
        """``ZipImportRunner``: parent and permission problems, all reported together."""
        problems: list[str] = []
        book: Book | None = None
        chapter: Chapter | None = None
        parent_type, parent_id = data.get("parent_type"), data.get("parent_id")
        found = int(str(parent_id)) if is_int(parent_id) else -1
        if record.type == "chapter":
            book = self.store.books.get(found) if parent_type == "book" else None
            if book is None:
                problems.append("Parent book required for chapter import.")
        elif record.type == "page":
            if parent_type == "chapter":
                chapter = self.store.chapters.get(found)
                book = self.store.books.get(chapter.book_id) if chapter else None
            elif parent_type == "book":
                book = self.store.books.get(found)
            if book is None:
                problems.append("Parent book or chapter required for page import.")  # inferred wording
        perms = self.api.permissions
        needs = _needed_permissions(record)
        for permission, label in needs:
            if permission not in perms:
                problems.append(f"You are lacking the required permission to create {label}.")  # inferred wording
        if problems:
            raise ImportFailure("\n".join(problems))
        return book, chapter

    def _run_json(self, item: Book | Chapter | Page) -> dict[str, Any]:
        """The created item ``withoutRelations()``; ``type`` (and book ``image_id``) from v25.11 (§5, §9)."""
        modern = self.api.modern
        data: dict[str, Any] = {"id": item.id}
        if modern:
            data["type"] = "book" if isinstance(item, Book) else "chapter" if isinstance(item, Chapter) else "page"
        data.update(name=item.name, slug=item.slug)
        if isinstance(item, Chapter | Page):
            data["book_id"] = item.book_id
        if isinstance(item, Page):
            data["chapter_id"] = self.store.chapter_id_out(item)
        if isinstance(item, Chapter | Page):
            data["priority"] = item.priority
        data.update(created_at=iso(item.created_at), updated_at=iso(item.updated_at))
        data.update(created_by=item.created_by, updated_by=item.updated_by, owned_by=item.owned_by)
        if isinstance(item, Page):
            if modern:
                data["page_id"] = item.id
            data.update(
                draft=item.draft, template=item.template, revision_count=item.revision_count, editor=item.editor
            )
        else:
            data.update(description=item.description, default_template_id=item.default_template_id)
        if isinstance(item, Book):
            if modern:
                data["image_id"] = None
            data["sort_rule_id"] = self.store.sort_rule_id(item)
        return data


def begin_run(store: Store, import_id: int) -> None:
    """A run's transaction has started and taken the ids of everything it creates, but has not
    committed: nothing is visible yet, and whatever others create meanwhile gets higher ids (used by a
    held run, ``FakeBookStack.hold``; a deadlocked run loses its ids the same way)."""
    record = store.imports.get(import_id)
    if record is None or record.reserved:
        return
    root = record.data[record.type]
    chapters = [root] if record.type == "chapter" else []
    pages = [root] if record.type == "page" else []
    if record.type == "book":
        chapters = [c for c in root.get("chapters") or [] if isinstance(c, dict)]
        pages = [p for p in root.get("pages") or [] if isinstance(p, dict)]
    for chapter in list(chapters):
        pages += [p for p in chapter.get("pages") or [] if isinstance(p, dict)]
    kinds = ["book"] * (record.type == "book") + ["chapter"] * len(chapters) + ["page"] * len(pages)
    # each create logs one activity in the same transaction: those rows' ids are taken now too
    record.reserved = store.reserve_ids(kinds + ["activity"] * len(kinds))


def _needed_permissions(record: ImportRecord) -> list[tuple[str, str]]:
    root = record.data[record.type]
    pages: list[dict[str, Any]] = []
    chapters: list[dict[str, Any]] = []
    if record.type == "book":
        chapters = [c for c in root.get("chapters") or [] if isinstance(c, dict)]
        pages = [p for p in root.get("pages") or [] if isinstance(p, dict)]
    elif record.type == "chapter":
        chapters = [root]
    else:
        pages = [root]
    for chapter in chapters:
        pages += [p for p in chapter.get("pages") or [] if isinstance(p, dict)]
    needs: list[tuple[str, str]] = []
    if record.type == "book":
        needs.append(("book-create-all", "books"))
    if chapters:
        needs.append(("chapter-create-all", "chapters"))
    if pages:
        needs.append(("page-create-all", "pages"))
    if any(p.get("images") for p in pages):
        needs.append(("image-create-all", "images"))
    if any(p.get("attachments") for p in pages):
        needs.append(("attachment-create-all", "attachments"))
    return needs


class _Run:
    """Creates the tree, then swaps ``[[bsexport:type:id]]`` references for real URLs (§4, §7)."""

    def __init__(self, handlers: ImportHandlers, record: ImportRecord) -> None:
        self.api = handlers.api
        self.store = handlers.store
        self.record = record
        self.urls: dict[tuple[str, int], str] = {}
        self.pages: list[Page] = []
        self.described: list[Book | Chapter] = []

    def go(self, book: Book | None, chapter: Chapter | None) -> Book | Chapter | Page:
        root = self.record.data[self.record.type]
        created: Book | Chapter | Page
        if self.record.type == "book":
            created = self.book(root)
        elif self.record.type == "chapter":
            assert book is not None
            created = self.chapter(root, book)
        else:
            assert book is not None
            created = self.page(root, book, chapter)
        self.replace_references()
        return created

    def _remember(self, kind: str, obj: dict[str, Any], url: str) -> None:
        if is_int(obj.get("id")):
            self.urls[(kind, int(obj["id"]))] = url

    def _description(self, obj: dict[str, Any]) -> tuple[str, str]:
        description_html = obj.get("description_html")
        if isinstance(description_html, str) and description_html:
            return html_to_text(description_html).strip(), description_html
        return "", "<p></p>"

    def book(self, obj: dict[str, Any]) -> Book:
        book = self.api.new_book(
            name=_cut(obj["name"]), description_pair=self._description(obj), tags=_tags(obj.get("tags"))
        )
        self._remember("book", obj, self.api.book_url(book))
        self.described.append(book)
        children = [("chapter", c) for c in obj.get("chapters") or []] + [("page", p) for p in obj.get("pages") or []]
        for kind, child in _by_priority(children):
            if kind == "chapter":
                self.chapter(child, book)
            else:
                self.page(child, book, None)
        return book

    def chapter(self, obj: dict[str, Any], book: Book) -> Chapter:
        chapter = self.api.new_chapter(
            book,
            name=_cut(obj["name"]),
            description_pair=self._description(obj),
            tags=_tags(obj.get("tags")),
            priority=None,
        )
        self._remember("chapter", obj, self.api.chapter_url(chapter))
        self.described.append(chapter)
        for _, page in _by_priority([("page", p) for p in obj.get("pages") or []]):
            self.page(page, book, chapter)
        return chapter

    def page(self, obj: dict[str, Any], book: Book, chapter: Chapter | None) -> Page:
        content: dict[str, Any] = {}
        # Content comes from a file, not request fields: no TrimStrings, markdown kept byte for byte (§7).
        if isinstance(obj.get("markdown"), str) and obj["markdown"]:
            content["markdown"] = obj["markdown"]
        elif isinstance(obj.get("html"), str) and obj["html"]:
            content["html"] = obj["html"]
        page = self.api.new_page(
            book, chapter, name=_cut(obj["name"]), content=content, tags=_tags(obj.get("tags")), priority=None
        )
        self._remember("page", obj, self.api.page_url(page))
        self.pages.append(page)
        for image_obj in obj.get("images") or []:
            image = self.api.new_image(
                page.id,
                name=_cut(image_obj["name"]),
                image_type=image_obj["type"],
                filename=image_obj["file"],
                data=self.record.files[image_obj["file"]],
            )
            url = self.api.image_display_url(image) if image.type == "gallery" else self.api.url(image.path)
            self._remember("image", image_obj, url)
        for att_obj in obj.get("attachments") or []:
            file_ref = att_obj.get("file")
            upload = (
                UploadedFile(file_ref, "application/octet-stream", self.record.files[file_ref]) if file_ref else None
            )
            att = self.api.new_attachment(page, name=_cut(att_obj["name"]), upload=upload, link=att_obj.get("link"))
            self._remember("attachment", att_obj, self.api.url(f"/attachments/{att.id}"))
        return page

    def _swap(self, text: str) -> str:
        # A reference to an id not in the ZIP stays literal text (§4).
        return _REFERENCE.sub(lambda m: self.urls.get((m.group(1), int(m.group(2))), m.group(0)), text)

    def replace_references(self) -> None:
        for page in self.pages:
            if page.markdown:
                page.markdown = self._swap(page.markdown)
                page.html = add_bookmark_ids(render_markdown(page.markdown))
            else:
                page.html = self._swap(page.html)
        for item in self.described:
            item.description_html = self._swap(item.description_html)
            item.description = html_to_text(item.description_html).strip()
