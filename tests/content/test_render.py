"""render_page: each transformation on its own, input body -> exact markdown BookStack receives."""

from __future__ import annotations

import pytest

from bookstack_sync.markdown.content import Reference, RefKind, render_page

from .conftest import PAGE, BuildTree, MapResolver, NoneResolver, page_text

# The page under test is docs/guide/01-intro.md (/link/1); 02-other.md is /link/2 with two
# "## Install steps" headings; setup/01-setup.md is /link/3 with "## Ports & firewalls".
PAGE_LINKS = [
    ("relative", "[a](02-other.md)", "[a](/link/2)"),
    ("dot slash", "[a](./02-other.md)", "[a](/link/2)"),
    ("into a chapter", "[a](setup/01-setup.md)", "[a](/link/3)"),
    ("up and down", "[a](setup/../02-other.md)", "[a](/link/2)"),
    ("url-encoded", "[a](setup/01%2Dsetup.md)", "[a](/link/3)"),
    ("angle brackets", "[a](<02-other.md>)", "[a](</link/2>)"),
    ("with title", '[a](02-other.md "The other")', '[a](/link/2 "The other")'),
    ("title in parentheses", "[a](02-other.md (other))", "[a](/link/2 (other))"),
    ("nested brackets", "[a [b] c](02-other.md)", "[a [b] c](/link/2)"),
    ("image in link text", "[![x](img/x.png)](02-other.md)", "[![x](/uploads/images/gallery/x.png)](/link/2)"),
    ("reference definition", "[a][r]\n\n[r]: 02-other.md", "[a][r]\n\n[r]: /link/2"),
    ("definition with angle and title", "[r]\n\n[R]: <02-other.md> 'T'", "[r]\n\n[R]: </link/2> 'T'"),
    ("raw html inline", 'See <a href="02-other.md">it</a>.', 'See <a href="/link/2">it</a>.'),
    (
        "raw html block",
        "<p>\n<a href='02-other.md' class=x>it</a>\n</p>",
        "<p>\n<a href='/link/2' class=x>it</a>\n</p>",
    ),
    ("unquoted attribute", "<a href=02-other.md>it</a>", "<a href=/link/2>it</a>"),
    ("link from a chapter page up", "[a](./setup/../setup/01-setup.md)", "[a](/link/3)"),
    ("in a list", "- one\n  - [a](02-other.md)", "- one\n  - [a](/link/2)"),
    ("in a block quote", "> quote\n> [a](02-other.md)", "> quote\n> [a](/link/2)"),
    ("lazy quote line", "> quote\n[a](02-other.md)", "> quote\n[a](/link/2)"),
    ("in a table", "| a | b |\n|---|---|\n| [x](02-other.md) | y |", "| a | b |\n|---|---|\n| [x](/link/2) | y |"),
    ("in a heading", "## See [a](02-other.md)", "## See [a](/link/2)"),
    ("markdown after an html block", "<div>\n\n[a](02-other.md)\n\n</div>", "<div>\n\n[a](/link/2)\n\n</div>"),
]

FRAGMENTS = [
    ("heading slug", "[a](02-other.md#install-steps)", "[a](/link/2#bkmrk-install-steps)"),
    ("second duplicate heading", "[a](02-other.md#install-steps-1)", "[a](/link/2#bkmrk-install-steps-1)"),
    ("heading text as written", "[a](02-other.md#Install%20Steps)", "[a](/link/2#bkmrk-install-steps)"),
    ("punctuation heading", "[a](setup/01-setup.md#ports--firewalls)", "[a](/link/3#bkmrk-ports-%26-firewalls)"),
    ("already a bkmrk id", "[a](02-other.md#bkmrk-install-steps)", "[a](/link/2#bkmrk-install-steps)"),
    ("in a definition", "[a][r]\n\n[r]: 02-other.md#install-steps", "[a][r]\n\n[r]: /link/2#bkmrk-install-steps"),
    ("in html", '<a href="02-other.md#install-steps">a</a>', '<a href="/link/2#bkmrk-install-steps">a</a>'),
]

FOLDERS = [
    ("chapter with slash", "[a](setup/)", "[a](/folder/docs/guide/setup)"),
    ("chapter without slash", "[a](setup)", "[a](/folder/docs/guide/setup)"),
    ("own book", "[a](./)", "[a](/folder/docs/guide)"),
    ("shelf", "[a](../)", "[a](/folder/docs)"),
]

