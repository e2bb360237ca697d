"""What a plan is built on: which BookStack object each desired key maps to (``Matching``), the ZIP import
units, the planner's options, and the hashes a page's stored tags are compared with.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from ..model import EntityKind
from ..settings import OnDrift
from .desired import DesiredPage
from .identity import Pair
from .remote import RemoteObject


@dataclass(frozen=True)
class PlanOptions:
    adopt: bool = True
    on_drift: OnDrift = OnDrift.OVERWRITE
    prune: bool = False
    prune_limit: int = 25  # percent of managed pages
    use_import: bool = False  # the `import` setting allows ZIP imports (the server version is checked here)
    import_max_pages: int = 300


@dataclass(frozen=True)
class ImportUnit:
    """One ZIP import: a new book (with its book-level pages and leading chapters), or one new chapter."""

    kind: EntityKind  # BOOK or CHAPTER
    key: str
    chapter_keys: tuple[str, ...]  # chapters inside (a book unit), in book order
    page_keys: tuple[str, ...]  # every page inside, book-level first, then chapter by chapter

    @property
    def size(self) -> int:
        return len(self.page_keys)


@dataclass
class Matching:
    """Which remote object each desired key maps to, as the planner found it (``apply`` extends a copy)."""

    ids: dict[tuple[EntityKind, str], int] = field(default_factory=dict)
    adopted: set[tuple[EntityKind, str]] = field(default_factory=set)
    import_units: list[ImportUnit] = field(default_factory=list)  # the ZIP imports the routed creates form
    duplicates: list[RemoteObject] = field(default_factory=list)  # same key twice: the higher ids
    orphans: list[RemoteObject] = field(default_factory=list)
    # new key -> the managed key it continues (renamed, renumbered or moved: same object, same id)
    previous: dict[tuple[EntityKind, str], Pair] = field(default_factory=dict)
    leaving: dict[int, set[int]] = field(default_factory=dict)  # shelf id -> books that moved to another shelf
    shared: dict[str, str] = field(default_factory=dict)  # shelf key -> the other tree whose shelf this tree lists on

    def id_of(self, kind: EntityKind, key: str) -> int | None:
        return self.ids.get((kind, key))

    def moved_containers(self) -> dict[str, str]:
        """old → new key of every shelf, book and chapter that continues under another key."""
        return {pair.old: key for (kind, key), pair in self.previous.items() if kind is not EntityKind.PAGE}


# Which desired fields count toward a page's stored hash: what the page *is*, not when it was synced.
def page_hash(page: DesiredPage, markdown: str, parent_id_key: str) -> str:
    payload = {
        "name": page.name,
        "markdown": markdown,
        "tags": [list(tag) for tag in page.tags],
        "parent": parent_id_key,
        "priority": page.priority,
    }
    digest = hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return digest[:32]


def body_hash(markdown: str) -> str:
    """The hash of a page's body alone: it survives a new file name, title, parent or order, so a page
    renamed and retitled at once is still recognised without git history."""
    return hashlib.sha256(markdown.encode()).hexdigest()[:32]


CanonicalRender = Callable[[DesiredPage, Matching], str | None]
"""Renders a page with links resolved to the ids known now and assets as content hashes; ``None`` when
a link target has no id yet (the page must be written after that target is created)."""
