"""The whole validation on two CPUs, for a large tree: a forked worker reads half the page files while this
process reads the other half; they swap what they read (both ways at once), then this process runs the schema and folder rules
and both take slices of the link checking from one queue until none is left, so neither waits for the
other. Whatever the worker fails to deliver, this process does itself.
"""

from __future__ import annotations

import contextlib
import gc
import os
import pickle
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from ..docs.diagnostics import Diagnostic
from ..docs.structure import Structure
from ..docs.tree import DocsTree, PageFile, PageRead, PageSource, TreeWalk, read_pages
from .references import LinkChecker, checking_order

# Pages are validated in two processes from this many on: below it, starting one costs more than it saves.
PARALLEL_MIN_PAGES = 2000

# The link checking is cut into this many slices of the checking order; each process takes the next slice
# left whenever it is free, so the one that also runs the schema and folder rules simply takes fewer.
LINK_SLICES = 64


@dataclass
class ProcessShare:
    """What one process of a two-process validation did: seconds per stage, wall clock and CPU.

    Stages: ``reading`` its half of the page files; ``exchange`` swapping what each read (includes waiting
    for the other to finish reading); ``tree`` assembling the whole tree; ``rules`` the schema and folder
    rules (the parent only); ``links`` the link slices it took; ``waiting`` at the end, for the other's last
    slice (the parent only).
    """

    wall: dict[str, float] = field(default_factory=dict)
    cpu: dict[str, float] = field(default_factory=dict)
    slices: int = 0  # link slices taken
    cpu_total: float = 0.0  # CPU time of the whole share, from the fork to the end

    @contextlib.contextmanager
    def stage(self, name: str) -> Iterator[None]:
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            yield
        finally:
            self.wall[name] = self.wall.get(name, 0.0) + time.perf_counter() - wall
            self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu


# What the last two-process validation of this process did: (parent, worker); for bench/validate_tree.py.
last_split: tuple[ProcessShare, ProcessShare] | None = None


