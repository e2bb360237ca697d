"""Pull: bring the edits people made in BookStack back into the git files, for review and commit.

The pages pulled are the drift the plan already detects: managed pages whose ``revision_count`` moved
since the plugin's last write. For each, BookStack's text (its Markdown, or BookStack's own Markdown
export of a page saved in the WYSIWYG editor) is put into the docs tree's form, as ``export`` writes it
(links relative again, images and attachments as files beside the pages), and replaces the body of the
git file; the frontmatter is kept, but for ``title`` when the page was renamed. A file with uncommitted
changes is never touched. Each pulled page's stored hash and revision are then set to what git now
holds, so once the files are committed a sync finds nothing to write.
"""

from __future__ import annotations

import base64
import hashlib
import os
import posixpath
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import yaml

from ..apply.pulled import record_pulled
from ..bookstack import BookStackClient, BookStackError
from ..check.validate import Validation, validate_docs
from ..docs.tree import DocsTree
from ..errors import UsageError
from ..git import Git
from ..markdown.localize import Target, WikiRef, localize
from ..model import EntityKind
from ..plan.desired import DesiredState, build_desired
from ..plan.matching import Matching, page_hash
from ..plan.remote import RemoteObject, RemoteState, fetch_remote, wiki_address
from ..plan.resolve import canonical_markdown
from ..plan.treeid import tree_id_for
from ..plan.verify import fetch_stored_pages, index_of_matching
from ..settings import Settings
from .layout import safe_slug
from .read import ASSET_DIR, markdown_export


@dataclass(frozen=True)
class Pulled:
    path: str
    page_id: int
    revision: int
    detail: str  # "text", "text and title", ...

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "id": self.page_id, "revision": self.revision, "detail": self.detail}


@dataclass
class PullResult:
    pulled: list[Pulled] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)  # drifted, but BookStack's text already is git's
    refused: list[tuple[str, str]] = field(default_factory=list)  # (path, why)
    assets: list[str] = field(default_factory=list)  # files added beside the pages
    notes: list[str] = field(default_factory=list)
    requests: dict[str, Any] = field(default_factory=dict)
    dry_run: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "pulled": [p.to_json() for p in self.pulled],
            "unchanged": self.unchanged,
            "not_pulled": [{"path": path, "why": why} for path, why in self.refused],
            "files_added": self.assets,
            "notes": self.notes,
            "requests": self.requests,
        }


def managed_matching(remote: RemoteState) -> Matching:
    """Every managed object by its source key (the lowest id where a key is held twice)."""
    matching = Matching()
    for kind in (EntityKind.SHELF, EntityKind.BOOK, EntityKind.CHAPTER, EntityKind.PAGE):
        for key, objs in remote.managed(kind).items():
            matching.ids[(kind, key)] = objs[0].id
    return matching


def drifted_pages(remote: RemoteState) -> list[tuple[str, RemoteObject]]:
    """(page key, page) of the managed pages edited in BookStack since the plugin's last write."""
    found = []
    for key, objs in sorted(remote.managed(EntityKind.PAGE).items()):
        obj = objs[0]
        recorded = obj.recorded_revision
        if recorded is not None and obj.revision_count != recorded:
            found.append((key, obj))
    return found


class _Files:
    """Images and attachments of pulled text: a file git already has (same bytes) is linked as it is;
    a new one is written to ``<folder>/_assets/``."""

    def __init__(self, client: BookStackClient, tree: DocsTree, result: PullResult, *, write: bool) -> None:
        self.client = client
        self.root = tree.root
        self.by_sha = {asset.sha256: path for path, asset in sorted(tree.assets.items())}
        self.result = result
        self.write = write
        self.folder = ""

    def locate(self, ref: WikiRef) -> str | None:
        if ref.target is Target.ATTACHMENT and ref.id is not None:
            item = self.client.read("attachments", ref.id)
            if item.get("external"):
                return None
            data = base64.b64decode(str(item.get("content") or ""))
            name = f"{item.get('name') or 'file'}.{item.get('extension') or ''}".rstrip(".")
        elif ref.target is Target.IMAGE and ref.path:
            response = self.client.fetch_web(ref.path)
            if response.status_code != 200:
                self.result.notes.append(f"image {ref.path} could not be downloaded (HTTP {response.status_code})")
                return None
            data, name = response.content, posixpath.basename(ref.path)
        else:
            return None
        sha = hashlib.sha256(data).hexdigest()
        if sha in self.by_sha:
            return self.by_sha[sha]
        stem, dot, extension = name.rpartition(".")
        if not dot:
            stem, extension = name, ""
        extension = re.sub(r"[^a-z0-9]", "", extension.lower())[:10]
        base = safe_slug(stem, "", "file")
        candidate, n = f"{self.folder}/{ASSET_DIR}/{base}{'.' + extension if extension else ''}", 2
        while (self.root / candidate).exists() or candidate in self.by_sha.values():
            candidate = f"{self.folder}/{ASSET_DIR}/{base}-{n}{'.' + extension if extension else ''}"
            n += 1
        if self.write:
            target = self.root / candidate
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        self.by_sha[sha] = candidate
        self.result.assets.append(candidate)
        return candidate


