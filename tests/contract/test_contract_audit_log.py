"""BookStack's audit log (``GET /api/audit-log``) as the no-op probe reads it: what the API's writes log.

Settled from BookStack's source (v25.02 and v26.03 alike). ``AuditLogApiController::list`` needs
settings-manage and users-manage and lists ``id, type, detail, user_id, loggable_id, loggable_type, ip,
created_at`` with the ``user`` relation (id, name, slug: the rest of the user model is hidden) through
``ListingResponseBuilder`` (sort by any listed field, ``filter[field:op]``, ``count`` up to 500, ``total``).
``ActivityLogger::add`` stores the type lower-cased, the acting user, and for an entity its id and morph
class (``page``, ``chapter``, ``book``, ``bookshelf``) with ``(id) name`` as detail; a deletion is no
entity, so ``recycle_bin_restore`` / ``recycle_bin_destroy`` carry NULL loggable fields and the detail
``Deletion (id) for page (id) name``. The repos log: ``*_create``, ``*_update``, ``*_delete`` (the item
deleted only, not what it held); a PUT that changes a page's parent logs ``page_move`` and then
``page_update`` (``PageApiController::update`` calls ``PageRepo::move``, then ``PageRepo::update``), a
chapter's ``chapter_move`` then ``chapter_update``. Destroying an item for good rewrites the rows about it
(``removeEntity``): NULL loggable, its name as the detail. A ZIP import (v25.07+) logs ``import_create`` on
upload; its run logs each book, chapter and page it creates (through the repos), then ``import_delete`` and
``import_run`` (an import is no entity: NULL loggable, detail ``(id) name``).

The audit log cannot be cleaned: these tests leave rows about their own (deleted, purged) items behind,
as every write does. Without settings-manage + users-manage (or the recycle bin's permissions where
needed) they skip.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient, PermissionDeniedError
from tests.bookstack_target import BookStackTarget
from tests.contract.conftest import raw_get, version_tuple

pytestmark = pytest.mark.real_bookstack

FIELDS = {"id", "type", "detail", "user_id", "loggable_id", "loggable_type", "ip", "created_at", "user"}
WHOLE_SECONDS_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000000Z")


def _audit_log(client: BookStackClient, **params: str | int) -> dict[str, Any]:
    query: dict[str, str | int] = {"sort": "-id", "count": 500}
    query.update({key if key in ("sort", "count", "offset") else f"filter[{key}]": v for key, v in params.items()})
    try:
        return raw_get(client, "/api/audit-log", query)
    except PermissionDeniedError:
        pytest.skip("the token may not read the audit log (settings-manage + users-manage)")


def _about(client: BookStackClient, loggable_type: str, item_id: int) -> list[dict[str, Any]]:
    """The rows about one item, newest first."""
    return list(_audit_log(client, loggable_type=loggable_type, loggable_id=item_id)["data"])


def _types(rows: list[dict[str, Any]]) -> list[str]:
    return [row["type"] for row in rows]


def _page(bookstack: BookStackTarget, client: BookStackClient, **parent: Any) -> dict[str, Any]:
    return bookstack.create("pages", {"name": bookstack.unique_name("p"), "markdown": "Body", **parent}, client)


def _deleted_page_then(
    bookstack: BookStackTarget, client: BookStackClient, book: Any, method: str
) -> tuple[dict[str, Any], int]:
    """A page deleted, then its recycle-bin entry restored (PUT) or destroyed (DELETE): (page, entry id)."""
    page = _page(bookstack, client, book_id=book["id"])
    client.delete("pages", page["id"])
    try:
        found = raw_get(
            client, "/api/recycle-bin", {"filter[deletable_id]": page["id"], "filter[deletable_type]": "page"}
        )
    except PermissionDeniedError:
        pytest.skip("the token may not use the recycle bin (settings-manage + restrictions-manage-all)")
    entry = int(found["data"][0]["id"])
    client._object(method, f"/api/recycle-bin/{entry}")
    return page, entry


def test_a_row_has_the_listed_fields_and_its_user(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = _page(bookstack, client, book_id=book["id"])
    token_user = int(page["created_by"]["id"])
    (row,) = _about(client, "page", page["id"])
    assert set(row) == FIELDS
    assert row["type"] == "page_create"
    assert (row["loggable_type"], row["loggable_id"]) == ("page", page["id"])
    assert row["detail"] == f"({page['id']}) {page['name']}"
    assert row["user_id"] == token_user
    assert set(row["user"]) == {"id", "name", "slug"} and row["user"]["id"] == token_user
    assert WHOLE_SECONDS_UTC.fullmatch(row["created_at"])
    assert isinstance(row["ip"], str)


def test_the_listing_sorts_newest_first_and_counts_beyond_one_page(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    _page(bookstack, client, book_id=book["id"])
    _page(bookstack, client, book_id=book["id"])
    newest = _audit_log(client, count=3)
    ids = [row["id"] for row in newest["data"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True)
    assert newest["total"] >= 3  # the book and pages above at least: total counts every row, not the page
    oldest_first = _audit_log(client, sort="id", count=1)["data"]
    assert oldest_first[0]["id"] <= ids[-1]


def test_the_rows_after_an_id_come_oldest_first_and_total_counts_them_alone(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    """What the probe asks: ``filter[id:gt]`` with ``sort=id`` (the rows since its record, and how many)."""
    mark = int(_audit_log(client, count=1)["data"][0]["id"])
    first = _page(bookstack, client, book_id=book["id"])
    second = _page(bookstack, client, book_id=book["id"])
    after = _audit_log(client, sort="id", count=500, **{"id:gt": mark})
    mine = [
        row
        for row in after["data"]
        if row["loggable_type"] == "page" and row["loggable_id"] in (first["id"], second["id"])
    ]
    assert [(row["type"], row["loggable_id"]) for row in mine] == [
        ("page_create", first["id"]),
        ("page_create", second["id"]),
    ]
    ids = [row["id"] for row in after["data"]]
    assert ids == sorted(ids) and all(i > mark for i in ids)
    assert after["total"] == len(ids)  # a shared wiki may log more meanwhile: all of them, and only them


def test_a_pages_create_update_move_and_delete_are_logged_about_it(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, book_id=book["id"])
    client.update("pages", page["id"], {"markdown": "Changed"})
    client.update("pages", page["id"], {"chapter_id": chapter["id"]})  # a move: PageRepo::move, then update
    client.update("pages", page["id"], {"chapter_id": chapter["id"]})  # the same parent: no move
    client.delete("pages", page["id"])
    rows = _about(client, "page", page["id"])
    assert _types(rows) == ["page_delete", "page_update", "page_update", "page_move", "page_update", "page_create"]
    assert {row["user_id"] for row in rows} == {int(page["created_by"]["id"])}
    assert [row["id"] for row in rows] == sorted((row["id"] for row in rows), reverse=True)
    # the chapter it went into, and its book, log nothing for it
    assert _types(_about(client, "chapter", chapter["id"])) == ["chapter_create"]
    assert _types(_about(client, "book", book["id"])) == ["book_create"]


def test_a_chapter_moved_to_another_book_logs_the_move_then_the_update(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    other = bookstack.create("books", {"name": bookstack.unique_name("book")}, client)
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, chapter_id=chapter["id"])
    client.update("chapters", chapter["id"], {"book_id": other["id"]})
    assert _types(_about(client, "chapter", chapter["id"])) == ["chapter_update", "chapter_move", "chapter_create"]
    assert _types(_about(client, "page", page["id"])) == ["page_create"]  # its pages moved along, unlogged


def test_a_books_update_and_delete_are_logged_about_the_book_alone(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = _page(bookstack, client, book_id=book["id"])
    client.update("books", book["id"], {"name": bookstack.unique_name("renamed")})
    client.delete("books", book["id"])
    rows = _about(client, "book", book["id"])
    assert _types(rows) == ["book_delete", "book_update", "book_create"]
    assert rows[0]["detail"].startswith(f"({book['id']}) ")
    assert _types(_about(client, "page", page["id"])) == ["page_create"]  # deleted with its book: no page_delete


def test_a_restore_from_the_recycle_bin_is_logged_about_the_deletion_not_the_page(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page, entry = _deleted_page_then(bookstack, client, book, "PUT")
    detail = f"Deletion ({entry}) for page ({page['id']}) {page['name']}"
    (row,) = _audit_log(client, type="recycle_bin_restore", detail=detail)["data"]
    assert (row["loggable_type"], row["loggable_id"]) == (None, None)
    assert row["user_id"] == int(page["created_by"]["id"])
    # nothing about the page itself says it came back: its rows end with its deletion
    assert _types(_about(client, "page", page["id"])) == ["page_delete", "page_create"]


def test_an_item_destroyed_for_good_leaves_its_rows_with_its_name_and_no_loggable(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page, entry = _deleted_page_then(bookstack, client, book, "DELETE")
    assert _about(client, "page", page["id"]) == []
    rows = _audit_log(client, detail=page["name"])["data"]
    assert _types(rows) == ["page_delete", "page_create"]
    assert {(row["loggable_type"], row["loggable_id"]) for row in rows} == {(None, None)}
    destroyed = _audit_log(client, type="recycle_bin_destroy", detail=f"Deletion ({entry}) for page %")
    assert destroyed["total"] == 0  # `eq`: the % is no wildcard
    (row,) = _audit_log(
        client, type="recycle_bin_destroy", **{"detail:like": f"Deletion ({entry}) for page ({page['id']}) %"}
    )["data"]
    assert row["loggable_id"] is None


def test_a_zip_import_logs_each_create_through_the_repos_then_its_delete_and_run(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    """``ZipImportRunner`` creates through ``BookRepo``/``ChapterRepo``/``PageRepo`` (each logs its create);
    ``ImportRepo::runImport`` then deletes the import (``import_delete``) and logs ``import_run``."""
    info = client.system()  # None before v25.05
    if info is None or version_tuple(str(info.get("version"))) < (25, 7):
        pytest.skip("this BookStack has no ZIP import API (v25.07+)")
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": "Chapter"}, client)
    bookstack.create("pages", {"chapter_id": chapter["id"], "name": "In chapter", "markdown": "# In"}, client)
    pending = client.upload_import("copy.zip", client.export_zip("books", book["id"]))
    bookstack.track("imports", pending["id"])
    copy = client.read("books", bookstack.track("books", client.run_import(pending["id"])["id"]))
    (copied_chapter,) = copy["contents"]
    (copied_page,) = copied_chapter["pages"]
    assert _types(_about(client, "book", copy["id"])) == ["book_create"]
    assert _types(_about(client, "chapter", copied_chapter["id"])) == ["chapter_create"]
    assert _types(_about(client, "page", copied_page["id"])) == ["page_create"]
    import_rows = _audit_log(client, detail=f"({pending['id']}) {book['name']}", **{"type:like": "import%"})["data"]
    assert [(r["type"], r["loggable_id"]) for r in import_rows] == [
        ("import_run", None),
        ("import_delete", None),
        ("import_create", None),
    ]
    created = _about(client, "page", copied_page["id"])[0]
    assert import_rows[2]["id"] < created["id"] < import_rows[1]["id"]
