"""Writing the exported tree: the structure file, page files with frontmatter and localised links, images
and attachments beside the pages, and the export report.
"""

from __future__ import annotations

import datetime as dt
import json
import posixpath
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..bookstack import BookStackClient
from ..errors import UsageError
from ..markdown.localize import Target, WikiIndex, WikiRef, localize
from ..plan.tags import SYSTEM_TAGS
from .layout import Layout, Problem, label_of, lay_out, safe_slug, unique_name
from .read import (
    _BOOL_TAGS,
    ASSET_DIR,
    DATE,
    STATUSES,
    ExportFilter,
    Wiki,
    WikiPage,
    read_wiki,
)


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
        file_name = unique_name(clean_stem + (f".{clean_ext}" if clean_ext else ""), self.names[self.folder])
        path = f"{self.folder}/{ASSET_DIR}/{file_name}"
        self.files[(self.folder, file_name)] = data
        self.placed[marker] = path
        return path


def export_wiki(
    client: BookStackClient,
    docs_dir: Path,
    structure_path: Path,
    *,
    wanted: ExportFilter | None = None,
    unshelved: str | None = None,
    force: bool = False,
    saved_dir: Path | None = None,
    tree_id: str = "",
) -> ExportResult:
    """Read the wiki and write the docs tree; returns what was written and what could not be represented.
    With ``tree_id``, other docs trees' books are left out (each tree's git holds its own)."""
    wanted = ExportFilter() if wanted is None else wanted
    _refuse_non_empty(docs_dir, force)
    wiki = read_wiki(client, wanted, tree_id)
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
    label = label_of(page)
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
