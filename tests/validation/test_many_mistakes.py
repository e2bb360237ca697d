"""One run reports every mistake of a tree, each with path, line and rule id, and exits 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bookstack_sync.cli import main
from bookstack_sync.docs.diagnostics import Rule

from .conftest import STRUCTURE_REL, Docs, page_text

# (path, line, rule) of every mistake planted below
EXPECTED = {
    ("README.md", None, Rule.NOT_IN_HIERARCHY),
    ("eng/guide/setup/1-setup.md", None, Rule.FILE_NAME),
    ("eng/guide/setup/Getting Started.md", None, Rule.FILE_NAME),
    ("eng/guide/setup/03-unlisted.md", None, Rule.PAGE_NOT_LISTED),
    (STRUCTURE_REL, 14, Rule.PAGE_MISSING),  # 02-configure deleted
    ("eng/guide/01-intro.md", 4, Rule.CATEGORY_MISMATCH),
    ("eng/guide/setup/01-install.md", 1, Rule.FIELD_REQUIRED),  # author
    ("eng/guide/setup/01-install.md", 2, Rule.FIELD_VALUE),  # empty title
    ("eng/guide/setup/01-install.md", 5, Rule.FIELD_TYPE),  # tags as text
    ("eng/guide/setup/01-install.md", 7, Rule.FIELD_UNKNOWN),  # author left out: colour moves up
    ("eng/guide/notes/01-first-note.md", 2, Rule.ENCODING),
    ("eng/guide/notes/02-bom.md", 1, Rule.BOM),
    ("eng/guide/notes/03-crlf.md", 1, Rule.LINE_ENDINGS),
    ("eng/guide/notes/04-empty.md", 1, Rule.EMPTY_FILE),
    ("eng/guide/notes/05-no-frontmatter.md", 1, Rule.FRONTMATTER_MISSING),
    ("eng/guide/notes/06-unterminated.md", 1, Rule.FRONTMATTER_UNTERMINATED),
    ("eng/guide/notes/07-syntax.md", 4, Rule.FRONTMATTER_SYNTAX),
    ("eng/guide/notes/08-list.md", 1, Rule.FRONTMATTER_NOT_MAPPING),
    ("eng/guide/notes/09-order.md", 3, Rule.ORDER_PREFIX_MISMATCH),
    ("eng/guide/notes/09-order.md", 3, Rule.ORDER_DUPLICATE),
    ("eng/guide/notes/10-order.md", 3, Rule.ORDER_DUPLICATE),
    ("eng/guide/notes/11-date.md", 6, Rule.FIELD_VALUE),
    ("eng/guide/notes/12-status.md", 8, Rule.FIELD_VALUE),
    ("eng/guide/notes/13-folder.md", None, Rule.NOT_A_FILE),
    ("eng/guide/notes/14-outside.md", None, Rule.SYMLINK_OUTSIDE),
    ("eng/guide/notes/15-loop.md", None, Rule.NOT_A_FILE),
}


def plant_mistakes(docs: Docs, outside: Path) -> None:
    notes = "eng/guide/notes"
    docs.write("README.md", "# Docs\n")
    docs.page("eng/guide/setup/1-setup.md")
    docs.page("eng/guide/setup/Getting Started.md")
    docs.page("eng/guide/setup/03-unlisted.md")
    docs.remove("eng/guide/setup/02-configure.md")
    docs.write("eng/guide/01-intro.md", page_text("setup", 1))
    docs.write(
        "eng/guide/setup/01-install.md",
        page_text("setup", 1, title='""', tags='"a, b"', author=None, colour="red"),
    )
    docs.write(f"{notes}/01-first-note.md", b'---\ntitle: "caf\xe9"\n---\n')
    docs.write(f"{notes}/02-bom.md", "\ufeff" + page_text("notes", 2))
    docs.write(f"{notes}/03-crlf.md", page_text("notes", 3).replace("\n", "\r\n"))
    docs.write(f"{notes}/04-empty.md", b"")
    docs.write(f"{notes}/05-no-frontmatter.md", "# Just a heading\n")
    docs.write(f"{notes}/06-unterminated.md", '---\ntitle: "x"\n')
    docs.write(f"{notes}/07-syntax.md", '---\ntitle: "x"\norder: 7\ncategory: : notes\n---\n')
    docs.write(f"{notes}/08-list.md", "---\n- a\n- b\n---\n")
    docs.write(f"{notes}/09-order.md", page_text("notes", 10))
    docs.write(f"{notes}/10-order.md", page_text("notes", 10))
    docs.write(f"{notes}/11-date.md", page_text("notes", 11, last_updated="2025-02-30"))
    docs.write(f"{notes}/12-status.md", page_text("notes", 12, status="final"))
    (docs.root / notes / "13-folder.md").mkdir()
    outside.write_text(page_text("notes", 14), encoding="utf-8")
    (docs.root / notes / "14-outside.md").symlink_to(outside)
    (docs.root / notes / "15-loop.md").symlink_to("15-loop.md")


def test_every_mistake_in_one_run(docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant_mistakes(docs, tmp_path / "outside.md")
    assert docs.found() == EXPECTED

    code = main(["validate", "--docs-dir", str(docs.root), "--format", "json"])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    report = json.loads(captured.out)
    assert {(d["path"], d["line"], Rule(d["rule"])) for d in report["diagnostics"]} == EXPECTED
    assert report["errors"] == sum(1 for d in report["diagnostics"] if d["severity"] == "error")
    assert report["errors"] == 20 and report["warnings"] == 6
    # one line per mistake: an empty title breaks `minLength` and `pattern` but is said once
    assert len({json.dumps(d, sort_keys=True) for d in report["diagnostics"]}) == len(report["diagnostics"])


def test_text_output_lists_every_mistake_sorted(docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    plant_mistakes(docs, tmp_path / "outside.md")
    assert main(["validate", "--docs-dir", str(docs.root)]) == 1
    lines = capsys.readouterr().out.splitlines()
    *diagnostics, summary = lines
    assert len(diagnostics) == len(docs.validate().diagnostics) >= len(EXPECTED)
    paths = [line.split(":", 1)[0] for line in diagnostics]
    assert paths == sorted(paths)
    assert summary.endswith("error(s), 6 warning(s)")
