"""The fake BookStack's audit log: what a person's changes in the UI log, and what only the fake can show.

The API's own writes are pinned in ``tests/contract/test_contract_audit_log.py`` (which also runs against a
real BookStack); these are the ``*_as_human`` helpers and the fake's knobs. Facts from BookStack's source
(v25.02, v26.03) as cited in ``tests/fake_bookstack/activity.py`` and ``humans.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.fake_bookstack import DEFAULT_PERMISSIONS, FakeBookStack
from tests.test_fake_bookstack import TIMEOUT, Api, build_zip, hold_import_run, upload_zip

HUMAN = 2
TOKEN_USER = 1


@pytest.fixture
def api(make_fake_bookstack: Callable[..., FakeBookStack]) -> Api:
    return Api(make_fake_bookstack())


def _rows(api: Api, **filters: Any) -> list[dict[str, Any]]:
    """The audit log newest first, as the probe reads it, narrowed by ``filter[...]``."""
    params = {"sort": "-id", "count": 500, **{f"filter[{k}]": v for k, v in filters.items()}}
    return list(api.ok("GET", "/api/audit-log", params=params)["data"])


def _logged(api: Api, after: int = 0) -> list[tuple[str, str | None, int | None, int]]:
    """(type, loggable_type, loggable_id, user_id) of the rows after id ``after``, oldest first."""
    rows = _rows(api, **{"id:gt": after})
    return [(r["type"], r["loggable_type"], r["loggable_id"], r["user_id"]) for r in reversed(rows)]


def _last_id(api: Api) -> int:
    rows = _rows(api)
    return int(rows[0]["id"]) if rows else 0


def _two_books(api: Api) -> dict[str, int]:
    first = api.ok("POST", "/api/books", json={"name": "First"})
    second = api.ok("POST", "/api/books", json={"name": "Second"})
    chapter = api.ok("POST", "/api/chapters", json={"book_id": first["id"], "name": "Chapter"})
    page = api.ok("POST", "/api/pages", json={"book_id": first["id"], "name": "Page", "markdown": "Body"})
    return {"first": first["id"], "second": second["id"], "chapter": chapter["id"], "page": page["id"]}


# ---------------------------------------------------------------------------------------------- access


@pytest.mark.parametrize("missing", ["settings-manage", "users-manage"])
def test_the_audit_log_needs_settings_manage_and_users_manage(
    make_fake_bookstack: Callable[..., FakeBookStack], missing: str
) -> None:
    fake = make_fake_bookstack(permissions=DEFAULT_PERMISSIONS - {missing})
    response = Api(fake).get("/api/audit-log")
    assert response.status_code == 403
    assert response.json() == {
        "error": {"message": "You do not have permission to perform the requested action.", "code": 403}
    }


def test_the_default_token_reads_it_with_each_rows_user(api: Api) -> None:
    api.ok("POST", "/api/books", json={"name": "Book"})
    api.fake.login_as_human()
    listing = api.ok("GET", "/api/audit-log")
    assert listing["total"] == 2
    login = listing["data"][1]
    assert login == {
        "id": login["id"], "type": "auth_login", "detail": "standard; (2) Human Editor", "user_id": HUMAN,
        "loggable_id": None, "loggable_type": None, "ip": "203.0.113.7", "created_at": login["created_at"],
        "user": {"id": HUMAN, "name": "Human Editor", "slug": "human-editor"},
    }  # fmt: skip
    assert listing["data"][0]["ip"] == "127.0.0.1"  # the API's: where the request came from


# ------------------------------------------------------------------------------------------ human helpers


def test_a_page_dragged_to_another_book_on_the_sort_screen_logs_book_sort_for_both(api: Api) -> None:
    ids = _two_books(api)
    before = _last_id(api)
    page_before = api.ok("GET", f"/api/pages/{ids['page']}")
    api.fake.sort_as_human("page", ids["page"], 1, book_id=ids["second"])
    assert _logged(api, before) == [
        ("book_sort", "book", ids["first"], HUMAN),
        ("book_sort", "book", ids["second"], HUMAN),
    ]
    assert _rows(api, loggable_type="page", loggable_id=ids["page"])[0]["type"] == "page_create"
    assert api.ok("GET", f"/api/pages/{ids['page']}")["updated_by"] == page_before["updated_by"]


def test_a_sort_inside_one_book_logs_one_book_sort_and_moves_no_updated_at(api: Api) -> None:
    ids = _two_books(api)
    before = _last_id(api)
    page_before = api.ok("GET", f"/api/pages/{ids['page']}")
    api.fake.advance_clock(5)
    api.fake.sort_as_human("page", ids["page"], 9, chapter_id=ids["chapter"])
    assert _logged(api, before) == [("book_sort", "book", ids["first"], HUMAN)]
    assert api.ok("GET", f"/api/pages/{ids['page']}")["updated_at"] == page_before["updated_at"]


def test_a_chapter_dragged_to_another_book_logs_book_sort_for_both(api: Api) -> None:
    ids = _two_books(api)
    before = _last_id(api)
    api.fake.sort_as_human("chapter", ids["chapter"], 1, book_id=ids["second"])
    assert [book for _, _, book, _ in _logged(api, before)] == [ids["first"], ids["second"]]


def test_edits_renames_and_moves_in_the_ui_log_update_or_move(api: Api) -> None:
    ids = _two_books(api)
    shelf = api.ok("POST", "/api/shelves", json={"name": "Shelf"})
    fake = api.fake
    before = _last_id(api)
    fake.edit_page_as_human(ids["page"], markdown="Edited")
    fake.change_as_human("page", ids["page"], chapter_id=ids["chapter"])  # the Move screen
    fake.change_as_human("page", ids["page"], name="Renamed", book_id=ids["second"])  # an edit and a move
    fake.change_as_human("chapter", ids["chapter"], book_id=ids["second"])
    fake.change_as_human("book", ids["first"], tags=[("topic", "x")])
    fake.change_as_human("shelf", shelf["id"], books=[ids["first"]])
    page, chapter = ("page", ids["page"], HUMAN), ("chapter", ids["chapter"], HUMAN)
    assert _logged(api, before) == [
        ("page_update", *page),
        ("page_move", *page),
        ("page_update", *page),
        ("page_move", *page),
        ("chapter_move", *chapter),
        ("book_update", "book", ids["first"], HUMAN),
        ("bookshelf_update", "bookshelf", shelf["id"], HUMAN),
    ]


def test_a_restored_revision_logs_page_restore_and_revision_restore(api: Api) -> None:
    ids = _two_books(api)
    api.ok("PUT", f"/api/pages/{ids['page']}", json={"markdown": "Second"})
    before = _last_id(api)
    api.fake.restore_revision_as_human(ids["page"], "Body")
    rows = _rows(api, **{"id:gt": before})
    assert [(r["type"], r["loggable_type"], r["loggable_id"]) for r in rows] == [
        ("revision_restore", None, None),
        ("page_restore", "page", ids["page"]),
    ]
    assert rows[0]["detail"] == f"Revision #1 (ID: 1) for page ID {ids['page']}"


def test_a_page_deleted_and_restored_in_the_ui_logs_the_restore_about_the_deletion(api: Api) -> None:
    ids = _two_books(api)
    before = _last_id(api)
    deletion = api.fake.delete_as_human("page", ids["page"])
    api.fake.restore_as_human(deletion)
    rows = _rows(api, **{"id:gt": before})
    assert [(r["type"], r["loggable_id"], r["user_id"]) for r in rows] == [
        ("recycle_bin_restore", None, HUMAN),
        ("page_delete", ids["page"], HUMAN),
    ]
    assert rows[0]["detail"] == f"Deletion ({deletion}) for page ({ids['page']}) Page"


def test_a_book_destroyed_for_good_takes_its_pages_in_the_bin_and_their_rows_lose_the_loggable(api: Api) -> None:
    ids = _two_books(api)
    fake = api.fake
    page_deletion = fake.delete_as_human("page", ids["page"])  # first on its own, then with its book
    book_deletion = fake.delete_as_human("book", ids["first"])
    assert fake.destroy_as_human(book_deletion) == 3  # book, chapter, and the page deleted before
    assert page_deletion not in fake.state.recycle_bin  # TrashCan::destroyCommonRelations: deletions()->delete()
    assert _rows(api, loggable_id=ids["page"]) == []
    page_rows = _rows(api, detail="Page")
    assert [(r["type"], r["loggable_type"], r["loggable_id"]) for r in page_rows] == [
        ("page_delete", None, None),
        ("page_create", None, None),
    ]
    (destroyed,) = _rows(api, type="recycle_bin_destroy")
    assert destroyed["detail"] == f"Deletion ({book_deletion}) for book ({ids['first']}) First"
    assert destroyed["user_id"] == HUMAN
    assert _rows(api, loggable_type="book", loggable_id=ids["second"])[0]["type"] == "book_create"  # untouched


def test_a_permission_change_logs_permissions_update_and_moves_no_updated_at(api: Api) -> None:
    ids = _two_books(api)
    book_before = api.ok("GET", f"/api/books/{ids['first']}")
    api.fake.advance_clock(5)
    before = _last_id(api)
    api.fake.set_permissions_as_human("book", ids["first"], update=False)
    assert _logged(api, before) == [("permissions_update", "book", ids["first"], HUMAN)]
    assert api.ok("GET", f"/api/books/{ids['first']}")["updated_at"] == book_before["updated_at"]
    assert api.put(f"/api/pages/{ids['page']}", json={"markdown": "x"}).status_code == 403  # inherited
    api.fake.set_permissions_as_human("shelf", api.ok("POST", "/api/shelves", json={"name": "S"})["id"])
    assert _rows(api)[0]["loggable_type"] == "bookshelf"


def test_a_new_owner_saves_the_item(api: Api) -> None:
    ids = _two_books(api)
    page_before = api.ok("GET", f"/api/pages/{ids['page']}")
    api.fake.advance_clock(5)
    api.fake.set_permissions_as_human("page", ids["page"], owner=HUMAN)
    page = api.ok("GET", f"/api/pages/{ids['page']}")
    assert page["owned_by"]["id"] == HUMAN and page["updated_at"] > page_before["updated_at"]
    assert page["updated_by"] == page_before["updated_by"]


def test_a_book_created_from_a_shelfs_page_logs_bookshelf_update_but_leaves_the_shelf_unsaved(api: Api) -> None:
    shelf = api.ok("POST", "/api/shelves", json={"name": "Shelf"})
    api.fake.advance_clock(5)
    before = _last_id(api)
    book_id = api.fake.create_book_as_human("By hand", shelf_id=shelf["id"])
    assert _logged(api, before) == [
        ("book_create", "book", book_id, HUMAN),
        ("bookshelf_update", "bookshelf", shelf["id"], HUMAN),
    ]
    read = api.ok("GET", f"/api/shelves/{shelf['id']}")
    assert [b["id"] for b in read["books"]] == [book_id]
    assert read["updated_at"] == shelf["updated_at"]  # Bookshelf::appendBook: a pivot row only
    assert api.ok("GET", f"/api/books/{book_id}")["created_by"]["id"] == HUMAN


# --------------------------------------------------------------------------------------------- imports


def test_a_zip_import_logs_its_creates_through_the_repos_then_import_delete_and_import_run(api: Api) -> None:
    data = {"book": {"name": "Imported", "chapters": [{"name": "Ch", "priority": 1, "pages": [{"name": "In"}]}]}}
    record = upload_zip(api, build_zip(data)).json()
    book = api.ok("POST", f"/api/imports/{record['id']}")
    rows = _rows(api)
    chapter = api.ok("GET", f"/api/books/{book['id']}")["contents"][0]
    assert [(r["type"], r["loggable_type"], r["loggable_id"], r["detail"]) for r in reversed(rows)] == [
        ("import_create", None, None, f"({record['id']}) Imported"),
        ("book_create", "book", book["id"], f"({book['id']}) Imported"),
        ("chapter_create", "chapter", chapter["id"], f"({chapter['id']}) Ch"),
        ("page_create", "page", chapter["pages"][0]["id"], f"({chapter['pages'][0]['id']}) In"),
        ("import_delete", None, None, f"({record['id']}) Imported"),
        ("import_run", None, None, f"({record['id']}) Imported"),
    ]
    other = upload_zip(api, build_zip({"book": {"name": "Dropped"}})).json()
    assert api.delete(f"/api/imports/{other['id']}").status_code == 204
    assert [r["type"] for r in _rows(api)[:2]] == ["import_delete", "import_create"]


def test_a_held_import_runs_rows_take_their_ids_before_what_others_log_meanwhile(api: Api) -> None:
    """MariaDB hands out auto-increment ids at insert, rows show at commit: a run's activities (logged in
    its transaction) get lower ids than a write committed while it ran, yet appear after it."""
    held = hold_import_run(api)
    held.other.post(api.fake.url + "/api/books", json={"name": "Later"}, timeout=TIMEOUT)
    assert [r["type"] for r in _rows(api)] == ["book_create", "import_create"]
    assert held.finish().status_code == 200
    by_id = [(r["type"], r["detail"].split(") ", 1)[1]) for r in reversed(_rows(api))]
    assert by_id == [
        ("import_create", "Held"),
        ("book_create", "Held"),
        ("page_create", "P"),
        ("book_create", "Later"),
        ("import_delete", "Held"),
        ("import_run", "Held"),
    ]


# ----------------------------------------------------------------------------------------------- listing


def test_created_at_filters_read_app_timezone_wall_time(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    """Like every listing's dates: the database keeps APP_TIMEZONE's wall time and a filter compares the
    query's text with it; answers are UTC."""
    api = Api(make_fake_bookstack(app_timezone="Pacific/Kiritimati"))  # UTC+14
    api.ok("POST", "/api/books", json={"name": "Book"})
    (row,) = _rows(api)
    created = datetime.fromisoformat(row["created_at"].replace("Z", "+00:00"))
    local = created.astimezone(ZoneInfo("Pacific/Kiritimati")).strftime("%Y-%m-%d %H:%M:%S")
    assert _rows(api, **{"created_at:gte": local}) == [row]
    assert _rows(api, **{"created_at:gt": local}) == []
    utc = created.strftime("%Y-%m-%d %H:%M:%S")
    assert _rows(api, **{"created_at:gt": utc}) == [row]  # read as Kiritimati's: 14 hours before the row


