"""A cheap look at BookStack before a sync: did anything change since the tree's last sync?

Five requests whatever the size of the wiki: one search finds the tree's sync record (``record.py``),
then one listing per kind, newest ``updated_at`` first (500 items), gives every object changed since
the record's time and, in its ``total``, how many objects of that kind there are. Every hand change a
sync must see moves an ``updated_at`` (BookStack's ``BaseRepo``, ``PageRepo``, ``BookChild::changeBook``,
Laravel's soft deletes: see ``tests/contract/test_contract_updated_at.py``) — an edit, a tag change, a
restored revision, a move, a rename, a shelf's book list changed by someone other than the plugin's
user, a restore from the recycle bin — except a deletion, which the count shows, and what BookStack
saves without timestamps: a book's Sort screen (a new order, a page dragged to another chapter of the
same book), an object coming into sight through a permission change, and a restore that cancels a
deletion in the count. Those are seen in one of two ways:

- with a token that may read BookStack's audit log, the activities since the record (``audit.py``) are
  read instead of the shelves' listing (a shelf's changes are logged too): still five requests;
- without it, the record holds the wiki's ``layout`` (``record.layout_of``: every object's parent and
  priority), compared whenever every page, chapter and book fits one listing (500 of a kind); past that,
  only a full resync sees them, and a no-op's log says so (``UNSEEN``).

Sorting instead of ``filter[updated_at:gt]``: the filter compares with the database's datetimes, kept in
BookStack's ``APP_TIMEZONE``, while the API answers in UTC; an order needs no timezone, and the same
request gives the total count.

The probe is sure only when it can be: a record exists and holds a time and counts, BookStack's
clock has not gone back behind it, fewer than 500 objects of a kind changed, and every count is the
recorded one plus what was created since. Otherwise it says why, and the run reads everything.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from ..bookstack import BookStackClient, NotFoundError, PermissionDeniedError, normalise_chapter_id
from ..model import API_KIND, KIND_OF_SEARCH_TYPE, EntityKind
from .audit import AuditRead, judge_audit, read_since
from .record import (
    KINDS,
    SyncRecord,
    carrier_fingerprint,
    layout_kinds,
    layout_of,
    newest_second,
    parse_time,
    written_fingerprint,
)
from .tags import MANAGED_TAG, STATE_TAG, TREE_TAG

LOOKUPS = 3  # changed objects read one by one to tell whether they are the tree's; more: one search


def record_query(tree_id: str) -> str:
    """The search that finds the tree's record (one hit, or a few when older carriers still hold one)."""
    return f"[{STATE_TAG}] [{TREE_TAG}={tree_id}]" if tree_id else f"[{STATE_TAG}]"


def is_own(tags: Collection[tuple[str, str]], tree_id: str) -> bool:
    """Whether an object with these tags is the tree's: its tree tag, or (written before trees) none
    but the plugin's key, which a sync may claim."""
    trees = {value for name, value in tags if name == TREE_TAG}
    return tree_id in trees if trees else any(name == MANAGED_TAG for name, _ in tags)


Changed = list[tuple[EntityKind, dict[str, Any]]]  # objects as a listing shows them, by kind
# the changed objects that are the tree's (None: cannot be told), and the others' ids
SortedOut = tuple[Changed | None, list[tuple[EntityKind, int]]]


@dataclass(frozen=True)
class Carrier:
    kind: EntityKind
    id: int
    tags: tuple[tuple[str, str], ...]


@dataclass
class Listed:
    """What the newest-first listings showed: the items (by kind) and each kind's total."""

    items: dict[EntityKind, list[dict[str, Any]]] = field(default_factory=dict)
    totals: dict[EntityKind, int] = field(default_factory=dict)
    clock: datetime | None = None  # the server's time as its answers' ``Date`` header gave it (the earliest)
    activity: int | None = None  # the newest audit-log activity read with the listings

    def saw_clock(self, clock: datetime | None) -> None:
        if clock is not None and (self.clock is None or clock < self.clock):
            self.clock = clock

    def all(self) -> Iterator[tuple[EntityKind, dict[str, Any]]]:
        for kind, items in self.items.items():
            for item in items:
                yield kind, item

    def whole(self) -> dict[EntityKind, list[dict[str, Any]]]:
        """The kinds whose listing held every item: a full read need not list them again."""
        return {kind: items for kind, items in self.items.items() if len(items) == self.totals.get(kind)}

    def totals_tuple(self) -> tuple[int, int, int, int]:
        shelves, books, chapters, pages = (self.totals[kind] for kind in KINDS)
        return shelves, books, chapters, pages


