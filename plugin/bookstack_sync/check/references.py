"""Checking the links of the docs: every relative link, image and attachment points at something in the tree
(a page, a folder the structure names, a file within the upload limit), and every ``#fragment`` at a heading.
A large tree is checked on several CPUs (forked processes that share the parsed tree).
"""

from __future__ import annotations

import multiprocessing
import os
import posixpath
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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

# Pages are checked in two processes from this many on: below it, starting one costs more than it saves.
PARALLEL_MIN_PAGES = 2000


def check_references(tree: DocsTree, structure: Structure, *, max_upload_mb: int = 50) -> list[Diagnostic]:
    """Link checking for ``validate``: every relative link, image and ``redirect_to`` of every page.

    Pages are independent, so a large tree is split among the CPUs (see :func:`_parallel_workers`);
    the diagnostics are the same, in the same order, either way.
    """
    limit = upload_limit(max_upload_mb)
    ordered = checking_order(tree)
    workers = _parallel_workers(len(ordered))
    if workers > 1:
        found = _check_in_parallel(tree, structure, limit, ordered, workers)
        if found is not None:
            return found
    return _check_pages(tree, structure, limit, ordered)


def upload_limit(max_upload_mb: int) -> int:
    """The largest file size BookStack takes: Laravel `max:<MB*1000>` on files counts kilobytes of 1024 bytes."""
    return max_upload_mb * 1000 * 1024


def checking_order(tree: DocsTree) -> list[PageSource]:
    """The order :func:`check_references` reports pages in (by path)."""
    return sorted(tree.pages, key=lambda p: p.path)


def check_page_references(
    tree: DocsTree, structure: Structure, pages: list[PageSource], *, max_upload_mb: int = 50
) -> list[Diagnostic]:
    """:func:`check_references` of some of the tree's pages, in one process: for callers that split the
    tree themselves (concatenating the parts of :func:`checking_order` gives the same list)."""
    return _check_pages(tree, structure, upload_limit(max_upload_mb), pages)


def _check_pages(tree: DocsTree, structure: Structure, limit: int, ordered: list[PageSource]) -> list[Diagnostic]:
    folder_keys = structure_folder_keys(structure)
    pages = pages_by_path(tree)  # built once: a two-process validation checks the pages in many slices
    found: list[Diagnostic] = []
    prepared_texts: dict[str, str] = {}  # of the pages linked to with a #fragment
    for page in ordered:
        found.extend(_check_redirect(page, tree))
        prepared = prepare_body(page, tree)
        if _quietly_sound(page, prepared, tree, pages, folder_keys, limit, prepared_texts):
            continue
        for item in references_in(page, tree, prepared, folder_keys):
            if item.target.same_page or item.generated:
                continue  # generated links come from redirect_to, checked above
            found.extend(
                _check_one(page, item.target, item.line, item.dest.url, tree, pages, folder_keys, limit, prepared_texts)
            )
    return found


def _quietly_sound(
    page: PageSource,
    prepared: Prepared,
    tree: DocsTree,
    pages: Mapping[str, PageSource],
    folder_keys: frozenset[str],
    limit: int,
    prepared_texts: dict[str, str],
) -> bool:
    """Whether every link of the page is sound, answered without locating the links (most pages): the
    URLs checked are those :func:`references_in` finds, and more. False when a check fails or the answer
    needs the full pass; the caller then checks the page the full way, which says where each problem is."""
    if prepared.prefix_len:
        return False  # a callout or redirect body we wrote: its links are not the author's
    urls = scan(prepared.text).inline_urls
    if urls is None:
        return False
    for url, image in urls:
        target = classify_destination(url, page.path, image, folder_keys, tree.root)
        if target is None or target.same_page:
            continue
        for _problem in _check_one(page, target, 0, url, tree, pages, folder_keys, limit, prepared_texts):
            return False
    return True


def fork_cpus(page_count: int) -> int:
    """The CPUs a forked check of ``page_count`` pages may use; 1: do not fork.

    Only on Linux (fork is the platform's default there and starts at once, sharing the parsed tree
    without pickling it), for a tree large enough to gain, and only from a process with no other thread
    running (a fork copies locks another thread may hold).
    """
    if page_count < PARALLEL_MIN_PAGES or sys.platform != "linux" or threading.active_count() > 1:
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except OSError:
        return 1


