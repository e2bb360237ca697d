"""The whole validation on two CPUs, for a large tree: a forked worker reads half the page files and checks
the links of the last pages while this process reads the other half and runs the schema, the folder rules
and the links of the first pages. Whatever the worker fails to deliver, this process does itself.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

from ..docs.diagnostics import Diagnostic
from ..docs.structure import Structure
from ..docs.tree import DocsTree, PageFile, PageRead, PageSource, TreeWalk, read_pages
from .references import check_page_references, checking_order, fork_cpus

# Share of the link checking (by characters of page text) done by the parent, which also runs the schema
# and folder rules while the forked worker checks the rest of the links.
PARENT_LINK_SHARE = 0.46


def can_fork(page_files: int) -> bool:
    """Whether validating ``page_files`` pages is worth a second process (see :func:`fork_cpus`)."""
    return fork_cpus(page_files) > 1


_Portable = tuple[tuple[str, Any, Any, int, str, int] | None, list[Diagnostic]]


def _portable(reads: list[PageRead]) -> list[_Portable]:
    """Read pages without their folder (the other process has the same folders): what goes down the pipe."""
    out: list[_Portable] = []
    for page, found in reads:
        if page is None:
            out.append((None, found))
        else:
            fields = (page.path, page.frontmatter, page.field_lines, page.frontmatter_line, page.body, page.body_line)
            out.append((fields, found))
    return out


def _restore(portable: list[_Portable], files: list[PageFile]) -> list[PageRead]:
    if len(portable) != len(files):
        raise ValueError("the worker read another number of pages")
    out: list[PageRead] = []
    for (fields, found), (_file, rel, folder) in zip(portable, files, strict=True):
        if fields is None:
            out.append((None, found))
            continue
        path, frontmatter, field_lines, frontmatter_line, body, body_line = fields
        if path != rel:
            raise ValueError("the worker read another page")
        out.append((PageSource(path, folder, frontmatter, field_lines, frontmatter_line, body, body_line), found))
    return out


def _send(out: BinaryIO, value: object) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    out.write(len(data).to_bytes(8, "little"))
    out.write(data)
    out.flush()


def _receive(inp: BinaryIO) -> Any:
    head = inp.read(8)
    if len(head) != 8:
        raise EOFError("the other process closed the pipe")
    size = int.from_bytes(head, "little")
    data = inp.read(size)
    if len(data) != size:
        raise EOFError("the other process closed the pipe")
    return pickle.loads(data)


def _link_split(ordered: list[PageSource]) -> int:
    """Where the parent's part of :func:`checking_order` ends: a share of the text, not of the pages."""
    total = sum(len(page.body) for page in ordered)
    goal = total * PARENT_LINK_SHARE
    running = 0
    for index, page in enumerate(ordered):
        if running >= goal:
            return index
        running += len(page.body)
    return len(ordered)


def validate_in_two(
    structure: Structure,
    walk: TreeWalk,
    tree_rules: Callable[[Structure, DocsTree], list[Diagnostic]],
    max_upload_mb: int,
) -> tuple[DocsTree, list[Diagnostic]] | None:
    """:func:`validate_tree` over the walked tree with one forked worker; None when it cannot start.

    The worker reads the second half of the page files while the parent reads the first; they swap
    what they read, so both hold the whole tree; then the worker checks the links of the last pages
    while the parent runs the schema, the folder rules and the links of the first pages. Whatever the
    worker fails to deliver, the parent does itself: the result is the same either way.
    """
    files = walk.files
    half = len(files) // 2
    try:
        to_parent_r, to_parent_w = os.pipe()
        to_child_r, to_child_w = os.pipe()
    except OSError:
        return None
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()  # a buffer copied into the worker must not be written twice
    try:
        pid = os.fork()
    except OSError:
        for fd in (to_parent_r, to_parent_w, to_child_r, to_child_w):
            os.close(fd)
        return None
    if pid == 0:  # pragma: no cover - the worker; its results are checked through the parent's
        status = 1
        try:
            os.close(to_parent_r)
            os.close(to_child_w)
            with os.fdopen(to_parent_w, "wb") as out, os.fdopen(to_child_r, "rb") as inp:
                mine = read_pages(files[half:])
                _send(out, _portable(mine))
                theirs = _restore(_receive(inp), files[:half])
                tree = walk.finish(theirs + mine)
                ordered = checking_order(tree)
                worker_part = ordered[_link_split(ordered) :]
                _send(out, check_page_references(tree, structure, worker_part, max_upload_mb=max_upload_mb))
            status = 0
        finally:
            os._exit(status)
    os.close(to_parent_w)
    os.close(to_child_r)
    finished = False
    try:
        with os.fdopen(to_parent_r, "rb") as inp, os.fdopen(to_child_w, "wb") as out:
            worker = True
            mine = read_pages(files[:half])
            try:
                theirs = _restore(_receive(inp), files[half:])
                _send(out, _portable(mine))
            except (OSError, EOFError, ValueError, pickle.UnpicklingError):
                worker = False
                theirs = read_pages(files[half:])
            tree = walk.finish(mine + theirs)
            found = tree_rules(structure, tree)
            ordered = checking_order(tree)
            split = _link_split(ordered)
            found.extend(check_page_references(tree, structure, ordered[:split], max_upload_mb=max_upload_mb))
            rest: list[Diagnostic] | None = None
            if worker:
                try:
                    rest = _receive(inp)
                except (OSError, EOFError, pickle.UnpicklingError):
                    rest = None
            if rest is None:
                rest = check_page_references(tree, structure, ordered[split:], max_upload_mb=max_upload_mb)
            found.extend(rest)
        finished = True
        return tree, found
    finally:
        if not finished:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
