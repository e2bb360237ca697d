"""Full resync: read what BookStack holds for every page the plan trusts as unchanged, and turn the pages
whose name or markdown differs from git into updates (hand edits the stored hashes cannot see).

Where the server allows it the content is read in bulk: one ZIP export per book (``GET
/api/books/{id}/export/zip``, v25.07+, ``ZipExportBuilder``) holds every page's name and stored markdown, so a
book costs one request instead of one per page. Pages are read one by one (``GET /api/pages/{id}``) on
older servers, when the token's role may not export (403), when an export fails or lacks a page, and in
books with a single page to check (as many requests, and a page read carries no attachment files).
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..bookstack import AuthenticationError, BookStackClient, BookStackError, PermissionDeniedError
from ..docs.tree import DocsTree
from ..markdown.content import apply_replacements
from ..markdown.links import scan
from ..markdown.localize import WikiIndex, WikiRef, localize
from ..model import Action, ActionKind, EntityKind, Plan
from ..settings import Settings
from .desired import DesiredState
from .matching import Matching
from .remote import RemoteState, wiki_address
from .resolve import canonical_markdown
from .routes import parse_version

EXPORT_MIN_VERSION = (25, 7)  # the export API came with the import API in v25.07
EXPORT_MIN_PAGES = 2  # below this an export saves no request


@dataclass(frozen=True)
class StoredPage:
    """A page as BookStack holds it, for comparison: its name and markdown ("" when it has none)."""

    name: str
    markdown: str


def verify_contents(
    plan: Plan,
    desired: DesiredState,
    matching: Matching,
    client: BookStackClient,
    settings: Settings,
    tree: DocsTree,
    remote: RemoteState,
) -> Plan:
    """The plan with every unchanged page whose content in BookStack differs from git turned into an
    update; plan notes say how the content was read when that was not the cheapest way."""
    unchanged = [
        a
        for a in plan.actions
        if a.kind is ActionKind.UNCHANGED and a.entity is EntityKind.PAGE and a.remote_id is not None
    ]
    stored, notes = fetch_stored_pages(client, remote, [a.remote_id for a in unchanged if a.remote_id is not None])
    actions: list[Action] = []
    for action in plan.actions:
        is_checked = action.kind is ActionKind.UNCHANGED and action.entity is EntityKind.PAGE
        actual = stored.get(action.remote_id or -1) if is_checked else None
        if actual is not None:
            expected = canonical_markdown(
                desired.pages[action.key],
                matching,
                tree,
                desired,
                strip_title_heading=settings.strip_title_heading,
                forge_markdown=settings.forge_markdown,
            )
            if actual.name != action.name or not same_markdown(actual.markdown, expected):
                action = replace(
                    action,
                    kind=ActionKind.UPDATE,
                    changes=("content",),
                    detail="full resync: BookStack's copy differs from git",
                )
        actions.append(action)
    return Plan(tuple(actions), (*plan.notes, *notes))


def fetch_stored_pages(
    client: BookStackClient, remote: RemoteState, page_ids: Iterable[int]
) -> tuple[dict[int, StoredPage], list[str]]:
    """Name and markdown of each page, by id, from book exports where possible; plus notes for people."""
    wanted = list(dict.fromkeys(page_ids))
    pages = remote.of(EntityKind.PAGE)
    by_book: dict[int, list[int]] = defaultdict(list)
    for page_id in wanted:
        book_id = pages[page_id].book_id if page_id in pages else None
        if book_id is not None:
            by_book[book_id].append(page_id)
    books = sorted(book_id for book_id, ids in by_book.items() if len(ids) >= EXPORT_MIN_PAGES)
    found: dict[int, StoredPage] = {}
    notes: list[str] = []
    if books:
        parsed = parse_version(remote.version)
        if parsed is None or parsed < EXPORT_MIN_VERSION:
            notes.append(
                f"full resync: BookStack {remote.version or 'before v25.05 (no /api/system)'} has no ZIP "
                "export API (v25.07+), so every page was read one by one"
            )
        else:
            for book_id, exported in _export_books(client, books, notes):
                found.update((i, exported[i]) for i in by_book[book_id] if i in exported)
    rest = [page_id for page_id in wanted if page_id not in found]
    for page in client.map_concurrently(lambda page_id: client.read("pages", page_id), rest):
        found[int(page["id"])] = StoredPage(str(page.get("name", "")), str(page.get("markdown") or ""))
    return found, notes


def _export_books(
    client: BookStackClient, book_ids: list[int], notes: list[str]
) -> Iterator[tuple[int, dict[int, StoredPage]]]:
    """(book id, its pages) for each book whose export worked. The first export goes alone: a 403 there
    means the role lacks ``content-export``, and then no other book is tried."""

    def export(book_id: int, *, first: bool = False) -> dict[int, StoredPage] | str:
        """The book's pages, or why the export failed."""
        try:
            return parse_export(client.export_zip("books", book_id))
        except AuthenticationError:
            raise  # the token is wrong: page reads would fail the same way
        except PermissionDeniedError as exc:
            if first:
                raise
            return exc.message
        except BookStackError as exc:
            return exc.message
        except ValueError as exc:
            return f"unreadable export: {exc}"

    try:
        first = export(book_ids[0], first=True)
    except PermissionDeniedError:
        notes.append(
            "full resync: the token's role may not export content (no 'Export content' permission), "
            "so every page was read one by one"
        )
        return
    results = [first, *client.map_concurrently(export, book_ids[1:])]
    for book_id, result in zip(book_ids, results, strict=True):
        if isinstance(result, str):
            notes.append(f"full resync: the export of book {book_id} failed ({result}); its pages were read one by one")
        else:
            yield book_id, result


_PAGE_REFERENCE = re.compile(r"\[\[bsexport:page:(\d+)\]\]")


