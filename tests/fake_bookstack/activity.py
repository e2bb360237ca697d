"""BookStack's audit log: the ``activities`` table and ``ActivityLogger`` (the same in v25.02 and v26.03).

``ActivityLogger::add($type, $detail)`` writes one row: ``type`` lower-cased, ``user_id`` the acting user,
``ip`` the request's address (``IP_ADDRESS_PRECISION`` 4 by default: unmasked), ``detail`` the text given or
a ``Loggable``'s ``logDescriptor()``, and ``loggable_id``/``loggable_type`` only when the detail is an
entity (morph class ``bookshelf``/``book``/``chapter``/``page``). A deletion, an import or a page revision
is loggable but no entity: its row has NULL ``loggable_*``. When an entity is destroyed for good,
``removeEntity`` rewrites every row about it: ``detail`` becomes its name, ``loggable_*`` NULL.

Who acts is ``store.actor``: the API sets it to the token's user for each request (``Api.handle``), the
fake's human helpers to the person in the UI (``acting``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .state import Deletion, Store

# AuditLogApiController::list: the listed (sortable, filterable) fields; the first is the default sort.
AUDIT_FIELDS = ["id", "type", "detail", "user_id", "loggable_id", "loggable_type", "ip", "created_at"]

# Where the fake's requests come from (loopback), and a person's browser (a documentation address).
API_IP = "127.0.0.1"
HUMAN_IP = "203.0.113.7"

_MORPH_CLASS = {"Shelf": "bookshelf", "Book": "book", "Chapter": "chapter", "Page": "page"}


@dataclass
class Activity:
    """One row of ``activities``."""

    id: int
    type: str
    detail: str
    user_id: int
    loggable_id: int | None
    loggable_type: str | None
    ip: str
    created_at: datetime


@dataclass(frozen=True)
class Actor:
    """The user an activity is logged for and the address the request came from."""

    user_id: int
    ip: str


def morph_class(item: Any) -> str | None:
    """``getMorphClass()`` of a shelf, book, chapter or page; None for anything else."""
    return _MORPH_CLASS.get(type(item).__name__)


def descriptor(item: Any) -> str:
    """``logDescriptor()`` of an entity, a user or an import: ``(id) name``."""
    return f"({item.id}) {item.name}"


def deletion_descriptor(deletion: Deletion, item: Any) -> str:
    """``Deletion::logDescriptor`` of an entry whose item is still there (trashed): ``Deletion (7) for page
    (12) Name``, the type being ``Entity::getType()`` (``bookshelf`` for a shelf)."""
    return f"Deletion ({deletion.id}) for {morph_class(item)} ({item.id}) {item.name}"


def log(store: Store, activity_type: str, detail: Any = "") -> Activity:
    """``ActivityLogger::add``: an entity as ``detail`` is the row's loggable; a string is stored as it is."""
    morph = morph_class(detail)
    activity = Activity(
        id=store.next_id("activity"),
        type=activity_type.lower(),
        detail=detail if isinstance(detail, str) else descriptor(detail),
        user_id=store.actor.user_id,
        loggable_id=int(detail.id) if morph is not None else None,
        loggable_type=morph,
        ip=store.actor.ip,
        created_at=store.now(),
    )
    store.activities.append(activity)
    return activity


def remove_entity(store: Store, item: Any) -> None:
    """``ActivityLogger::removeEntity`` (``TrashCan::destroyCommonRelations``): the rows about a destroyed
    entity keep its name in ``detail`` and lose their loggable."""
    key = (item.id, morph_class(item))
    for activity in store.activities:
        if (activity.loggable_id, activity.loggable_type) == key:
            activity.detail, activity.loggable_id, activity.loggable_type = item.name, None, None


@contextmanager
def acting(store: Store, actor: Actor) -> Iterator[None]:
    """Log what happens inside as ``actor``'s doing (the caller holds the server's lock)."""
    before = store.actor
    store.actor = actor
    try:
        yield
    finally:
        store.actor = before
