"""Listings and search as the sync's snapshot reads them (``bookstack-api.md`` §3, §4; transcripts 03, 09, 11, 12)."""

from __future__ import annotations

from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient, ValidationError, normalise_chapter_id
from tests.bookstack_target import BookStackTarget
from tests.contract.conftest import raw_get

pytestmark = pytest.mark.real_bookstack


def _pages(bookstack: BookStackTarget, client: BookStackClient, book: Any, n: int, **extra: Any) -> list[int]:
    ids = []
    for i in range(n):
        payload = {"book_id": book["id"], "name": bookstack.unique_name(f"p{i}"), "markdown": f"Body {i}", **extra}
        ids.append(bookstack.create("pages", payload, client)["id"])
    return ids


def test_listing_count_offset_and_total(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    ids = _pages(bookstack, client, book, 3)
    params: dict[str, str | int] = {"filter[book_id]": book["id"], "sort": "id"}
    first = raw_get(client, "/api/pages", {**params, "count": 2, "offset": 0})
    second = raw_get(client, "/api/pages", {**params, "count": 2, "offset": 2})
    assert first["total"] == second["total"] == 3  # total ignores count/offset
    assert [p["id"] for p in first["data"]] + [p["id"] for p in second["data"]] == ids


def test_client_list_reads_every_item_with_filters(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    ids = _pages(bookstack, client, book, 3)
    listed = list(client.list("pages", filters={"book_id": book["id"]}, sort="id"))
    assert [p["id"] for p in listed] == ids
    prefix = listed[0]["name"].rsplit("-", 2)[0]
    liked = list(client.list("pages", filters={"book_id": book["id"], "name:like": prefix + "-p1-%"}))
    assert [p["id"] for p in liked] == [ids[1]]
    desc = list(client.list("pages", filters={"book_id": book["id"]}, sort="-id"))
    assert [p["id"] for p in desc] == ids[::-1]


def test_pages_list_has_no_tags_and_book_level_chapter_id_is_0_or_null(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    loose = bookstack.create(
        "pages",
        {"book_id": book["id"], "name": bookstack.unique_name("loose"), "markdown": "x", "tags": [{"name": "t"}]},
        client,
    )
    inside = bookstack.create(
        "pages", {"chapter_id": chapter["id"], "name": bookstack.unique_name("in"), "markdown": "x"}, client
    )
    items = {p["id"]: p for p in client.list("pages", filters={"book_id": book["id"]})}
    assert set(items) == {loose["id"], inside["id"]}
    for item in items.values():
        assert "tags" not in item  # the list has no tags (api §3)
        assert "markdown" not in item and "html" not in item
        for key in ("revision_count", "updated_at", "draft", "book_id", "chapter_id"):
            assert key in item
    assert items[loose["id"]]["chapter_id"] in (0, None)  # 0 before v25.11, null after
    assert normalise_chapter_id(items[loose["id"]]["chapter_id"]) is None
    assert items[inside["id"]]["chapter_id"] == chapter["id"]


def test_unfilterable_field_is_ignored_silently(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    _pages(bookstack, client, book, 1)
    everything = raw_get(client, "/api/books", {"count": 1})["total"]
    assert raw_get(client, "/api/books", {"count": 1, "filter[bogus]": 1})["total"] == everything


def test_search_returns_tags_and_filters_by_tag(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    value = bookstack.unique_name("v")
    tagged = _pages(bookstack, client, book, 2, tags=[{"name": "bssynctest", "value": value}])
    _pages(bookstack, client, book, 1, tags=[{"name": "bssynctest", "value": value + "-other"}])
    hits = list(client.search(f"{{type:page}} [bssynctest={value}]"))
    assert sorted(h["id"] for h in hits) == sorted(tagged)
    for hit in hits:
        assert hit["type"] == "page"
        assert ("bssynctest", value) in [(t["name"], t["value"]) for t in hit["tags"]]  # tags ARE included
        for key in ("book_id", "slug", "url", "name", "draft", "updated_at"):
            assert key in hit
        # a hit for a page directly in a book has no chapter_id, priority or template on v26 (§12), and
        # chapter_id 0 on older servers: a reader of hits may count on neither
        assert normalise_chapter_id(hit.get("chapter_id")) is None


def test_search_hits_of_pages_in_a_chapter_name_the_chapter(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    value = bookstack.unique_name("v")
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": bookstack.unique_name("ch")}, client)
    inside = bookstack.create(
        "pages",
        {
            "chapter_id": chapter["id"],
            "name": bookstack.unique_name("in"),
            "markdown": "x",
            "tags": [{"name": "bssynctest", "value": value}],
        },
        client,
    )
    [hit] = list(client.search(f"{{type:page}} [bssynctest={value}]"))
    assert hit["id"] == inside["id"] and hit["chapter_id"] == chapter["id"] and hit["book_id"] == book["id"]
    assert hit["chapter"]["id"] == chapter["id"]


def test_tag_like_search_takes_no_spaces_around_the_operator(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    """TagSearchOption::getParts splits at the first operator and trims nothing, so the operator is
    written without spaces: `[name like value]` would compare the value " value"."""
    prefix = bookstack.unique_name("key")
    inside = _pages(bookstack, client, book, 2, tags=[{"name": "bssynctest", "value": f"{prefix}/a.md"}])
    _pages(bookstack, client, book, 1, tags=[{"name": "bssynctest", "value": f"{prefix}-other/b.md"}])
    hits = list(client.search(f"{{type:page}} [bssynctestlike{prefix}/%]"))
    assert sorted(h["id"] for h in hits) == sorted(inside)
    assert list(client.search(f"{{type:page}} [bssynctest like {prefix}/%]")) == []


def test_search_count_over_100_is_a_422(bookstack: BookStackTarget, client: BookStackClient) -> None:
    with pytest.raises(ValidationError) as info:
        raw_get(client, "/api/search", {"query": "anything", "count": 101})
    assert "count" in info.value.fields


def test_search_without_query_is_a_422(bookstack: BookStackTarget, client: BookStackClient) -> None:
    with pytest.raises(ValidationError) as info:
        raw_get(client, "/api/search", {})
    assert "query" in info.value.fields


def test_search_paginates_through_the_client(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    value = bookstack.unique_name("many")
    ids = _pages(bookstack, client, book, 3, tags=[{"name": "bssyncpaging", "value": value}])
    # The client asks 100 per page; check the paging contract itself with count=1.
    pages = [
        raw_get(client, "/api/search", {"query": f"[bssyncpaging={value}]", "count": 1, "page": n})
        for n in (1, 2, 3, 4)
    ]
    seen = [h["id"] for p in pages for h in p["data"]]
    assert sorted(set(seen)) == sorted(ids)
    assert pages[0]["total"] == 3
    assert pages[3]["data"] == []
    assert sorted(h["id"] for h in client.search(f"[bssyncpaging={value}]")) == sorted(ids)


def test_tag_value_ranges_compare_as_text_without_case(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    # What the client reads an unordered search by when its pages do not add up (bookstack/search.py):
    # [name>=a] [name<b] compare a value that is not numeric as text (SearchRunner::applyTagSearch), and
    # MySQL's default collation ignores case.
    run = bookstack.unique_name("r").lower()
    values = [f"{run}/a/1.md", f"{run}/b/2.md", f"{run}/C/3.md"]
    ids = [
        bookstack.create(
            "pages",
            {"book_id": book["id"], "name": value, "markdown": "x", "tags": [{"name": "bssyncrange", "value": value}]},
            client,
        )["id"]
        for value in values
    ]

    def found(query: str) -> list[int]:
        return sorted(h["id"] for h in client.search(f"[bssyncrange>={run}/] [bssyncrange<{run}0] {query}"))

    assert found("") == sorted(ids)
    assert found(f"[bssyncrange<{run}/b]") == [ids[0]]
    assert found(f"[bssyncrange>={run}/B]") == sorted(ids[1:])
    assert found(f"[bssyncrange>={run}/b] [bssyncrange<{run}/c]") == [ids[1]]


def test_deleted_pages_leave_listing_and_search(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    value = bookstack.unique_name("gone")
    (page_id,) = _pages(bookstack, client, book, 1, tags=[{"name": "bssyncgone", "value": value}])
    client.delete("pages", page_id)
    assert [p["id"] for p in client.list("pages", filters={"book_id": book["id"]})] == []
    assert list(client.search(f"[bssyncgone={value}]")) == []
