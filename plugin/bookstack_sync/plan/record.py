"""The tree's sync record: what the next run compares against to know, in a handful of requests, that
nothing changed.

It is the value of one tag (``bookstack-sync-state``) on one object of the tree — its *carrier*, a
managed book, or the page a one-page run wrote — so it lives in BookStack with the tree: no file in git,
no cache between pipelines. It holds:

- ``time``: the server's clock, in BookStack's whole seconds, such that every change the run knows of is
  at or before it: read from BookStack's own ``updated_at`` values, never from this machine's clock;
- ``seen``: the objects whose ``updated_at`` is exactly ``time`` and are accounted for, each as it was
  listed then (``written_fingerprint``: anything else in that second, or a later save of one of them in
  it, or later, is a change);
- ``totals``: how many shelves, books, chapters and pages BookStack listed after the run (a deletion
  moves no ``updated_at`` of anything still visible: the count tells);
- ``digest``: of the docs tree as synced (every file under docs_dir, the settings that shape what is
  written, the plugin's version), the XOR of one hash per file (``source_hash``, which each page also
  carries) so that a run told which files changed can check that no other did, and ``commit``, the
  commit checked out, for ``git diff`` (its first ``COMMIT_CHARS`` hex digits: git takes a prefix, and
  the tag value has room for little);
- ``fingerprint``: of the carrier as written (its name, parent, revision and tags), since writing the
  record moves the carrier's own ``updated_at``;
- ``audit``: the id of the newest activity in BookStack's audit log then, when the token may read it:
  the next probe reads the activities after it instead of listing shelves, and sees what moves no
  ``updated_at`` (``audit.py``);
- ``layout``: where every shelf, book, chapter and page of the wiki sat (``layout_of``: ids, parents and
  priorities), over the kinds whose listing held every object, for a token without the audit log: a
  book's Sort screen, a restore from the recycle bin or an object coming into sight move no
  ``updated_at`` and can leave every count as it was, but not the layout;
- ``written``: what a run that carried the record on its own writes (or wrote it without listing
  BookStack after them) wrote besides the carrier, each with a fingerprint of how a listing shows it
  after that write (``written_fingerprint``: its ``updated_at`` and name; a page's parent and revision):
  they moved after ``time`` by the run's own hand.

``None`` for ``time`` or ``totals`` means the run could not be sure of them: the next run reads
everything.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ..model import EntityKind
from .tags import STATE_TAG

KINDS = (EntityKind.SHELF, EntityKind.BOOK, EntityKind.CHAPTER, EntityKind.PAGE)
_LETTER = {EntityKind.SHELF: "s", EntityKind.BOOK: "b", EntityKind.CHAPTER: "c", EntityKind.PAGE: "p"}
_KIND_OF = {letter: kind for kind, letter in _LETTER.items()}
_FORMAT = "v1"
MAX_VALUE = 191  # BookStack's tag value column
COMMIT_CHARS = 16  # of a commit's name: unique in any repository (else git cannot say, and the run reads everything)


def parse_time(stamp: str) -> datetime | None:
    """BookStack's ``2026-12-06T10:00:00.000000Z`` (UTC) as an aware datetime, None when unreadable."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except (TypeError, ValueError):
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class SyncRecord:
    seq: int
    time: datetime | None
    seen: frozenset[tuple[EntityKind, int, str]]  # (kind, id, written_fingerprint as listed; "": not kept)
    totals: tuple[int, int, int, int] | None
    digest: str
    commit: str
    fingerprint: str
    settings: str = ""  # digest of the settings that shape what is written (and the plugin's version) alone
    written: tuple[tuple[EntityKind, int, str], ...] = ()  # (kind, id, written_fingerprint) besides the carrier
    # the newest activity in BookStack's audit log when the record was written (None: the token could not
    # read the log, or was not asked): later activities are after the record
    audit: int | None = None
    layout: str = ""  # ``layout_of`` the kinds listed whole (without the audit log), "" when none

    def format(self) -> str:
        stamp = str(int(self.time.timestamp())) if self.time is not None else "?"
        seen = ".".join(
            f"{_LETTER[kind]}{item_id}" + (f":{print_}" if print_ else "")
            for kind, item_id, print_ in sorted(self.seen)
        )
        totals = ".".join(str(n) for n in self.totals) if self.totals is not None else "?"
        written = ".".join(f"{_LETTER[kind]}{item_id}:{print_}" for kind, item_id, print_ in self.written)
        return (
            f"{_FORMAT};s={self.seq};t={stamp};x={seen};n={totals};d={self.digest};c={self.commit[:COMMIT_CHARS]};"
            f"f={self.fingerprint};h={self.settings}"
            + (f";w={written}" if written else "")
            + (f";a={self.audit}" if self.audit is not None else "")
            + (f";l={self.layout}" if self.layout else "")
        )

    def fitting(self) -> SyncRecord:
        """This record, or one that fits a tag value: too many objects in the last second give up the time."""
        if len(self.format()) <= MAX_VALUE:
            return self
        return replace(self, time=None, seen=frozenset(), written=())

    @classmethod
    def parse(cls, value: str) -> SyncRecord | None:
        """The record a tag value holds; None for anything else (another format, a hand-edited value)."""
        fields = value.split(";")
        if not fields or fields[0] != _FORMAT:
            return None
        parts = dict(field.partition("=")[::2] for field in fields[1:])
        try:
            seq = int(parts["s"])
            time = datetime.fromtimestamp(int(parts["t"]), UTC) if parts["t"] != "?" else None
            seen = frozenset(
                (_KIND_OF[item[0]], int(item[1:]), print_)
                for item, _, print_ in (entry.partition(":") for entry in parts["x"].split("."))
                if item
            )
            totals = tuple(int(n) for n in parts["n"].split(".")) if parts["n"] != "?" else None
            digest, commit, fingerprint, settings = parts["d"], parts["c"], parts["f"], parts.get("h", "")
            written = tuple(
                (_KIND_OF[item[0]], int(item[1:]), print_)
                for item, _, print_ in (entry.partition(":") for entry in parts.get("w", "").split("."))
                if item
            )
            audit = int(parts["a"]) if "a" in parts else None
            layout = parts.get("l", "")
            layout_kinds(layout)
        except (KeyError, ValueError, IndexError):
            return None
        if totals is not None and len(totals) != len(KINDS):
            return None
        return cls(seq, time, seen, totals, digest, commit, fingerprint, settings, written, audit, layout)  # type: ignore[arg-type]


