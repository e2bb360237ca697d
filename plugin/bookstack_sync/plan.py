"""Plan: compare what BookStack should hold with what it holds, and list the actions that close the gap.

Pure: no I/O. Matching is by source key first (the ``bookstack-sync`` tag), then — for pages whose key
is gone — by file name (a move) or by content hash in the same folder (a rename), then by name in the
same parent (adoption of unmanaged objects). Everything matched keeps its BookStack id, so revisions,
comments and ``/link/<id>`` links survive.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from .desired import DesiredPage, DesiredState
from .model import Action, ActionKind, EntityKind, Plan
from .remote import RemoteObject, RemoteState
from .settings import OnDrift


@dataclass(frozen=True)
class PlanOptions:
    adopt: bool = True
    on_drift: OnDrift = OnDrift.OVERWRITE
    prune: bool = False
    prune_limit: int = 25  # percent of managed pages


@dataclass
class Matching:
    """Which remote object each desired key maps to (filled by the planner, extended by apply)."""

    ids: dict[tuple[EntityKind, str], int] = field(default_factory=dict)
    adopted: set[tuple[EntityKind, str]] = field(default_factory=set)
    duplicates: list[RemoteObject] = field(default_factory=list)  # same key twice: the higher ids
    orphans: list[RemoteObject] = field(default_factory=list)

    def id_of(self, kind: EntityKind, key: str) -> int | None:
        return self.ids.get((kind, key))


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


CanonicalRender = Callable[[DesiredPage, Matching], str | None]
"""Renders a page with links resolved to the ids known now and assets as content hashes; ``None`` when
a link target has no id yet (the page must be written after that target is created)."""


def plan_sync(
    desired: DesiredState,
    remote: RemoteState,
    render: CanonicalRender,
    options: PlanOptions,
) -> tuple[Plan, Matching]:
    """The plan and the matching it is based on."""
    matching = Matching()
    actions: list[Action] = []
    notes: list[str] = []

    _plan_containers(desired, remote, options, matching, actions)
    _plan_pages(desired, remote, render, options, matching, actions)
    _plan_orphans(desired, remote, options, matching, actions, notes)
    return Plan(tuple(actions), tuple(notes)), matching


def _match_container(
    kind: EntityKind,
    key: str,
    name: str,
    remote: RemoteState,
    candidates: list[RemoteObject],
    options: PlanOptions,
    matching: Matching,
) -> RemoteObject | None:
    managed = remote.managed(kind).get(key, [])
    if managed:
        matching.ids[(kind, key)] = managed[0].id
        matching.duplicates.extend(managed[1:])
        return managed[0]
    if options.adopt:
        for obj in sorted(candidates, key=lambda o: o.id):
            if obj.key is None and obj.name.strip() == name.strip():
                matching.ids[(kind, key)] = obj.id
                matching.adopted.add((kind, key))
                return obj
    return None


def _container_action(
    kind: EntityKind, key: str, name: str, obj: RemoteObject | None, changes: list[str], matching: Matching
) -> Action:
    if obj is None:
        return Action(ActionKind.CREATE, kind, key, name)
    if (kind, key) in matching.adopted:
        return Action(
            ActionKind.ADOPT, kind, key, name, obj.id, (*tuple(changes), "tags"), "unmanaged object of the same name"
        )
    if changes:
        only_order = set(changes) <= {"priority", "books"}
        return Action(ActionKind.REORDER if only_order else ActionKind.UPDATE, kind, key, name, obj.id, tuple(changes))
    return Action(ActionKind.UNCHANGED, kind, key, name, obj.id)


def _plan_containers(
    desired: DesiredState, remote: RemoteState, options: PlanOptions, matching: Matching, actions: list[Action]
) -> None:
    shelves = list(remote.of(EntityKind.SHELF).values())
    books = remote.of(EntityKind.BOOK)
    chapters = list(remote.of(EntityKind.CHAPTER).values())
    for shelf in desired.shelves.values():
        obj = _match_container(EntityKind.SHELF, shelf.key, shelf.name, remote, shelves, options, matching)
        changes = []
        if obj is not None:
            if obj.name != shelf.name:
                changes.append("name")
            if obj.description.strip() != shelf.description:
                changes.append("description")
        actions.append(_container_action(EntityKind.SHELF, shelf.key, shelf.name, obj, changes, matching))
    for book in desired.books.values():
        shelf_id = matching.id_of(EntityKind.SHELF, book.shelf_key)
        on_shelf = set(remote.shelf_books.get(shelf_id, [])) if shelf_id else set()
        candidates = [b for b in books.values() if b.id in on_shelf]
        obj = _match_container(EntityKind.BOOK, book.key, book.name, remote, candidates, options, matching)
        changes = []
        if obj is not None:
            if obj.name != book.name:
                changes.append("name")
            if obj.description.strip() != book.description:
                changes.append("description")
        actions.append(_container_action(EntityKind.BOOK, book.key, book.name, obj, changes, matching))
    for chapter in desired.chapters.values():
        book_id = matching.id_of(EntityKind.BOOK, chapter.book_key)
        candidates = [c for c in chapters if book_id is not None and c.book_id == book_id]
        obj = _match_container(EntityKind.CHAPTER, chapter.key, chapter.name, remote, candidates, options, matching)
        changes = []
        if obj is not None:
            if obj.name != chapter.name:
                changes.append("name")
            if obj.description.strip() != chapter.description:
                changes.append("description")
            if obj.priority != chapter.priority:
                changes.append("priority")
            if book_id is not None and obj.book_id != book_id:
                changes.append("parent")
        action = _container_action(EntityKind.CHAPTER, chapter.key, chapter.name, obj, changes, matching)
        if "parent" in changes and action.kind is ActionKind.UPDATE:
            action = Action(
                ActionKind.MOVE, EntityKind.CHAPTER, chapter.key, chapter.name, action.remote_id, action.changes
            )
        actions.append(action)
    # shelf membership: managed books in structure order, then every other book already there
    for shelf in desired.shelves.values():
        shelf_id = matching.id_of(EntityKind.SHELF, shelf.key)
        wanted = [matching.id_of(EntityKind.BOOK, k) for k in shelf.book_keys]
        if shelf_id is None or None in wanted:
            continue  # created this run: apply sets the list once the books exist
        current = remote.shelf_books.get(shelf_id, [])
        desired_list = shelf_books_order([i for i in wanted if i is not None], current)
        if desired_list != current:
            for index, action in enumerate(actions):
                if action.entity is EntityKind.SHELF and action.key == shelf.key:
                    with_books = tuple(dict.fromkeys((*action.changes, "books")))
                    kind = action.kind if action.kind is not ActionKind.UNCHANGED else ActionKind.REORDER
                    actions[index] = Action(
                        kind, EntityKind.SHELF, shelf.key, shelf.name, shelf_id, with_books, action.detail
                    )


def shelf_books_order(managed: list[int], current: list[int]) -> list[int]:
    """The shelf's book list: managed books in structure order, then the others in their existing order."""
    return managed + [book_id for book_id in current if book_id not in set(managed)]