# ------------------------------------------------------------------------------------------------ errors


def test_a_create_whose_permission_rebuild_failed_logged_nothing(api: Api) -> None:
    book = api.ok("POST", "/api/books", json={"name": "Book"})
    api.fake.faults.joint_permissions_next(1, path_prefix="/api/pages")
    failed = api.post("/api/pages", json={"book_id": book["id"], "name": "Lost", "markdown": "x"})
    assert failed.status_code == 500
    assert [r["type"] for r in _rows(api)] == ["book_create"]  # the rebuild fails before Activity::add


def test_a_recycle_bin_id_that_is_no_number_is_a_404_and_logs_nothing(api: Api) -> None:
    response = api.put("/api/recycle-bin/abc")
    assert response.status_code == 404
    assert response.json()["error"]["message"] == "No query results for model [BookStack\\Entities\\Models\\Deletion] 0"
    assert _rows(api) == []


# ------------------------------------------------------------------------------------------- sort rules


def test_a_sort_rule_chosen_on_the_sort_screen_saves_the_book_and_logs_book_sort(api: Api) -> None:
    ids = _two_books(api)
    book_before = api.ok("GET", f"/api/books/{ids['first']}")
    api.fake.advance_clock(5)
    before = _last_id(api)
    api.fake.set_sort_rule_as_human(ids["first"], "name_desc")
    assert _logged(api, before) == [("book_sort", "book", ids["first"], HUMAN)]
    book = api.ok("GET", f"/api/books/{ids['first']}")
    assert book["updated_at"] > book_before["updated_at"] and book["sort_rule_id"] is not None
    assert book["updated_by"] == book_before["updated_by"]
    assert [item["name"] for item in book["contents"]] == ["Page", "Chapter"]


def test_a_sort_rule_edited_in_settings_resorts_its_books_without_timestamps(api: Api) -> None:
    ids = _two_books(api)
    api.fake.set_sort_rule(ids["first"], "name_desc")  # set up before the story: logs nothing
    before = _last_id(api)
    book_before = api.ok("GET", f"/api/books/{ids['first']}")
    api.fake.advance_clock(5)
    api.fake.edit_sort_rule_as_human("name_desc", "name_asc", name="By name")
    rows = _rows(api, **{"id:gt": before})
    assert [(r["type"], r["loggable_id"], r["detail"]) for r in rows] == [
        ("sort_rule_update", None, f"({book_before['sort_rule_id']}) By name")
    ]
    book = api.ok("GET", f"/api/books/{ids['first']}")
    assert [item["name"] for item in book["contents"]] == ["Chapter", "Page"]
    assert (book["updated_at"], book["sort_rule_id"]) == (book_before["updated_at"], book_before["sort_rule_id"])
    page = api.ok("GET", f"/api/pages/{ids['page']}")
    assert page["updated_at"] == page["created_at"]  # its new priority was saved without timestamps
