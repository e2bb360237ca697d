"""Forge Markdown (alerts, footnotes, bare URLs) rendered as BookStack's own, to exactly the expected text."""

from __future__ import annotations

import re
from pathlib import Path

import pyromark
import pytest

from bookstack_sync.markdown.forge_markdown import forge_to_bookstack
from bookstack_sync.markdown.links import BOOKSTACK_OPTIONS

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "forge"
CASES = ["alerts", "footnotes", "autolinks", "mixed"]


def _bookstack_html(markdown: str) -> str:
    # pulldown-cmark with BookStack's extensions stands in for league/commonmark (same CommonMark rules)
    return pyromark.html(markdown, options=BOOKSTACK_OPTIONS)


@pytest.mark.parametrize("name", CASES)
def test_converted_exactly_as_expected(name: str) -> None:
    source = (FIXTURES / f"{name}.md").read_text(encoding="utf-8")
    expected = (FIXTURES / "expected" / f"{name}.md").read_text(encoding="utf-8")
    assert forge_to_bookstack(source) == expected


def test_every_alert_kind_is_its_callout() -> None:
    html = _bookstack_html(forge_to_bookstack((FIXTURES / "alerts.md").read_text(encoding="utf-8")))
    callouts = re.findall(r'<p class="callout (\w+)"><strong>(\w+)</strong>', html)
    assert callouts == [("info", "Note"), ("success", "Tip"), ("info", "Important"), ("warning", "Warning")]
    # an alert holding a list cannot be a <p> callout: it stays a quote, its title readable
    assert "<blockquote>\n<p><strong>Caution</strong></p>\n<ul>" in html
    assert "[!CAUTION]" not in html and html.count("[!NOTE]") == 1  # the one in a plain quote


@pytest.mark.parametrize(("name", "unreferenced"), [("footnotes", {"bkmrk-fn-3"}), ("mixed", set())])
def test_footnotes_link_both_ways_within_the_page(name: str, unreferenced: set[str]) -> None:
    html = _bookstack_html(forge_to_bookstack((FIXTURES / f"{name}.md").read_text(encoding="utf-8")))
    ids = set(re.findall(r'id="(bkmrk-[^"]+)"', html))
    targets = re.findall(r'href="#(bkmrk-[^"]+)"', html)
    # every reference reaches its note and every note links back to each of its references
    assert targets and set(targets) == ids - unreferenced
    assert all(i.startswith("bkmrk") for i in ids)  # BookStack keeps ids starting with bkmrk, renames others


def test_text_without_forge_syntax_is_unchanged() -> None:
    text = "# Title\n\nA [link](x.md), `code`, <b>html</b> and a > quote.\n\n> [!NOTE] not an alert: text follows.\n"
    assert forge_to_bookstack(text) == text


def test_code_is_never_touched() -> None:
    text = "```\n> [!NOTE]\n> x https://a.example [^1]\n```\n\n    www.example.com\n\n[^1]: n\n"
    converted = forge_to_bookstack(text)
    assert converted.startswith("```\n> [!NOTE]\n> x https://a.example [^1]\n```\n\n    www.example.com\n")


def test_non_ascii_text_keeps_its_offsets() -> None:
    text = "Ünïcödé 🎉 日本語 https://example.com/ü?q=🎉 end[^n].\n\n[^n]: 注 🎉\n"
    assert forge_to_bookstack(text) == (
        'Ünïcödé 🎉 日本語 <https://example.com/ü?q=🎉> end<sup><a href="#bkmrk-fn-1" id="bkmrk-fnref-1">1</a></sup>.'
        '\n\n---\n\n1. <a id="bkmrk-fn-1"></a>注 🎉 <a href="#bkmrk-fnref-1">↩</a>\n'
    )