def _plan_pages(
    desired: DesiredState,
    remote: RemoteState,
    render: CanonicalRender,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
) -> None:
    pages = remote.of(EntityKind.PAGE)
    managed = remote.managed(EntityKind.PAGE)
    desired_keys = set(desired.pages) | set(desired.skipped)
    # managed pages whose key is gone can still be the same page: moved or renamed
    loose = {key: objs[0] for key, objs in managed.items() if key not in desired_keys}
    for key, objs in managed.items():
        if key in desired_keys:
            matching.ids[(EntityKind.PAGE, key)] = objs[0].id
        matching.duplicates.extend(objs[1:])

    unmatched: list[DesiredPage] = [p for p in desired.pages.values() if (EntityKind.PAGE, p.key) not in matching.ids]
    # 1. moved: the same file name under another folder, unambiguous on both sides
    by_name: dict[str, list[str]] = {}
    for key in loose:
        by_name.setdefault(PurePosixPath(key).name, []).append(key)
    wanted_names: dict[str, int] = {}
    for page in unmatched:
        wanted_names[PurePosixPath(page.key).name] = wanted_names.get(PurePosixPath(page.key).name, 0) + 1
    moved_from: dict[str, str] = {}
    for page in unmatched:
        name = PurePosixPath(page.key).name
        olds = by_name.get(name, [])
        if len(olds) == 1 and wanted_names[name] == 1 and olds[0] in loose:
            old = olds[0]
            matching.ids[(EntityKind.PAGE, page.key)] = loose.pop(old).id
            moved_from[page.key] = old
    # 2. renamed in place: same folder, content unchanged (the stored hash matches)
    for page in unmatched:
        if (EntityKind.PAGE, page.key) in matching.ids:
            continue
        folder = page.key.rpartition("/")[0]
        parent_key = page.parent_key
        markdown = render(page, matching)
        if markdown is None:
            continue
        expected = page_hash(page, markdown, parent_key)
        for old_key, obj in list(loose.items()):
            if old_key.rpartition("/")[0] == folder and obj.content_hash == expected:
                matching.ids[(EntityKind.PAGE, page.key)] = loose.pop(old_key).id
                moved_from[page.key] = old_key
                break
    # 3. adoption: an unmanaged page of the same name in the same parent
    for page in unmatched:
        if (EntityKind.PAGE, page.key) in matching.ids or not options.adopt:
            continue
        book_id = matching.id_of(EntityKind.BOOK, page.book_key)
        chapter_id = matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
        if book_id is None or (page.chapter_key and chapter_id is None):
            continue
        for obj in sorted(pages.values(), key=lambda o: o.id):
            if (
                obj.key is None
                and obj.name.strip() == page.name
                and obj.book_id == book_id
                and obj.chapter_id == chapter_id
            ):
                matching.ids[(EntityKind.PAGE, page.key)] = obj.id
                matching.adopted.add((EntityKind.PAGE, page.key))
                break
    matching.orphans.extend(loose.values())

    for page in desired.pages.values():
        actions.append(_page_action(page, pages, render, options, matching, moved_from))
    for key, why in desired.skipped.items():
        existing = managed.get(key)
        remote_id = existing[0].id if existing else None
        actions.append(Action(ActionKind.SKIP, EntityKind.PAGE, key, key, remote_id, (), f"not published ({why})"))


