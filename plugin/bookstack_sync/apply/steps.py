"""Running writes: up to ``concurrency`` at a time, each after the steps it waits for, never two that
rebuild the same book's permissions at once; one failed write fails alone, a refused token stops the run.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

from ..bookstack.errors import (
    AuthenticationError,
    BookStackError,
    PermissionDeniedError,
    PermissionProblem,
    is_joint_permissions,
)
from ..model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Plan
from ..plan.desired import DesiredChapter, DesiredPage
from .context import ApplyContext, log, object_url


@dataclass(frozen=True)
class Step:
    """One action to carry out, after the steps of the same batch whose positions ``after`` names."""

    action: Action
    handler: Handler
    after: tuple[int, ...] = ()
    failures_only: bool = False  # a second write: its outcome is reported only when it fails


def run_steps(ctx: ApplyContext, steps: list[Step], record: Callable[[Outcome], None]) -> list[Outcome | None]:
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
                finish(index, guarded(ctx, step.action, step.handler))
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
                running[pool.submit(guarded, ctx, steps[index].action, steps[index].handler)] = index
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


Handler = Callable[[ApplyContext, Action], Outcome]


_NOT_WRITTEN = {
    ActionKind.UNCHANGED: OutcomeStatus.UNCHANGED,
    ActionKind.ORPHAN: OutcomeStatus.ORPHAN,
    ActionKind.SKIP: OutcomeStatus.SKIPPED,
}


REFUSALS_TO_STOP = 10
"""This many writes refused (403) in a row, none taken in between: the token's role lacks the
permission altogether, and trying every other object would only fill the log."""


def guarded(ctx: ApplyContext, action: Action, handler: Handler) -> Outcome:
    """Run one action; a BookStack error fails this action only. A refused token stops the run, and so
    do ``REFUSALS_TO_STOP`` refused writes in a row; one item the token may not change (an entity
    permission) fails alone."""
    if action.kind in _NOT_WRITTEN or action.kind is ActionKind.DRIFT:
        return Outcome(
            action, resting_status(action.kind), action.remote_id, object_url(ctx, action.entity, action.key)
        )
    try:
        outcome = handler(ctx, action)
    except AuthenticationError:
        raise
    except BookStackError as exc:
        if is_joint_permissions(exc):
            note_invisible_copy(ctx, f"{action.kind.value} {action.entity.value} {action.key}")
        if isinstance(exc, PermissionDeniedError):
            if exc.reason is not PermissionProblem.ACTION_NOT_PERMITTED:
                raise
            ctx.refusals_in_a_row += 1
            if ctx.refusals_in_a_row >= REFUSALS_TO_STOP:
                ctx.stop = PermissionDeniedError(
                    f"BookStack refused {ctx.refusals_in_a_row} writes in a row, the last {exc.message}",
                    hint=exc.hint,
                    reason=exc.reason,
                    **exc.request_facts(),
                )
        ctx.failed_keys.add((action.entity, action.key))
        log.error("%s %s %s failed: %s", action.kind.value, action.entity.value, action.key, exc)
        return Outcome(action, OutcomeStatus.FAILED, action.remote_id, None, str(exc))
    ctx.refusals_in_a_row = 0
    return outcome


def note_invisible_copy(ctx: ApplyContext, what: str) -> None:
    """Say in the log and the report what BookStack's joint-permissions 500 leaves behind, and what to do."""
    message = (
        f"BookStack answered {what} with its joint-permissions error (HTTP 500 'Duplicate entry' in "
        "joint_permissions, BookStack issue #4838: two writes in one book at the same moment). The object may "
        "be stored without permissions, invisible to every API call: an admin makes it visible with "
        "`php artisan bookstack:regenerate-permissions`, and the next run then removes it as a duplicate"
    )
    if ctx.note_once(message):
        log.warning(message)


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
