"""Validation's quick link pass finds every link the full pass finds, and the same heading texts.

A page whose links all check out is answered from pulldown-cmark's events without their ranges
(:attr:`Scan.inline_urls`); only a page with a problem is read again the full way, to say where. So the
quick pass must hold every URL the full pass locates (never fewer: a broken link would go unreported),
and give the same heading texts, on every CommonMark spec example and on generated pages.

A text without "<" is read from pulldown-cmark's HTML instead of its events (cheaper): that reading must
give exactly what the events give (same URLs in the same order, same heading texts), or step aside.
"""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookstack_sync.markdown.links import Scan, _events_pass, _html_pass, _link_pass

from .test_commonmark_spec import EXAMPLES, Example


def agree(markdown: str) -> None:
    html_and_events_agree(markdown)
    quick = Scan(markdown)
    full_destinations, full_headings = _link_pass(markdown)
    assert quick.plain_heading_texts == full_headings
    urls = quick.inline_urls
    if urls is None:
        return  # the full pass answers
    located = Counter((d.url, d.image) for d in full_destinations)
    assert not located - Counter(urls), "a destination the full pass finds is missing from the quick pass"


def html_and_events_agree(markdown: str) -> bool:
    """The HTML reading of a text without "<" and reference definitions is the events' reading, or None
    (then the events answer); whether it answered."""
    if "<" in markdown or "]:" in markdown:
        return False
    from_html = _html_pass(markdown)
    if from_html is None:
        return False
    assert from_html == _events_pass(markdown)
    return True


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.number}" for e in EXAMPLES])
def test_the_spec_examples_agree(example: Example) -> None:
    agree(example.markdown)
    # the examples again without "<", so that the HTML reading sees every construct
    agree(example.markdown.replace("<", ""))


def test_the_html_reading_answers_for_most_spec_examples() -> None:
    # not a test that cannot fail: a reading that always stepped aside would agree vacuously
    answered = sum(html_and_events_agree(e.markdown.replace("<", "")) for e in EXAMPLES)
    assert answered > 500


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
        "[p](a%20b.md)",
        "[q](<a b.md>)",
        "[a](it's&amp;.md \"t'&\")",
        "[x]()",
        "[x](#)",
        "# a &amp; b &copy &lt;",
        "## `c`",
        "## a  \nb",
        "Two\nlines\n---",
        "### x ###",
        "#",
        "![a \"q\" ' &](i&amp;'.png 'ti\"t')",
        "![![n](n.png)](o.png)",
        "\\[not](x.md)",
        "[a\\]](b\\(c\\).md)",
        "[u](b.md?x=1&y=2#f)",
        "[v](&#x25;.md)",
        "[w](&#39;.md)",
        '[t]("q".md)',
        "- [ ] [task](t.md)",
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


markdown_characters = st.lists(
    st.sampled_from([*"[]()!#<>&%'\"\\`*_~=-|: \n\tax.1é", "md", "](", "&amp;", "&#39;", "\n\n"]),
    max_size=60,
).map("".join)


@settings(max_examples=1500, deadline=None)
@given(markdown_characters)
def test_random_texts_read_alike_from_html_and_events(text: str) -> None:
    html_and_events_agree(text)
    html_and_events_agree(text.replace("<", ""))


def test_a_page_with_html_or_definitions_takes_the_full_pass() -> None:
    assert Scan("[a](b.md) <b>x</b>\n").inline_urls is None
    assert Scan("[a]\n\n[a]: b.md\n").inline_urls is None
    assert Scan("# T\n\n[a](b.md) ![i](p.png)\n").inline_urls == (("b.md", False), ("p.png", True))
