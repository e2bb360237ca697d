"""BookStack's audit log, as the probe reads it: the hand changes that move no ``updated_at``.

BookStack logs an activity for each change made on its screens or through its API (``ActivityLogger::add``:
the type, the acting user, the object for shelves, books, chapters and pages, the time). Three kinds of
change leave no other trace a listing shows:

- ``book_sort``: a book's Sort screen (or its automatic sort) saved a new order, or a page's new chapter
  within the book, ``withoutTimestamps`` (``BookSorter::applySortUpdates``); logged for each book involved;
- ``permissions_update``: an object's permissions changed (``PermissionsUpdater`` saves no object): objects
  can come into the token's sight, or leave it, and a count no longer tells a deletion;
- ``recycle_bin_restore``: objects back from the recycle bin, whose return can cancel a deletion in a count;
  and ``sort_rule_update``, which re-sorts every book using the rule without timestamps.

The probe reads the activities after the record's (usually a handful; 500 an answer, three answers at
most) in one request instead of listing shelves: shelf changes are logged too (``bookshelf_*``), a shelf's book list changed with the plugin's own account included. Reading
the log needs the token's role to have "Manage app settings" and "Manage users"; the record says whether
the id of the newest activity it saw (``a=<id>``, none when the token may not), so a token without them
costs no request, and what came after the record is told by id, not by clocks.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..bookstack import BookStackClient, NotBookStackError, NotFoundError, PermissionDeniedError
from ..model import EntityKind
from .record import parse_time

LISTING = "audit-log"
PAGES = 3  # answers of 500 activities the probe reads at most
_KIND_OF_LOGGABLE = {"bookshelf": EntityKind.SHELF, "book": EntityKind.BOOK}
# activities after which counts and listings cannot be trusted: the run reads everything
_UNSURE = {
    "permissions_update": "permissions changed on {what}: what the token sees may have changed",
    "recycle_bin_restore": "something came back from the recycle bin ({detail})",
    "sort_rule_update": "a sort rule changed ({detail}): the books using it are sorted again",
    "bookshelf_create": "a shelf was created ({detail})",
    "bookshelf_create_from_book": "a shelf was created from a book ({detail})",
    "bookshelf_delete": "a shelf was deleted ({detail})",
}
# activities on a shelf or book to look at: the object is read to tell whether it is the tree's
_LOOK_AT = {"book_sort": "sorted on its Sort screen", "bookshelf_update": "changed"}


@dataclass(frozen=True)
class Activity:
    id: int
    type: str
    user_id: int | None
    kind: EntityKind | None  # the object it is about, when a shelf or book
    object_id: int | None
    at: datetime | None
    detail: str
    loggable: str  # BookStack's own words for the object: "page 12", or nothing

    @classmethod
    def of(cls, row: dict[str, Any]) -> Activity:
        loggable_type = str(row.get("loggable_type") or "")
        loggable_id = row.get("loggable_id")
        object_id = int(loggable_id) if isinstance(loggable_id, int) else None
        user_id = row.get("user_id")
        return cls(
            id=int(row.get("id") or 0),
            type=str(row.get("type") or ""),
            user_id=int(user_id) if isinstance(user_id, int) else None,
            kind=_KIND_OF_LOGGABLE.get(loggable_type),
            object_id=object_id,
            at=parse_time(str(row.get("created_at") or "")),
            detail=str(row.get("detail") or ""),
            loggable=f"{loggable_type} {object_id}" if loggable_type and object_id is not None else "",
        )


@dataclass
class AuditRead:
    """The newest activities (newest first), how many there are, and the server's clock."""

    activities: list[Activity]
    total: int
    clock: datetime | None

    @property
    def newest(self) -> int | None:
        return max((a.id for a in self.activities), default=None)


@dataclass
class AuditVerdict:
    why: str | None = None  # why the probe cannot be sure
    look_at: list[tuple[EntityKind, int, str]] = field(default_factory=list)  # (kind, id, what happened)


