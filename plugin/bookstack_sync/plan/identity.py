"""Which BookStack object a renamed, renumbered or moved source continues.

Pure: no I/O. A desired key that no managed object carries yet may continue a managed key that is gone
from the docs (a "loose" key): the same object, renamed or moved, which keeps its id. Pairs are formed
level by level (shelves, then books, chapters, pages: a page follows its folder), by criteria from the
strongest to the weakest. A criterion pairs only where it is unambiguous: a signature that exactly one
loose key and exactly one wanted key share. What stays unpaired is created, or reported as an orphan.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from ..model import EntityKind

_NUMBER = re.compile(r"^[0-9]{2}-")

Signature = Callable[[str], Hashable | None]


@dataclass(frozen=True)
class Criterion:
    """One way of recognising a key's continuation: the signatures of an old and of a new key."""

    reason: str  # said in the plan: "git rename", "same title in the same folder", ...
    old: Signature
    new: Signature


@dataclass(frozen=True)
class Pair:
    old: str
    reason: str


def pair_unique(
    loose: Iterable[str],
    wanted: Iterable[str],
    criteria: Sequence[Criterion],
    on_pair: Callable[[str, str], None] | None = None,
) -> dict[str, Pair]:
    """new key -> the old key it continues, criterion by criterion, unambiguous signatures only.

    ``on_pair(new, old)`` hears of each pair as soon as a criterion has made it, before the next
    criterion's signatures are taken (a page's rendering needs the ids of the pages it links to).
    """
    left_old = set(loose)
    left_new = set(wanted)
    pairs: dict[str, Pair] = {}
    for criterion in criteria:
        if not left_old or not left_new:
            break
        olds = _grouped(left_old, criterion.old)
        if not olds:
            continue  # no old key has this signature: the new side need not be computed
        news = _grouped(left_new, criterion.new)
        for signature, new_keys in news.items():
            old_keys = olds.get(signature, [])
            if len(new_keys) == 1 and len(old_keys) == 1:
                pairs[new_keys[0]] = Pair(old_keys[0], criterion.reason)
                left_old.discard(old_keys[0])
                left_new.discard(new_keys[0])
                if on_pair is not None:
                    on_pair(new_keys[0], old_keys[0])
    return pairs


def _grouped(keys: Iterable[str], signature: Signature) -> dict[Hashable, list[str]]:
    groups: dict[Hashable, list[str]] = defaultdict(list)
    for key in sorted(keys):
        value = signature(key)
        if value is not None:
            groups[value].append(key)
    return groups


def parent_of(key: str) -> str:
    return key.rpartition("/")[0]


def last_segment(key: str) -> str:
    return key.rpartition("/")[2]


def stem(page_key: str) -> str:
    """A page file's name without its number: ``02-setup.md`` → ``setup.md``."""
    return _NUMBER.sub("", last_segment(page_key))


def translate(key: str, moved: Mapping[str, str]) -> str:
    """``key`` with its longest moved ancestor replaced: where it is now if it only went with its folder."""
    parts = key.split("/")
    for length in range(len(parts) - 1, 0, -1):
        new_prefix = moved.get("/".join(parts[:length]))
        if new_prefix is not None:
            return "/".join([new_prefix, *parts[length:]])
    return key


def container_of(page_key: str, kind: EntityKind) -> str | None:
    """The key of the shelf, book or chapter a page path lies in (None: a book-level page has no chapter)."""
    parts = page_key.split("/")
    if kind is EntityKind.SHELF:
        return parts[0] if len(parts) >= 3 else None
    if kind is EntityKind.BOOK:
        return "/".join(parts[:2]) if len(parts) >= 3 else None
    return "/".join(parts[:3]) if len(parts) == 4 else None


