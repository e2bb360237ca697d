"""Raw-HTTP tests that pin the fake BookStack to the recorded behaviour of a real one.

Expected values come from the transcripts in the team's reference (v25.02.4 and v25.07-v26.03) and the
BookStack facts they cite; each test names the transcript or section it pins.
"""

from __future__ import annotations

import base64
import io
import json
import re
import subprocess
import sys
import threading
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import requests

from tests.fake_bookstack import API_ONLY, DEFAULT_PERMISSIONS, FakeBookStack
from tests.fake_bookstack.holds import Hold

TOKEN = "Token test-token-id:test-token-secret"
TIMEOUT = 5
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 32
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
ADMIN = {"id": 1, "name": "Admin", "slug": "admin"}


class Api:
    """A thin requests wrapper: auth header, base URL and a timeout on every call."""

    def __init__(self, fake: FakeBookStack) -> None:
        self.fake = fake
        self.session = requests.Session()
        self.session.headers.update({"Authorization": TOKEN, "Accept": "application/json"})

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("allow_redirects", False)
        return self.session.request(method, self.fake.url + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("PUT", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, **kwargs)

    def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self.call(method, path, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture
def api(make_fake_bookstack: Callable[..., FakeBookStack]) -> Api:
    return Api(make_fake_bookstack())


def make_tree(api: Api) -> dict[str, int]:
    """Book with a chapter holding one markdown page, plus a loose html page (transcript 02)."""
    book = api.ok("POST", "/api/books", json={"name": "Demo Book", "description": "Book made by a test"})
    chapter = api.ok("POST", "/api/chapters", json={"book_id": book["id"], "name": "Chapter One"})
    page = api.ok(
        "POST",
        "/api/pages",
        json={
            "chapter_id": chapter["id"],
            "name": "Markdown Page",
            "markdown": "# Hello BookStack\n\nSome **bold** and `code`.\n",
            "tags": [{"name": "topic", "value": "api"}, {"name": "status", "value": "draft"}],
        },
    )
    loose = api.ok("POST", "/api/pages", json={"book_id": book["id"], "name": "HTML Page", "html": "<p>Plain page</p>"})
    return {"book": book["id"], "chapter": chapter["id"], "page": page["id"], "loose": loose["id"]}


def build_zip(data: dict[str, Any] | None, files: dict[str, bytes] | None = None, raw_json: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        if raw_json is not None:
            archive.writestr("data.json", raw_json)
        elif data is not None:
            archive.writestr("data.json", json.dumps(data))
        for name, content in (files or {}).items():
            archive.writestr(f"files/{name}", content)
    return buffer.getvalue()


def upload_zip(api: Api, payload: bytes, filename: str = "book.zip") -> requests.Response:
    return api.post("/api/imports", files={"file": (filename, payload, "application/zip")})


@dataclass
class HeldRun:
    """A ZIP import run ("Held", one page "P") held once its transaction began, and a second token of the
    same user (``other``) to write with meanwhile."""

    hold: Hold
    runner: threading.Thread
    done: list[requests.Response]
    other: requests.Session

    def finish(self) -> requests.Response:
        self.hold.release()
        self.runner.join(TIMEOUT)
        return self.done[0]


def hold_import_run(api: Api) -> HeldRun:
    api.fake.add_token("second-token", "second-secret")
    other = requests.Session()
    other.headers.update({"Authorization": "Token second-token:second-secret", "Accept": "application/json"})
    record = upload_zip(api, build_zip({"book": {"name": "Held", "pages": [{"name": "P"}]}})).json()
    hold = api.fake.hold("POST", r"/api/imports/\d+", token_id="test-token-id")
    done: list[requests.Response] = []
    runner = threading.Thread(target=lambda: done.append(api.post(f"/api/imports/{record['id']}")))
    runner.start()
    hold.wait_arrived()
    return HeldRun(hold, runner, done, other)


# ------------------------------------------------------------------------------------------------ auth


def test_auth_errors_match_transcript_04(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    fake = make_fake_bookstack(rate_limit=50)
    cases = {
        None: (401, "No authorization token found on the request"),
        "Token abcdef": (401, "An authorization token was found on the request but the format appeared incorrect"),
        "Bearer test-token-id:test-token-secret": (
            401,
            "An authorization token was found on the request but the format appeared incorrect",
        ),
        "Token nosuch:secret": (401, "No matching API token was found for the provided authorization token"),
        "Token test-token-id:wrong": (401, "The secret provided for the given used API token is incorrect"),
    }
    remaining = []
    for header, (status, message) in cases.items():
        headers = {"Authorization": header} if header else {}
        response = requests.get(fake.url + "/api/books", headers=headers, timeout=TIMEOUT)
        assert response.status_code == status
        assert response.json() == {"error": {"message": message, "code": status}}
        assert response.headers["Content-Type"] == "application/json"
        assert "Set-Cookie" not in response.headers
        remaining.append(int(response.headers["X-RateLimit-Remaining"]))
    # 401s count toward the limit (§11).
    assert remaining == [49, 48, 47, 46, 45]

    fake.token_expired = True
    response = requests.get(fake.url + "/api/books", headers={"Authorization": TOKEN}, timeout=TIMEOUT)
    assert response.status_code == 403
    assert response.json()["error"] == {"message": "The authorization token used has expired", "code": 403}


def test_user_without_api_permission_gets_403(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    fake = make_fake_bookstack(permissions={"editor-change"})
    response = requests.get(fake.url + "/api/books", headers={"Authorization": TOKEN}, timeout=TIMEOUT)
    assert response.status_code == 403
    assert response.json() == {
        "error": {"message": "The owner of the used API token does not have permission to make API calls", "code": 403}
    }


# ---------------------------------------------------------------------------------------- permissions

DENIED = {"error": {"message": "You do not have permission to perform the requested action.", "code": 403}}


def test_api_only_role_reads_but_cannot_write_section_12(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    fake = make_fake_bookstack()
    api = Api(fake)
    ids = make_tree(api)
    shelf = api.ok("POST", "/api/shelves", json={"name": "Shelf", "books": [ids["book"]]})
    fake.permissions.clear()
    fake.permissions.update(API_ONLY)  # a Viewer given "Access System API" (§12)
    assert api.ok("GET", f"/api/pages/{ids['page']}")["id"] == ids["page"]
    assert api.ok("GET", "/api/books")["total"] == 1
    writes = [
        ("POST", "/api/shelves", {"name": "S"}),
        ("POST", "/api/books", {"name": "B"}),
        ("POST", "/api/chapters", {"book_id": ids["book"], "name": "C"}),
        ("POST", "/api/pages", {"book_id": ids["book"], "name": "P", "markdown": "x"}),
        ("PUT", f"/api/shelves/{shelf['id']}", {"name": "S2"}),
        ("PUT", f"/api/books/{ids['book']}", {"name": "B2"}),
        ("PUT", f"/api/chapters/{ids['chapter']}", {"name": "C2"}),
        ("PUT", f"/api/pages/{ids['page']}", {"markdown": "changed"}),
        ("DELETE", f"/api/pages/{ids['page']}", None),
        ("DELETE", f"/api/chapters/{ids['chapter']}", None),
        ("DELETE", f"/api/books/{ids['book']}", None),
        ("DELETE", f"/api/shelves/{shelf['id']}", None),
    ]
    for method, path, body in writes:
        response = api.call(method, path, json=body)
        assert (method, path, response.status_code, response.json()) == (method, path, 403, DENIED)
    fake.permissions.update(DEFAULT_PERMISSIONS)
    assert api.ok("GET", f"/api/pages/{ids['page']}")["markdown"].startswith("# Hello")  # nothing was written
    assert len(api.ok("GET", "/api/books")["data"]) == 1 and api.ok("GET", "/api/shelves")["total"] == 1


def test_role_permissions_all_and_own(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    # An Editor-like role: may edit what the token user owns (everything it created), create pages only.
    fake = make_fake_bookstack()
    api = Api(fake)
    ids = make_tree(api)
    fake.edit_page_as_human(ids["loose"], markdown="a person's page")
    fake.state.pages[ids["loose"]].owned_by = 2  # owned by the person, not the token user
    fake.permissions.clear()
    fake.permissions.update({"access-api", "page-create-own", "page-update-own"})
    assert api.ok("PUT", f"/api/pages/{ids['page']}", json={"markdown": "mine"})["markdown"] == "mine"
    assert api.put(f"/api/pages/{ids['loose']}", json={"markdown": "theirs"}).json() == DENIED
    page = api.ok("POST", "/api/pages", json={"book_id": ids["book"], "name": "New", "markdown": "x"})
    assert api.delete(f"/api/pages/{page['id']}").json() == DENIED
    assert api.post("/api/chapters", json={"book_id": ids["book"], "name": "C"}).json() == DENIED


def test_entity_permission_denies_update_on_one_page_only_section_12(api: Api) -> None:
    ids = make_tree(api)
    other = api.ok("POST", "/api/pages", json={"chapter_id": ids["chapter"], "name": "Other", "markdown": "o"})
    api.fake.set_entity_permission("page", ids["page"], update=False)
    response = api.put(f"/api/pages/{ids['page']}", json={"markdown": "changed"})
    assert (response.status_code, response.json()) == (403, DENIED)
    assert api.ok("GET", f"/api/pages/{ids['page']}")["revision_count"] == 1  # nothing was applied
    assert api.ok("PUT", f"/api/pages/{other['id']}", json={"markdown": "fine"})["markdown"] == "fine"
    assert api.delete(f"/api/pages/{ids['page']}").status_code == 204  # only update was denied


def test_entity_permissions_inherit_from_chapter_and_book(api: Api) -> None:
    ids = make_tree(api)
    second = api.ok("POST", "/api/pages", json={"chapter_id": ids["chapter"], "name": "Second", "markdown": "s"})
    api.fake.set_entity_permission("chapter", ids["chapter"], update=False, create=False)
    api.fake.set_entity_permission("page", second["id"], update=True)  # the item's own setting wins
    assert api.put(f"/api/pages/{ids['page']}", json={"markdown": "x"}).json() == DENIED
    assert api.put(f"/api/chapters/{ids['chapter']}", json={"name": "x"}).json() == DENIED
    assert api.ok("PUT", f"/api/pages/{second['id']}", json={"markdown": "y"})["markdown"] == "y"
    assert api.post("/api/pages", json={"chapter_id": ids["chapter"], "name": "N", "markdown": "n"}).json() == DENIED
    # Moving a page into the chapter needs create there; moving one out needs delete on the page.
    assert api.put(f"/api/pages/{ids['loose']}", json={"chapter_id": ids["chapter"]}).json() == DENIED
    api.fake.set_entity_permission("book", ids["book"], delete=False)
    assert api.put(f"/api/pages/{second['id']}", json={"book_id": ids["book"]}).json() == DENIED
    assert api.ok("GET", f"/api/pages/{second['id']}")["chapter_id"] == ids["chapter"]
    with pytest.raises(ValueError, match="unknown entity permission"):
        api.fake.set_entity_permission("page", 1, edit=False)


# ----------------------------------------------------------------------------------- create/read shapes


def test_create_read_shapes_follow_transcripts_02_03(api: Api) -> None:
    shelf = api.ok("POST", "/api/shelves", json={"name": "Demo Shelf", "tags": [{"name": "env", "value": "test"}]})
    assert shelf["created_by"] == 1 and shelf["owned_by"] == 1
    assert shelf["tags"] == [{"name": "env", "value": "test", "order": 0}]
    assert shelf["description_html"] == "<p></p>" and "books" not in shelf
    book = api.ok("POST", "/api/books", json={"name": "Demo Book", "description": "About"})
    assert book["description_html"] == "<p>About</p>"
    assert ISO.match(book["created_at"]) and book["sort_rule_id"] is None and book["cover"] is None
    chapter = api.ok("POST", "/api/chapters", json={"book_id": book["id"], "name": "Chapter One"})
    assert chapter["priority"] == 2 and chapter["book_slug"] == "demo-book" and chapter["updated_by"] == 1
    page = api.ok("POST", "/api/pages", json={"chapter_id": chapter["id"], "name": "Page", "markdown": "# Hi\n"})
    # Page responses carry user objects even on create (transcript 02).
    assert page["created_by"] == ADMIN and page["owned_by"] == ADMIN
    assert page["html"] == '<h1 id="bkmrk-hi">Hi</h1>\n' and page["raw_html"] == page["html"]
    assert page["revision_count"] == 1 and page["editor"] == "markdown" and page["draft"] is False
    read_shelf = api.ok("GET", f"/api/shelves/{shelf['id']}")
    assert read_shelf["created_by"] == ADMIN and read_shelf["books"] == []
    read_chapter = api.ok("GET", f"/api/chapters/{chapter['id']}")
    assert read_chapter["owned_by"] == ADMIN
    assert [p["id"] for p in read_chapter["pages"]] == [page["id"]]
    assert read_chapter["pages"][0]["created_by"] == 1
    updated = api.ok("PUT", f"/api/books/{book['id']}", json={"name": "Demo Book 2"})
    assert updated["created_by"] == 1 and updated["slug"] == "demo-book-2"
    delete = api.delete(f"/api/pages/{page['id']}")
    assert delete.status_code == 204 and delete.content == b""


def test_book_read_contents_and_shelves_key_by_version(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    old = Api(make_fake_bookstack(version="v25.02.4", chapterless_chapter_id=0))
    ids = make_tree(old)
    book = old.ok("GET", f"/api/books/{ids['book']}")
    assert "shelves" not in book
    assert [(i["type"], i["name"], i["priority"]) for i in book["contents"]] == [
        ("chapter", "Chapter One", 2),
        ("page", "HTML Page", 3),
    ]
    assert book["contents"][0]["pages"][0]["priority"] == 1
    assert book["contents"][1]["chapter_id"] == 0
    assert book["contents"][1]["url"].endswith("/books/demo-book/page/html-page")

    new = Api(make_fake_bookstack(version="v26.03.3"))
    ids = make_tree(new)
    new.ok("POST", "/api/shelves", json={"name": "S", "books": [ids["book"]]})
    book = new.ok("GET", f"/api/books/{ids['book']}")
    assert [s["name"] for s in book["shelves"]] == ["S"]
    assert book["type"] == "book" and "chapter_id" not in book["contents"][1]


# --------------------------------------------------------------------------------------- validation


def test_page_validation_422_shapes_transcript_06(api: Api) -> None:
    ids = make_tree(api)

    def errors(body: Any, **kwargs: Any) -> dict[str, list[str]]:
        response = api.post("/api/pages", json=body, **kwargs) if body is not None else api.post("/api/pages", **kwargs)
        assert response.status_code == 422, response.text
        data = response.json()
        assert data["error"]["message"] == "The given data was invalid." and data["error"]["code"] == 422
        return data["error"]["validation"]  # type: ignore[no-any-return]

    assert errors({"book_id": ids["book"], "markdown": "x"}) == {"name": ["The name field is required."]}
    assert errors({"name": "Orphan", "markdown": "x"}) == {
        "book_id": ["The book id field is required when chapter id is not present."],
        "chapter_id": ["The chapter id field is required when book id is not present."],
    }
    both = {
        "html": ["The html field is required when markdown is not present."],
        "markdown": ["The markdown field is required when html is not present."],
    }
    assert errors({"book_id": ids["book"], "name": "Empty"}) == both
    # Whitespace-only markdown is trimmed away, so it counts as missing (transcript 11).
    assert errors({"book_id": ids["book"], "name": "Empty", "markdown": "   "}) == both
    assert errors({"book_id": ids["book"], "name": "x" * 256, "markdown": "x"}) == {
        "name": ["The name may not be greater than 255 characters."]
    }
    assert errors({"book_id": ids["book"], "name": "t", "markdown": "x", "tags": "nope"}) == {
        "tags": ["The tags must be an array."]
    }
    invalid_json = errors(None, data='{"name": "broken', headers={"Content-Type": "application/json"})
    assert list(invalid_json) == ["book_id", "chapter_id", "name", "html", "markdown"]

    missing_book = api.post("/api/pages", json={"book_id": 999999, "name": "x", "markdown": "x"})
    assert missing_book.status_code == 404
    assert (
        missing_book.json()["error"]["message"]
        == "No query results for model [BookStack\\Entities\\Models\\Book] 999999"
    )


def test_other_validation_rules(api: Api) -> None:
    response = api.post("/api/books", json={})
    assert response.json()["error"]["validation"] == {"name": ["The name field is required."]}
    response = api.post("/api/shelves", json={"name": "s", "description": "d" * 1901})
    assert response.json()["error"]["validation"] == {
        "description": ["The description may not be greater than 1900 characters."]
    }
    response = api.post("/api/chapters", json={"name": "c"})
    assert response.json()["error"]["validation"] == {"book_id": ["The book id field is required."]}
    # Unknown fields are ignored (transcript 11).
    assert api.post("/api/books", json={"name": "b", "bogus": 1}).status_code == 200


def test_form_encoded_create_with_nested_tags(api: Api) -> None:
    response = api.post(
        "/api/books",
        data="name=Form+Encoded+Book&tags[0][name]=x&tags[0][value]=y",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    assert response.json()["tags"] == [{"name": "x", "value": "y", "order": 0}]


def test_trim_strings_on_names_markdown_and_tags(api: Api) -> None:
    ids = make_tree(api)
    page = api.ok(
        "POST",
        "/api/pages",
        json={
            "book_id": ids["book"],
            "name": "  Spaced name  ",
            "markdown": "    indented code block first\n\ntext\n\n",
            "tags": [{"name": " a ", "value": " 1 "}, {"name": "novalue"}, {"name": "  "}],
        },
    )
    assert page["name"] == "Spaced name" and page["slug"] == "spaced-name"
    assert page["markdown"] == "indented code block first\n\ntext"
    assert page["tags"] == [{"name": "a", "value": "1", "order": 0}, {"name": "novalue", "value": "", "order": 0}]


# ------------------------------------------------------------------------------- 404, 405, odd routes


def test_not_found_and_odd_routes_transcripts_05_12(api: Api) -> None:
    assert api.get("/api/pages/999999").json() == {"error": {"message": "Page not found", "code": 404}}
    assert api.delete("/api/pages/999999").status_code == 404
    assert api.get("/api/books/999999").json()["error"]["message"] == (
        "No query results for model [BookStack\\Entities\\Models\\Book] 999999"
    )
    assert api.get("/api/chapters/5").json()["error"]["message"].endswith("Chapter] 5")
    assert api.get("/api/shelves/5").json() == {"error": {"message": "Shelf not found", "code": 404}}
    assert api.get("/api/attachments/7").json()["error"]["message"] == (
        "No query results for model [BookStack\\Uploads\\Attachment] 7"
    )
    html_404 = api.get("/api/no-such-endpoint")
    assert html_404.status_code == 404 and html_404.headers["Content-Type"] == "text/html; charset=UTF-8"
    assert "Page Not Found" in html_404.text
    for method in ("POST", "PUT", "DELETE"):
        response = api.call(method, "/api/no-such-thing", json={})
        assert response.status_code == 405 and response.headers["Allow"] == "GET, HEAD"
        assert response.json()["error"]["message"] == (
            f"The {method} method is not supported for route api/no-such-thing. Supported methods: GET, HEAD."
        )
    attach = api.put("/api/shelves/1/books/2/attach")
    assert attach.status_code == 405
    assert attach.json()["error"]["code"] == 405
    non_numeric = api.get("/api/pages/abc")
    assert (
        non_numeric.status_code == 500 and "must be of type int, string given" in non_numeric.json()["error"]["message"]
    )


def test_chapter_move_to_missing_book_is_odd_500(api: Api) -> None:
    ids = make_tree(api)
    response = api.put(f"/api/chapters/{ids['chapter']}", json={"book_id": 999})
    assert response.status_code == 500
    assert response.json() == {"message": "The selected book was not found", "status": "error"}


# ------------------------------------------------------------------------------------------- listings


def test_listing_count_offset_sort_filter(api: Api) -> None:
    for name in ("Delta", "alpha", "Charlie", "Bravo", "Echo"):
        api.ok("POST", "/api/books", json={"name": name})

    def names(query: str) -> tuple[list[str], int]:
        data = api.ok("GET", "/api/books?" + query)
        return [b["name"] for b in data["data"]], data["total"]

    assert names("count=2&offset=1") == (["alpha", "Charlie"], 5)
    assert names("count=0") == (["Delta"], 5)  # clamped to 1 (transcript 12)
    assert names("count=-1") == (["Delta"], 5)
    assert len(names("count=1000")[0]) == 5
    assert names("sort=name")[0] == ["alpha", "Bravo", "Charlie", "Delta", "Echo"]
    assert names("sort=-name&count=2")[0] == ["Echo", "Delta"]
    assert names("sort=bogus&count=1") == (["Delta"], 5)  # unknown field -> id asc
    assert names("filter[name:like]=b%") == (["Bravo"], 1)
    assert names("filter[id:gt]=3") == (["Bravo", "Echo"], 2)
    assert names("filter[id:lte]=2&filter[name:ne]=alpha") == (["Delta"], 1)
    assert names("filter[bogus]=1")[1] == 5  # unknown filter silently ignored
    assert names("filter[name]=ECHO") == (["Echo"], 1)
    assert names("filter[created_at:gt]=2000-01-01")[1] == 5


def test_pages_list_item_shape(api: Api) -> None:
    make_tree(api)
    item = api.ok("GET", "/api/pages?count=1")["data"][0]
    assert set(item) == {
        "name", "id", "slug", "book_id", "chapter_id", "draft", "template", "created_at", "updated_at",
        "priority", "owned_by", "book_slug", "created_by", "updated_by", "revision_count", "editor",
    }  # fmt: skip
    assert item["created_by"] == 1 and item["book_slug"] == "demo-book"


def test_chapterless_chapter_id_zero_before_v25_11_null_after(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    for chapterless, expected_total in ((0, 1), (None, 0)):
        api = Api(make_fake_bookstack(chapterless_chapter_id=chapterless))
        ids = make_tree(api)
        assert api.ok("GET", f"/api/pages/{ids['loose']}")["chapter_id"] == chapterless
        listed = api.ok("GET", f"/api/pages?filter[book_id]={ids['book']}&sort=id")["data"]
        assert [p["chapter_id"] for p in listed] == [ids["chapter"], chapterless]
        # filter[chapter_id]=0 finds nothing on new servers (§3).
        assert api.ok("GET", "/api/pages?filter[chapter_id]=0")["total"] == expected_total


# --------------------------------------------------------------------------------------------- search


def test_search_tags_types_words_and_count(api: Api) -> None:
    ids = make_tree(api)
    api.ok(
        "POST",
        "/api/pages",
        json={"book_id": ids["book"], "name": "Other", "markdown": "x", "tags": [{"name": "topic", "value": "ops"}]},
    )

    def search(query: str, **params: Any) -> dict[str, Any]:
        return api.ok("GET", "/api/search", params={"query": query, **params})  # type: ignore[no-any-return]

    hit = search("[topic=api]")
    assert hit["total"] == 1
    item = hit["data"][0]
    assert item["type"] == "page" and item["tags"][0] == {"name": "topic", "value": "api", "order": 0}
    assert item["book"]["id"] == ids["book"] and item["chapter"]["id"] == ids["chapter"]
    assert item["url"].endswith("/books/demo-book/page/markdown-page") and "preview_html" in item
    assert search("[TOPIC=API]")["total"] == 1  # case-insensitive (MySQL collation)
    assert search("[topic] {type:page}")["total"] == 2
    assert search("{type:page} -[topic=api]")["total"] == 2  # the html page and "Other"
    assert search("[topiclikeo%]")["total"] == 1
    # BookStack trims nothing inside a tag term: the value " o%" (leading space) matches no tag
    assert search("[topic like o%]")["total"] == 0
    assert search("bold")["data"][0]["id"] == ids["page"]
    assert {r["type"] for r in search("{type:book|chapter}")["data"]} == {"book", "chapter"}
    paged = search("{type:page}", count=1, page=2)
    assert paged["total"] == 3 and len(paged["data"]) == 1
    too_many = api.get("/api/search", params={"query": "x", "count": 101})
    assert too_many.status_code == 422
    assert too_many.json()["error"]["validation"] == {"count": ["The count may not be greater than 100."]}
    missing = api.get("/api/search")
    assert missing.json()["error"]["validation"] == {"query": ["The query field is required."]}


def test_search_paging_before_v25_11_is_per_type(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    api = Api(make_fake_bookstack(version="v25.02.4"))
    make_tree(api)
    data = api.ok("GET", "/api/search", params={"query": "{type:page|chapter|book}", "count": 1})
    # Each type is paged on its own: one book, one chapter and one page for count=1 (§4).
    assert len(data["data"]) == 3 and data["total"] == 4


def test_tag_only_search_pages_unordered_before_v25_11_and_ordered_on_request(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    # No ORDER BY without search terms (SearchRunner): page 1 in tags row order, later pages in id order.
    for version, unordered in (("v25.02.4", None), ("v25.11.0", True), ("v25.02.4", False), ("v26.03.3", None)):
        api = Api(make_fake_bookstack(version=version, unordered_tag_search=unordered))
        book = api.ok("POST", "/api/books", json={"name": "B"})["id"]
        ids = [
            api.ok(
                "POST", "/api/pages", json={"book_id": book, "name": f"p{n}", "markdown": "x", "tags": [{"name": "k"}]}
            )["id"]
            for n in range(105)
        ]
        api.ok("PUT", f"/api/pages/{ids[0]}", json={"tags": [{"name": "k", "value": "rewritten"}]})
        pages = [api.ok("GET", "/api/search", params={"query": "[k]", "count": 100, "page": n}) for n in (1, 2)]
        seen = [h["id"] for page in pages for h in page["data"]]
        assert pages[0]["total"] == 105 and len(seen) == 105, version
        if unordered is False or (unordered is None and version >= "v25.11"):
            assert sorted(seen) == ids, version
        else:
            assert ids[0] not in seen and ids[100] in seen[:100] and seen.count(ids[100]) == 2, version
        # a search term orders by score, so its pages add up
        words = [api.ok("GET", "/api/search", params={"query": "x [k]", "count": 100, "page": n}) for n in (1, 2)]
        assert sorted(h["id"] for page in words for h in page["data"]) == ids, version


def test_search_hit_of_a_book_level_page_omits_chapter_id_priority_template_on_v26_section_12(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    for version, loose_keys in (("v26.03.3", set()), ("v25.02.4", {"chapter_id", "priority", "template"})):
        api = Api(make_fake_bookstack(version=version, chapterless_chapter_id=None if version > "v25.11" else 0))
        ids = make_tree(api)
        hits = {h["id"]: h for h in api.ok("GET", "/api/search", params={"query": "{type:page}"})["data"]}
        assert {"chapter_id", "priority", "template"} & set(hits[ids["loose"]]) == loose_keys, version
        assert hits[ids["page"]]["chapter_id"] == ids["chapter"] and "priority" in hits[ids["page"]]


# ------------------------------------------------------------------------------------ page updates


def test_revision_count_and_updated_at_move_on_every_put_transcript_08(api: Api) -> None:
    # Every PUT saves the page, so its updated_at is the time of that PUT (in whole seconds: each PUT
    # below runs a second after the one before, as the transcript's did).
    ids = make_tree(api)
    page = api.ok("GET", f"/api/pages/{ids['page']}")
    stamps = [page["updated_at"]]
    bodies = [
        {"name": page["name"], "markdown": page["markdown"]},
        {"markdown": page["markdown"]},
        {"tags": [{"name": "topic", "value": "api"}]},
        {},
        {"markdown": page["markdown"] + "\n"},
        {"bogus": 1},
    ]
    for number, body in enumerate(bodies, start=2):
        api.fake.set_server_clock(number)
        updated = api.ok("PUT", f"/api/pages/{ids['page']}", json=body)
        assert updated["revision_count"] == number
        assert updated["updated_at"] not in stamps
        assert updated["created_by"] == ADMIN
        stamps.append(updated["updated_at"])
    assert updated["markdown"] == page["markdown"]


def test_advancing_the_clock_stamps_later_seconds_and_set_server_clock_keeps_it(api: Api) -> None:
    # what the sync record's wait for a later second is replaced with in tests (tests/conftest.py)
    ids = make_tree(api)
    path = f"/api/pages/{ids['page']}"
    before = api.ok("GET", path)["updated_at"]
    api.fake.advance_clock(1.1)
    after = api.ok("PUT", path, json={"markdown": "Moved on"})["updated_at"]
    assert after > before
    api.fake.advance_clock(3600)
    api.fake.set_server_clock(0)  # an offset is on top of the time skipped: no going back
    later = api.ok("PUT", path, json={"markdown": "An hour on"})["updated_at"]
    assert later[:13] > after[:13]  # the hour moved on
    api.fake.advance_clock(-5)  # skipping never moves the clock back
    assert api.ok("PUT", path, json={"markdown": "Still on"})["updated_at"] >= later


def test_advance_running_clocks_moves_every_started_fake_and_no_stopped_one(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    one, two, stopped = make_fake_bookstack(), make_fake_bookstack(), make_fake_bookstack()
    stopped.stop()
    FakeBookStack.advance_running_clocks(7200)
    assert [f.state.now().timestamp() - time.time() > 7000 for f in (one, two, stopped)] == [True, True, False]


def test_tags_replace_keep_clear_transcript_11(api: Api) -> None:
    ids = make_tree(api)
    path = f"/api/pages/{ids['page']}"
    assert api.ok("PUT", path, json={"tags": [{"name": "a", "value": "9"}]})["tags"] == [
        {"name": "a", "value": "9", "order": 0}
    ]
    assert api.ok("PUT", path, json={"name": "Renamed"})["tags"] == [{"name": "a", "value": "9", "order": 0}]
    assert api.ok("PUT", path, json={"tags": []})["tags"] == []


def test_html_write_clears_markdown_and_editor_permission(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    api = Api(make_fake_bookstack())
    ids = make_tree(api)
    after = api.ok("PUT", f"/api/pages/{ids['page']}", json={"html": "<p>now html</p>"})
    assert after["markdown"] == "" and after["editor"] == "wysiwyg"
    assert after["html"] == '<p id="bkmrk-now-html">now html</p>'
    # Without "editor-change" a markdown page keeps the default editor (§7, transcript 25).
    limited = Api(make_fake_bookstack(permissions=DEFAULT_PERMISSIONS - {"editor-change"}))
    ids = make_tree(limited)
    page = limited.ok("GET", f"/api/pages/{ids['page']}")
    assert page["editor"] == "wysiwyg" and page["markdown"].startswith("# Hello")


def test_page_moves_book_id_trap_and_chapter_wins(api: Api) -> None:
    ids = make_tree(api)
    other = api.ok("POST", "/api/chapters", json={"book_id": ids["book"], "name": "Two"})
    moved = api.ok("PUT", f"/api/pages/{ids['page']}", json={"chapter_id": other["id"], "book_id": 999})
    assert moved["chapter_id"] == other["id"]  # chapter_id wins, book_id never looked at
    priority = moved["priority"]
    # Sending the page's own book_id pulls it out of its chapter (§2 "the trap").
    trapped = api.ok("PUT", f"/api/pages/{ids['page']}", json={"book_id": ids["book"]})
    assert trapped["chapter_id"] is None and trapped["priority"] == priority
    assert api.put(f"/api/pages/{ids['page']}", json={"chapter_id": 0}).status_code == 404


def test_chapter_move_takes_pages_and_regenerates_slugs(api: Api) -> None:
    ids = make_tree(api)
    target = api.ok("POST", "/api/books", json={"name": "Target"})
    api.ok("POST", "/api/chapters", json={"book_id": target["id"], "name": "Chapter One"})
    moved = api.ok("PUT", f"/api/chapters/{ids['chapter']}", json={"book_id": target["id"]})
    assert moved["book_id"] == target["id"] and re.fullmatch(r"chapter-one-[A-Za-z0-9]{3}", moved["slug"])
    page = api.ok("GET", f"/api/pages/{ids['page']}")
    assert page["book_id"] == target["id"] and page["chapter_id"] == ids["chapter"]


def test_slugs_duplicates_and_renames(api: Api) -> None:
    ids = make_tree(api)
    first = api.ok("POST", "/api/pages", json={"book_id": ids["book"], "name": "Dup", "markdown": "a"})
    second = api.ok("POST", "/api/pages", json={"book_id": ids["book"], "name": "Dup", "markdown": "b"})
    assert first["slug"] == "dup" and re.fullmatch(r"dup-[A-Za-z0-9]{3}", second["slug"])
    assert api.ok("PUT", f"/api/pages/{first['id']}", json={"name": "Dup renamed"})["slug"] == "dup-renamed"
    odd = api.ok("POST", "/api/books", json={"name": "Drawings via draw.io & Ünïcode"})
    assert odd["slug"] == "drawings-via-drawio-unicode"


def test_priorities_shared_top_level_and_explicit(api: Api) -> None:
    ids = make_tree(api)
    second = api.ok("POST", "/api/pages", json={"chapter_id": ids["chapter"], "name": "Second", "markdown": "x"})
    assert second["priority"] == 2
    chapter = api.ok("POST", "/api/chapters", json={"book_id": ids["book"], "name": "Later"})
    assert chapter["priority"] == 4  # after chapter 2 and loose page 3
    explicit = api.ok(
        "POST", "/api/pages", json={"book_id": ids["book"], "name": "First", "markdown": "x", "priority": 0}
    )
    assert explicit["priority"] == 0


def test_sort_rule_renumbers_after_writes(api: Api) -> None:
    ids = make_tree(api)
    api.fake.set_sort_rule(ids["book"], "name_asc")
    api.ok("POST", "/api/pages", json={"book_id": ids["book"], "name": "Aardvark", "markdown": "x", "priority": 99})
    contents = api.ok("GET", f"/api/books/{ids['book']}")["contents"]
    assert [(c["name"], c["priority"]) for c in contents] == [("Aardvark", 1), ("Chapter One", 2), ("HTML Page", 3)]


def test_edit_page_as_human(api: Api) -> None:
    ids = make_tree(api)
    api.fake.edit_page_as_human(ids["page"], html="<p>edited in the UI</p>")
    page = api.ok("GET", f"/api/pages/{ids['page']}")
    assert page["revision_count"] == 2 and page["markdown"] == "" and page["editor"] == "wysiwyg"
    assert page["updated_by"]["id"] == 2
    listed = api.ok("GET", f"/api/pages?filter[id]={ids['page']}")["data"][0]
    assert listed["updated_by"] == 2


# ------------------------------------------------------------------------------------ shelves & bin


def test_shelf_books_set_replace_keep_transcript_07(api: Api) -> None:
    b1 = api.ok("POST", "/api/books", json={"name": "One"})["id"]
    b2 = api.ok("POST", "/api/books", json={"name": "Two"})["id"]
    shelf = api.ok("POST", "/api/shelves", json={"name": "Shelf", "books": [b2, 999, b1]})
    assert [b["id"] for b in api.ok("GET", f"/api/shelves/{shelf['id']}")["books"]] == [b2, b1]
    api.ok("PUT", f"/api/shelves/{shelf['id']}", json={"name": "Renamed"})
    assert [b["id"] for b in api.ok("GET", f"/api/shelves/{shelf['id']}")["books"]] == [b2, b1]
    api.ok("PUT", f"/api/shelves/{shelf['id']}", json={"books": [b1]})
    read = api.ok("GET", f"/api/shelves/{shelf['id']}")
    assert [b["id"] for b in read["books"]] == [b1] and read["books"][0]["created_by"] == 1


def test_deletes_go_to_recycle_bin_and_ids_are_not_reused(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    api = Api(make_fake_bookstack(version="v25.02.4"))
    ids = make_tree(api)
    assert api.delete(f"/api/books/{ids['book']}").status_code == 204
    assert api.get(f"/api/pages/{ids['page']}").status_code == 404
    assert api.get(f"/api/chapters/{ids['chapter']}").status_code == 404
    bin_list = api.ok("GET", "/api/recycle-bin")
    assert bin_list["total"] == 1
    entry = bin_list["data"][0]
    assert entry["deletable_type"] == "book" and entry["deletable"]["pages_count"] == 2
    again = api.ok("POST", "/api/books", json={"name": "New"})
    assert again["id"] == ids["book"] + 1
    assert api.ok("PUT", f"/api/recycle-bin/{entry['id']}") == {"restore_count": 4}
    assert api.ok("GET", f"/api/pages/{ids['page']}")["id"] == ids["page"]


# ---------------------------------------------------------------------------------------- rate limit


def test_rate_limit_fixed_window_with_fake_clock_transcript_10(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    now = [1000.0]
    fake = make_fake_bookstack(rate_limit=3, clock=lambda: now[0])
    api = Api(fake)
    remaining = [api.get("/api/books").headers["X-RateLimit-Remaining"] for _ in range(3)]
    assert remaining == ["2", "1", "0"]
    now[0] += 3.2
    for _ in range(2):  # 429s do not count as hits
        limited = api.get("/api/books")
        assert limited.status_code == 429
        assert limited.json() == {"error": {"message": "Too Many Attempts.", "code": 429}}
        assert limited.headers["Retry-After"] == "57" and limited.headers["X-RateLimit-Remaining"] == "0"
        assert limited.headers["X-RateLimit-Limit"] == "3"
        assert int(limited.headers["X-RateLimit-Reset"]) >= int(time.time()) + 56
    now[0] = 1060.0
    fresh = api.get("/api/books")
    assert fresh.status_code == 200 and fresh.headers["X-RateLimit-Remaining"] == "2"


# -------------------------------------------------------------------------------------------- faults


def test_fault_fail_next_with_filters(api: Api) -> None:
    api.fake.faults.fail_next(status=503, methods=["POST"], path_prefix="/api/books")
    assert api.get("/api/books").status_code == 200
    failed = api.post("/api/books", json={"name": "b"})
    assert failed.status_code == 503 and "Service Unavailable" in failed.text
    assert api.fake.state.books == {}
    api.fake.faults.fail_next(n=2)
    assert [api.get("/api/books").status_code for _ in range(3)] == [500, 500, 200]
    assert [r.fault for r in api.fake.requests[-3:]] == ["fail", "fail", None]


def test_fault_fail_fraction_is_reproducible(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    runs = []
    for _ in range(2):
        api = Api(make_fake_bookstack())
        api.fake.faults.fail_fraction(0.5, seed=7)
        runs.append([api.get("/api/books").status_code for _ in range(12)])
    assert runs[0] == runs[1]
    assert set(runs[0]) - {200} and 200 in runs[0]


def test_fault_hang_exceeds_client_timeout_then_applies(api: Api) -> None:
    api.fake.faults.hang_next(0.6, methods="POST")
    with pytest.raises(requests.exceptions.ReadTimeout):
        api.post("/api/books", json={"name": "slow"}, timeout=0.2)
    deadline = time.monotonic() + 3
    while not api.fake.state.books and time.monotonic() < deadline:
        time.sleep(0.05)
    assert [b.name for b in api.fake.state.books.values()] == ["slow"]


def test_fault_hang_does_not_block_stop(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    fake = make_fake_bookstack()
    fake.faults.hang_next(30)
    errors: list[BaseException] = []

    def call() -> None:
        try:
            requests.get(fake.url + "/api/books", headers={"Authorization": TOKEN}, timeout=10)
        except requests.RequestException as error:
            errors.append(error)

    import threading

    thread = threading.Thread(target=call)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    fake.stop()
    thread.join(timeout=5)
    assert time.monotonic() - started < 3 and not thread.is_alive() and errors


def test_fault_drop_and_rate_limit_next(api: Api) -> None:
    api.fake.faults.drop_next()
    with pytest.raises(requests.exceptions.ConnectionError):
        api.get("/api/books")
    assert api.fake.requests[-1].status is None and api.fake.requests[-1].fault == "drop"
    api.fake.faults.rate_limit_next(retry_after=2)
    limited = api.get("/api/books")
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "2"
    assert api.get("/api/books").status_code == 200


def test_fault_apply_then_fail_performs_the_write(api: Api) -> None:
    api.fake.faults.apply_then_fail_next(methods="POST")
    lost = api.post("/api/books", json={"name": "Created anyway"})
    assert lost.status_code == 500
    assert [b.name for b in api.fake.state.books.values()] == ["Created anyway"]
    api.fake.faults.apply_then_fail_next(status=None)
    with pytest.raises(requests.exceptions.ConnectionError):
        api.post("/api/books", json={"name": "Dropped but created"})
    assert len(api.fake.state.books) == 2 and api.fake.requests[-1].fault == "apply_then_drop"
    assert [r.method for r in api.fake.writes()] == ["POST", "POST"]


# -------------------------------------------------------------------------------- attachments & images


def test_attachments_link_file_update_and_download(api: Api) -> None:
    ids = make_tree(api)
    link = api.ok(
        "POST", "/api/attachments", json={"name": "Site", "uploaded_to": ids["page"], "link": "https://example.com"}
    )
    assert link["external"] is True and link["order"] == 1 and link["created_by"] == 1
    upload = api.ok(
        "POST",
        "/api/attachments",
        data={"name": "notes", "uploaded_to": str(ids["page"])},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )
    assert upload["external"] is False and upload["extension"] == "txt" and upload["order"] == 2
    read = api.ok("GET", f"/api/attachments/{upload['id']}")
    assert base64.b64decode(read["content"]) == b"hello" and read["created_by"] == ADMIN
    assert read["links"]["markdown"] == f"[notes]({api.fake.app_url}/attachments/{upload['id']})"
    replaced = api.ok(
        "POST",
        f"/api/attachments/{upload['id']}",
        data={"_method": "PUT"},
        files={"file": ("notes.md", b"# new", "text/markdown")},
    )
    assert replaced["extension"] == "md" and api.fake.requests[-1].method == "PUT"
    assert requests.get(f"{api.fake.url}/attachments/{upload['id']}", timeout=TIMEOUT).content == b"# new"
    bad = api.post("/api/attachments", json={"name": "x", "uploaded_to": 999, "link": "https://e.com"})
    assert bad.json()["error"]["validation"] == {"uploaded_to": ["The selected uploaded to is invalid."]}
    missing = api.post("/api/attachments", json={"name": "x", "uploaded_to": ids["page"]})
    assert set(missing.json()["error"]["validation"]) == {"file", "link"}
    assert api.delete(f"/api/attachments/{link['id']}").status_code == 204


def test_image_gallery_shape_urls_and_update(api: Api) -> None:
    ids = make_tree(api)
    image = api.ok(
        "POST",
        "/api/image-gallery",
        data={"type": "gallery", "uploaded_to": str(ids["page"])},
        files={"image": ("cute cat.png", PNG, "image/png")},
    )
    assert image["name"] == "cute cat.png" and image["path"].startswith("/uploads/images/gallery/")
    assert image["url"] == api.fake.app_url + image["path"] and image["created_by"] == ADMIN
    display = image["thumbs"]["display"]
    assert "/scaled-1680-/" in display and image["content"]["markdown"] == f"![cute cat.png]({display})"
    for url in (image["url"], display, image["thumbs"]["gallery"]):
        served = requests.get(url, timeout=TIMEOUT)
        assert served.status_code == 200 and served.content == PNG and served.headers["Content-Type"] == "image/png"
    renamed = api.ok("POST", f"/api/image-gallery/{image['id']}", data={"_method": "PUT", "name": "Cat"})
    assert renamed["name"] == "Cat" and renamed["url"] == image["url"]
    listed = api.ok("GET", f"/api/image-gallery?filter[uploaded_to]={ids['page']}")
    assert listed["total"] == 1 and "thumbs" not in listed["data"][0]
    not_image = api.post(
        "/api/image-gallery",
        data={"type": "gallery", "uploaded_to": str(ids["page"])},
        files={"image": ("x.png", b"just text", "image/png")},
    )
    assert not_image.status_code == 422 and "image" in not_image.json()["error"]["validation"]
    assert api.get("/api/image-gallery/999").json()["error"]["message"].endswith("Image] 999")


def test_link_redirect_and_page_url(api: Api) -> None:
    ids = make_tree(api)
    redirect = requests.get(f"{api.fake.url}/link/{ids['page']}", allow_redirects=False, timeout=TIMEOUT)
    assert redirect.status_code == 302
    assert redirect.headers["Location"] == f"{api.fake.app_url}/books/demo-book/page/markdown-page"
    page = requests.get(redirect.headers["Location"], timeout=TIMEOUT)
    assert page.status_code == 200 and "Hello BookStack" in page.text
    assert requests.get(f"{api.fake.url}/link/9999", timeout=TIMEOUT).status_code == 404


# ---------------------------------------------------------------------------------- versions & system


def test_names_and_tags_are_cut_at_191_silently_section_12(api: Api) -> None:
    long_tag = [{"name": "n" * 300, "value": "v" * 250}]
    shelf = api.ok("POST", "/api/shelves", json={"name": "S" * 255, "tags": long_tag})
    assert shelf["name"] == "S" * 191 and shelf["tags"] == [{"name": "n" * 191, "value": "v" * 191, "order": 0}]
    book = api.ok("POST", "/api/books", json={"name": "B" * 200})
    chapter = api.ok("POST", "/api/chapters", json={"book_id": book["id"], "name": "C" * 192})
    page = api.ok("POST", "/api/pages", json={"chapter_id": chapter["id"], "name": "P" * 200, "markdown": "x"})
    assert (book["name"], chapter["name"], page["name"]) == ("B" * 191, "C" * 191, "P" * 191)
    # the same long name again is no change for BookStack, but a tool comparing names sees a difference
    again = api.ok("PUT", f"/api/pages/{page['id']}", json={"name": "P" * 200, "tags": long_tag})
    assert again["name"] == "P" * 191 and again["slug"] == page["slug"]
    assert again["tags"] == [{"name": "n" * 191, "value": "v" * 191, "order": 0}]
    assert api.post("/api/books", json={"name": "B" * 256}).status_code == 422  # validation still says 255


def test_urls_come_from_app_url_not_from_the_request_section_12(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    fake = make_fake_bookstack(app_url="https://wiki.example.org")
    api = Api(fake)
    assert fake.app_url != fake.url
    ids = make_tree(api)
    book = api.ok("GET", f"/api/books/{ids['book']}")
    assert book["contents"][0]["url"] == "https://wiki.example.org/books/demo-book/chapter/chapter-one"
    hit = api.ok("GET", "/api/search", params={"query": "{type:page} [topic=api]"})["data"][0]
    assert hit["url"] == "https://wiki.example.org/books/demo-book/page/markdown-page"
    image = api.ok(
        "POST", "/api/image-gallery", data={"type": "gallery", "uploaded_to": ids["page"]}, files={"image": PNG}
    )
    assert image["url"].startswith("https://wiki.example.org/uploads/images/gallery/")
    assert api.ok("GET", "/api/system")["base_url"] == "https://wiki.example.org"
    # the default APP_URL reaches the fake too, under another name than the tests' address
    default = make_fake_bookstack()
    assert default.app_url == default.url.replace("127.0.0.1", "localhost")


def test_system_and_imports_gated_by_version(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    old = Api(make_fake_bookstack(version="v25.02.4"))
    assert old.get("/api/system").headers["Content-Type"].startswith("text/html")
    assert old.get("/api/imports").status_code == 404
    assert old.post("/api/imports", json={}).status_code == 405
    mid = Api(make_fake_bookstack(version="v25.05.0"))
    assert mid.ok("GET", "/api/system")["version"] == "v25.05.0"
    assert mid.get("/api/imports").status_code == 404
    new = Api(make_fake_bookstack(version="v25.11.2"))
    system = new.ok("GET", "/api/system")
    assert system["base_url"] == new.fake.app_url and system["version"] == "v25.11.2"
    assert new.ok("GET", "/api/imports") == {"data": [], "total": 0}


# -------------------------------------------------------------------------------------------- imports


def _book_zip() -> bytes:
    data = {
        "book": {
            "id": 1,
            "name": "Imported Book",
            "description_html": "<p>Book <strong>description</strong></p>",
            "tags": [{"name": " zeta ", "value": "1"}, {"name": "alpha"}],
            "chapters": [
                {"id": 11, "name": "Chapter second", "priority": 20, "pages": [{"id": 103, "name": "z", "priority": 2, "markdown": "# z"}, {"id": 104, "name": "y", "priority": 1, "markdown": "# y"}]},
                {
                    "id": 12,
                    "name": "Chapter first",
                    "priority": 5,
                    "description_html": "<p>see <a href=\"[[bsexport:page:101]]\">A</a></p>",
                    "pages": [
                        {
                            "id": 101,
                            "name": "Page A",
                            "markdown": "    indented\n\n[page B]([[bsexport:page:102]]) ![cat]([[bsexport:image:501]]) [[bsexport:page:999]]\n\n",
                            "tags": [{"name": "b-tag", "value": "x"}, {"name": "a-tag", "value": "y"}],
                            "images": [{"id": 501, "name": "cat", "file": "cat.png", "type": "gallery"}],
                            "attachments": [{"id": 601, "name": "notes.txt", "file": "notes.txt"}, {"id": 602, "name": "Link", "link": "https://e.com"}],
                        }
                    ],
                },
            ],
            "pages": [
                {"id": 102, "name": "Page B", "priority": 10, "html": "<p>link to <a href=\"[[bsexport:page:101]]\">A</a></p>"},
                {"id": 105, "name": "Page C no priority"},
                {"id": 106, "name": "Page D", "priority": 30, "html": "<p>h</p>", "markdown": "markdown **wins**"},
            ],
        }
    }  # fmt: skip
    return build_zip(data, {"cat.png": PNG, "notes.txt": b"notes"})


def test_import_book_upload_read_run_transcript_20(api: Api) -> None:
    payload = _book_zip()
    created = upload_zip(api, payload)
    assert created.status_code == 200
    record = created.json()
    assert record["type"] == "book" and record["name"] == "Imported Book" and record["size"] == len(payload)
    assert record["path"].startswith("uploads/files/imports/") and record["created_by"] == 1
    assert api.ok("GET", "/api/imports")["total"] == 1
    details = api.ok("GET", f"/api/imports/{record['id']}")["details"]
    assert [c["name"] for c in details["chapters"]] == ["Chapter second", "Chapter first"]
    assert details["pages"][1] == {"id": 105, "name": "Page C no priority", "attachments": [], "images": [], "tags": []}
    assert details["tags"] == [{"name": " zeta "}, {"name": "alpha"}]

    book = api.ok("POST", f"/api/imports/{record['id']}")
    assert book["type"] == "book" and book["slug"] == "imported-book" and book["description"] == "Book description"
    assert api.get(f"/api/imports/{record['id']}").status_code == 404
    read = api.ok("GET", f"/api/books/{book['id']}")
    assert [(c["name"], c["priority"]) for c in read["contents"]] == [
        ("Page C no priority", 2),
        ("Chapter first", 3),
        ("Page B", 4),
        ("Chapter second", 5),
        ("Page D", 6),
    ]
    assert [(p["name"], p["priority"]) for p in read["contents"][3]["pages"]] == [("y", 1), ("z", 2)]
    assert read["tags"] == [{"name": "zeta", "value": "1", "order": 0}, {"name": "alpha", "value": "", "order": 0}]
    page_a_id = read["contents"][1]["pages"][0]["id"]
    page_a = api.ok("GET", f"/api/pages/{page_a_id}")
    base = api.fake.app_url
    assert page_a["markdown"].startswith("    indented\n\n[page B](" + base + "/books/imported-book/page/page-b)")
    assert page_a["markdown"].endswith("[[bsexport:page:999]]\n\n")  # untrimmed; unknown ref stays literal
    assert "/scaled-1680-/cat.png)" in page_a["markdown"] and page_a["editor"] == "markdown"
    assert page_a["tags"][0] == {"name": "b-tag", "value": "x", "order": 0}
    page_b = api.ok("GET", f"/api/pages/{read['contents'][2]['id']}")
    assert f'href="{base}/books/imported-book/page/page-a"' in page_b["html"] and page_b["editor"] == "wysiwyg"
    page_c = api.ok("GET", f"/api/pages/{read['contents'][0]['id']}")
    assert page_c["html"] == "" and page_c["editor"] == "wysiwyg"
    assert api.ok("GET", f"/api/pages/{read['contents'][4]['id']}")["markdown"] == "markdown **wins**"
    chapter = api.ok("GET", f"/api/chapters/{read['contents'][1]['id']}")
    assert f"{base}/books/imported-book/page/page-a" in chapter["description_html"]
    atts = api.ok("GET", f"/api/attachments?filter[uploaded_to]={page_a_id}")["data"]
    assert [(a["name"], a["external"], a["order"]) for a in atts] == [("notes.txt", False, 1), ("Link", True, 2)]
    images = api.ok("GET", f"/api/image-gallery?filter[uploaded_to]={page_a_id}")["data"]
    assert [i["name"] for i in images] == ["cat"] and images[0]["path"].endswith("/cat.png")


def test_deadlock_fault_fails_the_run_as_section_12_and_keeps_the_import(api: Api) -> None:
    record = upload_zip(api, build_zip({"book": {"name": "Deadlocked", "pages": [{"name": "P"}]}})).json()
    api.fake.faults.deadlock_next()
    failed = api.post(f"/api/imports/{record['id']}")
    assert failed.status_code == 500
    message = failed.json()["error"]["message"]
    assert "SQLSTATE[40001]: Serialization failure: 1213 Deadlock found when trying to get lock" in message
    assert api.ok("GET", "/api/imports")["total"] == 1  # still pending, nothing created
    assert api.ok("GET", "/api/books")["total"] == 0
    book = api.ok("POST", f"/api/imports/{record['id']}")
    assert book["id"] > 2  # the rolled-back attempt's ids are gone (auto-increment)
    assert api.ok("GET", "/api/imports")["total"] == 0


def test_held_import_run_takes_its_ids_first_and_shows_nothing_until_released(api: Api) -> None:
    held = hold_import_run(api)
    other = held.other
    # meanwhile another token of the same user writes: it gets a higher id, and sees no imported book
    later = other.post(api.fake.url + "/api/books", json={"name": "Later"}, timeout=TIMEOUT).json()
    assert [b["name"] for b in other.get(api.fake.url + "/api/books", timeout=TIMEOUT).json()["data"]] == ["Later"]
    book = held.finish().json()
    assert book["id"] < later["id"]
    assert {r.token_id for r in api.fake.requests} == {"test-token-id", "second-token"}


def test_import_chapter_and_page_runs_need_parent_transcript_21(api: Api) -> None:
    ids = make_tree(api)
    chapter_zip = build_zip(
        {
            "chapter": {
                "name": "Appended",
                "pages": [
                    {"name": "p2", "priority": 2, "markdown": "2"},
                    {"name": "p1", "priority": 1, "markdown": "1"},
                ],
            }
        }
    )
    record = upload_zip(api, chapter_zip).json()
    no_parent = api.post(f"/api/imports/{record['id']}")
    assert no_parent.status_code == 422
    assert no_parent.json()["error"]["validation"] == {
        "parent_type": ["The parent type field is required."],
        "parent_id": ["The parent id field is required."],
    }
    for parent in ({"parent_type": "chapter", "parent_id": ids["chapter"]}, {"parent_type": "book", "parent_id": 999}):
        failed = api.post(f"/api/imports/{record['id']}", json=parent)
        assert failed.status_code == 500
        assert failed.json() == {
            "message": "ZIP import failed with the following errors: \nParent book required for chapter import.",
            "status": "error",
        }
    assert api.get(f"/api/imports/{record['id']}").status_code == 200  # still pending
    chapter = api.ok("POST", f"/api/imports/{record['id']}", json={"parent_type": "book", "parent_id": ids["book"]})
    assert chapter["type"] == "chapter" and chapter["priority"] == 4  # appended after priority 3
    pages = api.ok("GET", f"/api/chapters/{chapter['id']}")["pages"]
    assert [(p["name"], p["priority"]) for p in pages] == [("p1", 1), ("p2", 2)]
    page_record = upload_zip(api, build_zip({"page": {"name": "Into chapter", "markdown": "x"}})).json()
    page = api.ok(
        "POST", f"/api/imports/{page_record['id']}", data={"parent_type": "chapter", "parent_id": str(ids["chapter"])}
    )
    assert page["chapter_id"] == ids["chapter"] and page["priority"] == 2 and "markdown" not in page


def test_import_upload_errors_transcript_22(api: Api) -> None:
    def message(payload: bytes) -> str:
        response = upload_zip(api, payload)
        assert response.status_code == 422, response.text
        assert response.json()["status"] == "error"
        return str(response.json()["message"])

    prefix = "ZIP upload failed with the following validation errors: \n"
    assert message(b"not a zip at all") == prefix + "[format] Could not read ZIP file."
    assert (
        message(build_zip(None, {"a.txt": b"x"}))
        == prefix + "[format] Could not find and decode ZIP data.json content."
    )
    assert (
        message(build_zip(None, raw_json="{bad"))
        == prefix + "[format] Could not find and decode ZIP data.json content."
    )
    assert message(build_zip({"books": []})) == (
        prefix + "[format] ZIP file data has no expected book, chapter or page content."
    )
    assert message(build_zip({"page": {"markdown": "x"}})) == prefix + "[page.name] The name field is required."
    assert message(build_zip({"book": {"name": "b", "pages": [{"id": 1, "name": "a"}, {"id": 1, "name": "b"}]}})) == (
        prefix + "[book.pages.1.id] The id must be unique for the object type within the ZIP."
    )
    assert message(build_zip({"page": {"name": "p", "priority": "high"}})) == (
        prefix + "[page.priority] The priority must be an integer."
    )
    assert message(
        build_zip(
            {"page": {"name": "p", "images": [{"name": "i", "file": "x.png", "type": "gallery"}]}}, {"x.png": b"text"}
        )
    ) == prefix + (
        "[page.images.0.file] The file needs to reference a file of type image/png,image/jpeg,image/gif,image/webp, "
        "found text/plain."
    )
    assert message(build_zip({"page": {"name": "p", "attachments": [{"name": "a"}]}})) == prefix + (
        "[page.attachments.0.link] The link field is required when file is not present.\n"
        "[page.attachments.0.file] The file field is required when link is not present."
    )
    missing_image = upload_zip(
        api, build_zip({"page": {"name": "p", "images": [{"name": "i", "file": "nope.png", "type": "gallery"}]}})
    )
    assert missing_image.status_code == 500 and "fread()" in missing_image.json()["error"]["message"]
    no_file = api.post("/api/imports", json={"file": "x"})
    assert no_file.json()["error"]["validation"] == {"file": ["The file must be provided as a valid file."]}
    as_txt = upload_zip(api, build_zip({"page": {"name": "via txt"}}), filename="x.txt")
    assert as_txt.status_code == 200
    unknown = api.get("/api/imports/999999")
    assert unknown.json()["error"]["message"] == "No query results for model [BookStack\\Exports\\Import] 999999"
    assert api.delete(f"/api/imports/{as_txt.json()['id']}").status_code == 204


def test_import_truncates_long_names_and_tags_to_191(api: Api) -> None:
    long_name = "N" * 300
    record = upload_zip(
        api, build_zip({"book": {"name": long_name, "tags": [{"name": "t", "value": "v" * 300}]}})
    ).json()
    assert record["name"] == long_name  # the upload keeps it whole
    book = api.ok("POST", f"/api/imports/{record['id']}")
    assert book["name"] == "N" * 191
    assert api.ok("GET", f"/api/books/{book['id']}")["tags"][0]["value"] == "v" * 191


def test_import_needs_content_import_permission_transcript_25(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    api = Api(make_fake_bookstack(permissions={"access-api", "book-create-all", "page-create-all"}))
    response = upload_zip(api, build_zip({"page": {"name": "p"}}))
    assert response.status_code == 403
    assert response.json() == {"error": "You do not have permission to perform the requested action."}
    editor = Api(
        make_fake_bookstack(permissions={"access-api", "content-import", "book-create-all", "page-create-all"})
    )
    record = upload_zip(
        editor, build_zip({"book": {"name": "Editor import", "pages": [{"name": "md", "markdown": "# hi\n\ntext"}]}})
    )
    book = editor.ok("POST", f"/api/imports/{record.json()['id']}")
    first_page = editor.ok("GET", f"/api/books/{book['id']}")["contents"][0]
    page = editor.ok("GET", f"/api/pages/{first_page['id']}")
    assert page["editor"] == "wysiwyg" and page["markdown"] == "# hi\n\ntext"


def test_imports_of_other_users_are_seen_only_with_settings_manage(
    make_fake_bookstack: Callable[..., FakeBookStack],
) -> None:
    # ImportRepo::queryVisible / findVisible (v25.07 .. v26.03): other users' imports need settings-manage
    editor = Api(make_fake_bookstack(permissions={"access-api", "content-import", "book-create-all"}))
    mine = upload_zip(editor, build_zip({"book": {"name": "Mine"}})).json()["id"]
    theirs = upload_zip(editor, build_zip({"book": {"name": "Theirs"}})).json()["id"]
    editor.fake.state.imports[theirs].created_by = 2
    assert [i["id"] for i in editor.ok("GET", "/api/imports")["data"]] == [mine]
    assert editor.call("GET", f"/api/imports/{theirs}").status_code == 404
    assert editor.call("DELETE", f"/api/imports/{theirs}").status_code == 404
    admin = Api(make_fake_bookstack())
    for name in ("Mine", "Theirs"):
        upload_zip(admin, build_zip({"book": {"name": name}}))
    next(iter(admin.fake.state.imports.values())).created_by = 2
    assert [i["name"] for i in admin.ok("GET", "/api/imports")["data"]] == ["Mine", "Theirs"]


# ------------------------------------------------------------------------------------- log, snapshot


def test_request_log_and_snapshot_are_deterministic(make_fake_bookstack: Callable[..., FakeBookStack]) -> None:
    snapshots = []
    for _ in range(2):
        api = Api(make_fake_bookstack())
        ids = make_tree(api)
        api.ok("POST", "/api/shelves", json={"name": "Shelf", "books": [ids["book"]]})
        api.ok("POST", "/api/attachments", json={"name": "L", "uploaded_to": ids["page"], "link": "https://e.com"})
        api.ok("GET", "/api/books", params={"count": 5})
        snapshots.append(api.fake.snapshot())
        log = api.fake.requests
        assert (log[-1].method, log[-1].path, log[-1].query, log[-1].status) == (
            "GET",
            "/api/books",
            {"count": "5"},
            200,
        )
        assert log[0].body_size > 0 and log[0].body == {"name": "Demo Book", "description": "Book made by a test"}
        assert len(api.fake.writes()) == 6
        api.fake.requests.clear()
        assert api.fake.writes() == []
    assert snapshots[0] == snapshots[1]
    book = snapshots[0]["books"][0]
    assert snapshots[0]["shelves"][0]["books"] == ["Demo Book"]
    assert [c["name"] for c in book["contents"]] == ["Chapter One", "HTML Page"]
    assert book["contents"][0]["pages"][0]["attachments"] == ["L"]


def test_a_crash_inside_the_fake_is_a_500_and_fails_the_test() -> None:
    def broken(request: Any) -> Any:
        raise KeyError("a bug in the fake")

    with pytest.raises(AssertionError, match="crashed 1 time"), FakeBookStack() as fake:
        fake._api.handle = broken  # type: ignore[method-assign]
        response = requests.get(fake.url + "/api/books", headers={"Authorization": TOKEN}, timeout=TIMEOUT)
        assert response.status_code == 500
        assert response.json()["error"]["message"] == "KeyError: 'a bug in the fake'"
    assert "a bug in the fake" in fake.server_errors[0]


def test_fake_bookstack_fixture_is_started(fake_bookstack: FakeBookStack) -> None:
    response = requests.get(fake_bookstack.url + "/api/books", headers={"Authorization": TOKEN}, timeout=TIMEOUT)
    assert response.json() == {"data": [], "total": 0}
    assert fake_bookstack.version == "v25.11.0" and fake_bookstack.rate_limiter.limit is None


def test_main_entry_point() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fake_bookstack", "--port", "0", "--version", "v25.02.4"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = re.search(r"http://127\.0\.0\.1:\d+", line)
        assert url, line
        assert "Token test-token-id:test-token-secret" in process.stdout.readline()
        assert requests.get(url.group(0) + "/api/books", headers={"Authorization": TOKEN}, timeout=TIMEOUT).json() == {
            "data": [],
            "total": 0,
        }
    finally:
        process.terminate()
        process.wait(timeout=5)
