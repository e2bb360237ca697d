"""Properties over arbitrary text: rendering never corrupts what it does not rewrite."""

from __future__ import annotations

import re
from pathlib import Path

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bookstack_sync.docs.structure import Folder, parse_structure
from bookstack_sync.docs.tree import Asset, DocsTree, PageSource
from bookstack_sync.markdown.content import find_references, render_page
from bookstack_sync.markdown.links import scan

from .conftest import STRUCTURE, MapResolver, NoneResolver

_structure, _ = parse_structure(STRUCTURE, "s.yaml")
assert _structure is not None
_FOLDER: Folder = _structure.folder_index()["docs/guide"]

# Markdown's syntax characters, whitespace and a few words, so generated text is dense in constructs.
_PIECES = st.sampled_from(
    [
        "[",
        "]",
        "(",
        ")",
        "<",
        ">",
        "!",
        "`",
        "```",
        "~~~",
        "*",
        "_",
        "~",
        "#",
        "# ",
        "## ",
        "\\",
        "\n",
        "\n\n",
        " ",
        "    ",
        "\t",
        "-",
        "- ",
        "1. ",
        "> ",
        "|",
        "---",
        "===",
        ":",
        '"',
        "'",
        "&amp;",
        "&",
        "=",
        "a.md",
        "02-other.md",
        "img/x.png",
        "files/spec.pdf",
        "setup/",
        "../",
        "./",
        "%20",
        "https://e.com/",
        "mailto:x@y.z",
        "<a href=",
        "<img src=",
        "<div>",
        "</div>",
        "<!--",
        "-->",
        "[r]: ",
        "text",
        "Intro",
        "é",
        "✅",
        "â€”",
        "\u00a0",
    ]
)
_TEXT = st.lists(_PIECES | st.text(max_size=3), max_size=60).map("".join)
_TRIM = " \t\n\x0b\x0c\r\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff\u200b"


def _tree_with(body: str) -> tuple[PageSource, DocsTree]:
    page = PageSource(
        path="docs/guide/01-intro.md",
        folder=_FOLDER,
        frontmatter={"title": "No such title ¤", "tags": []},
        field_lines={"title": 2},
        frontmatter_line=1,
        body=body,
        body_line=5,
    )
    other = PageSource(
        path="docs/guide/02-other.md",
        folder=_FOLDER,
        frontmatter={"title": "Other"},
        field_lines={},
        frontmatter_line=1,
        body="## Intro\n",
        body_line=5,
    )
    root = Path("/nonexistent-docs-root")
    assets = {path: Asset(path, root / path, 10) for path in ("docs/guide/img/x.png", "docs/guide/files/spec.pdf")}
    tree = DocsTree(root=root, pages=[page, other], assets=assets)
    return page, tree


# An in-page "#anchor" that names a heading is rewritten even with no resolver: leave those out.
_SAME_PAGE_ANCHOR = re.compile(r"\(\s*<?#|:\s*<?#|=\s*[\"']?#")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_nothing_resolvable_means_nothing_changes(body: str) -> None:
    assume(not _SAME_PAGE_ANCHOR.search(body))
    page, tree = _tree_with(body)
    result = render_page(page, tree, NoneResolver(), strip_title_heading=False, forge_markdown=False)
    assert result.markdown == body.strip(_TRIM)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_title_strip_only_removes_a_leading_part(body: str) -> None:
    assume(not _SAME_PAGE_ANCHOR.search(body))
    page, tree = _tree_with(body)
    page = PageSource(**{**page.__dict__, "frontmatter": {"title": "Intro"}})
    tree.pages[0] = page
    stripped = render_page(page, tree, NoneResolver(), forge_markdown=False).markdown
    trimmed = body.strip(_TRIM)
    assert trimmed.endswith(stripped)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXT)
def test_rewrites_touch_only_destinations(body: str) -> None:
    # with every target resolvable, the text outside the scanned destinations is unchanged
    page, tree = _tree_with(body)
    result = render_page(page, tree, MapResolver(tree), strip_title_heading=False, forge_markdown=False)
    text = body.strip(_TRIM)
    pieces = []
    at = 0
    for dest in scan(text).destinations:
        pieces.append(text[at : dest.start])
        at = dest.end
    pieces.append(text[at:])
    pattern = ".*?".join(re.escape(p) for p in pieces)
    assert re.fullmatch(pattern, result.markdown, re.S)


@settings(max_examples=200, deadline=None)
@given(_TEXT)
def test_reference_lines_are_lines_of_the_body(body: str) -> None:
    page, tree = _tree_with(body)
    last_line = page.body_line + body.count("\n")
    for reference in find_references(page, tree):
        assert page.body_line <= reference.line <= last_line
