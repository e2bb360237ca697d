"""heading_ids: GitHub-style slug -> the id BookStack gives that heading.

Expected ids follow BookStack's PageContent::setUniqueId / updateIdsRecursively
(app/Entities/Tools/PageContent.php, BookStackApp/BookStack @ 6f1c54d0):
``urlencode('bkmrk-' . mb_substr(strtolower(preg_replace('/\\s+/', '-', trim($el->nodeValue))), 0, 20))``,
with ``-1``, ``-2``... for an id already taken, assigned in document order to every top-level element,
every heading (at any depth) and every element that has an id. Cases marked "BookStack test" are the
ones in tests/Entity/PageContentTest.php and tests/Entity/MarkdownToHtmlTest.php of that repository.
"""

from __future__ import annotations

import pytest

from bookstack_sync.markdown.headings import bookstack_id_base, github_slug, heading_ids

CASES = [
    ("simple", "## Install steps", {"install-steps": "bkmrk-install-steps"}),
    (
        "first 20 characters",
        "## Configuration options for X",
        {"configuration-options-for-x": "bkmrk-configuration-option"},
    ),
    (
        "duplicates",
        "## Setup\n\n## Setup\n\n## Setup",
        {"setup": "bkmrk-setup", "setup-1": "bkmrk-setup-1", "setup-2": "bkmrk-setup-2"},
    ),
    (
        "a paragraph takes the id first",
        "# Overview\n\nOverview\n\n## Overview",
        {"overview": "bkmrk-overview", "overview-1": "bkmrk-overview-2"},
    ),
    (
        "same first 20 characters",
        "## Configuration options for X\n\nConfiguration options are many.\n\n## Configuration options for Y",
        {
            "configuration-options-for-x": "bkmrk-configuration-option",
            "configuration-options-for-y": "bkmrk-configuration-option-2",
        },
    ),
    # BookStack test: a top-level <table> takes the text's id, the heading after it gets -1
    ("table then heading", "| Simple Test |\n|---|\n\n##### Simple Test", {"simple-test": "bkmrk-simple-test-1"}),
    # a block quote takes its id before the heading inside it (pre-order)
    ("heading in a block quote", "> ## Inside quote", {"inside-quote": "bkmrk-inside-quote-1"}),
    # BookStack test: `var a = 'cat';` -> bkmrk-var-a-%3D-%27cat%27%3B (urlencode of the raw text)
    (
        "urlencoded punctuation",
        "```JavaScript\nvar a = 'cat';\n```\n\n## var a = 'cat';",
        {"var-a--cat": "bkmrk-var-a-%3D-%27cat%27%3B-1"},
    ),
    ("ampersand", "## Ports & firewalls", {"ports--firewalls": "bkmrk-ports-%26-firewalls"}),
    ("tilde is encoded by urlencode", "## a~b", {"ab": "bkmrk-a%7Eb"}),
    # strtolower is ASCII-only: Ü stays upper case, then UTF-8 bytes are percent-encoded
    ("non-ASCII capitals", "## Überblick", {"überblick": "bkmrk-%C3%9Cberblick"}),
    (
        "Cyrillic",
        "## Привет мир",
        {"привет-мир": "bkmrk-%D0%9F%D1%80%D0%B8%D0%B2%D0%B5%D1%82-%D0%BC%D0%B8%D1%80"},
    ),
    ("emoji", "## ✅ Done", {"-done": "bkmrk-%E2%9C%85-done"}),
    ("mojibake", "## âœ… Done", {"âœ-done": "bkmrk-%C3%A2%C5%93%E2%80%A6-done"}),
    # BookStack test: a non-breaking space is not trimmed and not whitespace to PCRE without /u
    ("non-breaking space", "## a\u00a0b", {"ab": "bkmrk-a%C2%A0b"}),
    (
        "inline markup is text content",
        "## The `config.yml` **file**",
        {"the-configyml-file": "bkmrk-the-config.yml-file"},
    ),
    ("link text counts, not its URL", "## See [the guide](https://e.com/x)", {"see-the-guide": "bkmrk-see-the-guide"}),
    ("setext heading", "Setext heading\n--------------", {"setext-heading": "bkmrk-setext-heading"}),
    ("closing hashes dropped", "## Title ##", {"title": "bkmrk-title"}),
    ("rules take empty ids", "---\n\n***\n\n## x", {"x": "bkmrk-x"}),
    ("heading in a list item", "- item\n\n  ## Inner", {"inner": "bkmrk-inner"}),
    ("punctuation only", "## !!!", {}),
]


@pytest.mark.parametrize(("markdown", "expected"), [pytest.param(m, e, id=n) for n, m, e in CASES])
def test_heading_ids(markdown: str, expected: dict[str, str]) -> None:
    assert heading_ids(markdown) == expected


def test_html_elements_with_bkmrk_ids_keep_them_and_push_headings_on() -> None:
    # an existing unused bkmrk id is kept; the heading with the same text must take the next one
    markdown = '<p id="bkmrk-intro">other text</p>\n\n## Intro'
    assert heading_ids(markdown) == {"intro": "bkmrk-intro-1"}


def test_code_blocks_are_not_headings() -> None:
    assert heading_ids("```\n# not a heading\n```\n\n    # nor this") == {}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("  Hello   World  ", "bkmrk-hello-world"),
        ("A" * 30, "bkmrk-" + "a" * 20),
        ("tab\tand\nnewline", "bkmrk-tab-and-newline"),
        ("", "bkmrk-"),
    ],
)
def test_bookstack_id_base(text: str, expected: str) -> None:
    assert bookstack_id_base(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('What\'s new? (v2.0 — "Q&A")', "whats-new-v20--qa"),
        ("snake_case_name", "snake_case_name"),
        ("Ünïcödé Привет 日本語", "ünïcödé-привет-日本語"),
        ("  two  spaces ", "--two--spaces-"),
    ],
)
def test_github_slug(text: str, expected: str) -> None:
    assert github_slug(text) == expected