@dataclass
class Probe:
    """The probe's verdict. ``sure`` with no ``changed``: BookStack holds what the last sync left."""

    sure: bool
    why: str  # why not sure, or what was found
    record: SyncRecord | None = None
    carrier: Carrier | None = None
    listed: Listed | None = None
    changed: Changed = field(default_factory=list)  # the tree's objects
    others: list[tuple[EntityKind, int]] = field(default_factory=list)  # changed, not the tree's
    whole: dict[EntityKind, list[dict[str, Any]]] = field(default_factory=dict)  # kinds listed whole
    unseen: str = ""  # what this probe could not see, for the log

    @property
    def unchanged(self) -> bool:
        return self.sure and not self.changed


def find_record(client: BookStackClient, tree_id: str) -> tuple[SyncRecord, Carrier] | None:
    """The tree's newest record and the object carrying it (one of the tree's own objects: another docs
    tree's record in the same wiki is not taken for this one's)."""
    found: list[tuple[SyncRecord, Carrier]] = []
    for hit in client.search(record_query(tree_id)):
        kind = KIND_OF_SEARCH_TYPE.get(str(hit.get("type")))
        tags = tuple((str(t.get("name", "")), str(t.get("value") or "")) for t in hit.get("tags", []))
        if tree_id and (TREE_TAG, tree_id) not in tags:
            continue
        for name, value in tags:
            record = SyncRecord.parse(value) if name == STATE_TAG else None
            if record is not None and kind is not None:
                found.append((record, Carrier(kind, int(hit["id"]), tags)))
    return max(found, key=lambda pair: pair[0].seq) if found else None


def list_newest(client: BookStackClient, kinds: Collection[EntityKind] = KINDS) -> Listed:
    """One request per kind: the 500 most recently updated objects, and how many there are."""
    listed = Listed()
    for kind in kinds:
        filters = {"draft": 0} if kind is EntityKind.PAGE else None
        items, total, clock = client.list_first(API_KIND[kind], sort="-updated_at", filters=filters)
        listed.items[kind] = [item for item in items if not item.get("draft")]
        listed.totals[kind] = total
        listed.saw_clock(clock)
    return listed


def run_probe(client: BookStackClient, tree_id: str) -> Probe:
    found = find_record(client, tree_id)
    if found is None:
        return Probe(False, "no record of a last sync in BookStack (a first sync, or one from an older version)")
    record, carrier = found
    if record.time is None or record.totals is None:
        what = "when it ended" if record.time is None else "how many objects it left"
        return Probe(False, f"the last sync could not record {what}", record, carrier)
    audit: AuditRead | None = None
    if record.audit is not None:
        # the audit log stands in for the shelves' listing: their changes are logged too
        listed = list_newest(client, [kind for kind in KINDS if kind is not EntityKind.SHELF])
        try:
            audit = read_since(client, record.audit)
        except PermissionDeniedError:
            return Probe(False, "the token may no longer read BookStack's audit log", record, carrier)
        listed.saw_clock(audit.clock)
        listed.activity = max(audit.newest or 0, record.audit)
        listed.totals[EntityKind.SHELF] = record.totals[0]  # a shelf created or deleted since is logged
    else:
        listed = list_newest(client)
    probe = judge(client, record, carrier, listed, tree_id, audit)
    probe.whole = listed.whole()
    return probe


