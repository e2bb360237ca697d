"""ZIP exports as a bulk read (``bookstack-zip-import.md`` §2-§4, §10; v26 transcript 23).

What the full resync relies on: one ``GET /api/books/{id}/export/zip`` gives every page's name and stored
markdown (absent for a page without markdown), with absolute links to items inside the export replaced by
``[[bsexport:<type>:<real id>]]`` and relative ``/link/<id>`` links left alone. "Absolute" means starting with
BookStack's APP_URL, which need not be the address the tests (or the plugin) reach it at (§12).
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient, NotFoundError
from tests.bookstack_target import BookStackTarget
from tests.contract.conftest import png, version_tuple

pytestmark = pytest.mark.real_bookstack


@pytest.fixture
def exports_supported(client: BookStackClient) -> None:
    info = client.system()  # None before v25.05
    if info is None or version_tuple(str(info.get("version"))) < (25, 7):
        pytest.skip("this BookStack has no ZIP export API (v25.07+)")


def _data(archive: bytes) -> dict[str, Any]:
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        data = json.loads(zf.read("data.json"))
    assert isinstance(data, dict)
    return data


def _pages(book: dict[str, Any]) -> dict[int, dict[str, Any]]:
    pages = list(book.get("pages", []))
    for chapter in book.get("chapters", []):
        pages += chapter.get("pages", [])
    return {int(p["id"]): p for p in pages}


@pytest.mark.usefixtures("exports_supported")
def test_a_book_export_holds_every_page_with_references_replaced(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": "Chapter"}, client)
    target = bookstack.create(
        "pages", {"chapter_id": chapter["id"], "name": "Target", "markdown": "# Target", "priority": 3}, client
    )
    info = client.system()
    assert info is not None
    app_url = str(info["base_url"])  # APP_URL, from BookStack's own answer
    linking = bookstack.create(
        "pages",
        {
            "book_id": book["id"],
            "name": "Linking",
            "markdown": f"[abs]({app_url}/link/{target['id']}#part) and [rel](/link/{target['id']})",
            "tags": [{"name": "b", "value": "2"}, {"name": "a", "value": "1"}],
            "priority": 7,
        },
        client,
    )
    html_page = bookstack.create("pages", {"book_id": book["id"], "name": "Html", "html": "<p>x</p>"}, client)

    data = _data(client.export_zip("books", book["id"]))

    assert set(data) >= {"book", "exported_at", "instance"}
    assert data["instance"]["version"] == info["version"]
    exported = data["book"]
    assert (exported["id"], exported["name"]) == (book["id"], book["name"])
    assert [c["id"] for c in exported["chapters"]] == [chapter["id"]]
    pages = _pages(exported)
    assert set(pages) == {target["id"], linking["id"], html_page["id"]}
    assert pages[target["id"]]["markdown"].strip() == "# Target"
    assert pages[linking["id"]]["markdown"] == (
        f"[abs]([[bsexport:page:{target['id']}]]#part) and [rel](/link/{target['id']})"
    )
    assert pages[linking["id"]]["name"] == "Linking"
    assert pages[linking["id"]]["priority"] == 7
    assert pages[linking["id"]]["tags"] == [{"name": "b", "value": "2"}, {"name": "a", "value": "1"}]
    assert "markdown" not in pages[html_page["id"]]  # no markdown: the key is absent (zip §10)
    assert pages[html_page["id"]]["html"]


@pytest.mark.usefixtures("exports_supported")
def test_a_link_with_another_address_than_app_url_is_not_a_reference(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    info = client.system()
    assert info is not None
    if client.base_url.rstrip("/") == str(info["base_url"]).rstrip("/"):
        pytest.skip("this BookStack is reached at its APP_URL")
    target = bookstack.create("pages", {"book_id": book["id"], "name": "Target", "markdown": "t"}, client)
    markdown = f"[internal address]({client.base_url}/link/{target['id']})"
    linking = bookstack.create("pages", {"book_id": book["id"], "name": "Linking", "markdown": markdown}, client)
    pages = _pages(_data(client.export_zip("books", book["id"]))["book"])
    assert pages[linking["id"]]["markdown"] == markdown  # kept as a plain URL: dead for readers (§12)


@pytest.mark.usefixtures("exports_supported")
def test_the_export_is_an_octet_stream_download(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    response = client._request("GET", f"/api/books/{book['id']}/export/zip")
    assert response.headers["Content-Type"] == "application/octet-stream"  # not application/zip (zip §10)
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and f"{book['slug']}.zip" in disposition
    assert response.content.startswith(b"PK")
    assert client.stats.by_endpoint()["GET /api/books/{id}/export/zip"] == 1


@pytest.mark.usefixtures("exports_supported")
def test_chapter_and_page_exports_have_their_own_top_level_key(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": "Chapter"}, client)
    page = bookstack.create("pages", {"chapter_id": chapter["id"], "name": "P", "markdown": "p"}, client)
    by_chapter = _data(client.export_zip("chapters", chapter["id"]))
    assert "book" not in by_chapter and by_chapter["chapter"]["id"] == chapter["id"]
    assert [p["id"] for p in by_chapter["chapter"]["pages"]] == [page["id"]]
    by_page = _data(client.export_zip("pages", page["id"]))
    assert by_page["page"]["id"] == page["id"] and by_page["page"]["markdown"] == "p"


@pytest.mark.usefixtures("exports_supported")
def test_export_of_a_missing_book_is_a_404(client: BookStackClient) -> None:
    with pytest.raises(NotFoundError):
        client.export_zip("books", 999_999_999)


@pytest.mark.usefixtures("exports_supported")
def test_an_export_imports_back_as_a_copy(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    chapter = bookstack.create("chapters", {"book_id": book["id"], "name": "Chapter"}, client)
    bookstack.create("pages", {"chapter_id": chapter["id"], "name": "In chapter", "markdown": "# In"}, client)
    bookstack.create("pages", {"book_id": book["id"], "name": "Loose", "markdown": "loose"}, client)
    pending = client.upload_import("copy.zip", client.export_zip("books", book["id"]))  # round trip (zip §10)
    bookstack.track("imports", pending["id"])
    copy = client.read("books", bookstack.track("books", client.run_import(pending["id"])["id"]))
    assert copy["name"] == book["name"] and copy["id"] != book["id"]
    names = sorted(
        [item["name"] for item in copy["contents"]]
        + [p["name"] for item in copy["contents"] for p in item.get("pages", [])]
    )
    assert names == ["Chapter", "In chapter", "Loose"]


@pytest.mark.usefixtures("exports_supported")
def test_images_referenced_in_content_travel_as_references(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = bookstack.create("pages", {"book_id": book["id"], "name": "Pic", "markdown": "none yet"}, client)
    image = client.upload_image(page["id"], "dot.png", png(), name="dot")
    client.update("pages", page["id"], {"markdown": f"![dot]({image['url']})"})
    archive = client.export_zip("books", book["id"])
    exported = _pages(_data(archive)["book"])[page["id"]]
    assert exported["markdown"] == f"![dot]([[bsexport:image:{image['id']}]])"
    (listed,) = exported["images"]
    assert (listed["id"], listed["type"]) == (image["id"], "gallery")
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        assert zf.read(f"files/{listed['file']}").startswith(b"\x89PNG")


def test_a_page_markdown_export_is_the_name_then_the_markdown_or_the_html_converted(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    """``ExportFormatter::pageToMarkdown``: "# <name>", a blank line, then the stored markdown as it is, or
    ``HtmlToMarkdown`` of the HTML (league/html-to-markdown: ATX headings, ``**`` bold, ids dropped) for a
    page saved in the WYSIWYG editor. What `export` reads for such pages (every version the plugin supports)."""
    markdown_page = bookstack.create(
        "pages", {"book_id": book["id"], "name": "Stored", "markdown": "Text with [a](/link/1).\n\n## Part"}, client
    )
    html_page = bookstack.create(
        "pages",
        {"book_id": book["id"], "name": "Written", "html": "<h2>Steps</h2><p>Do the <strong>thing</strong>.</p>"},
        client,
    )
    stored = client.fetch_web(f"/api/pages/{markdown_page['id']}/export/markdown")
    assert stored.status_code == 200
    assert stored.content.decode() == "# Stored\n\nText with [a](/link/1).\n\n## Part"
    written = client.fetch_web(f"/api/pages/{html_page['id']}/export/markdown")
    assert written.status_code == 200
    assert written.content.decode().strip() == "# Written\n\n## Steps\n\nDo the **thing**."
