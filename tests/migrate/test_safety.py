"""Never lose a file: conflicts, a dirty work tree, bad map files and bad usage stop before anything moves."""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from .conftest import VALID, Repo, Result


def test_an_existing_target_is_a_conflict_not_an_overwrite(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"guide/start/01-setup.md": VALID, "guide/start/1-setup.md": b"# The other setup\n"})
    before = repo.snapshot()
    result = cli(repo, "migrate", "--apply")
    assert result.code == 1
    assert "conflict: guide/start/1-setup.md: guide/start/01-setup.md already exists" in result.out
    assert repo.snapshot() == before
    report = cli(repo, "migrate", "--report").out
    assert "## Conflict" in report
    assert "- `guide/start/1-setup.md` (would go to `guide/start/01-setup.md`)" in report


def test_two_files_for_one_target_are_both_left(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/start/1-setup.md": b"# One\n", "guide/start/01_setup.md": b"# Two\n"})
    before = repo.snapshot()
    result = cli(repo, "migrate", "--apply")
    assert result.code == 1
    assert "conflict: guide/start/01_setup.md: guide/start/1-setup.md would also become guide/start/01-setup.md" in (
        result.out
    )
    assert "conflict: guide/start/1-setup.md: guide/start/01_setup.md would also become" in result.out
    assert repo.snapshot() == before


def test_apply_refuses_a_work_tree_with_uncommitted_changes(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"guide/start/page.md": b"# Page\n"})
    repo.write("guide/start/page.md", b"# Page\n\nan edit nobody committed\n")
    repo.write("guide/start/new.md", b"# New\n")  # untracked files count too: git mv cannot carry them
    before = repo.snapshot()
    result = cli(repo, "migrate", "--apply")
    assert result.code == 2
    assert "uncommitted changes under the docs folder" in result.err
    assert "guide/start/new.md" in result.err
    assert "pass --force" in result.err
    assert repo.snapshot() == before
    # --dry-run shows the plan anyway and says --apply would refuse
    dry = cli(repo, "migrate", "--apply", "--dry-run")
    assert "--apply would refuse without --force" in dry.out
    assert repo.snapshot() == before
    forced = cli(repo, "migrate", "--apply", "--force", "--author", "Sam")  # new.md has no commit to ask
    assert forced.code == 0, forced.out
    assert b"an edit nobody committed" in repo.read("guide/start/02-page.md")
    assert (repo.docs / "guide/start/01-new.md").is_file()  # untracked: moved without git


def test_changes_outside_docs_dir_do_not_block(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/start/page.md": b"# Page\n"})
    (repo.root / "README.md").write_text("work in progress\n")
    assert cli(repo, "migrate", "--apply").code == 0


@pytest.mark.parametrize(
    ("map_text", "message"),
    [
        # the line of the `[` that is never closed, not the line where the parser gave up
        ("a.md: [unclosed\nb.md: x\n", "map.yaml:1: map file is not valid YAML: `a.md: [unclosed` (column 7)"),
        ("- a.md\n", "map.yaml:1: a map file is a mapping"),
        ("a.md: guide/start\nb.md: guide/nowhere\n", "map.yaml:2: 'guide/nowhere' is not a book or chapter folder"),
        ("a.md: guide/start/Intro\n", "map.yaml:1: file name 'Intro' must look like `NN-kebab-case`"),
        ("'*.md': guide/start/01-all\n", "map.yaml:1: the glob '*.md' can match many files"),
        ("a.md: 3\n", "map.yaml:1: the new place of 'a.md' must be a chapter or book folder"),
    ],
)
def test_a_bad_map_file_is_a_usage_error_with_its_line(
    small: Callable[..., Repo], cli: Callable[..., Result], map_text: str, message: str
) -> None:
    repo = small({"guide/start/page.md": b"# Page\n"})
    (repo.root / "map.yaml").write_text(map_text)
    before = repo.snapshot()
    for action in ("--report", "--apply"):
        result = cli(repo, "migrate", action, "--map", "map.yaml")
        assert result.code == 2
        assert message in result.err
        assert "Traceback" not in result.err
    assert repo.snapshot() == before


def test_a_missing_map_file(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({})
    result = cli(repo, "migrate", "--report", "--map", "nowhere.yaml")
    assert result.code == 2
    assert "map file not found: nowhere.yaml" in result.err


def test_map_globs_and_literal_paths(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small(
        {
            "old/a.md": b"# A\n",
            "old/deep/b.md": b"# B\n",
            "old/c.md": b"# C\n",
            "loose/d.md": b"# D\n",
        }
    )
    (repo.root / "map.yaml").write_text(
        "'old/*.md': guide/start\n"  # a and c (one folder deep only)
        "old/c.md: guide/other/05-sea\n"  # the literal path wins over the glob
        "'**/b.md': guide/other\n"
        "'nothing/*.md': guide/other\n"
    )
    result = cli(repo, "migrate", "--apply", "--map", "map.yaml")
    assert result.code == 1  # loose/d.md has no place
    assert (repo.docs / "guide/start/01-a.md").is_file()
    assert (repo.docs / "guide/other/05-sea.md").is_file()
    assert (repo.docs / "guide/other/06-b.md").is_file()
    assert "cannot be placed: loose/d.md: not in a book or chapter folder" in result.out
    assert "note: 1 map entry matched no Markdown file (line 4)" in result.out
    assert (repo.docs / "loose/d.md").is_file()


@pytest.mark.parametrize(
    "args",
    [
        ("migrate",),
        ("migrate", "--analyze", "--apply"),
        ("migrate", "--apply", "--author", " "),
    ],
)
def test_usage_errors(small: Callable[..., Repo], cli: Callable[..., Result], args: tuple[str, ...]) -> None:
    repo = small({"guide/start/page.md": b"# Page\n"})
    before = repo.snapshot()
    result = cli(repo, *args)
    assert result.code == 2
    assert "Traceback" not in result.err
    assert repo.snapshot() == before


def test_a_broken_structure_file_stops_before_planning(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/start/page.md": b"# Page\n"})
    repo.write("bookstack/bookstack-structure.yaml", b"structure:\n  - shelf: {slug: x}\n")
    before = repo.snapshot()
    result = cli(repo, "migrate", "--apply")
    assert result.code == 1
    assert "structure-schema" in result.err
    assert "fix the structure file first" in result.err
    assert repo.snapshot() == before


def test_a_symlinked_page_is_left_for_a_person(small: Callable[..., Repo], cli: Callable[..., Result]) -> None:
    repo = small({"guide/start/real.md": b"# Real\n"}, git=False)
    os.symlink("real.md", repo.docs / "guide/start/Alias.md")
    result = cli(repo, "migrate", "--apply", "--author", "Sam")
    assert result.code == 1
    assert "cannot be read: guide/start/Alias.md: a symlink" in result.out
    assert os.path.islink(repo.docs / "guide/start/Alias.md")


def test_ignored_files_and_the_structure_folder_are_not_pages(
    small: Callable[..., Repo], cli: Callable[..., Result]
) -> None:
    repo = small({"README.md": b"# Docs\n", "bookstack/templates/page-template.md": b"# Template\n"})
    before = repo.snapshot()
    assert cli(repo, "--ignore", "README.md", "migrate", "--apply").code == 0
    assert repo.snapshot() == before