def judge(
    client: BookStackClient,
    record: SyncRecord,
    carrier: Carrier,
    listed: Listed,
    tree_id: str,
    audit: AuditRead | None = None,
) -> Probe:
    """Compare the listings, and the audit log when read, with the record (``record.time`` and
    ``record.totals`` are set)."""
    assert record.time is not None and record.totals is not None
    since = record.time
    newest, _ = newest_second(listed.all())
    # a clock set back would stamp later changes with earlier times than the record's: none would show
    now = listed.clock if listed.clock is not None else newest
    if now is None or now < since:
        shown = now.isoformat() if now else "nothing"
        return Probe(
            False,
            f"BookStack's clock is behind the last sync's ({shown} < {since.isoformat()}): moved back?",
            record,
            carrier,
        )
    changed: Changed = []
    created = dict.fromkeys(KINDS, 0)
    carrier_seen = False
    own_user: int | None = None  # the plugin's: it wrote the record on the carrier
    written = {(kind, item_id) for kind, item_id, _ in record.written}
    for kind in (kind for kind in KINDS if kind in listed.items):
        items = listed.items[kind]
        recent = [item for item in items if _at(item) is not None and _at(item) >= since]  # type: ignore[operator]
        if len(recent) == len(items) and listed.totals[kind] > len(items):
            return Probe(False, f"more than {len(items)} {API_KIND[kind]} changed since the last sync", record, carrier)
        for item in recent:
            item_id = int(item["id"])
            if (kind, item_id) == (carrier.kind, carrier.id):
                carrier_seen = True
                own_user = item.get("updated_by") if isinstance(item.get("updated_by"), int) else None
                if carrier_fingerprint(kind, item, carrier.tags) == record.fingerprint:
                    continue  # the record's own write, nothing since
            elif (kind, item_id) in written:
                if (kind, item_id, written_fingerprint(kind, item)) in record.written:
                    continue  # written by the run that wrote the record, as it left it
            elif _at(item) == since and (
                (kind, item_id, written_fingerprint(kind, item)) in record.seen or (kind, item_id, "") in record.seen
            ):
                continue  # in the record's last second, accounted for, as it was then
            created_at = parse_time(str(item.get("created_at") or ""))
            if created_at is not None and created_at >= since:
                created[kind] += 1
            changed.append((kind, item))
    if not carrier_seen:
        return Probe(
            False,
            "the record's carrier is not where the last sync left it (deleted, or a clock change)",
            record,
            carrier,
        )
    look_at: list[tuple[EntityKind, int, str]] = []
    if audit is not None:
        why, look_at = _audit_says(audit, record, own_user, written, changed)
        if why is not None:
            return Probe(False, why, record, carrier, listed)
    for kind, recorded in zip(KINDS, record.totals, strict=True):
        expected = recorded + created[kind]
        if listed.totals[kind] != expected:
            return Probe(
                False,
                f"BookStack lists {listed.totals[kind]} {API_KIND[kind]}, the last sync left {recorded}"
                f" and {created[kind]} were created since: something was deleted or restored",
                record,
                carrier,
            )
    moved = _layout_moved(record, listed, since) if audit is None else False
    if moved:
        # a changed object the probe names may be why, or hide a Sort-screen change beside it: read it all
        return Probe(False, LAYOUT_MOVED, record, carrier, listed)
    ours, others = _sort_out(client, changed, tree_id, since, carrier)
    if ours is not None:
        for kind, item_id, happened in look_at:
            read = _look_up(client, kind, {"id": item_id, "happened": happened}, tree_id)
            if read is None:
                ours = None
                break
            if read:
                ours.append((kind, read))
            else:
                others.append((kind, item_id))
    if ours is None:
        why = f"{len(changed)} objects changed in BookStack since the last sync"
        return Probe(False, why, record, carrier, listed)
    why = f"{len(ours)} of the tree's objects changed in BookStack since the last sync" if ours else "nothing changed"
    # what moves no updated_at is in the layout of books, chapters and pages; past 500 of a kind, nowhere
    sorted_unseen = audit is None and (moved is None or not _SORTED.issubset(layout_kinds(record.layout)))
    return Probe(True, why, record, carrier, listed, ours, others, unseen=UNSEEN if sorted_unseen else "")


def _audit_says(
    audit: AuditRead,
    record: SyncRecord,
    own_user: int | None,
    written: Collection[tuple[EntityKind, int]],
    changed: Changed,
) -> tuple[str | None, list[tuple[EntityKind, int, str]]]:
    """Why the activities since the record send the run to read everything, or the shelves and books
    they name that the listings did not (each is read to tell whether it is the tree's)."""
    assert record.audit is not None
    verdict = judge_audit(audit, record.audit, own_user, written, record.time)
    if verdict.why is not None:
        return f"{verdict.why}, since the last sync (BookStack's audit log)", []
    listed_ids = {(kind, int(item["id"])) for kind, item in changed}
    look_at = [entry for entry in verdict.look_at if entry[:2] not in listed_ids]
    if len(look_at) > LOOKUPS:
        return f"{len(look_at)} shelves and books sorted or changed since the last sync (BookStack's audit log)", []
    return None, look_at