def pair_by_history(
    kind: EntityKind, loose: Iterable[str], wanted: Iterable[str], renames: Mapping[str, str]
) -> dict[str, Pair]:
    """Containers whose pages git saw renamed from one to the other: each side sends or receives more than
    half of its renamed pages to or from the other (git does not track folders, only their files)."""
    loose_set, wanted_set = set(loose), set(wanted)
    votes: Counter[tuple[str, str]] = Counter()
    for old_page, new_page in renames.items():
        old, new = container_of(old_page, kind), container_of(new_page, kind)
        if old in loose_set and new in wanted_set and old is not None and new is not None:
            votes[(old, new)] += 1
    sent: Counter[str] = Counter()
    received: Counter[str] = Counter()
    for (old, new), count in votes.items():
        sent[old] += count
        received[new] += count
    pairs: dict[str, Pair] = {}
    for (old, new), count in sorted(votes.items()):
        if 2 * count > sent[old] and 2 * count > received[new]:
            pairs[new] = Pair(old, "git rename of its pages")
    return pairs


def pair_containers(
    kind: EntityKind,
    loose: Mapping[str, str],
    wanted: Mapping[str, str],
    renames: Mapping[str, str],
    moved: Mapping[str, str],
) -> dict[str, Pair]:
    """Shelves, books or chapters: ``loose`` and ``wanted`` map keys to names; ``moved`` holds the pairs
    (old → new key) of the levels above, so a book on a renamed shelf follows it."""
    pairs = pair_by_history(kind, loose, wanted, renames)
    rest_old = [key for key in loose if key not in {pair.old for pair in pairs.values()}]
    rest_new = [key for key in wanted if key not in pairs]

    def place(key: str) -> str:
        return parent_of(translate(key, moved))

    criteria = [Criterion("its parent moved", lambda key: translate(key, moved), lambda key: key)]
    if kind is not EntityKind.SHELF:
        criteria.append(Criterion("same slug", last_segment, last_segment))
    criteria += [
        Criterion(
            "same name in the same place", lambda key: (place(key), loose[key]), lambda k: (parent_of(k), wanted[k])
        ),
        Criterion("same name", lambda key: loose[key], lambda key: wanted[key]),
    ]
    pairs.update(pair_unique(rest_old, rest_new, criteria))
    return pairs


@dataclass(frozen=True)
class PageFacts:
    """What, besides its key, recognises a page: its title and the hash of its body."""

    title: str
    body: str | None  # None: unknown (an old page without the tag, or a rendering that waits for an id)
    full_hash: str | None = None  # the stored hash over name, body, tags, parent and order (older pages)


def pair_pages(
    loose: Mapping[str, PageFacts],
    wanted_titles: Mapping[str, str],
    body_of: Callable[[str], str | None],
    full_hash_of: Callable[[str], str | None],
    renames: Mapping[str, str],
    moved: Mapping[str, str],
    on_pair: Callable[[str, str], None] | None = None,
) -> dict[str, Pair]:
    """Pages, once their shelves, books and chapters are paired (``moved``: old → new container keys).

    ``body_of`` and ``full_hash_of`` hash a wanted page as it would be written; they are called only
    when the criteria before them left pages unpaired (rendering costs time on a large tree).
    """

    def folder(key: str) -> str:
        return parent_of(translate(key, moved))

    def old_body(key: str) -> str | None:
        return loose[key].body

    def old_full(key: str) -> tuple[str, str] | None:
        value = loose[key].full_hash
        return (folder(key), value) if value else None

    def new_full(key: str) -> tuple[str, str] | None:
        value = full_hash_of(key)
        return (parent_of(key), value) if value else None

    def with_folder(signature: Callable[[str], str | None], old: bool) -> Signature:
        def signed(key: str) -> tuple[str, str] | None:
            value = signature(key)
            if value is None:
                return None
            return (folder(key) if old else parent_of(key), value)

        return signed

    criteria = [
        Criterion("git rename", lambda key: renames.get(key), lambda key: key),
        Criterion("its folder moved", lambda key: translate(key, moved), lambda key: key),
        Criterion("same file name", last_segment, last_segment),
        Criterion("same name without its number in the same folder", with_folder(stem, True), with_folder(stem, False)),
        Criterion("same name without its number", stem, stem),
        Criterion("same content in the same folder", with_folder(old_body, True), with_folder(body_of, False)),
        Criterion("same content in the same folder", old_full, new_full),
        Criterion("same content", old_body, body_of),
        Criterion(
            "same title in the same folder",
            with_folder(lambda key: loose[key].title, True),
            with_folder(lambda key: wanted_titles[key], False),
        ),
    ]
    return pair_unique(loose, wanted_titles, criteria, on_pair)
