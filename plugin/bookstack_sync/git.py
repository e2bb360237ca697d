"""git, run one way for every stage that asks it something: history's renames, pull's and migrate's
"is this file committed?", migrate's moves, scaffold's author.

A checkout owned by another user (the clone step ran as root, this step as uid 1000) is refused as
"dubious ownership" unless trusted: exactly this checkout is trusted, and git never runs its filesystem
monitor, asks for a password, or fetches a missing object from the network (a partial clone would;
git 2.44+ obeys ``GIT_NO_LAZY_FETCH``). Without git on PATH, or outside a checkout, the docs are plain files.
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

GIT_TIMEOUT = 60  # seconds for one git command; a diff over a large docs tree takes well under one


class GitError(Exception):
    """git could not run, or refused (its message)."""


def repository_root(path: Path) -> Path | None:
    """The folder holding ``.git`` at or above ``path``."""
    for folder in (path, *path.parents):
        if (folder / ".git").exists():
            return folder
    return None


@dataclass(frozen=True)
class Git:
    """The git work tree holding ``cwd``; paths given and returned are relative to ``cwd``."""

    cwd: Path

    @classmethod
    def find(cls, docs_dir: Path) -> Git | None:
        git = cls(docs_dir)
        result = git.run("rev-parse", "--is-inside-work-tree")
        return git if result is not None and result.returncode == 0 and result.stdout.strip() == "true" else None

    def _command(self, args: tuple[str, ...]) -> list[str]:
        root = repository_root(self.cwd.resolve()) or self.cwd.resolve()
        return ["git", "-c", f"safe.directory={root}", "-c", "core.fsmonitor=false", *args]

    def run(self, *args: str) -> subprocess.CompletedProcess[str] | None:
        """The finished command (any exit status); None when git cannot run (not installed, timed out)."""
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_NO_LAZY_FETCH": "1", "LC_ALL": "C"}
        try:
            return subprocess.run(
                self._command(args),
                cwd=self.cwd,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="surrogateescape",
                timeout=GIT_TIMEOUT,
                env=env,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None

    def output(self, *args: str) -> str:
        """What the command printed; GitError when it could not run or failed."""
        result = self.run(*args)
        if result is None:
            raise GitError(f"git {args[0]} could not run")
        if result.returncode != 0:
            raise GitError(result.stderr.strip() or f"git {args[0]} failed")
        return result.stdout

    def tracked(self) -> set[str]:
        result = self.run("ls-files", "-z")
        if result is None or result.returncode != 0:
            return set()
        return {path for path in result.stdout.split("\0") if path}

    def changes(self, path: str = ".") -> list[str]:
        """Uncommitted changes under ``path`` (untracked files too), as ``git status`` shows them."""
        result = self.run("status", "--porcelain", "--untracked-files=all", "--", path)
        if result is None or result.returncode != 0:
            return []
        return [line for line in result.stdout.splitlines() if line.strip()]

    def last_commit(self, path: str) -> tuple[str, str] | None:
        """(date YYYY-MM-DD, author name) of the last commit touching ``path``."""
        result = self.run("log", "-1", "--format=%cs%x00%an", "--", path)
        if result is None or result.returncode != 0 or "\0" not in result.stdout:
            return None
        date, _, author = result.stdout.strip().partition("\0")
        return date, author.strip()

    def user_name(self) -> str | None:
        result = self.run("config", "user.name")
        if result is None or result.returncode != 0:
            return None
        return result.stdout.strip() or None

    def mv(self, old: str, new: str) -> str | None:
        """``git mv``; the error text when git refused."""
        result = self.run("mv", "--", old, new)
        if result is None:
            return "git is not available"
        if result.returncode != 0:
            return result.stderr.strip() or f"git mv exited with {result.returncode}"
        return None
