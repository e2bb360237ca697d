"""The end of a sync: one object per source key and no pending import, whatever another run did meanwhile.

Two pipelines can sync at once (two quick pushes): both read the wiki before either writes, and both
create what is missing. BookStack's API has no lock, unique constraint or compare-and-set to keep the
second run out, so the runs agree afterwards instead. Every object carries its source key, and BookStack
hands out ids in order (auto-increment), which gives both runs the same verdict without talking:

1. **Imports in flight are waited for.** A ZIP import runs in one database transaction: what it creates
   has its ids from the start but is invisible until it commits, and the import stays listed as pending
   until then (``ImportRepo::runImport`` deletes it after the commit). So before looking, a run that
   created something waits until no other import of this tree is pending. This tree's imports older than
   ``STALE_IMPORT_S`` are a dead run's leftovers and are deleted; this run's own never stay pending.
   Another tree's imports are its own business; one carrying the plugin's tag but no tree mark (an
   earlier version's) is waited for while young and never deleted (the log names it).
2. **One look.** The objects carrying a key this run created are read with tag searches: one per book the
   run created in, or one over everything managed when that is cheaper. No page is read.
3. **The lowest id is kept.** For a key with more than one object, the lowest id wins; a run removes only
   its own losers. Before deleting, it moves out of them what must survive (its own winners, into the
   winner of their parent, then whatever else a losing book or chapter still holds: the other run's
   pages may be there after a torn read), rewrites its surviving pages whose links pointed at a loser,
   and puts the winning books on the winning shelves; a deleted book takes its losing chapters and pages
   with it.
   The other run's losers are that run's to remove: it looks after creating them, so it sees ours (they
   have lower ids, so they were written before its own, and an import of ours was waited for in step 1).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..bookstack import normalise_chapter_id
from ..bookstack.activity import Wait
from ..bookstack.errors import AuthenticationError, BookStackError, NotFoundError, PermissionDeniedError
from ..markdown.content import RefKind
from ..model import API_KIND, KIND_OF_SEARCH_TYPE, SEARCH_TYPE, Action, ActionKind, EntityKind, Outcome, OutcomeStatus
from ..plan.planner import shelf_books_order
from ..plan.remote import RemoteObject
from ..plan.routes import version_allows_import
from ..plan.tags import MANAGED_TAG, TREE_TAG
from .context import ApplyContext, outcome_url
from .writers import page_payload
from .zipbuild import is_tree_mark, tree_mark

log = logging.getLogger("bookstack_sync.settle")

STALE_IMPORT_S = 15 * 60  # an import of this tree pending this long belongs to a run that died
IMPORT_POLL_S = 2.0  # how often another run's pending import is looked at again
IMPORT_WAIT_S = 10 * 60  # the longest wait for another run's imports
_SEARCH_PAGE = 100  # hits per search request

Key = tuple[EntityKind, str]


@dataclass(frozen=True)
class Copy:
    """One object carrying a source key, as a search hit shows it."""

    kind: EntityKind
    key: str
    id: int
    slug: str
    book_id: int | None
    chapter_id: int | None
    tags: tuple[tuple[str, str], ...]


def settle(ctx: ApplyContext, uploaded: Iterable[int], *, imports: bool) -> None:
    """Wait for other runs' imports, remove leftovers, then keep one object per key this run created.

    ``uploaded`` are this run's import ids; ``imports`` says the server and token allow imports. What
    this step writes (duplicates deleted, survivors moved, links rewritten) is recorded in ``ctx.outcomes``.
    """
    outcomes = list(ctx.outcomes)
    created = {
        (o.action.entity, o.action.key): o.remote_id
        for o in outcomes
        if o.status is OutcomeStatus.CREATED and o.remote_id is not None and o.action.entity in API_KIND
    }
    own_uploads = set(uploaded)
    if imports and version_allows_import(ctx.remote.version) and (created or own_uploads):
        _tidy_imports(ctx, own_uploads, wait=bool(created))
    if not created:
        return
    copies = _read_copies(ctx, created)
    _Reconcile(ctx, created, copies, outcomes).run()


# --- imports ---------------------------------------------------------------------------------------


class _Whose(Enum):
    """Whose a pending import is, as far as this tree can tell."""

    THIS_RUN = "this run's"
    THIS_TREE = "this tree's"
    OTHER_TREE = "another docs tree's"
    UNATTRIBUTED = "the plugin's, of no tree it can tell"  # a version before tree marks, or hand-made
    NOT_PLUGIN = "not the plugin's"


def _tidy_imports(ctx: ApplyContext, own: set[int], *, wait: bool) -> None:
    """Delete this run's pending imports and this tree's dead runs' leftovers; with ``wait``, wait until no
    other run of this tree has an import pending (its content becomes visible when it is no longer listed).
    Another tree's imports are neither deleted nor waited for; one the tree cannot attribute is not deleted."""
    client = ctx.client
    whose: dict[int, _Whose] = {}
    started = time.monotonic()
    deadline = started + IMPORT_WAIT_S
    announced: Wait | None = None
    while True:
        try:
            listed = list(client.list("imports"))
        except PermissionDeniedError:
            return  # the token cannot list imports (no content-import): it made none either
        in_flight: list[int] = []
        for item in listed:
            import_id = int(item["id"])
            first_look = import_id not in whose
            if first_look:
                whose[import_id] = _Whose.THIS_RUN if import_id in own else _whose_import(ctx, import_id)
            owner = whose[import_id]
            stale = _age_s(item) > STALE_IMPORT_S
            what = f"pending import {import_id} ({item.get('name')}, uploaded {item.get('created_at')})"
            if owner is _Whose.THIS_RUN or (owner is _Whose.THIS_TREE and stale):
                why = "this run's" if owner is _Whose.THIS_RUN else "left by an earlier run of this tree"
                log.info("deleting %s: %s", what, why)
                _delete(ctx, "imports", import_id)
            elif owner in (_Whose.THIS_TREE, _Whose.UNATTRIBUTED) and not stale:
                in_flight.append(import_id)  # may be another run of this tree creating the same objects
            elif first_look and stale and owner is _Whose.OTHER_TREE:
                log.info("%s is %s: left to it", what, owner.value)
            elif first_look and stale and owner is _Whose.UNATTRIBUTED:
                log.warning(
                    "%s carries the plugin's tag but names no docs tree (made by a version before tree marks, or "
                    "by hand): left alone; delete it in BookStack if no run is using it",
                    what,
                )
        if not in_flight or not wait:
            if announced is not None:
                client.activity.end(announced)
                log.info("the other run's ZIP import(s) finished after %.0f s", time.monotonic() - started)
            return
        if time.monotonic() > deadline:
            message = (
                f"another run's ZIP import(s) {', '.join(map(str, in_flight))} still pending after "
                f"{IMPORT_WAIT_S // 60} minutes; duplicates they create are left to that run"
            )
            ctx.messages.append(message)
            log.warning(message)
            return
        if announced is None:
            # said once; while it lasts the run log's heartbeat says how long is left
            which = f"another run's ZIP import(s) {', '.join(map(str, in_flight))}"
            log.info(
                "waiting up to %.0f s for %s to finish (looking every %.0f s)", IMPORT_WAIT_S, which, IMPORT_POLL_S
            )
            announced = client.activity.waiting(which, deadline - time.monotonic())
        time.sleep(IMPORT_POLL_S)


