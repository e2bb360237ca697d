"""Plan: compare what BookStack should hold with what it holds, and list the actions that close the gap.

Pure: no I/O. Matching is by source key first (the ``bookstack-sync`` tag); then a key no managed
object carries may continue a managed key that is gone — renamed, renumbered or moved, told by git's
rename detection or by the criteria of ``identity`` — and the object is moved or renamed instead of
created beside an orphan; then an unmanaged object of the same name in the same parent is adopted.
Everything matched keeps its BookStack id, so revisions, comments and ``/link/<id>`` links survive.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import replace

from ..errors import SyncError
from ..model import EDITED_IN_BOOKSTACK, Action, ActionKind, EntityKind, Plan
from ..settings import OnDrift
from .desired import DesiredPage, DesiredShelf, DesiredState
from .identity import PageFacts, pair_containers, pair_pages, parent_of
from .matching import CanonicalRender, Matching, PlanOptions, body_hash, page_hash
from .relinked import sync_users, unless_relinked
from .remote import RemoteObject, RemoteState
from .routes import plan_routes, settle_priorities
from .tags import BODY_TAG


def plan_sync(
    desired: DesiredState,
    remote: RemoteState,
    render: CanonicalRender,
    options: PlanOptions,
    renames: Mapping[str, str] | None = None,
) -> tuple[Plan, Matching]:
    """The plan and the matching it is based on. ``renames`` maps old page keys to new ones as git's
    rename detection saw them since each page was last written (``history``); empty without history."""
    matching = Matching()
    actions: list[Action] = []
    notes: list[str] = []
    renames = renames or {}

    _plan_containers(desired, remote, options, matching, actions, renames, notes)
    notes.extend(_collision_notes(remote, actions))
    _plan_pages(desired, remote, render, options, matching, actions, renames, notes)
    landing = plan_routes(desired, remote, options, matching, actions, notes)
    settle_priorities(desired, remote, matching, actions, landing)
    _plan_orphans(desired, remote, options, matching, actions, notes)
    return Plan(tuple(actions), tuple(notes)), matching


def _adopt(kind: EntityKind, key: str, name: str, candidates: list[RemoteObject], matching: Matching) -> None:
    """The first unmanaged object of the same name among ``candidates`` (in BookStack's order, so
    same-named siblings pair up as an export numbered them) not yet taken becomes this key's object."""
    taken = {object_id for (k, _key), object_id in matching.ids.items() if k is kind}
    for obj in candidates:
        if obj.key is None and obj.id not in taken and obj.name.strip() == name.strip():
            matching.ids[(kind, key)] = obj.id
            matching.adopted.add((kind, key))
            return


def _match_containers(
    kind: EntityKind,
    names: dict[str, str],
    remote: RemoteState,
    options: PlanOptions,
    matching: Matching,
    renames: Mapping[str, str],
    candidates: Callable[[str], list[RemoteObject]],
) -> None:
    """Match every desired shelf, book or chapter (key -> name): by key, then as the continuation of a
    managed key that is gone, then by adopting an unmanaged object of the same name."""
    managed = remote.managed(kind)
    for key in names:
        objs = managed.get(key, [])
        if objs:
            matching.ids[(kind, key)] = objs[0].id
            matching.duplicates.extend(objs[1:])
    if kind is EntityKind.SHELF:
        # a shelf key another tree already has: one shelf, shared (several trees list books on it)
        for key, obj in remote.shared_shelves().items():
            if key in names and (kind, key) not in matching.ids:
                matching.ids[(kind, key)] = obj.id
                matching.shared[key] = obj.owner or ""
    loose = {key: objs[0].name for key, objs in managed.items() if key not in names}
    unmatched = {key: name for key, name in names.items() if (kind, key) not in matching.ids}
    if loose and unmatched:
        pairs = pair_containers(kind, loose, unmatched, renames, matching.moved_containers())
        for key, pair in pairs.items():
            objs = managed[pair.old]
            matching.ids[(kind, key)] = objs[0].id
            matching.duplicates.extend(objs[1:])
            matching.previous[(kind, key)] = pair
    if options.adopt:
        for key, name in names.items():
            if (kind, key) not in matching.ids:
                _adopt(kind, key, name, candidates(key), matching)