def parse_export(archive: bytes) -> dict[int, StoredPage]:
    """Every page in a ZIP export (a book, chapter or page), by id. References to pages inside the export
    become ``/link/<id>`` again, the form the sync writes; other references stay (they only ever stand
    where an asset or folder URL stood, which the comparison ignores). Raises ValueError on a file that
    is not an export."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zf:
            data = json.loads(zf.read("data.json").decode("utf-8"))
    except (zipfile.BadZipFile, KeyError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"no readable data.json ({exc})") from None
    if not isinstance(data, dict):
        raise ValueError("data.json is not an object")
    pages: list[Any] = []
    if isinstance(data.get("book"), dict):
        book = data["book"]
        pages += _list(book.get("pages"))
        for chapter in _list(book.get("chapters")):
            pages += _list(chapter.get("pages")) if isinstance(chapter, dict) else []
    elif isinstance(data.get("chapter"), dict):
        pages += _list(data["chapter"].get("pages"))
    elif isinstance(data.get("page"), dict):
        pages.append(data["page"])
    else:
        raise ValueError("data.json holds no book, chapter or page")
    found: dict[int, StoredPage] = {}
    for page in pages:
        if not isinstance(page, dict) or not isinstance(page.get("id"), int) or not isinstance(page.get("name"), str):
            continue  # such a page is read one by one
        markdown = page.get("markdown")
        text = _PAGE_REFERENCE.sub(r"/link/\1", markdown) if isinstance(markdown, str) else ""
        found[page["id"]] = StoredPage(page["name"], text)
    return found


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


_DESTINATION = re.compile(r"\]\([^)]*\)")


def same_markdown(actual: str, expected: str | None) -> bool:
    """Compare what BookStack holds with the canonical rendering. Asset and folder URLs exist only in
    BookStack, so link destinations other than ``/link/<id>`` are compared without their targets."""
    if expected is None or not actual:
        return False  # an empty markdown means a person saved the page in the WYSIWYG editor

    def normalise(text: str) -> str:
        return _DESTINATION.sub(lambda m: m.group(0) if m.group(0).startswith("](/link/") else "]()", text).strip()

    return normalise(actual) == normalise(expected)


def check_adopted_contents(
    plan: Plan, desired: DesiredState, matching: Matching, client: BookStackClient, remote: RemoteState
) -> Plan:
    """The plan with ``content`` dropped from the adoptions of pages whose text in BookStack already is
    the git file's (read back into the docs tree's form, as ``export`` writes it): adopting a wiki after
    an export writes the plugin's tags only, and BookStack keeps its text, links and images as they are."""
    adopting = [
        a
        for a in plan.actions
        if a.kind is ActionKind.ADOPT and a.entity is EntityKind.PAGE and "content" in a.changes and a.remote_id
    ]
    if not adopting:
        return plan
    stored, notes = fetch_stored_pages(client, remote, [a.remote_id for a in adopting if a.remote_id is not None])
    index = index_of_matching(
        matching,
        remote,
        remote.app_url or wiki_address(client, adopting[0].remote_id),
        {i: p.markdown for i, p in stored.items()},
    )
    actions: list[Action] = []
    for action in plan.actions:
        actual = stored.get(action.remote_id or -1) if action in adopting else None
        if actual is not None and actual.markdown:
            page = desired.pages[action.key]
            if same_text(localize(actual.markdown, page.key, index, _any_asset).markdown, page.source.body):
                action = replace(action, changes=tuple(c for c in action.changes if c != "content"))
        actions.append(action)
    return Plan(tuple(actions), (*plan.notes, *notes))


def index_of_matching(
    matching: Matching, remote: RemoteState, app_url: str, page_markdown: Mapping[int, str]
) -> WikiIndex:
    """Where each matched BookStack object lives in the docs tree, by id and by slug."""
    by_kind: dict[EntityKind, dict[int, str]] = defaultdict(dict)
    for (kind, key), object_id in matching.ids.items():
        by_kind[kind][object_id] = key
    books = remote.of(EntityKind.BOOK)
    return WikiIndex(
        app_url=app_url,
        pages=by_kind[EntityKind.PAGE],
        books=by_kind[EntityKind.BOOK],
        chapters=by_kind[EntityKind.CHAPTER],
        shelves=by_kind[EntityKind.SHELF],
        page_slugs={
            (books[p.book_id].slug, p.slug): p.id for p in remote.of(EntityKind.PAGE).values() if p.book_id in books
        },
        chapter_slugs={
            (books[c.book_id].slug, c.slug): c.id for c in remote.of(EntityKind.CHAPTER).values() if c.book_id in books
        },
        book_slugs={b.slug: b.id for b in books.values()},
        shelf_slugs={s.slug: s.id for s in remote.of(EntityKind.SHELF).values()},
        page_markdown=page_markdown,
    )


_ASSET = "asset:"


def _any_asset(ref: WikiRef) -> str | None:
    return _ASSET  # which file an image is cannot be told without downloading it: compared as "an asset"


def same_text(localized: str, body: str) -> bool:
    """Whether BookStack's text, read back into the docs tree's form, is the git body: the same characters
    but for the destinations of images and attachments (any asset matches any asset)."""

    def normalise(text: str) -> str:
        replacements = [
            (dest, _ASSET) for dest in scan(text).destinations if dest.url.endswith(_ASSET) or _is_asset_path(dest.url)
        ]
        return apply_replacements(text, replacements).strip()

    return normalise(localized) == normalise(body)


def _is_asset_path(url: str) -> bool:
    path = url.partition("#")[0].partition("?")[0]
    if not path or ":" in path.split("/")[0] or path.startswith("/") or path.endswith("/"):
        return False
    return not path.endswith(".md")