def carrier_fingerprint(kind: EntityKind, item: Mapping[str, Any], tags: Iterable[tuple[str, str]]) -> str:
    """What a person could change on the record's carrier without it showing elsewhere: its name and
    description, its parent, a page's revision count, its tags (the record's own left out). ``item`` is
    the carrier as a listing shows it (or the write that made it answered)."""
    parent = (item.get("book_id") or 0, item.get("chapter_id") or 0) if kind is EntityKind.PAGE else (0, 0)
    revision = item.get("revision_count") or 0 if kind is EntityKind.PAGE else 0
    own = sorted((str(name), str(value).strip()) for name, value in tags if name != STATE_TAG)
    text = "\0".join(
        [kind.value, str(item.get("name") or ""), str(item.get("description") or ""), str(parent), str(revision)]
        + [f"{name}={value}" for name, value in own]
    )
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def written_fingerprint(kind: EntityKind, item: Mapping[str, Any]) -> str:
    """An object as BookStack answered a write of it, or as a listing shows it: its ``updated_at`` (to
    the second: anything saved later moves it), its name, and for a page its parent and revision count
    (a save in the same second moves that)."""
    moment = parse_time(str(item.get("updated_at") or ""))
    parts = [kind.value, str(int(moment.timestamp()) if moment else 0), str(item.get("name") or "")]
    if kind is EntityKind.PAGE:
        parts += [str((item.get("book_id") or 0, item.get("chapter_id") or 0)), str(item.get("revision_count") or 0)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:6]


def settings_digest(shaping: Mapping[str, object]) -> str:
    """A hash of the settings that shape what is written, and of the plugin's version."""
    from .. import __version__

    return hashlib.sha256(f"{__version__}\0{sorted((k, str(v)) for k, v in shaping.items())}".encode()).hexdigest()[:8]


def source_hash(relpath: str, data: bytes) -> str:
    """One file's share of ``docs_digest``: 64 bits of sha256(path, NUL, sha256(bytes)), 16 hex digits. A page
    is written with its file's (``SOURCE_TAG``), so a run that knows which files changed can tell from the
    record's digest whether anything else did (``plan/edit``)."""
    return hashlib.sha256(relpath.encode() + b"\0" + hashlib.sha256(data).digest()).hexdigest()[:16]


def combine(*hashes: str) -> str:
    """16-hex-digit hashes XORed: taking a file's hash out of a digest is combining it in again."""
    value = 0
    for item in hashes:
        value ^= int(item, 16)
    return f"{value:016x}"


