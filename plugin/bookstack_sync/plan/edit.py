"""One page edited in git, nothing changed in BookStack: read that page alone, not the whole wiki.

When the probe is sure BookStack holds what the last sync left and git says exactly one page file
changed since the last sync's commit — its text, title or tags, not its place, number or order, with
links to other pages only — one search over the tags of the pages of the folder the page and its link
targets share gives every id the write needs (the page's own tags, its revision as the last write left
it, the ids its links point to; one search per page when that folder holds more than a hundred). The run
is then the probe, that search and one write: seven requests.
Anything else is read in full as before, with the reason in the log.
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..bookstack import BookStackClient, normalise_chapter_id
from ..git import Git, GitError, repository_root
from ..markdown.content import RefKind
from ..model import EntityKind
from .desired import DesiredPage, DesiredState
from .history import changed_since
from .matching import Matching
from .record import SyncRecord
from .remote import RemoteObject, RemoteState
from .tags import MANAGED_TAG, TREE_TAG

_ORDER = re.compile(r"^order:\s*(.*?)\s*$", re.M)


@dataclass(frozen=True)
class OnePage:
    """The edited page and what BookStack holds of it and of the pages it links to."""

    page: DesiredPage
    remote: RemoteState
    matching: Matching
    obj: RemoteObject


def one_page_edit(
    client: BookStackClient, docs_dir: Path, record: SyncRecord, desired: DesiredState, settings: str, tree_id: str
) -> tuple[OnePage | None, str]:
    """The edit to write, or None and why the run reads everything."""
    if record.settings != settings:
        return None, "the settings (or the plugin's version) changed since the last sync"
    changed = changed_since(docs_dir, record.commit)
    if changed is None:
        return None, "the docs changed since the last sync, and git cannot say which files"
    if len(changed) != 1 or changed[0] not in desired.pages:
        return None, f"the docs changed since the last sync ({len(changed)} files)"
    page = desired.pages[changed[0]]
    if any(ref.kind is not RefKind.PAGE for ref in page.references):
        return None, f"the docs changed since the last sync ({page.key}, which links to a folder or a file)"
    if not _same_order(docs_dir, record.commit, page):
        return None, f"the docs changed since the last sync ({page.key}, its order)"
    keys = [page.key, *page.linked_pages]
    folder = posixpath.commonpath([posixpath.dirname(key) for key in keys])
    prefix = f"{folder}/" if folder else ""
    # no spaces around `like`: BookStack splits a tag term at its first operator and trims nothing
    own = f" [{TREE_TAG}={tree_id}]" if tree_id else ""
    hits, total = client.search_first(f"{{type:page}} [{MANAGED_TAG}like{prefix}%]{own}")
    if total > len(hits):
        # the folder they share holds more than one answer: one search per page instead
        hits = []
        for key in keys:
            found_key, _ = client.search_first(f"{{type:page}} [{MANAGED_TAG}={key}]{own}")
            hits += found_key
    found: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        for tag in hit.get("tags", []):
            if tag.get("name") == MANAGED_TAG:
                found.setdefault(str(tag.get("value") or ""), []).append(hit)
    if any(len(found.get(key, [])) != 1 for key in keys):
        return (
            None,
            f"the docs changed since the last sync ({page.key}: it or a page it links to is missing or doubled)",
        )
    remote = RemoteState(tree_id=tree_id)
    matching = Matching()
    for key in keys:
        obj = _page_object(found[key][0], page if key == page.key else None)
        remote.objects[EntityKind.PAGE][obj.id] = obj
        matching.ids[(EntityKind.PAGE, key)] = obj.id
    obj = remote.of(EntityKind.PAGE)[matching.ids[(EntityKind.PAGE, page.key)]]
    # BookStack's own address (APP_URL), for the report's links: every hit's url starts with it
    url = str(found[page.key][0].get("url") or "")
    remote.app_url = url[: url.find("/books/")] if url.find("/books/") > 0 else None
    if obj.book_id is not None:
        matching.ids[(EntityKind.BOOK, page.book_key)] = obj.book_id
    if page.chapter_key and obj.chapter_id is not None:
        matching.ids[(EntityKind.CHAPTER, page.chapter_key)] = obj.chapter_id
    return OnePage(page, remote, matching, obj), ""


def _page_object(hit: dict[str, Any], page: DesiredPage | None) -> RemoteObject:
    """A page as the last sync left it: nothing changed since (the probe said so), so its revision is
    the one its tag recorded, and its priority the one its unchanged ``order`` gave (a hit may lack it)."""
    tags = [{"name": str(t.get("name", "")), "value": str(t.get("value") or "")} for t in hit.get("tags", [])]
    obj = RemoteObject(
        kind=EntityKind.PAGE,
        id=int(hit["id"]),
        name=str(hit.get("name", "")),
        slug=str(hit.get("slug", "")),
        book_id=hit.get("book_id"),
        chapter_id=normalise_chapter_id(hit.get("chapter_id")),
        updated_at=str(hit.get("updated_at") or ""),
        tags=tags,
    )
    obj.revision_count = obj.recorded_revision or 0
    priority = hit.get("priority")
    obj.priority = int(priority) if isinstance(priority, int) else page.priority if page is not None else 0
    return obj


def _same_order(docs_dir: Path, commit: str, page: DesiredPage) -> bool:
    """Whether the file's ``order`` line reads as it did at ``commit`` (so its priority is unchanged)."""
    if repository_root(docs_dir.resolve()) is None:
        return False
    try:
        old = Git(docs_dir).output("show", f"{commit}:./{page.key}")
    except GitError:
        return False
    new = (docs_dir / page.key).read_text(encoding="utf-8", errors="replace")
    before, after = _ORDER.search(old), _ORDER.search(new)
    return before is not None and after is not None and before.group(1) == after.group(1)


__all__ = ["OnePage", "one_page_edit"]