def _container_action(
    kind: EntityKind,
    key: str,
    name: str,
    obj: RemoteObject | None,
    changes: list[str],
    matching: Matching,
    remote: RemoteState,
) -> Action:
    if obj is None:
        return Action(ActionKind.CREATE, kind, key, name)
    if (kind, obj.id) in remote.claims:
        return _claim(kind, key, name, obj, changes, remote)
    if (kind, key) in matching.adopted:
        return Action(
            ActionKind.ADOPT, kind, key, name, obj.id, (*tuple(changes), "tags"), "unmanaged object of the same name"
        )
    previous = matching.previous.get((kind, key))
    detail = _with_rename(f"{previous.old} → {key} ({previous.reason})" if previous else "", obj, name)
    if changes:
        if {"parent", "shelf"} & set(changes):
            return Action(ActionKind.MOVE, kind, key, name, obj.id, tuple(changes), detail)
        only_order = set(changes) <= {"priority", "books"}
        action_kind = ActionKind.REORDER if only_order else ActionKind.UPDATE
        return Action(action_kind, kind, key, name, obj.id, tuple(changes), detail)
    return Action(ActionKind.UNCHANGED, kind, key, name, obj.id)


def _claim(kind: EntityKind, key: str, name: str, obj: RemoteObject, changes: list[str], remote: RemoteState) -> Action:
    """An object an earlier version wrote (no tree recorded) with this tree's key: the tree tag is added,
    with whatever else changed."""
    detail = _with_rename(f"written before trees were recorded: now tree {remote.tree_id}'s", obj, name)
    return Action(ActionKind.CLAIM, kind, key, name, obj.id, (*dict.fromkeys(changes), "tree"), detail)


def _with_rename(detail: str, obj: RemoteObject, name: str) -> str:
    """``detail`` with the old and new name when the object is renamed, so a reader sees both."""
    if obj.name == name:
        return detail
    renamed = f"renamed {obj.name!r} → {name!r}"
    return f"{detail}; {renamed}" if detail else renamed


def _text_changes(obj: RemoteObject | None, name: str, description: str) -> list[str]:
    """Which of name and description differ. BookStack derives the plain description from its HTML
    copy, so line breaks may come back as other whitespace: compare the words."""
    if obj is None:
        return []
    changes = []
    if obj.name != name:
        changes.append("name")
    if obj.description.split() != description.split():
        changes.append("description")
    return changes


