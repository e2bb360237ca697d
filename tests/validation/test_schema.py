"""The generated JSON Schema: golden output for a small structure, a valid 2020-12 schema, and the
example tree validates against it."""

from __future__ import annotations

import json
from pathlib import Path

from jsonschema import Draft202012Validator

from bookstack_sync.docs.schema import build_schema
from bookstack_sync.docs.structure import parse_structure, read_structure
from bookstack_sync.docs.tree import discover_tree

from .conftest import STRUCTURE

GOLDEN = Path(__file__).parent / "golden" / "small-structure.schema.json"
EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "docs"


def test_schema_of_a_small_structure_matches_the_golden_file() -> None:
    structure, problems = parse_structure(STRUCTURE, "bookstack/bookstack-structure.yaml")
    assert structure is not None and problems == []
    # reviewed by eye once; regenerate only for an intended change of the schema
    assert json.dumps(build_schema(structure), indent=2) + "\n" == GOLDEN.read_text(encoding="utf-8")


def test_golden_schema_is_a_valid_2020_12_schema() -> None:
    Draft202012Validator.check_schema(json.loads(GOLDEN.read_text(encoding="utf-8")))


def test_schema_of_an_empty_structure_accepts_only_an_empty_tree() -> None:
    structure, _ = parse_structure("structure: []\n", "s.yaml")
    assert structure is not None
    validator = Draft202012Validator(build_schema(structure))
    assert validator.is_valid({})
    assert not validator.is_valid({"a/b/01-x.md": {}})


def test_example_tree_is_valid_against_its_printed_schema() -> None:
    structure_file = EXAMPLES / "bookstack" / "bookstack-structure.yaml"
    structure, problems = read_structure(structure_file)
    assert structure is not None and problems == []
    tree = discover_tree(EXAMPLES, structure, skip_dir=structure_file.parent)
    instance = {page.path: dict(page.frontmatter) for page in tree.pages}
    assert len(instance) == 23
    validator = Draft202012Validator(build_schema(structure), format_checker=Draft202012Validator.FORMAT_CHECKER)
    assert list(validator.iter_errors(instance)) == []
    # and a page moved to the wrong chapter is not
    moved = dict(instance)
    moved["engineering/dev-guide/debugging/02-coding-standards.md"] = moved.pop(
        "engineering/dev-guide/best-practices/01-coding-standards.md"
    )
    assert not validator.is_valid(moved)
