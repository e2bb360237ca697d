"""A run in words, shared by the report files and the live log: verdicts ("3 pages change, nothing
deleted"), a note per action, changes grouped by book, validation counts, page links.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from ..docs.diagnostics import Severity
from ..errors import ExitCode
from ..model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, RunResult


def _diagnostic_json(diagnostic: Any) -> dict[str, Any]:
    if isinstance(diagnostic, Mapping):
        return dict(diagnostic)
    data: dict[str, Any] = diagnostic.to_json()
    return data


def diagnostics_json(result: RunResult) -> list[dict[str, Any]]:
    return [_diagnostic_json(d) for d in result.diagnostics]


def diagnostic_counts(diagnostics: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    errors = warnings = 0
    for d in diagnostics:
        if d.get("severity") == Severity.ERROR.value:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def validation_counts(result: RunResult) -> tuple[int, int]:
    """(errors, warnings) among the run's diagnostics."""
    return diagnostic_counts(diagnostics_json(result))


def run_ok(result: RunResult) -> bool:
    return result.exit_code == ExitCode.OK


def page_link(bookstack_url: str | None, entity: EntityKind, remote_id: int | None) -> str | None:
    """A stable link to a BookStack page by id (``/link/<id>`` survives renames and moves)."""
    if not bookstack_url or remote_id is None or entity is not EntityKind.PAGE:
        return None
    return f"{bookstack_url.rstrip('/')}/link/{remote_id}"


_PLURAL = {kind: "shelves" if kind is EntityKind.SHELF else f"{kind.value}s" for kind in EntityKind}


T = TypeVar("T")


def book_of(key: str) -> str:
    """The shelf/book a source key belongs to: ``engineering/dev-guide/x/01-a.md`` → ``engineering/dev-guide``."""
    parts = [p for p in key.split("/") if p]
    return "/".join(parts[:2]) if parts else "(root)"


def group_by_book(items: Iterable[T], key: Callable[[T], str], unchanged: Callable[[T], bool]) -> list[BookGroup[T]]:
    """The changed items grouped by book (sorted by key, each group in its original order), with how many
    unchanged items each group holds. Books where nothing changes are left out: they are only counted."""
    changed: dict[str, list[T]] = {}
    still: Counter[str] = Counter()
    for item in items:
        book = book_of(key(item))
        if unchanged(item):
            still[book] += 1
        else:
            changed.setdefault(book, []).append(item)
    return [BookGroup(book, tuple(changed[book]), still[book]) for book in sorted(changed)]


@dataclass(frozen=True)
class BookGroup(Generic[T]):
    book: str  # the shelf/book key
    items: tuple[T, ...]  # what changes in it
    unchanged: int  # how many of its objects stay as they are


def _counted(count: int, entity: EntityKind) -> str:
    return f"{count} {entity.value if count == 1 else _PLURAL[entity]}"


_READING_ORDER = (
    EntityKind.PAGE,
    EntityKind.CHAPTER,
    EntityKind.BOOK,
    EntityKind.SHELF,
    EntityKind.IMAGE,
    EntityKind.ATTACHMENT,
)


def _per_entity(entities: Iterable[EntityKind], singular: str, plural: str) -> list[str]:
    """``["7 pages, 2 books change"]``, ``["1 page moves"]``, or nothing: pages first, as a reader cares."""
    counts = Counter(entities)
    if not counts:
        return []
    listed = ", ".join(_counted(counts[entity], entity) for entity in _READING_ORDER if counts[entity])
    return [f"{listed} {singular if sum(counts.values()) == 1 else plural}"]


