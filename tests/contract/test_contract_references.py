"""BookStack saves the pages that link to an item whose URL changes (``ReferenceUpdater``).

Settled from the source (v25.02 and v26.03): a rename or a move to another book changes an item's URL;
each page with a link resolving to it — an href starting with BookStack's own address (``APP_URL``),
its ``/books/…`` URL or a page's ``/link/<id>`` — is saved again: the old URL replaced in its hrefs and
markdown links, ``revision_count`` + 1, a new ``updated_at``. A relative ``/link/<id>`` (what the sync
writes) is no reference and leaves the linking page alone. So a page of the docs that links to another
wiki page by its full address changes in BookStack — a new revision — when that page is renamed.

BookStack's own address is taken from the ``url`` of the page in its book's ``contents``, never from the
test's address.
"""

from __future__ import annotations

from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient
from tests.bookstack_target import BookStackTarget

pytestmark = pytest.mark.real_bookstack


def _page(bookstack: BookStackTarget, client: BookStackClient, book: Any, markdown: str = "Target") -> dict[str, Any]:
    return bookstack.create(
        "pages", {"book_id": book["id"], "name": bookstack.unique_name("p"), "markdown": markdown}, client
    )


def _url(client: BookStackClient, book: Any, page_id: int) -> str:
    """The page's address as BookStack builds it (from APP_URL): a book read lists it."""
    return next(str(item["url"]) for item in client.read("books", book["id"])["contents"] if item["id"] == page_id)


def _renamed(bookstack: BookStackTarget, client: BookStackClient, book: Any, page: dict[str, Any]) -> str:
    bookstack.let_a_second_pass()  # whole seconds: the linking page's save must show in updated_at
    client.update("pages", page["id"], {"name": bookstack.unique_name("renamed")})
    return _url(client, book, page["id"])


def test_a_page_linking_by_full_url_is_rewritten_when_the_target_is_renamed(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    target = _page(bookstack, client, book)
    url = _url(client, book, target["id"])
    linking = _page(bookstack, client, book, f"See [the target]({url}) here.")
    renamed = _renamed(bookstack, client, book, target)
    assert renamed != url
    after = client.read("pages", linking["id"])
    assert after["revision_count"] == linking["revision_count"] + 1
    assert after["updated_at"] > linking["updated_at"]
    assert f"[the target]({renamed})" in after["markdown"]
    assert renamed in after["html"]


def test_a_full_permalink_makes_the_linking_page_saved_again_unchanged(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    target = _page(bookstack, client, book)
    app_url = _url(client, book, target["id"]).split("/books/")[0]
    text = f"See [the target]({app_url}/link/{target['id']})."
    linking = _page(bookstack, client, book, text)
    _renamed(bookstack, client, book, target)
    after = client.read("pages", linking["id"])
    assert after["revision_count"] == linking["revision_count"] + 1
    assert after["markdown"] == text


def test_a_relative_link_is_no_reference(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    target = _page(bookstack, client, book)
    linking = _page(bookstack, client, book, f"See [the target](/link/{target['id']}).")
    _renamed(bookstack, client, book, target)
    after = client.read("pages", linking["id"])
    assert (after["revision_count"], after["updated_at"]) == (linking["revision_count"], linking["updated_at"])