def _plan_containers(
    desired: DesiredState,
    remote: RemoteState,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
    renames: Mapping[str, str],
    notes: list[str],
) -> None:
    shelves = remote.of(EntityKind.SHELF)
    books = remote.of(EntityKind.BOOK)
    chapters = remote.of(EntityKind.CHAPTER)

    def books_on_shelf(book_key: str) -> list[RemoteObject]:
        shelf_id = matching.id_of(EntityKind.SHELF, desired.books[book_key].shelf_key)
        return [books[i] for i in remote.shelf_books.get(shelf_id, []) if i in books] if shelf_id else []

    def chapters_in_book(chapter_key: str) -> list[RemoteObject]:
        book_id = matching.id_of(EntityKind.BOOK, desired.chapters[chapter_key].book_key)
        found = [c for c in chapters.values() if book_id is not None and c.book_id == book_id]
        return sorted(found, key=lambda c: (c.priority, c.id))

    _match_containers(
        EntityKind.SHELF,
        {s.key: s.name for s in desired.shelves.values()},
        remote,
        options,
        matching,
        renames,
        lambda _: sorted(shelves.values(), key=lambda o: o.id),
    )
    for shelf in desired.shelves.values():
        obj = shelves.get(matching.id_of(EntityKind.SHELF, shelf.key) or -1)
        if shelf.key in matching.shared:
            actions.append(_shared_shelf_action(shelf, remote, matching, notes))
            continue
        changes = _text_changes(obj, shelf.name, shelf.description) + _key_change(matching, EntityKind.SHELF, shelf.key)
        actions.append(_container_action(EntityKind.SHELF, shelf.key, shelf.name, obj, changes, matching, remote))

    _match_containers(
        EntityKind.BOOK,
        {b.key: b.name for b in desired.books.values()},
        remote,
        options,
        matching,
        renames,
        books_on_shelf,
    )
    moved = matching.moved_containers()
    managed_shelves = remote.managed(EntityKind.SHELF)
    for book in desired.books.values():
        obj = books.get(matching.id_of(EntityKind.BOOK, book.key) or -1)
        changes = _text_changes(obj, book.name, book.description) + _key_change(matching, EntityKind.BOOK, book.key)
        previous = matching.previous.get((EntityKind.BOOK, book.key))
        if obj is not None and previous is not None:
            old_shelf = parent_of(previous.old)
            if moved.get(old_shelf, old_shelf) != book.shelf_key and old_shelf in managed_shelves:
                # its old shelf's list must let it go, its new shelf's list take it
                changes.append("shelf")
                matching.leaving.setdefault(managed_shelves[old_shelf][0].id, set()).add(obj.id)
        actions.append(_container_action(EntityKind.BOOK, book.key, book.name, obj, changes, matching, remote))

    _match_containers(
        EntityKind.CHAPTER,
        {c.key: c.name for c in desired.chapters.values()},
        remote,
        options,
        matching,
        renames,
        chapters_in_book,
    )
    for chapter in desired.chapters.values():
        book_id = matching.id_of(EntityKind.BOOK, chapter.book_key)
        obj = chapters.get(matching.id_of(EntityKind.CHAPTER, chapter.key) or -1)
        changes = _text_changes(obj, chapter.name, chapter.description)
        if obj is not None:
            if obj.priority != chapter.priority:
                changes.append("priority")
            if book_id is None or obj.book_id != book_id:  # None: its book is created this run
                changes.append("parent")  # BookStack moves its pages with it (ParentChanger::changeBook)
        changes += _key_change(matching, EntityKind.CHAPTER, chapter.key)
        actions.append(_container_action(EntityKind.CHAPTER, chapter.key, chapter.name, obj, changes, matching, remote))
    # a shelf gone from the structure still lists the books that moved off it: they leave it too
    desired_shelf_ids = {matching.id_of(EntityKind.SHELF, key) for key in desired.shelves}
    if not options.prune:  # pruned, it goes to the recycle bin anyway
        for key, objs in remote.managed(EntityKind.SHELF).items():
            if objs[0].id in matching.leaving and objs[0].id not in desired_shelf_ids:
                detail = "gone from the structure: the books that moved to other shelves leave its list"
                actions.append(
                    Action(ActionKind.UPDATE, EntityKind.SHELF, key, objs[0].name, objs[0].id, ("books",), detail)
                )
    # shelf membership: this tree's books in structure order; the others' books stay as they are
    for shelf in desired.shelves.values():
        shelf_id = matching.id_of(EntityKind.SHELF, shelf.key)
        wanted = [matching.id_of(EntityKind.BOOK, k) for k in shelf.book_keys]
        if shelf_id is None:
            continue  # a new shelf is created with its books
        current = remote.shelf_books.get(shelf_id, [])
        # a book created this run has no id yet: the list changes, and apply writes it once the book exists
        known = [i for i in wanted if i is not None]
        leave = books_elsewhere(desired, matching, shelf.key) | matching.leaving.get(shelf_id, set())
        if None in wanted or own_part_changed(known, current, leave):
            for index, action in enumerate(actions):
                if action.entity is EntityKind.SHELF and action.key == shelf.key:
                    with_books = tuple(dict.fromkeys((*action.changes, "books")))
                    kind = action.kind if action.kind is not ActionKind.UNCHANGED else ActionKind.REORDER
                    actions[index] = Action(
                        kind, EntityKind.SHELF, shelf.key, shelf.name, shelf_id, with_books, action.detail
                    )


