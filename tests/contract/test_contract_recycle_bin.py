"""What comes back from BookStack's recycle bin, and what listings count meanwhile.

Settled from BookStack's source (``TrashCan``, the same in v25.02 and v26.03): a deleted item leaves
listings and their ``total`` (soft deletes); ``restoreFromDeletion`` restores nothing while the item's
parent is itself in the bin, and removes the entry either way; restoring a chapter or book brings back
every page (a book: and chapter) of it still in the bin, deleted with it or before it, and removes those
pages' own entries (``restoreEntity``: ``pages()->withTrashed()``, ``deletions()->delete()``). A chapter
moved to another book takes its pages in the bin along (``changeBook``: ``pages()->withTrashed()``).

Restoring needs settings-manage + restrictions-manage-all (api §2): without them these tests skip.
"""

from __future__ import annotations

from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient, PermissionDeniedError
from tests.bookstack_target import BookStackTarget
from tests.contract.conftest import raw_get

pytestmark = pytest.mark.real_bookstack


def _bin_entry(client: BookStackClient, kind: str, item_id: int) -> dict[str, Any] | None:
    try:
        found = raw_get(client, "/api/recycle-bin", {"filter[deletable_id]": item_id, "filter[deletable_type]": kind})
    except PermissionDeniedError:
        pytest.skip("the token may not use the recycle bin (settings-manage + restrictions-manage-all)")
    return next(iter(found["data"]), None)


def _restore(client: BookStackClient, entry: dict[str, Any]) -> int:
    return int(client._object("PUT", f"/api/recycle-bin/{entry['id']}")["restore_count"])


def _listed_pages(client: BookStackClient, **filters: int) -> list[int]:
    return sorted(int(p["id"]) for p in client.list("pages", filters=dict(filters)))


def _chapter_with_pages(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> tuple[int, list[int]]:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    pages = [
        int(
            bookstack.create(
                "pages", {"chapter_id": chapter["id"], "name": bookstack.unique_name("p"), "markdown": "x"}, client
            )["id"]
        )
        for _ in range(2)
    ]
    return int(chapter["id"]), pages


def test_a_chapter_restored_brings_back_its_page_deleted_before_it(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    chapter, (first, second) = _chapter_with_pages(bookstack, client, book)
    client.delete("pages", first)
    client.delete("chapters", chapter)
    assert _listed_pages(client, book_id=book["id"]) == []  # soft-deleted: out of listings and totals
    entry = _bin_entry(client, "chapter", chapter)
    assert entry is not None and _bin_entry(client, "page", first) is not None
    assert _restore(client, entry) == 3
    assert _listed_pages(client, book_id=book["id"]) == sorted([first, second])
    assert _bin_entry(client, "page", first) is None  # its own entry went with the restore


def test_a_page_whose_chapter_is_in_the_bin_is_not_restored_and_its_entry_goes(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    chapter, (first, _) = _chapter_with_pages(bookstack, client, book)
    client.delete("pages", first)
    client.delete("chapters", chapter)
    entry = _bin_entry(client, "page", first)
    assert entry is not None
    assert _restore(client, entry) == 0
    assert _listed_pages(client, book_id=book["id"]) == []
    assert _bin_entry(client, "page", first) is None


def test_a_moved_chapter_takes_its_pages_in_the_bin_along(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    other = bookstack.create("books", {"name": bookstack.unique_name("book")}, client)
    chapter, (first, second) = _chapter_with_pages(bookstack, client, book)
    client.delete("pages", first)
    entry = _bin_entry(client, "page", first)
    assert entry is not None
    client.update("chapters", chapter, {"book_id": other["id"]})
    assert _restore(client, entry) == 1
    assert _listed_pages(client, chapter_id=chapter) == sorted([first, second])
    assert _listed_pages(client, book_id=other["id"]) == sorted([first, second])
