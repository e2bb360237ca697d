"""Where git says a page file went: renames since the commit each page was last written from.

Every page the plugin writes carries the commit it was written from (``bookstack-sync-commit``). For a
page whose file is gone, ``git diff --find-renames <that commit>`` over docs_dir says whether the file
was renamed or moved, and where to — the way ``git log --follow`` follows a file, with or without
edits (git's rename similarity). No history is not an error: outside a git checkout, in a shallow clone
that lacks the commit (Woodpecker's default clone fetches one commit unless ``partial: false``), after a
force-push that dropped it, or without git installed, the mapping is empty and the planner pairs what
it can by name, title and content (``identity``).
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger("bookstack_sync.history")

GIT_TIMEOUT = 60  # seconds for one git command; a diff over a large docs tree takes well under one
# git's own default similarity (50%): a file renamed with a small edit is still a rename
RENAME_SIMILARITY = "50%"


@dataclass(frozen=True)
class History:
    renames: Mapping[str, str] = field(default_factory=dict)  # old page key -> new page key
    head: str | None = None  # the commit checked out, recorded on what this run writes
    notes: tuple[str, ...] = ()  # why history could not be used, for the plan


class _GitError(Exception):
    pass


def _repository_root(path: Path) -> Path | None:
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


def _git(root: Path, cwd: Path, *args: str) -> str:
    # A checkout owned by another user (the clone step ran as root, this step as uid 1000) is refused as
    # "dubious ownership" unless trusted: trust exactly this checkout, and never run its filesystem
    # monitor, external diff drivers or text conversions.
    command = [
        "git",
        "-c",
        f"safe.directory={root}",
        "-c",
        "core.fsmonitor=false",
        *args,
    ]
    # never the network: a partial clone would fetch a missing object from its remote (git 2.44+ obeys this)
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_NO_LAZY_FETCH": "1", "LC_ALL": "C"}
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=GIT_TIMEOUT, env=env, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise _GitError(str(exc)) from exc
    if done.returncode != 0:
        raise _GitError(done.stderr.decode(errors="replace").strip() or f"git {args[0]} failed")
    return done.stdout.decode("utf-8", errors="surrogateescape")


def _renames_since(root: Path, docs_dir: Path, commit: str) -> dict[str, str]:
    """old path -> new path (relative to docs_dir) between ``commit`` and the files checked out now."""
    output = _git(
        root,
        docs_dir,
        "diff",
        "--no-ext-diff",
        "--no-textconv",
        f"--find-renames={RENAME_SIMILARITY}",
        "--name-status",
        "-z",
        "--relative",
        commit,
        "--",
        ".",
    )
    fields = output.split("\0")
    renames: dict[str, str] = {}
    index = 0
    while index < len(fields) and fields[index]:
        status = fields[index]
        if status.startswith(("R", "C")):
            old, new = fields[index + 1], fields[index + 2]
            if status.startswith("R"):
                renames[old] = new
            index += 3
        else:
            index += 2
    return renames


def read_history(docs_dir: Path, written_at: Mapping[str, str | None]) -> History:
    """Follow the files of ``written_at`` (page key -> the commit it was last written from, None when
    unknown) from that commit to the files checked out now (uncommitted ``git mv`` included). A key
    without a commit is followed from every commit the others name. Also says which commit is
    checked out, for this run to record."""
    root = _repository_root(docs_dir.resolve())
    if root is None or shutil.which("git") is None:
        why = "not a git checkout" if root is None else "git is not installed"
        return History(notes=_notes(written_at, f"no git history ({why})"))
    try:
        head = _git(root, docs_dir, "rev-parse", "--verify", "HEAD").strip() or None
    except _GitError as exc:
        log.debug("no HEAD: %s", exc)
        return History(notes=_notes(written_at, "no git history (the checkout has no commit)"))
    if not written_at:
        return History(head=head)
    commits = sorted({commit for commit in written_at.values() if commit})
    found: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    for commit in commits:
        try:
            resolved = _git(root, docs_dir, "rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").strip()
            found[commit] = _renames_since(root, docs_dir, resolved)
        except _GitError as exc:
            log.debug("commit %s: %s", commit, exc)
            missing.append(commit)
    renames: dict[str, str] = {}
    for key, recorded in sorted(written_at.items()):
        for since in [recorded] if recorded else commits:
            new = found.get(since, {}).get(key)
            if new is not None:
                renames[key] = new
                break
    notes: list[str] = []
    if missing:
        shallow = _is_shallow(root, docs_dir)
        why = "a shallow clone" if shallow else "rewritten history or another repository"
        notes.append(
            f"git history: {len(missing)} recorded commit(s) not in this checkout ({why}, e.g. {missing[0][:12]}); "
            "pages from them are paired by file name, title and content"
        )
    if written_at and not commits:
        notes.append(
            "git history: no page records the commit it was written from; pairing by file name, title and content"
        )
    return History(renames=renames, head=head, notes=tuple(notes))


def _is_shallow(root: Path, docs_dir: Path) -> bool:
    try:
        return _git(root, docs_dir, "rev-parse", "--is-shallow-repository").strip() == "true"
    except _GitError:
        return False


def _notes(written_at: Mapping[str, str | None], why: str) -> tuple[str, ...]:
    """A note only when history would have been asked something: a page whose file is gone."""
    if not written_at:
        return ()
    return (f"{why}: pages whose file is gone are paired by file name, title and content",)
