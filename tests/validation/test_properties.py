"""Properties over generated input: no input makes ``validate`` crash or exit 4, the generated schema
and the tree's location rules agree, and the compiled (ref-inlined) validator means the same as the
printed schema."""

from __future__ import annotations

import contextlib
import io
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bookstack_sync.check.validate import compile_validator
from bookstack_sync.cli import main
from bookstack_sync.docs.diagnostics import Rule
from bookstack_sync.docs.schema import build_schema
from bookstack_sync.docs.structure import parse_structure
from bookstack_sync.docs.tree import locate

from .conftest import CLEAN_PAGES, STRUCTURE, STRUCTURE_REL, Docs, page_text

SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@contextlib.contextmanager
def clean_tree() -> Iterator[Docs]:
    root = Path(tempfile.mkdtemp(prefix="bss-prop-"))
    try:
        docs = Docs(root / "docs")
        docs.write(STRUCTURE_REL, STRUCTURE)
        for rel, (category, order) in CLEAN_PAGES.items():
            docs.page(rel, category, order)
        yield docs
    finally:
        shutil.rmtree(root)


def run_validate(docs: Docs, *extra: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", "--docs-dir", str(docs.root), *extra])
    return code, out.getvalue(), err.getvalue()


def assert_no_crash(docs: Docs) -> int:
    for fmt in ("text", "json"):
        code, _out, err = run_validate(docs, "--format", fmt)
        assert code in (0, 1, 2), err
        assert "Traceback" not in err and "internal error" not in err
    return code


# --- YAML-ish text ------------------------------------------------------------------------------------

KEYS = ["title", "order", "category", "tags", "last_updated", "author", "version", "status", "deprecated"]
KEYS += ["redirect_to", "toc", "search_exclude", "<<", "? a", "- x", "1", "null", "", "a b", "&a k", "*a"]
TOKENS = [
    "01",
    "08",
    "010",
    "0x_",
    "0b",
    "1_0",
    "1:30",
    "._",
    ".inf",
    ".nan",
    "-1",
    "99",
    "100",
    "1.10",
    "1e999",
    "2025-01-19",
    "2025-02-30",
    "2025-13-45",
    "2025-01-19 10:00:00",
    "2025-01-19T10:00:00Z",
    "'2025-01-19'",
    "yes",
    "no",
    "on",
    "~",
    "null",
    "true",
    "[",
    "]",
    "{",
    "}",
    "[a, b]",
    "{a: 1}",
    '"',
    "'",
    '"x"',
    "'x'",
    "&a",
    "*a",
    "&a [*a]",
    "!!set {a}",
    "!!binary x",
    "!!binary aGk=",
    "!!python/name:os.system",
    "!x",
    "|",
    ">",
    "|-\n  text",
    "- a",
    "? k",
    ": v",
    "#c",
    "%YAML 1.1",
    "---",
    "...",
    "\t",
    "\\",
    "²",
    "é",
    "\x00",
    "\ufeff",
    "\r",
    "<<: *a",
    "a: b: c",
]
yaml_value = st.one_of(st.sampled_from(TOKENS), st.text(max_size=12))
yaml_line = st.one_of(
    st.tuples(st.sampled_from(KEYS), yaml_value).map(lambda kv: f"{kv[0]}: {kv[1]}"),
    st.lists(yaml_value, max_size=4).map(" ".join),
    st.tuples(st.sampled_from(["  ", "    ", "- ", "  - "]), st.sampled_from(KEYS), yaml_value).map(
        lambda t: f"{t[0]}{t[1]}: {t[2]}"
    ),
)
yaml_text = st.lists(yaml_line, max_size=10).map("\n".join)


@SETTINGS
@given(content=st.binary(max_size=400))
def test_random_bytes_as_a_page_never_crash(content: bytes) -> None:
    with clean_tree() as docs:
        docs.write("eng/guide/notes/02-random.md", content)
        assert assert_no_crash(docs) in (0, 1)


@SETTINGS
@given(frontmatter=yaml_text, fence=st.sampled_from(["---\n", "---\r\n", "\ufeff---\n", "--- \n", ""]))
def test_random_frontmatter_never_crashes(frontmatter: str, fence: str) -> None:
    with clean_tree() as docs:
        docs.write("eng/guide/setup/01-install.md", f"{fence}{frontmatter}\n---\n# Body\n")
        assert assert_no_crash(docs) in (0, 1)


@SETTINGS
@given(extra=st.dictionaries(st.sampled_from(KEYS), yaml_value, max_size=6))
def test_valid_page_with_random_fields_never_crashes(extra: dict[str, str]) -> None:
    with clean_tree() as docs:
        docs.write("eng/guide/setup/01-install.md", page_text("setup", 1, **extra))
        assert assert_no_crash(docs) in (0, 1)


def _mutate_structure(text: str, edits: list[tuple[int, str]]) -> str:
    lines = text.splitlines()
    for index, replacement in edits:
        lines[index % len(lines)] = replacement
    return "\n".join(lines)


@SETTINGS
@given(
    text=st.one_of(
        yaml_text,
        st.text(max_size=200),
        st.lists(st.tuples(st.integers(0, 40), yaml_line), max_size=4).map(
            lambda edits: _mutate_structure(STRUCTURE, edits)
        ),
    )
)
def test_random_structure_file_never_crashes(text: str) -> None:
    with clean_tree() as docs:
        docs.write(STRUCTURE_REL, text)
        assert_no_crash(docs)
        for command in (["schema"], ["paths"], ["paths", "--format", "tree"]):
            out, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main([command[0], "--docs-dir", str(docs.root), *command[1:]])
            assert code in (0, 1, 2) and "Traceback" not in err.getvalue()


@SETTINGS
@given(
    names=st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\x00"), min_size=1, max_size=20
        ).filter(lambda n: n not in (".", "..")),
        max_size=4,
        unique=True,
    )
)
def test_random_file_names_never_crash(names: list[str]) -> None:
    with clean_tree() as docs:
        for name in names:
            try:
                docs.write(f"eng/guide/notes/{name}", page_text("notes", 1))
            except OSError:  # a name the file system refuses (too long in bytes): nothing to validate
                continue
        assert_no_crash(docs)