def _whose_import(ctx: ApplyContext, import_id: int) -> _Whose:
    """From the import's details (BookStack v25.07+ ``ImportApiController::read``: names, ZIP-local ids,
    priorities and tag names, no tag values): the plugin's imports carry the ``bookstack-sync`` tag on their
    book or chapter, and the tree's mark (``zipbuild.tree_mark``) as its ZIP-local id."""
    try:
        details = ctx.client.read("imports", import_id).get("details") or {}
    except NotFoundError:
        return _Whose.NOT_PLUGIN  # gone meanwhile
    if not any(str(tag.get("name")) == MANAGED_TAG for tag in details.get("tags") or []):
        return _Whose.NOT_PLUGIN
    mark = details.get("id")
    if mark == tree_mark(ctx.tree_id):
        return _Whose.THIS_TREE
    if isinstance(mark, int) and is_tree_mark(mark):
        return _Whose.OTHER_TREE
    return _Whose.UNATTRIBUTED


def _age_s(item: dict[str, Any]) -> float:
    try:
        created = dt.datetime.fromisoformat(str(item.get("created_at")))
    except ValueError:
        return 0.0
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return (dt.datetime.now(dt.UTC) - created).total_seconds()


# --- the look ------------------------------------------------------------------------------------------


def _book_of(ctx: ApplyContext, kind: EntityKind, key: str) -> str:
    if kind is EntityKind.PAGE:
        return ctx.desired.pages[key].book_key
    return ctx.desired.chapters[key].book_key


