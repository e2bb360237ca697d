"""What BookStack holds now, read in bulk: a handful of requests whatever the size of the tree.

Listings (500 items a request) give ids, names, parents, priorities and revision counts; one tag search
(100 hits a request) gives every object of this docs tree with its tags, which the listings lack (BookStack's
``ListingResponseBuilder`` and ``SearchApiController``). Shelves are read one by one for their book order: there are few of them.

Many trees may publish into one wiki (``treeid``). The snapshot holds this tree's objects and the
unmanaged ones; objects of other trees are kept apart (``foreign``), so nothing downstream can take one
for an orphan, pair it, adopt it, move or delete it. Other trees' objects are read (one more search per
kind) only when some key of this tree has no object yet: only then could one be mistaken for an
unmanaged object of the same name, or be an unowned object of an earlier version to claim.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..bookstack import BookStackClient, NotFoundError, normalise_chapter_id
from ..model import API_KIND, KIND_OF_SEARCH_TYPE, SEARCH_TYPE, EntityKind
from .tags import ASSET_TAG, HASH_TAG, MANAGED_TAG, REV_TAG, RUN_TAG, SYSTEM_TAGS, TREE_TAG


@dataclass
class RemoteObject:
    kind: EntityKind
    id: int
    name: str
    slug: str = ""
    description: str = ""
    book_id: int | None = None
    chapter_id: int | None = None
    priority: int = 0
    revision_count: int = 0
    editor: str = ""
    updated_by: int | None = None
    updated_by_name: str | None = None  # read for drifted pages only: listings give the user's id alone
    stored_markdown: str | None = None  # read for drifted pages only: the text BookStack holds now
    updated_at: str = ""  # as BookStack answers it (UTC, whole seconds)
    tags: list[dict[str, str]] = field(default_factory=list)

    def tag(self, name: str) -> str | None:
        for tag in self.tags:
            if tag.get("name") == name:
                return str(tag.get("value", ""))
        return None

    def tag_values(self, name: str) -> list[str]:
        return [str(tag.get("value", "")) for tag in self.tags if tag.get("name") == name]

    @property
    def key(self) -> str | None:
        return self.tag(MANAGED_TAG)

    @property
    def owner(self) -> str | None:
        """The tree that owns it (None: unmanaged, or written by a version before trees)."""
        return self.tag(TREE_TAG)

    @property
    def content_hash(self) -> str | None:
        return self.tag(HASH_TAG)

    @property
    def recorded_revision(self) -> int | None:
        value = self.tag(REV_TAG)
        return int(value) if value and value.isdigit() else None

    @property
    def drifted(self) -> bool:
        """Saved in BookStack since the plugin's last write: its revision count moved on."""
        recorded = self.recorded_revision
        return recorded is not None and self.revision_count != recorded

    def recorded_assets(self) -> dict[str, str]:
        """asset path (as ``apply.asset_record`` writes it) -> sha prefix, as recorded at the last write."""
        found: dict[str, str] = {}
        for value in self.tag_values(ASSET_TAG):
            sha, _, path = value.partition(" ")
            if path:
                found[path] = sha
        return found

    def user_tags(self) -> list[tuple[str, str]]:
        return [(t["name"], t.get("value", "")) for t in self.tags if t.get("name") not in SYSTEM_TAGS]


@dataclass
class RemoteState:
    objects: dict[EntityKind, dict[int, RemoteObject]] = field(default_factory=lambda: defaultdict(dict))
    shelf_books: dict[int, list[int]] = field(default_factory=dict)  # shelf id -> book ids in shelf order
    version: str | None = None  # BookStack's version, when /api/system exists
    # BookStack's own address (APP_URL), what readers use: from /api/system, else from a book read (before
    # v25.05); None when neither says
    app_url: str | None = None
    tree_id: str = ""  # the tree this snapshot was read for ("": every managed object is this tree's)
    # other trees' objects, and unowned ones (earlier versions) whose key is not this tree's: never touched
    foreign: dict[EntityKind, dict[int, RemoteObject]] = field(default_factory=lambda: defaultdict(dict))
    foreign_read: set[EntityKind] = field(default_factory=set)  # kinds whose other trees' objects were read
    claims: set[tuple[EntityKind, int]] = field(default_factory=set)  # unowned objects with this tree's keys

    def of(self, kind: EntityKind) -> dict[int, RemoteObject]:
        return self.objects[kind]

    def managed(self, kind: EntityKind) -> dict[str, list[RemoteObject]]:
        """key -> managed objects carrying it (more than one only after concurrent runs), lowest id first."""
        found: dict[str, list[RemoteObject]] = defaultdict(list)
        for obj in sorted(self.objects[kind].values(), key=lambda o: o.id):
            if obj.key:
                found[obj.key].append(obj)
        return found

    def shared_shelves(self) -> dict[str, RemoteObject]:
        """shelf key -> another tree's shelf of that key (the lowest id): this tree lists its books there."""
        found: dict[str, RemoteObject] = {}
        for obj in sorted(self.foreign[EntityKind.SHELF].values(), key=lambda o: o.id):
            if obj.key and obj.owner and obj.key not in found:
                found[obj.key] = obj
        return found

    def owner_of(self, kind: EntityKind, obj_id: int) -> str | None:
        """Which other tree owns an object ("" for an unowned one of an earlier version), None if none does."""
        obj = self.foreign[kind].get(obj_id)
        return None if obj is None else (obj.owner or "")