# --- the generated schema agrees with the tree's location rules ---------------------------------------

STRUCTURE_FOR_PATHS, _ = parse_structure(STRUCTURE, "structure.yaml")
assert STRUCTURE_FOR_PATHS is not None
FOLDERS = STRUCTURE_FOR_PATHS.folder_index()
SCHEMA = build_schema(STRUCTURE_FOR_PATHS)
PLAIN = Draft202012Validator(SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
COMPILED = compile_validator(STRUCTURE_FOR_PATHS)

# no newline: jsonschema's `pattern` is re.search, where `$` also matches before a final "\n"
segment = st.one_of(
    st.sampled_from(["eng", "guide", "setup", "notes", "bookstack", "Eng", "guide2", "", ".", ".."]),
    st.from_regex(r"[a-z0-9]+(-[a-z0-9]+)*", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\n"), max_size=8),
)
file_name = st.one_of(
    st.sampled_from(["01-intro.md", "01-install.md", "02-configure.md", "03-extra.md", "1-a.md", "01-A.md"]),
    st.from_regex(r"[0-9]{1,3}[-_][a-z0-9]+(-[a-z0-9]+)*\.(md|MD|txt)", fullmatch=True),
    st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="/\n"), max_size=12),
)
doc_path = st.tuples(st.lists(segment, max_size=4), file_name).map(lambda t: "/".join([*t[0], t[1]]))


def valid_frontmatter(category: str) -> dict[str, Any]:
    return {
        "title": "T",
        "order": 1,
        "category": category,
        "tags": [],
        "last_updated": "2025-01-19",
        "author": "a",
    }


@settings(max_examples=500, deadline=None)
@given(path=doc_path)
def test_schema_property_names_agree_with_locate(path: str) -> None:
    folder, problem = locate(path, FOLDERS)
    in_a_folder_and_well_named = problem is None or problem.rule is Rule.PAGE_NOT_LISTED
    assert (re.search(SCHEMA["propertyNames"]["pattern"], path) is not None) == in_a_folder_and_well_named
    # and the whole schema accepts exactly the paths locate() places
    instance = {path: valid_frontmatter(folder.category if folder else "x")}
    assert PLAIN.is_valid(instance) == (problem is None)
    assert COMPILED.is_valid(instance) == (problem is None)


def _errors(validator: Draft202012Validator, instance: object) -> list[tuple[str, ...]]:
    return sorted(
        (*map(str, err.absolute_path), str(err.validator), err.message) for err in validator.iter_errors(instance)
    )


json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 120) | st.floats(allow_nan=False) | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=6,
)
frontmatter_value = st.fixed_dictionaries(
    {},
    optional={
        "title": st.one_of(st.just("T"), st.just(""), json_value),
        "order": st.one_of(st.integers(-2, 101), json_value),
        "category": st.sampled_from(["guide", "setup", "notes", "other"]),
        "tags": st.one_of(st.lists(st.text(max_size=3), max_size=2), json_value),
        "last_updated": st.sampled_from(["2025-01-19", "2025-02-30", "19/01/2025", "x"]),
        "author": json_value,
        "status": st.sampled_from(["draft", "review", "published", "final"]),
        "colour": json_value,
    },
)


@settings(max_examples=300, deadline=None)
@given(
    instance=st.dictionaries(
        st.sampled_from(
            [
                "eng/guide/01-intro.md",
                "eng/guide/setup/01-install.md",
                "eng/guide/setup/03-extra.md",
                "eng/guide/notes/07-any.md",
                "eng/guide/other/01-x.md",
                "README.md",
            ]
        ),
        st.one_of(frontmatter_value, json_value),
        max_size=4,
    )
)
def test_compiled_validator_means_the_same_as_the_printed_schema(instance: dict[str, Any]) -> None:
    assert _errors(COMPILED, instance) == _errors(PLAIN, instance)


@pytest.mark.parametrize("rel", sorted(CLEAN_PAGES))
def test_clean_paths_are_accepted_by_the_schema(rel: str) -> None:
    assert re.search(SCHEMA["propertyNames"]["pattern"], rel)