def _read_copies(ctx: ApplyContext, created: dict[Key, int]) -> dict[Key, list[Copy]]:
    """Every object carrying a key this run created, lowest id first, from the cheaper set of searches."""
    managed_now = {
        kind: [o for o in ctx.remote.of(kind).values() if o.key] for kind in API_KIND if kind in ctx.remote.objects
    }
    in_books: dict[str, int] = {}
    for kind, key in created:
        if kind in (EntityKind.CHAPTER, EntityKind.PAGE):
            book = _book_of(ctx, kind, key)
            in_books[book] = in_books.get(book, 0) + 1
    # this tree's copies only: another tree's object with the same key is not a copy of this tree's
    tree = f" [{TREE_TAG}={ctx.tree_id}]" if ctx.tree_id else ""
    queries = [
        f"{{type:{SEARCH_TYPE[kind]}}} [{MANAGED_TAG}]{tree}"
        for kind in (EntityKind.SHELF, EntityKind.BOOK)
        if any(k is kind for k, _ in created)
    ]
    scoped_cost = len(queries)
    for book, count in in_books.items():
        before = sum(
            1
            for kind in (EntityKind.CHAPTER, EntityKind.PAGE)
            for o in managed_now.get(kind, [])
            if (o.key or "").startswith(book + "/")
        )
        scoped_cost += math.ceil((before + count) / _SEARCH_PAGE)
        queries.append(f"[{MANAGED_TAG}like{book}/%]{tree}")
    everything = sum(len(objs) for objs in managed_now.values()) + len(created)
    if math.ceil(everything / _SEARCH_PAGE) <= scoped_cost:
        queries = [f"[{MANAGED_TAG}]{tree}"]
    copies: dict[Key, dict[int, Copy]] = {}
    for query in queries:
        for hit in ctx.client.search(query):
            hit_kind = KIND_OF_SEARCH_TYPE.get(str(hit.get("type")))
            tags = tuple((str(t.get("name")), str(t.get("value") or "")) for t in hit.get("tags", []))
            hit_key = next((value for name, value in tags if name == MANAGED_TAG), None)
            if hit_kind is None or hit_key is None or (hit_kind, hit_key) not in created:
                continue
            book_id = hit.get("book_id")
            copy = Copy(
                hit_kind,
                hit_key,
                int(hit["id"]),
                str(hit.get("slug", "")),
                int(book_id) if book_id is not None else None,
                normalise_chapter_id(hit.get("chapter_id")),
                tags,
            )
            copies.setdefault((hit_kind, hit_key), {})[copy.id] = copy
    return {k: sorted(found.values(), key=lambda c: c.id) for k, found in copies.items()}


# --- the verdict ---------------------------------------------------------------------------------------


