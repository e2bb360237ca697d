"""The structure file: shelves → books → chapters → pages, checked against a fixed meta-schema.

The structure file is part of the docs repository, so its mistakes are diagnostics (exit 1), reported
with the YAML line; only a missing or unreadable file is a configuration error (exit 2).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

from ..errors import UsageError
from .diagnostics import Diagnostic, Rule, error
from .fastschema import FastSchema
from .yamlsource import YamlDocument, YamlSyntaxError, parse_yaml

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
PAGE_STEM_PATTERN = r"^[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*$"
PAGE_FILE_PATTERN = r"^[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*\.md$"
PAGE_FILE_RE = re.compile(PAGE_FILE_PATTERN)
# BookStack stores names, tag names and tag values in 191-character columns on a non-strict database
# connection: its API accepts names up to 255 and the database cuts them silently (seen on a real v25.02 on MariaDB).
TEXT_MAX = 191
NAME_MAX = TEXT_MAX
DESCRIPTION_MAX = 1900  # BookStack's limit on plain descriptions

# a character that is not whitespace: Python's `\S` spelled out, so that every regex engine reads it alike
# (ECMA 262 and Rust's regex differ from Python on U+001C-U+001F, U+0085 and U+FEFF)
NOT_ONLY_SPACE = (
    "[^\\t\\n\\u000b\\u000c\\r\\u001c-\\u001f \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
)

_NAME = {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "pattern": NOT_ONLY_SPACE}
_COMMON = {
    "name": _NAME,
    "slug": {"type": "string", "pattern": SLUG_PATTERN},
    "description": {"type": "string", "maxLength": DESCRIPTION_MAX},
}
_PAGES = {"type": "array", "items": {"type": "string", "pattern": PAGE_STEM_PATTERN}}


def _wrapped(key: str, ref: str) -> dict[str, Any]:
    return {
        "type": "object",
        "required": [key],
        "additionalProperties": False,
        "properties": {key: {"$ref": ref}},
    }


META_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "bookstack-sync structure file",
    "type": "object",
    "required": ["structure"],
    "additionalProperties": False,
    "properties": {"structure": {"type": "array", "items": _wrapped("shelf", "#/$defs/shelf")}},
    "$defs": {
        "shelf": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {**_COMMON, "books": {"type": "array", "items": _wrapped("book", "#/$defs/book")}},
        },
        "book": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                **_COMMON,
                "pages": _PAGES,
                "chapters": {"type": "array", "items": _wrapped("chapter", "#/$defs/chapter")},
            },
        },
        "chapter": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {**_COMMON, "pages": _PAGES},
        },
    },
}
_META_FAST = FastSchema(META_SCHEMA)  # vouches for a valid file in a fraction of jsonschema's time


@lru_cache(maxsize=1)
def _meta_validator() -> Any:
    """jsonschema's validator of the structure file, which explains what jsonschema-rs does not vouch for."""
    from jsonschema import Draft202012Validator

    return Draft202012Validator(META_SCHEMA)


def slugify(name: str) -> str:
    """A structure slug from a name: ASCII-folded, lowercase, runs of other characters become ``-``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")


@dataclass(frozen=True)
class ChapterSpec:
    name: str
    slug: str
    description: str | None
    pages: tuple[str, ...] | None  # page stems in order; None = any valid page file in the folder
    line: int
    key: str  # "shelf/book/chapter": also the folder relative to docs_dir
    page_lines: tuple[int, ...] = ()  # structure-file line of each listed page


@dataclass(frozen=True)
class BookSpec:
    name: str
    slug: str
    description: str | None
    pages: tuple[str, ...] | None  # book-level page stems; None = any valid page file in the folder
    chapters: tuple[ChapterSpec, ...]
    line: int
    key: str  # "shelf/book"
    page_lines: tuple[int, ...] = ()


_FolderSpec = TypeVar("_FolderSpec", ChapterSpec, BookSpec)


@dataclass(frozen=True)
class ShelfSpec:
    name: str
    slug: str
    description: str | None
    books: tuple[BookSpec, ...]
    line: int
    key: str  # "shelf"


@dataclass(frozen=True)
class Folder:
    """A folder of the docs tree that may hold pages: a book's (``chapter is None``) or a chapter's."""

    shelf: ShelfSpec
    book: BookSpec
    chapter: ChapterSpec | None

    @property
    def key(self) -> str:
        return self.chapter.key if self.chapter else self.book.key

    @property
    def category(self) -> str:
        """What a page's ``category`` must be: the chapter's slug, or the book's for book-level pages."""
        return self.chapter.slug if self.chapter else self.book.slug

    @property
    def listed_pages(self) -> tuple[str, ...] | None:
        return self.chapter.pages if self.chapter else self.book.pages

    @property
    def listed_page_lines(self) -> tuple[int, ...]:
        return self.chapter.page_lines if self.chapter else self.book.page_lines


