"""Git history: where a gone page's file went, from the commit it was last written from."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from bookstack_sync.plan.history import read_history


def git(root: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.org",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.org",
        "HOME": str(root),
    }
    return subprocess.run(["git", *args], cwd=root, env=env, capture_output=True, text=True, check=True).stdout.strip()


def repo(tmp_path: Path) -> tuple[Path, Path, str]:
    root = tmp_path / "repo"
    docs = root / "docs" / "eng" / "guide" / "start"
    docs.mkdir(parents=True)
    (docs / "01-install.md").write_text("---\ntitle: Install\n---\n" + "Run make.\n" * 20)
    (docs / "02-configure.md").write_text("---\ntitle: Configure\n---\n" + "Set things.\n" * 20)
    (root / "README.md").write_text("outside the docs\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "docs")
    return root, root / "docs", git(root, "rev-parse", "HEAD")


def test_renames_from_the_recorded_commit_to_the_checkout(tmp_path: Path) -> None:
    root, docs, first = repo(tmp_path)
    git(root, "mv", "docs/eng/guide/start/02-configure.md", "docs/eng/guide/start/03-configure.md")
    path = docs / "eng/guide/start/03-configure.md"
    path.write_text(path.read_text().replace("title: Configure", "title: Configuration"))
    git(root, "commit", "-qam", "renumber")
    git(root, "mv", "docs/eng/guide/start/01-install.md", "docs/eng/guide/01-install.md")  # not committed yet
    history = read_history(docs, {"eng/guide/start/02-configure.md": first, "eng/guide/start/01-install.md": None})
    assert history.renames == {
        "eng/guide/start/02-configure.md": "eng/guide/start/03-configure.md",
        "eng/guide/start/01-install.md": "eng/guide/01-install.md",  # no commit of its own: followed from the other's
    }
    assert history.head == git(root, "rev-parse", "HEAD") and history.notes == ()


def test_a_missing_commit_and_a_folder_outside_git_say_so(tmp_path: Path) -> None:
    _, docs, _ = repo(tmp_path)
    history = read_history(docs, {"eng/guide/start/02-configure.md": "0123456789ab"})
    assert history.renames == {} and history.head is not None
    assert "not in this checkout" in history.notes[0] and "rewritten history" in history.notes[0]
    plain = tmp_path / "plain"
    plain.mkdir()
    history = read_history(plain, {"a/b/01-x.md": "0123456789ab"})
    assert history.head is None and "not a git checkout" in history.notes[0]
    assert read_history(plain, {}).notes == ()  # nothing gone: nothing to say
