"""Write the tree's sync record (``plan/record.py``) at the end of a sync that read everything.

A run whose writes are a few updates (a repair after a hand change, a few edited pages: ``can_ride``)
needs no look at BookStack afterwards: the record takes the probe's time and counts and names what the
run wrote as BookStack answered each write (``apply_riding``); it rides on the last page write, or
goes on a book. Any other run lists BookStack once more when it is done:

Its time comes from BookStack's clock: a second after the newest ``updated_at`` listed once the run is
done (BookStack keeps whole seconds; the listing waits for the next one), provided everything that
moved since the run read BookStack is this run's own work (a page at the revision its write left).
Anything else moved meanwhile (a person saving a page during the run) leaves the time unknown, and the
next run reads everything. Counts are the listings' totals when they are what the run read, plus what
it created, less what its deletes took away; else they are left unknown (a deletion is seen only in a
count, so one made by hand during the run must not be absorbed). Four listings, a second's wait, one
look at BookStack's audit log for its newest activity (when the token may read it: ``plan/audit.py``)
and one write: a sync that read everything pays that once so that the next runs cost five requests.

The record goes on a book of the tree as a tags-only update (a book's update makes no page revision
and notifies no watcher): the book that carried the last record when it is still there, else the
tree's first book.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from ..bookstack import BookStackClient, PermissionDeniedError, normalise_chapter_id
from ..model import ActionKind, EntityKind, Outcome, OutcomeStatus, Plan
from ..plan.audit import newest_activity, untimed_since
from ..plan.probe import Carrier, Listed, list_newest
from ..plan.record import (
    KINDS,
    SyncRecord,
    carrier_fingerprint,
    layout_kinds,
    layout_of,
    newest_second,
    parse_time,
    written_fingerprint,
)
from ..plan.remote import RemoteObject, RemoteState
from ..plan.tags import REV_TAG, STATE_TAG, TREE_TAG
from .context import ApplyContext
from .sequence import apply_plan
from .zipimport import ZipImporter

log = logging.getLogger("bookstack_sync.record")

SECOND = 1.05  # a little over BookStack's clock resolution
_WROTE = {
    OutcomeStatus.CREATED,
    OutcomeStatus.UPDATED,
    OutcomeStatus.MOVED,
    OutcomeStatus.ADOPTED,
    OutcomeStatus.DELETED,
}


@dataclass(frozen=True)
class ReadMark:
    """BookStack as the run read it, before writing: each object's ``updated_at`` and the counts."""

    stamps: Mapping[tuple[EntityKind, int], str]
    totals: tuple[int, int, int, int]
    activity: int | None = None  # the audit log's newest activity before the run read BookStack

    @classmethod
    def of(cls, remote: RemoteState, activity: int | None = None) -> ReadMark:
        """Everything the listings showed: this tree's and unmanaged objects, and other trees' (kept apart)."""
        listed = {kind: {**remote.of(kind), **remote.foreign[kind]} for kind in KINDS}
        stamps = {(kind, obj.id): obj.updated_at for kind in KINDS for obj in listed[kind].values()}
        shelves, books, chapters, pages = (len(listed[kind]) for kind in KINDS)
        return cls(stamps, (shelves, books, chapters, pages), activity)

    @property
    def newest(self) -> datetime | None:
        moments = [m for m in (parse_time(stamp) for stamp in self.stamps.values()) if m is not None]
        return max(moments) if moments else None


@dataclass(frozen=True)
class Synced:
    """What the run leaves to record: the docs as synced, BookStack as read, and what the run wrote."""

    digest: str
    settings: str
    commit: str
    read: ReadMark
    outcomes: Sequence[Outcome]
    revisions: Mapping[int, int]  # page id -> revision_count right after this run's last write of it


