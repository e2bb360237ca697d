"""check_references: broken links and images found before anything is synced, with path and line."""

from __future__ import annotations

import pytest

from bookstack_sync.check.references import check_references
from bookstack_sync.docs.diagnostics import Rule, Severity
from bookstack_sync.markdown.content import Reference, RefKind, find_references

from .conftest import PAGE, BuildTree, page_text, png_bytes

BODY_LINE = 10  # page_text puts the first body line on line 10


def _check(build_tree: BuildTree, body: str, files: dict[str, str | bytes] | None = None, **kwargs: int) -> list:
    built = build_tree({PAGE: page_text(body), **(files or {})})
    return [
        (d.path, d.line, d.rule, d.severity, d.message) for d in check_references(built.tree, built.structure, **kwargs)
    ]


POSITIVES = [
    ("missing page", "[a](nope.md)", Rule.LINK_BROKEN, "docs/guide/nope.md does not exist"),
    ("missing page by html", '<a href="setup/nope.md">a</a>', Rule.LINK_BROKEN, "does not exist"),
    ("missing via definition", "[a][r]\n\n[r]: nope.md", Rule.LINK_BROKEN, "does not exist"),
    ("link out of the tree", "[a](../../../README.md)", Rule.LINK_BROKEN, "outside the docs tree"),
    ("folder that is no shelf, book or chapter", "[a](img/)", Rule.LINK_BROKEN, "not a shelf, book or chapter"),
    ("missing folder", "[a](nowhere/)", Rule.LINK_BROKEN, "not a shelf, book or chapter"),
    ("missing attachment", "[a](files/none.zip)", Rule.LINK_BROKEN, "does not exist"),
    ("missing image", "![a](img/none.png)", Rule.IMAGE_BROKEN, "does not exist"),
    ("missing html image", '<img src="img/none.png">', Rule.IMAGE_BROKEN, "does not exist"),
    ("image out of the tree", "![a](../../../logo.png)", Rule.IMAGE_BROKEN, "outside the docs tree"),
    ("image in the structure folder", "![a](../../bookstack/logo.png)", Rule.IMAGE_BROKEN, "not part of the docs"),
    ("svg image", "![a](img/d.svg)", Rule.IMAGE_UNSUPPORTED, "not .svg"),
    ("png that is not a png", "![a](img/fake.png)", Rule.IMAGE_UNSUPPORTED, "checks the bytes"),
]

EXTRA_FILES: dict[str, str | bytes] = {
    "bookstack/logo.png": png_bytes(),
    "docs/guide/img/d.svg": "<svg xmlns='http://www.w3.org/2000/svg'/>",
    "docs/guide/img/fake.png": "just text",
}


@pytest.mark.parametrize(("body", "rule", "needle"), [pytest.param(b, r, n, id=i) for i, b, r, n in POSITIVES])
def test_reports_with_path_and_line(build_tree: BuildTree, body: str, rule: Rule, needle: str) -> None:
    found = _check(build_tree, "Intro line.\n\n" + body, EXTRA_FILES)
    assert len(found) == 1, found
    path, line, got_rule, severity, message = found[0]
    assert (path, got_rule, severity) == (PAGE, rule, Severity.ERROR)
    expected_line = BODY_LINE + 2 + (2 if "[r]:" in body else 0)
    assert line == expected_line
    assert needle in message


NEGATIVES = [
    ("page", "[a](02-other.md)"),
    ("page with matching fragment", "[a](02-other.md#install-steps)"),
    ("folders", "[a](setup/) [b](./) [c](../) [d](setup)"),
    ("image and attachment", "![a](img/x.png) [s](files/spec.pdf) ![b](<img/a b.png>)"),
    ("external and absolute", "[a](https://e.com/x.md) ![b](https://e.com/x.svg) [c](/books/x) [m](mailto:a@b.c)"),
    ("code is not checked", "`[a](nope.md)`\n\n```\n![a](none.png)\n```\n\n    [b](nope.md)"),
    ("html comment", "<!-- [a](nope.md) -->"),
    ("same-page anchor", "[a](#anywhere)"),
    ("png named jpg", "![a](img/real.jpg)"),
    ("gif", "![a](img/g.gif)"),
    ("jpeg", "![a](img/j.jpeg)"),
    ("webp", "![a](img/w.webp)"),
]


