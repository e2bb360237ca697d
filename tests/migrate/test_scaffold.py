"""``scaffold``: the folders of the structure, and stub pages that validate, never overwriting anything."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import AUTHOR, SEED_STRUCTURE, VALID, Repo, Result, make_repo

EXAMPLE_TEMPLATE = (
    Path(__file__).parent.parent.parent / "examples" / "docs" / "bookstack" / "templates" / "page-template.md"
)


def test_scaffold_creates_every_folder_the_structure_names(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = make_repo(tmp_path / "repo", {})
    result = cli(repo, "scaffold")
    assert result.code == 0, result.err
    for key in (
        "engineering",
        "engineering/dev-guide",
        "engineering/dev-guide/getting-started",
        "projects/epics/planned",
    ):
        assert (repo.docs / key).is_dir(), key
        assert f"created folder: {key}/" in result.out
    assert not list(repo.docs.rglob("*.md"))  # no pages without --stubs
    again = cli(repo, "scaffold")
    assert again.code == 0
    assert again.out.startswith("0 folder(s) and 0 stub page(s) created")


def test_stubs_from_the_page_template_validate(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/listed/01-intro.md": VALID.replace(b"category: start", b"category: listed")}, listed=False)
    repo.write("bookstack/templates/page-template.md", EXAMPLE_TEMPLATE.read_bytes())
    result = cli(repo, "scaffold", "--stubs")
    assert result.code == 0, result.err
    assert "created stub: guide/listed/02-install.md" in result.out
    assert "1 listed page(s) already exist and were left alone" in result.out
    stub = repo.read("guide/listed/02-install.md").decode()
    head, body = stub.split("---\n", 2)[1:]
    assert (
        head.startswith("title: Install\norder: 2\ncategory: listed\ntags: []\nlast_updated: '")
        and f"author: {AUTHOR}\nstatus: draft\nversion: '1.0'\n" in head
    )
    assert body.startswith("\n# Install\n\nBrief introduction")  # the template's text, with the page's title
    # its example links lead nowhere from here: placeholders, so the stub validates
    assert "- [Related Page 1](#)\n" in body and "[External Resource](https://example.com)" in body
    assert repo.read("guide/listed/01-intro.md") == VALID.replace(b"category: start", b"category: listed")
    assert cli(repo, "validate").code == 0


def test_stubs_without_a_template_use_the_built_in_one(tmp_path: Path, cli: Callable[..., Result]) -> None:
    structure = tmp_path / "s.yaml"
    shutil.copy(SEED_STRUCTURE, structure)
    repo = make_repo(tmp_path / "repo", {}, structure, git=False)
    result = cli(repo, "scaffold", "--stubs", "--author", "Docs Team")
    assert result.code == 0, result.err
    stubs = sorted(p.relative_to(repo.docs).as_posix() for p in repo.docs.rglob("*.md"))
    assert stubs == [
        "engineering/dev-guide/best-practices/01-coding-standards.md",
        "engineering/dev-guide/best-practices/02-git-workflow.md",
        "engineering/dev-guide/best-practices/03-branch-protection.md",
    ]
    text = repo.read(stubs[1]).decode()
    assert "title: Git workflow\n" in text and "author: Docs Team\n" in text and "status: draft\n" in text
    assert text.endswith("---\n# Git workflow\n\nThis page is a stub: write it, then set `status: published`.\n")
    assert cli(repo, "validate").code == 0


def test_migrate_then_scaffold_stubs_completes_a_tree(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"notes/install.md": b"# Install\n"}, listed=False)
    (repo.root / "map.yaml").write_text("notes/install.md: guide/listed\n")
    assert cli(repo, "migrate", "--apply", "--map", "map.yaml").code == 1  # 01-intro is still missing
    assert (repo.docs / "guide/listed/02-install.md").is_file()
    repo.commit("migrated")
    assert cli(repo, "scaffold", "--stubs").code == 0
    assert cli(repo, "validate").code == 0


def test_scaffold_needs_an_author_for_stubs(
    tmp_path: Path, cli: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    # no git user.name anywhere: not this machine's either
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(tmp_path / "no-gitconfig"))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    repo = make_repo(tmp_path / "repo", {}, git=False)
    result = cli(repo, "scaffold", "--stubs")
    assert result.code == 2
    assert "pass --author NAME" in result.err
    assert not list(repo.docs.rglob("*.md"))


def test_a_file_in_the_way_of_a_folder_is_reported(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = make_repo(tmp_path / "repo", {}, git=False)
    (repo.docs / "stack").write_text("not a folder\n")
    result = cli(repo, "scaffold")
    assert result.code == 1
    assert "problem: stack exists and is not a folder" in result.out
    assert (repo.docs / "stack").read_text() == "not a folder\n"
    assert (repo.docs / "engineering/dev-guide").is_dir()  # the rest was still made


def test_a_bad_template_is_a_clear_error(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({}, listed=False)
    repo.write("bookstack/templates/page-template.md", b"---\ntitle: [oops\n---\n")
    result = cli(repo, "scaffold", "--stubs")
    assert result.code == 2
    # the line of the `[` that is never closed, where the parser points, and the line itself
    assert "docs/bookstack/templates/page-template.md:2: page template: frontmatter is not valid YAML: `" in result.err


def test_scaffold_dry_run_creates_nothing(tmp_path: Path, cli: Callable[..., Result]) -> None:
    repo = make_repo(tmp_path / "repo", {})
    before = repo.snapshot()
    result = cli(repo, "--dry-run", "scaffold", "--stubs")
    assert result.code == 0
    assert "would create stub: engineering/dev-guide/best-practices/01-coding-standards.md" in result.out
    assert repo.snapshot() == before
