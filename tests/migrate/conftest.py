"""A messy docs tree modelled on the seed's, in a real git repository, and a way to run the CLI on it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from bookstack_sync.cli import main
from tests.images import png

HERE = Path(__file__).parent
SEED_STRUCTURE = HERE / "seed-structure.yaml"
EXAMPLE_MAP = HERE.parent.parent / "examples" / "migration-map.yaml"
COMMIT_DATE = "2024-03-05T12:00:00+00:00"
AUTHOR = "Dana Writer"


def png_bytes() -> bytes:
    """A real 1x1 PNG: validate checks image bytes, not just names."""
    return png((0xFF, 0x00, 0x00), 1, 1)


# The messy tree, relative to docs/. Bytes exactly as written: CRLF, BOM and all.
MESSY: dict[str, bytes] = {
    # no frontmatter; links to files that move, an image that stays, and a link inside code that must not change
    "development/quick-start.md": (
        b"# Quick Start\n"
        b"\n"
        b"Pipelines come from the [templates](../ci-cd/PIPELINE-TEMPLATES.md#jobs) and backups are in\n"
        b"[backup and restore](../operations/backup-restore-operations.md).\n"
        b"\n"
        b"![pipeline](../images/pipeline.png)\n"
        b"\n"
        b"```markdown\n"
        b"[not a link](../ci-cd/PIPELINE-TEMPLATES.md)\n"
        b"```\n"
        b"\n"
        b"See [our site](https://example.com/docs) and [below](#quick-start).\n"
    ),
    # CRLF, partial frontmatter with a comment, tags as one string, a category that is no chapter
    "ci-cd/PIPELINE-TEMPLATES.md": (
        b"---\r\n"
        b"title: Pipeline Templates\r\n"
        b"# kept: a comment the team wrote\r\n"
        b"tags: ci, templates\r\n"
        b"category: ci-cd\r\n"
        b"---\r\n"
        b"# Pipeline Templates\r\n"
        b"\r\n"
        b"## Jobs\r\n"
        b"\r\n"
        b"Start with the [quick start](../development/quick-start.md).\r\n"
        b"Workflows: [CI/CD workflows](CI-CD-WORKFLOWS.md).\r\n"
    ),
    "ci-cd/CI-CD-WORKFLOWS.md": b"# CI/CD Workflows\n\nBack to the [templates](./PIPELINE-TEMPLATES.md).\n",
    # a byte-order mark, no frontmatter, a percent-encoded link and an HTML image
    "operations/backup-restore-operations.md": (
        "\ufeff# Backup & Restore Operations\n"
        "\n"
        "New here? Read [Getting Started](../engineering/dev-guide/getting-started/Getting%20Started.md) first.\n"
        "\n"
        '<img src="../images/pipeline.png" alt="pipeline">\n'
        "\n"
        "## Restore\n"
    ).encode(),
    # a misnamed page already in its chapter: renamed after its numbered siblings
    "engineering/dev-guide/getting-started/Getting Started.md": (
        b"---\n"
        b"title: Getting Started\n"
        b"tags: [onboarding]\n"
        b"---\n"
        b"Read the [prerequisites](01-prerequisites.md), then the\n"
        b"[pipeline templates](../../../ci-cd/PIPELINE-TEMPLATES.md).\n"
    ),
    # conforming already; only its link to a moved page changes
    "engineering/dev-guide/getting-started/01-prerequisites.md": (
        b"---\n"
        b"title: Prerequisites\n"
        b"order: 1\n"
        b"category: getting-started\n"
        b"tags: []\n"
        b"last_updated: 2024-01-10\n"
        b"author: Sam\n"
        b"---\n"
        b"# Prerequisites\n"
        b"\n"
        b"Then go to the [quick start](../../../development/quick-start.md).\n"
    ),
    "engineering/dev-guide/getting-started/02-environment-setup.md": (
        b"---\n"
        b"title: Environment Setup\n"
        b"order: 2\n"
        b"category: getting-started\n"
        b"tags: [setup]\n"
        b"last_updated: 2024-01-11\n"
        b"author: Sam\n"
        b"---\n"
        b"# Environment Setup\n"
    ),
    "engineering/dev-guide/best-practices/01-coding-standards.md": (
        b"---\n"
        b"title: Coding Standards\n"
        b"order: 1\n"
        b"category: best-practices\n"
        b"tags: []\n"
        b"last_updated: 2024-01-12\n"
        b"author: Sam\n"
        b"---\n"
        b"# Coding Standards\n"
    ),
    "development/git-workflow.md": b"# Git Workflow\r\n\r\nRebase, then merge.\r\n",
    "development/branch-protection-rules.md": b"Protect `main`.\n",  # no heading: the title comes from the file name
    # the name rules: a one-digit prefix and an underscore
    "stack/setup/prerequisites/1-setup.md": (
        b"---\ntitle: Setup\norder: 1\ncategory: prerequisites\ntags: []\n---\nInstall the tools.\n"
    ),
    "stack/setup/post-install/01_setup.md": b"# Post-install setup\n\nCheck the services.\n",
    "images/pipeline.png": png_bytes(),
}


@dataclass
class Repo:
    root: Path

    @property
    def docs(self) -> Path:
        return self.root / "docs"

    def git(self, *args: str, env: dict[str, str] | None = None) -> str:
        result = subprocess.run(
            ["git", *args],
            cwd=self.root,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, **(env or {})},
        )
        return result.stdout

    def commit(self, message: str, *, all_files: bool = True) -> None:
        if all_files:
            self.git("add", "-A")
        dated = {"GIT_AUTHOR_DATE": COMMIT_DATE, "GIT_COMMITTER_DATE": COMMIT_DATE}
        self.git("commit", "-q", "-m", message, env=dated)

    def write(self, rel: str, content: bytes) -> None:
        path = self.docs / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)

    def read(self, rel: str) -> bytes:
        return (self.docs / rel).read_bytes()

    def snapshot(self) -> dict[str, str]:
        """Every file and folder under the repository (outside .git), with a hash of each file."""
        found: dict[str, str] = {}
        for directory, dirnames, filenames in os.walk(self.root):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            rel_dir = Path(directory).relative_to(self.root).as_posix()
            found[rel_dir + "/"] = "dir"
            for name in filenames:
                path = Path(directory) / name
                found[f"{rel_dir}/{name}"] = hashlib.sha256(path.read_bytes()).hexdigest()
        return found


def make_repo(root: Path, files: dict[str, bytes], structure: Path = SEED_STRUCTURE, *, git: bool = True) -> Repo:
    repo = Repo(root)
    repo.docs.mkdir(parents=True)
    (repo.docs / "bookstack").mkdir()
    shutil.copy(structure, repo.docs / "bookstack" / "bookstack-structure.yaml")
    for rel, content in files.items():
        repo.write(rel, content)
    if git:
        repo.git("init", "-q")
        repo.git("config", "user.name", AUTHOR)
        repo.git("config", "user.email", "dana@example.com")
        repo.git("config", "commit.gpgsign", "false")
        repo.commit("docs as they grew")
    return repo


@pytest.fixture
def messy(tmp_path: Path) -> Repo:
    return make_repo(tmp_path / "repo", MESSY)


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    def run(repo: Repo, *args: str) -> Result:
        capsys.readouterr()
        # run from the repository, as a person would: docs_dir and the map relative to it
        previous = Path.cwd()
        os.chdir(repo.root)
        try:
            code = main(["--docs-dir", "docs", *args], environ={})
        finally:
            os.chdir(previous)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


# book-level pages keep the paths short: guide/start/01-x.md has category `start`
SMALL_STRUCTURE = """\
structure:
  - shelf:
      name: Guide
      slug: guide
      books:
        - book: {name: Start, slug: start}
        - book: {name: Listed, slug: listed, pages: ["01-intro", "02-install"]}
        - book: {name: Other, slug: other}
"""

VALID = b"---\ntitle: T\norder: 1\ncategory: start\ntags: []\nlast_updated: 2024-01-01\nauthor: Sam\n---\n# T\n"


@pytest.fixture
def small(tmp_path: Path) -> Callable[..., Repo]:
    """A repository with one shelf of three books (docs/guide/{start,listed,other}) and the given files."""
    structure = tmp_path / "small-structure.yaml"
    structure.write_text(SMALL_STRUCTURE)

    def build(files: dict[str, bytes], *, git: bool = True, listed: bool = True) -> Repo:
        # the pages the `listed` book names, unless the test is about them
        defaults = {
            f"guide/listed/{stem}.md": VALID.replace(b"category: start", b"category: listed").replace(
                b"order: 1", f"order: {stem[:2].lstrip('0')}".encode()
            )
            for stem in ("01-intro", "02-install")
        }
        return make_repo(tmp_path / "repo", {**(defaults if listed else {}), **files}, structure, git=git)

    return build
