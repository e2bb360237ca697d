"""A person at work in BookStack's UI (user 2, ``HUMAN_USER``): what each screen saves and what it logs.

``FakeBookStack`` takes these methods from ``HumanActions``. Each acts as the person (``activity.acting``),
so what it logs in the audit log carries user 2 and a browser's address. The activity types and their
loggables are BookStack's (v25.02 and v26.03 alike):

- ``edit_page_as_human``: ``page_update`` (page) — ``PageRepo::update``;
- ``restore_revision_as_human``: ``page_restore`` (page), then ``revision_restore`` (no entity) —
  ``PageRepo::restoreRevision``;
- ``create_book_as_human``: ``book_create`` (the book), and from a shelf's page ``bookshelf_update`` (the shelf,
  which is not saved) — ``BookRepo::create``, ``BookController::store``;
- ``change_as_human``: ``<type>_update`` (the item) for an edit form's save; a move (the Move screen)
  ``page_move`` / ``chapter_move`` (the item) — ``*Repo::update``, ``PageRepo::move``, ``ChapterRepo::move``;
- ``sort_as_human``: ``book_sort`` for every book involved (the item's book and the one it goes to) —
  ``BookSortController::update``; ``set_sort_rule_as_human`` (the same screen's automatic sort):
  ``book_sort`` (the book); ``edit_sort_rule_as_human``: ``sort_rule_update`` (no entity) —
  ``SortRuleController::update``;
- ``delete_as_human``: ``<type>_delete`` (the item); ``restore_as_human``: ``recycle_bin_restore`` and
  ``destroy_as_human``: ``recycle_bin_destroy`` (the deletion: no entity) — ``DeletionRepo``;
- ``set_permissions_as_human``: ``permissions_update`` (the item) — ``PermissionsUpdater``;
- ``login_as_human``: ``auth_login`` ("standard; (2) Human Editor", no entity) — ``LoginService::login``.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any

from .activity import HUMAN_IP, Actor, acting, log, morph_class
from .api import DEFAULT_EDITOR
from .markdown import add_bookmark_ids, render_markdown
from .references import targets, update_references
from .state import HUMAN_USER, USERS, Page, Store, Tag, check_sort_rule

if TYPE_CHECKING:
    from .api import Api

HUMAN = Actor(HUMAN_USER, HUMAN_IP)


class HumanActions:
    """The ``*_as_human`` methods of ``FakeBookStack``."""

    state: Store
    _api: Api
    _lock: AbstractContextManager[Any]

    def _as_human(self) -> AbstractContextManager[None]:
        return acting(self.state, HUMAN)

    def _item(self, kind: str, item_id: int) -> Any:
        tables: dict[str, dict[int, Any]] = {
            "shelf": self.state.shelves,
            "book": self.state.books,
            "chapter": self.state.chapters,
            "page": self.state.pages,
        }
        return tables[kind][item_id]

    def edit_page_as_human(
        self, page_id: int, markdown: str | None = None, html: str | None = None, name: str | None = None
    ) -> None:
        """A person saving the page in the UI: +1 revision, new updated_at, updated_by = user 2.

        An HTML (WYSIWYG) save clears the markdown and sets the editor to wysiwyg, as BookStack does.
        """
        with self._lock, self._as_human():
            page = self._save_page(page_id, markdown=markdown, html=html, name=name)
            log(self.state, "page_update", page)

    def restore_revision_as_human(self, page_id: int, markdown: str, revision_number: int | None = None) -> None:
        """A person restoring an older revision (``PageRepo::restoreRevision``): its text comes back as a
        new save — +1 revision, new ``updated_at``, ``updated_by`` = user 2. Logged as ``page_restore``
        and ``revision_restore`` ("Revision #N (ID: …) for page ID …"; the fake keeps no revision rows, so
        the id shown is the number, by default the revision before the current one)."""
        with self._lock, self._as_human():
            number = revision_number or max(1, self.state.pages[page_id].revision_count - 1)
            page = self._save_page(page_id, markdown=markdown)
            log(self.state, "page_restore", page)
            log(self.state, "revision_restore", f"Revision #{number} (ID: {number}) for page ID {page.id}")

    def _save_page(
        self, page_id: int, *, markdown: str | None = None, html: str | None = None, name: str | None = None
    ) -> Page:
        page = self.state.pages[page_id]
        linked = targets(self._api, "page", page)
        if name is not None and name != page.name:
            page.name = name
            page.slug = self.state.unique_slug("page", name, book_id=page.book_id, exclude=page.id)
        if markdown is not None:
            page.markdown = markdown
            page.html = add_bookmark_ids(render_markdown(markdown))
            page.editor = "markdown"
        elif html is not None:
            page.html = add_bookmark_ids(html)
            page.markdown = ""
            page.editor = DEFAULT_EDITOR
        page.revision_count += 1
        page.updated_at, page.updated_by = self.state.now(), HUMAN_USER
        self.state.run_book_auto_sort(page.book_id)
        update_references(self._api, linked)
        return page

    def change_as_human(
        self,
        kind: str,
        item_id: int,
        *,
        name: str | None = None,
        tags: list[tuple[str, str]] | None = None,
        book_id: int | None = None,
        chapter_id: int | None = None,
        books: list[int] | None = None,
    ) -> None:
        """A person changing a shelf, book, chapter or page in the UI: rename, tags, a move (a page to
        ``chapter_id`` or to the top of ``book_id``; a chapter to ``book_id``), a shelf's book list.

        As BookStack saves it: a page save is an edit (+1 revision, ``PageRepo::update``), a page move is
        not (``PageRepo::move``); a chapter move moves its pages' ``updated_at`` too; the form sends the
        tags, so every save ``touch()``es the item; ``updated_by`` = user 2 — but a move alone (the Move
        screen: ``PageRepo::move``, ``ChapterRepo::move``) saves through ``changeBook``, which leaves
        ``updated_by`` as it was (v25.02 ``BookChild``, v26.03 ``ParentChanger``). The edit form's save logs
        ``<type>_update``, the Move screen ``page_move`` / ``chapter_move``.
        """
        with self._lock, self._as_human():
            store = self.state
            item = self._item(kind, item_id)
            linked = targets(self._api, kind, item)
            if name is not None:
                item.name = name
                item.slug = store.unique_slug(kind, name, book_id=getattr(item, "book_id", None), exclude=item.id)
            if tags is not None:
                item.tags = [Tag(tag_name, value) for tag_name, value in tags]
            moved = False
            if kind == "page" and (book_id is not None or chapter_id is not None):
                target_book = store.chapters[chapter_id].book_id if chapter_id is not None else book_id
                assert target_book is not None
                store.move_page(item, book_id=target_book, chapter_id=chapter_id)
                moved = True
            elif kind == "chapter" and book_id is not None:
                store.move_chapter(item, book_id)
                moved = True
            if books is not None:
                item.book_ids = list(books)
            edited = name is not None or tags is not None or books is not None
            if kind == "page" and (name is not None or tags is not None):
                item.revision_count += 1
            item.updated_at = store.now()
            if edited:
                item.updated_by = HUMAN_USER
            if edited or not moved:
                log(store, f"{morph_class(item)}_update", item)
            if moved:
                log(store, f"{kind}_move", item)
            update_references(self._api, linked)

    def sort_as_human(
        self, kind: str, item_id: int, priority: int, *, book_id: int | None = None, chapter_id: int | None = None
    ) -> None:
        """A person dragging a chapter or page on a book's Sort screen (``BookSorter::applySortUpdates``):
        its new ``priority`` and, for a page, its chapter (``chapter_id``; None = the book's top level) are
        saved **without timestamps** — ``updated_at`` and ``updated_by`` stay as they were; only a move to
        another book (``book_id``) goes through ``changeBook``, which saves with a new ``updated_at`` (and
        a chapter's pages with it). The same in v25.02 and v26.03. ``book_sort`` is logged for each book
        involved — the item's and the one it goes to — in id order (``BookSorter::sortUsingMap``)."""
        with self._lock, self._as_human():
            store = self.state
            if kind == "chapter":
                chapter = store.chapters[item_id]
                involved = {chapter.book_id, book_id or chapter.book_id}
                linked = targets(self._api, kind, chapter)
                if book_id is not None and book_id != chapter.book_id:
                    store.move_chapter(chapter, book_id)
                chapter.priority = priority
            else:
                page = store.pages[item_id]
                linked = targets(self._api, kind, page)
                target_book = store.chapters[chapter_id].book_id if chapter_id is not None else book_id or page.book_id
                involved = {page.book_id, target_book}
                if target_book != page.book_id:
                    store.move_page(page, book_id=target_book, chapter_id=page.chapter_id)
                    page.updated_at = store.now()
                page.chapter_id = chapter_id
                page.priority = priority
            for book in sorted(involved):
                log(store, "book_sort", store.books[book])
            update_references(self._api, linked)

    def set_sort_rule_as_human(self, book_id: int, rule: str | None) -> None:
        """A person choosing a book's automatic sort rule on its Sort screen (``BookSortController::update``):
        a different rule is a column of the book (v26.03: of its container data, which ``touch()``es it),
        so the book is saved with a new ``updated_at`` (``updated_by`` kept); the book is sorted by it
        without timestamps; ``book_sort`` is logged for the book."""
        check_sort_rule(rule)
        with self._lock, self._as_human():
            book = self.state.books[book_id]
            if rule != book.sort_rule:
                book.sort_rule, book.updated_at = rule, self.state.now()
            self.state.run_book_auto_sort(book_id)
            log(self.state, "book_sort", book)

    def edit_sort_rule_as_human(self, rule: str, operations: str, name: str | None = None) -> None:
        """An admin changing a sort rule's operations in Settings > Sorting (``SortRuleController::update``):
        every book using ``rule`` is sorted again by ``operations`` without timestamps — no ``updated_at``
        moves — and ``sort_rule_update`` is logged about the rule (no entity: NULL loggable, detail
        ``(id) name``; the fake's rules are named by their operations unless ``name`` is given)."""
        check_sort_rule(operations)
        with self._lock, self._as_human():
            ids = self.state.sort_rule_ids
            if operations in ids and operations != rule:
                raise ValueError(f"another rule already sorts by {operations!r}")
            rule_id = ids.pop(rule, None) or len(ids) + 1
            ids[operations] = rule_id
            for book in self.state.books.values():
                if book.sort_rule == rule:
                    book.sort_rule = operations
                    self.state.run_book_auto_sort(book.id)
            log(self.state, "sort_rule_update", f"({rule_id}) {name or operations}")

    def create_book_as_human(self, name: str, *, shelf_id: int | None = None) -> int:
        """A person creating a book, from a shelf's page when ``shelf_id`` is given (``BookController::store``):
        ``book_create``; the book is appended to the shelf's list (a pivot row: the shelf is not saved, its
        ``updated_at`` stays) and ``bookshelf_update`` is logged about the shelf. Returns the book's id."""
        with self._lock, self._as_human():
            book = self._api.new_book(name=name, description_pair=("", "<p></p>"), tags=[])
            book.created_by = book.updated_by = book.owned_by = HUMAN_USER
            if shelf_id is not None:
                shelf = self.state.shelves[shelf_id]
                shelf.book_ids.append(book.id)
                log(self.state, "bookshelf_update", shelf)
            return book.id

    def delete_as_human(self, kind: str, item_id: int) -> int:
        """A person deleting a shelf, book, chapter or page: it goes to the recycle bin (with what it
        holds). Returns the deletion's id, for ``restore_as_human``."""
        with self._lock, self._as_human():
            return self.state.delete(kind, item_id).id

    def restore_as_human(self, deletion_id: int) -> None:
        """An admin restoring a deletion from the recycle bin: the items come back with their ids and a
        new ``updated_at`` (``TrashCan::restoreEntity``)."""
        with self._lock, self._as_human():
            self.state.restore(deletion_id)

    def destroy_as_human(self, deletion_id: int) -> int:
        """An admin deleting an entry from the recycle bin for good (``TrashCan::destroyFromDeletion``);
        returns how many items went."""
        with self._lock, self._as_human():
            return self.state.destroy(deletion_id)

    def set_permissions_as_human(self, kind: str, item_id: int, *, owner: int | None = None, **actions: bool) -> None:
        """A person saving a shelf's, book's, chapter's or page's Permissions screen
        (``PermissionsUpdater::updateFromPermissionsForm``): ``actions`` (``view``/``create``/``update``/
        ``delete``) set for the token's role, ``owner`` a new owner. The item is saved only when its owner
        changed (a new ``updated_at``, ``updated_by`` kept); entity permissions are rows of their own, so
        otherwise nothing on the item moves — ``permissions_update`` in the audit log is the only trace."""
        with self._lock, self._as_human():
            item = self._item(kind, item_id)
            if actions:
                self._api.access.set_entity(morph_class(item) or kind, item_id, **actions)
            if owner is not None and owner != item.owned_by:
                item.owned_by = owner
                item.updated_at = self.state.now()
            log(self.state, "permissions_update", item)

    def login_as_human(self) -> None:
        """The person logging in with a password (``LoginService::login``): ``auth_login``."""
        with self._lock, self._as_human():
            user = USERS[HUMAN_USER]
            log(self.state, "auth_login", f"standard; ({user['id']}) {user['name']}")  # User::logDescriptor