def pull_edits(
    client: BookStackClient,
    settings: Settings,
    validation: Validation,
    *,
    dry_run: bool,
    env: Mapping[str, str] | None = None,
) -> PullResult:
    """Write BookStack's version of every drifted page into its git file (see the module docstring)."""
    assert validation.structure is not None and validation.tree is not None
    result = PullResult(dry_run=dry_run)
    tree = validation.tree
    desired = build_desired(validation.structure, tree, publish_drafts=settings.publish_drafts)
    # this tree's pages only: another tree's page with the same key is not this tree's file
    tree_id = tree_id_for(settings.tree, settings.docs_dir, os.environ if env is None else env)
    remote = fetch_remote(client, shelf_names=set(), shelf_keys=set(desired.shelves), tree_id=tree_id.value)
    drifted = []
    for key, obj in drifted_pages(remote):
        if key in desired.pages:
            drifted.append((key, obj))
        else:
            why = "a draft (not published)" if key in desired.skipped else "no longer in the docs tree"
            result.refused.append((key, f"edited in BookStack (page {obj.id}), but its file is {why}: not pulled"))
    if not drifted:
        return result
    git = Git.find(settings.docs_dir)
    if git is None:
        raise UsageError(
            f"{settings.docs_dir} is not in a git work tree: pull never overwrites uncommitted work, and cannot "
            "tell it here",
            hint="run pull in the git checkout of the docs",
        )
    ready: list[tuple[str, RemoteObject]] = []
    for key, obj in drifted:
        status = git.run("status", "--porcelain", "--", key)
        if status is None or status.returncode != 0 or status.stdout.strip():
            result.refused.append((key, "the file has uncommitted changes: commit or stash them, then pull again"))
        else:
            ready.append((key, obj))
    stored, notes = fetch_stored_pages(client, remote, [obj.id for _key, obj in ready])
    result.notes += notes
    matching = managed_matching(remote)
    texts = _Texts({i: p.markdown for i, p in stored.items()}, matching, validation, desired, settings)
    index = index_of_matching(matching, remote, remote.app_url or wiki_address(client, drifted[0][1].id), texts)
    files = _Files(client, tree, result, write=not dry_run)
    written: list[tuple[str, RemoteObject]] = []
    for key, obj in ready:
        page = stored.get(obj.id)
        if page is None:
            result.refused.append((key, f"page {obj.id} could not be read"))
            continue
        markdown = page.markdown or markdown_export(client, obj.id)
        files.folder = posixpath.dirname(key)
        body = localize(markdown, key, index, files.locate).markdown
        source = desired.pages[key].source
        renamed = page.name.strip() != source.title
        if body.strip() == source.body.strip() and not renamed:
            result.unchanged.append(key)
            written.append((key, obj))
            continue
        if not dry_run:
            _write_page(tree.root / key, body, page.name if renamed else None)
        written.append((key, obj))
        what = "text and title" if renamed and body.strip() != source.body.strip() else "title" if renamed else "text"
        result.pulled.append(Pulled(key, obj.id, obj.revision_count, what))
    if not dry_run and written:
        _record_in_step(client, settings, written, matching, result)
    return result


class _Texts(Mapping[int, str]):
    """A page's markdown for its heading anchors: as read from BookStack, else the git file's rendering
    (what the last sync wrote, so its ``bkmrk-`` ids), computed when a link needs it."""

    def __init__(
        self,
        stored: dict[int, str],
        matching: Matching,
        validation: Validation,
        desired: DesiredState,
        settings: Settings,
    ) -> None:
        self.stored = stored
        self.keys_by_id = {i: key for (kind, key), i in matching.ids.items() if kind is EntityKind.PAGE}
        self.matching = matching
        self.validation = validation
        self.desired = desired
        self.strip = settings.strip_title_heading
        self.forge_markdown = settings.forge_markdown

    def __getitem__(self, page_id: int) -> str:
        if page_id in self.stored:
            return self.stored[page_id]
        key = self.keys_by_id.get(page_id)
        page = self.desired.pages.get(key) if key is not None else None
        tree = self.validation.tree
        rendered = (
            canonical_markdown(
                page,
                self.matching,
                tree,
                self.desired,
                strip_title_heading=self.strip,
                forge_markdown=self.forge_markdown,
            )
            if page is not None and tree is not None
            else None
        )
        if rendered is None:
            raise KeyError(page_id)
        self.stored[page_id] = rendered
        return rendered

    def __contains__(self, page_id: object) -> bool:
        try:
            self[page_id]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(self.keys_by_id)

    def __len__(self) -> int:
        return len(self.keys_by_id)