def plan_verdict(actions: Sequence[Action]) -> str:
    """One line a reviewer reads first: ``3 pages change, 1 page moves, nothing deleted``."""
    if not any(a.kind.writes or a.drifted or a.kind is ActionKind.ORPHAN for a in actions):
        return "nothing to change: BookStack already matches the docs"
    changing = [a.entity for a in actions if a.kind.writes and a.kind not in (ActionKind.MOVE, ActionKind.DELETE)]
    parts = _per_entity(changing, "changes", "change")
    parts += _per_entity((a.entity for a in actions if a.kind is ActionKind.MOVE), "moves", "move")
    deleting = sum(1 for a in actions if a.kind is ActionKind.DELETE)
    parts.append(f"{deleting} to delete" if deleting else "nothing deleted")
    drifted = sum(1 for a in actions if a.drifted)
    if drifted:
        parts.append(f"{drifted} edited in BookStack")
    orphans = sum(1 for a in actions if a.kind is ActionKind.ORPHAN)
    if orphans:
        parts.append(f"{orphans} orphan{'s' if orphans != 1 else ''} (source gone, kept)")
    return ", ".join(parts)


def outcome_verdict(outcomes: Sequence[Outcome]) -> str:
    """The same line after a sync: ``3 pages changed, 1 page moved, nothing deleted, 1 failed``."""
    status = Counter(o.status for o in outcomes)
    if not set(status) - {OutcomeStatus.UNCHANGED, OutcomeStatus.SKIPPED}:
        return "nothing changed: BookStack already matched the docs"
    changed = [o.action.entity for o in outcomes if o.status in _CHANGED]
    parts = _per_entity(changed, "changed", "changed")
    parts += _per_entity((o.action.entity for o in outcomes if o.status is OutcomeStatus.MOVED), "moved", "moved")
    if not parts and not status[OutcomeStatus.DELETED]:
        parts.append("nothing changed")
    deleted = status[OutcomeStatus.DELETED]
    parts.append(f"{deleted} deleted" if deleted else "nothing deleted")
    drifted = sum(1 for o in outcomes if o.action.drifted and o.status is not OutcomeStatus.FAILED)
    if drifted:
        parts.append(f"{drifted} edited in BookStack")
    if status[OutcomeStatus.ORPHAN]:
        parts.append(f"{status[OutcomeStatus.ORPHAN]} orphan{'s' if status[OutcomeStatus.ORPHAN] != 1 else ''} kept")
    if status[OutcomeStatus.FAILED]:
        parts.append(f"**{status[OutcomeStatus.FAILED]} failed**")
    if status[OutcomeStatus.NOT_ATTEMPTED]:
        parts.append(f"**{status[OutcomeStatus.NOT_ATTEMPTED]} not attempted**")
    return ", ".join(parts)


_CHANGED = {OutcomeStatus.CREATED, OutcomeStatus.UPDATED, OutcomeStatus.ADOPTED, OutcomeStatus.CLAIMED}


def action_note(action: Action) -> str:
    """What changes and why, after the key: ``(content, tags) — from a/b to a/c``."""
    note = f" ({', '.join(action.changes)})" if action.changes else ""
    if action.detail:
        note += f" — {action.detail}"
    return note


def plan_sentence(actions: Sequence[Action]) -> str:
    """``Plan: 3 to create, 2 to update, 1 to move, 0 to delete.`` (+ drift/orphans/skips when any)."""
    kinds = Counter(action.kind for action in actions)
    update = kinds[ActionKind.UPDATE] + kinds[ActionKind.REORDER] + kinds[ActionKind.ADOPT]
    text = (
        f"Plan: {kinds[ActionKind.CREATE]} to create, {update} to update, "
        f"{kinds[ActionKind.MOVE]} to move, {kinds[ActionKind.DELETE]} to delete."
    )
    extra = [
        f"{kinds[kind]} {word}"
        for kind, word in (
            (ActionKind.CLAIM, "to claim"),
            (ActionKind.DRIFT, "drifted"),
            (ActionKind.ORPHAN, "orphaned"),
            (ActionKind.SKIP, "skipped"),
            (ActionKind.UNCHANGED, "unchanged"),
        )
        if kinds[kind]
    ]
    return text + (f" ({', '.join(extra)})" if extra else "")
