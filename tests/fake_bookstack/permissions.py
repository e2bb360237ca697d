"""Who may do what: the token role's permissions and per-item (entity) permissions, as BookStack checks them.

BookStack's ``PermissionApplicator::checkOwnableUserAccess`` decides ``userCan('page-update', $page)``:
the role needs ``page-update-all``, or ``page-update-own`` when the item's ``owned_by`` is the user; then,
for shelves, books, chapters and pages, an entity permission on the item — or failing that on its chapter,
then its book — that names the action replaces the role's answer (``EntityPermissionEvaluator``; the first
item up the chain with a setting wins). Image and attachment permissions are role-only. The system admin
role skips entity permissions; the fake's token role is modelled as a non-admin role with the permissions
it is given, so an entity permission always applies.

View permissions are not modelled: every item is visible to the token.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .state import API_USER, Book, Chapter, Page, Shelf

ENTITY_ACTIONS = ("view", "create", "update", "delete")

# Everything BookStack's Admin role has that the API checks.
ADMIN_ROLE_PERMISSIONS: frozenset[str] = frozenset(
    {
        "access-api",
        "content-import",
        "content-export",
        "editor-change",
        "settings-manage",
        "users-manage",  # with settings-manage: the audit log (AuditLogApiController)
        "user-roles-manage",
        "restrictions-manage-all",
        "templates-manage",
        "bookshelf-create-all",
        "book-create-all",
        "chapter-create-all",
        "page-create-all",
        "image-create-all",
        "attachment-create-all",
        *(f"{kind}-{action}-all" for kind in ("bookshelf", "book", "chapter", "page") for action in ENTITY_ACTIONS),
        *(f"{kind}-{action}-all" for kind in ("image", "attachment") for action in ("update", "delete")),
    }
)

# The token role's permissions when a test names none.
DEFAULT_PERMISSIONS = ADMIN_ROLE_PERMISSIONS

# "Access System API" alone: what a Viewer-like token that may call the API but write nothing has (§12).
API_ONLY: frozenset[str] = frozenset({"access-api"})

_ENTITY_KIND = {Shelf: "bookshelf", Book: "book", Chapter: "chapter", Page: "page"}


def entity_kind(item: Any) -> str:
    """BookStack's morph class of a shelf/book/chapter/page: ``bookshelf``, ``book``, ``chapter``, ``page``."""
    return _ENTITY_KIND[type(item)]


@dataclass
class Permissions:
    """The token role's permissions plus entity permissions set for that role on single items."""

    role: set[str]
    # (kind, id) -> {action: allowed}; kind is bookshelf | book | chapter | page.
    entity: dict[tuple[str, int], dict[str, bool]] = field(default_factory=dict)

    def has(self, permission: str) -> bool:
        """``user()->can($permission)``: a plain role permission such as ``book-create-all``."""
        return permission in self.role

    def set_entity(self, kind: str, item_id: int, **actions: bool) -> None:
        """Override ``view``/``create``/``update``/``delete`` for the token's role on one item."""
        unknown = set(actions) - set(ENTITY_ACTIONS)
        if unknown or kind not in _ENTITY_KIND.values():
            raise ValueError(f"unknown entity permission: {kind} {sorted(unknown)}")
        self.entity.setdefault((kind, item_id), {}).update(actions)

    def can(self, permission: str, item: Any) -> bool:
        """``userCan('page-update', $page)``: role ``-all`` or ``-own``, overridden by entity permissions."""
        prefix, action = permission.split("-", 1)
        owner = item.owned_by if hasattr(item, "owned_by") else item.created_by
        allowed = f"{permission}-all" in self.role or (f"{permission}-own" in self.role and owner == API_USER)
        if prefix in ("image", "attachment"):
            return allowed
        for key in _chain(item):
            setting = self.entity.get(key, {}).get(action)
            if setting is not None:
                return setting
        return allowed


def _chain(item: Any) -> list[tuple[str, int]]:
    """The item, then its chapter, then its book: the order entity permissions are inherited in."""
    chain = [(entity_kind(item), int(item.id))]
    if isinstance(item, Page) and item.chapter_id is not None:
        chain.append(("chapter", item.chapter_id))
    if isinstance(item, Page | Chapter):
        chain.append(("book", item.book_id))
    return chain
