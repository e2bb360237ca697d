"""BookStackClient basics against a scripted loopback server: URLs, headers, paging, search, uploads."""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from collections.abc import Iterator
from typing import Any

import pytest

from bookstack_sync import __version__
from bookstack_sync.bookstack import (
    BookStackClient,
    IncompleteSearchError,
    NotBookStackError,
    PermissionDeniedError,
    ReadOnlyError,
    normalise_base_url,
    normalise_chapter_id,
)
from bookstack_sync.bookstack.search import range_bounds, split_tag
from bookstack_sync.bookstack.stats import RequestStats, endpoint_template
from bookstack_sync.errors import UsageError
from tests.unit.test_client_support import (
    HTML_404,
    SECRET,
    TOKEN_ID,
    Reply,
    ScriptedServer,
    Seen,
    make_client,
)


@pytest.fixture
def client(server: ScriptedServer) -> Iterator[BookStackClient]:
    with make_client(server.url) as c:
        yield c


# -- base URL --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://docs.example.com", "https://docs.example.com"),
        ("https://docs.example.com/", "https://docs.example.com"),
        ("https://docs.example.com/api", "https://docs.example.com"),
        ("https://docs.example.com/api/", "https://docs.example.com"),
        ("  HTTPS://Docs.Example.com:8443/wiki/api/  ", "https://docs.example.com:8443/wiki"),
        ("http://127.0.0.1:6875/wiki/", "http://127.0.0.1:6875/wiki"),
        ("https://docs.example.com/apidocs", "https://docs.example.com/apidocs"),
    ],
)
def test_base_url_is_normalised(given: str, expected: str) -> None:
    assert normalise_base_url(given) == expected
    assert BookStackClient(given, TOKEN_ID, SECRET, rate_limit=0).base_url == expected