IMAGES = [
    ("inline", "![alt](img/x.png)", "![alt](/uploads/images/gallery/x.png)"),
    ("angle with space and title", '![alt](<img/a b.png> "t")', '![alt](</uploads/images/gallery/a%20b.png> "t")'),
    ("percent-encoded", "![alt](img/a%20b.png)", "![alt](/uploads/images/gallery/a%20b.png)"),
    ("subfolder", "![alt](setup/img/y.png)", "![alt](/uploads/images/gallery/y.png)"),
    ("raw html img", '<img src="img/x.png" alt="x">', '<img src="/uploads/images/gallery/x.png" alt="x">'),
    ("inline html img", 'An <img src="img/x.png"> icon', 'An <img src="/uploads/images/gallery/x.png"> icon'),
    ("plain link to an image", "[see](img/x.png)", "[see](/uploads/images/gallery/x.png)"),
    ("image definition", "![x][i]\n\n[i]: img/x.png", "![x][i]\n\n[i]: /uploads/images/gallery/x.png"),
]

ATTACHMENTS = [
    ("link", "[spec](files/spec.pdf)", "[spec](/attachments/9)"),
    ("with a fragment", "[spec](files/spec.pdf#page=2)", "[spec](/attachments/9#page=2)"),
    ("html", '<a href="files/spec.pdf">spec</a>', '<a href="/attachments/9">spec</a>'),
]

SAME_PAGE = [
    ("heading anchor", "## Hello world\n\n[a](#hello-world)", "## Hello world\n\n[a](#bkmrk-hello-world)"),
    (
        "html anchor",
        '## Hello world\n\n<a href="#hello-world">a</a>',
        '## Hello world\n\n<a href="#bkmrk-hello-world">a</a>',
    ),
    ("explicit html id", '<div id="custom">x</div>\n\n[a](#custom)', '<div id="custom">x</div>\n\n[a](#bkmrk-x)'),
]

UNTOUCHED = [
    ("https", "[a](https://example.com/02-other.md)"),
    ("other scheme", "[a](ftp://example.com/x.md)"),
    ("mailto", "[a](mailto:docs@example.com)"),
    ("autolink", "<https://example.com/02-other.md>"),
    ("email autolink", "<docs@example.com>"),
    ("absolute wiki path", "[a](/books/guide)"),
    ("protocol-relative", "![x](//cdn.example.com/x.png)"),
    ("data uri", "![x](data:image/png;base64,AAAA)"),
    ("empty destination", "[a]()"),
    ("code span", "`[a](02-other.md)`"),
    ("double backtick code span", "``[a](02-other.md) ` ``"),
    ("code span inside link text", "[`x`](https://e.com) `[a](02-other.md)`"),
    ("fenced backticks", "```md\n[a](02-other.md)\n```"),
    ("fenced tildes with info", "~~~markdown title=x\n![x](img/x.png)\n```\n[a](02-other.md)\n```\n~~~"),
    ("longer fence", "````\n```\n[a](02-other.md)\n```\n````"),
    ("unclosed fence", "```\n[a](02-other.md)"),
    ("fence in a list", "- item\n\n  ```\n  [a](02-other.md)\n  ```"),
    ("indented code", "Text.\n\n    [a](02-other.md)"),
    ("indented code after paragraph gap", "text\n\n    [a](02-other.md)\n    <img src='img/x.png'>"),
    ("indented code in a list item", "- item\n\n      [a](02-other.md)"),
    ("escaped bracket", "\\[a](02-other.md)"),
    ("escaped parenthesis", "[a]\\(02-other.md)"),
    ("html comment", "<!-- [a](02-other.md) <a href='02-other.md'>x</a> -->"),
    ("markdown inside an html block", "<div>\n[a](02-other.md)\n</div>"),
    ("script content", "<script>\nx = '<a href=\"02-other.md\">';\n</script>"),
    ("link inside a link is the link", "[outer [inner](https://e.com)](02-other.md)"),
    ("undefined reference", "[a][nope]"),
    ("image alt is not a link", "![see [a](02-other.md)](https://e.com/x.png)"),
]


def _render(build_tree: BuildTree, body: str, **fields: object) -> tuple[str, tuple[str, ...]]:
    built = build_tree({PAGE: page_text(body, **fields)})
    result = render_page(built.page(), built.tree, MapResolver(built.tree))
    return result.markdown, result.warnings


@pytest.mark.parametrize(
    ("body", "expected"),
    [pytest.param(b, e, id=f"page:{n}") for n, b, e in PAGE_LINKS]
    + [pytest.param(b, e, id=f"fragment:{n}") for n, b, e in FRAGMENTS]
    + [pytest.param(b, e, id=f"folder:{n}") for n, b, e in FOLDERS]
    + [pytest.param(b, e, id=f"image:{n}") for n, b, e in IMAGES]
    + [pytest.param(b, e, id=f"attachment:{n}") for n, b, e in ATTACHMENTS]
    + [pytest.param(b, e, id=f"same-page:{n}") for n, b, e in SAME_PAGE],
)
def test_rewrites(build_tree: BuildTree, body: str, expected: str) -> None:
    markdown, warnings = _render(build_tree, body)
    assert markdown == expected
    assert warnings == ()


