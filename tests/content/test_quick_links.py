"""Validation's quick link pass finds every link the full pass finds, and the same heading texts.

A page whose links all check out is answered from pulldown-cmark's events without their ranges
(:attr:`Scan.inline_urls`); only a page with a problem is read again the full way, to say where. So the
quick pass must hold every URL the full pass locates (never fewer: a broken link would go unreported),
and give the same heading texts, on every CommonMark spec example and on generated pages.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookstack_sync.markdown.links import Scan, _link_pass

from .test_commonmark_spec import EXAMPLES, Example


def agree(markdown: str) -> None:
    quick = Scan(markdown)
    full_destinations, full_headings = _link_pass(markdown)
    assert quick.plain_heading_texts == full_headings
    urls = quick.inline_urls
    if urls is None:
        return  # the full pass answers
    located = Counter((d.url, d.image) for d in full_destinations)
    assert not located - Counter(urls), "a destination the full pass finds is missing from the quick pass"


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.number}" for e in EXAMPLES])
def test_the_spec_examples_agree(example: Example) -> None:
    agree(example.markdown)


pieces = st.sampled_from(
    [
        "[a](b.md)",
        "[a](<c d.md>)",
        '[a](e.md "t")',
        "![i](p.png)",
        "![i [l](x.md)](p.png)",
        "[![i](p.png)](q.md)",
        "[r][ref]",
        "[ref]: r.md",
        "[ref]",
        "`[c](code.md)`",
        "\\[e](esc.md)",
        "<a href='h.md'>h</a>",
        "<img src=s.png>",
        "[a](b.md#frag)",
        "[a](#here)",
        "*[e](em.md)*",
        "# H",
        "## [l](h.md)",
        "## *x*",
        "Title\n===",
        "> [q](q.md)",
        "- [l](li.md)",
        "```\n[f](fence.md)\n```",
        "    [i](indent.md)",
        "| a | [t](t.md) |\n| - | - |\n| [c](c.md) | b |",
        "~~[s](s.md)~~",
        "[a](b.md) [c](d.md)",
        "[ü](ü.md)",
        "&amp;[x](y&amp;.md)",
        "text",
        "[",
        "](",
        ")",
    ]
)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(pieces, min_size=1, max_size=4).map(" ".join), min_size=1, max_size=6))
def test_generated_pages_agree(blocks: list[str]) -> None:
    agree("\n\n".join(blocks) + "\n")


def test_a_page_with_html_or_definitions_takes_the_full_pass() -> None:
    assert Scan("[a](b.md) <b>x</b>\n").inline_urls is None
    assert Scan("[a]\n\n[a]: b.md\n").inline_urls is None
    assert Scan("# T\n\n[a](b.md) ![i](p.png)\n").inline_urls == (("b.md", False), ("p.png", True))
