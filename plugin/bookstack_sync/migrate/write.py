"""Carrying out a migration plan: moves (``git mv`` inside a work tree), files rewritten atomically, never
an existing file overwritten.
"""

from __future__ import annotations

import os
import posixpath
import tempfile
from pathlib import Path
from typing import TextIO

from ..errors import BookstackSyncError, ExitCode, UsageError
from ..git import Git
from .planning import MigrationPlan, same_file
from .show import describe_changes


class ApplyError(BookstackSyncError):
    """A step of ``--apply`` failed part way; what was done is reported, nothing is lost."""

    exit_code = ExitCode.INVALID_DOCS


def check_clean(git: Git | None, force: bool) -> None:
    if git is None or force:
        return
    changes = git.changes()
    if changes:
        shown = "\n  ".join(changes[:10]) + ("\n  ..." if len(changes) > 10 else "")
        raise UsageError(
            f"uncommitted changes under the docs folder; migrate --apply moves files and wants a clean start:\n  {shown}",
            hint="commit or stash them first, or pass --force",
        )


def write_migration(plan: MigrationPlan, git: Git | None, out: TextIO) -> None:
    """Carry the plan out: moves first (``git mv`` for tracked files), then atomic rewrites."""
    docs_dir = plan.docs_dir
    tracked = git.tracked() if git is not None else set()
    done: list[str] = []
    emptied: set[str] = set()
    try:
        for item in plan.files:
            if not item.moves:
                continue
            assert item.target is not None
            (docs_dir / item.target).parent.mkdir(parents=True, exist_ok=True)
            if git is not None and item.source in tracked:
                problem = git.mv(item.source, item.target)
                if problem is not None:
                    raise ApplyError(f"git mv {item.source} {item.target} failed: {problem}")
                how = "git mv"
            else:
                _move(docs_dir / item.source, docs_dir / item.target)
                how = "moved"
            emptied.add(posixpath.dirname(item.source))
            done.append(item.source)
            out.write(f"{how}: {item.source} -> {item.target}\n")
        for item in plan.files:
            if item.content is None:
                continue
            write_atomic(docs_dir / item.final_path, item.content, item.mode)
            out.write(f"updated: {item.final_path} ({describe_changes(item)})\n")
    except OSError as exc:
        raise ApplyError(
            f"stopped: {exc.strerror or exc} ({exc.filename}); "
            f"{len(done)} file(s) were moved before that, nothing was deleted",
            hint="fix the cause and run `migrate --apply --force` again to finish",
        ) from None
    for directory in sorted(emptied, key=len, reverse=True):
        _remove_empty(docs_dir, directory)


def _move(source: Path, target: Path) -> None:
    # os.rename would replace an existing target without a word; a hard link refuses to
    try:
        os.link(source, target)
    except FileExistsError:
        if not same_file(source, target):
            raise
        os.rename(source, target)  # a case-only rename
        return
    except OSError:
        if os.path.lexists(target):
            raise FileExistsError(17, "target exists", str(target)) from None
        os.rename(source, target)  # no hard links on this file system
        return
    os.unlink(source)


def write_atomic(path: Path, content: bytes, mode: int) -> None:
    # a crash half way leaves the old file whole: the new bytes go to a temporary file that replaces it
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _remove_empty(docs_dir: Path, rel: str) -> None:
    while rel:
        try:
            os.rmdir(docs_dir / rel)  # fails on a folder with anything left in it, which is the point
        except OSError:
            return
        rel = posixpath.dirname(rel)