def _page_action(
    page: DesiredPage,
    pages: dict[int, RemoteObject],
    render: CanonicalRender,
    options: PlanOptions,
    matching: Matching,
    moved_from: dict[str, str],
) -> Action:
    page_id = matching.id_of(EntityKind.PAGE, page.key)
    obj = pages.get(page_id) if page_id is not None else None
    if obj is None:
        return Action(ActionKind.CREATE, EntityKind.PAGE, page.key, page.name)
    changes: list[str] = []
    book_id = matching.id_of(EntityKind.BOOK, page.book_key)
    chapter_id = matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
    if (
        book_id is None
        or (page.chapter_key and chapter_id is None)
        or obj.book_id != book_id
        or obj.chapter_id != chapter_id
    ):
        changes.append("parent")
    if obj.name != page.name:
        changes.append("name")
    if obj.priority != page.priority:
        changes.append("priority")
    markdown = render(page, matching)
    if markdown is None or obj.content_hash != page_hash(page, markdown, page.parent_key):
        changes.append("content")
    key = (EntityKind.PAGE, page.key)
    if key in matching.adopted:
        return Action(
            ActionKind.ADOPT,
            EntityKind.PAGE,
            page.key,
            page.name,
            obj.id,
            (*tuple(changes), "tags"),
            "unmanaged page of the same name",
        )
    recorded = obj.recorded_revision
    if recorded is not None and obj.revision_count != recorded:
        detail = f"edited in BookStack since the last sync (revision {obj.revision_count}, synced {recorded})"
        if options.on_drift is OnDrift.OVERWRITE:
            return Action(
                ActionKind.UPDATE,
                EntityKind.PAGE,
                page.key,
                page.name,
                obj.id,
                tuple(dict.fromkeys([*changes, "content"])),
                "drift: " + detail + "; git wins",
            )
        return Action(ActionKind.DRIFT, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes), detail)
    if page.key in moved_from:
        detail = f"from {moved_from[page.key]} to {page.key}"
        return Action(
            ActionKind.MOVE,
            EntityKind.PAGE,
            page.key,
            page.name,
            obj.id,
            tuple(dict.fromkeys([*changes, "tags"])),
            detail,
        )
    if not changes:
        return Action(ActionKind.UNCHANGED, EntityKind.PAGE, page.key, page.name, obj.id)
    if changes == ["priority"]:
        return Action(ActionKind.REORDER, EntityKind.PAGE, page.key, page.name, obj.id, ("priority",))
    kind = ActionKind.MOVE if "parent" in changes else ActionKind.UPDATE
    return Action(kind, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes))


def _plan_orphans(
    desired: DesiredState,
    remote: RemoteState,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
    notes: list[str],
) -> None:
    kind_of_delete = ActionKind.DELETE if options.prune else ActionKind.ORPHAN
    for obj in matching.duplicates:
        # a second object with the same key: made by two runs at once; ours, so safe to remove
        actions.append(
            Action(
                ActionKind.DELETE,
                obj.kind,
                obj.key or "",
                obj.name,
                obj.id,
                (),
                "duplicate of the same source (concurrent runs)",
            )
        )
    for obj in matching.orphans:
        actions.append(
            Action(kind_of_delete, EntityKind.PAGE, obj.key or "", obj.name, obj.id, (), "source file is gone")
        )
    desired_keys = {
        EntityKind.CHAPTER: set(desired.chapters),
        EntityKind.BOOK: set(desired.books),
        EntityKind.SHELF: set(desired.shelves),
    }
    for kind in (EntityKind.CHAPTER, EntityKind.BOOK, EntityKind.SHELF):
        for key, objs in remote.managed(kind).items():
            if key not in desired_keys[kind]:
                actions.append(
                    Action(kind_of_delete, kind, key, objs[0].name, objs[0].id, (), "no longer in the structure file")
                )
