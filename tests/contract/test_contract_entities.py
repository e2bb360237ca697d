"""Shelves, books, chapters, pages: what BookStack does with the writes the sync sends.

Facts: ``bookstack-api.md`` §2, §6, §8, §10, §11 and transcripts 02, 03, 05 to 08, 11, 12.
"""

from __future__ import annotations

from typing import Any

import pytest

from bookstack_sync.bookstack import (
    BookStackClient,
    MethodNotAllowedError,
    NotBookStackError,
    NotFoundError,
    ServerError,
    ValidationError,
    normalise_chapter_id,
)
from tests.bookstack_target import BookStackTarget
from tests.contract.conftest import StatusLog

pytestmark = pytest.mark.real_bookstack


def _tags(item: dict[str, Any]) -> list[tuple[str, str]]:
    return sorted((t["name"], t.get("value", "")) for t in item.get("tags", []))


def _page(bookstack: BookStackTarget, client: BookStackClient, **payload: Any) -> dict[str, Any]:
    payload.setdefault("name", bookstack.unique_name("page"))
    payload.setdefault("markdown", "Body")
    return bookstack.create("pages", payload, client)


# -- create / read / update / delete per type --------------------------------------------------------


def test_crud_for_every_content_type(
    bookstack: BookStackTarget, client: BookStackClient, status_log: StatusLog
) -> None:
    shelf = bookstack.create("shelves", {"name": bookstack.unique_name("shelf")}, client)
    assert status_log.last("POST") == 200  # 200, not 201 (api §2, transcript 02)
    book = bookstack.create("books", {"name": bookstack.unique_name("book")}, client)
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, chapter_id=chapter["id"], markdown="# Hello")
    assert page["book_id"] == book["id"] and page["chapter_id"] == chapter["id"]
    for kind, item in (("shelves", shelf), ("books", book), ("chapters", chapter), ("pages", page)):
        assert status_log.last("POST") == 200
        read = client.read(kind, item["id"])
        assert read["id"] == item["id"] and read["name"] == item["name"]
        new_name = item["name"] + "-renamed"
        updated = client.update(kind, item["id"], {"name": new_name})
        assert updated["name"] == new_name
        assert status_log.last("PUT") == 200
    assert client.read("pages", page["id"])["markdown"] == "# Hello"
    for kind, item in (("pages", page), ("chapters", chapter), ("books", book), ("shelves", shelf)):
        assert client.delete(kind, item["id"]) is None
        assert status_log.last("DELETE") == 204  # empty body (api §2)
        with pytest.raises(NotFoundError):
            client.read(kind, item["id"])