@pytest.mark.parametrize("body", [pytest.param(b, id=n) for n, b in UNTOUCHED])
def test_leaves_alone(build_tree: BuildTree, body: str) -> None:
    markdown, _ = _render(build_tree, body)
    assert markdown == body


def test_only_destinations_change_in_a_mixed_line(build_tree: BuildTree) -> None:
    body = "**Bold** [a](02-other.md) `code [b](02-other.md)` *and* ![i](img/x.png) — ünïcode ✅ â€”"
    markdown, _ = _render(build_tree, body)
    assert markdown == (
        "**Bold** [a](/link/2) `code [b](02-other.md)` *and* ![i](/uploads/images/gallery/x.png) — ünïcode ✅ â€”"
    )


def test_fragment_matching_no_heading_is_dropped_with_a_warning(build_tree: BuildTree) -> None:
    markdown, warnings = _render(build_tree, "Text.\n\n[a](02-other.md#nope)")
    assert markdown == "Text.\n\n[a](/link/2)"
    assert len(warnings) == 1
    assert "#nope" in warnings[0] and "docs/guide/02-other.md" in warnings[0]
    assert warnings[0].startswith("line 12:")  # the body starts on line 10 of the file


def test_resolver_anchor_override_wins(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("[a](02-other.md#install-steps)")})
    resolver = MapResolver(built.tree, anchors={("docs/guide/02-other.md", "install-steps"): "bkmrk-from-server"})
    assert render_page(built.page(), built.tree, resolver).markdown == "[a](/link/2#bkmrk-from-server)"


def test_same_page_anchor_without_heading_is_left_with_a_warning(build_tree: BuildTree) -> None:
    markdown, warnings = _render(build_tree, "[a](#nowhere)")
    assert markdown == "[a](#nowhere)"
    assert warnings == ("line 10: in-page link #nowhere matches no heading; left as is",)


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("[a](missing.md)", "points at nothing"),
        ("[a](../../../outside.md)", "outside the docs tree"),
        ("![a](img/none.png)", "points at nothing"),
    ],
)
def test_broken_references_are_left_as_written(build_tree: BuildTree, body: str, needle: str) -> None:
    markdown, warnings = _render(build_tree, body)
    assert markdown == body
    assert len(warnings) == 1 and needle in warnings[0]


def test_unresolved_references_are_kept_and_listed(build_tree: BuildTree) -> None:
    body = "Intro.\n\n[a](02-other.md#install-steps)\n![i](img/x.png)\n[s](files/spec.pdf)\n[c](setup/)\n"
    built = build_tree({PAGE: page_text(body)})
    result = render_page(built.page(), built.tree, NoneResolver())
    assert result.markdown == body.strip()
    assert result.unresolved == (
        Reference(RefKind.PAGE, "docs/guide/02-other.md", "install-steps", 12),
        Reference(RefKind.IMAGE, "docs/guide/img/x.png", None, 13),
        Reference(RefKind.ATTACHMENT, "docs/guide/files/spec.pdf", None, 14),
        Reference(RefKind.FOLDER, "docs/guide/setup", None, 15),
    )


def test_replacement_urls_are_escaped_for_their_syntax(build_tree: BuildTree) -> None:
    class Odd(MapResolver):
        def page_url(self, page_path: str) -> str | None:
            return '/odd path(1)&x="y"'

    body = '[a](02-other.md) [b](<02-other.md>) <a href="02-other.md">c</a>'
    built = build_tree({PAGE: page_text(body)})
    markdown = render_page(built.page(), built.tree, Odd(built.tree)).markdown
    assert markdown == (
        '[a](/odd%20path%281%29&x=%22y%22) [b](</odd%20path(1)&x=%22y%22>) <a href="/odd%20path(1)&amp;x=%22y%22">c</a>'
    )


def test_crlf_free_body_keeps_trailing_spaces_and_tabs_inside(build_tree: BuildTree) -> None:
    body = "line with hard break  \nnext\tline [a](02-other.md)\n\n\n"
    markdown, _ = _render(build_tree, body)
    assert markdown == "line with hard break  \nnext\tline [a](/link/2)"


def test_leading_indentation_is_trimmed_as_bookstack_trims_it(build_tree: BuildTree) -> None:
    # BookStack trims every input, so a body that starts indented is no code block once it arrives;
    # the link is then prose and is rewritten like any other.
    markdown, _ = _render(build_tree, "    [a](02-other.md)\n")
    assert markdown == "[a](/link/2)"
