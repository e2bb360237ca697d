"""The things that flow from plan to apply to report: planned actions, their outcomes, one run's result."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .errors import ExitCode


class EntityKind(StrEnum):
    SHELF = "shelf"
    BOOK = "book"
    CHAPTER = "chapter"
    PAGE = "page"
    IMAGE = "image"
    ATTACHMENT = "attachment"


API_KIND = {
    EntityKind.SHELF: "shelves",
    EntityKind.BOOK: "books",
    EntityKind.CHAPTER: "chapters",
    EntityKind.PAGE: "pages",
}
"""The API's name of each content kind: ``/api/<name>`` (the client's ``list``/``read``/``create``... take it)."""

SEARCH_TYPE = {
    EntityKind.SHELF: "bookshelf",
    EntityKind.BOOK: "book",
    EntityKind.CHAPTER: "chapter",
    EntityKind.PAGE: "page",
}
"""What ``/api/search`` calls each content kind (its ``type`` field, and ``{type:…}`` in a query)."""
KIND_OF_SEARCH_TYPE = {name: kind for kind, name in SEARCH_TYPE.items()}


class ActionKind(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    MOVE = "move"  # a new parent (and possibly other changes): same id, so links and history survive
    REORDER = "reorder"  # priority or shelf order only
    ADOPT = "adopt"  # an unmanaged object of the same name in the same parent becomes managed
    CLAIM = "claim"  # an object an earlier version wrote (no tree recorded) carrying this tree's key: now its
    DELETE = "delete"  # prune: a managed object whose source is gone
    ORPHAN = "orphan"  # the same, reported only (prune is off)
    DRIFT = "drift"  # edited in BookStack since the last sync
    SKIP = "skip"  # deliberately not published (draft), or drift left alone
    UNCHANGED = "unchanged"

    @property
    def writes(self) -> bool:
        return self in _WRITING


_WRITING = {
    ActionKind.CREATE,
    ActionKind.UPDATE,
    ActionKind.MOVE,
    ActionKind.REORDER,
    ActionKind.ADOPT,
    ActionKind.CLAIM,
    ActionKind.DELETE,
}


EDITED_IN_BOOKSTACK = "edited in BookStack"
"""How the detail of a drifted page's action starts (the planner writes it, reporters count it)."""


class Route(StrEnum):
    """How a create is carried out."""

    API = "api"  # one request per object
    IMPORT = "import"  # inside a ZIP import of its book or chapter


@dataclass(frozen=True)
class Action:
    """One planned change (or non-change) to one BookStack object."""

    kind: ActionKind
    entity: EntityKind
    key: str  # source key: the page path relative to docs_dir, or the shelf/book/chapter key
    name: str  # the object's name in BookStack
    remote_id: int | None = None
    changes: tuple[str, ...] = ()  # fields that differ: content, name, tags, priority, parent, books, ...
    detail: str = ""  # human words: "from a/b to a/c", why skipped, what drifted
    route: Route = Route.API

    @property
    def drifted(self) -> bool:
        """A page a person edited in BookStack since the last sync (left alone, or overwritten: git wins)."""
        return self.kind is ActionKind.DRIFT or self.detail.startswith(EDITED_IN_BOOKSTACK)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "entity": self.entity.value,
            "key": self.key,
            "name": self.name,
            "id": self.remote_id,
            "changes": list(self.changes),
            "detail": self.detail,
            "route": self.route.value,
        }


@dataclass(frozen=True)
class Plan:
    actions: tuple[Action, ...] = ()
    notes: tuple[str, ...] = ()  # plan-wide remarks: "books X, Y go by ZIP import", guards, ...

    def counts(self) -> dict[str, int]:
        return dict(Counter(action.kind.value for action in self.actions))

    @property
    def writes(self) -> int:
        return sum(1 for action in self.actions if action.kind.writes)

    def to_json(self) -> dict[str, Any]:
        return {
            "actions": [action.to_json() for action in self.actions],
            "counts": self.counts(),
            "notes": list(self.notes),
        }


class OutcomeStatus(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    MOVED = "moved"
    UNCHANGED = "unchanged"
    ADOPTED = "adopted"
    CLAIMED = "claimed"
    DELETED = "deleted"
    SKIPPED = "skipped"  # deliberately not published (a draft), or drift left alone
    ORPHAN = "orphan"  # managed, its source gone, kept (prune off, or it holds what others made)
    DRIFT = "drift"
    FAILED = "failed"
    NOT_ATTEMPTED = "not_attempted"  # planned, but the run stopped before it (the error says why)


@dataclass(frozen=True)
class Outcome:
    """What applying one action did."""

    action: Action
    status: OutcomeStatus
    remote_id: int | None = None
    url: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            **self.action.to_json(),
            "status": self.status.value,
            "id": self.remote_id if self.remote_id is not None else self.action.remote_id,
            "url": self.url,
            "error": self.error,
        }


class RunMode(StrEnum):
    """What one run does, once ``auto`` has been decided."""

    VALIDATE = "validate"
    PLAN = "plan"
    SYNC = "sync"
    FULL = "full"
    PULL = "pull"  # BookStack's edits into the git files (pull.py)


@dataclass
class RunResult:
    """Everything one run did, for the reporters. Built up stage by stage."""

    mode: RunMode
    mode_reason: str  # "CI_PIPELINE_EVENT=pull_request", "mode setting", "--dry-run"...
    settings: dict[str, Any]  # Settings.redacted()
    ci: dict[str, str] = field(default_factory=dict)  # repo, commit, pipeline URL... from CI_*
    diagnostics: list[Any] = field(default_factory=list)  # Diagnostic
    pages_checked: int = 0
    page_paths: list[str] = field(default_factory=list)  # every page file checked, for per-page reports
    plan: Plan | None = None
    outcomes: list[Outcome] = field(default_factory=list)
    requests: dict[str, Any] = field(default_factory=dict)  # the client's RequestStats.as_dict()
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage
    messages: list[str] = field(default_factory=list)  # warnings for people: editor permission, sort rules...
    bookstack_url: str | None = None
    tree: str | None = None  # the docs tree's id (``treeid``); None only in a report of unusable settings
    exit_code: ExitCode = ExitCode.OK
    error: str | None = None  # what stopped the run, if anything

    def outcome_counts(self) -> dict[str, int]:
        return dict(Counter(outcome.status.value for outcome in self.outcomes))
