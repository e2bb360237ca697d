"""``updated_at`` as the cheap no-op probe reads it: which writes move it, in what unit, and how listings
sort and count by it.

Settled from BookStack's source (v24.10 … development): timestamps are whole seconds, written by PHP
in ``APP_TIMEZONE`` (UTC by default) and served as UTC ISO-8601 (``….000000Z``). ``BaseRepo::update``
saves a shelf, book or chapter only when a column changed (``updated_by`` included) and ``touch()``es
it when ``tags`` are sent; a shelf's book list is a pivot table, so a PUT of ``books`` alone by the
user who saved the shelf last leaves ``updated_at`` as it was. ``PageRepo::update`` always saves.
``BookChild::changeBook`` saves a moved chapter and each of its pages. Laravel's ``SoftDeletes`` sets
``updated_at`` on delete and ``restore()`` saves again, so an item back from the recycle bin carries
the time of its restore. ``ListingResponseBuilder`` sorts by any listed field, ``-`` for descending,
and ``total`` counts the filtered rows whatever ``count`` is.

Each test that needs a write to land in a later second than the one before lets a little over a
second pass (``BookStackTarget.let_a_second_pass``): that is the unit of BookStack's clock. A real
BookStack is waited for; the fake's clock is moved on instead.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient, PermissionDeniedError
from tests.bookstack_target import BookStackTarget
from tests.contract.conftest import raw_get

pytestmark = pytest.mark.real_bookstack

WHOLE_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z")


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _page(bookstack: BookStackTarget, client: BookStackClient, **parent: Any) -> dict[str, Any]:
    return bookstack.create("pages", {"name": bookstack.unique_name("p"), "markdown": "Body", **parent}, client)


def _listed(client: BookStackClient, kind: str, item_id: int) -> dict[str, Any]:
    return raw_get(client, f"/api/{kind}", {"filter[id]": item_id})["data"][0]


def test_timestamps_are_whole_seconds_in_utc_and_a_write_returns_its_own(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = _page(bookstack, client, book_id=book["id"])
    bookstack.let_a_second_pass()
    updated = client.update("pages", page["id"], {"markdown": "Changed"})
    assert WHOLE_SECONDS.fullmatch(updated["updated_at"])
    assert _at(updated["updated_at"]) > _at(page["updated_at"])
    # the time a write answers with is what every later read shows: the server's clock at that write
    assert client.read("pages", page["id"])["updated_at"] == updated["updated_at"]
    assert _listed(client, "pages", page["id"])["updated_at"] == updated["updated_at"]


def test_listing_sorted_by_updated_at_descending_counts_everything(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    first = _page(bookstack, client, book_id=book["id"])
    second = _page(bookstack, client, book_id=book["id"])
    bookstack.let_a_second_pass()
    client.update("pages", first["id"], {"markdown": "Newest"})
    listed = raw_get(client, "/api/pages", {"filter[book_id]": book["id"], "sort": "-updated_at", "count": 1})
    assert listed["total"] == 2  # total ignores count
    assert [p["id"] for p in listed["data"]] == [first["id"]]
    assert second["id"] not in [p["id"] for p in listed["data"]]


def test_updated_at_filter_takes_a_utc_datetime(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    # The filter compares with the stored datetime, written in APP_TIMEZONE: UTC by default (assumed).
    page = _page(bookstack, client, book_id=book["id"])
    stamp = _at(page["updated_at"]).astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    base = {"filter[book_id]": book["id"]}
    assert raw_get(client, "/api/pages", {**base, "filter[updated_at:gte]": stamp})["total"] == 1
    assert raw_get(client, "/api/pages", {**base, "filter[updated_at:gt]": stamp})["total"] == 0


def test_tags_sent_move_a_books_updated_at_and_an_unchanged_put_does_not(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    bookstack.let_a_second_pass()
    same = client.update("books", book["id"], {"name": book["name"]})
    assert same["updated_at"] == book["updated_at"]  # nothing changed: Eloquent saved nothing
    tagged = client.update("books", book["id"], {"tags": [{"name": "k", "value": "v"}]})
    assert _at(tagged["updated_at"]) > _at(book["updated_at"])  # BaseRepo::update touch()es on tags


def test_a_shelf_book_list_change_alone_leaves_the_shelf_updated_at(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    shelf = bookstack.create("shelves", {"name": bookstack.unique_name("shelf"), "books": [book["id"]]}, client)
    before = _listed(client, "shelves", shelf["id"])["updated_at"]
    bookstack.let_a_second_pass()
    client.update("shelves", shelf["id"], {"books": []})
    assert [b["id"] for b in client.read("shelves", shelf["id"])["books"]] == []
    assert _listed(client, "shelves", shelf["id"])["updated_at"] == before  # the same user: a pivot sync only
    assert _listed(client, "books", book["id"])["updated_at"] == book["updated_at"]  # the book is not saved


def test_a_chapter_move_moves_its_pages_updated_at(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    other = bookstack.create("books", {"name": bookstack.unique_name("book")}, client)
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, chapter_id=chapter["id"])
    bookstack.let_a_second_pass()
    moved = client.update("chapters", chapter["id"], {"book_id": other["id"]})
    listed = _listed(client, "pages", page["id"])
    assert listed["book_id"] == other["id"]
    assert _at(moved["updated_at"]) > _at(chapter["updated_at"])
    assert _at(listed["updated_at"]) > _at(page["updated_at"])
    assert listed["revision_count"] == page["revision_count"]  # a move is not an edit of the page


def test_a_page_move_moves_its_updated_at(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, book_id=book["id"])
    bookstack.let_a_second_pass()
    client.update("pages", page["id"], {"chapter_id": chapter["id"]})
    assert _at(_listed(client, "pages", page["id"])["updated_at"]) > _at(page["updated_at"])


def test_a_page_back_from_the_recycle_bin_carries_the_time_of_its_restore(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = _page(bookstack, client, book_id=book["id"])
    counted = raw_get(client, "/api/pages", {"filter[book_id]": book["id"]})["total"]
    client.delete("pages", page["id"])
    assert raw_get(client, "/api/pages", {"filter[book_id]": book["id"]})["total"] == counted - 1
    try:
        bin_items = raw_get(
            client, "/api/recycle-bin", {"filter[deletable_id]": page["id"], "filter[deletable_type]": "page"}
        )["data"]
    except PermissionDeniedError:
        pytest.skip("the token may not use the recycle bin (settings-manage + restrictions-manage-all)")
    bookstack.let_a_second_pass()
    client._object("PUT", f"/api/recycle-bin/{bin_items[0]['id']}")
    restored = _listed(client, "pages", page["id"])
    assert raw_get(client, "/api/pages", {"filter[book_id]": book["id"]})["total"] == counted
    assert _at(restored["updated_at"]) > _at(page["updated_at"])  # restore() saves it again
    assert restored["created_at"] == page["created_at"]
    assert restored["revision_count"] == page["revision_count"]