def test_page_read_has_the_fields_the_sync_uses(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    page = _page(bookstack, client, book_id=book["id"], tags=[{"name": "k", "value": "v"}])
    read = client.read("pages", page["id"])
    for key in ("id", "name", "slug", "book_id", "chapter_id", "draft", "priority", "html", "markdown",
                "revision_count", "updated_at", "updated_by", "tags", "editor"):  # fmt: skip
        assert key in read, key
    assert read["draft"] is False
    assert normalise_chapter_id(read["chapter_id"]) is None


# -- whitespace, revisions -------------------------------------------------------------------------


def test_every_input_string_is_trimmed(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    # TrimStrings middleware (api §2, transcript 11 addendum)
    name = bookstack.unique_name("spaced")
    page = _page(
        bookstack,
        client,
        book_id=book["id"],
        name=f"   {name}  ",
        markdown="    indented code\n\ntext\n\n",
        tags=[{"name": " k ", "value": " v "}],
    )
    read = client.read("pages", page["id"])
    assert read["name"] == name
    assert read["markdown"] == "indented code\n\ntext"
    assert _tags(read) == [("k", "v")]


def test_whitespace_only_markdown_is_missing(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    with pytest.raises(ValidationError) as info:
        client.create("pages", {"book_id": book["id"], "name": bookstack.unique_name("p"), "markdown": "  \n "})
    assert {"html", "markdown"} <= set(info.value.fields)


def test_identical_put_still_increments_revision_count(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = _page(bookstack, client, book_id=book["id"], markdown="Same")
    assert page["revision_count"] == 1
    counts = []
    for payload in ({"name": page["name"], "markdown": "Same"}, {"markdown": "Same"}, {}):
        counts.append(client.update("pages", page["id"], payload)["revision_count"])
    assert counts == [2, 3, 4]  # every PUT is an edit (api §10)


# -- tags --------------------------------------------------------------------------------------------


def test_tags_are_replaced_kept_and_cleared(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    page = _page(bookstack, client, book_id=book["id"], tags=[{"name": "a", "value": "1"}, {"name": "b", "value": "2"}])
    assert _tags(page) == [("a", "1"), ("b", "2")]
    replaced = client.update("pages", page["id"], {"tags": [{"name": "a", "value": "9"}]})
    assert _tags(replaced) == [("a", "9")]  # sending tags replaces all
    kept = client.update("pages", page["id"], {"name": page["name"] + "-x"})
    assert _tags(client.read("pages", kept["id"])) == [("a", "9")]  # leaving tags out keeps them
    client.update("pages", page["id"], {"tags": []})
    assert _tags(client.read("pages", page["id"])) == []  # [] clears


def test_tag_without_value_reads_back_as_empty_string(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = _page(bookstack, client, book_id=book["id"], tags=[{"name": "novalue"}])
    assert _tags(client.read("pages", page["id"])) == [("novalue", "")]


# -- moves -----------------------------------------------------------------------------------------


def test_book_id_on_a_chapter_page_moves_it_to_book_level(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, chapter_id=chapter["id"])
    assert page["chapter_id"] == chapter["id"]
    # The trap (api §2 Pages): the *same* book_id still pulls the page out of its chapter.
    moved = client.update("pages", page["id"], {"book_id": book["id"]})
    assert normalise_chapter_id(moved["chapter_id"]) is None
    assert normalise_chapter_id(client.read("pages", page["id"])["chapter_id"]) is None


def test_chapter_id_moves_a_page_into_a_chapter(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, book_id=book["id"])
    moved = client.update("pages", page["id"], {"chapter_id": chapter["id"]})
    assert moved["chapter_id"] == chapter["id"]
    chapter_read = client.read("chapters", chapter["id"])
    assert [p["id"] for p in chapter_read["pages"]] == [page["id"]]


def test_chapter_book_id_moves_the_chapter_and_its_pages(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    other = bookstack.create("books", {"name": bookstack.unique_name("book2")}, client)
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    page = _page(bookstack, client, chapter_id=chapter["id"])
    client.update("chapters", chapter["id"], {"book_id": other["id"]})
    assert client.read("chapters", chapter["id"])["book_id"] == other["id"]
    assert client.read("pages", page["id"])["book_id"] == other["id"]


def test_chapter_move_to_a_missing_book_is_a_500_refusal(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    # The odd {"message", "status": "error"} 500 (api §2 Chapters, §6).
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    with pytest.raises(ServerError) as info:
        client.update("chapters", chapter["id"], {"book_id": 999_999_999})
    assert info.value.refused
    assert info.value.status == 500


# -- shelves -----------------------------------------------------------------------------------------


def test_shelf_books_replace_the_list_and_omission_keeps_it(
    bookstack: BookStackTarget, client: BookStackClient
) -> None:
    b1, b2, b3 = (bookstack.create("books", {"name": bookstack.unique_name(f"b{i}")}, client) for i in (1, 2, 3))
    shelf = bookstack.create("shelves", {"name": bookstack.unique_name("shelf"), "books": [b2["id"], b1["id"]]}, client)

    def shelf_books() -> list[int]:
        return [b["id"] for b in client.read("shelves", shelf["id"])["books"]]

    assert shelf_books() == [b2["id"], b1["id"]]  # the order given
    client.update("shelves", shelf["id"], {"books": [b3["id"]]})
    assert shelf_books() == [b3["id"]]  # replaced, not appended
    client.update("shelves", shelf["id"], {"name": shelf["name"] + "-renamed"})
    assert shelf_books() == [b3["id"]]  # no books key: kept


def test_there_is_no_attach_endpoint(bookstack: BookStackTarget, client: BookStackClient) -> None:
    shelf = bookstack.create("shelves", {"name": bookstack.unique_name("shelf")}, client)
    book = bookstack.create("books", {"name": bookstack.unique_name("book")}, client)
    # An unknown route answers 405 for writes (the GET fallback route, api §2 Shelves; transcript 07).
    with pytest.raises(MethodNotAllowedError) as info:
        client._request("PUT", f"/api/shelves/{shelf['id']}/books/{book['id']}/attach")
    assert info.value.status == 405
    # ...and the HTML 404 page for GET (transcript 12).
    with pytest.raises(NotBookStackError) as info2:
        client._object("GET", "/api/no-such-endpoint")
    assert info2.value.status == 404


# -- errors ------------------------------------------------------------------------------------------


def test_validation_messages_name_the_fields(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    with pytest.raises(ValidationError) as info:
        client.create("pages", {"book_id": book["id"], "markdown": "x"})
    assert list(info.value.fields) == ["name"]
    with pytest.raises(ValidationError) as info:
        client.create("pages", {"name": "x", "markdown": "x"})
    assert {"book_id", "chapter_id"} <= set(info.value.fields)
    with pytest.raises(ValidationError) as info:
        client.create("pages", {"book_id": book["id"], "name": "x" * 256, "markdown": "x"})
    assert "255" in " ".join(info.value.fields["name"])
    with pytest.raises(ValidationError) as info:
        client.create("books", {})
    assert "name" in info.value.fields


def test_missing_items_are_404(bookstack: BookStackTarget, client: BookStackClient) -> None:
    for kind in ("pages", "books", "chapters", "shelves"):
        with pytest.raises(NotFoundError):
            client.read(kind, 999_999_999)
    with pytest.raises(NotFoundError):
        client.delete("pages", 999_999_999)
    with pytest.raises(NotFoundError):
        client.update("pages", 999_999_999, {"name": "x"})
    # A page in a book that doesn't exist: 404, not 422 (transcript 06).
    with pytest.raises(NotFoundError):
        client.create("pages", {"book_id": 999_999_999, "name": bookstack.unique_name("p"), "markdown": "x"})


# -- slugs -------------------------------------------------------------------------------------------


def test_same_name_gets_a_slug_suffix(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    name = bookstack.unique_name("Dup")
    first = _page(bookstack, client, book_id=book["id"], name=name)
    second = _page(bookstack, client, book_id=book["id"], name=name)
    assert first["name"] == second["name"]
    assert second["slug"] != first["slug"]
    assert second["slug"].startswith(first["slug"] + "-")  # e.g. dup-49t (api §8)


def test_rename_changes_the_slug(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    page = _page(bookstack, client, book_id=book["id"])
    renamed = client.update("pages", page["id"], {"name": page["name"] + " Renamed"})
    assert renamed["slug"] != page["slug"]
    assert renamed["slug"].endswith("renamed")