def record_sync(
    client: BookStackClient, remote: RemoteState, synced: Synced, previous: tuple[SyncRecord, Carrier] | None
) -> str:
    """Write the record on a book of the tree ``remote`` was read for; returns what the log should say."""
    carrier = _carrier(remote, previous, synced.outcomes)
    if carrier is None:
        return "no sync record written: the tree has no book to carry it (the next run reads everything)"
    # the audit log's newest activity before listing: whatever happens from here on is after the record;
    # a Sort-screen change (or the like) during the run is not: the record keeps the mark of the run's read
    audit = newest_activity(client)
    during = synced.read.activity
    if audit is not None and during is not None and audit > during and untimed_since(client, during):
        audit = during
    listed = _listed_a_second_on(client)
    moment, why = _after_run(listed, synced)
    totals = _totals_after(listed, synced, remote)
    item: Mapping[str, Any] = next(
        (i for i in listed.items[EntityKind.BOOK] if int(i["id"]) == carrier.id), _as_item(carrier)
    )
    written = {o.remote_id or o.action.remote_id for o in synced.outcomes if o.status in _WROTE}
    tags = _current_tags(client, carrier, written, remote.tree_id)
    # without the audit log, where everything sits tells what moves no updated_at
    whole = listed.whole()
    layout = "" if audit is not None or moment is None else layout_of(whole, whole, upto=moment)
    record = SyncRecord(
        seq=previous[0].seq + 1 if previous else 1,
        time=moment,
        seen=frozenset(),
        totals=totals,
        digest=synced.digest,
        commit=synced.commit,
        fingerprint=carrier_fingerprint(EntityKind.BOOK, item, tags),
        settings=synced.settings,
        audit=audit,
        layout=layout,
    ).fitting()
    if previous is not None and previous[1].id == carrier.id and _same(previous[0], record):
        return "sync record unchanged"
    refused = _write_on_book(client, carrier.id, tags, record)
    if refused:
        return refused
    if record.time is None:
        return f"sync record written on book {carrier.id}, without a time: {why} (the next run reads everything)"
    if record.totals is None:
        return (
            f"sync record written on book {carrier.id}, without counts: objects were deleted, or created, by "
            "someone else, during the run (the next run reads everything)"
        )
    return f"sync record written on book {carrier.id} (BookStack's time {record.time.isoformat()})"


RIDING_WRITES = 3  # updates a record can vouch for by name (the record is a 191-character tag value)
_RIDING_KINDS = {ActionKind.UPDATE, ActionKind.MOVE, ActionKind.REORDER}


def can_ride(plan: Plan) -> bool:
    """Whether the record can do without listing BookStack after the run: the run's writes are at most
    ``RIDING_WRITES`` updates of objects BookStack has (no create or delete: the counts stay as the
    probe listed them; no chapter moved to another book: BookStack moves its pages too, unnamed in the
    record), and no drift is left alone (the next run must see it again)."""
    writes = [action for action in plan.actions if action.kind.writes]
    return (
        0 < len(writes) <= RIDING_WRITES
        and all(action.kind in _RIDING_KINDS and action.remote_id for action in writes)
        and not any(action.kind is ActionKind.MOVE and action.entity is EntityKind.CHAPTER for action in writes)
        and not any(action.kind is ActionKind.DRIFT for action in plan.actions)
    )


def apply_riding(
    plan: Plan,
    ctx: ApplyContext,
    previous: tuple[SyncRecord, Carrier],
    listed: Listed,
    digest: str,
    settings: str,
) -> str:
    """Carry out a plan ``can_ride`` allows and record it without listing BookStack again; returns what
    the log should say. The record's time is the newest ``updated_at`` the probe listed (whatever
    changed after the probe is later), its counts the probe's; what the run wrote is named in it as
    BookStack answered each write (``written_fingerprint``). It rides on the last page write (its
    carrier), or, when the run wrote no page, goes on a book as a tags-only update. When a write
    fails, no record is written: the last one stays, and the next run reads everything."""
    pages = [action for action in plan.actions if action.kind.writes and action.entity is EntityKind.PAGE]
    last = pages[-1] if pages else None
    apply_plan(replace(plan, actions=tuple(a for a in plan.actions if a is not last)), ctx, ZipImporter())
    failed = any(outcome.status is OutcomeStatus.FAILED for outcome in ctx.outcomes)
    if last is None:
        return (
            "no sync record written: a write failed"
            if failed
            else _record_on_book(ctx, previous, listed, digest, settings)
        )
    if not failed:
        page = ctx.desired.pages[last.key]
        book_id = ctx.matching.id_of(EntityKind.BOOK, page.book_key)
        chapter_id = ctx.matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
        ctx.extra_tag = riding_record(
            previous[0],
            listed,
            (last.remote_id or 0, book_id, chapter_id),
            digest,
            ctx.commit,
            settings,
            _written(ctx),
            ctx.answered,
        )
    try:
        apply_plan(replace(plan, actions=(last,)), ctx, ZipImporter())
    finally:
        ctx.extra_tag = None
    if failed or any(outcome.status is OutcomeStatus.FAILED for outcome in ctx.outcomes):
        return "no sync record written: a write failed (the next run reads everything)"
    return f"sync record written with page {last.remote_id}"