class _Reconcile:
    def __init__(
        self, ctx: ApplyContext, created: dict[Key, int], copies: dict[Key, list[Copy]], outcomes: list[Outcome]
    ) -> None:
        self.ctx = ctx
        self.created = created
        self.copies = copies
        self.outcomes = outcomes
        self.losers: dict[Key, int] = {}  # this run's copies that lost -> their id
        self.winners: dict[Key, Copy] = {}
        self.done: list[Outcome] = []

    def run(self) -> None:
        for entity_key, own_id in self.created.items():
            found = self.copies.get(entity_key, [])
            if not found or found[0].id == own_id or all(c.id != own_id for c in found):
                continue  # kept (or gone meanwhile: nothing of ours to remove)
            self.losers[entity_key] = own_id
            self.winners[entity_key] = found[0]
            self.ctx.matching.ids[entity_key] = found[0].id
            if entity_key[0] is not EntityKind.PAGE:
                self.ctx.slugs[entity_key] = found[0].slug
        if not self.losers:
            return
        message = (
            f"another run created the same objects at the same time: {len(self.losers)} of this run's copies "
            "are removed and the other run's (the lowest id) are kept"
        )
        self.ctx.messages.append(message)
        log.warning(message)
        doomed_books = {i for (kind, _), i in self.losers.items() if kind is EntityKind.BOOK}
        doomed_chapters = {i for (kind, _), i in self.losers.items() if kind is EntityKind.CHAPTER}
        self._rescue_chapters(doomed_books)
        self._repair_pages(doomed_books, doomed_chapters)
        kept = self._empty_losers(doomed_books, doomed_chapters)
        self._fix_shelves()
        self._delete_losers(doomed_books, doomed_chapters, kept)

    def _own_copy(self, entity_key: Key) -> Copy | None:
        own = self.created.get(entity_key)
        return next((c for c in self.copies.get(entity_key, []) if c.id == own), None)

    def _guard(self, action: Action, write: Any) -> Outcome:
        outcome: Outcome
        try:
            outcome = write()
        except (AuthenticationError, PermissionDeniedError):
            raise
        except BookStackError as exc:
            log.error("%s %s %s failed: %s", action.kind.value, action.entity.value, action.key, exc)
            outcome = Outcome(action, OutcomeStatus.FAILED, action.remote_id, None, str(exc))
        self.done.append(outcome)
        self.ctx.outcomes.append(outcome)
        if self.ctx.progress is not None:
            self.ctx.progress(outcome)
        return outcome

    def _rescue_chapters(self, doomed_books: set[int]) -> None:
        """This run's chapters that won but sit in a book of ours that lost go to the winning book."""
        for (kind, key), own_id in self.created.items():
            copy = self._own_copy((kind, key))
            if kind is not EntityKind.CHAPTER or (kind, key) in self.losers or copy is None:
                continue
            if copy.book_id not in doomed_books:
                continue
            chapter = self.ctx.desired.chapters[key]
            book_id = self.ctx.matching.id_of(EntityKind.BOOK, chapter.book_key)
            action = Action(ActionKind.MOVE, kind, key, chapter.name, own_id, ("parent",), _DETAIL)

            def move(
                action: Action = action, book_id: int | None = book_id, priority: int = chapter.priority
            ) -> Outcome:
                self.ctx.client.update("chapters", action.remote_id or 0, {"book_id": book_id, "priority": priority})
                return Outcome(action, OutcomeStatus.MOVED, action.remote_id)

            self._guard(action, move)

    def _repair_pages(self, doomed_books: set[int], doomed_chapters: set[int]) -> None:
        """Pages of this run that survive: moved out of a losing container, and written again where a link
        pointed at a copy that lost."""
        lost_pages = {key for kind, key in self.losers if kind is EntityKind.PAGE}
        lost_folders = {key for kind, key in self.losers if kind is not EntityKind.PAGE}
        written = {
            o.action.key: o.remote_id
            for o in [*self.outcomes, *self.done]
            if o.action.entity is EntityKind.PAGE
            and o.remote_id is not None
            and o.status
            in (
                OutcomeStatus.CREATED,
                OutcomeStatus.UPDATED,
                OutcomeStatus.MOVED,
                OutcomeStatus.ADOPTED,
                OutcomeStatus.CLAIMED,
            )
        }
        for key, page_id in sorted(written.items()):
            if (EntityKind.PAGE, key) in self.losers or key not in self.ctx.desired.pages:
                continue
            page = self.ctx.desired.pages[key]
            copy = self._own_copy((EntityKind.PAGE, key))
            stranded = copy is not None and (
                copy.chapter_id in doomed_chapters or (copy.chapter_id is None and copy.book_id in doomed_books)
            )
            folders = {ref.target for ref in page.references if ref.kind is RefKind.FOLDER}
            if not stranded and not (set(page.linked_pages) & lost_pages or folders & lost_folders):
                continue
            action = Action(
                ActionKind.MOVE if stranded else ActionKind.UPDATE,
                EntityKind.PAGE,
                key,
                page.name,
                page_id,
                ("parent", "content") if stranded else ("content",),
                _DETAIL,
            )
            self._guard(
                action, lambda action=action, copy=copy, stranded=stranded: self._write_page(action, copy, stranded)
            )

    def _write_page(self, action: Action, copy: Copy | None, stranded: bool) -> Outcome:
        ctx = self.ctx
        page = ctx.desired.pages[action.key]
        page_id = action.remote_id or 0
        remote = ctx.remote.of(EntityKind.PAGE).get(page_id)
        if remote is None and copy is not None:
            # what the page carries now (its recorded assets), so its images are reused, not uploaded again
            remote = RemoteObject(
                EntityKind.PAGE,
                page_id,
                page.name,
                book_id=copy.book_id,
                chapter_id=copy.chapter_id,
                revision_count=ctx.revisions.get(page_id, 1),
                tags=[{"name": n, "value": v} for n, v in copy.tags],
            )
        payload = page_payload(ctx, page, remote=remote, page_id=page_id, with_parent=stranded)
        payload.pop("_unresolved", None)
        if stranded:
            payload["priority"] = page.priority
        updated = ctx.client.update("pages", page_id, payload)
        ctx.revisions[page_id] = int(updated.get("revision_count") or 0)
        ctx.answered[(EntityKind.PAGE, page_id)] = updated
        status = OutcomeStatus.MOVED if stranded else OutcomeStatus.UPDATED
        return Outcome(action, status, page_id, outcome_url(ctx, f"/link/{page_id}"))

    def _empty_losers(self, doomed_books: set[int], doomed_chapters: set[int]) -> set[tuple[EntityKind, int]]:
        """Whatever is still in a losing book or chapter and is not one of this run's losers goes to the
        winner before the delete takes it along: the other run's objects too. A run whose read of the wiki
        was torn (books listed before the other run's import committed, its pages after) moved the other
        run's pages into its own new book; a person may have put a page there meanwhile. One read per
        losing container, only when there are losers. Returns the losers that could not be emptied: they
        are not deleted (a duplicate is better than a lost page)."""
        losing_pages = {i for (kind, _), i in self.losers.items() if kind is EntityKind.PAGE}
        winner_of = {
            (kind, own_id): self.winners[(kind, key)].id
            for (kind, key), own_id in self.losers.items()
            if kind in (EntityKind.BOOK, EntityKind.CHAPTER)
        }
        names = self._key_by_id()
        not_emptied: set[tuple[EntityKind, int]] = set()
        for (kind, key), own_id in sorted(self.losers.items(), key=lambda item: item[1]):
            copy = self._own_copy((kind, key))
            if kind is EntityKind.BOOK:
                contents = self._read_contents("books", own_id).get("contents") or []
            elif kind is EntityKind.CHAPTER and not (copy is not None and copy.book_id in doomed_books):
                contents = [
                    {
                        "type": "chapter",
                        "id": own_id,
                        "pages": self._read_contents("chapters", own_id).get("pages") or [],
                    }
                ]
            else:
                continue
            for item in contents:
                item_id = int(item["id"])
                if item.get("type") == "chapter" and item_id not in doomed_chapters:
                    target = {"book_id": winner_of[(kind, own_id)]}
                    if not self._move_out(EntityKind.CHAPTER, item_id, names, target):
                        not_emptied.add((kind, own_id))
                    continue
                pages = (item.get("pages") or []) if item.get("type") == "chapter" else [item]
                for page in pages:
                    page_id = int(page["id"])
                    if page_id in losing_pages:
                        continue
                    page_key = names.get((EntityKind.PAGE, page_id))
                    if page_id in self.ctx.revisions and page_key in self.ctx.desired.pages:
                        # this run wrote it: moved to its place with the revision it will have, as an own
                        # winner is (a bare move is an edit too, which the next run would take for a person's)
                        desired = self.ctx.desired.pages[page_key]
                        action = Action(
                            ActionKind.MOVE,
                            EntityKind.PAGE,
                            page_key,
                            desired.name,
                            page_id,
                            ("parent", "content"),
                            _DETAIL,
                        )
                        outcome = self._guard(action, lambda action=action: self._write_page(action, None, True))
                        moved = outcome.status is OutcomeStatus.MOVED
                    elif item.get("type") == "chapter":
                        target = {"chapter_id": winner_of[(EntityKind.CHAPTER, item_id)]}
                        moved = self._move_out(EntityKind.PAGE, page_id, names, target)
                    else:
                        moved = self._move_out(EntityKind.PAGE, page_id, names, {"book_id": winner_of[(kind, own_id)]})
                    if not moved:
                        not_emptied.add((kind, own_id))
                        if item.get("type") == "chapter":
                            not_emptied.add((EntityKind.CHAPTER, item_id))
        return not_emptied

    def _read_contents(self, kind: str, obj_id: int) -> dict[str, Any]:
        try:
            return self.ctx.client.read(kind, obj_id)
        except NotFoundError:
            return {}  # gone meanwhile: nothing left in it to lose

    def _key_by_id(self) -> dict[tuple[EntityKind, int], str]:
        """What this run knows an object by (its key, else its name): for the report of a move."""
        known: dict[tuple[EntityKind, int], str] = {}
        for kind in (EntityKind.CHAPTER, EntityKind.PAGE):
            for obj in self.ctx.remote.of(kind).values() if kind in self.ctx.remote.objects else []:
                known[(kind, obj.id)] = obj.key or obj.name
        for o in [*self.outcomes, *self.done]:
            if o.remote_id is not None:
                known[(o.action.entity, o.remote_id)] = o.action.key
        return known

    def _move_out(
        self, kind: EntityKind, obj_id: int, names: dict[tuple[EntityKind, int], str], target: dict[str, int]
    ) -> bool:
        key = names.get((kind, obj_id), f"{kind.value} {obj_id}")
        action = Action(ActionKind.MOVE, kind, key, key, obj_id, ("parent",), _DETAIL)

        def move() -> Outcome:
            self.ctx.client.update(API_KIND[kind], obj_id, target)  # a move keeps the priority
            return Outcome(action, OutcomeStatus.MOVED, obj_id)

        return self._guard(action, move).status is OutcomeStatus.MOVED

    def _fix_shelves(self) -> None:
        """A winning shelf lists the winning books: written by the run whose shelf or books lost."""
        ctx = self.ctx
        lost_books = {i for (kind, _), i in self.losers.items() if kind is EntityKind.BOOK}
        for shelf in ctx.desired.shelves.values():
            involved = (EntityKind.SHELF, shelf.key) in self.losers or any(
                (EntityKind.BOOK, b) in self.losers for b in shelf.book_keys
            )
            shelf_id = ctx.matching.id_of(EntityKind.SHELF, shelf.key)
            if not involved or shelf_id is None:
                continue
            action = Action(ActionKind.REORDER, EntityKind.SHELF, shelf.key, shelf.name, shelf_id, ("books",), _DETAIL)

            def fix(action: Action = action, book_keys: tuple[str, ...] = shelf.book_keys) -> Outcome:
                shelf_id = action.remote_id or 0
                current = [int(b["id"]) for b in ctx.client.read("shelves", shelf_id).get("books", [])]
                wanted = [i for i in (ctx.matching.id_of(EntityKind.BOOK, k) for k in book_keys) if i is not None]
                books = shelf_books_order(wanted, [i for i in current if i not in lost_books])
                if books == current:
                    return Outcome(action, OutcomeStatus.UNCHANGED, shelf_id)
                ctx.client.update("shelves", shelf_id, {"books": books})
                return Outcome(action, OutcomeStatus.UPDATED, shelf_id)

            self._guard(action, fix)

    def _delete_losers(
        self, doomed_books: set[int], doomed_chapters: set[int], kept: set[tuple[EntityKind, int]]
    ) -> None:
        """This run's losing copies, top-most only: a deleted book takes its chapters and pages along.
        ``kept``: losing books and chapters something could not be moved out of; they stay, with all in them."""
        order = {EntityKind.PAGE: 0, EntityKind.CHAPTER: 1, EntityKind.BOOK: 2, EntityKind.SHELF: 3}
        for (kind, key), own_id in sorted(self.losers.items(), key=lambda item: (order[item[0][0]], item[0][1])):
            copy = self._own_copy((kind, key))
            if copy is not None and (copy.book_id in doomed_books or copy.chapter_id in doomed_chapters):
                continue  # goes with its container
            if (kind, own_id) in kept:
                continue  # left as a duplicate: not everything in it could be moved to the winner
            winner = self.winners[(kind, key)].id
            action = Action(
                ActionKind.DELETE, kind, key, key, own_id, (), f"duplicate made by concurrent runs; id {winner} is kept"
            )

            def delete(action: Action = action, kind: EntityKind = kind) -> Outcome:
                _delete(self.ctx, API_KIND[kind], action.remote_id or 0)
                return Outcome(action, OutcomeStatus.DELETED, action.remote_id)

            self._guard(action, delete)


_DETAIL = "concurrent runs: onto the copy that is kept"


def _delete(ctx: ApplyContext, kind: str, obj_id: int) -> None:
    with contextlib.suppress(NotFoundError):  # already gone
        ctx.client.delete(kind, obj_id)
