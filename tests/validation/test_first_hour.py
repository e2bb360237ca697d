"""A new user's first hour (issue 20): the mistakes a fresh tree makes, each shown once, in one run,
where the user will look for it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bookstack_sync.cli import main
from bookstack_sync.docs.diagnostics import Rule

from .conftest import STRUCTURE, STRUCTURE_REL, Docs, page_text

ROOT = Path(__file__).resolve().parents[2]
UNLISTED = "eng/guide/setup/03-unlisted.md"
BAD_DATE = "eng/guide/notes/02-dated.md"
UNCLOSED = "eng/guide/notes/03-unclosed.md"
NOTES = "eng/guide/setup/NOTES.md"


def plant(docs: Docs) -> None:
    # 1: an unlisted page whose frontmatter is not YAML either
    docs.write(UNLISTED, "---\ntitle: T\norder: 3\nbad: : :\n---\n")
    # 2: a date in the wrong form
    docs.write(BAD_DATE, page_text("notes", 2, last_updated="'17/01/2025'"))
    # 3: a `[` on line 5 that is never closed (the parser gives up on line 6)
    docs.write(UNCLOSED, "---\ntitle: T\norder: 3\ncategory: notes\ntags: [a, b\nlast_updated: 2025-01-17\n---\n")
    # 4: a chapter with no pages
    docs.write(STRUCTURE_REL, STRUCTURE + "              - chapter:\n                  name: Empty\n")
    # 6: a Markdown file that is not a page
    docs.write(NOTES, "scratch\n")


def run(docs: Docs, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["validate", "--docs-dir", str(docs.root), *args])
    return code, capsys.readouterr().out


def test_every_first_hour_mistake_shows_in_one_run(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    plant(docs)
    code, out = run(docs, capsys, "--format", "json")
    assert code == 1
    found = {(d["path"], d["line"], d["rule"]) for d in json.loads(out)["diagnostics"]}
    assert found == {
        (UNLISTED, None, Rule.PAGE_NOT_LISTED),
        (UNLISTED, 4, Rule.FRONTMATTER_SYNTAX),  # 1: no longer hidden behind [page-not-listed]
        (BAD_DATE, 6, Rule.FIELD_VALUE),  # 2: once
        (UNCLOSED, 5, Rule.FRONTMATTER_SYNTAX),  # 3: the line of the `[`
        (STRUCTURE_REL, 18, Rule.CHAPTER_EMPTY),  # 4
        (NOTES, None, Rule.FILE_NAME),  # 6
    }


def test_a_mistake_is_said_once_in_text_and_json(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    docs.write(BAD_DATE, page_text("notes", 2, last_updated="'17/01/2025'"))
    _code, text = run(docs, capsys)
    assert text.count("'17/01/2025' is not a date written YYYY-MM-DD") == 1
    _code, data = run(docs, capsys, "--format", "json")
    assert [d["message"] for d in json.loads(data)["diagnostics"]] == [
        "`last_updated`: '17/01/2025' is not a date written YYYY-MM-DD"
    ]


def test_a_yaml_error_names_the_line_and_column_of_the_opener_and_shows_it(
    docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    docs.write(UNCLOSED, "---\ntitle: T\norder: 3\ncategory: notes\ntags: [a, b\nlast_updated: 2025-01-17\n---\n")
    _code, text = run(docs, capsys)
    line = next(line for line in text.splitlines() if "[frontmatter-syntax]" in line)
    assert line == (
        f"{UNCLOSED}:5: error [frontmatter-syntax] frontmatter is not valid YAML: `tags: [a, b` (column 7): "
        "this `[` is never closed (while parsing a flow sequence: did not find expected ',' or ']' "
        "at line 6, column 13)"
    )


def test_a_yaml_error_without_an_opener_is_where_the_parser_stopped(docs: Docs) -> None:
    docs.write(UNCLOSED, "---\ntitle: T\ncategory: : notes\n---\n")
    [found] = docs.diagnostics(Rule.FRONTMATTER_SYNTAX)
    assert (found.line, found.message) == (
        3,
        "frontmatter is not valid YAML: `category: : notes` (column 11): mapping values are not allowed in this context",
    )


def test_the_structure_file_gets_the_same_line_column_and_text(docs: Docs) -> None:
    docs.write(STRUCTURE_REL, 'structure:\n  - shelf:\n      name: "Eng\n')
    [found] = docs.diagnostics(Rule.STRUCTURE_SYNTAX)
    assert found.line == 3
    assert found.message.startswith('YAML syntax error: `      name: "Eng` (column 13): this `"` is never closed')


def test_an_empty_chapter_is_a_warning_that_says_so(docs: Docs) -> None:
    docs.write(STRUCTURE_REL, STRUCTURE + "              - chapter:\n                  name: Empty\n")
    (docs.root / "eng/guide/empty").mkdir()
    [found] = docs.diagnostics(Rule.CHAPTER_EMPTY)
    assert found.format() == (
        f"{STRUCTURE_REL}:18: warning [chapter-empty] chapter 'Empty' has no pages: `plan` and `sync` would "
        "create it empty in BookStack; add a page file to eng/guide/empty/ (see `bookstack-sync paths`) "
        "or remove the chapter"
    )


def test_strict_says_why_on_the_last_line(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    docs.write("eng/guide/notes/01-first-note.md", page_text("notes", 1, colour="blue"))
    code, text = run(docs, capsys)
    assert code == 0 and text.splitlines()[-1] == "4 pages checked: 0 error(s), 1 warning(s)"
    code, text = run(docs, capsys, "--strict")
    assert code == 1
    assert text.splitlines()[-1] == (
        "4 pages checked: 0 error(s), 1 warning(s) — failed: strict mode (`--strict`, `strict: true`) "
        "counts warnings as errors"
    )
    code, data = run(docs, capsys, "--strict", "--format", "json")
    assert code == 1 and json.loads(data)["failed"] is True and json.loads(data)["strict"] is True


def test_readme_and_the_file_name_rules_say_the_same(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    readme = " ".join((ROOT / "README.md").read_text(encoding="utf-8").split())
    # what the README promises ...
    assert "in a book or chapter folder its name breaks the rule (`file-name`: `NOTES.md`, `README.md`)" in readme
    assert "anywhere else it is not in the hierarchy (`not-in-hierarchy`); both messages name the `ignore` setting" in (
        readme
    )
    # ... is what validate does
    docs.write(NOTES, "scratch\n")
    docs.write("eng/NOTES.md", "scratch\n")
    found = {d.path: d for d in docs.validate().diagnostics}
    assert (found[NOTES].rule, found["eng/NOTES.md"].rule) == (Rule.FILE_NAME, Rule.NOT_IN_HIERARCHY)
    for path, diagnostic in found.items():
        assert re.search(rf"add '{re.escape(path)}' to the `ignore` setting", diagnostic.message), diagnostic
    assert docs.found(ignore=[NOTES, "eng/NOTES.md"]) == set()
