"""Title heading, drafts, deprecation, redirects and tags: what a reader of the BookStack page sees."""

from __future__ import annotations

import pytest

from bookstack_sync.markdown.content import Reference, RefKind, is_published, page_tags, render_page

from .conftest import PAGE, BuildTree, MapResolver, NoneResolver, page_text

TITLE_CASES = [
    ("atx equal", "# Intro\n\nText.", "Text."),
    ("trimmed and case-folded", "#   iNTRO  \n\nText.", "Text."),
    ("closing hashes", "# Intro #\n\nText.", "Text."),
    ("setext", "Intro\n=====\n\nText.", "Text."),
    ("after blank lines", "\n\n# Intro\nText.", "Text."),
    ("markup around the title", "# **Intro**\n\nText.", "Text."),
    ("different h1 stays", "# Introduction\n\nText.", "# Introduction\n\nText."),
    ("h2 stays", "## Intro\n\nText.", "## Intro\n\nText."),
    ("setext h2 stays", "Intro\n-----\n\nText.", "Intro\n-----\n\nText."),
    ("not leading", "Text.\n\n# Intro", "Text.\n\n# Intro"),
    ("inside a quote", "> # Intro\n\nText.", "> # Intro\n\nText."),
    ("in a code block", "```\n# Intro\n```", "```\n# Intro\n```"),
    ("only the first one", "# Intro\n\n# Intro", "# Intro"),
]


@pytest.mark.parametrize(("body", "expected"), [pytest.param(b, e, id=n) for n, b, e in TITLE_CASES])
def test_leading_title_heading(build_tree: BuildTree, body: str, expected: str) -> None:
    built = build_tree({PAGE: page_text(body, title="Intro")})
    assert render_page(built.page(), built.tree, NoneResolver()).markdown == expected


def test_title_heading_kept_when_stripping_is_off(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("# Intro\n\nText.\n")})
    result = render_page(built.page(), built.tree, NoneResolver(), strip_title_heading=False)
    assert result.markdown == "# Intro\n\nText."


def test_frontmatter_never_reaches_bookstack(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("Body only.\n", version="2.0")})
    markdown = render_page(built.page(), built.tree, NoneResolver()).markdown
    assert markdown == "Body only."


@pytest.mark.parametrize(
    ("status", "publish_drafts", "published"),
    [
        ("draft", False, False),
        ("draft", True, True),
        ("review", False, True),
        ("published", False, True),
        (None, False, True),
    ],
)
def test_is_published(build_tree: BuildTree, status: str | None, publish_drafts: bool, published: bool) -> None:
    fields = {} if status is None else {"status": status}
    built = build_tree({PAGE: page_text("x", **fields)})
    assert is_published(built.page(), publish_drafts=publish_drafts) is published


def test_deprecated_page_gets_a_callout_on_top(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("# Intro\n\nOld text.\n", deprecated=True)})
    markdown = render_page(built.page(), built.tree, NoneResolver()).markdown
    assert markdown == '<p class="callout warning">This page is deprecated.</p>\n\nOld text.'


def test_deprecated_callout_keeps_an_indented_first_block(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("    code first\n", deprecated=True)})
    markdown = render_page(built.page(), built.tree, NoneResolver()).markdown
    assert markdown == '<p class="callout warning">This page is deprecated.</p>\n\n    code first'


def test_redirect_replaces_the_body_with_a_link(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("# Intro\n\nOld.\n", redirect_to="02-other.md")})
    result = render_page(built.page(), built.tree, MapResolver(built.tree))
    assert result.markdown == "This page has moved to [Other](/link/2)."
    assert result.unresolved == ()


def test_redirect_relative_to_the_docs_folder_without_extension(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("Old.\n", redirect_to="docs/guide/setup/01-setup")})
    result = render_page(built.page(), built.tree, MapResolver(built.tree))
    assert result.markdown == "This page has moved to [Setup](/link/3)."


def test_deprecated_redirect_links_the_target_in_the_callout(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("Old.\n", deprecated=True, redirect_to="./setup/01-setup.md")})
    result = render_page(built.page(), built.tree, MapResolver(built.tree))
    assert result.markdown == (
        '<p class="callout warning">This page is deprecated. See <a href="/link/3">Setup</a>.</p>\n\n'
        "This page has moved to [Setup](/link/3)."
    )


def test_redirect_to_a_page_not_created_yet_is_unresolved_at_the_redirect_line(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("Old.\n", redirect_to="02-other.md")})
    result = render_page(built.page(), built.tree, NoneResolver())
    assert result.markdown == "This page has moved to [Other](02-other.md)."
    line = built.page().line_of("redirect_to")
    assert line == 9
    assert result.unresolved == (Reference(RefKind.PAGE, "docs/guide/02-other.md", None, line),)


def test_page_tags_in_stable_order(build_tree: BuildTree) -> None:
    text = page_text(
        "x",
        tags=["b", "a", " b ", "", "c"],
        version="1.10",
        status="review",
        toc=True,
        search_exclude=False,
        deprecated=True,
    )
    built = build_tree({PAGE: text})
    assert page_tags(built.page()) == [
        {"name": "b", "value": ""},
        {"name": "a", "value": ""},
        {"name": "c", "value": ""},
        {"name": "last_updated", "value": "2025-01-19"},
        {"name": "author", "value": "me"},
        {"name": "version", "value": "1.10"},
        {"name": "status", "value": "review"},
        {"name": "toc", "value": "true"},
        {"name": "search_exclude", "value": "false"},
        {"name": "deprecated", "value": ""},
    ]


def test_page_tags_leave_out_missing_fields_and_false_deprecated(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("x", deprecated=False)})
    assert page_tags(built.page()) == [
        {"name": "t", "value": ""},
        {"name": "last_updated", "value": "2025-01-19"},
        {"name": "author", "value": "me"},
    ]
