"""Images, attachments and ZIP imports (``bookstack-api.md`` §2, §7; ``bookstack-zip-import.md`` §5, §8)."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient, NotFoundError, ValidationError
from tests.bookstack_target import BookStackTarget
from tests.contract.conftest import png, version_tuple

pytestmark = pytest.mark.real_bookstack


@pytest.fixture
def page(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> dict[str, Any]:
    payload = {"book_id": book["id"], "name": bookstack.unique_name("page"), "markdown": "Body"}
    return bookstack.create("pages", payload, client)


# -- image gallery -----------------------------------------------------------------------------------


def test_image_upload_and_replace(bookstack: BookStackTarget, client: BookStackClient, page: Any) -> None:
    image = client.upload_image(page["id"], "red.png", png((200, 0, 0)), name="Red dot")
    bookstack.track("image-gallery", image["id"])
    assert image["type"] == "gallery"
    assert image["uploaded_to"] == page["id"]
    assert image["name"] == "Red dot"
    assert image["url"].startswith(("http://", "https://"))
    for key in ("thumbs", "content"):
        assert key in image  # ready-made markdown snippet lives in content.markdown (api §7)
    assert "](" in image["content"]["markdown"]

    replaced = client.replace_image(image["id"], "blue.png", png((0, 0, 200)), name="Blue dot")
    assert replaced["id"] == image["id"]
    assert replaced["name"] == "Blue dot"
    listed = list(client.list("image-gallery", filters={"uploaded_to": page["id"]}))
    assert [i["id"] for i in listed] == [image["id"]]


def test_image_upload_needs_an_existing_page(bookstack: BookStackTarget, client: BookStackClient) -> None:
    with pytest.raises((ValidationError, NotFoundError)):
        client.upload_image(999_999_999, "x.png", png())


def test_image_upload_rejects_non_images(bookstack: BookStackTarget, client: BookStackClient, page: Any) -> None:
    with pytest.raises(ValidationError) as info:
        client.upload_image(page["id"], "notes.txt", b"just text")
    assert "image" in info.value.fields


# -- attachments -------------------------------------------------------------------------------------


def test_file_and_link_attachments(bookstack: BookStackTarget, client: BookStackClient, page: Any) -> None:
    data = b"col1,col2\n1,2\n"
    file_att = client.create_attachment(page["id"], "Data file", filename="data.csv", data=data)
    bookstack.track("attachments", file_att["id"])
    link_att = client.create_attachment(page["id"], "Spec link", link="https://example.com/spec")
    bookstack.track("attachments", link_att["id"])
    assert file_att["external"] is False and file_att["uploaded_to"] == page["id"]
    assert link_att["external"] is True

    read_file = client.read("attachments", file_att["id"])
    assert base64.b64decode(read_file["content"]) == data  # files come back base64 (api §2 Attachments)
    assert client.read("attachments", link_att["id"])["content"] == "https://example.com/spec"

    client.update_attachment(file_att["id"], name="Data v2", filename="data.csv", data=b"new\n")
    assert base64.b64decode(client.read("attachments", file_att["id"])["content"]) == b"new\n"
    client.update_attachment(link_att["id"], link="https://example.com/other")
    assert client.read("attachments", link_att["id"])["content"] == "https://example.com/other"

    listed = list(client.list("attachments", filters={"uploaded_to": page["id"]}))
    assert sorted(a["id"] for a in listed) == sorted([file_att["id"], link_att["id"]])
    client.delete("attachments", link_att["id"])
    with pytest.raises(NotFoundError):
        client.read("attachments", link_att["id"])


def test_attachment_needs_a_name(bookstack: BookStackTarget, client: BookStackClient, page: Any) -> None:
    with pytest.raises(ValidationError) as info:
        client.create_attachment(page["id"], "", link="https://example.com")
    assert "name" in info.value.fields


def test_javascript_links_are_refused(bookstack: BookStackTarget, client: BookStackClient, page: Any) -> None:
    with pytest.raises(ValidationError) as info:
        client.create_attachment(page["id"], "bad", link="javascript:alert(1)")
    assert "link" in info.value.fields


# -- ZIP imports (v25.07+) ---------------------------------------------------------------------------


def _zip(data: dict[str, Any]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        zf.writestr("data.json", json.dumps(data))
    return buffer.getvalue()


@pytest.fixture
def imports_supported(client: BookStackClient) -> None:
    info = client.system()  # feature detection (api §2 "Others"); None before v25.05
    if info is None or version_tuple(str(info.get("version"))) < (25, 7):
        pytest.skip("this BookStack has no imports API (v25.07+)")


@pytest.mark.usefixtures("imports_supported")
def test_import_a_book(bookstack: BookStackTarget, client: BookStackClient) -> None:
    name = bookstack.unique_name("imported")
    payload = {
        "book": {
            "name": name,
            "tags": [{"name": "k", "value": "v"}],
            "chapters": [{"name": "Chapter", "pages": [{"name": "In chapter", "markdown": "# A"}]}],
            "pages": [{"name": "Loose", "markdown": "    indented stays\n\n"}],
        }
    }
    pending = client.upload_import("book.zip", _zip(payload))
    bookstack.track("imports", pending["id"])
    assert pending["type"] == "book" and pending["name"] == name
    created = client.run_import(pending["id"])
    book = client.read("books", bookstack.track("books", created["id"]))
    assert book["name"] == name
    kinds = sorted(item["type"] for item in book["contents"])
    assert kinds == ["chapter", "page"]
    with pytest.raises(NotFoundError):  # a run import is deleted (zip §5)
        client.read("imports", pending["id"])


@pytest.mark.usefixtures("imports_supported")
def test_import_content_errors_use_the_other_shape(bookstack: BookStackTarget, client: BookStackClient) -> None:
    with pytest.raises(ValidationError) as info:
        client.upload_import("bad.zip", _zip({"page": {"markdown": "no name"}}))
    assert info.value.fields == {"page.name": ["The name field is required."]}
    with pytest.raises(ValidationError) as info2:
        client.upload_import("bad.zip", b"not a zip at all")
    assert "format" in info2.value.fields


@pytest.mark.usefixtures("imports_supported")
def test_import_a_page_into_a_book(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    pending = client.upload_import("page.zip", _zip({"page": {"name": bookstack.unique_name("zp"), "markdown": "x"}}))
    bookstack.track("imports", pending["id"])
    with pytest.raises(ValidationError):  # page imports need a parent (zip §8)
        client.run_import(pending["id"])
    created = client.run_import(pending["id"], parent_type="book", parent_id=book["id"])
    bookstack.track("pages", created["id"])
    assert created["book_id"] == book["id"]
