"""Building one ZIP import: a book or chapter with its pages, images and attachments in BookStack's portable
format (its ``dev/docs/portable-zip-file-format.md``), links to what the import creates as ``[[bsexport:…]]``
references, the ids BookStack will hand out predicted so links and stored hashes are right from the start.
No client: it can be tested on its own.
"""

from __future__ import annotations

import hashlib
import html
import io
import json
import logging
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from ..docs.structure import TEXT_MAX
from ..docs.tree import DocsTree
from ..markdown.content import Reference, RefKind, render_page
from ..model import EntityKind
from ..plan.desired import DesiredState
from ..plan.matching import ImportUnit, Matching, body_hash, page_hash
from ..plan.resolve import PageLinks, canonical_markdown, slug_folder_path, waits_for_pages
from ..plan.routes import parse_version
from ..plan.tags import asset_tag, container_tags, tag_list
from .context import EMPTY_PAGE, ApplyContext
from .writers import asset_name

log = logging.getLogger("bookstack_sync.zipimport")


_MARK_BASE = 1 << 30


def tree_mark(tree_id: str) -> int:
    """The ZIP-local id of an import's top-level book or chapter: a number of the docs tree.

    A pending import shows only names, ids, priorities and tag *names* (``metadataOnly()`` drops tag
    values), so the ``bookstack-sync-tree`` tag cannot tell whose it is; the ZIP-local id, which BookStack
    keeps in the import's details but never gives to what it creates, can. In [2^30, 2^31): never 1, the
    id versions before it wrote, nor a plausible BookStack id (an export's ZIP carries the real ones)."""
    digest = hashlib.sha256(tree_id.encode("utf-8")).digest()
    return _MARK_BASE + int.from_bytes(digest[:4], "big") % _MARK_BASE


def is_tree_mark(ident: int) -> bool:
    """``ident`` is some tree's mark (``tree_mark``)."""
    return _MARK_BASE <= ident < 2 * _MARK_BASE


class ImportBuildError(ValueError):
    """The unit cannot be put into a ZIP the import would take as it is (it goes object by object)."""


@dataclass(frozen=True)
class ZipInputs:
    """What the builder needs to know; no client, so it can be tested on its own."""

    desired: DesiredState
    tree: DocsTree
    matching: Matching  # ids known now: links to pages outside the import become /link/<id>
    slugs: dict[tuple[EntityKind, str], str]  # for links to books and chapters outside the import
    predicted: dict[str, int]  # page key -> the id the import is expected to give it
    strip_title_heading: bool = True
    forge_markdown: bool = True


@dataclass(frozen=True)
class BuiltImport:
    unit: ImportUnit
    data: bytes  # the ZIP
    document: dict[str, Any]  # data.json, for tests and the log
    page_tags: dict[str, list[tuple[str, str]]]  # page key -> tags as written
    waiting: frozenset[str]  # pages linking to a page without an id yet: written again after the run
    predicted: dict[str, int] = field(default_factory=dict)  # page key -> the id its links assume
    waiting_more: set[str] = field(default_factory=set)  # pages whose predicted links were wrong

    @property
    def filename(self) -> str:
        return PurePosixPath(self.unit.key).name + ".zip"


class _ZipResolver(PageLinks):
    """URLs inside the ZIP: ``[[bsexport:…]]`` for what the import creates, real ones for the rest."""

    def __init__(
        self,
        inputs: ZipInputs,
        pages: dict[str, int],
        folders: dict[str, str],
        images: dict[str, int],
        attachments: dict[str, int],
    ) -> None:
        self.inputs = inputs
        self.desired = inputs.desired
        self.pages = pages
        self.folders = folders
        self.images = images
        self.attachments = attachments

    def page_id(self, page_path: str) -> int | None:
        if page_path in self.pages:
            return self.inputs.predicted[page_path]
        return self.inputs.matching.id_of(EntityKind.PAGE, page_path)

    def folder_url(self, key: str) -> str | None:
        if key in self.folders:
            return self.folders[key]
        return slug_folder_path(self.inputs.slugs, key)

    def image_url(self, asset_path: str) -> str | None:
        found = self.images.get(asset_path)
        return f"[[bsexport:image:{found}]]" if found is not None else None

    def attachment_url(self, asset_path: str) -> str | None:
        found = self.attachments.get(asset_path)
        return f"[[bsexport:attachment:{found}]]" if found is not None else None


def _description_html(text: str) -> str:
    # what BookStack makes of a plain `description` sent to the API, so both routes store the same text
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>") + "</p>"