LAYOUT_MOVED = (
    "objects were sorted, moved, deleted or restored in BookStack since the last sync, some without a trace in"
    " the listings (a book's Sort screen, the recycle bin, a permission change)"
)


_SORTED = {EntityKind.BOOK, EntityKind.CHAPTER, EntityKind.PAGE}
UNSEEN = (
    "without BookStack's audit log, in a wiki of over 500 pages, chapters or books, a book's Sort screen and a"
    " deletion a restore hides in the counts are seen by a full resync only: give the token's role"
    ' "Manage app settings" and "Manage users", or schedule a full resync'
)


def _layout_moved(record: SyncRecord, listed: Listed, since: datetime) -> bool | None:
    """Whether the objects sit elsewhere than the record's ``layout`` says; None when it cannot be told
    (a kind with more objects than one listing holds)."""
    kinds = layout_kinds(record.layout)
    whole = listed.whole()
    if not kinds or any(kind not in whole for kind in kinds):
        return None
    return layout_of(whole, kinds, upto=since) != record.layout


def _at(item: dict[str, Any]) -> datetime | None:
    return parse_time(str(item.get("updated_at") or ""))


def _sort_out(
    client: BookStackClient,
    changed: Changed,
    tree_id: str,
    since: datetime,
    carrier: Carrier,
) -> SortedOut:
    """The changed objects that are the tree's, and the others (someone else's pages and books, another
    docs tree's); None when that cannot be told. A few are read one by one for their tags; more (another
    tree synced) are told apart by one search for the tree's objects updated since the day before the
    record (``{updated_after:…}`` compares with the database's local dates, so a day's margin covers any
    ``APP_TIMEZONE``; the exact times are compared here)."""
    if len(changed) > LOOKUPS:
        return _sort_out_by_search(client, changed, tree_id, since, carrier)
    ours: Changed = []
    others: list[tuple[EntityKind, int]] = []
    for kind, item in changed:
        read = _look_up(client, kind, item, tree_id)
        if read is None:
            return None, []
        if read:
            ours.append((kind, read))
        else:
            others.append((kind, int(item["id"])))
    return ours, others


def _look_up(client: BookStackClient, kind: EntityKind, item: dict[str, Any], tree_id: str) -> dict[str, Any] | None:
    """One changed object read for its tags: as listed, with its tags and its last editor's name, when it
    is the tree's; empty when it is not; None when it is gone (something is moving: read everything)."""
    try:
        read = client.read(API_KIND[kind], int(item["id"]))
    except NotFoundError:
        return None
    if not is_own([(str(t.get("name")), str(t.get("value") or "")) for t in read.get("tags", [])], tree_id):
        return {}
    chapter_id = normalise_chapter_id(item.get("chapter_id"))
    editor = read.get("updated_by")  # a single read names the user
    named = str(editor.get("name") or "") if isinstance(editor, dict) else ""
    return {**item, "chapter_id": chapter_id, "tags": read.get("tags", []), "editor_name": named}


def _sort_out_by_search(
    client: BookStackClient,
    changed: Changed,
    tree_id: str,
    since: datetime,
    carrier: Carrier,
) -> SortedOut:
    if not tree_id:
        return None, []
    day = (since - timedelta(days=1)).date().isoformat()
    hits, total = client.search_first(f"[{MANAGED_TAG}] [{TREE_TAG}={tree_id}] {{updated_after:{day}}}")
    if total > len(hits):
        return None, []
    mine = {
        (kind, int(hit["id"]))
        for hit in hits
        if (kind := KIND_OF_SEARCH_TYPE.get(str(hit.get("type")))) is not None
        and (kind, int(hit["id"])) != (carrier.kind, carrier.id)
        and (_at(hit) is None or _at(hit) >= since)  # type: ignore[operator]
    }
    ours = [(kind, item) for kind, item in changed if (kind, int(item["id"])) in mine]
    others = [(kind, int(item["id"])) for kind, item in changed if (kind, int(item["id"])) not in mine]
    return ours, others
