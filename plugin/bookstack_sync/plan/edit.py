"""A few pages edited in git, nothing changed in BookStack: write those pages, not read the whole wiki.

When the probe is sure BookStack holds what the last sync left and git says that at most ``MAX_PAGES``
page files changed since the last sync's commit — their text, title or tags, not their place, number or
order, with links to pages, chapters, books and shelves only (not to images or files) — the ids and slugs
the writes need (each page's own tags and revision as the last write left them, the ids its page links
point to, the slugs of the folders it links to) come from a search of the tree's objects whose key lies
between the first and the last key needed (``[bookstack-sync>=a] [bookstack-sync<=b]``). The keys are
known here, so how many objects such a range holds is known before asking: the needed keys are cut into
as few ranges as hold under one answer each (usually one; one per key at worst). The run is then the
probe, those searches and one write per page: seven requests for one page whose links stay near it.
BookStack's collation may order keys differently from this count: a key not found in its range is
searched alone; a key missing or doubled after that reads everything.
Without the last sync's commit in the clone (Woodpecker clones one commit by default), the files the
pipeline's push changed (``CI_PIPELINE_FILES``) stand in for git's answer when the record's digest
proves no other file changed: each file's hash is combined into it, and each page carries its file's
(``SOURCE_TAG``, found by the same range search). Order and title are then compared with what the
wiki holds; a page whose headings another page links to is read in full (no old file to compare).
Anything else is read in full as before, with the reason in the log.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..bookstack import BookStackClient, normalise_chapter_id
from ..bookstack.search import compares_as_number
from ..git import Git, GitError, repository_root
from ..markdown.content import RefKind
from ..model import SEARCH_TYPE, EntityKind
from .desired import DesiredPage, DesiredState
from .history import changed_since
from .matching import Matching
from .record import SyncRecord, combine
from .remote import RemoteObject, RemoteState
from .tags import MANAGED_TAG, SOURCE_TAG, TREE_TAG

MAX_PAGES = 3  # edited pages written one by one; more read everything
RANGE_FIT = 90  # objects a range search aims at, under an answer's 100 (BookStack may count a few more)
_ORDER = re.compile(r"^order:\s*(.*?)\s*$", re.M)
_TITLE = re.compile(r"^title:.*$", re.M)
_HEADING = re.compile(r"^ {0,3}(#{1,6}(\s|$)|=+\s*$|-+\s*$)|<h[1-6]|\bid=|\{#", re.I)
_HASH = re.compile(r"[0-9a-f]{16}")
_UNSEARCHABLE = re.compile(r'["\[\]]')  # a key holding these cannot sit in a tag term (``SearchOptions``)


@dataclass(frozen=True)
class Edit:
    """The edited pages and what BookStack holds of them and of what they link to."""

    pages: tuple[DesiredPage, ...]
    remote: RemoteState
    matching: Matching
    told_by: str = "git"  # what named the changed files, for the log

    def obj(self, key: str) -> RemoteObject:
        page_id = self.matching.ids[(EntityKind.PAGE, key)]
        return self.remote.of(EntityKind.PAGE)[page_id]


def edited_pages(
    client: BookStackClient,
    docs_dir: Path,
    record: SyncRecord,
    desired: DesiredState,
    settings: str,
    tree_id: str,
    *,
    digest: str,
    shares: Mapping[str, str],
    named: tuple[list[str] | None, str],
) -> tuple[Edit | None, str]:
    """The edit to write, or None and why the run reads everything. Without the last sync's commit in
    the clone, the files the pipeline names (``named``: ``history.pipeline_files``) stand in for git's
    answer, checked against the record's digest (``digest``: the docs' now, of the files' ``shares``)."""
    if record.settings != settings:
        return None, "the settings (or the plugin's version) changed since the last sync"
    changed = changed_since(docs_dir, record.commit)
    if changed is None:
        return _edited_without_git(client, record, desired, tree_id, digest, shares, named)
    if not changed or len(changed) > MAX_PAGES or any(key not in desired.pages for key in changed):
        return None, f"the docs changed since the last sync ({len(changed)} files)"
    pages = tuple(desired.pages[key] for key in changed)
    needed: dict[str, EntityKind] = {}
    for page in pages:
        why = _needs(page, desired, needed) or _kept(docs_dir, record.commit, page, desired, set(changed))
        if why:
            return None, f"the docs changed since the last sync ({page.key}, {why})"
    return _resolve(client, pages, needed, desired, tree_id, "the docs changed since the last sync")