def fork_cpus(page_count: int) -> int:
    """The CPUs a forked validation of ``page_count`` pages may use; 1: do not fork.

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


def _swap(out: BinaryIO, inp: BinaryIO, value: object) -> Any:
    """Send ``value`` to the other process while receiving what it sends: both hand-offs at once, each
    written from a thread while this one reads (a pipe holds little, so one-after-the-other would wait)."""
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    failed: list[OSError] = []

    def write() -> None:
        try:
            out.flush()
            for part in (len(data).to_bytes(8, "little"), data):
                view = memoryview(part)
                while view:  # past the buffer: a failed write leaves nothing for closing the file to retry
                    view = view[os.write(out.fileno(), view) :]
        except OSError as exc:  # the other process is gone: its side fails too, and says so
            failed.append(exc)

    writer = threading.Thread(target=write, name="bookstack-sync-handoff")
    writer.start()
    try:
        received = _receive(inp)
    finally:
        writer.join()  # a closed reader makes the write fail at once: this never waits for long
    if failed:
        raise failed[0]
    return received


def _receive(inp: BinaryIO) -> Any:
    head = inp.read(8)
    if len(head) != 8:
        raise EOFError("the other process closed the pipe")
    size = int.from_bytes(head, "little")
    data = inp.read(size)
    if len(data) != size:
        raise EOFError("the other process closed the pipe")
    return pickle.loads(data)


def _slices(count: int) -> list[tuple[int, int]]:
    """The link checking's slices of :func:`checking_order` for ``count`` pages (never more than there are)."""
    n = max(1, min(LINK_SLICES, count))
    return [(count * k // n, count * (k + 1) // n) for k in range(n)]


def _take_slices(
    queue: int, checker: LinkChecker, ordered: list[PageSource], share: ProcessShare
) -> dict[int, list[Diagnostic]]:
    """Check the slices whose numbers this process reads from ``queue`` until it is empty."""
    bounds = _slices(len(ordered))
    done: dict[int, list[Diagnostic]] = {}
    with share.stage("links"):
        while True:
            token = os.read(queue, 2)  # two bytes a slice, all written before the fork: a read takes one whole
            if len(token) < 2:
                break
            index = int.from_bytes(token, "little")
            if index < len(bounds):
                low, high = bounds[index]
                done[index] = checker.check(ordered[low:high])
                share.slices += 1
    return done


def _assemble(
    walk: TreeWalk, reads: list[PageRead], structure: Structure, max_upload_mb: int, freeze: bool
) -> tuple[DocsTree, list[PageSource], LinkChecker]:
    """The whole tree in this process, the order its pages' links are checked in, and the checker."""
    tree = walk.finish(reads)
    if freeze:
        gc.freeze()  # the tree too: collections during link checking need not walk it
    return tree, checking_order(tree), LinkChecker(tree, structure, max_upload_mb=max_upload_mb)


def validate_in_two(
    structure: Structure,
    walk: TreeWalk,
    tree_rules: Callable[[Structure, DocsTree], list[Diagnostic]],
    max_upload_mb: int,
) -> tuple[DocsTree, list[Diagnostic]] | None:
    """:func:`validate_tree` over the walked tree with one forked worker; None when it cannot start.

    The worker reads the second half of the page files while the parent reads the first; they swap
    what they read, so both hold the whole tree. Then the parent runs the schema and folder rules,
    and both take slices of the link checking from a shared queue until none is left: neither waits
    for the other but for the last slice. Whatever the worker fails to deliver, the parent does itself:
    the result is the same either way.
    """
    global last_split
    files = walk.files
    half = len(files) // 2
    slices = len(_slices(len(files)))
    try:
        to_parent_r, to_parent_w = os.pipe()
        to_child_r, to_child_w = os.pipe()
        queue, queue_w = os.pipe()
    except OSError:
        return None
    os.write(queue_w, b"".join(k.to_bytes(2, "little") for k in range(slices)))  # 128 bytes: never blocks
    os.close(queue_w)
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()  # a buffer copied into the worker must not be written twice
    # The garbage collector leaves alone what exists now (the worker's copy included: no copy-on-write of
    # its objects' headers) and, once each process has the whole tree, the tree: its full collections
    # then walk only what link checking makes, not the tens of thousands of objects a large tree is.
    # Not in a program that froze objects itself: unfreezing at the end would unfreeze those too.
    freeze = gc.get_freeze_count() == 0
    if freeze:
        gc.freeze()
    try:
        pid = os.fork()
    except OSError:
        if freeze:
            gc.unfreeze()
        for fd in (to_parent_r, to_parent_w, to_child_r, to_child_w, queue):
            os.close(fd)
        return None
    if pid == 0:  # pragma: no cover - the worker; its results are checked through the parent's
        status = 1
        try:
            os.close(to_parent_r)
            os.close(to_child_w)
            share = ProcessShare()
            cpu = time.process_time()
            with os.fdopen(to_parent_w, "wb") as out, os.fdopen(to_child_r, "rb") as inp:
                with share.stage("reading"):
                    mine = read_pages(files[half:])
                with share.stage("exchange"):
                    theirs = _restore(_swap(out, inp, _portable(mine)), files[:half])
                with share.stage("tree"):
                    _, ordered, checker = _assemble(walk, theirs + mine, structure, max_upload_mb, freeze)
                done = _take_slices(queue, checker, ordered, share)
                share.cpu_total = time.process_time() - cpu
                _send(out, (done, share))
            status = 0
        finally:
            os._exit(status)
    os.close(to_parent_w)
    os.close(to_child_r)
    finished = False
    try:
        share = ProcessShare()
        cpu = time.process_time()
        with os.fdopen(to_parent_r, "rb") as inp, os.fdopen(to_child_w, "wb") as out:
            worker = True
            with share.stage("reading"):
                mine = read_pages(files[:half])
            with share.stage("exchange"):
                try:
                    theirs = _restore(_swap(out, inp, _portable(mine)), files[half:])
                except (OSError, EOFError, ValueError, pickle.UnpicklingError):
                    worker = False
                    theirs = read_pages(files[half:])
            with share.stage("tree"):
                tree, ordered, checker = _assemble(walk, mine + theirs, structure, max_upload_mb, freeze)
            with share.stage("rules"):
                found = tree_rules(structure, tree)
            done = _take_slices(queue, checker, ordered, share)
            worker_share = ProcessShare()
            with share.stage("waiting"):
                if worker:
                    try:
                        theirs_done, worker_share = _receive(inp)
                    except (OSError, EOFError, pickle.UnpicklingError):
                        theirs_done = {}  # the parent checks the worker's slices below
                    done.update(theirs_done)
                bounds = _slices(len(ordered))
                for index, (low, high) in enumerate(bounds):
                    if index not in done:
                        done[index] = checker.check(ordered[low:high])
                for index in range(len(bounds)):
                    found.extend(done[index])
            share.cpu_total = time.process_time() - cpu
            last_split = (share, worker_share)
        finished = True
        return tree, found
    finally:
        if freeze:
            gc.unfreeze()
        os.close(queue)
        if not finished:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(OSError):
            os.waitpid(pid, 0)