def _remote_object(kind: EntityKind, item: dict[str, Any]) -> RemoteObject:
    updated_by = item.get("updated_by")
    if isinstance(updated_by, dict):
        updated_by = updated_by.get("id")
    return RemoteObject(
        kind=kind,
        id=int(item["id"]),
        name=str(item.get("name", "")),
        slug=str(item.get("slug", "")),
        description=str(item.get("description") or ""),
        book_id=item.get("book_id"),
        chapter_id=normalise_chapter_id(item.get("chapter_id")),
        priority=int(item.get("priority") or 0),
        revision_count=int(item.get("revision_count") or 0),
        editor=str(item.get("editor") or ""),
        updated_by=updated_by if isinstance(updated_by, int) else None,
        updated_at=str(item.get("updated_at") or ""),
        tags=[{"name": str(t.get("name", "")), "value": str(t.get("value") or "")} for t in item.get("tags", [])],
    )


def fetch_remote(
    client: BookStackClient,
    *,
    shelf_names: set[str],
    shelf_keys: set[str],
    tree_id: str = "",
    wanted: set[tuple[EntityKind, str]] | None = None,
    listed: Mapping[EntityKind, list[dict[str, Any]]] | None = None,
) -> RemoteState:
    """Read the snapshot the planner needs for the tree ``tree_id`` (its keys: ``wanted``); ``listed``:
    kinds already listed whole just before (the probe's listings), not listed again.

    Shelves are read for their book order only where they matter: this tree's and the ones a desired
    shelf could share, adopt or continue (same key in another tree; same name: an unmanaged one, or a
    managed one whose slug changed). Without ``tree_id`` every managed object counts as this tree's.
    """
    state = RemoteState(tree_id=tree_id)
    system = client.system()
    if system:
        state.version = str(system.get("version") or "") or None
        state.app_url = str(system.get("base_url") or "").rstrip("/") or None
    for kind, list_kind in API_KIND.items():
        filters = {"draft": 0} if kind is EntityKind.PAGE else None
        known = (listed or {}).get(kind)
        items = sorted(known, key=lambda item: int(item["id"])) if known is not None else None
        for item in items if items is not None else client.list(list_kind, filters=filters):
            if kind is EntityKind.PAGE and item.get("draft"):
                continue  # the token user's own drafts are not content
            obj = _remote_object(kind, item)
            state.objects[kind][obj.id] = obj
    pages = state.of(EntityKind.PAGE)
    if state.app_url is None and pages:
        state.app_url = app_url_of_book(client, int(pages[min(pages)].book_id or 0))
    # [bookstack-sync] first: a search BookStack pages unordered is read again in ranges of its values
    own_query = f"[{MANAGED_TAG}] [{TREE_TAG}={tree_id}]" if tree_id else f"[{MANAGED_TAG}]"
    _take_tags(state, client.search(own_query))
    if tree_id:
        _read_other_trees(client, state, wanted or set())
    _name_editors(client, [page for page in state.of(EntityKind.PAGE).values() if page.drifted])
    shared = state.shared_shelves()
    for shelf in state.objects[EntityKind.SHELF].values():
        if (shelf.key and shelf.key in shelf_keys) or shelf.name in shelf_names:
            read_shelf_books(client, state, shelf.id)
    for key, shelf in shared.items():
        if key in shelf_keys:
            read_shelf_books(client, state, shelf.id)
    return state


def _take_tags(state: RemoteState, hits: Any) -> list[RemoteObject]:
    """Give the listed objects their tags from search hits; returns the objects found."""
    found_objects = []
    for hit in hits:
        hit_kind = KIND_OF_SEARCH_TYPE.get(str(hit.get("type")))
        found = state.objects[hit_kind].get(int(hit["id"])) if hit_kind is not None else None
        if found is not None:
            found.tags = [
                {"name": str(t.get("name", "")), "value": str(t.get("value") or "")} for t in hit.get("tags", [])
            ]
            found_objects.append(found)
    return found_objects