def _edited_without_git(
    client: BookStackClient,
    record: SyncRecord,
    desired: DesiredState,
    tree_id: str,
    digest: str,
    shares: Mapping[str, str],
    named: tuple[list[str] | None, str],
) -> tuple[Edit | None, str]:
    """The edit when git cannot say what changed: the pipeline's files under docs_dir, all pages the
    wiki holds with their file's hash and priority as last written (``SOURCE_TAG``), such that the
    record's digest with those hashes put back for today's is the record's own — no other file
    changed since the last sync (a push after a failed pipeline fails this: everything is read)."""
    why = "the docs changed since the last sync, and git cannot say which files"
    files, unnamed = named
    if files is None:
        return None, f"{why} ({unnamed})"
    if not files or len(files) > MAX_PAGES or any(key not in desired.pages for key in files):
        return None, f"{why} (CI_PIPELINE_FILES names {len(files)} files under the docs, not 1 to {MAX_PAGES} pages)"
    pages = tuple(desired.pages[key] for key in files)
    needed: dict[str, EntityKind] = {}
    for page in pages:
        refused = _needs(page, desired, needed) or _kept_without_git(page, desired, set(files))
        if refused:
            return None, f"{why} ({page.key}, {refused})"
    edit, unresolved = _resolve(client, pages, needed, desired, tree_id, why)
    if edit is None:
        return None, unresolved
    now: dict[str, str] = {}
    old: dict[str, str] = {}
    for page in pages:
        obj = edit.obj(page.key)
        source, _, priority = (obj.tag(SOURCE_TAG) or "").partition(" ")
        if not _HASH.fullmatch(source) or not priority.lstrip("-").isdigit():
            return None, f"{why} ({page.key}: written by an older version, without {SOURCE_TAG})"
        if int(priority) != page.priority:
            return None, f"{why} ({page.key}, its order)"
        moved = _redirected(page, desired, set(files)) if page.name != obj.name else None
        if moved is not None:
            return None, f"{why} ({page.key}, its title, which {moved} shows)"
        old[page.key] = source
        now[page.key] = shares[page.key]
    if combine(digest, *now.values(), *old.values()) != record.digest:
        return None, f"{why} (files CI_PIPELINE_FILES does not name changed since the last sync)"
    edited = tuple(page for page in pages if now[page.key] != old[page.key])
    if not edited:
        return None, f"{why} (the pages CI_PIPELINE_FILES names are as last synced)"
    return Edit(edited, edit.remote, edit.matching, told_by="CI_PIPELINE_FILES, checked by the digest"), ""


def _kept_without_git(page: DesiredPage, desired: DesiredState, edited: set[str]) -> str:
    """``_kept`` without the old file: a page another page links into by a heading is refused outright
    (its headings cannot be compared); order and title are compared with what the wiki holds."""
    linking = next(
        (o.key for o in desired.pages.values() if o.key not in edited and _links_into(o, page.key, fragment=True)),
        None,
    )
    return f"its headings may have changed, which {linking} links to" if linking else ""


def _redirected(page: DesiredPage, desired: DesiredState, edited: set[str]) -> str | None:
    """A page (not itself edited) that moved to ``page`` and says so with its title."""
    return next(
        (
            o.key
            for o in desired.pages.values()
            if o.key not in edited and o.source.frontmatter.get("redirect_to") and _links_into(o, page.key)
        ),
        None,
    )


