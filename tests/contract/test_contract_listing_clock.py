"""What the no-op probe reads from each listing: newest first by ``updated_at``, ``total``, and the
``Date`` header as the server's clock.

Settled from BookStack's source (v25.02 and v26.03): ``ListingResponseBuilder::sortQuery`` orders by
one listed field (``-`` = descending; ``updated_at`` is listed for shelves, books, chapters and pages in
their API controllers' ``list()``), with no second key, so items of one second come in no set order;
``total`` is the count of the filtered query before ``count``/``offset``. ``updated_at`` is written by
PHP (``Carbon::now()``) and the ``Date`` header comes from the same server's clock (Symfony's
``ResponseHeaderBag`` sets it when the response is made), unless a proxy in front replaces it — which
is what the last test would show.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from bookstack_sync.bookstack import BookStackClient
from tests.bookstack_target import BookStackTarget

pytestmark = pytest.mark.real_bookstack


def _at(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _newest_first(client: BookStackClient, kind: str, prefix: str) -> tuple[list[int], int]:
    body = client._object(
        "GET", f"/api/{kind}", params={"filter[name:like]": f"{prefix}%", "sort": "-updated_at", "count": 500}
    )
    return [int(item["id"]) for item in body["data"]], int(body["total"])


@pytest.mark.parametrize("kind", ["shelves", "books", "chapters", "pages"])
def test_every_listing_sorts_newest_first_by_updated_at(
    bookstack: BookStackTarget, client: BookStackClient, book: Any, kind: str
) -> None:
    prefix = bookstack.unique_name(f"order-{kind}")
    parent: dict[str, Any] = {"book_id": book["id"]} if kind in ("chapters", "pages") else {}
    content: dict[str, Any] = {"markdown": "x"} if kind == "pages" else {}
    first, second = (
        int(bookstack.create(kind, {"name": f"{prefix}-{n}", **parent, **content}, client)["id"]) for n in (1, 2)
    )
    bookstack.let_a_second_pass()  # BookStack's clock counts whole seconds
    client.update(kind, first, {"tags": [{"name": "bssync-order", "value": "touched"}]})
    assert _newest_first(client, kind, prefix) == ([first, second], 2)


def test_the_date_header_is_the_clock_that_stamps_updated_at(
    bookstack: BookStackTarget, client: BookStackClient, book: Any
) -> None:
    page = bookstack.create(
        "pages", {"book_id": book["id"], "name": bookstack.unique_name("p"), "markdown": "x"}, client
    )
    _, _, clock = client.list_first("pages", sort="-updated_at", filters={"book_id": book["id"]})
    assert clock is not None, "no Date header"
    written = _at(page["updated_at"])
    # a later answer's Date is not before the write's second, and not far after it
    assert written <= clock < written + timedelta(seconds=60), (written, clock)
