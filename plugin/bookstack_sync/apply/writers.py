"""The writes of one object each: a shelf, book or chapter with its tags, a page with its rendered text,
images and attachments (uploaded once the page exists), and a delete; each handler returns the outcome.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import PurePosixPath
from typing import Any

from ..bookstack.errors import AmbiguousWriteError, BookStackError, is_joint_permissions
from ..markdown.content import Reference, RefKind, render_page
from ..model import API_KIND, Action, ActionKind, EntityKind, Outcome, OutcomeStatus
from ..plan.desired import DesiredPage
from ..plan.matching import body_hash, page_hash
from ..plan.planner import books_elsewhere, shelf_books_order
from ..plan.remote import RemoteObject, RemoteState, find_created, read_shelf_books
from ..plan.resolve import PageLinks, slug_folder_path, waits_for_pages
from ..plan.tags import MANAGED_TAG, RUN_TAG, TREE_TAG, asset_record, asset_tag, container_tags, tag_list
from .context import EMPTY_PAGE, ApplyContext, log, object_url
from .steps import Step, guarded, note_invisible_copy, run_steps


class WriteResolver(PageLinks):
    """Real URLs for the write: page links by id, folders by slug path, assets from their upload.

    Nothing is built from the address the tool talks to (``url``): in a pipeline that is often an internal
    one (``http://bookstack``) that readers cannot reach. Links are relative to the wiki, or BookStack's own.
    """

    def __init__(self, ctx: ApplyContext, assets: dict[str, str]) -> None:
        self.ctx = ctx
        self.desired = ctx.desired
        self.assets = assets

    def page_id(self, page_path: str) -> int | None:
        return self.ctx.matching.id_of(EntityKind.PAGE, page_path)

    def folder_url(self, key: str) -> str | None:
        return slug_folder_path(self.ctx.slugs, key)

    def image_url(self, asset_path: str) -> str | None:
        return self.assets.get(asset_path)

    def attachment_url(self, asset_path: str) -> str | None:
        return self.assets.get(asset_path)


def _create_or_find(ctx: ApplyContext, kind: EntityKind, key: str, payload: dict[str, Any]) -> dict[str, Any]:
    """POST a create; if the answer was lost, look for what the POST may have made before trying again."""
    list_kind = API_KIND[kind]
    try:
        return ctx.client.create(list_kind, payload)
    except AmbiguousWriteError as exc:
        if is_joint_permissions(exc):
            note_invisible_copy(ctx, f"the create of {kind.value} {key}")
        hit = find_created(ctx.client, kind, key, ctx.run_id, ctx.tree_id)
        if hit is not None:
            log.warning("a create of %s %s lost its answer but had happened; using id %s", kind.value, key, hit["id"])
            return ctx.client.read(list_kind, int(hit["id"]))
        return ctx.client.create(list_kind, payload)


def _container_outcome(
    ctx: ApplyContext, action: Action, kind: EntityKind, key: str, payload: dict[str, Any]
) -> Outcome:
    if action.kind is ActionKind.CREATE:
        if ctx.run_id:
            payload["tags"] = [*payload.get("tags", []), {"name": RUN_TAG, "value": ctx.run_id}]
        created = _create_or_find(ctx, kind, key, payload)
        ctx.matching.ids[(kind, key)] = int(created["id"])
        ctx.slugs[(kind, key)] = str(created.get("slug", ""))
        return Outcome(action, OutcomeStatus.CREATED, int(created["id"]), object_url(ctx, kind, key))
    assert action.remote_id is not None
    updated = ctx.client.update(API_KIND[kind], action.remote_id, payload)
    ctx.answered[(kind, action.remote_id)] = updated
    ctx.slugs[(kind, key)] = str(updated.get("slug", ctx.slugs.get((kind, key), "")))
    status = _STATUS_OF_WRITE.get(action.kind, OutcomeStatus.UPDATED)
    return Outcome(action, status, action.remote_id, object_url(ctx, kind, key))


_STATUS_OF_WRITE = {
    ActionKind.ADOPT: OutcomeStatus.ADOPTED,
    ActionKind.CLAIM: OutcomeStatus.CLAIMED,
    ActionKind.MOVE: OutcomeStatus.MOVED,
}


def _container_payload(
    ctx: ApplyContext, action: Action, name: str, description: str, key: str, remote: RemoteObject | None
) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    if action.kind is ActionKind.CREATE or "name" in action.changes:
        payload["name"] = name
    if action.kind is ActionKind.CREATE or "description" in action.changes:
        payload["description"] = description
    if action.kind in (ActionKind.CREATE, ActionKind.ADOPT, ActionKind.CLAIM) or "key" in action.changes:
        # adopting keeps the object's own tags and adds ours; a renamed or moved one gets its new key;
        # a claimed one (written before trees) its tree
        kept = remote.user_tags() if remote is not None else []
        payload["tags"] = tag_list(container_tags(key, "", kept, ctx.tree_id))
    return payload


def write_book(ctx: ApplyContext, action: Action) -> Outcome:
    book = ctx.desired.books[action.key]
    remote = ctx.remote.of(EntityKind.BOOK).get(action.remote_id or -1)
    return _container_outcome(
        ctx,
        action,
        EntityKind.BOOK,
        book.key,
        _container_payload(ctx, action, book.name, book.description, book.key, remote),
    )


def write_shelf(ctx: ApplyContext, action: Action) -> Outcome:
    if action.key not in ctx.desired.shelves:
        return _release_books(ctx, action)
    shelf = ctx.desired.shelves[action.key]
    remote = ctx.remote.of(EntityKind.SHELF).get(action.remote_id or -1)
    # another tree's shelf, shared: only this tree's books on it change, never its name, description or tags
    shared = action.key in ctx.matching.shared
    payload = {} if shared else _container_payload(ctx, action, shelf.name, shelf.description, shelf.key, remote)
    managed_ids = [ctx.matching.id_of(EntityKind.BOOK, key) for key in shelf.book_keys]
    wanted = [book_id for book_id in managed_ids if book_id is not None]
    leaving = books_elsewhere(ctx.desired, ctx.matching, shelf.key)
    leaving |= ctx.matching.leaving.get(action.remote_id or -1, set())
    # BookStack replaces the whole list on a write: read it right before, so a book another tree put there
    # since this run's snapshot stays. A shelf continuing another key was not read with the others when
    # its name changed too: read it now.
    current: list[int] = []
    if action.remote_id and "books" in action.changes:
        current = _read_shelf_now(ctx, action.remote_id)
    elif action.remote_id:
        current = read_shelf_books(ctx.client, ctx.remote, action.remote_id)
    books = shelf_books_order(wanted, current, leaving)
    if books != current or action.kind is ActionKind.CREATE:
        payload["books"] = books  # the whole list: BookStack replaces it (no attach endpoint exists)
    if not payload:  # the list the plan could not see was right already
        return Outcome(action, OutcomeStatus.UNCHANGED, action.remote_id, object_url(ctx, EntityKind.SHELF, shelf.key))
    outcome = _container_outcome(ctx, action, EntityKind.SHELF, shelf.key, payload)
    if action.kind is ActionKind.CREATE and ctx.tree_id and outcome.remote_id is not None:
        return _give_way(ctx, outcome, wanted)
    return outcome


def _give_way(ctx: ApplyContext, created: Outcome, wanted: list[int]) -> Outcome:
    """A shelf this run created while another tree's first run created one of the same key: as two runs
    of one tree settle it, the older (lower id) is the shelf both trees list their books on, so this
    tree's books go onto it and its new copy goes (one search after each shelf create; shelves are few)."""
    action, new_id = created.action, created.remote_id
    assert new_id is not None
    query = f"{{type:bookshelf}} [{MANAGED_TAG}={action.key}] -[{TREE_TAG}={ctx.tree_id}]"
    older = []
    for hit in ctx.client.search(query):
        tags = {str(t.get("name")): str(t.get("value") or "") for t in hit.get("tags", [])}
        same_key = hit.get("type") == "bookshelf" and tags.get(MANAGED_TAG) == action.key
        if same_key and tags.get(TREE_TAG) and int(hit["id"]) < new_id:
            older.append((int(hit["id"]), tags[TREE_TAG], str(hit.get("slug", ""))))
    if not older:
        return created
    winner, owner, slug = min(older)
    current = _read_shelf_now(ctx, winner)
    books = shelf_books_order(wanted, current)
    if books != current:
        ctx.client.update("shelves", winner, {"books": books})
    ctx.client.delete("shelves", new_id)
    with ctx.lock:
        ctx.matching.ids[(EntityKind.SHELF, action.key)] = winner
        ctx.matching.shared[action.key] = owner
        ctx.slugs[(EntityKind.SHELF, action.key)] = slug
    detail = (
        f"shared with tree {owner}, whose shelf of this key was made at the same moment (this run's {new_id} deleted)"
    )
    log.warning("shelf %s: %s", action.key, detail)
    shared = replace(action, kind=ActionKind.REORDER, remote_id=winner, changes=("books",), detail=detail)
    return Outcome(shared, OutcomeStatus.UPDATED, winner, object_url(ctx, EntityKind.SHELF, action.key))


def _read_shelf_now(ctx: ApplyContext, shelf_id: int) -> list[int]:
    """The shelf's book list as BookStack holds it at this moment (the snapshot's copy is replaced)."""
    with ctx.lock:
        ctx.remote.shelf_books.pop(shelf_id, None)
    return read_shelf_books(ctx.client, ctx.remote, shelf_id)


def _release_books(ctx: ApplyContext, action: Action) -> Outcome:
    """A managed shelf gone from the structure lets go of the books that moved to other shelves (its list
    was not read with the others: one read here)."""
    assert action.remote_id is not None
    current = _read_shelf_now(ctx, action.remote_id)
    books = shelf_books_order([], current, ctx.matching.leaving.get(action.remote_id))
    if books == current:
        return Outcome(action, OutcomeStatus.UNCHANGED, action.remote_id)
    ctx.client.update("shelves", action.remote_id, {"books": books})
    return Outcome(action, OutcomeStatus.UPDATED, action.remote_id)


def write_chapter(ctx: ApplyContext, action: Action) -> Outcome:
    chapter = ctx.desired.chapters[action.key]
    book_id = ctx.matching.id_of(EntityKind.BOOK, chapter.book_key)
    if book_id is None:
        raise _ParentMissing(f"book {chapter.book_key} was not created")
    remote = ctx.remote.of(EntityKind.CHAPTER).get(action.remote_id or -1)
    payload = _container_payload(ctx, action, chapter.name, chapter.description, chapter.key, remote)
    if action.kind is ActionKind.CREATE or "priority" in action.changes:
        payload["priority"] = chapter.priority
    if action.kind is ActionKind.CREATE or "parent" in action.changes:
        payload["book_id"] = book_id
    return _container_outcome(ctx, action, EntityKind.CHAPTER, chapter.key, payload)


class _ParentMissing(BookStackError):
    """A parent failed earlier in this run, so this child cannot be written now (the next run will)."""


def delete_object(ctx: ApplyContext, action: Action) -> Outcome:
    assert action.remote_id is not None
    if action.entity in (EntityKind.CHAPTER, EntityKind.BOOK):
        foreign = _unmanaged_inside(ctx.remote, action.entity, action.remote_id)
        if foreign:
            detail = f"kept: it holds {foreign} that bookstack-sync did not create"
            return Outcome(
                Action(ActionKind.ORPHAN, action.entity, action.key, action.name, action.remote_id, (), detail),
                OutcomeStatus.ORPHAN,
                action.remote_id,
            )
    if action.entity is EntityKind.SHELF and ctx.tree_id:
        others = _other_trees_books_on(ctx, action.remote_id)
        if others:
            detail = f"kept: other docs trees list {others} book(s) on it"
            own = {obj.id for objs in ctx.remote.managed(EntityKind.BOOK).values() for obj in objs}
            current = ctx.remote.shelf_books.get(action.remote_id, [])
            if any(book in own for book in current):  # this tree's books leave it all the same
                ctx.client.update("shelves", action.remote_id, {"books": [b for b in current if b not in own]})
                detail += "; this tree's books left it"
            return Outcome(
                Action(ActionKind.ORPHAN, action.entity, action.key, action.name, action.remote_id, (), detail),
                OutcomeStatus.ORPHAN,
                action.remote_id,
            )
    ctx.client.delete(API_KIND[action.entity], action.remote_id)
    return Outcome(action, OutcomeStatus.DELETED, action.remote_id)


def _other_trees_books_on(ctx: ApplyContext, shelf_id: int) -> int:
    """How many books of other docs trees a shelf of this tree lists: a shelf they share is not this tree's
    alone to delete (one read; one search only when it lists books that are not this tree's)."""
    own = {obj.id for objs in ctx.remote.managed(EntityKind.BOOK).values() for obj in objs}
    listed = [book for book in _read_shelf_now(ctx, shelf_id) if book not in own]
    if not listed:
        return 0
    query = f"{{type:book}} [{MANAGED_TAG}] [{TREE_TAG}] -[{TREE_TAG}={ctx.tree_id}]"
    others = {int(hit["id"]) for hit in ctx.client.search(query) if hit.get("type") == "book"}
    return sum(1 for book in listed if book in others)


def _unmanaged_inside(remote: RemoteState, kind: EntityKind, obj_id: int) -> str:
    """What a book or chapter to delete holds that this tree did not write: unmanaged objects, and
    other trees' ones (a page someone moved into it)."""

    def others(of: EntityKind) -> list[RemoteObject]:
        return [o for o in remote.of(of).values() if not o.key] + list(remote.foreign[of].values())

    if kind is EntityKind.CHAPTER:
        pages = [p for p in others(EntityKind.PAGE) if p.chapter_id == obj_id]
        return f"{len(pages)} page(s)" if pages else ""
    pages = [p for p in others(EntityKind.PAGE) if p.book_id == obj_id]
    chapters = [c for c in others(EntityKind.CHAPTER) if c.book_id == obj_id]
    if pages or chapters:
        return f"{len(pages)} page(s) and {len(chapters)} chapter(s)"
    return ""


def write_pages(ctx: ApplyContext, actions: list[Action], record: Callable[[Outcome], None]) -> list[Action]:
    """The first write of each page; returns the pages that need a second one (a link or asset that
    had no URL yet). Each outcome is recorded as soon as it is known."""
    writes = [a for a in actions if a.kind.writes]
    others = [a for a in actions if not a.kind.writes]
    for action in others:
        record(guarded(ctx, action, _apply_page))
    # creates first, targets of links before the pages that link to them, so most pages are
    # written once with every link resolved
    creates = {a.key: a for a in writes if a.kind is ActionKind.CREATE}
    ordered: list[Action] = []
    placed: set[str] = set()

    def place(key: str, trail: set[str]) -> None:
        if key in placed or key in trail:
            return
        for target in ctx.desired.pages[key].linked_pages:
            if target in creates:
                place(target, trail | {key})
        placed.add(key)
        ordered.append(creates[key])

    for key in sorted(creates):
        place(key, set())
    ordered.extend(a for a in writes if a.kind is not ActionKind.CREATE)
    # a page waits for the creates of the pages it links to that come before it (a link cycle is
    # broken where the order puts it, as in a serial run)
    create_step = {a.key: n for n, a in enumerate(ordered) if a.kind is ActionKind.CREATE}
    steps = []
    for n, action in enumerate(ordered):
        targets = ctx.desired.pages[action.key].linked_pages
        after = tuple(sorted({create_step[t] for t in targets if t in create_step and create_step[t] < n}))
        steps.append(Step(action, _apply_page, after))
    results = run_steps(ctx, steps, record)
    return [
        action
        for action, outcome in zip(ordered, results, strict=True)
        if outcome is not None and outcome.status is not OutcomeStatus.FAILED and action.key in ctx.pending_rewrite
    ]


def _apply_page(ctx: ApplyContext, action: Action) -> Outcome:
    page = ctx.desired.pages[action.key]
    book_id = ctx.matching.id_of(EntityKind.BOOK, page.book_key)
    chapter_id = ctx.matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
    if book_id is None or (page.chapter_key and chapter_id is None):
        raise _ParentMissing(f"its {'chapter' if page.chapter_key else 'book'} could not be written in this run")
    remote = ctx.remote.of(EntityKind.PAGE).get(action.remote_id or -1)
    if action.kind is ActionKind.CREATE:
        payload = page_payload(ctx, page, remote=None, page_id=None, with_parent=True)
        payload["priority"] = page.priority
        created = _create_or_find(ctx, EntityKind.PAGE, page.key, payload)
        page_id = int(created["id"])
        ctx.matching.ids[(EntityKind.PAGE, page.key)] = page_id
        ctx.revisions[page_id] = int(created.get("revision_count") or 1)
        _check_editor(ctx, created)
        _check_priority(ctx, page, payload, created)
        if payload.pop("_unresolved", False):
            ctx.pending_rewrite.add(page.key)
        return Outcome(action, OutcomeStatus.CREATED, page_id, object_url(ctx, EntityKind.PAGE, page.key))
    assert action.remote_id is not None and remote is not None
    with_parent = "parent" in action.changes
    tags_only = action.kind in (ActionKind.ADOPT, ActionKind.CLAIM)
    if tags_only and not {"content", "name", "parent"} & set(action.changes):
        payload = _adoption_tags(ctx, page, remote)
    else:
        payload = page_payload(ctx, page, remote=remote, page_id=action.remote_id, with_parent=with_parent)
    if "priority" in action.changes or action.kind is ActionKind.REORDER:
        payload["priority"] = page.priority
    if payload.pop("_unresolved", False):
        ctx.pending_rewrite.add(page.key)
    extra = ctx.extra_tag(action.remote_id, payload) if ctx.extra_tag is not None else None
    if extra is not None:
        payload["tags"] = [*payload["tags"], {"name": extra[0], "value": extra[1]}]
    updated = ctx.client.update("pages", action.remote_id, payload)
    ctx.revisions[action.remote_id] = int(updated.get("revision_count") or 0)
    ctx.answered[(EntityKind.PAGE, action.remote_id)] = updated
    _check_editor(ctx, updated)
    _check_priority(ctx, page, payload, updated)
    status = _STATUS_OF_WRITE.get(action.kind, OutcomeStatus.UPDATED)
    return Outcome(action, status, action.remote_id, object_url(ctx, EntityKind.PAGE, page.key))


def rewrite_page(ctx: ApplyContext, action: Action) -> Outcome:
    """The second write of a page whose first write could not resolve every link or asset."""
    page = ctx.desired.pages[action.key]
    page_id = ctx.matching.id_of(EntityKind.PAGE, page.key)
    assert page_id is not None
    ctx.pending_rewrite.discard(page.key)
    remote = ctx.remote.of(EntityKind.PAGE).get(page_id)
    payload = page_payload(ctx, page, remote=remote, page_id=page_id, with_parent=False)
    payload.pop("_unresolved", None)
    updated = ctx.client.update("pages", page_id, payload)
    ctx.revisions[page_id] = int(updated.get("revision_count") or 0)
    ctx.answered[(EntityKind.PAGE, page_id)] = updated
    return Outcome(action, OutcomeStatus.UPDATED, page_id, object_url(ctx, EntityKind.PAGE, page.key))


def page_payload(
    ctx: ApplyContext, page: DesiredPage, *, remote: RemoteObject | None, page_id: int | None, with_parent: bool
) -> dict[str, Any]:
    assets: dict[str, str] = {}
    asset_tags: list[tuple[str, str]] = []
    unresolved = False
    if page.assets:
        if page_id is None:
            unresolved = True  # uploads need the page to exist: create first, then upload and rewrite
        else:
            assets, asset_tags = _sync_assets(ctx, page, page_id, remote)
    rendered = render_page(
        page.source,
        ctx.tree,
        WriteResolver(ctx, assets),
        strip_title_heading=ctx.strip_title_heading,
        forge_markdown=ctx.forge_markdown,
    )
    if waits_for_pages(rendered.unresolved, ctx.desired):
        unresolved = True
    canonical = ctx.canonical(page)
    settled = canonical if canonical is not None and not unresolved else None
    content_hash = page_hash(page, settled, page.parent_key) if settled is not None else "pending"
    if page_id is None:
        revision = 1
    else:
        current = ctx.revisions.get(page_id, remote.revision_count if remote else 0)
        revision = current + 1
    body = body_hash(settled) if settled is not None else ""
    tags = ctx.page_tags(page, content_hash, revision, asset_tags, body=body)
    payload: dict[str, Any] = {"name": page.name, "markdown": rendered.markdown or EMPTY_PAGE, "tags": tag_list(tags)}
    if with_parent:
        # only the parent key that should change: `book_id` alone would pull a page out of its chapter
        chapter_id = ctx.matching.id_of(EntityKind.CHAPTER, page.chapter_key) if page.chapter_key else None
        if chapter_id is not None:
            payload["chapter_id"] = chapter_id
        else:
            payload["book_id"] = ctx.matching.id_of(EntityKind.BOOK, page.book_key)
    for warning in rendered.warnings:
        log.warning("%s: %s", page.key, warning)
    if unresolved:
        payload["_unresolved"] = True
    return payload


def _adoption_tags(ctx: ApplyContext, page: DesiredPage, remote: RemoteObject) -> dict[str, Any]:
    """Adopting a page whose text BookStack already holds (``verify.check_adopted_contents``): only the
    tags, with the hash of the git rendering and the page's images and attachments recorded as
    uploaded, so BookStack keeps its text and files and the next sync finds nothing to do."""
    canonical = ctx.canonical(page)
    content_hash = page_hash(page, canonical, page.parent_key) if canonical is not None else "pending"
    revision = ctx.revisions.get(remote.id, remote.revision_count) + 1
    assets = [asset_tag(ref.target, ctx.tree.assets[ref.target].sha256) for ref in page.assets]
    return {"tags": tag_list(ctx.page_tags(page, content_hash, revision, assets))}


def asset_name(page: DesiredPage, ref: Reference) -> str:
    """The name an upload gets in BookStack: its path relative to the page's folder (unique per page)."""
    folder = PurePosixPath(page.key).parent
    try:
        name = PurePosixPath(ref.target).relative_to(folder).as_posix()
    except ValueError:
        name = ref.target
    return name[-180:]  # BookStack's limit on image names


def _sync_assets(
    ctx: ApplyContext, page: DesiredPage, page_id: int, remote: RemoteObject | None
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Upload new or changed images/attachments of one page; reuse unchanged ones. Returns URLs and tags."""
    recorded = remote.recorded_assets() if remote is not None else {}
    refs = page.assets
    images = (
        {str(i["name"]): i for i in ctx.client.list("image-gallery", filters={"uploaded_to": page_id})}
        if any(r.kind is RefKind.IMAGE for r in refs)
        else {}
    )
    files = (
        {str(a["name"]): a for a in ctx.client.list("attachments", filters={"uploaded_to": page_id})}
        if any(r.kind is RefKind.ATTACHMENT for r in refs)
        else {}
    )
    urls: dict[str, str] = {}
    tags: list[tuple[str, str]] = []
    for ref in refs:
        asset = ctx.tree.assets[ref.target]
        sha = asset.sha256[:12]
        name = asset_name(page, ref)
        unchanged = recorded.get(asset_record(ref.target)) == sha
        data = b"" if unchanged else asset.file.read_bytes()
        filename = PurePosixPath(ref.target).name
        if ref.kind is RefKind.IMAGE:
            existing = images.get(name)
            if existing is not None and unchanged:
                urls[ref.target] = str(existing["url"])
            elif existing is not None:
                urls[ref.target] = str(ctx.client.replace_image(int(existing["id"]), filename, data, name=name)["url"])
            else:
                data = data or asset.file.read_bytes()
                urls[ref.target] = str(ctx.client.upload_image(page_id, filename, data, name=name)["url"])
        else:
            existing = files.get(name)
            if existing is not None and unchanged:
                attachment_id = int(existing["id"])
            elif existing is not None:
                attachment_id = int(
                    ctx.client.update_attachment(int(existing["id"]), name=name, filename=filename, data=data)["id"]
                )
            else:
                data = data or asset.file.read_bytes()
                attachment_id = int(ctx.client.create_attachment(page_id, name, filename=filename, data=data)["id"])
            urls[ref.target] = f"/attachments/{attachment_id}"
        tags.append(asset_tag(ref.target, sha))
    return urls, tags


def _check_editor(ctx: ApplyContext, page: dict[str, Any]) -> None:
    editor = page.get("editor")
    message = (
        "pages come back from BookStack with a non-markdown editor: the token's role lacks the "
        '"Change page editor" permission, so the first person to edit a page in BookStack would turn it into HTML'
    )
    if editor and editor != "markdown" and ctx.note_once(message):
        log.warning(message)


def _check_priority(ctx: ApplyContext, page: DesiredPage, payload: dict[str, Any], answer: dict[str, Any]) -> None:
    """A book with an automatic sort rule renumbers priorities after every write (BookStack's sort rules)."""
    sent = payload.get("priority")
    if sent is None or answer.get("priority") in (None, sent):
        return
    with ctx.lock:
        if page.book_key in ctx.sort_rule_books:
            return
        ctx.sort_rule_books.add(page.book_key)
    book = ctx.desired.books[page.book_key].name
    message = f"book {book!r} seems to have an automatic sort rule: BookStack overrides the page order set from `order`"
    if ctx.note_once(message):
        log.warning(message)