def newest_activity(client: BookStackClient) -> int | None:
    """The id of the newest activity (0 for none), or None when the token may not read the audit log
    (one small request; a server without the log says no)."""
    try:
        rows, _, _ = client.list_first(LISTING, sort="-id", count=1)
    except (PermissionDeniedError, NotFoundError, NotBookStackError):
        return None
    return AuditRead([Activity.of(row) for row in rows if isinstance(row, dict)], len(rows), None).newest or 0


def read_since(client: BookStackClient, after: int) -> AuditRead:
    """The activities after ``after`` (an id), oldest first: one request for up to 500, at most
    ``PAGES`` for more (a busy wiki between two pushes; reading everything costs more). Raises
    ``PermissionDeniedError`` when the token may not."""
    filters = {"id:gt": after}
    rows, total, clock = client.list_first(LISTING, sort="id", filters=filters)
    for _ in range(PAGES - 1):
        if not rows or len(rows) >= total:
            break
        more, total, _ = client.list_first(LISTING, sort="id", filters=filters, offset=len(rows))
        if not more:
            break
        rows += more
    return AuditRead([Activity.of(row) for row in rows if isinstance(row, dict)], total, clock)


# what moves no updated_at, and so cannot be told from a run's own writes by the listings
_UNTIMED = ("book_sort", "permissions_update", "recycle_bin_restore", "sort_rule_update")


def untimed_since(client: BookStackClient, after: int) -> bool:
    """Whether anything that moves no ``updated_at`` was logged after ``after`` (an id), or too much to
    tell: one request. The types holding an "s" are every type asked for, and of a sync's own writes only
    its shelves' (pages, chapters, books and imports have none), so the answer is short."""
    rows, total, _ = client.list_first(LISTING, sort="id", filters={"id:gt": after, "type:like": "%s%"})
    return total > len(rows) or any(str(row.get("type")) in _UNTIMED for row in rows if isinstance(row, dict))


def judge_audit(
    read: AuditRead,
    after: int,
    own_user: int | None,
    written: Collection[tuple[EntityKind, int]],
    since: datetime | None = None,
) -> AuditVerdict:
    """What the activities after the record's (``after``, an activity id) say. A shelf the last run wrote
    after its record was taken (``written``: a run that carried the record on its own writes), by the
    plugin's user (``own_user``), is the plugin's once. An activity stamped before the record's time
    (``since``) is a change the listings cannot place: BookStack's clock went back, or it was committed
    late."""
    recent = {a.id: a for a in read.activities if a.id > after}  # each judged once
    if read.total > len(read.activities):
        return AuditVerdict(f"more than {len(read.activities)} activities in BookStack's audit log since the last sync")
    early = next((a for a in recent.values() if since is not None and a.at is not None and a.at < since), None)
    if early is not None:
        return AuditVerdict(
            f"the audit log has an activity after the last sync stamped before it ({early.type}, "
            f"{early.at.isoformat() if early.at else '?'}): BookStack's clock went back, or it was saved late"
        )
    verdict = AuditVerdict()
    unclaimed = set(written)
    for activity in sorted(recent.values(), key=lambda a: a.id):
        mine = own_user is not None and activity.user_id == own_user
        if activity.type in _UNSURE:
            what = activity.loggable or activity.detail or "an object"
            verdict.why = _UNSURE[activity.type].format(what=what, detail=activity.detail or "?")
            return verdict
        if activity.type not in _LOOK_AT or activity.kind is None or activity.object_id is None:
            continue
        target = (activity.kind, activity.object_id)
        if mine and activity.type == "bookshelf_update" and target in unclaimed:
            unclaimed.discard(target)
            continue
        if all((kind, item_id) != target for kind, item_id, _ in verdict.look_at):
            verdict.look_at.append((*target, f"{_LOOK_AT[activity.type]} (BookStack's audit log)"))
    return verdict
