"""Apply a plan: parents before children, a new page created with its final content and tags in one
request where its links and assets allow, deletes last (pages, chapters, books, shelves).

Writes run on up to ``concurrency`` threads (the client's shared rate limiter still bounds the rate),
each after what it needs: books before the shelves that list them and the chapters in them, chapters
before their pages, a page after the new pages it links to, a second write of a page after every first
one, deletes level by level. ZIP imports run one at a time, alone (the ids they hand out are predicted).
The outcomes, the ids linked and the final state are those of a serial run; only the order of the log
lines and of the ids BookStack hands out may differ.

A failed action is recorded and the run goes on with what does not depend on it; the next run
finishes the job, because every created object carries its source key from its first request.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import heapq
import logging
import threading
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field, replace
from pathlib import PurePosixPath
from typing import Any, Protocol

from ..bookstack import BookStackClient
from ..bookstack.errors import (
    AmbiguousWriteError,
    AuthenticationError,
    BookStackError,
    PermissionDeniedError,
    PermissionProblem,
)
from ..docs.structure import TEXT_MAX
from ..docs.tree import DocsTree
from ..errors import SyncError
from ..markdown.content import Reference, RefKind, render_page
from ..model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Plan, Route
from ..plan.desired import (
    ASSET_TAG,
    BODY_TAG,
    COMMIT_TAG,
    HASH_TAG,
    MANAGED_TAG,
    REV_TAG,
    RUN_TAG,
    SYNCED_TAG,
    DesiredChapter,
    DesiredPage,
    DesiredState,
)
from ..plan.planner import ImportUnit, Matching, body_hash, page_hash, shelf_books_order
from ..plan.remote import RemoteObject, RemoteState, find_created, read_shelf_books

log = logging.getLogger("bookstack_sync.apply")

_LIST_KIND = {
    EntityKind.SHELF: "shelves",
    EntityKind.BOOK: "books",
    EntityKind.CHAPTER: "chapters",
    EntityKind.PAGE: "pages",
}
EMPTY_PAGE = "<!-- empty page -->"  # BookStack refuses empty markdown on create (422)


@dataclass
class ApplyContext:
    client: BookStackClient
    desired: DesiredState
    remote: RemoteState
    matching: Matching
    tree: DocsTree
    strip_title_heading: bool = True
    forge_markdown: bool = True
    commit: str = ""
    run_id: str = ""  # written as RUN_TAG: a lost answer's lookup takes only this run's objects for its own
    progress: Callable[[Outcome], None] | None = None
    now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
    # filled while applying
    slugs: dict[tuple[EntityKind, str], str] = field(default_factory=dict)
    revisions: dict[int, int] = field(default_factory=dict)  # page id -> revision_count after our last write
    failed_keys: set[tuple[EntityKind, str]] = field(default_factory=set)
    pending_rewrite: set[str] = field(default_factory=set)  # pages written before all their links/assets could be
    sort_rule_books: set[str] = field(default_factory=set)
    messages: list[str] = field(default_factory=list)
    outcomes: list[Outcome] = field(default_factory=list)  # as they happen, so a run that stops keeps them
    refusals_in_a_row: int = 0  # 403s on writes since the last write BookStack took
    stop: BookStackError | None = None  # set when the run must end after recording the current outcome
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # for the checks above, across writes

    def note_once(self, message: str) -> bool:
        """Add a message for people unless it is there already; whether it was added."""
        with self.lock:
            if message in self.messages:
                return False
            self.messages.append(message)
            return True

    def canonical(self, page: DesiredPage) -> str | None:
        """The page's text as its stored hash covers it, with this run's ids and settings."""
        return canonical_markdown(
            page,
            self.matching,
            self.tree,
            self.desired,
            strip_title_heading=self.strip_title_heading,
            forge_markdown=self.forge_markdown,
        )


def unpublished_parent(page_path: str, desired: DesiredState) -> str | None:
    """Where a link to a page that is not published (a draft) goes: its chapter or book, never a dead link."""
    if page_path not in desired.skipped:
        return None
    return page_path.rpartition("/")[0]


class CanonicalResolver:
    """Links to ids known now, assets as content hashes: the form the stored page hash is taken over."""

    def __init__(self, matching: Matching, tree: DocsTree, desired: DesiredState) -> None:
        self.matching = matching
        self.tree = tree
        self.desired = desired

    def page_url(self, page_path: str) -> str | None:
        page_id = self.matching.id_of(EntityKind.PAGE, page_path)
        if page_id is not None:
            return f"/link/{page_id}"
        parent = unpublished_parent(page_path, self.desired)
        return self.folder_url(parent) if parent else None

    def folder_url(self, key: str) -> str | None:
        return f"folder:{key}"

    def image_url(self, asset_path: str) -> str | None:
        asset = self.tree.assets.get(asset_path)
        return f"asset:{asset.sha256[:16]}" if asset else None

    def attachment_url(self, asset_path: str) -> str | None:
        return self.image_url(asset_path)

    def heading_anchor(self, page_path: str, fragment: str) -> str | None:
        return None


def canonical_markdown(
    page: DesiredPage,
    matching: Matching,
    tree: DocsTree,
    desired: DesiredState,
    *,
    strip_title_heading: bool,
    forge_markdown: bool,
) -> str | None:
    rendered = render_page(
        page.source,
        tree,
        CanonicalResolver(matching, tree, desired),
        strip_title_heading=strip_title_heading,
        forge_markdown=forge_markdown,
    )
    if waits_for_pages(rendered.unresolved, desired):
        return None
    return rendered.markdown


def waits_for_pages(unresolved: tuple[Reference, ...], desired: DesiredState) -> bool:
    """Whether a rendering lacks the URL of something this run creates (and so must be written again):
    a page it publishes, a shelf, book or chapter it makes, or the folder standing in for a draft page."""
    containers = desired.shelves.keys() | desired.books.keys() | desired.chapters.keys()
    for ref in unresolved:
        if ref.kind is RefKind.PAGE and (ref.target in desired.pages or ref.target in desired.skipped):
            return True
        if ref.kind is RefKind.FOLDER and ref.target in containers:
            return True
    return False


class WriteResolver:
    """Real URLs for the write: page links by id, folders by slug path, assets from their upload.

    Nothing is built from the address the tool talks to (``url``): in a pipeline that is often an internal
    one (``http://bookstack``) that readers cannot reach. Links are relative to the wiki, or BookStack's own.
    """

    def __init__(self, ctx: ApplyContext, assets: dict[str, str]) -> None:
        self.ctx = ctx
        self.assets = assets

    def page_url(self, page_path: str) -> str | None:
        page_id = self.ctx.matching.id_of(EntityKind.PAGE, page_path)
        if page_id is not None:
            return f"/link/{page_id}"
        parent = unpublished_parent(page_path, self.ctx.desired)
        return self.folder_url(parent) if parent else None

    def folder_url(self, key: str) -> str | None:
        return slug_folder_path(self.ctx.slugs, key)

    def image_url(self, asset_path: str) -> str | None:
        return self.assets.get(asset_path)

    def attachment_url(self, asset_path: str) -> str | None:
        return self.assets.get(asset_path)

    def heading_anchor(self, page_path: str, fragment: str) -> str | None:
        return None


def slug_folder_path(slugs: dict[tuple[EntityKind, str], str], key: str) -> str | None:
    """The path (``/books/<slug>``...) of a shelf, book or chapter by its source key, from the slugs known now."""
    parts = key.split("/")
    if len(parts) == 1:
        slug = slugs.get((EntityKind.SHELF, key))
        return f"/shelves/{slug}" if slug else None
    book_slug = slugs.get((EntityKind.BOOK, "/".join(parts[:2])))
    if not book_slug:
        return None
    if len(parts) == 2:
        return f"/books/{book_slug}"
    chapter_slug = slugs.get((EntityKind.CHAPTER, key))
    return f"/books/{book_slug}/chapter/{chapter_slug}" if chapter_slug else None


def outcome_url(ctx: ApplyContext, path: str | None) -> str | None:
    """The address a report gives for an object: its path on BookStack's own address (APP_URL, what
    readers of a pull request comment can open), else on the address the plugin uses."""
    return f"{ctx.remote.app_url or ctx.client.base_url}{path}" if path is not None else None


def _tags(pairs: list[tuple[str, str]]) -> list[dict[str, str]]:
    return [{"name": name, "value": value} for name, value in pairs]


@dataclass(frozen=True)
class ImportResult:
    """What one ZIP import did: outcomes of what it created, and what must still be created per object."""

    outcomes: tuple[Outcome, ...] = ()
    fallback: tuple[Action, ...] = ()  # route=API now; their detail says why
    follow_ups: tuple[Action, ...] = ()  # writes the import could not do (a page's priority), done with the pages


class Importer(Protocol):
    """Carries out the creates of one import unit (``zipimport.ZipImporter``)."""

    def run(self, ctx: ApplyContext, unit: ImportUnit, actions: list[Action]) -> ImportResult: ...


def apply_plan(plan: Plan, ctx: ApplyContext, importer: Importer | None = None) -> list[Outcome]:
    """Carry out ``plan``. Returns one outcome per action (unchanged ones included).

    Order: books, then ZIP imports (their books need nothing; a chapter import needs its book), shelves
    (their book lists need the books' ids), chapters, pages, pages that waited for a link target, deletes.
    """
    for obj in ctx.remote.of(EntityKind.SHELF).values():
        ctx.slugs[(EntityKind.SHELF, obj.key or f"#{obj.id}")] = obj.slug
    _remember_slugs(ctx)
    outcomes = ctx.outcomes
    by_entity: dict[EntityKind, list[Action]] = {kind: [] for kind in EntityKind}
    for action in plan.actions:
        if action.route is not Route.IMPORT:
            by_entity[action.entity].append(action)

    def record(outcome: Outcome) -> None:
        outcomes.append(outcome)
        if ctx.progress is not None:
            ctx.progress(outcome)
        if ctx.stop is not None:
            raise ctx.stop

    deletes = [a for a in plan.actions if a.kind is ActionKind.DELETE]
    _run_steps(
        ctx, [Step(a, _apply_book) for a in by_entity[EntityKind.BOOK] if a.kind is not ActionKind.DELETE], record
    )
    imported: list[Action] = []
    for unit, unit_actions in _import_order(ctx, plan):
        if importer is None:
            result = ImportResult(fallback=tuple(replace(a, route=Route.API) for a in unit_actions))
        else:
            result = importer.run(ctx, unit, unit_actions)
        for outcome in result.outcomes:
            record(outcome)
            if outcome.action.entity is EntityKind.PAGE and outcome.status is OutcomeStatus.CREATED:
                imported.append(outcome.action)
        by_entity[EntityKind.PAGE].extend(result.follow_ups)
        for action in result.fallback:
            if action.entity is EntityKind.BOOK:
                record(_guarded(ctx, action, _apply_book))  # before the shelves, which list it
            else:
                by_entity[action.entity].append(action)
    # shelves and chapters need only the books, which are all written now
    containers = [Step(a, _apply_shelf) for a in by_entity[EntityKind.SHELF] if a.kind is not ActionKind.DELETE]
    containers += [Step(a, _apply_chapter) for a in by_entity[EntityKind.CHAPTER] if a.kind is not ActionKind.DELETE]
    _run_steps(ctx, containers, record)
    second_pass = _apply_pages(ctx, [a for a in by_entity[EntityKind.PAGE] if a.kind is not ActionKind.DELETE], record)
    # imported before a page it links to had an id: one more write now that every id is known
    second_pass += [a for a in imported if a.key in ctx.pending_rewrite]
    _run_steps(ctx, [Step(a, _rewrite_page, failures_only=True) for a in second_pass], record)
    order = {
        EntityKind.PAGE: 0,
        EntityKind.ATTACHMENT: 0,
        EntityKind.IMAGE: 0,
        EntityKind.CHAPTER: 1,
        EntityKind.BOOK: 2,
        EntityKind.SHELF: 3,
    }
    for level in sorted(set(order.values())):
        level_deletes = [a for a in deletes if order[a.entity] == level]
        _run_steps(ctx, [Step(a, _apply_delete) for a in level_deletes], record)
    return outcomes


@dataclass(frozen=True)
class Step:
    """One action to carry out, after the steps of the same batch whose positions ``after`` names."""

    action: Action
    handler: Handler
    after: tuple[int, ...] = ()
    failures_only: bool = False  # a second write: its outcome is reported only when it fails


def _run_steps(ctx: ApplyContext, steps: list[Step], record: Callable[[Outcome], None]) -> list[Outcome | None]:
    """Carry out ``steps`` on up to ``concurrency`` threads, each once the steps it waits for are done;
    returns their outcomes by position (None: not reached). Each outcome is recorded when it comes,
    from this thread; the batch's outcomes then stand in step order, as a serial run leaves them.

    The first error that stops the run (a refused token, a bug, ``ctx.stop``) stops new steps; the ones
    running finish and are recorded (BookStack did them), then the error is raised.
    """
    results: list[Outcome | None] = [None] * len(steps)
    start = len(ctx.outcomes)
    position: dict[int, int] = {}

    def finish(index: int, outcome: Outcome) -> None:
        results[index] = outcome
        if steps[index].failures_only and outcome.status is not OutcomeStatus.FAILED:
            return
        position[id(outcome)] = index
        record(outcome)

    try:
        if ctx.client.concurrency <= 1 or len(steps) <= 1:
            for index, step in enumerate(steps):  # steps only ever wait for earlier ones
                finish(index, _guarded(ctx, step.action, step.handler))
        else:
            _run_parallel(ctx, steps, finish)
    finally:
        batch = ctx.outcomes[start:]
        batch.sort(key=lambda outcome: position.get(id(outcome), len(steps)))
        ctx.outcomes[start:] = batch
    return results


def _books_written(ctx: ApplyContext, action: Action) -> frozenset[str]:
    """The books whose content permissions BookStack rebuilds for this write, by id where the book exists.

    Every create, update or move of a book, chapter or page deletes and re-inserts the joint permissions
    of its book in two transactions (``JointPermissionBuilder::rebuildForEntity``); two such writes in one
    book at once can collide (HTTP 500 "Duplicate entry" on v25.02, BookStack issue #4838) and leave an
    object, or the whole book, without permissions: invisible. A shelf write claims every book:
    BookStack keeps only the books visible at that instant (``BookshelfRepo::updateBooks``), so a book whose
    permissions are being rebuilt would silently drop off the shelf. Images, attachments and deletes
    rebuild nothing of a book.
    """
    books = ctx.remote.of(EntityKind.BOOK)

    def by_key(book_key: str) -> str:
        book_id = ctx.matching.ids.get((EntityKind.BOOK, book_key))
        return f"id:{book_id}" if book_id is not None else f"key:{book_key}"

    if action.kind is ActionKind.DELETE:
        return frozenset()
    if action.entity is EntityKind.BOOK:
        return frozenset({f"id:{action.remote_id}" if action.remote_id is not None else f"key:{action.key}"})
    if action.entity is EntityKind.SHELF:
        # every book, not only the listed ones: shelf writes are few, and no book can slip past the claim
        return frozenset({by_key(book_key) for book_key in ctx.desired.books} | {f"id:{i}" for i in books})
    desired: DesiredPage | DesiredChapter | None = None
    if action.entity is EntityKind.PAGE:
        desired = ctx.desired.pages.get(action.key)
    elif action.entity is EntityKind.CHAPTER:
        desired = ctx.desired.chapters.get(action.key)
    else:
        return frozenset()
    written = {by_key(desired.book_key)} if desired is not None else set()
    current = ctx.remote.of(action.entity).get(action.remote_id) if action.remote_id is not None else None
    if current is not None and current.book_id is not None and current.book_id in books:
        written.add(f"id:{current.book_id}")  # a move rebuilds the book it leaves too
    return frozenset(written)


def _run_parallel(ctx: ApplyContext, steps: list[Step], finish: Callable[[int, Outcome], None]) -> None:
    """Steps run side by side, but never two that write in the same book (see ``_books_written``)."""
    books = [_books_written(ctx, step.action) for step in steps]
    busy: set[str] = set()
    waiting = {index: set(step.after) for index, step in enumerate(steps)}
    dependents: dict[int, list[int]] = {}
    for index, step in enumerate(steps):
        for earlier in step.after:
            dependents.setdefault(earlier, []).append(index)
    ready = [index for index, wanted in waiting.items() if not wanted]
    heapq.heapify(ready)  # the earliest ready step first, as a serial run would take them
    running: dict[Future[Outcome], int] = {}
    error: BaseException | None = None
    limit = ctx.client.concurrency
    with ThreadPoolExecutor(max_workers=limit, thread_name_prefix="bookstack-write") as pool:
        while ready or running:
            held_back: list[int] = []
            while ready and error is None and len(running) < limit:
                index = heapq.heappop(ready)
                if books[index] & busy:
                    held_back.append(index)  # its book is being written: after that write
                    continue
                busy.update(books[index])
                running[pool.submit(_guarded, ctx, steps[index].action, steps[index].handler)] = index
            for index in held_back:
                heapq.heappush(ready, index)
            if not running:
                break
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in sorted(done, key=lambda f: running[f]):
                index = running.pop(future)
                busy.difference_update(books[index])
                try:
                    finish(index, future.result())
                except BaseException as exc:  # noqa: BLE001 - kept, raised once the running steps are done
                    error = error or exc
                    continue
                for later in dependents.get(index, []):
                    waiting[later].discard(index)
                    if not waiting[later]:
                        heapq.heappush(ready, later)
            if error is not None:
                ready.clear()
    if error is not None:
        raise error


def _import_order(ctx: ApplyContext, plan: Plan) -> list[tuple[ImportUnit, list[Action]]]:
    """The import units with their actions, link targets first where the links allow it (as pages are),
    and a book's own import before the imports of its other chapters."""
    units = ctx.matching.import_units
    if not units:
        return []
    routed = {(a.entity, a.key): a for a in plan.actions if a.route is Route.IMPORT}
    unit_of_page = {key: n for n, unit in enumerate(units) for key in unit.page_keys}
    book_unit = {unit.key: n for n, unit in enumerate(units) if unit.kind is EntityKind.BOOK}
    ordered: list[int] = []
    placed: set[int] = set()

    def place(n: int, trail: frozenset[int]) -> None:
        if n in placed or n in trail:
            return
        unit = units[n]
        if unit.kind is EntityKind.CHAPTER:
            parent = book_unit.get(ctx.desired.chapters[unit.key].book_key)
            if parent is not None:
                place(parent, trail | {n})
        for key in unit.page_keys:
            for target in ctx.desired.pages[key].linked_pages:
                other = unit_of_page.get(target)
                if other is not None and other != n:
                    place(other, trail | {n})
        placed.add(n)
        ordered.append(n)

    for n in range(len(units)):
        place(n, frozenset())
    result = []
    for n in ordered:
        unit = units[n]
        keys = [(unit.kind, unit.key)]
        keys += [(EntityKind.CHAPTER, c) for c in unit.chapter_keys]
        keys += [(EntityKind.PAGE, p) for p in unit.page_keys]
        result.append((unit, [routed[k] for k in keys if k in routed]))
    return result


def _remember_slugs(ctx: ApplyContext) -> None:
    for kind in (EntityKind.SHELF, EntityKind.BOOK, EntityKind.CHAPTER):
        for obj in ctx.remote.of(kind).values():
            if obj.key:
                ctx.slugs[(kind, obj.key)] = obj.slug
    for (kind, key), obj_id in ctx.matching.ids.items():
        matched = ctx.remote.of(kind).get(obj_id)
        if matched is not None:
            ctx.slugs[(kind, key)] = matched.slug


Handler = Callable[[ApplyContext, Action], Outcome]

_NOT_WRITTEN = {
    ActionKind.UNCHANGED: OutcomeStatus.UNCHANGED,
    ActionKind.ORPHAN: OutcomeStatus.ORPHAN,
    ActionKind.SKIP: OutcomeStatus.SKIPPED,
}


REFUSALS_TO_STOP = 10
"""This many writes refused (403) in a row, none taken in between: the token's role lacks the
permission altogether, and trying every other object would only fill the log."""


def _guarded(ctx: ApplyContext, action: Action, handler: Handler) -> Outcome:
    """Run one action; a BookStack error fails this action only. A refused token stops the run, and so
    do ``REFUSALS_TO_STOP`` refused writes in a row; one item the token may not change (an entity
    permission) fails alone."""
    if action.kind in _NOT_WRITTEN or action.kind is ActionKind.DRIFT:
        return Outcome(action, resting_status(action.kind), action.remote_id, _url(ctx, action.entity, action.key))
    try:
        outcome = handler(ctx, action)
    except AuthenticationError:
        raise
    except BookStackError as exc:
        if isinstance(exc, PermissionDeniedError):
            if exc.reason is not PermissionProblem.ACTION_NOT_PERMITTED:
                raise
            ctx.refusals_in_a_row += 1
            if ctx.refusals_in_a_row >= REFUSALS_TO_STOP:
                ctx.stop = PermissionDeniedError(
                    f"BookStack refused {ctx.refusals_in_a_row} writes in a row, the last {exc.message}",
                    hint=exc.hint,
                    reason=exc.reason,
                    method=exc.method,
                    path=exc.path,
                    status=exc.status,
                    server_message=exc.server_message,
                )
        ctx.failed_keys.add((action.entity, action.key))
        log.error("%s %s %s failed: %s", action.kind.value, action.entity.value, action.key, exc)
        return Outcome(action, OutcomeStatus.FAILED, action.remote_id, None, str(exc))
    ctx.refusals_in_a_row = 0
    return outcome


def resting_status(kind: ActionKind) -> OutcomeStatus:
    """The outcome of an action that writes nothing (unchanged, orphan, skip, drift left alone)."""
    return OutcomeStatus.DRIFT if kind is ActionKind.DRIFT else _NOT_WRITTEN[kind]


def unreached_outcomes(plan: Plan, done: list[Outcome], why: str) -> list[Outcome]:
    """For a run that stopped: every planned action without an outcome yet — writes as not attempted
    (``why`` says why), the rest as what they are (unchanged, orphan...)."""
    seen = {(o.action.entity, o.action.key, o.action.remote_id) for o in done}
    missing = [a for a in plan.actions if (a.entity, a.key, a.remote_id) not in seen]
    return [
        Outcome(a, OutcomeStatus.NOT_ATTEMPTED, a.remote_id, None, why)
        if a.kind.writes
        else Outcome(a, resting_status(a.kind), a.remote_id)
        for a in missing
    ]


def _url(ctx: ApplyContext, kind: EntityKind, key: str) -> str | None:
    if kind is EntityKind.PAGE:
        page_id = ctx.matching.id_of(kind, key)
        return outcome_url(ctx, f"/link/{page_id}" if page_id is not None else None)
    return outcome_url(ctx, slug_folder_path(ctx.slugs, key))


def _create_or_find(ctx: ApplyContext, kind: EntityKind, key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST a create; if the answer was lost, look for what the POST may have made before trying again."""
    list_kind = _LIST_KIND[kind]
    try:
        return ctx.client.create(list_kind, payload)
    except AmbiguousWriteError:
        hit = find_created(ctx.client, kind, key, ctx.run_id)
        if hit is not None:
            log.warning("a create of %s %s lost its answer but had happened; using id %s", kind.value, key, hit["id"])
            return ctx.client.read(list_kind, int(hit["id"]))
        return ctx.client.create(list_kind, payload)


def _container_outcome(
    ctx: ApplyContext, action: Action, kind: EntityKind, key: str, payload: dict[str, Any]
) -> Outcome:
    if action.kind is ActionKind.CREATE:
        if ctx.run_id:
            payload["tags"] = [*payload.get("tags", []), {"name": RUN_TAG, "value": ctx.run_id}]
        created = _create_or_find(ctx, kind, key, payload)
        ctx.matching.ids[(kind, key)] = int(created["id"])
        ctx.slugs[(kind, key)] = str(created.get("slug", ""))
        return Outcome(action, OutcomeStatus.CREATED, int(created["id"]), _url(ctx, kind, key))
    assert action.remote_id is not None
    updated = ctx.client.update(_LIST_KIND[kind], action.remote_id, payload)
    ctx.slugs[(kind, key)] = str(updated.get("slug", ctx.slugs.get((kind, key), "")))
    status = {ActionKind.ADOPT: OutcomeStatus.ADOPTED, ActionKind.MOVE: OutcomeStatus.MOVED}.get(
        action.kind, OutcomeStatus.UPDATED
    )
    return Outcome(action, status, action.remote_id, _url(ctx, kind, key))


def _container_payload(
    action: Action, name: str, description: str, key: str, remote: RemoteObject | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if action.kind is ActionKind.CREATE or "name" in action.changes:
        payload["name"] = name
    if action.kind is ActionKind.CREATE or "description" in action.changes:
        payload["description"] = description
    if action.kind in (ActionKind.CREATE, ActionKind.ADOPT) or "key" in action.changes:
        # adopting keeps the object's own tags and adds ours; a renamed or moved one gets its new key
        kept = remote.user_tags() if remote is not None else []
        payload["tags"] = _tags([*kept, (MANAGED_TAG, key)])
    return payload


def _apply_book(ctx: ApplyContext, action: Action) -> Outcome:
    book = ctx.desired.books[action.key]
    remote = ctx.remote.of(EntityKind.BOOK).get(action.remote_id or -1)
    return _container_outcome(
        ctx,
        action,
        EntityKind.BOOK,
        book.key,
        _container_payload(action, book.name, book.description, book.key, remote),
    )


def _apply_shelf(ctx: ApplyContext, action: Action) -> Outcome:
    if action.key not in ctx.desired.shelves:
        return _release_books(ctx, action)
    shelf = ctx.desired.shelves[action.key]
    remote = ctx.remote.of(EntityKind.SHELF).get(action.remote_id or -1)
    payload = _container_payload(action, shelf.name, shelf.description, shelf.key, remote)
    managed_ids = [ctx.matching.id_of(EntityKind.BOOK, key) for key in shelf.book_keys]
    wanted = [book_id for book_id in managed_ids if book_id is not None]
    # a shelf continuing another key was not read with the others when its name changed too: read it now
    current = read_shelf_books(ctx.client, ctx.remote, action.remote_id) if action.remote_id else []
    books = shelf_books_order(wanted, current, ctx.matching.leaving.get(action.remote_id or -1))
    if books != current or action.kind is ActionKind.CREATE:
        payload["books"] = books  # the whole list: BookStack replaces it (no attach endpoint exists)
    if not payload:  # the list the plan could not see was right already
        return Outcome(action, OutcomeStatus.UNCHANGED, action.remote_id, _url(ctx, EntityKind.SHELF, shelf.key))
    return _container_outcome(ctx, action, EntityKind.SHELF, shelf.key, payload)


def _release_books(ctx: ApplyContext, action: Action) -> Outcome:
    """A managed shelf gone from the structure lets go of the books that moved to other shelves (its list
    was not read with the others: one read here)."""
    assert action.remote_id is not None
    current = read_shelf_books(ctx.client, ctx.remote, action.remote_id)
    books = shelf_books_order([], current, ctx.matching.leaving.get(action.remote_id))
    if books == current:
        return Outcome(action, OutcomeStatus.UNCHANGED, action.remote_id)
    ctx.client.update("shelves", action.remote_id, {"books": books})
    return Outcome(action, OutcomeStatus.UPDATED, action.remote_id)


def _apply_chapter(ctx: ApplyContext, action: Action) -> Outcome:
    chapter = ctx.desired.chapters[action.key]
    book_id = ctx.matching.id_of(EntityKind.BOOK, chapter.book_key)
    if book_id is None:
        raise _ParentMissing(f"book {chapter.book_key} was not created")
    remote = ctx.remote.of(EntityKind.CHAPTER).get(action.remote_id or -1)
    payload = _container_payload(action, chapter.name, chapter.description, chapter.key, remote)
    if action.kind is ActionKind.CREATE or "priority" in action.changes:
        payload["priority"] = chapter.priority
    if action.kind is ActionKind.CREATE or "parent" in action.changes:
        payload["book_id"] = book_id
    return _container_outcome(ctx, action, EntityKind.CHAPTER, chapter.key, payload)


class _ParentMissing(BookStackError):
    """A parent failed earlier in this run, so this child cannot be written now (the next run will)."""


def _apply_delete(ctx: ApplyContext, action: Action) -> Outcome:
    assert action.remote_id is not None
    if action.entity in (EntityKind.CHAPTER, EntityKind.BOOK):
        foreign = _unmanaged_inside(ctx.remote, action.entity, action.remote_id)
        if foreign:
            detail = f"kept: it holds {foreign} that bookstack-sync did not create"
            return Outcome(
                Action(ActionKind.ORPHAN, action.entity, action.key, action.name, action.remote_id, (), detail),
                OutcomeStatus.ORPHAN,
                action.remote_id,
            )
    ctx.client.delete(_LIST_KIND[action.entity], action.remote_id)
    return Outcome(action, OutcomeStatus.DELETED, action.remote_id)


def _unmanaged_inside(remote: RemoteState, kind: EntityKind, obj_id: int) -> str:
    if kind is EntityKind.CHAPTER:
        pages = [p for p in remote.of(EntityKind.PAGE).values() if p.chapter_id == obj_id and not p.key]
        return f"{len(pages)} page(s)" if pages else ""
    pages = [p for p in remote.of(EntityKind.PAGE).values() if p.book_id == obj_id and not p.key]
    chapters = [c for c in remote.of(EntityKind.CHAPTER).values() if c.book_id == obj_id and not c.key]
    if pages or chapters:
        return f"{len(pages)} page(s) and {len(chapters)} chapter(s)"
    return ""


# --- pages ----------------------------------------------------------------------------------------


def _apply_pages(ctx: ApplyContext, actions: list[Action], record: Callable[[Outcome], None]) -> list[Action]:
    """The first write of each page; returns the pages that need a second one (a link or asset that
    had no URL yet). Each outcome is recorded as soon as it is known."""
    writes = [a for a in actions if a.kind.writes]
    others = [a for a in actions if not a.kind.writes]
    for action in others:
        record(_guarded(ctx, action, _apply_page))
    # creates first, targets of links before the pages that link to them, so most pages are
    # written once with every link resolved
    creates = {a.key: a for a in writes if a.kind is ActionKind.CREATE}
    ordered: list[Action] = []
    placed: set[str] = set()

    def place(key: str, trail: set[str]) -> None:
        if key in placed or key in trail:
            return
        for target in ctx.desired.pages[key].linked_pages:
            if target in creates:
                place(target, trail | {key})
        placed.add(key)
        ordered.append(creates[key])

    for key in sorted(creates):
        place(key, set())
    ordered.extend(a for a in writes if a.kind is not ActionKind.CREATE)
    # a page waits for the creates of the pages it links to that come before it (a link cycle is
    # broken where the order puts it, as in a serial run)
    create_step = {a.key: n for n, a in enumerate(ordered) if a.kind is ActionKind.CREATE}
    steps = []
    for n, action in enumerate(ordered):
        targets = ctx.desired.pages[action.key].linked_pages
        after = tuple(sorted({create_step[t] for t in targets if t in create_step and create_step[t] < n}))
        steps.append(Step(action, _apply_page, after))
    results = _run_steps(ctx, steps, record)
    return [
        action
        for action, outcome in zip(ordered, results, strict=True)
        if outcome is not None and outcome.status is not OutcomeStatus.FAILED and action.key in ctx.pending_rewrite
    ]


def _apply_page(ctx: ApplyContext, action: Action) -> Outcome:
    page = ctx.desired.pages[action.key]
    book_id = ctx.matching.id_of(EntityKind.BOOK, page.book_key)
    chapter_id = ctx.matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
    if book_id is None or (page.chapter_key and chapter_id is None):
        raise _ParentMissing(f"its {'chapter' if page.chapter_key else 'book'} could not be written in this run")
    remote = ctx.remote.of(EntityKind.PAGE).get(action.remote_id or -1)
    if action.kind is ActionKind.CREATE:
        payload = page_payload(ctx, page, remote=None, page_id=None, with_parent=True)
        payload["priority"] = page.priority
        created = _create_or_find(ctx, EntityKind.PAGE, page.key, payload)
        page_id = int(created["id"])
        ctx.matching.ids[(EntityKind.PAGE, page.key)] = page_id
        ctx.revisions[page_id] = int(created.get("revision_count") or 1)
        _check_editor(ctx, created)
        _check_priority(ctx, page, payload, created)
        if payload.pop("_unresolved", False):
            ctx.pending_rewrite.add(page.key)
        return Outcome(action, OutcomeStatus.CREATED, page_id, _url(ctx, EntityKind.PAGE, page.key))
    assert action.remote_id is not None and remote is not None
    with_parent = "parent" in action.changes
    if action.kind is ActionKind.ADOPT and not {"content", "name", "parent"} & set(action.changes):
        payload = _adoption_tags(ctx, page, remote)
    else:
        payload = page_payload(ctx, page, remote=remote, page_id=action.remote_id, with_parent=with_parent)
    if "priority" in action.changes or action.kind is ActionKind.REORDER:
        payload["priority"] = page.priority
    if payload.pop("_unresolved", False):
        ctx.pending_rewrite.add(page.key)
    updated = ctx.client.update("pages", action.remote_id, payload)
    ctx.revisions[action.remote_id] = int(updated.get("revision_count") or 0)
    _check_editor(ctx, updated)
    _check_priority(ctx, page, payload, updated)
    status = {ActionKind.ADOPT: OutcomeStatus.ADOPTED, ActionKind.MOVE: OutcomeStatus.MOVED}.get(
        action.kind, OutcomeStatus.UPDATED
    )
    return Outcome(action, status, action.remote_id, _url(ctx, EntityKind.PAGE, page.key))


def _rewrite_page(ctx: ApplyContext, action: Action) -> Outcome:
    """The second write of a page whose first write could not resolve every link or asset."""
    page = ctx.desired.pages[action.key]
    page_id = ctx.matching.id_of(EntityKind.PAGE, page.key)
    assert page_id is not None
    ctx.pending_rewrite.discard(page.key)
    remote = ctx.remote.of(EntityKind.PAGE).get(page_id)
    payload = page_payload(ctx, page, remote=remote, page_id=page_id, with_parent=False)
    payload.pop("_unresolved", None)
    updated = ctx.client.update("pages", page_id, payload)
    ctx.revisions[page_id] = int(updated.get("revision_count") or 0)
    return Outcome(action, OutcomeStatus.UPDATED, page_id, _url(ctx, EntityKind.PAGE, page.key))


def page_payload(
    ctx: ApplyContext, page: DesiredPage, *, remote: RemoteObject | None, page_id: int | None, with_parent: bool
) -> dict[str, Any]:
    assets: dict[str, str] = {}
    asset_tags: list[tuple[str, str]] = []
    unresolved = False
    if page.assets:
        if page_id is None:
            unresolved = True  # uploads need the page to exist: create first, then upload and rewrite
        else:
            assets, asset_tags = _sync_assets(ctx, page, page_id, remote)
    rendered = render_page(
        page.source,
        ctx.tree,
        WriteResolver(ctx, assets),
        strip_title_heading=ctx.strip_title_heading,
        forge_markdown=ctx.forge_markdown,
    )
    if waits_for_pages(rendered.unresolved, ctx.desired):
        unresolved = True
    canonical = ctx.canonical(page)
    settled = canonical if canonical is not None and not unresolved else None
    content_hash = page_hash(page, settled, page.parent_key) if settled is not None else "pending"
    if page_id is None:
        revision = 1
    else:
        current = ctx.revisions.get(page_id, remote.revision_count if remote else 0)
        revision = current + 1
    body = body_hash(settled) if settled is not None else ""
    tags = page_write_tags(ctx, page, content_hash, revision, asset_tags, body=body)
    payload: dict[str, Any] = {"name": page.name, "markdown": rendered.markdown or EMPTY_PAGE, "tags": _tags(tags)}
    if with_parent:
        # only the parent key that should change: `book_id` alone would pull a page out of its chapter
        chapter_id = ctx.matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
        if chapter_id is not None:
            payload["chapter_id"] = chapter_id
        else:
            payload["book_id"] = ctx.matching.id_of(EntityKind.BOOK, page.book_key)
    for warning in rendered.warnings:
        log.warning("%s: %s", page.key, warning)
    if unresolved:
        payload["_unresolved"] = True
    return payload


def _adoption_tags(ctx: ApplyContext, page: DesiredPage, remote: RemoteObject) -> dict[str, Any]:
    """Adopting a page whose text BookStack already holds (``verify.check_adopted_contents``): only the
    tags, with the hash of the git rendering and the page's images and attachments recorded as
    uploaded, so BookStack keeps its text and files and the next sync finds nothing to do."""
    canonical = ctx.canonical(page)
    content_hash = page_hash(page, canonical, page.parent_key) if canonical is not None else "pending"
    revision = ctx.revisions.get(remote.id, remote.revision_count) + 1
    assets = [asset_tag(ref, ctx.tree.assets[ref.target].sha256) for ref in page.assets]
    return {"tags": _tags(page_write_tags(ctx, page, content_hash, revision, assets))}


def page_write_tags(
    ctx: ApplyContext,
    page: DesiredPage,
    content_hash: str,
    revision: int,
    asset_tags: list[tuple[str, str]],
    *,
    body: str = "",
) -> list[tuple[str, str]]:
    """The tags a page is written with, in order: the user's, then ours (the same on both routes).
    ``body`` is the body hash, empty while the page waits for a link target's id."""
    tags = [
        *list(page.tags),
        (MANAGED_TAG, page.key),
        (HASH_TAG, content_hash),
        *([(BODY_TAG, body)] if body else []),
        (REV_TAG, str(revision)),
        (SYNCED_TAG, ctx.now().strftime("%Y-%m-%dT%H:%M:%SZ")),
    ]
    if ctx.commit:
        tags.append((COMMIT_TAG, ctx.commit[:12]))
    if ctx.run_id:
        tags.append((RUN_TAG, ctx.run_id))
    tags.extend(asset_tags)
    return tags


def asset_tag(ref: Reference, sha: str) -> tuple[str, str]:
    return (ASSET_TAG, f"{sha[:12]} {asset_record(ref.target)}")


def asset_record(target: str) -> str:
    """How an asset's path is written in its tag after the 12-character sha: whole when it fits BookStack's
    191-character column, else its head and a hash of the whole path — stable, unique, never cut."""
    room = TEXT_MAX - 13
    if len(target) <= room:
        return target
    digest = hashlib.sha256(target.encode()).hexdigest()[:16]
    return f"{target[: room - 17]}#{digest}"


def asset_name(page: DesiredPage, ref: Reference) -> str:
    """The name an upload gets in BookStack: its path relative to the page's folder (unique per page)."""
    folder = PurePosixPath(page.key).parent
    try:
        name = PurePosixPath(ref.target).relative_to(folder).as_posix()
    except ValueError:
        name = ref.target
    return name[-180:]  # BookStack's limit on image names


def _sync_assets(
    ctx: ApplyContext, page: DesiredPage, page_id: int, remote: RemoteObject | None
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Upload new or changed images/attachments of one page; reuse unchanged ones. Returns URLs and tags."""
    recorded = remote.recorded_assets() if remote is not None else {}
    refs = page.assets
    images = (
        {str(i["name"]): i for i in ctx.client.list("image-gallery", filters={"uploaded_to": page_id})}
        if any(r.kind is RefKind.IMAGE for r in refs)
        else {}
    )
    files = (
        {str(a["name"]): a for a in ctx.client.list("attachments", filters={"uploaded_to": page_id})}
        if any(r.kind is RefKind.ATTACHMENT for r in refs)
        else {}
    )
    urls: dict[str, str] = {}
    tags: list[tuple[str, str]] = []
    for ref in refs:
        asset = ctx.tree.assets[ref.target]
        sha = asset.sha256[:12]
        name = asset_name(page, ref)
        unchanged = recorded.get(asset_record(ref.target)) == sha
        data = b"" if unchanged else asset.file.read_bytes()
        filename = PurePosixPath(ref.target).name
        if ref.kind is RefKind.IMAGE:
            existing = images.get(name)
            if existing is not None and unchanged:
                urls[ref.target] = str(existing["url"])
            elif existing is not None:
                urls[ref.target] = str(ctx.client.replace_image(int(existing["id"]), filename, data, name=name)["url"])
            else:
                data = data or asset.file.read_bytes()
                urls[ref.target] = str(ctx.client.upload_image(page_id, filename, data, name=name)["url"])
        else:
            existing = files.get(name)
            if existing is not None and unchanged:
                attachment_id = int(existing["id"])
            elif existing is not None:
                attachment_id = int(
                    ctx.client.update_attachment(int(existing["id"]), name=name, filename=filename, data=data)["id"]
                )
            else:
                data = data or asset.file.read_bytes()
                attachment_id = int(ctx.client.create_attachment(page_id, name, filename=filename, data=data)["id"])
            urls[ref.target] = f"/attachments/{attachment_id}"
        tags.append(asset_tag(ref, sha))
    return urls, tags


def _check_editor(ctx: ApplyContext, page: dict[str, Any]) -> None:
    editor = page.get("editor")
    message = (
        "pages come back from BookStack with a non-markdown editor: the token's role lacks the "
        '"Change page editor" permission, so the first person to edit a page in BookStack would turn it into HTML'
    )
    if editor and editor != "markdown" and ctx.note_once(message):
        log.warning(message)


def _check_priority(ctx: ApplyContext, page: DesiredPage, payload: dict[str, Any], answer: dict[str, Any]) -> None:
    """A book with an automatic sort rule renumbers priorities after every write (BookStack §8)."""
    sent = payload.get("priority")
    if sent is None or answer.get("priority") in (None, sent):
        return
    with ctx.lock:
        if page.book_key in ctx.sort_rule_books:
            return
        ctx.sort_rule_books.add(page.book_key)
    book = ctx.desired.books[page.book_key].name
    message = f"book {book!r} seems to have an automatic sort rule: BookStack overrides the page order set from `order`"
    if ctx.note_once(message):
        log.warning(message)


def check_drift_policy(plan: Plan) -> None:
    """``on_drift: fail``: refuse before writing anything."""
    drifted = [a for a in plan.actions if a.kind is ActionKind.DRIFT]
    if drifted:
        names = ", ".join(a.key for a in drifted[:10])
        raise SyncError(
            f"{len(drifted)} page(s) were edited in BookStack since the last sync: {names}",
            hint="review them, then rerun with on_drift: overwrite (git wins) or skip",
        )


def check_prune_guard(plan: Plan, remote: RemoteState, limit_percent: int) -> None:
    """Refuse a run that would delete more than ``limit_percent`` of the managed pages."""
    managed = sum(len(objs) for objs in remote.managed(EntityKind.PAGE).values())
    deleting = sum(
        1
        for a in plan.actions
        if a.kind is ActionKind.DELETE and a.entity is EntityKind.PAGE and "duplicate" not in a.detail
    )
    if managed and deleting and deleting * 100 > limit_percent * managed:
        raise SyncError(
            f"refusing to prune {deleting} of {managed} managed pages ({deleting * 100 // managed}% > prune_limit {limit_percent}%)",
            hint="check docs_dir and the structure file; if this is intended, raise `prune_limit`",
        )
