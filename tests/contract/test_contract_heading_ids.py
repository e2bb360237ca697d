"""The ids BookStack gives a page's elements when it stores the page (``PageContent::formatHtml``).

The sync turns a link to a heading into ``#bkmrk-…``; it must be the id BookStack gives that heading.
Settled from BookStack's source (``setUniqueId``: the element's text trimmed, ASCII whitespace runs to
'-', ASCII-only lowercase, 20 characters, ``urlencode``) and, for ``Über ~ Straße``, a real v25.02.
"""

from __future__ import annotations

import re
from typing import Any

from bookstack_sync.bookstack import BookStackClient
from tests.bookstack_target import BookStackTarget

MARKDOWN = """\
## Über ~ Straße

> ## Inside quote

## Setup

## Setup

<div id="custom">x</div>

See [the custom block](#custom).

## Configuration options for X
"""


def ids(html: str) -> list[str]:
    return re.findall(r'\bid="([^"]*)"', html)


def test_heading_ids_are_made_from_their_text(bookstack: BookStackTarget, client: BookStackClient, book: Any) -> None:
    page = bookstack.create(
        "pages", {"book_id": book["id"], "name": bookstack.unique_name("ids"), "markdown": MARKDOWN}, client
    )
    html = client.read("pages", page["id"])["html"]
    assert ids(html) == [
        "bkmrk-%C3%9Cber-%7E-stra%C3%9Fe",  # only ASCII is lowercased; '~' is encoded (PHP urlencode)
        "bkmrk-inside-quote",  # the block quote, a top-level element
        "bkmrk-inside-quote-1",  # the heading inside it: headings get an id at any depth
        "bkmrk-setup",
        "bkmrk-setup-1",
        "bkmrk-x",  # an id not starting with bkmrk is replaced ...
        "bkmrk-see-the-custom-block",
        "bkmrk-configuration-option",  # 20 characters of text
    ]
    assert 'href="#bkmrk-x"' in html  # ... and the links to it follow
