"""A small docs tree builder for the validation tests.

``docs`` starts as a clean, valid tree (every listed page present, every field right); a test breaks
one thing and asserts exactly which diagnostics appear, with path, line and rule id.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from bookstack_sync.check import validate
from bookstack_sync.check.validate import Validation, validate_docs
from bookstack_sync.docs.diagnostics import Diagnostic, Rule
from bookstack_sync.docs.fastschema import FastSchema
from bookstack_sync.docs.tree import PageSource

STRUCTURE = """\
structure:
  - shelf:
      name: "Engineering"
      slug: eng
      books:
        - book:
            name: "Guide"
            slug: guide
            pages: ["01-intro"]
            chapters:
              - chapter:
                  name: "Setup"
                  slug: setup
                  pages: ["01-install", "02-configure"]
              - chapter:
                  name: "Notes"
                  slug: notes
"""
STRUCTURE_REL = "bookstack/bookstack-structure.yaml"
# the lines of STRUCTURE where the listed pages are written
LINE_OF_PAGES = {"01-intro": 9, "01-install": 14, "02-configure": 14}

CLEAN_PAGES = {
    "eng/guide/01-intro.md": ("guide", 1),
    "eng/guide/setup/01-install.md": ("setup", 1),
    "eng/guide/setup/02-configure.md": ("setup", 2),
    "eng/guide/notes/01-first-note.md": ("notes", 1),
}

FIELDS_ORDER = ("title", "order", "category", "tags", "last_updated", "author")


def frontmatter(category: str, order: int | str = 1, /, **fields: Any) -> str:
    """Frontmatter text (without the --- lines): valid unless ``fields`` say otherwise.

    ``fields`` override or add keys; each value is YAML text written verbatim (``order="08"`` writes
    ``order: 08``), and ``None`` leaves the key out.
    """
    values: dict[str, Any] = {
        "title": '"A page"',
        "order": f"{order:02d}" if isinstance(order, int) else order,
        "category": f'"{category}"',
        "tags": '["docs"]',
        "last_updated": '"2025-01-19"',
        "author": '"tester"',
    }
    for key, value in fields.items():
        values[key] = value
    return "".join(f"{key}: {value}\n" for key, value in values.items() if value is not None)


def page_text(category: str, order: int | str = 1, /, body: str = "# A page\n\nSome text.\n", **fields: Any) -> str:
    return "---\n" + frontmatter(category, order, **fields) + "---\n\n" + body


@dataclass
class Docs:
    root: Path

    @property
    def structure(self) -> Path:
        return self.root / STRUCTURE_REL

    def write(self, rel: str, content: str | bytes) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_bytes(content.encode("utf-8"))
        return path

    def write_structure(self, text: str) -> Path:
        return self.write(STRUCTURE_REL, textwrap.dedent(text))

    def page(self, rel: str, category: str | None = None, order: int | str | None = None, **fields: Any) -> Path:
        """A valid page at ``rel`` (category and order from its place unless given)."""
        parts = rel.split("/")
        category = category if category is not None else parts[-2]
        if order is None:
            order = int(parts[-1][:2]) if parts[-1][:2].isdigit() else 1
        return self.write(rel, page_text(category, order, **fields))

    def remove(self, rel: str) -> None:
        (self.root / rel).unlink()

    def validate(self, *, ignore: Iterable[str] = ()) -> Validation:
        return validate_docs(self.root, self.structure, ignore=tuple(ignore))

    def found(self, **kw: Any) -> set[tuple[str, int | None, Rule]]:
        """(path, line, rule) of every diagnostic."""
        return {(d.path, d.line, d.rule) for d in self.validate(**kw).diagnostics}

    def diagnostics(self, rule: Rule | None = None, **kw: Any) -> list[Diagnostic]:
        return [d for d in self.validate(**kw).diagnostics if rule is None or d.rule is rule]


def clean_docs(root: Path) -> Docs:
    """A clean, valid tree under ``root``: the structure file and every page it lists."""
    tree = Docs(root)
    tree.write(STRUCTURE_REL, STRUCTURE)
    for rel, (category, order) in CLEAN_PAGES.items():
        tree.page(rel, category, order)
    return tree


@pytest.fixture
def docs(tmp_path: Path) -> Docs:
    return clean_docs(tmp_path / "docs")


def jsonschema_errors(schema: Any, instance: Any) -> list[str]:
    """What Python's jsonschema, the validator that explains, finds wrong with ``instance``."""
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    return [f"{list(err.absolute_path)}: {err.message}" for err in validator.iter_errors(instance)]


@pytest.fixture(autouse=True)
def fast_schema_proven_by_jsonschema(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every validation in these tests also checks the fast path: whatever jsonschema-rs vouches for
    (a whole tree, one page, a structure file), jsonschema must find valid too; so must every page the
    tree schema's check vouches for (some by their folder's definition alone), under the whole schema."""
    vouches = FastSchema.vouches

    def checked(self: FastSchema, instance: Any) -> bool:
        valid = vouches(self, instance)
        if valid:
            assert jsonschema_errors(self.schema, instance) == [], f"jsonschema-rs vouched for {instance!r}"
        return valid

    monkeypatch.setattr(FastSchema, "vouches", checked)
    unvouched_pages = validate.unvouched_pages

    def pages_checked(schema: dict[str, Any], by_path: dict[str, PageSource]) -> list[str]:
        unvouched = unvouched_pages(schema, by_path)
        vouched = {path: page.frontmatter for path, page in by_path.items() if path not in unvouched}
        assert jsonschema_errors(schema, vouched) == [], "a page vouched for is not valid"
        return unvouched

    monkeypatch.setattr(validate, "unvouched_pages", pages_checked)