def _read_other_trees(client: BookStackClient, state: RemoteState, wanted: set[tuple[EntityKind, str]]) -> None:
    """Where a key of this tree has no object of its own yet, read the other managed objects of that kind:
    an unowned one carrying the key (written before trees) is claimed; every other is set apart."""
    own = {(kind, obj.key) for kind in API_KIND for obj in state.objects[kind].values() if obj.key}
    kinds = sorted({kind for kind, key in wanted if (kind, key) not in own}, key=list(API_KIND).index)
    if not kinds:
        return
    types = "|".join(SEARCH_TYPE[kind] for kind in kinds)
    others = _take_tags(state, client.search(f"{{type:{types}}} [{MANAGED_TAG}] -[{TREE_TAG}={state.tree_id}]"))
    state.foreign_read.update(kinds)
    for obj in sorted(others, key=lambda o: o.id):
        if obj.owner == state.tree_id:
            continue  # written between the two searches by another run of this tree
        key = (obj.kind, obj.key or "")
        if obj.owner is None and key in wanted and key not in own:
            state.claims.add((obj.kind, obj.id))
            own.add(key)
            continue
        state.foreign[obj.kind][obj.id] = state.objects[obj.kind].pop(obj.id)


def _name_editors(client: BookStackClient, drifted: list[RemoteObject]) -> None:
    """Who saved each drifted page last, by name (listings give ``updated_by`` as an id, a page read
    gives ``{id, name, slug}``), and the text it holds now (``plan/relinked.py`` tells BookStack's own
    link rewrites from a person's edit by it). One read per drifted page; drift is rare."""

    def read(page: RemoteObject) -> tuple[RemoteObject, dict[str, Any] | None]:
        try:
            return page, client.read("pages", page.id)
        except NotFoundError:  # deleted since the listing: the plan will say so without a name
            return page, None

    for page, found in client.map_concurrently(read, drifted):
        user = found.get("updated_by") if found else None
        if isinstance(user, dict) and user.get("name"):
            page.updated_by_name = str(user["name"])
        if found and isinstance(found.get("markdown"), str):
            page.stored_markdown = str(found["markdown"])


def find_created(
    client: BookStackClient, kind: EntityKind, key: str, run_id: str, tree_id: str = ""
) -> dict[str, Any] | None:
    """The object a create of ``key`` by this run made, when the create's answer was lost: a search hit
    carrying both the key and this run's id. Another run's object with the same key is not this run's
    creation, so it is never taken for one (without a run id, as in a bare ``ApplyContext``, the key alone
    decides)."""
    search_type = SEARCH_TYPE[kind]
    tree_term = f" [{TREE_TAG}={tree_id}]" if tree_id else ""
    for hit in client.search(f"{{type:{search_type}}} [{MANAGED_TAG}={key}]{tree_term}"):
        tags = {(str(t.get("name")), str(t.get("value") or "")) for t in hit.get("tags", [])}
        if str(hit.get("type")) != search_type or (MANAGED_TAG, key) not in tags:
            continue
        if not run_id or (RUN_TAG, run_id) in tags:
            return dict(hit)
    return None


def read_shelf_books(client: BookStackClient, state: RemoteState, shelf_id: int) -> list[int]:
    if shelf_id not in state.shelf_books:
        read = client.read("shelves", shelf_id)
        state.shelf_books[shelf_id] = [int(book["id"]) for book in read.get("books", [])]
    return state.shelf_books[shelf_id]


def wiki_address(client: BookStackClient, page_id: int | None = None) -> str:
    """BookStack's own address (APP_URL), which its content and exports use: ``/api/system`` on v25.05+;
    before that, the URLs of the contents of the book holding ``page_id`` (see :func:`app_url_of_book`);
    else the address the client uses."""
    system = client.system()
    if system and system.get("base_url"):
        return str(system["base_url"]).rstrip("/")
    found = None
    if page_id is not None:
        try:
            book_id = client.read("pages", page_id).get("book_id")
        except NotFoundError:
            book_id = None
        found = app_url_of_book(client, int(book_id)) if book_id else None
    return found or client.base_url


def app_url_of_book(client: BookStackClient, book_id: int) -> str | None:
    """APP_URL as BookStack wrote it into a book read: each item of its ``contents`` carries a ``url`` built
    from APP_URL. Not from where ``/link/<id>`` redirects: a reverse proxy in front of BookStack (nginx's
    default ``proxy_redirect``) rewrites that ``Location`` to its own address, while answers' bodies pass
    unchanged. None for a book without visible contents."""
    try:
        contents = client.read("books", book_id).get("contents")
    except NotFoundError:
        return None
    items = list(contents) if isinstance(contents, list) else []
    while items:
        item = items.pop(0)
        if not isinstance(item, dict):
            continue
        url = str(item.get("url") or "")
        at = url.rfind("/books/")  # slugs hold no '/': the last one starts BookStack's own path
        if at > 0:
            return url[:at].rstrip("/")
        items += item.get("pages") or []
    return None
