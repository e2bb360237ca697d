"""Bad input never crashes validation: each gets one diagnostic with its path, and the run goes on.

Symlinks, folders where files belong, missing structure file or docs folder (exit 2), YAML 1.1
traps, and the ``ignore`` globs.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bookstack_sync.check.validate import validate_docs
from bookstack_sync.cli import main
from bookstack_sync.docs.diagnostics import Rule
from bookstack_sync.errors import ExitCode, UsageError
from tests.privileges import run_without_file_override

from .conftest import STRUCTURE_REL, Docs, page_text

INSTALL = "eng/guide/setup/01-install.md"
CONFIGURE = "eng/guide/setup/02-configure.md"
NOTE = "eng/guide/notes/01-first-note.md"


def symlink(docs: Docs, rel: str, target: str | Path) -> Path:
    link = docs.root / rel
    link.parent.mkdir(parents=True, exist_ok=True)
    link.symlink_to(target)
    return link


# --- symlinks ------------------------------------------------------------------------------------


def test_file_symlink_leaving_the_tree_is_refused(docs: Docs, tmp_path: Path) -> None:
    secret = tmp_path / "outside.md"
    secret.write_text(page_text("notes", 2), encoding="utf-8")
    symlink(docs, "eng/guide/notes/02-outside.md", secret)
    validation = docs.validate()
    assert docs.found() == {("eng/guide/notes/02-outside.md", None, Rule.SYMLINK_OUTSIDE)}
    assert "eng/guide/notes/02-outside.md" not in validation.tree.page_paths()  # type: ignore[union-attr]


def test_folder_symlink_leaving_the_tree_is_refused(docs: Docs, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (outside / "01-x.md").write_text(page_text("notes", 1), encoding="utf-8")
    symlink(docs, "eng/guide/notes/more", outside)
    assert docs.found() == {("eng/guide/notes/more", None, Rule.SYMLINK_OUTSIDE)}


def test_relative_symlink_climbing_out_is_refused(docs: Docs) -> None:
    symlink(docs, "eng/guide/notes/02-up.md", "../../../../outside.md")
    assert docs.found() == {("eng/guide/notes/02-up.md", None, Rule.SYMLINK_OUTSIDE)}


def test_file_symlink_inside_the_tree_is_followed(docs: Docs) -> None:
    docs.write("shared/note-source.txt", page_text("notes", 2, title='"Shared note"'))
    symlink(docs, "eng/guide/notes/02-shared.md", "../../../shared/note-source.txt")
    validation = docs.validate()
    assert validation.diagnostics == []
    (page,) = [p for p in validation.tree.pages if p.path == "eng/guide/notes/02-shared.md"]  # type: ignore[union-attr]
    assert page.title == "Shared note"


def test_folder_symlink_inside_the_tree_is_followed_and_does_not_hide_its_target(docs: Docs) -> None:
    # `_src` sorts before `eng`: walking the link first must not make the real folder count as seen
    docs.write("_src/01-linked.md", page_text("notes", 1))
    docs.write("_src/02-linked.md", page_text("notes", 2))
    docs.remove(NOTE)
    (docs.root / "eng/guide/notes").rmdir()
    symlink(docs, "eng/guide/notes", "../../_src")
    validation = docs.validate(ignore=["_src/*"])
    assert validation.diagnostics == []
    paths = validation.tree.page_paths()  # type: ignore[union-attr]
    assert {"eng/guide/notes/01-linked.md", "eng/guide/notes/02-linked.md", INSTALL} <= paths


def test_a_linked_folder_outside_the_hierarchy_is_reported_not_skipped(docs: Docs) -> None:
    symlink(docs, "eng/guide/aaa-alias", "setup")
    assert docs.found() == {
        ("eng/guide/aaa-alias/01-install.md", None, Rule.NOT_IN_HIERARCHY),
        ("eng/guide/aaa-alias/02-configure.md", None, Rule.NOT_IN_HIERARCHY),
    }


def test_symlink_to_itself_is_a_loop_not_a_crash(docs: Docs) -> None:
    symlink(docs, "eng/guide/notes/loop", "loop")
    (diagnostic,) = docs.diagnostics()
    assert (diagnostic.path, diagnostic.line, diagnostic.rule) == ("eng/guide/notes/loop", None, Rule.NOT_A_FILE)
    assert "loop" in diagnostic.message


def test_two_symlinks_pointing_at_each_other(docs: Docs) -> None:
    symlink(docs, "eng/guide/notes/a.md", "b.md")
    symlink(docs, "eng/guide/notes/b.md", "a.md")
    assert docs.found() == {
        ("eng/guide/notes/a.md", None, Rule.NOT_A_FILE),
        ("eng/guide/notes/b.md", None, Rule.NOT_A_FILE),
    }


def test_folder_symlink_to_an_ancestor_ends(docs: Docs) -> None:
    symlink(docs, "eng/guide/notes/up", "..")
    symlink(docs, "eng/guide/notes/root", "../../..")
    assert docs.found() == set()


def test_broken_symlink(docs: Docs) -> None:
    symlink(docs, "eng/guide/notes/02-gone.md", "nowhere.md")
    (diagnostic,) = docs.diagnostics()
    assert (diagnostic.path, diagnostic.rule) == ("eng/guide/notes/02-gone.md", Rule.NOT_A_FILE)
    assert "broken" in diagnostic.message


def test_symlinked_docs_dir_itself_is_fine(docs: Docs, tmp_path: Path) -> None:
    link = tmp_path / "docs-link"
    link.symlink_to(docs.root)
    assert validate_docs(link, link / STRUCTURE_REL).diagnostics == []


# --- folders where files belong ------------------------------------------------------------------


def test_folder_named_like_a_page_file(docs: Docs) -> None:
    docs.remove(CONFIGURE)
    (docs.root / CONFIGURE).mkdir()
    (docs.root / CONFIGURE / "01-inner.md").write_text(page_text("setup", 1), encoding="utf-8")
    assert docs.found() == {
        (CONFIGURE, None, Rule.NOT_A_FILE),
        (STRUCTURE_REL, 14, Rule.PAGE_MISSING),
    }


def test_folder_named_like_a_page_in_an_unlisted_chapter(docs: Docs) -> None:
    (docs.root / "eng/guide/notes/02-folder.md").mkdir()
    assert docs.found() == {("eng/guide/notes/02-folder.md", None, Rule.NOT_A_FILE)}


# --- configuration errors: exit 2 -----------------------------------------------------------------


def test_missing_structure_file_is_a_usage_error(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    docs.structure.unlink()
    with pytest.raises(UsageError):
        docs.validate()
    assert main(["validate", "--docs-dir", str(docs.root)]) == ExitCode.USAGE
    err = capsys.readouterr().err
    assert "structure file not found" in err and "Traceback" not in err


def test_structure_path_is_a_folder(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["validate", "--docs-dir", str(docs.root), "--structure", str(docs.root / "eng")])
    assert code == ExitCode.USAGE
    assert "directory" in capsys.readouterr().err


def test_missing_docs_dir_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--docs-dir", str(tmp_path / "nope")]) == ExitCode.USAGE
    assert "docs directory not found" in capsys.readouterr().err


def test_docs_dir_that_is_a_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "docs").write_text("not a folder", encoding="utf-8")
    assert main(["validate", "--docs-dir", str(tmp_path / "docs")]) == ExitCode.USAGE


def test_structure_file_outside_docs_dir_is_named_as_given(docs: Docs, tmp_path: Path) -> None:
    elsewhere = tmp_path / "structure.yaml"
    elsewhere.write_text("structure:\n  - shelf:\n      name: Eng\n      colour: red\n", encoding="utf-8")
    (diagnostic,) = validate_docs(docs.root, elsewhere).diagnostics
    assert (diagnostic.path, diagnostic.line, diagnostic.rule) == (elsewhere.as_posix(), 4, Rule.STRUCTURE_SCHEMA)


# --- YAML 1.1 traps ----------------------------------------------------------------------------


def _frontmatter_of(docs: Docs, rel: str) -> dict[str, object]:
    validation = docs.validate()
    (page,) = [p for p in validation.tree.pages if p.path == rel]  # type: ignore[union-attr]
    return dict(page.frontmatter)


@pytest.mark.parametrize(
    ("file_name", "written", "value"),
    [
        ("02-a.md", "02", 2),  # YAML 1.1 octal 2
        ("07-a.md", "07", 7),
        ("08-a.md", "08", 8),  # not octal: a string to YAML 1.1
        ("09-a.md", "09", 9),
        ("10-a.md", "010", 10),  # octal 8 to YAML 1.1
        ("12-a.md", "12", 12),
        ("11-a.md", "0011", 11),
    ],
)
def test_order_is_read_as_decimal(docs: Docs, file_name: str, written: str, value: int) -> None:
    rel = f"eng/guide/notes/{file_name}"
    docs.page(rel, order=written)
    assert docs.found() == set()
    assert _frontmatter_of(docs, rel)["order"] == value


def test_quoted_order_is_text_and_an_error(docs: Docs) -> None:
    docs.write(INSTALL, page_text("setup", '"08"'))
    assert docs.found() == {(INSTALL, 3, Rule.FIELD_TYPE)}


@pytest.mark.parametrize("written", ["2025-01-19", '"2025-01-19"', "'2025-01-19'"])
def test_last_updated_quoted_or_not(docs: Docs, written: str) -> None:
    docs.write(INSTALL, page_text("setup", 1, last_updated=written))
    assert docs.found() == set()
    assert _frontmatter_of(docs, INSTALL)["last_updated"] == "2025-01-19"


@pytest.mark.parametrize(
    ("written", "text"),
    [("1.0", "1.0"), ("1.10", "1.10"), ("2", "2"), ('"1.10"', "1.10"), ("1.2.3", "1.2.3"), ("v2", "v2")],
)
def test_version_keeps_its_text(docs: Docs, written: str, text: str) -> None:
    docs.write(INSTALL, page_text("setup", 1, version=written))
    assert docs.found() == set()
    assert _frontmatter_of(docs, INSTALL)["version"] == text


def test_yes_no_are_booleans_to_yaml_11(docs: Docs) -> None:
    # `toc: yes` is YAML 1.1 for true; PyYAML agrees, so it validates
    docs.write(INSTALL, page_text("setup", 1, toc="yes", deprecated="no"))
    assert docs.found() == set()
    assert _frontmatter_of(docs, INSTALL)["toc"] is True


# --- ignore globs ------------------------------------------------------------------------------------


def test_ignore_globs(docs: Docs) -> None:
    docs.write("README.md", "# Docs\n")
    docs.write("eng/guide/notes/README.md", "# Notes\n")
    docs.write("eng/guide/setup/notes.draft.md", "scratch\n")
    assert docs.found() == {
        ("README.md", None, Rule.NOT_IN_HIERARCHY),
        ("eng/guide/notes/README.md", None, Rule.FILE_NAME),
        ("eng/guide/setup/notes.draft.md", None, Rule.FILE_NAME),
    }
    assert docs.found(ignore=["README.md"]) == {
        ("eng/guide/notes/README.md", None, Rule.FILE_NAME),
        ("eng/guide/setup/notes.draft.md", None, Rule.FILE_NAME),
    }
    # `*` matches across folders, as in fnmatch
    assert docs.found(ignore=["*README.md", "*.draft.md"]) == set()
    # ignoring every file of the notes chapter leaves it empty: a sync would create it with no page
    assert docs.found(ignore=["eng/*/notes/*"]) == {
        ("README.md", None, Rule.NOT_IN_HIERARCHY),
        ("eng/guide/setup/notes.draft.md", None, Rule.FILE_NAME),
        (STRUCTURE_REL, 15, Rule.CHAPTER_EMPTY),
    }


def test_ignore_is_case_sensitive_and_anchored(docs: Docs) -> None:
    docs.write("eng/guide/notes/README.md", "# Notes\n")
    assert docs.found(ignore=["readme.md", "notes/README.md"]) == {("eng/guide/notes/README.md", None, Rule.FILE_NAME)}


def test_ignored_listed_page_counts_as_missing(docs: Docs) -> None:
    assert docs.found(ignore=[CONFIGURE]) == {(STRUCTURE_REL, 14, Rule.PAGE_MISSING)}


def test_structure_folder_is_not_content(docs: Docs) -> None:
    docs.write("bookstack/templates/page-template.md", "---\ntitle: Page Title Here\n---\n")
    docs.write("bookstack/README.md", "# not a page\n")
    assert docs.found() == set()


def test_unreadable_page(docs: Docs) -> None:
    # through the entrypoint, without root's override of file modes (CI runs as root)
    (docs.root / INSTALL).chmod(0)
    try:
        script = Path(sys.executable).with_name("bookstack-sync")
        done = run_without_file_override([str(script), "validate", "--docs-dir", str(docs.root), "--format", "json"])
    finally:
        (docs.root / INSTALL).chmod(0o644)
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)["diagnostics"]
    assert [(d["path"], d["rule"], d["message"]) for d in found] == [
        (INSTALL, "not-a-file", "cannot read file: Permission denied")
    ]
