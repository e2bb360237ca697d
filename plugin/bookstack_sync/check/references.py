"""Checking the links of the docs: every relative link, image and attachment points at something in the tree
(a page, a folder the structure names, a file within the upload limit), and every ``#fragment`` at a heading.
A large tree is checked in two processes by check/parallel.py, each taking parts of :func:`checking_order`.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from pathlib import Path

from ..docs.diagnostics import Diagnostic, Rule, error, warning
from ..docs.structure import Structure
from ..docs.tree import DocsTree, PageSource
from ..markdown.content import (
    IMAGE_EXTENSIONS,
    LinkTarget,
    Prepared,
    RefKind,
    classify_destination,
    pages_by_path,
    prepare_body,
    redirect_target,
    references_in,
    structure_folder_keys,
)
from ..markdown.headings import has_fragment
from ..markdown.links import scan


def check_references(tree: DocsTree, structure: Structure, *, max_upload_mb: int = 50) -> list[Diagnostic]:
    """Link checking for ``validate``: every relative link, image and ``redirect_to`` of every page, in
    :func:`checking_order` (a two-process validation splits that order itself, see check/parallel.py)."""
    return LinkChecker(tree, structure, max_upload_mb=max_upload_mb).check(checking_order(tree))


def upload_limit(max_upload_mb: int) -> int:
    """The largest file size BookStack takes: Laravel `max:<MB*1000>` on files counts kilobytes of 1024 bytes."""
    return max_upload_mb * 1000 * 1024


def checking_order(tree: DocsTree) -> list[PageSource]:
    """The order :func:`check_references` reports pages in (by path)."""
    return sorted(tree.pages, key=lambda p: p.path)


class LinkChecker:
    """Checks the links of a tree's pages, any part at a time (concatenating the results of the parts of
    :func:`checking_order` gives :func:`check_references`). What it learns of a page on the way (its text
    as published, whether a ``#fragment`` finds a heading in it) serves the pages checked after, so one
    checker serves every slice a process takes."""

    def __init__(self, tree: DocsTree, structure: Structure, *, max_upload_mb: int = 50) -> None:
        self.tree = tree
        self.folder_keys = structure_folder_keys(structure)
        self.pages = pages_by_path(tree)
        self.limit = upload_limit(max_upload_mb)
        self._prepared: dict[str, Prepared] = {}  # by page path: pages checked and pages linked to
        self._fragments: dict[tuple[str, str], bool] = {}  # (page path, fragment) -> a heading matches

    def check(self, pages: list[PageSource]) -> list[Diagnostic]:
        tree = self.tree
        found: list[Diagnostic] = []
        for page in pages:
            found.extend(_check_redirect(page, tree))
            prepared = self._prepare(page)
            if self._quietly_sound(page, prepared):
                continue
            for item in references_in(page, tree, prepared, self.folder_keys):
                if item.target.same_page or item.generated:
                    continue  # generated links come from redirect_to, checked above
                problem = self._problem(page, item.target, item.line, item.dest.url)
                if problem is not None:
                    found.append(problem)
        return found

    def _prepare(self, page: PageSource) -> Prepared:
        prepared = self._prepared.get(page.path)
        if prepared is None:
            prepared = self._prepared[page.path] = prepare_body(page, self.tree)
        return prepared

    def _quietly_sound(self, page: PageSource, prepared: Prepared) -> bool:
        """Whether every link of the page is sound, answered without locating the links (most pages): the
        URLs checked are those :func:`references_in` finds, and more. False when a check fails or the
        answer needs the full pass; the caller then checks the page the full way, which says where each
        problem is."""
        if prepared.prefix_len:
            return False  # a callout or redirect body we wrote: its links are not the author's
        urls = scan(prepared.text).inline_urls
        if urls is None:
            return False
        folder_keys, root = self.folder_keys, self.tree.root
        for url, image in urls:
            target = classify_destination(url, page.path, image, folder_keys, root)
            if target is None or target.same_page:
                continue
            if self._problem(page, target, 0, url) is not None:
                return False
        return True

    def _has_fragment(self, path: str, fragment: str) -> bool:
        key = (path, fragment)
        found = self._fragments.get(key)
        if found is None:
            text = self._prepare(self.pages[path]).text
            found = self._fragments[key] = has_fragment(text, fragment)
        return found

    def _problem(self, page: PageSource, target: LinkTarget, line: int, url: str) -> Diagnostic | None:
        """What is wrong with one link of ``page`` (at ``line``, written ``url``), if anything."""
        is_image = target.kind is RefKind.IMAGE
        if target.outside:
            if is_image:
                return error(
                    page.path, line, Rule.IMAGE_BROKEN, f"image {url} is outside the docs tree; move it inside"
                )
            return error(
                page.path,
                line,
                Rule.LINK_BROKEN,
                f"link {url} points outside the docs tree, which BookStack cannot resolve; use an https:// URL",
            )
        tree = self.tree
        if target.kind is RefKind.PAGE:
            if target.path not in self.pages:
                if target.path in tree.page_files:
                    why = "cannot be published (see its own errors)"
                elif (tree.root / target.path).is_file():
                    why = "is not a page of the hierarchy (see `bookstack-sync paths`)"
                else:
                    why = "does not exist"
                return error(page.path, line, Rule.LINK_BROKEN, f"link {url}: {target.path} {why}")
            if target.fragment is not None and not self._has_fragment(target.path, target.fragment):
                return warning(
                    page.path,
                    line,
                    Rule.LINK_BROKEN,
                    f"link {url}: no heading of {target.path} matches #{target.fragment}; "
                    "the link will go to the top of the page",
                )
            return None
        if target.kind is RefKind.FOLDER:
            if target.path not in self.folder_keys:
                return error(
                    page.path,
                    line,
                    Rule.LINK_BROKEN,
                    f"link {url}: {target.path or '.'} is not a shelf, book or chapter folder of the structure",
                )
            return None
        asset = tree.assets.get(target.path)
        if asset is None:
            if (tree.root / target.path).is_file():
                why = "is not part of the docs content (the structure folder, an ignored path or a refused symlink)"
            else:
                why = "does not exist"
            rule = Rule.IMAGE_BROKEN if is_image else Rule.LINK_BROKEN
            return error(page.path, line, rule, f"{'image' if is_image else 'link'} {url}: {target.path} {why}")
        if is_image:
            problem = _image_problem(asset.file, target.path)
            if problem is not None:
                return error(page.path, line, Rule.IMAGE_UNSUPPORTED, f"image {url}: {problem}")
        if asset.size > self.limit:
            return error(
                page.path,
                line,
                Rule.FILE_TOO_LARGE,
                f"{target.path} is {asset.size / 1_000_000:.1f} MB, over the upload limit of "
                f"{self.limit // 1024 // 1000} MB (setting `max_upload_mb`, BookStack's FILE_UPLOAD_SIZE_LIMIT)",
            )
        return None


def _check_redirect(page: PageSource, tree: DocsTree) -> Iterator[Diagnostic]:
    raw = page.frontmatter.get("redirect_to")
    if not isinstance(raw, str) or not raw.strip():
        return
    if redirect_target(page, tree) is None:
        yield error(
            page.path,
            page.line_of("redirect_to"),
            Rule.REDIRECT_TARGET,
            f"redirect_to {raw.strip()!r} names no other page of the docs tree (give its path relative to "
            "this page or to the docs folder)",
        )


_SIGNATURES: tuple[tuple[str, bytes], ...] = (
    ("png", b"\x89PNG\r\n\x1a\n"),
    ("jpeg", b"\xff\xd8\xff"),
    ("gif", b"GIF87a"),
    ("gif", b"GIF89a"),
)


def sniff_image(head: bytes) -> str | None:
    """The image type of a file's first bytes, among the ones BookStack accepts."""
    for name, signature in _SIGNATURES:
        if head.startswith(signature):
            return name
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    return None


def _image_problem(file: Path, path: str) -> str | None:
    extension = path.rpartition(".")[2].lower() if "." in posixpath.basename(path) else ""
    if extension not in IMAGE_EXTENSIONS:
        return f"BookStack accepts .jpg/.jpeg/.png/.gif/.webp images, not {'.' + extension if extension else 'a file without extension'}"
    try:
        with file.open("rb") as handle:
            head = handle.read(16)
    except OSError as exc:
        return f"cannot read it: {exc.strerror}"
    if sniff_image(head) is None:
        return "its content is not a JPEG, PNG, GIF or WebP image (BookStack checks the bytes, not the name)"
    return None