def _parallel_workers(page_count: int) -> int:
    """How many processes check the pages: 1 unless the tree is large and a fork is safe and cheap."""
    return max(1, min(fork_cpus(page_count), page_count // (PARALLEL_MIN_PAGES // 2)))


# What a forked checker works on: set in the parent just before the fork, inherited, never pickled.
_FORKED: tuple[DocsTree, Structure, int, list[PageSource]] | None = None


def _check_slice(start: int, stop: int) -> list[Diagnostic]:
    assert _FORKED is not None
    tree, structure, limit, ordered = _FORKED
    return _check_pages(tree, structure, limit, ordered[start:stop])


def _check_in_parallel(
    tree: DocsTree, structure: Structure, limit: int, ordered: list[PageSource], workers: int
) -> list[Diagnostic] | None:
    """The pages in ``workers`` contiguous slices, the first checked here, the others in forked processes.

    None when the processes cannot be started or fail: the caller then checks every page itself.
    """
    global _FORKED
    bounds = [len(ordered) * k // workers for k in range(workers + 1)]
    _FORKED = (tree, structure, limit, ordered)
    try:
        with ProcessPoolExecutor(max_workers=workers - 1, mp_context=multiprocessing.get_context("fork")) as pool:
            futures = [pool.submit(_check_slice, bounds[k], bounds[k + 1]) for k in range(1, workers)]
            found = _check_pages(tree, structure, limit, ordered[: bounds[1]])
            for future in futures:
                found.extend(future.result())
        return found
    except (OSError, BrokenProcessPool):
        return None
    finally:
        _FORKED = None


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


def _check_one(
    page: PageSource,
    target: LinkTarget,
    line: int,
    url: str,
    tree: DocsTree,
    pages: Mapping[str, PageSource],
    folder_keys: frozenset[str],
    limit: int,
    prepared_texts: dict[str, str],
) -> Iterator[Diagnostic]:
    is_image = target.kind is RefKind.IMAGE
    if target.outside:
        if is_image:
            yield error(page.path, line, Rule.IMAGE_BROKEN, f"image {url} is outside the docs tree; move it inside")
        else:
            yield error(
                page.path,
                line,
                Rule.LINK_BROKEN,
                f"link {url} points outside the docs tree, which BookStack cannot resolve; use an https:// URL",
            )
        return
    if target.kind is RefKind.PAGE:
        if target.path not in pages:
            if target.path in tree.page_files:
                why = "cannot be published (see its own errors)"
            elif (tree.root / target.path).is_file():
                why = "is not a page of the hierarchy (see `bookstack-sync paths`)"
            else:
                why = "does not exist"
            yield error(page.path, line, Rule.LINK_BROKEN, f"link {url}: {target.path} {why}")
            return
        if target.fragment is not None:
            if target.path not in prepared_texts:
                prepared_texts[target.path] = prepare_body(pages[target.path], tree).text
            if not has_fragment(prepared_texts[target.path], target.fragment):
                yield warning(
                    page.path,
                    line,
                    Rule.LINK_BROKEN,
                    f"link {url}: no heading of {target.path} matches #{target.fragment}; "
                    "the link will go to the top of the page",
                )
        return
    if target.kind is RefKind.FOLDER:
        if target.path not in folder_keys:
            yield error(
                page.path,
                line,
                Rule.LINK_BROKEN,
                f"link {url}: {target.path or '.'} is not a shelf, book or chapter folder of the structure",
            )
        return
    asset = tree.assets.get(target.path)
    if asset is None:
        if (tree.root / target.path).is_file():
            why = "is not part of the docs content (the structure folder, an ignored path or a refused symlink)"
        else:
            why = "does not exist"
        rule = Rule.IMAGE_BROKEN if is_image else Rule.LINK_BROKEN
        yield error(page.path, line, rule, f"{'image' if is_image else 'link'} {url}: {target.path} {why}")
        return
    if is_image:
        problem = _image_problem(asset.file, target.path)
        if problem is not None:
            yield error(page.path, line, Rule.IMAGE_UNSUPPORTED, f"image {url}: {problem}")
            return
    if asset.size > limit:
        yield error(
            page.path,
            line,
            Rule.FILE_TOO_LARGE,
            f"{target.path} is {asset.size / 1_000_000:.1f} MB, over the upload limit of {limit // 1024 // 1000} MB "
            "(setting `max_upload_mb`, BookStack's FILE_UPLOAD_SIZE_LIMIT)",
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
