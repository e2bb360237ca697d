"""Which docs tree a run publishes: the id written as the ``bookstack-sync-tree`` tag on everything it writes.

Many repositories (and several docs folders of one repository) may publish into one wiki. Each object
records the tree that owns it; a run reads, changes, moves and deletes only its own tree's objects.

The id is the ``tree`` setting, or by default ``<repository>:<docs_dir>``: the repository as Woodpecker
names it (``CI_REPO``, ``owner/name``), else the path of the checkout's ``origin`` remote (the same
``owner/name`` when run locally from a clone), else the checkout's folder name; and the docs folder
relative to the checkout. Lowercase, so the forge's spelling of a name does not matter.

The id is written into BookStack searches as ``[bookstack-sync-tree=<id>]``: BookStack takes ``"…"`` out
of a query as an exact phrase first and ends a tag term at the first ``]``, so the characters an id may
hold are limited to ones that mean nothing there, and an id is never a number (BookStack compares a numeric
search value as a number, so `42` would also find `42/docs`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..git import Git, GitError, repository_root
from ..settings import TREE_ID_MAX, check_tree_id, is_number, workspace_of
from .tags import TREE_TAG

_OTHER = re.compile(r"[^a-z0-9._/:@+-]+")
_SCP_LIKE = re.compile(r"^[^/@:]+@[^/:]+:(.+)$")  # git@github.com:owner/name.git
_URL = re.compile(r"^[a-z][a-z0-9+.-]*://[^/]*(/.*)$")  # https://host/owner/name.git, ssh://git@host:22/owner/name


@dataclass(frozen=True)
class TreeId:
    value: str
    explicit: bool  # set by the `tree` setting (else derived from the repository and docs_dir)
    derived_from: str  # how it was found, for the log: "tree setting", "CI_REPO and docs_dir", ...

    def search_term(self) -> str:
        """The search term that finds exactly this tree's objects."""
        return f"[{TREE_TAG}={self.value}]"


def _normalise(text: str) -> str:
    """Any text as an id: lowercase, runs of other characters as ``-``, cut to the limit."""
    value = _OTHER.sub("-", text.strip().lower()).strip("-./:")
    return value[:TREE_ID_MAX].rstrip("-./:") or "docs"


def repository_of_remote(url: str) -> str | None:
    """``owner/name`` from a clone address (https, ssh, scp-like); a local path gives its last folder."""
    url = url.strip()
    found = _URL.match(url) or _SCP_LIKE.match(url)
    path = found.group(1) if found else url.rstrip("/").rpartition("/")[2]
    path = path.strip("/").removesuffix(".git").strip("/")
    return path or None


def origin_url(root: Path) -> str | None:
    """The address of the checkout's ``origin`` remote (what it was cloned from), if git knows one."""
    try:
        return Git(root).output("remote", "get-url", "origin").strip() or None
    except GitError:
        return None


def tree_id_for(tree_setting: str | None, docs_dir: Path, env: Mapping[str, str]) -> TreeId:
    """The run's tree id: the ``tree`` setting, else derived from the repository and docs_dir."""
    if tree_setting:
        return TreeId(check_tree_id(tree_setting), True, "tree setting")
    root = repository_root(docs_dir.resolve())
    repo = env.get("CI_REPO", "").strip()
    how = "CI_REPO"
    if not repo and root is not None:
        remote = origin_url(root)
        repo, how = (repository_of_remote(remote) or "", "git remote origin") if remote else ("", "")
    if not repo:
        folder = root or workspace_of(env).resolve()
        repo, how = folder.name, "checkout folder name"
    base = root or workspace_of(env).resolve()
    try:
        folder_path = PurePosixPath(docs_dir.resolve().relative_to(base.resolve()).as_posix())
    except ValueError:
        folder_path = PurePosixPath(docs_dir.as_posix())
    docs = str(folder_path)
    value = _normalise(repo) if docs in ("", ".") else _normalise(f"{repo}:{docs}")
    if is_number(value):  # a checkout folder named `2024` holding only docs: BookStack would search it as a number
        value = f"tree-{value}"
    return TreeId(value, False, f"{how} and docs_dir")