_FRONTMATTER_END = re.compile(r"^---[ \t]*$", re.MULTILINE)


def _write_page(file: Path, body: str, title: str | None) -> None:
    """The file's frontmatter as it is (its ``title`` line replaced when the page was renamed), then ``body``."""
    text = file.read_text(encoding="utf-8").replace("\r\n", "\n")
    closing = _FRONTMATTER_END.search(text, text.index("\n") + 1)
    assert closing is not None  # the tree validated: the frontmatter is closed
    head = text[: closing.end()]
    if title is not None:
        line = yaml.safe_dump({"title": title}, allow_unicode=True, width=1000).strip()
        head = re.sub(r"^title:.*$", lambda _m: line, head, count=1, flags=re.MULTILINE)
    file.write_text(f"{head}\n\n{body.strip()}\n" if body.strip() else f"{head}\n", encoding="utf-8")


def _record_in_step(
    client: BookStackClient,
    settings: Settings,
    pages: list[tuple[str, RemoteObject]],
    matching: Matching,
    result: PullResult,
) -> None:
    """Set each pulled page's hash to the git file's new rendering and its revision to the one this
    write makes: the next sync of the committed files finds the pages unchanged."""
    validation = validate_docs(
        settings.docs_dir, settings.structure_path, ignore=settings.ignore, max_upload_mb=settings.max_upload_mb
    )
    if validation.failed(False) or validation.structure is None or validation.tree is None:
        result.notes.append(
            "the pulled files do not validate (see `bookstack-sync validate`): BookStack's hashes were left as they "
            "were, so the next sync sees the pages as edited"
        )
        return
    desired = build_desired(validation.structure, validation.tree, publish_drafts=settings.publish_drafts)
    for key, obj in pages:
        page = desired.pages.get(key)
        if page is None:
            continue
        canonical = canonical_markdown(
            page,
            matching,
            validation.tree,
            desired,
            strip_title_heading=settings.strip_title_heading,
            forge_markdown=settings.forge_markdown,
        )
        if canonical is None:
            continue
        try:
            record_pulled(client, obj, page_hash(page, canonical, page.parent_key))
        except BookStackError as exc:
            result.notes.append(
                f"{key}: its hash could not be recorded ({exc.message}); the next sync sees it as edited"
            )


def print_pull(result: PullResult, out: TextIO) -> None:
    verb = "would pull" if result.dry_run else "pulled"
    for pulled in result.pulled:
        out.write(f"{verb}: {pulled.path} (page {pulled.page_id}, revision {pulled.revision}: {pulled.detail})\n")
    for path in result.unchanged:
        out.write(f"in step: {path} (edited in BookStack, but its text already is git's)\n")
    for path, why in result.refused:
        out.write(f"not pulled: {path}: {why}\n")
    for path in result.assets:
        out.write(f"new file: {path}\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
    out.write(
        f"{len(result.pulled)} page(s) {verb}, {len(result.refused)} not pulled, "
        f"{result.requests.get('total', 0)} requests\n"
    )
    if result.pulled and not result.dry_run:
        out.write("review with `git diff`, then commit: the next sync writes nothing for these pages\n")


def pull_markdown(result: PullResult) -> str:
    lines = ["# bookstack-sync pull", ""]
    verb = "Would pull" if result.dry_run else "Pulled"
    if result.pulled:
        lines += [f"{verb} from BookStack:", "", "| File | Page | Revision | What |", "| --- | --- | --- | --- |"]
        lines += [f"| `{p.path}` | {p.page_id} | {p.revision} | {p.detail} |" for p in result.pulled]
        lines.append("")
    else:
        lines += ["No page was edited in BookStack since the last sync." if not result.refused else "", ""]
    if result.refused:
        lines += ["Not pulled:", ""] + [f"- `{path}`: {why}" for path, why in result.refused] + [""]
    if result.assets:
        lines += ["New files:", ""] + [f"- `{path}`" for path in result.assets] + [""]
    if result.notes:
        lines += ["Notes:", ""] + [f"- {note}" for note in result.notes] + [""]
    return "\n".join(lines)