def _shared_shelf_action(shelf: DesiredShelf, remote: RemoteState, matching: Matching, notes: list[str]) -> Action:
    """A shelf of the same key another tree made: this tree lists its books on it and leaves its name,
    description and tags to that tree (the tree that created it keeps them; a difference is a warning)."""
    obj = remote.shared_shelves()[shelf.key]
    owner = matching.shared[shelf.key]
    differs = _text_changes(obj, shelf.name, shelf.description)
    if differs:
        notes.append(
            f"warning: shelf {shelf.key} is shared with tree {owner}, which created it: its "
            f"{' and '.join(differs)} stay as that tree wrote them ({obj.name!r}; this tree's structure says "
            f"{shelf.name!r})"
        )
    return Action(ActionKind.UNCHANGED, EntityKind.SHELF, shelf.key, obj.name, obj.id, (), f"shared with tree {owner}")


def _collision_notes(remote: RemoteState, actions: list[Action]) -> list[str]:
    """A new shelf or book named like another tree's: its own object all the same (BookStack gives it
    another slug), said once so nobody wonders why two are listed."""
    notes = []
    for action in actions:
        if action.kind is not ActionKind.CREATE or action.entity not in (EntityKind.SHELF, EntityKind.BOOK):
            continue
        for obj in sorted(remote.foreign[action.entity].values(), key=lambda o: o.id):
            if obj.name.strip().lower() == action.name.strip().lower():
                whose = f"tree {obj.owner}" if obj.owner else "an earlier version of bookstack-sync (no tree recorded)"
                notes.append(
                    f"{action.entity.value} {action.key}: {whose} has a {action.entity.value} named {obj.name!r} "
                    f"(id {obj.id}); this tree gets its own, which BookStack gives another slug"
                )
                break
    return notes


def _key_change(matching: Matching, kind: EntityKind, key: str) -> list[str]:
    """``key`` among the changes of an object that continues another key: its source-key tag is rewritten."""
    return ["key"] if (kind, key) in matching.previous else []


def books_elsewhere(desired: DesiredState, matching: Matching, shelf_key: str) -> set[int]:
    """This tree's books that belong on another shelf: a shelf they are still listed on lets them go."""
    found = {matching.id_of(EntityKind.BOOK, b.key) for b in desired.books.values() if b.shelf_key != shelf_key}
    return {book_id for book_id in found if book_id is not None}


def own_part_changed(wanted: list[int], current: list[int], leaving: set[int]) -> bool:
    """Whether a shelf's list must be written for this tree: its books on it are not ``wanted`` in that
    order, or one of its books that belongs elsewhere (``leaving``) is still there. Other trees' books
    and books nobody manages are no reason: each tree writes a shared shelf only for its own part."""
    mine = set(wanted) | leaving
    return [book_id for book_id in current if book_id in mine] != wanted


def shelf_books_order(managed: list[int], current: list[int], leaving: set[int] | None = None) -> list[int]:
    """The shelf's book list: this tree's books in structure order, then the others (other trees', unmanaged
    ones) in their existing order, less this tree's books that belong on another shelf (``leaving``)."""
    gone = set(managed) | (leaving or set())
    return managed + [book_id for book_id in current if book_id not in gone]