def drifted_pages(
    client: BookStackClient,
    changed: list[tuple[EntityKind, dict[str, Any]]],
    desired: DesiredState,
    tree_id: str,
) -> tuple[Edit | None, str]:
    """The tree's pages a person changed in BookStack since the last sync (the probe's ``changed``: each
    as the listing showed it, with its tags as read), to put back from the unchanged docs the way a
    full read would (``on_drift``); None and why when it takes more: something else changed, more than
    ``MAX_PAGES`` pages, a page the docs no longer hold or cannot be written alone."""
    why = "the tree's objects changed in BookStack since the last sync"
    live: dict[str, dict[str, Any]] = {}
    for kind, item in changed:
        tags = {str(t.get("name")): str(t.get("value") or "") for t in item.get("tags", [])}
        key = tags.get(MANAGED_TAG, "")
        if kind is not EntityKind.PAGE or key not in desired.pages or key in live or len(changed) > MAX_PAGES:
            return None, f"{why} ({kind.value} {item.get('id')})"
        live[key] = item
    pages = tuple(desired.pages[key] for key in sorted(live))
    needed: dict[str, EntityKind] = {}
    for page in pages:
        if _needs(page, desired, needed):
            return None, f"{why} ({page.key}: it links to more than pages and folders)"
        # where it belongs: a page moved by hand is put back
        needed[page.book_key] = EntityKind.BOOK
        if page.chapter_key:
            needed[page.chapter_key] = EntityKind.CHAPTER
    return _resolve(client, pages, needed, desired, tree_id, why, live)


def _resolve(
    client: BookStackClient,
    pages: tuple[DesiredPage, ...],
    needed: dict[str, EntityKind],
    desired: DesiredState,
    tree_id: str,
    why: str,
    live: dict[str, dict[str, Any]] | None = None,
) -> tuple[Edit | None, str]:
    """The ids and slugs of what ``pages`` need, by range searches; the pages in ``live`` as BookStack
    shows them now (listed and read), the others as the last sync left them."""
    if any(_UNSEARCHABLE.search(key) or compares_as_number(key) for key in needed):
        return None, f"{why} (a key a search cannot hold)"
    found = _find(client, needed, _universe(desired, set(needed.values())), tree_id)
    doubtful = sorted(key for key in needed if len(found.get(key, [])) != 1)
    if doubtful:
        return None, f"{why} ({doubtful[0]}: missing or doubled in BookStack)"
    written = {page.key for page in pages}
    remote = RemoteState(tree_id=tree_id)
    matching = Matching()
    for key, kind in needed.items():
        hit = found[key][0]
        if live and key in live:
            obj = _live_page(live[key], hit)
        elif kind is EntityKind.PAGE:
            obj = _page_object(hit, desired.pages[key] if key in written else None)
        else:
            obj = _folder_object(kind, hit)
        remote.objects[kind][obj.id] = obj
        matching.ids[(kind, key)] = obj.id
    for page in pages:
        obj = remote.of(EntityKind.PAGE)[matching.ids[(EntityKind.PAGE, page.key)]]
        if obj.book_id is not None:
            matching.ids.setdefault((EntityKind.BOOK, page.book_key), obj.book_id)
        if page.chapter_key and obj.chapter_id is not None:
            matching.ids.setdefault((EntityKind.CHAPTER, page.chapter_key), obj.chapter_id)
    # BookStack's own address (APP_URL), for the report's links: every page hit's url starts with it
    url = str(found[pages[0].key][0].get("url") or "")
    remote.app_url = url[: url.find("/books/")] if url.find("/books/") > 0 else None
    return Edit(pages, remote, matching), ""


def _live_page(item: dict[str, Any], hit: dict[str, Any]) -> RemoteObject:
    """A page a person changed, as the probe's listing shows it (its revision, parent, name, order) with
    its tags as read."""
    priority = item.get("priority")
    return RemoteObject(
        kind=EntityKind.PAGE,
        id=int(item["id"]),
        name=str(item.get("name", "")),
        slug=str(item.get("slug", hit.get("slug", ""))),
        book_id=item.get("book_id"),
        chapter_id=normalise_chapter_id(item.get("chapter_id")),
        priority=int(priority) if isinstance(priority, int) else 0,
        revision_count=int(item.get("revision_count") or 0),
        updated_by=item.get("updated_by") if isinstance(item.get("updated_by"), int) else None,
        updated_by_name=str(item.get("editor_name") or "") or None,
        updated_at=str(item.get("updated_at") or ""),
        tags=_tags(item),
    )