@dataclass
class _Builder:
    inputs: ZipInputs
    unit: ImportUnit
    ctx: ApplyContext  # the sync time and commit for the page tags
    page_ids: dict[str, int] = field(default_factory=dict)
    folders: dict[str, str] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    image_count: int = 0
    attachment_count: int = 0
    page_tags: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    waiting: set[str] = field(default_factory=set)
    expected: Matching = field(default_factory=Matching)

    def build(self) -> BuiltImport:
        desired = self.inputs.desired
        # the hash is taken over the links as they will be if the predicted ids come true
        self.expected = Matching(ids=dict(self.inputs.matching.ids))
        for key, page_id in self.inputs.predicted.items():
            self.expected.ids[(EntityKind.PAGE, key)] = page_id
        self.page_ids = {key: n for n, key in enumerate(self.unit.page_keys, start=1)}
        top = tree_mark(self.ctx.tree_id)  # the top-level item's id tells whose the pending import is
        if self.unit.kind is EntityKind.BOOK:
            chapters = self.unit.chapter_keys
            chapter_ids = {key: n for n, key in enumerate(chapters, start=1)}
            self.folders[self.unit.key] = f"[[bsexport:book:{top}]]"
        else:
            chapters = (self.unit.key,)
            chapter_ids = {self.unit.key: top}
        for key, n in chapter_ids.items():
            self.folders[key] = f"[[bsexport:chapter:{n}]]"
        if self.unit.kind is EntityKind.BOOK:
            book = desired.books[self.unit.key]
            root: dict[str, Any] = {"id": top, "name": book.name}
            if book.description:
                root["description_html"] = _description_html(book.description)
            root["tags"] = tag_list(self._container_tags(book.key))
            root["pages"] = [self._page(key) for key in self.unit.page_keys if desired.pages[key].chapter_key is None]
            root["chapters"] = [self._chapter(key, chapter_ids[key]) for key in chapters]
            document = {"book": root}
        else:
            document = {"chapter": self._chapter(self.unit.key, top)}
        self._check_lengths(document)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("data.json", json.dumps(document, ensure_ascii=False))
            for name, content in sorted(self.files.items()):
                archive.writestr(f"files/{name}", content)
        return BuiltImport(
            self.unit,
            buffer.getvalue(),
            document,
            self.page_tags,
            frozenset(self.waiting),
            dict(self.inputs.predicted),
        )

    def _chapter(self, key: str, ident: int) -> dict[str, Any]:
        chapter = self.inputs.desired.chapters[key]
        data: dict[str, Any] = {"id": ident, "name": chapter.name, "priority": chapter.priority}
        if chapter.description:
            data["description_html"] = _description_html(chapter.description)
        data["tags"] = tag_list(self._container_tags(chapter.key))
        data["pages"] = [self._page(p) for p in self.unit.page_keys if self.inputs.desired.pages[p].chapter_key == key]
        return data

    def _container_tags(self, key: str) -> list[tuple[str, str]]:
        return container_tags(key, self.ctx.run_id, tree_id=self.ctx.tree_id)

    def _file(self, ref: Reference) -> str:
        asset = self.inputs.tree.assets[ref.target]
        # one copy per content in the ZIP, under a name that keeps the extension (BookStack derives the
        # stored file's extension from it)
        name = asset.sha256[:20] + PurePosixPath(ref.target).suffix.lower()
        if name not in self.files:
            self.files[name] = asset.file.read_bytes()
        return name

    def _page(self, key: str) -> dict[str, Any]:
        inputs = self.inputs
        page = inputs.desired.pages[key]
        images: dict[str, int] = {}
        attachments: dict[str, int] = {}
        image_items: list[dict[str, Any]] = []
        attachment_items: list[dict[str, Any]] = []
        asset_tags: list[tuple[str, str]] = []
        for ref in page.assets:
            asset = inputs.tree.assets.get(ref.target)
            if asset is None:
                raise ImportBuildError(f"{key}: {ref.target} is not in the docs tree")
            file_name = self._file(ref)
            if ref.kind is RefKind.IMAGE:
                self.image_count += 1
                images[ref.target] = self.image_count
                image_items.append(
                    {"id": self.image_count, "name": asset_name(page, ref), "file": file_name, "type": "gallery"}
                )
            else:
                self.attachment_count += 1
                attachments[ref.target] = self.attachment_count
                attachment_items.append({"id": self.attachment_count, "name": asset_name(page, ref), "file": file_name})
            asset_tags.append(asset_tag(ref.target, asset.sha256))
        resolver = _ZipResolver(inputs, self.page_ids, self.folders, images, attachments)
        rendered = render_page(
            page.source,
            inputs.tree,
            resolver,
            strip_title_heading=inputs.strip_title_heading,
            forge_markdown=inputs.forge_markdown,
        )
        for warning in rendered.warnings:
            log.warning("%s: %s", page.key, warning)
        waiting = waits_for_pages(rendered.unresolved, inputs.desired)
        canonical = canonical_markdown(
            page,
            self.expected,
            inputs.tree,
            inputs.desired,
            strip_title_heading=inputs.strip_title_heading,
            forge_markdown=inputs.forge_markdown,
        )
        body = ""
        if waiting or canonical is None:
            self.waiting.add(key)
            content_hash = "pending"  # as on the per-object path: the follow-up write sets the real hash
        else:
            content_hash = page_hash(page, canonical, page.parent_key)
            body = body_hash(canonical)
        # an imported page is revision 1
        tags = self.ctx.page_tags(page, content_hash, 1, asset_tags, body=body)
        self.page_tags[key] = tags
        data: dict[str, Any] = {
            "id": self.page_ids[key],
            "name": page.name,
            "markdown": rendered.markdown or EMPTY_PAGE,
            "priority": page.priority,
            "tags": tag_list(tags),
        }
        if image_items:
            data["images"] = image_items
        if attachment_items:
            data["attachments"] = attachment_items
        return data

    def _check_lengths(self, document: dict[str, Any]) -> None:
        """Validation refused long names and tag values; this guards what it cannot see (asset names)."""

        def walk(node: Any, path: str) -> None:
            if isinstance(node, dict):
                for name, value in node.items():
                    if name in ("name", "value") and isinstance(value, str) and len(value.strip()) > TEXT_MAX:
                        raise ImportBuildError(f"{path}.{name} is over {TEXT_MAX} characters")
                    walk(value, f"{path}.{name}")
            elif isinstance(node, list):
                for n, item in enumerate(node):
                    walk(item, f"{path}.{n}")

        walk(document, "data")