def _written(
    ctx: ApplyContext, carrier: tuple[EntityKind, int] | None = None
) -> tuple[tuple[EntityKind, int, str], ...]:
    return tuple(
        (kind, item_id, written_fingerprint(kind, answer))
        for (kind, item_id), answer in sorted(ctx.answered.items(), key=lambda pair: pair[0])
        if (kind, item_id) != carrier
    )


def _record_on_book(
    ctx: ApplyContext, previous: tuple[SyncRecord, Carrier], listed: Listed, digest: str, settings: str
) -> str:
    """The record of a run that wrote no page, on a book of the tree, named what the run wrote."""
    book = _carrier(ctx.remote, previous, ctx.outcomes)
    if book is None:
        return "no sync record written: the tree has no book to carry it (the next run reads everything)"
    answer = ctx.answered.get((EntityKind.BOOK, book.id))
    item: Mapping[str, Any] = answer if answer is not None else _as_item(book)
    tags = _current_tags(ctx.client, book, set(), ctx.remote.tree_id, answer)
    time_, seen = newest_second(listed.all())
    written = _written(ctx, (EntityKind.BOOK, book.id))
    record = SyncRecord(
        seq=previous[0].seq + 1,
        time=time_,
        seen=seen,
        totals=listed.totals_tuple(),
        digest=digest,
        commit=ctx.commit,
        fingerprint=carrier_fingerprint(EntityKind.BOOK, item, tags),
        settings=settings,
        written=written,
        audit=listed.activity,
        layout=_riding_layout(previous[0], listed, time_, ctx.answered),
    ).fitting()
    refused = _write_on_book(ctx.client, book.id, tags, record)
    return refused or f"sync record written on book {book.id}, naming this run's {len(record.written)} other writes"


def _write_on_book(client: BookStackClient, book_id: int, tags: Sequence[tuple[str, str]], record: SyncRecord) -> str:
    """Put the record on a book, its other tags kept (one tags-only update); what the log should say when
    BookStack refuses it, else "". The record only saves requests: a token that may not update the book
    leaves the run as it was, and the next run reads everything."""
    payload = [{"name": n, "value": v} for n, v in tags] + [{"name": STATE_TAG, "value": record.format()}]
    try:
        client.update("books", book_id, {"tags": payload})
    except PermissionDeniedError as error:
        return f"no sync record written: BookStack refused the update of book {book_id} ({error}); the next run reads everything"
    return ""


def riding_record(
    previous: SyncRecord,
    listed: Listed,
    carrier: tuple[int, int | None, int | None],
    digest: str,
    commit: str,
    settings: str,
    written: tuple[tuple[EntityKind, int, str], ...] = (),
    answered: Mapping[tuple[EntityKind, int], Mapping[str, Any]] = MappingProxyType({}),
) -> Callable[[int, dict[str, Any]], tuple[str, str] | None]:
    """The record to ride on the write of the page ``carrier`` (its id, and its book and chapter after
    the write). Its time is the newest ``updated_at`` the probe listed (the objects stamped with exactly
    it are accounted for: the probe saw them); the carrier is fingerprinted as the write leaves it;
    ``written`` is what the run wrote before it, as BookStack answered (``answered``: each answer)."""
    time_, seen = newest_second(listed.all())
    page_id, book_id, chapter_id = carrier

    def tag(write_id: int, payload: dict[str, Any]) -> tuple[str, str] | None:
        if write_id != page_id or "name" not in payload:
            return None
        tags = [(str(t["name"]), str(t.get("value", ""))) for t in payload.get("tags", [])]
        revision = next((int(v) for n, v in tags if n == REV_TAG and v.isdigit()), 0)
        item = {"name": payload["name"], "book_id": book_id, "chapter_id": chapter_id, "revision_count": revision}
        record = SyncRecord(
            seq=previous.seq + 1,
            time=time_,
            seen=seen,
            totals=listed.totals_tuple(),
            digest=digest,
            commit=commit,
            fingerprint=carrier_fingerprint(EntityKind.PAGE, item, tags),
            settings=settings,
            written=written,
            audit=listed.activity,
            layout=_riding_layout(
                previous, listed, time_, {**answered, (EntityKind.PAGE, page_id): _place(payload, item)}
            ),
        ).fitting()
        return STATE_TAG, record.format()

    return tag