def _needs(page: DesiredPage, desired: DesiredState, needed: dict[str, EntityKind]) -> str:
    """Add what writing ``page`` needs from BookStack to ``needed`` (key -> kind); why not, when it
    needs more than ids and slugs."""
    needed[page.key] = EntityKind.PAGE
    for ref in page.references:
        if ref.kind is RefKind.PAGE and ref.target in desired.pages:
            needed[ref.target] = EntityKind.PAGE
        elif ref.kind is RefKind.PAGE and ref.target in desired.skipped:
            # a draft is linked through its chapter or book
            if not _needs_folder(ref.target.rpartition("/")[0], desired, needed):
                return f"which links to {ref.target}"
        elif ref.kind is RefKind.FOLDER:
            if not _needs_folder(ref.target, desired, needed):
                return f"which links to {ref.target}"
        else:
            return "which links to an image or a file"
    return ""


def _needs_folder(key: str, desired: DesiredState, needed: dict[str, EntityKind]) -> bool:
    """A folder link's URL is its slug path: a chapter's takes its book's slug too. False when ``key``
    is no shelf, book or chapter of the tree."""
    kind = _folder_kind(key, desired)
    if kind is None:
        return False
    needed[key] = kind
    if kind is EntityKind.CHAPTER:
        needed[desired.chapters[key].book_key] = EntityKind.BOOK
    return True


def _folder_kind(key: str, desired: DesiredState) -> EntityKind | None:
    for kind, folders in (
        (EntityKind.SHELF, desired.shelves),
        (EntityKind.BOOK, desired.books),
        (EntityKind.CHAPTER, desired.chapters),
    ):
        if key in folders:
            return kind
    return None


def _universe(desired: DesiredState, kinds: set[EntityKind]) -> list[str]:
    """The keys of the tree's objects of ``kinds`` in BookStack, as the last sync left them (sorted the way
    the ranges are cut): what a range search is expected to find."""
    keys: list[str] = []
    if EntityKind.PAGE in kinds:
        keys += [*desired.pages, *desired.skipped]
    if kinds - {EntityKind.PAGE}:
        keys += [*desired.shelves, *desired.books, *desired.chapters]
    return sorted(keys, key=str.casefold)


def ranges(needed: Iterable[str], universe: list[str]) -> list[tuple[str, str]]:
    """The needed keys cut into as few ranges (first key, last key) as each hold at most ``RANGE_FIT``
    keys of ``universe`` (sorted by ``str.casefold``)."""
    folded = [key.casefold() for key in universe]

    def held(low: str, high: str) -> int:
        return bisect.bisect_right(folded, high.casefold()) - bisect.bisect_left(folded, low.casefold())

    cut: list[tuple[str, str]] = []
    for key in sorted(set(needed), key=str.casefold):
        if cut and held(cut[-1][0], key) <= RANGE_FIT:
            cut[-1] = (cut[-1][0], key)
        else:
            cut.append((key, key))
    return cut


def _find(
    client: BookStackClient, needed: dict[str, EntityKind], universe: list[str], tree_id: str
) -> dict[str, list[dict[str, Any]]]:
    """The tree's objects holding the needed keys, by key: one search per range, one per key the ranges
    did not bring back whole."""
    types = "|".join(sorted({SEARCH_TYPE[kind] for kind in needed.values()}))
    own = f" [{TREE_TAG}={tree_id}]" if tree_id else ""
    found: dict[str, list[dict[str, Any]]] = {}
    missing: dict[str, None] = {}
    for low, high in ranges(needed, universe):
        # no spaces around the operator: BookStack splits a tag term at its first operator and trims nothing
        terms = f"[{MANAGED_TAG}={low}]" if low == high else f"[{MANAGED_TAG}>={low}] [{MANAGED_TAG}<={high}]"
        hits, total = client.search_first(f"{{type:{types}}} {terms}{own}")
        inside = _by_key(hits, needed)
        whole = total <= len(hits)
        for key in needed:
            if low.casefold() <= key.casefold() <= high.casefold():
                if key in inside and whole:
                    found[key] = inside[key]
                else:
                    missing[key] = None
    for key in missing:  # BookStack's collation put it outside the range, or the range held too much
        hits, _ = client.search_first(f"{{type:{SEARCH_TYPE[needed[key]]}}} [{MANAGED_TAG}={key}]{own}")
        found[key] = _by_key(hits, needed).get(key, [])
    return found


