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

import json
import logging
import posixpath
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..git import Git, GitError, repository_root
from ..settings import workspace_of

log = logging.getLogger("bookstack_sync.history")

# git's own default similarity (50%): a file renamed with a small edit is still a rename
RENAME_SIMILARITY = "50%"


@dataclass(frozen=True)
class History:
    renames: Mapping[str, str] = field(default_factory=dict)  # old page key -> new page key
    head: str | None = None  # the commit checked out, recorded on what this run writes
    notes: tuple[str, ...] = ()  # why history could not be used, for the plan


def _renames_since(git: Git, commit: str) -> dict[str, str]:
    """old path -> new path (relative to docs_dir) between ``commit`` and the files checked out now."""
    output = git.output(
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
    root = repository_root(docs_dir.resolve())
    if root is None or shutil.which("git") is None:
        why = "not a git checkout" if root is None else "git is not installed"
        return History(notes=_notes(written_at, f"no git history ({why})"))
    git = Git(docs_dir)
    try:
        head = git.output("rev-parse", "--verify", "HEAD").strip() or None
    except GitError as exc:
        log.debug("no HEAD: %s", exc)
        return History(notes=_notes(written_at, "no git history (the checkout has no commit)"))
    if not written_at:
        return History(head=head)
    commits = sorted({commit for commit in written_at.values() if commit})
    found: dict[str, dict[str, str]] = {}
    missing: list[str] = []
    for commit in commits:
        try:
            resolved = git.output("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").strip()
            found[commit] = _renames_since(git, resolved)
        except GitError as exc:
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
        shallow = _is_shallow(git)
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


def _is_shallow(git: Git) -> bool:
    try:
        return git.output("rev-parse", "--is-shallow-repository").strip() == "true"
    except GitError:
        return False


def _notes(written_at: Mapping[str, str | None], why: str) -> tuple[str, ...]:
    """A note only when history would have been asked something: a page whose file is gone."""
    if not written_at:
        return ()
    return (f"{why}: pages whose file is gone are paired by file name, title and content",)


def changed_since(docs_dir: Path, commit: str) -> list[str] | None:
    """Files under docs_dir (relative to it) that differ between ``commit`` and what is on disk now:
    committed, uncommitted and untracked changes alike. None when git cannot say (no checkout, no git,
    the commit is not in this clone)."""
    if not commit or repository_root(docs_dir.resolve()) is None or shutil.which("git") is None:
        return None
    git = Git(docs_dir)
    try:
        resolved = git.output("rev-parse", "--verify", "--quiet", f"{commit}^{{commit}}").strip()
        changed = git.output("diff", "--no-ext-diff", "--name-only", "-z", "--relative", resolved, "--", ".")
        untracked = git.output("ls-files", "--others", "--exclude-standard", "-z", "--", ".")
    except (GitError, OSError) as exc:
        log.debug("changed since %s: %s", commit, exc)
        return None
    return sorted({name for name in (changed + untracked).split("\0") if name})


def pipeline_files(docs_dir: Path, env: Mapping[str, str]) -> tuple[list[str] | None, str]:
    """The files under docs_dir (relative to it) that Woodpecker says the pipeline's push changed
    (``CI_PIPELINE_FILES``: a JSON list of paths from the repository's root, the workspace; unset when
    the push changed more than 500 files, empty for a manual, cron or tag pipeline), for a clone
    without the last sync's commit; None and why when it cannot say."""
    raw = env.get("CI_PIPELINE_FILES")
    if raw is None:
        return None, "CI_PIPELINE_FILES is not set"
    try:
        named = json.loads(raw)
    except ValueError:
        return None, "CI_PIPELINE_FILES is not a JSON list"
    if not isinstance(named, list) or not all(isinstance(name, str) for name in named):
        return None, "CI_PIPELINE_FILES is not a JSON list of paths"
    if not named:
        return None, "CI_PIPELINE_FILES names no file (a manual, cron or tag pipeline)"
    try:
        docs = docs_dir.resolve().relative_to(workspace_of(env).resolve())
    except ValueError:
        return None, "the docs lie outside the workspace CI_PIPELINE_FILES is relative to"
    inside = set()
    for name in named:
        path = PurePosixPath(posixpath.normpath(name))
        if docs == Path() or path.is_relative_to(docs.as_posix()):
            inside.add(path.relative_to(docs.as_posix()).as_posix() if docs != Path() else path.as_posix())
    return sorted(inside), ""