@pytest.mark.parametrize("body", [pytest.param(b, id=i) for i, b in NEGATIVES])
def test_clean_references_report_nothing(build_tree: BuildTree, body: str) -> None:
    files: dict[str, str | bytes] = {
        "docs/guide/img/real.jpg": png_bytes(),
        "docs/guide/img/g.gif": b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        "docs/guide/img/j.jpeg": b"\xff\xd8\xff\xe0\x00\x10JFIF\x00",
        "docs/guide/img/w.webp": b"RIFF\x1a\x00\x00\x00WEBPVP8 ",
    }
    assert _check(build_tree, body, files) == []


def test_link_to_a_file_outside_the_hierarchy_is_broken(build_tree: BuildTree) -> None:
    # the file exists, but its name breaks the rules, so it is never published
    found = _check(build_tree, "[a](notes.md)", {"docs/guide/notes.md": page_text("x")})
    assert [(f[1], f[2]) for f in found] == [(BODY_LINE, Rule.LINK_BROKEN)]
    assert "not a page of the hierarchy" in found[0][4]


def test_fragment_without_heading_is_a_warning(build_tree: BuildTree) -> None:
    found = _check(build_tree, "[a](02-other.md#nope)")
    assert [(f[1], f[2], f[3]) for f in found] == [(BODY_LINE, Rule.LINK_BROKEN, Severity.WARNING)]
    assert "#nope" in found[0][4]


@pytest.mark.parametrize("body", ["![a](img/big.png)", "[a](files/big.zip)"])
def test_file_over_the_upload_limit(build_tree: BuildTree, body: str) -> None:
    limit = 1000 * 1024  # BookStack validates `max:<MB*1000>` kilobytes of 1024 bytes
    big = png_bytes() + b"\0" * (limit + 1 - len(png_bytes()))
    files: dict[str, str | bytes] = {"docs/guide/img/big.png": big, "docs/guide/files/big.zip": big}
    found = _check(build_tree, body, files, max_upload_mb=1)
    assert [(f[1], f[2]) for f in found] == [(BODY_LINE, Rule.FILE_TOO_LARGE)]
    assert "max_upload_mb" in found[0][4]


def test_file_at_the_upload_limit_is_fine(build_tree: BuildTree) -> None:
    exact = png_bytes() + b"\0" * (1000 * 1024 - len(png_bytes()))
    assert _check(build_tree, "![a](img/ok.png)", {"docs/guide/img/ok.png": exact}, max_upload_mb=1) == []


def test_redirect_to_nothing_is_reported_at_its_line(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("Old.\n", redirect_to="gone.md")})
    found = check_references(built.tree, built.structure)
    assert [(d.path, d.line, d.rule) for d in found] == [(PAGE, 9, Rule.REDIRECT_TARGET)]
    assert "gone.md" in found[0].message


def test_redirect_to_itself_is_reported(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("Old.\n", redirect_to="01-intro.md")})
    assert [d.rule for d in check_references(built.tree, built.structure)] == [Rule.REDIRECT_TARGET]


@pytest.mark.parametrize(
    "target", ["02-other.md", "./setup/01-setup.md", "docs/guide/02-other.md", "/docs/guide/02-other.md", "02-other"]
)
def test_valid_redirects(build_tree: BuildTree, target: str) -> None:
    built = build_tree({PAGE: page_text("Old.\n", redirect_to=target)})
    assert check_references(built.tree, built.structure) == []


def test_find_references_lists_existing_targets_in_order(build_tree: BuildTree) -> None:
    body = (
        "[a](02-other.md#install-steps) ![i](img/x.png)\n"
        "[gone](nope.md) [ext](https://e.com) [self](#top) `[code](02-other.md)`\n"
        "[s](files/spec.pdf#page=2) [c](setup/)\n"
    )
    built = build_tree({PAGE: page_text(body)})
    assert find_references(built.page(), built.tree) == [
        Reference(RefKind.PAGE, "docs/guide/02-other.md", "install-steps", BODY_LINE),
        Reference(RefKind.IMAGE, "docs/guide/img/x.png", None, BODY_LINE),
        Reference(RefKind.ATTACHMENT, "docs/guide/files/spec.pdf", None, BODY_LINE + 2),
        Reference(RefKind.FOLDER, "docs/guide/setup", None, BODY_LINE + 2),
    ]


def test_find_references_of_a_redirect_is_its_target(build_tree: BuildTree) -> None:
    built = build_tree({PAGE: page_text("![i](img/x.png)\n", redirect_to="02-other.md")})
    assert find_references(built.page(), built.tree) == [Reference(RefKind.PAGE, "docs/guide/02-other.md", None, 9)]
