"""Checking a link's ``#fragment`` without rendering the page gives the rendered page's answer.

Validation asks, for every link with a fragment, whether the target page has that anchor. The full
answer renders the page, builds its DOM and assigns BookStack's ids (:func:`anchors_of`); a page with no
raw HTML whose headings hold only text is answered from its headings' text instead. Both must agree
on every CommonMark spec example and on generated pages.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bookstack_sync.markdown.headings import _plain_heading_slugs, anchors_of, has_fragment, match_fragment
from bookstack_sync.markdown.links import plain_heading_texts

from .test_commonmark_spec import EXAMPLES, Example

FRAGMENTS = ["foo", "Foo", "foo-1", "foo-2", "bar", "foo-bar", "c", "x-1", "", "-1", "bkmrk-foo", "ünï"]


def agree(markdown: str, extra: list[str]) -> None:
    anchors = anchors_of(markdown)
    for fragment in {*anchors.by_key, *(key.upper() for key in anchors.by_key), *anchors.ids, *FRAGMENTS, *extra}:
        assert has_fragment(markdown, fragment) == (match_fragment(fragment, anchors) is not None), fragment


@pytest.mark.parametrize("example", EXAMPLES, ids=[f"{e.number}" for e in EXAMPLES])
def test_the_spec_examples_answer_alike(example: Example) -> None:
    agree(example.markdown, [])


words = st.sampled_from(
    [
        "Foo",
        "foo",
        "bar",
        "Ünïcode",
        "C#",
        "a-b",
        "x",
        "1.2",
        "Foo-1",
        "日本",
        "🙂",
        "ß",
        "İ",
        "ﬁ",
        "-",
        "!!!",
        "*em*",
        "_u_",
        "`code`",
        "&amp;",
        "&#35;",
        "\\#",
        "#",
        "[l](u)",
        "![i](p.png)",
        "~~s~~",
        "<b>x</b>",
        "\t",
        "  ",
    ]
)
heading_text = st.lists(words, max_size=4).map(" ".join)
block = st.one_of(
    heading_text.map(lambda t: "## " + t),
    st.tuples(st.integers(1, 6), heading_text, st.sampled_from(["", " #", " ###", "  "])).map(
        lambda p: "#" * p[0] + " " + p[1] + p[2]
    ),
    st.tuples(heading_text, st.sampled_from(["===", "---"])).map(lambda p: f"{p[0]}\n{p[1]}"),
    heading_text.map(lambda t: "> # " + t),
    heading_text.map(lambda t: "- ## " + t),
    heading_text,
    st.just("```\n# not a heading\n```"),
)


@settings(max_examples=400, deadline=None)
@given(blocks=st.lists(block, min_size=1, max_size=6), fragment=heading_text)
def test_generated_pages_answer_alike(blocks: list[str], fragment: str) -> None:
    agree("\n\n".join(blocks) + "\n", [fragment, fragment.lower().replace(" ", "-")])


def test_plain_headings_are_answered_without_rendering() -> None:
    page = "# Title\n\nText with [a link](other.md#setup).\n\n## Setup\n\n## Setup\n\n```\n# code\n```\n"
    assert plain_heading_texts(page) == ("Title", "Setup", "Setup")
    assert _plain_heading_slugs(page) == frozenset({"title", "setup", "setup-1"})
    assert has_fragment(page, "setup-1") and has_fragment(page, "Setup") and not has_fragment(page, "setup-2")


@pytest.mark.parametrize(
    "page",
    ["## *Setup*\n", "## Set`up`\n", "Two\nlines\n===\n", "## A <b>b</b>\n", "<div>x</div>\n\n## Plain\n"],
)
def test_pages_whose_headings_are_more_than_text_are_rendered(page: str) -> None:
    assert _plain_heading_slugs(page) is None