@pytest.mark.parametrize(
    "bad", ["docs.example.com", "ftp://x", "", "https://", "https://u:p@host", "https://host/?x=1", "https://h/#f"]
)
def test_bad_base_url_is_a_usage_error(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        normalise_base_url(bad)
    assert "`url`" in str(info.value)


def test_prefix_is_kept_in_request_paths(server: ScriptedServer) -> None:
    with make_client(server.url + "/api/") as c:
        c.read("pages", 5)
    assert server.seen[0].path == "/api/pages/5"


# -- headers, cookies ------------------------------------------------------------------------------


def test_headers_on_every_request(server: ScriptedServer, client: BookStackClient) -> None:
    client.read("books", 1)
    client.create("books", {"name": "B"})
    get, post = server.seen
    for seen in (get, post):
        assert seen.headers["Authorization"] == f"Token {TOKEN_ID}:{SECRET}"
        assert seen.headers["Accept"] == "application/json"
        assert seen.headers["User-Agent"] == f"bookstack-sync/{__version__} (+python-requests)"
    assert post.headers["Content-Type"] == "application/json"
    assert post.body == b'{"name": "B"}'


def test_cookies_are_never_sent_back(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(
        Reply(200, {"id": 1}, headers={"Set-Cookie": "bookstack_session=abc; path=/; httponly"}),
        Reply(200, {"id": 1}),
    )
    client.read("books", 1)
    client.read("books", 1)
    assert "Cookie" not in server.seen[1].headers


def test_unicode_payload_is_utf8_json(server: ScriptedServer, client: BookStackClient) -> None:
    client.update("pages", 3, {"name": "Grüße ✓"})
    assert server.seen[0].body.decode("utf-8") == '{"name": "Grüße ✓"}'


# -- listing ---------------------------------------------------------------------------------------


def _listing(total: int) -> Any:
    def handler(seen: Seen) -> Reply:
        offset, count = int(seen.query.get("offset", 0)), int(seen.query.get("count", 100))
        items = [{"id": i + 1} for i in range(offset, min(total, offset + min(count, 500)))]
        return Reply(200, {"data": items, "total": total})

    return handler


def test_list_paginates_with_offset_until_total(server: ScriptedServer, client: BookStackClient) -> None:
    server.default = _listing(1200)
    items = list(client.list("pages", filters={"book_id": 3, "updated_at:gt": "2025-01-01"}, sort="-id"))
    assert [i["id"] for i in items] == list(range(1, 1201))
    assert [s.query["offset"] for s in server.seen] == ["0", "500", "1000"]
    for s in server.seen:
        assert s.path == "/api/pages"
        assert s.query["count"] == "500"
        assert s.query["sort"] == "-id"
        assert s.query["filter[book_id]"] == "3"
        assert s.query["filter[updated_at:gt]"] == "2025-01-01"


def test_list_boolean_filter_is_0_or_1(server: ScriptedServer, client: BookStackClient) -> None:
    server.default = _listing(0)
    assert list(client.list("pages", filters={"draft": False})) == []
    assert server.seen[0].query["filter[draft]"] == "0"


def test_list_stops_on_an_empty_page_even_if_total_is_larger(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(200, {"data": [{"id": 1}], "total": 10}), Reply(200, {"data": [], "total": 10}))
    assert [i["id"] for i in client.list("books")] == [1]
    assert len(server.seen) == 2


def test_list_rejects_unknown_kind(client: BookStackClient) -> None:
    with pytest.raises(ValueError, match="unknown BookStack kind"):
        list(client.list("page"))


def test_list_non_listing_json_is_not_bookstack(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(200, {"hello": "world"}))
    with pytest.raises(NotBookStackError):
        list(client.list("books"))


# -- search ----------------------------------------------------------------------------------------


def test_search_uses_count_100_and_reads_all_pages(server: ScriptedServer, client: BookStackClient) -> None:
    def handler(seen: Seen) -> Reply:
        page = int(seen.query["page"])
        start = (page - 1) * 100
        items = [{"type": "page", "id": i} for i in range(start, min(250, start + 100))]
        return Reply(200, {"data": items, "total": 250})

    server.default = handler
    hits = list(client.search("{type:page} [managed=yes]"))
    assert len(hits) == 250
    assert [s.query["page"] for s in server.seen] == ["1", "2", "3"]
    assert {s.query["count"] for s in server.seen} == {"100"}
    assert server.seen[0].query["query"] == "{type:page} [managed=yes]"


def test_search_dedupes_by_type_and_id(server: ScriptedServer, client: BookStackClient) -> None:
    # Before v25.11 each type was paged separately and pages could overlap (api §4).
    server.push(
        Reply(200, {"data": [{"type": "page", "id": 1}, {"type": "book", "id": 1}], "total": 3}),
        Reply(200, {"data": [{"type": "page", "id": 1}, {"type": "page", "id": 2}], "total": 3}),
    )
    hits = list(client.search("x"))
    assert [(h["type"], h["id"]) for h in hits] == [("page", 1), ("book", 1), ("page", 2)]
    assert len(server.seen) == 2


def test_search_that_brings_fewer_hits_than_its_total_and_has_no_tag_is_an_error(
    server: ScriptedServer, client: BookStackClient
) -> None:
    server.push(
        Reply(200, {"data": [{"type": "page", "id": 1}, {"type": "book", "id": 1}], "total": 4}),
        Reply(200, {"data": [{"type": "page", "id": 1}, {"type": "page", "id": 2}], "total": 4}),
    )
    with pytest.raises(IncompleteSearchError) as info:
        list(client.search("x"))
    assert (info.value.found, info.value.total) == (3, 4)
    assert "counted 4 hit(s)" in info.value.message and "brought 3" in info.value.message


def test_search_stops_when_a_page_brings_nothing_new(server: ScriptedServer, client: BookStackClient) -> None:
    server.default = lambda seen: Reply(200, {"data": [{"type": "page", "id": 1}], "total": 99})
    with pytest.raises(IncompleteSearchError):
        list(client.search("x"))
    assert len(server.seen) == 2


class UnorderedSearch:
    """``/api/search`` for ``[key]`` over ``items`` as MySQL may answer without ORDER BY: page 1 in the
    order of ``first_page_order``, later pages in id order (each page is its own LIMIT/OFFSET query), so
    paging repeats some hits and misses others. ``[key>=a]`` / ``[key<b]`` terms narrow the hits by value
    (case-insensitive strings), and an answer holds at most ``count`` of them."""

    def __init__(self, items: list[dict[str, Any]], first_page_order: list[int]) -> None:
        self.items = items
        self.first_page_order = first_page_order
        self.answers: list[tuple[str, int, int]] = []  # (query, hits in the answer, total)

    def __call__(self, seen: Seen) -> Reply:
        query, page, count = seen.query["query"], int(seen.query["page"]), int(seen.query["count"])
        low = re.findall(r"\[key>=([^\]]*)\]", query)
        high = re.findall(r"\[key<([^\]]*)\]", query)

        def within(item: dict[str, Any]) -> bool:
            keys = [t["value"].casefold() for t in item["tags"] if t["name"] == "key"]
            if not (low or high):
                return True
            return any(all(k >= v.casefold() for v in low) and all(k < v.casefold() for v in high) for k in keys)

        chosen = [item for item in self.items if within(item)]
        if page == 1:
            chosen.sort(key=lambda item: self.first_page_order.index(item["id"]))
        data = chosen[(page - 1) * count : page * count]
        self.answers.append((query, len(data), len(chosen)))
        return Reply(200, {"data": data, "total": len(chosen)})


def _keyed(n: int) -> list[dict[str, Any]]:
    return [{"type": "page", "id": i, "tags": [{"name": "key", "value": f"book/{i:03d}-page.md"}]} for i in range(n)]


def test_search_whose_pages_miss_hits_reads_them_again_in_ranges_of_the_tag_value(
    server: ScriptedServer, client: BookStackClient
) -> None:
    # the sync after a pull on v25.02: the two pages whose tags were just rewritten (ids 1 and 3) come
    # last through the tags index on page 1, and are skipped by page 2's offset in id order
    items = _keyed(107)
    stub = UnorderedSearch(items, [i for i in range(107) if i not in (1, 3)] + [1, 3])
    server.default = stub
    hits = list(client.search("[key]"))
    assert sorted(h["id"] for h in hits) == list(range(107))
    paged, ranges = stub.answers[:2], stub.answers[2:]
    assert [query for query, _n, _t in paged] == ["[key]", "[key]"]
    assert len(ranges) == 2
    assert all(n == total <= 100 for _q, n, total in ranges)  # each range came back whole
    assert sum(total for _q, _n, total in ranges) == 107  # and the ranges do not overlap
    low = ranges[1][0].removeprefix("[key] [key>=").removesuffix("]")
    assert ranges[0][0] == f"[key] [key<{low}]"


def test_search_cuts_a_range_again_when_it_does_not_come_back_whole(
    server: ScriptedServer, client: BookStackClient
) -> None:
    # page 1 and page 2 bring the same first 100: the ranges cut at their values leave 200 in the last
    items = _keyed(300)
    stub = UnorderedSearch(items, list(range(300)))
    server.default = lambda seen: (
        stub(seen) if seen.query["page"] == "1" else Reply(200, {"data": items[:100], "total": 300})
    )
    hits = list(client.search("{type:page} [key]"))
    assert sorted(h["id"] for h in hits) == list(range(300))
    assert any(total > 100 for _q, _n, total in stub.answers[1:])  # a range was cut again
    assert all(q.startswith("{type:page} [key]") for q, _n, _t in stub.answers)


def test_search_that_cannot_be_cut_smaller_is_an_error(server: ScriptedServer, client: BookStackClient) -> None:
    # 150 hits with one value: no range can hold fewer than all of them
    items = [{"type": "page", "id": i, "tags": [{"name": "key", "value": "same"}]} for i in range(150)]
    server.default = UnorderedSearch(items, list(reversed(range(150))))
    with pytest.raises(IncompleteSearchError):
        list(client.search("[key]"))


def test_search_splits_by_the_tag_it_is_told(server: ScriptedServer, client: BookStackClient) -> None:
    items = _keyed(107)
    stub = UnorderedSearch(items, [i for i in range(107) if i not in (1, 3)] + [1, 3])
    server.default = stub
    hits = list(client.search("[tree=a]", split_by="key"))
    assert len(hits) == 107
    assert stub.answers[2][0].startswith("[tree=a] [key<")


def test_search_split_by_a_tag_some_hits_lack_is_an_error(server: ScriptedServer, client: BookStackClient) -> None:
    items = _keyed(107)
    items[5]["tags"] = []  # no `key` tag: no range of its values holds this hit
    server.default = UnorderedSearch(items, [i for i in range(107) if i != 5] + [5])
    with pytest.raises(IncompleteSearchError) as info:
        list(client.search("[tree=a]", split_by="key"))
    assert (info.value.found, info.value.total) == (106, 107)


@pytest.mark.parametrize(
    ("query", "tag"),
    [
        ("[bookstack-sync]", "bookstack-sync"),
        ("{type:page} [bookstack-sync=a/b.md]", "bookstack-sync"),
        ("[bookstack-sync-tree=acme:docs] [bookstack-sync]", "bookstack-sync"),
        ("[bookstack-synclike a/%] [x=1]", "bookstack-sync"),
        ("-[a] [b=1]", "b"),
        ("[=value] cats", None),
        ("cats", None),
    ],
)
def test_split_tag(query: str, tag: str | None) -> None:
    assert split_tag(query) == tag


def test_range_bounds_are_quantiles_of_the_values_cut_where_the_query_syntax_would_read() -> None:
    values = [f"k/{i:03d}.md" for i in range(200)]
    assert range_bounds(values, None, None, 200) == ["k/066.md", "k/133.md"]
    assert range_bounds(["a b", 'c"d', "e]f", "2024", "1e5x"], None, None, 100) == ["c"]
    assert range_bounds(values, "k/150.md", None, 100) == ["k/175.md"]  # inside the range only
    assert range_bounds(["same"] * 150, None, None, 150) == ["same"]
    assert range_bounds(["same"] * 150, "same", None, 150) == []


# -- system ----------------------------------------------------------------------------------------


def test_system_returns_the_payload(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(200, {"version": "v25.11.0", "base_url": "https://x"}))
    assert client.system() == {"version": "v25.11.0", "base_url": "https://x"}
    assert server.seen[0].path == "/api/system"


def test_system_is_none_on_servers_before_v25_05(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(404, HTML_404))
    assert client.system() is None


def test_html_404_elsewhere_is_not_bookstack(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(404, HTML_404))
    with pytest.raises(NotBookStackError) as info:
        client.read("pages", 1)
    assert "`url`" in str(info.value)
    assert "does not look like a BookStack API" in str(info.value)


def test_html_200_is_not_bookstack(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(200, "<html>login</html>"))
    with pytest.raises(NotBookStackError, match="does not look like a BookStack API"):
        client.read("pages", 1)


# -- writes, uploads -------------------------------------------------------------------------------


def test_delete_expects_204(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(204))
    assert client.delete("pages", 9) is None
    assert (server.seen[0].method, server.seen[0].path) == ("DELETE", "/api/pages/9")


def test_upload_image_is_multipart_gallery(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(200, {"id": 618}))
    assert client.upload_image(7, "cat.png", b"\x89PNG-data", name="Cat")["id"] == 618
    seen = server.seen[0]
    assert (seen.method, seen.path) == ("POST", "/api/image-gallery")
    assert seen.headers["Content-Type"].startswith("multipart/form-data")
    body = seen.body
    assert b'name="type"\r\n\r\ngallery' in body
    assert b'name="uploaded_to"\r\n\r\n7' in body
    assert b'name="name"\r\n\r\nCat' in body
    assert b'name="image"; filename="cat.png"' in body
    assert b"Content-Type: image/png" in body


def test_replace_image_posts_with_method_put(server: ScriptedServer, client: BookStackClient) -> None:
    client.replace_image(618, "cat.png", b"png")
    seen = server.seen[0]
    assert (seen.method, seen.path) == ("POST", "/api/image-gallery/618")
    assert b'name="_method"\r\n\r\nPUT' in seen.body


def test_link_attachment_is_json_and_file_attachment_multipart(server: ScriptedServer, client: BookStackClient) -> None:
    client.create_attachment(4, "Spec", link="https://example.com/spec")
    client.create_attachment(4, "Data", filename="data.csv", data=b"a,b\n")
    link, file = server.seen
    assert link.headers["Content-Type"] == "application/json"
    assert link.body == b'{"name": "Spec", "uploaded_to": 4, "link": "https://example.com/spec"}'
    assert file.headers["Content-Type"].startswith("multipart/form-data")
    assert b'name="file"; filename="data.csv"' in file.body
    assert b'name="uploaded_to"\r\n\r\n4' in file.body
    with pytest.raises(ValueError):
        client.create_attachment(4, "both", data=b"x", link="https://x")
    with pytest.raises(ValueError):
        client.create_attachment(4, "neither")


def test_update_attachment_file_uses_method_put_and_link_uses_put(
    server: ScriptedServer, client: BookStackClient
) -> None:
    client.update_attachment(5, name="New", filename="n.txt", data=b"new")
    client.update_attachment(5, link="https://example.com/other")
    file, link = server.seen
    assert (file.method, file.path) == ("POST", "/api/attachments/5")
    assert b'name="_method"\r\n\r\nPUT' in file.body
    assert (link.method, link.path, link.body) == (
        "PUT",
        "/api/attachments/5",
        b'{"link": "https://example.com/other"}',
    )


def test_imports_upload_and_run(server: ScriptedServer, client: BookStackClient) -> None:
    client.upload_import("book.zip", b"PK\x03\x04")
    client.run_import(3, parent_type="book", parent_id=12)
    client.run_import(4)
    upload, run, run_book = server.seen
    assert (upload.method, upload.path) == ("POST", "/api/imports")
    assert b'name="file"; filename="book.zip"' in upload.body
    assert (run.method, run.path, run.body) == ("POST", "/api/imports/3", b'{"parent_type": "book", "parent_id": 12}')
    assert run_book.body == b"{}"


def _zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("data.json", '{"book": {"id": 3, "name": "B"}}')
    return buffer.getvalue()


def test_export_zip_returns_the_file_and_is_counted(server: ScriptedServer) -> None:
    data = _zip_bytes()
    server.push(
        Reply(
            200,
            data,
            {"Content-Type": "application/octet-stream", "Content-Disposition": 'attachment; filename="b.zip"'},
        )
    )
    with make_client(server.url, read_only=True) as c:  # a read: fine in a dry run
        assert c.export_zip("books", 3) == data
        assert c.stats.by_endpoint() == {"GET /api/books/{id}/export/zip": 1}
    assert (server.seen[0].method, server.seen[0].path) == ("GET", "/api/books/3/export/zip")


def test_export_zip_without_content_export_names_the_permission(
    server: ScriptedServer, client: BookStackClient
) -> None:
    server.push(Reply(403, {"error": "You do not have permission to perform the requested action."}))
    with pytest.raises(PermissionDeniedError) as info:
        client.export_zip("chapters", 4)
    assert info.value.status == 403
    assert "content-export" in str(info.value)


def test_export_zip_on_a_server_before_v25_07_is_a_404(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(404, HTML_404))
    with pytest.raises(NotBookStackError) as info:
        client.export_zip("pages", 5)
    assert info.value.status == 404


def test_export_zip_that_is_not_a_zip_is_not_bookstack(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(200, "<html>login</html>"))
    with pytest.raises(NotBookStackError, match="expected a ZIP file"):
        client.export_zip("books", 1)


def test_export_zip_only_for_books_chapters_pages(client: BookStackClient) -> None:
    with pytest.raises(ValueError, match="shelves"):
        client.export_zip("shelves", 1)


# -- read-only guard -------------------------------------------------------------------------------


def test_read_only_refuses_every_write_before_any_io(server: ScriptedServer) -> None:
    c = make_client(server.url, read_only=True)
    writes = [
        lambda: c.create("pages", {"name": "x"}),
        lambda: c.update("pages", 1, {"name": "x"}),
        lambda: c.delete("pages", 1),
        lambda: c.upload_image(1, "a.png", b"x"),
        lambda: c.replace_image(1, "a.png", b"x"),
        lambda: c.create_attachment(1, "a", link="https://x"),
        lambda: c.update_attachment(1, name="a"),
        lambda: c.upload_import("a.zip", b"x"),
        lambda: c.run_import(1),
    ]
    for write in writes:
        with pytest.raises(ReadOnlyError) as info:
            write()
        assert info.value.exit_code == 3
    assert server.seen == []
    assert c.stats.total == 0
    c.read("pages", 1)  # reads still work
    assert len(server.seen) == 1


# -- stats -----------------------------------------------------------------------------------------


def test_endpoint_templates() -> None:
    assert endpoint_template("put", "/api/pages/12?x=1") == "PUT /api/pages/{id}"
    assert endpoint_template("GET", "/api/image-gallery/3/data") == "GET /api/image-gallery/{id}/data"
    assert endpoint_template("GET", "/link/12") == "GET /link/{id}"
    assert endpoint_template("GET", "/uploads/images/gallery/2025-01/a.png") == "GET /uploads/..."


def test_stats_count_every_request(server: ScriptedServer, client: BookStackClient) -> None:
    server.default = _listing(3)
    list(client.list("pages"))
    server.default = lambda seen: Reply(200, {"id": 1})
    client.read("pages", 1)
    client.read("pages", 2)
    client.update("pages", 2, {})
    client.create("books", {"name": "x"})
    assert client.stats.by_endpoint() == {
        "GET /api/pages": 1,
        "GET /api/pages/{id}": 2,
        "POST /api/books": 1,
        "PUT /api/pages/{id}": 1,
    }
    assert (client.stats.total, client.stats.reads, client.stats.writes) == (5, 3, 2)
    assert client.stats.as_dict()["total"] == 5


def test_stats_are_thread_safe() -> None:
    stats = RequestStats()
    threads = [
        threading.Thread(target=lambda: [stats.record("GET", "/api/pages") for _ in range(500)]) for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert stats.total == 4000


# -- fetch_web -------------------------------------------------------------------------------------


def test_fetch_web_is_counted_and_returns_any_status(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(302, "", headers={"Location": "/books/b/page/p"}))
    response = client.fetch_web("/link/12")
    assert response.status_code == 302
    assert response.headers["Location"] == "/books/b/page/p"
    assert server.seen[0].path == "/link/12"
    assert client.stats.by_endpoint() == {"GET /link/{id}": 1}


def test_fetch_web_sends_the_token_only_to_bookstack(server: ScriptedServer) -> None:
    other = ScriptedServer()
    try:
        c = make_client(server.url)
        c.fetch_web(server.url + "/uploads/a.png")
        c.fetch_web(other.url + "/elsewhere.png")
        assert "Authorization" in server.seen[0].headers
        assert "Authorization" not in other.seen[0].headers
    finally:
        other.stop()


def test_api_redirect_is_reported_not_followed(server: ScriptedServer, client: BookStackClient) -> None:
    server.push(Reply(301, "", headers={"Location": "https://elsewhere.example/api/pages/1"}))
    with pytest.raises(NotBookStackError) as info:
        client.read("pages", 1)
    assert "redirect" in str(info.value) and "`url`" in str(info.value)
    assert len(server.seen) == 1


# -- concurrency -----------------------------------------------------------------------------------


def test_map_concurrently_keeps_order_and_bounds_threads(server: ScriptedServer) -> None:
    c = make_client(server.url, concurrency=4)
    active, peak = 0, 0
    lock = threading.Lock()

    def work(i: int) -> int:
        nonlocal active, peak
        with lock:
            active += 1
            peak = max(peak, active)
        time.sleep(0.01)
        c.read("pages", i)
        with lock:
            active -= 1
        return i * 10

    assert c.map_concurrently(work, range(20)) == [i * 10 for i in range(20)]
    assert 1 < peak <= 4
    assert c.stats.total == 20


def test_map_concurrently_reraises_after_others_finish(server: ScriptedServer) -> None:
    c = make_client(server.url, concurrency=4)
    finished: list[int] = []

    def work(i: int) -> int:
        if i == 2:
            raise RuntimeError("boom")
        time.sleep(0.01)
        finished.append(i)
        return i

    with pytest.raises(RuntimeError, match="boom"):
        c.map_concurrently(work, range(8))
    assert 2 not in finished


def test_map_concurrently_with_one_worker_is_sequential(server: ScriptedServer) -> None:
    c = make_client(server.url, concurrency=1)
    assert c.map_concurrently(lambda x: x + 1, [1, 2, 3]) == [2, 3, 4]


# -- misc ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "expected"), [(0, None), (None, None), (7, 7), ("0", None), ("3", 3)])
def test_normalise_chapter_id(value: object, expected: int | None) -> None:
    assert normalise_chapter_id(value) == expected


def test_insecure_warns_loudly_once(caplog: pytest.LogCaptureFixture, server: ScriptedServer) -> None:
    with caplog.at_level("WARNING"):
        c = make_client(server.url, verify=False)
        c.read("pages", 1)
        c.read("pages", 2)
    warnings = [r for r in caplog.records if "verification is OFF" in r.getMessage()]
    assert len(warnings) == 1
    assert "`ca_cert`" in warnings[0].getMessage()


def test_repr_hides_the_secret(client: BookStackClient) -> None:
    assert SECRET not in repr(client)
    assert SECRET not in repr(vars(client))