def _plan_pages(
    desired: DesiredState,
    remote: RemoteState,
    render: CanonicalRender,
    options: PlanOptions,
    matching: Matching,
    actions: list[Action],
    renames: Mapping[str, str],
    notes: list[str],
) -> None:
    pages = remote.of(EntityKind.PAGE)
    managed = remote.managed(EntityKind.PAGE)
    desired_keys = set(desired.pages) | set(desired.skipped)
    # managed pages whose key is gone can still be the same page: renamed, renumbered or moved
    loose = {key: objs[0] for key, objs in managed.items() if key not in desired_keys}
    for key, objs in managed.items():
        if key in desired_keys:
            matching.ids[(EntityKind.PAGE, key)] = objs[0].id
        matching.duplicates.extend(objs[1:])

    unmatched = {p.key: p.name for p in desired.pages.values() if (EntityKind.PAGE, p.key) not in matching.ids}
    if loose and unmatched:
        _pair_pages(desired, render, matching, loose, unmatched, renames)
    # adoption: an unmanaged page of the same name in the same parent
    adopted_ids: set[int] = set()
    for page in desired.pages.values():
        if (EntityKind.PAGE, page.key) in matching.ids or not options.adopt:
            continue
        book_id = matching.id_of(EntityKind.BOOK, page.book_key)
        chapter_id = matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
        if book_id is None or (page.chapter_key and chapter_id is None):
            continue
        # in BookStack's order, so same-named pages pair up as an export numbered them
        for obj in sorted(pages.values(), key=lambda o: (o.priority, o.id)):
            if (
                obj.key is None
                and obj.id not in adopted_ids
                and obj.name.strip() == page.name
                and obj.book_id == book_id
                and obj.chapter_id == chapter_id
            ):
                matching.ids[(EntityKind.PAGE, page.key)] = obj.id
                matching.adopted.add((EntityKind.PAGE, page.key))
                adopted_ids.add(obj.id)
                break
    matching.orphans.extend(loose.values())

    users = sync_users(pages.values())
    for page in desired.pages.values():
        action = _page_action(page, pages, render, options, matching)
        if action.drifted and action.remote_id in pages:  # BookStack's own link rewrite is no person's edit
            obj = pages[action.remote_id]
            action, note = unless_relinked(action, obj, render(page, matching), users, remote.app_url)
            notes.extend([note] if note else [])
        if action.remote_id is not None and (EntityKind.PAGE, action.remote_id) in remote.claims:
            action = _claimed_page(action, remote)
        actions.append(action)
    for key, why in desired.skipped.items():
        existing = managed.get(key)
        remote_id = existing[0].id if existing else None
        actions.append(Action(ActionKind.SKIP, EntityKind.PAGE, key, key, remote_id, (), f"not published ({why})"))


def _claimed_page(action: Action, remote: RemoteState) -> Action:
    """A page an earlier version wrote, with this tree's key: whatever its write, it now records the tree."""
    if action.kind is ActionKind.DRIFT:
        return action  # left alone this time (on_drift): claimed by the run that writes it
    changes = tuple(c for c in action.changes if c != "key")
    detail = f"written before trees were recorded: now tree {remote.tree_id}'s"
    return replace(
        action,
        kind=ActionKind.CLAIM,
        changes=(*changes, "tree"),
        detail=f"{detail}; {action.detail}" if action.detail else detail,
    )


def _pair_pages(
    desired: DesiredState,
    render: CanonicalRender,
    matching: Matching,
    loose: dict[str, RemoteObject],
    unmatched: dict[str, str],
    renames: Mapping[str, str],
) -> None:
    """Give each new page key that continues a loose one its object (taken out of ``loose``)."""
    rendered: dict[str, str] = {}

    def markdown(key: str) -> str | None:
        if key not in rendered:
            text = render(desired.pages[key], matching)
            if text is None:
                return None  # a link target without an id yet: it may get one from a later pair
            rendered[key] = text
        return rendered[key]

    def body_of(key: str) -> str | None:
        text = markdown(key)
        return body_hash(text) if text is not None else None

    def full_hash_of(key: str) -> str | None:
        text = markdown(key)
        page = desired.pages[key]
        return page_hash(page, text, page.parent_key) if text is not None else None

    def paired(new: str, old: str) -> None:
        matching.ids[(EntityKind.PAGE, new)] = loose.pop(old).id

    facts = {key: PageFacts(obj.name, obj.tag(BODY_TAG) or None, obj.content_hash) for key, obj in loose.items()}
    pairs = pair_pages(facts, unmatched, body_of, full_hash_of, renames, matching.moved_containers(), on_pair=paired)
    for key, pair in pairs.items():
        matching.previous[(EntityKind.PAGE, key)] = pair


