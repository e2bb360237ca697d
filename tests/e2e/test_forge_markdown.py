"""Forge Markdown reaches BookStack as BookStack's own, and a converted page is not rewritten on every run."""

from __future__ import annotations

from typing import Any

import pytest

from tests.bookstack_target import BookStackTarget

from .conftest import MANAGED_TAG, Docs, Plugin, managed_objects

BODY = (
    "> [!WARNING]\n> Read https://example.com/first[^why].\n\n"
    "See www.example.org and `https://example.com/code`.\n\n"
    "[^why]: Because it matters.\n"
)
CONVERTED = (
    '<p class="callout warning"><strong>Warning</strong><br>\n'
    'Read <a href="https://example.com/first">https://example.com/first</a>'
    '<sup><a href="#bkmrk-fn-1" id="bkmrk-fnref-1">1</a></sup>.</p>\n\n'
    "See [www.example.org](<http://www.example.org>) and `https://example.com/code`.\n\n"
    "---\n\n"
    '1. <a id="bkmrk-fn-1"></a>Because it matters. <a href="#bkmrk-fnref-1">↩</a>'
)
PAGE = "eng/ops/runbooks/02-forge.md"

pytestmark = pytest.mark.real_bookstack


def _stored(bookstack: BookStackTarget, docs: Docs) -> dict[str, Any]:
    key = docs.key(PAGE)
    hits = managed_objects(bookstack, docs.prefix)
    [hit] = [h for h in hits if any(t["name"] == MANAGED_TAG and t["value"] == key for t in h["tags"])]
    return bookstack.client().read("pages", int(hit["id"]))


def test_alerts_footnotes_and_bare_urls_arrive_converted_and_stay_unchanged(
    plugin: Plugin, bookstack: BookStackTarget, docs: Docs
) -> None:
    docs.page(PAGE, "Forge", BODY)
    assert plugin.run().exit_code == 0
    page = _stored(bookstack, docs)
    assert page["markdown"] == CONVERTED
    assert 'class="callout warning"' in page["html"]
    revisions = page["revision_count"]
    if bookstack.fake is not None:
        bookstack.fake.requests.clear()
    second = plugin.run()
    assert second.exit_code == 0, second.err
    assert _stored(bookstack, docs)["revision_count"] == revisions  # the stored hash covers the converted text
    if bookstack.fake is not None:
        assert bookstack.fake.content_writes() == []


def test_the_setting_turns_the_conversions_off(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    docs.page(PAGE, "Forge", BODY)
    assert plugin.run(forge_markdown="false").exit_code == 0
    assert _stored(bookstack, docs)["markdown"] == BODY.rstrip("\n")
    # switching it on changes the rendering, so the page is written once more
    assert plugin.run().exit_code == 0
    assert _stored(bookstack, docs)["markdown"] == CONVERTED