@dataclass(frozen=True)
class Structure:
    shelves: tuple[ShelfSpec, ...]
    source: str  # the structure file as the user named it

    def books(self) -> Iterator[tuple[ShelfSpec, BookSpec]]:
        for shelf in self.shelves:
            for book in shelf.books:
                yield shelf, book

    def folders(self) -> Iterator[Folder]:
        """Every folder that may hold pages, in structure order (book level before its chapters)."""
        for shelf, book in self.books():
            yield Folder(shelf, book, None)
            for chapter in book.chapters:
                yield Folder(shelf, book, chapter)

    def folder_index(self) -> dict[str, Folder]:
        return {folder.key: folder for folder in self.folders()}

    def shelf_and_book_keys(self) -> set[str]:
        keys = {shelf.key for shelf in self.shelves}
        keys.update(book.key for _, book in self.books())
        return keys


def read_structure(path: Path, *, display: str | None = None) -> tuple[Structure | None, list[Diagnostic]]:
    """Load and check the structure file.

    Returns the structure (``None`` when it is too broken to use) and its diagnostics.
    A missing or unreadable file raises :class:`UsageError` (exit 2): there is nothing to validate against.
    """
    shown = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise UsageError(
            f"structure file not found: {shown}",
            hint="create it, or point the `structure` setting at it",
        ) from None
    except IsADirectoryError:
        raise UsageError(f"structure file is a directory: {shown}", hint="set `structure` to a YAML file") from None
    except OSError as exc:
        raise UsageError(f"cannot read structure file {shown}: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [error(shown, None, Rule.STRUCTURE_UNREADABLE, f"not UTF-8 text (byte {exc.start})")]
    return parse_structure(text, shown)


def parse_structure(text: str, source: str) -> tuple[Structure | None, list[Diagnostic]]:
    try:
        doc = parse_yaml(text.replace("\r\n", "\n"))
    except YamlSyntaxError as exc:
        return None, [error(source, exc.line, Rule.STRUCTURE_SYNTAX, f"YAML syntax error: {exc.describe()}")]
    if not _META_FAST.vouches(doc.data):
        problems = [
            error(source, _meta_line(doc, err), _meta_rule(err), _meta_message(err))
            for err in sorted(_meta_validator().iter_errors(doc.data), key=lambda e: list(map(str, e.absolute_path)))
        ]
        if problems:
            return None, problems
    return _build(doc, source)


def _meta_line(doc: YamlDocument, err: Any) -> int | None:
    """The line to name: an unknown key's own line, else the line of the offending value."""
    path = tuple(err.absolute_path)
    if err.validator == "additionalProperties" and isinstance(err.instance, dict):
        allowed = err.schema.get("properties", {})
        extra = [key for key in err.instance if key not in allowed]
        if extra:
            return doc.line_of((*path, str(extra[0])))
    return doc.line_of(path)


def _meta_rule(err: Any) -> Rule:
    if err.validator == "maxLength" and err.schema is _NAME:
        return Rule.NAME_TOO_LONG
    return Rule.STRUCTURE_SCHEMA


def _meta_message(err: Any) -> str:
    where = "/".join(str(p) for p in err.absolute_path) or "(top level)"
    validator = err.validator
    if validator == "maxLength" and err.schema is _NAME:
        return (
            f"{where}: name is {len(err.instance)} characters; BookStack stores at most {NAME_MAX} "
            "(it would cut the rest): shorten it"
        )
    if validator == "additionalProperties":
        extra = sorted(set(err.instance) - set(err.schema.get("properties", {})), key=str)
        allowed = ", ".join(sorted(err.schema.get("properties", {})))
        return f"{where}: unknown key {', '.join(map(repr, extra))} (allowed: {allowed})"
    if validator == "required":
        return f"{where}: {err.message}"
    if validator == "pattern" and err.schema.get("pattern") == SLUG_PATTERN:
        return f"{where}: slug {err.instance!r} must be kebab-case (lowercase letters, digits and single hyphens)"
    if validator == "pattern" and err.schema.get("pattern") == PAGE_STEM_PATTERN:
        return f"{where}: page {err.instance!r} must look like `NN-kebab-case` (without .md)"
    if validator == "pattern" and err.schema.get("pattern") == NOT_ONLY_SPACE:
        return f"{where}: name must not be blank"
    return f"{where}: {err.message}"


def _build(doc: YamlDocument, source: str) -> tuple[Structure | None, list[Diagnostic]]:
    problems: list[Diagnostic] = []

    def line(path: tuple[str | int, ...]) -> int:
        return doc.line_of(path) or 1

    def slug_of(raw: dict[str, Any], path: tuple[str | int, ...]) -> str:
        slug = raw.get("slug") or slugify(raw["name"])
        # jsonschema's `pattern` is re.search, where `$` also matches before a final newline
        if "slug" in raw and not re.fullmatch(SLUG_PATTERN, slug):
            problems.append(
                error(source, line((*path, "slug")), Rule.STRUCTURE_SCHEMA, f"slug {slug!r} must be kebab-case")
            )
        if not slug:
            problems.append(
                error(
                    source,
                    line(path),
                    Rule.STRUCTURE_SCHEMA,
                    f"cannot derive a slug from name {raw['name']!r}; add `slug:`",
                )
            )
        return str(slug)

    def check_unique(kind: str, items: list[tuple[str, int]]) -> None:
        seen: dict[str, int] = {}
        for slug, at in items:
            if slug in seen:
                problems.append(
                    error(
                        source,
                        at,
                        Rule.STRUCTURE_DUPLICATE_SLUG,
                        f"{kind} slug {slug!r} is used twice (first on line {seen[slug]})",
                    )
                )
            else:
                seen[slug] = at

    def pages(raw: dict[str, Any], path: tuple[str | int, ...]) -> tuple[tuple[str, ...] | None, tuple[int, ...]]:
        if "pages" not in raw:
            return None, ()
        stems = tuple(raw["pages"])
        lines = tuple(line((*path, "pages", i)) for i in range(len(stems)))
        for stem, at in zip(stems, lines, strict=True):
            if not re.fullmatch(PAGE_STEM_PATTERN, stem):
                problems.append(
                    error(source, at, Rule.STRUCTURE_SCHEMA, f"page {stem!r} must look like `NN-kebab-case`")
                )
        check_unique("page", list(zip(stems, lines, strict=True)))
        return stems, lines

    def folder_spec(
        spec: Callable[..., _FolderSpec],
        raw: dict[str, Any],
        path: tuple[str | int, ...],
        slug: str,
        key: str,
        **more: Any,
    ) -> _FolderSpec:
        """A book's or chapter's spec: the fields both have, ``more`` for the rest (a book's chapters)."""
        stems, stem_lines = pages(raw, path)
        return spec(
            name=raw["name"].strip(),
            slug=slug,
            description=raw.get("description"),
            pages=stems,
            line=line(path),
            key=key,
            page_lines=stem_lines,
            **more,
        )

    shelves: list[ShelfSpec] = []
    for si, item in enumerate(doc.data["structure"]):
        spath: tuple[str | int, ...] = ("structure", si, "shelf")
        raw_shelf = item["shelf"]
        shelf_slug = slug_of(raw_shelf, spath)
        books: list[BookSpec] = []
        for bi, book_item in enumerate(raw_shelf.get("books", [])):
            bpath = (*spath, "books", bi, "book")
            raw_book = book_item["book"]
            book_slug = slug_of(raw_book, bpath)
            book_key = f"{shelf_slug}/{book_slug}"
            chapters: list[ChapterSpec] = []
            for ci, chapter_item in enumerate(raw_book.get("chapters", [])):
                cpath = (*bpath, "chapters", ci, "chapter")
                raw_chapter = chapter_item["chapter"]
                chapter_slug = slug_of(raw_chapter, cpath)
                chapters.append(
                    folder_spec(ChapterSpec, raw_chapter, cpath, chapter_slug, f"{book_key}/{chapter_slug}")
                )
            check_unique(f"chapter (in book {book_key!r})", [(c.slug, c.line) for c in chapters])
            books.append(folder_spec(BookSpec, raw_book, bpath, book_slug, book_key, chapters=tuple(chapters)))
        check_unique(f"book (on shelf {shelf_slug!r})", [(b.slug, b.line) for b in books])
        shelves.append(
            ShelfSpec(
                name=raw_shelf["name"].strip(),
                slug=shelf_slug,
                description=raw_shelf.get("description"),
                books=tuple(books),
                line=line(spath),
                key=shelf_slug,
            )
        )
    check_unique("shelf", [(s.slug, s.line) for s in shelves])
    # a key is the value of the tag that says where an object comes from, in a 191-character column
    keyed: list[tuple[str, str, int]] = []
    for shelf in shelves:
        keyed.append(("shelf", shelf.key, shelf.line))
        for book in shelf.books:
            keyed.append(("book", book.key, book.line))
            keyed += [("chapter", chapter.key, chapter.line) for chapter in book.chapters]
    for kind, key, at in keyed:
        if len(key) > TEXT_MAX:
            problems.append(
                error(
                    source,
                    at,
                    Rule.PATH_TOO_LONG,
                    f"the {kind} folder {key} is {len(key)} characters; BookStack keeps {TEXT_MAX} of the tag "
                    "that records where an object comes from: shorten the slugs",
                )
            )
    # the folder holding the structure file is not content, so no shelf may be called that
    for shelf in shelves:
        if shelf.slug == "bookstack":
            problems.append(
                error(
                    source,
                    shelf.line,
                    Rule.STRUCTURE_SCHEMA,
                    "shelf slug 'bookstack' is reserved for the structure folder",
                )
            )
    if problems:
        return None, problems
    return Structure(tuple(shelves), source), []