def _by_key(hits: list[dict[str, Any]], needed: dict[str, EntityKind]) -> dict[str, list[dict[str, Any]]]:
    by_key: dict[str, list[dict[str, Any]]] = {}
    for hit in hits:
        for tag in hit.get("tags", []):
            key = str(tag.get("value") or "")
            if tag.get("name") == MANAGED_TAG and key in needed and hit.get("type") == SEARCH_TYPE[needed[key]]:
                by_key.setdefault(key, []).append(hit)
    return by_key


def _tags(hit: dict[str, Any]) -> list[dict[str, str]]:
    return [{"name": str(t.get("name", "")), "value": str(t.get("value") or "")} for t in hit.get("tags", [])]


def _page_object(hit: dict[str, Any], page: DesiredPage | None) -> RemoteObject:
    """A page as the last sync left it: nothing changed since (the probe said so), so its revision is
    the one its tag recorded, and its priority the one its unchanged ``order`` gave (a hit may lack it)."""
    obj = RemoteObject(
        kind=EntityKind.PAGE,
        id=int(hit["id"]),
        name=str(hit.get("name", "")),
        slug=str(hit.get("slug", "")),
        book_id=hit.get("book_id"),
        chapter_id=normalise_chapter_id(hit.get("chapter_id")),
        updated_at=str(hit.get("updated_at") or ""),
        tags=_tags(hit),
    )
    obj.revision_count = obj.recorded_revision or 0
    priority = hit.get("priority")
    obj.priority = int(priority) if isinstance(priority, int) else page.priority if page is not None else 0
    return obj


def _folder_object(kind: EntityKind, hit: dict[str, Any]) -> RemoteObject:
    """A shelf, book or chapter a link points to: its slug makes the link's URL."""
    return RemoteObject(
        kind=kind,
        id=int(hit["id"]),
        name=str(hit.get("name", "")),
        slug=str(hit.get("slug", "")),
        book_id=hit.get("book_id"),
        updated_at=str(hit.get("updated_at") or ""),
        tags=_tags(hit),
    )


def _kept(docs_dir: Path, commit: str, page: DesiredPage, desired: DesiredState, edited: set[str]) -> str:
    """Why the edit of ``page`` changes more than its own text, title or tags, else "": its ``order``
    line (its priority); its headings while another page links to one of them (that page's link
    points to a heading id made from the heading's text); its title while a page redirects to it (the
    redirect's text shows it). ``edited`` pages are written anyway."""
    if repository_root(docs_dir.resolve()) is None:
        return "not in git"
    try:
        old = Git(docs_dir).output("show", f"{commit}:./{page.key}")
    except GitError:
        return "not in git at the last sync's commit"
    new = (docs_dir / page.key).read_text(encoding="utf-8", errors="replace")
    before, after = _ORDER.search(old), _ORDER.search(new)
    # no ``order`` line before and after: the priority comes from the file's number, in its unchanged name
    if (before.group(1) if before else None) != (after.group(1) if after else None):
        return "its order"
    others = [other for other in desired.pages.values() if other.key not in edited]
    if _heading_lines(old) != _heading_lines(new):
        linking = next((other.key for other in others if _links_into(other, page.key, fragment=True)), None)
        if linking is not None:
            return f"its headings, which {linking} links to"
    if _TITLE.findall(old) != _TITLE.findall(new):
        # a page that moved here says so with this page's title
        moved = _redirected(page, desired, edited)
        if moved is not None:
            return f"its title, which {moved} shows"
    return ""


def _links_into(page: DesiredPage, target: str, *, fragment: bool = False) -> bool:
    return any(
        ref.kind is RefKind.PAGE and ref.target == target and (ref.fragment or not fragment) for ref in page.references
    )


def _heading_lines(text: str) -> list[str]:
    """The lines a heading id could come from (ATX and setext headings, HTML headings and ids), each
    with the line before it (a setext heading's text), in order."""
    lines = text.splitlines()
    return [f"{lines[n - 1] if n else ''}\n{line}" for n, line in enumerate(lines) if _HEADING.search(line)]


__all__ = ["MAX_PAGES", "Edit", "drifted_pages", "edited_pages", "ranges"]