def _riding_layout(
    previous: SyncRecord,
    listed: Listed,
    upto: datetime | None,
    placed: Mapping[tuple[EntityKind, int], Mapping[str, Any]],
) -> str:
    """The layout a record riding on this run's writes holds: the probe's listing (the probe found the
    last record's layout held, or the run read everything) with what the run wrote where BookStack answered
    it is (``placed``)."""
    kinds = layout_kinds(previous.layout)
    whole = listed.whole()
    if not kinds or upto is None or any(kind not in whole for kind in kinds):
        return ""
    return layout_of(whole, kinds, upto=upto, placed=placed)


def _place(payload: Mapping[str, Any], item: Mapping[str, Any]) -> dict[str, Any]:
    """Where a page write puts the page: its parent, and its priority when the write sends one (else the
    page keeps the one it has)."""
    return {key: value for key, value in {**item, **payload}.items() if key in ("book_id", "chapter_id", "priority")}


def _listed_a_second_on(client: BookStackClient) -> Listed:
    """The newest-first listings, taken in a later second of BookStack's clock than anything they show
    (BookStack keeps whole seconds: whatever changes after the listing is then stamped later than all
    it lists). Waits out the rest of the second after this run's last write first; lists again once if
    the server's ``Date`` says the listing shared a second with its newest item."""
    done = client.activity.last_write_done
    if done is not None:
        wait_for_bookstack_clock(max(0.0, done + SECOND - client.activity.clock()))
    listed = list_newest(client)
    newest, _ = newest_second(listed.all())
    if newest is not None and (listed.clock is None or listed.clock <= newest):
        wait_for_bookstack_clock(SECOND)
        listed = list_newest(client)
    return listed


def wait_for_bookstack_clock(seconds: float) -> None:
    """Let BookStack's clock move on by ``seconds``. The one place the record waits: tests against the
    fake BookStack move the fake's clock on instead of sleeping."""
    time.sleep(seconds)


def _same(old: SyncRecord, new: SyncRecord) -> bool:
    """Whether a new record says what the old one said (its sequence number and settings aside)."""
    return replace(old, seq=new.seq, settings=new.settings).format() == new.format()


def _as_item(obj: RemoteObject) -> dict[str, Any]:
    return {
        "id": obj.id,
        "name": obj.name,
        "description": obj.description,
        "book_id": obj.book_id,
        "chapter_id": obj.chapter_id,
        "revision_count": obj.revision_count,
        "updated_at": obj.updated_at,
    }


def _carrier(
    remote: RemoteState, previous: tuple[SyncRecord, Carrier] | None, outcomes: Sequence[Outcome]
) -> RemoteObject | None:
    """The book to carry the record: the last record's when it is still the tree's, else the tree's
    first (lowest id), one this run created or adopted included."""
    deleted = {o.action.remote_id for o in outcomes if o.status is OutcomeStatus.DELETED}
    books = {obj.id: obj for objs in remote.managed(EntityKind.BOOK).values() for obj in objs}
    for outcome in outcomes:  # books this run created or adopted are the tree's too
        book_id = outcome.remote_id or outcome.action.remote_id
        if outcome.action.entity is EntityKind.BOOK and outcome.status in _WROTE and book_id:
            books.setdefault(book_id, RemoteObject(EntityKind.BOOK, book_id, outcome.action.name))
    books = {book_id: obj for book_id, obj in books.items() if book_id not in deleted}
    if previous is not None and previous[1].kind is EntityKind.BOOK and previous[1].id in books:
        return books[previous[1].id]
    return books[min(books)] if books else None


def _current_tags(
    client: BookStackClient,
    carrier: RemoteObject,
    written: set[int | None],
    tree_id: str,
    answer: Mapping[str, Any] | None = None,
) -> list[tuple[str, str]]:
    """The carrier's tags as they are now (a tags-only update replaces them all), without a record, and
    with the tree's tag (a book of an earlier version gets it, as every write of the tree's gives it):
    as this run's write of it answered, else read again when the run wrote it, else as read."""
    if answer is not None:
        tags = [(str(t.get("name", "")), str(t.get("value") or "")) for t in answer.get("tags", [])]
    elif carrier.id in written:
        tags = [
            (str(t.get("name", "")), str(t.get("value") or ""))
            for t in client.read("books", carrier.id).get("tags", [])
        ]
    else:
        tags = [(t["name"], t.get("value", "")) for t in carrier.tags]
    kept = [(name, value) for name, value in tags if name != STATE_TAG]
    if tree_id and (TREE_TAG, tree_id) not in kept:
        kept = [(name, value) for name, value in kept if name != TREE_TAG] + [(TREE_TAG, tree_id)]
    return kept