def file_shares(docs_dir: Path, *, skip: Iterable[Path] = ()) -> dict[str, str]:
    """Each file under docs_dir (not in ``.git``, not ``skip``) by its path relative to docs_dir: its
    ``source_hash``, read once a run for the digest, the pages' ``SOURCE_TAG`` and the edit path."""
    root = docs_dir.resolve()
    outputs = set(skip)
    files = (p for p in root.rglob("*") if p.is_file() and ".git" not in p.relative_to(root).parts)
    shares: dict[str, str] = {}
    for path in files:
        if path.resolve() not in outputs:
            rel = path.relative_to(root).as_posix()
            shares[rel] = source_hash(rel, path.read_bytes())
    return shares


def docs_digest(shares: Mapping[str, str], shaping: Mapping[str, object]) -> str:
    """A hash of everything a sync's result depends on locally: each file under docs_dir (``file_shares``:
    path and bytes, not this run's own output files), the settings that shape what is written (``shaping``)
    and the plugin's version. Combinable: the XOR of each file's ``source_hash`` and the settings' hash."""
    settings = hashlib.sha256(f"settings\0{settings_digest(shaping)}".encode()).hexdigest()[:16]
    return combine(settings, *shares.values())


def newest_second(
    items: Iterable[tuple[EntityKind, Mapping[str, Any]]],
) -> tuple[datetime | None, frozenset[tuple[EntityKind, int, str]]]:
    """The latest ``updated_at`` among listed items and the objects that carry exactly it, each with its
    ``written_fingerprint`` as listed (a person's save later in that second moves a page's revision, a
    name)."""
    newest: datetime | None = None
    at_newest: set[tuple[EntityKind, int, str]] = set()
    for kind, item in items:
        moment = parse_time(str(item.get("updated_at") or ""))
        if moment is None:
            continue
        if newest is None or moment > newest:
            newest, at_newest = moment, set()
        if moment == newest:
            at_newest.add((kind, int(item["id"]), written_fingerprint(kind, item)))
    return newest, frozenset(at_newest)


def layout_of(
    items: Mapping[EntityKind, Iterable[Mapping[str, Any]]],
    kinds: Iterable[EntityKind],
    *,
    upto: datetime,
    placed: Mapping[tuple[EntityKind, int], Mapping[str, Any]] = MappingProxyType({}),
) -> str:
    """Where the objects of ``kinds`` sit, as listed (every object of each kind): each shelf and book by its
    id, each chapter by its book and priority, each page by its book, chapter and priority — in 8 hex
    digits after the kinds' letters (``bcp-1a2b3c4d``). Objects created after ``upto`` (the record's time:
    the probe sees them as created) are left out; ``placed`` overrides where the listing shows some (a run's
    own writes after the listing, as BookStack answered them). "" for no kind."""
    chosen = [kind for kind in KINDS if kind in set(kinds)]
    if not chosen:
        return ""
    entries: list[tuple[str, int, int, int, int]] = []
    for kind in chosen:
        for item in items.get(kind, ()):
            item_id = int(item["id"])
            created = parse_time(str(item.get("created_at") or ""))
            if created is not None and created > upto:
                continue
            item = {**item, **placed.get((kind, item_id), {})}
            book = int(item.get("book_id") or 0) if kind in (EntityKind.CHAPTER, EntityKind.PAGE) else 0
            chapter = int(item.get("chapter_id") or 0) if kind is EntityKind.PAGE else 0
            priority = int(item.get("priority") or 0) if kind in (EntityKind.CHAPTER, EntityKind.PAGE) else 0
            entries.append((_LETTER[kind], item_id, book, chapter, priority))
    text = "\n".join(",".join(str(part) for part in entry) for entry in sorted(entries))
    return "".join(_LETTER[kind] for kind in chosen) + "-" + hashlib.sha256(text.encode()).hexdigest()[:8]


def layout_kinds(layout: str) -> tuple[EntityKind, ...]:
    """The kinds a ``layout_of`` value covers (ValueError for a value that is not one)."""
    if not layout:
        return ()
    letters, _, digest = layout.partition("-")
    if len(digest) != 8 or not letters or any(letter not in _KIND_OF for letter in letters):
        raise ValueError(f"not a layout: {layout!r}")
    return tuple(_KIND_OF[letter] for letter in letters)


def is_record_value(value: str) -> bool:
    return re.match(rf"{_FORMAT};", value) is not None