def creation_order(desired: DesiredState, unit: ImportUnit) -> list[tuple[EntityKind, str]]:
    """What the import creates, in the order it creates it (``ZipImportRunner``): the book, then its chapters
    and book-level pages merged and sorted by priority (stable, chapters first on ties), each chapter
    followed by its pages sorted by priority."""
    pages_in = set(unit.page_keys)

    def pages(book_key: str, chapter_key: str | None) -> list[tuple[int, EntityKind, str]]:
        found = [
            (p.priority, EntityKind.PAGE, p.key)
            for p in desired.pages.values()
            if p.key in pages_in and p.book_key == book_key and p.chapter_key == chapter_key
        ]
        return sorted(found, key=lambda item: item[0])

    order: list[tuple[EntityKind, str]] = []

    def chapter(key: str) -> None:
        order.append((EntityKind.CHAPTER, key))
        order.extend((kind, page) for _, kind, page in pages(desired.chapters[key].book_key, key))

    if unit.kind is EntityKind.CHAPTER:
        chapter(unit.key)
        return order
    order.append((EntityKind.BOOK, unit.key))
    chapters = [(desired.chapters[c].priority, EntityKind.CHAPTER, c) for c in unit.chapter_keys]
    for _, kind, key in sorted([*chapters, *pages(unit.key, None)], key=lambda item: item[0]):
        if kind is EntityKind.CHAPTER:
            chapter(key)
        else:
            order.append((kind, key))
    return order


def predict_ids(
    desired: DesiredState, unit: ImportUnit, known: dict[EntityKind, set[int]], version: str | None
) -> dict[str, int]:
    """The ids the import will most likely give its pages: the next ones after the highest known.

    From v25.11 shelves, books, chapters and pages share one id sequence (one ``entities`` table,
    BookStack's ``BookContents``); before, pages have their own.
    """
    parsed = parse_version(version)
    shared = parsed is not None and parsed >= (25, 11)
    kinds = (EntityKind.SHELF, EntityKind.BOOK, EntityKind.CHAPTER, EntityKind.PAGE) if shared else (EntityKind.PAGE,)
    next_id = max((i for kind in kinds for i in known.get(kind, set())), default=0) + 1
    predicted: dict[str, int] = {}
    for kind, key in creation_order(desired, unit):
        if kind is EntityKind.PAGE:
            predicted[key] = next_id
            next_id += 1
        elif shared:
            next_id += 1
    return predicted


def known_ids(ctx: ApplyContext) -> dict[EntityKind, set[int]]:
    known: dict[EntityKind, set[int]] = {
        kind: set(ctx.remote.of(kind)) | set(ctx.remote.foreign[kind]) for kind in EntityKind
    }
    for (kind, _), obj_id in ctx.matching.ids.items():
        known.setdefault(kind, set()).add(obj_id)
    return known


def build_import(inputs: ZipInputs, unit: ImportUnit, ctx: ApplyContext) -> BuiltImport:
    """The ZIP for ``unit``. ``ctx`` gives the sync time and commit the page tags carry."""
    return _Builder(inputs, unit, ctx).build()