def _after_run(listed: Listed, synced: Synced) -> tuple[datetime | None, str]:
    """The time to record: a second after the newest ``updated_at`` listed now, when everything that
    moved since the run read BookStack is this run's own work (a page at the revision its write left);
    None, and why, when something else moved."""
    read_at = synced.read.newest
    mine = {(o.action.entity, o.remote_id or o.action.remote_id) for o in synced.outcomes if o.status in _WROTE}
    # BookStack moves a chapter's pages with it (``BookChild::changeBook`` saves each): the run's own work too
    carried = {
        o.remote_id or o.action.remote_id
        for o in synced.outcomes
        if o.status in _WROTE and o.action.entity is EntityKind.CHAPTER and o.action.kind is ActionKind.MOVE
    }
    for kind in KINDS:
        items = listed.items[kind]
        if len(items) < listed.totals[kind] and items and _changed_since(items[-1], read_at):
            return None, f"more than {len(items)} {kind.value}s changed during the run"
    for kind, item in listed.all():
        key = (kind, int(item["id"]))
        if not _changed_since(item, read_at):
            continue
        if kind is EntityKind.PAGE and normalise_chapter_id(item.get("chapter_id")) in carried:
            continue
        if key not in mine:
            if synced.read.stamps.get(key) == item.get("updated_at"):
                continue  # as the run read it
            return None, f"{kind.value} {key[1]} changed in BookStack during the run"
        revision = synced.revisions.get(key[1])
        if kind is EntityKind.PAGE and revision is not None and int(item.get("revision_count") or 0) != revision:
            return None, f"page {key[1]} was saved in BookStack during the run"
    newest, _ = newest_second(listed.all())
    if newest is None or (listed.clock is not None and listed.clock <= newest):
        return None, "BookStack kept changing while the run listed it"
    return newest + timedelta(seconds=1), ""


def _changed_since(item: Mapping[str, Any], read_at: datetime | None) -> bool:
    moment = parse_time(str(item.get("updated_at") or ""))
    return moment is None or read_at is None or moment >= read_at


def _totals_after(listed: Listed, synced: Synced, remote: RemoteState) -> tuple[int, int, int, int] | None:
    """The counts listed now, when they are what the run read, plus what it created, less what its
    deletes took away (a deleted book takes its chapters and pages along, a chapter its pages); None
    otherwise (a deletion is seen only in a count: one made by hand meanwhile must not be absorbed)."""
    created = dict.fromkeys(KINDS, 0)
    # distinct objects: a page written again after its links' targets exist reports its creation twice
    for entity, _ in {(o.action.entity, o.remote_id) for o in synced.outcomes if o.status is OutcomeStatus.CREATED}:
        if entity in created:
            created[entity] += 1
    removed = _removed(synced, remote)
    expected = [n + created[kind] - removed[kind] for n, kind in zip(synced.read.totals, KINDS, strict=True)]
    shelves, books, chapters, pages = expected
    if listed.totals_tuple() != (shelves, books, chapters, pages):
        log.debug("counts %s, expected %s", listed.totals_tuple(), (shelves, books, chapters, pages))
        return None
    return listed.totals_tuple()


def _removed(synced: Synced, remote: RemoteState) -> dict[EntityKind, int]:
    """How many objects of each kind the run's deletes took out of the listings."""
    gone = {(o.action.entity, o.action.remote_id) for o in synced.outcomes if o.status is OutcomeStatus.DELETED}
    listed = {kind: {**remote.of(kind), **remote.foreign[kind]} for kind in KINDS}
    for kind, item_id in list(gone):
        if kind is EntityKind.BOOK:
            gone |= {(EntityKind.CHAPTER, c.id) for c in listed[EntityKind.CHAPTER].values() if c.book_id == item_id}
            gone |= {(EntityKind.PAGE, p.id) for p in listed[EntityKind.PAGE].values() if p.book_id == item_id}
        elif kind is EntityKind.CHAPTER:
            gone |= {(EntityKind.PAGE, p.id) for p in listed[EntityKind.PAGE].values() if p.chapter_id == item_id}
    removed = dict.fromkeys(KINDS, 0)
    for kind, _ in gone:
        if kind in removed:
            removed[kind] += 1
    return removed