def _page_action(
    page: DesiredPage,
    pages: dict[int, RemoteObject],
    render: CanonicalRender,
    options: PlanOptions,
    matching: Matching,
) -> Action:
    page_id = matching.id_of(EntityKind.PAGE, page.key)
    obj = pages.get(page_id) if page_id is not None else None
    if obj is None:
        return Action(ActionKind.CREATE, EntityKind.PAGE, page.key, page.name)
    changes: list[str] = []
    book_id = matching.id_of(EntityKind.BOOK, page.book_key)
    chapter_id = matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
    if page.chapter_key:
        # a page in a chapter goes wherever its chapter goes: only the chapter is compared
        moves = chapter_id is None or obj.chapter_id != chapter_id
    else:
        moves = book_id is None or obj.book_id != book_id or obj.chapter_id is not None
    if moves:
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
    previous = matching.previous.get(key)
    if previous is not None:
        changes.append("key")
    if obj.drifted:
        editor = f" by {obj.updated_by_name}" if obj.updated_by_name else ""
        detail = f"{EDITED_IN_BOOKSTACK}{editor}, revision {obj.revision_count} after our {obj.recorded_revision}"
        if options.on_drift is OnDrift.OVERWRITE:
            return Action(
                ActionKind.UPDATE,
                EntityKind.PAGE,
                page.key,
                page.name,
                obj.id,
                tuple(dict.fromkeys([*changes, "content"])),
                detail + "; git wins",
            )
        outcome = "kept (on_drift: skip)" if options.on_drift is OnDrift.SKIP else "the run stops (on_drift: fail)"
        return Action(
            ActionKind.DRIFT, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes), f"{detail}; {outcome}"
        )
    if previous is not None:
        # a new file name or folder is a move in git's words, even within one chapter
        detail = _with_rename(f"{previous.old} → {page.key} ({previous.reason})", obj, page.name)
        return Action(ActionKind.MOVE, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes), detail)
    if not changes:
        return Action(ActionKind.UNCHANGED, EntityKind.PAGE, page.key, page.name, obj.id)
    if changes == ["priority"]:
        return Action(ActionKind.REORDER, EntityKind.PAGE, page.key, page.name, obj.id, ("priority",))
    kind = ActionKind.MOVE if "parent" in changes else ActionKind.UPDATE
    return Action(kind, EntityKind.PAGE, page.key, page.name, obj.id, tuple(changes), _with_rename("", obj, page.name))


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
    continued = {(kind, obj_id) for (kind, _), obj_id in matching.ids.items()}
    for kind in (EntityKind.CHAPTER, EntityKind.BOOK, EntityKind.SHELF):
        for key, objs in remote.managed(kind).items():
            # a key that is gone but whose object continues under a new key is no orphan
            if key not in desired_keys[kind] and (kind, objs[0].id) not in continued:
                actions.append(
                    Action(kind_of_delete, kind, key, objs[0].name, objs[0].id, (), "no longer in the structure file")
                )


def check_tree_takeover(desired: DesiredState, remote: RemoteState, explicit: bool) -> None:
    """Refuse a first run of a tree whose keys are mostly another tree's: the same docs under a new id
    (a repository renamed or moved, a docs folder moved) would otherwise publish a second copy beside
    the first. Two different trees share a shelf key or a few book keys, never most of their keys. An
    explicitly set ``tree`` is taken as meant."""
    kinds = (EntityKind.BOOK, EntityKind.CHAPTER, EntityKind.PAGE)
    if explicit or not remote.tree_id or any(remote.managed(kind) for kind in kinds):
        return
    keys = (
        {(EntityKind.BOOK, k) for k in desired.books}
        | {(EntityKind.CHAPTER, k) for k in desired.chapters}
        | {(EntityKind.PAGE, k) for k in desired.pages}
    )
    owners = Counter(
        obj.owner
        for kind in kinds
        for obj in remote.foreign[kind].values()
        if obj.owner and obj.key and (kind, obj.key) in keys
    )
    if not owners:
        return
    owner, count = owners.most_common(1)[0]
    if 2 * count <= len(keys):
        return
    raise SyncError(
        f"tree {remote.tree_id!r} has nothing in BookStack yet, but {count} of its {len(keys)} books, chapters "
        f"and pages have the keys of objects owned by tree {owner!r}: refusing to publish them a second time",
        hint=f"if {owner!r} is this docs tree before its repository or docs folder was renamed or moved, set "
        f"`tree: {owner}` in the step's settings; if it is another tree, set `tree` to an id of this tree's own",
    )


page_action = _page_action  # one page's action, for a run that plans one page (plan/edit.py)
