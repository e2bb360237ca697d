"""The fast path (jsonschema-rs) against the validator that explains (jsonschema), page by page.

A page jsonschema-rs calls valid must be valid for jsonschema, or its mistakes would go unreported;
and it should call valid every page jsonschema does, or validation is slow for nothing. Every other
validation test checks the first through the ``fast_schema_proven_by_jsonschema`` fixture; here they
are compared on generated pages: unicode titles with control and format characters, numbers at the
limits, NaN, impossible dates, tags at and past 191 characters, and values only YAML makes.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from bookstack_sync.check.validate import unvouched_pages, validate_docs
from bookstack_sync.docs.fastschema import FastSchema, is_date
from bookstack_sync.docs.schema import build_schema, page_categories
from bookstack_sync.docs.structure import META_SCHEMA, NOT_ONLY_SPACE, TEXT_MAX, parse_structure

from .conftest import STRUCTURE, STRUCTURE_REL, Docs, jsonschema_errors, page_text

_STRUCTURE, _ = parse_structure(STRUCTURE, STRUCTURE_REL)
assert _STRUCTURE is not None
SCHEMA = build_schema(_STRUCTURE)
FAST = FastSchema(SCHEMA)
LISTED = "eng/guide/setup/01-install.md"  # under `properties`
UNLISTED = "eng/guide/notes/07-any.md"  # under `patternProperties` (a chapter without a pages list)


def agree(schema: dict[str, Any], instance: Any, fast: FastSchema | None = None) -> None:
    """jsonschema-rs vouches for ``instance`` exactly when jsonschema finds nothing wrong with it, but for
    two differences on the safe side: Python's ``$`` also matches before a final line end, ECMA's does not;
    and a NaN or an infinity (YAML's ``.nan``, ``.inf``; JSON has neither) is a number to jsonschema but
    cannot reach jsonschema-rs, which then vouches for nothing."""
    errors = jsonschema_errors(schema, instance)
    vouched = (fast or FastSchema(schema)).vouches(instance)
    if vouched or not _safe_side_only(instance):
        assert vouched == (errors == []), errors or "jsonschema finds it valid"
    else:
        assert vouched <= (errors == [])


def _safe_side_only(value: Any) -> bool:
    """Whether ``value`` holds something the two may judge differently, the fast path being the stricter."""
    if isinstance(value, str):
        return value.endswith("\n")
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_safe_side_only(k) or _safe_side_only(v) for k, v in value.items())
    if isinstance(value, list):
        return any(map(_safe_side_only, value))
    return False


def valid_page(category: str) -> dict[str, Any]:
    return {
        "title": "A page",
        "order": 1,
        "category": category,
        "tags": ["docs", {"topic": "api"}],
        "last_updated": "2025-01-19",
        "author": "tester",
    }


# every character class that regex engines disagree on: whitespace, control, format, separators
unicode_text = st.text(
    st.characters(codec="utf-8", categories=["Cc", "Cf", "Zs", "Zl", "Zp", "Lu", "Ll", "Nd", "Mn", "So"]),
    max_size=8,
) | st.sampled_from(["\x1c", "\x1f", "\x85", "\ufeff", "\u200b", "\u00a0", "\u3000", " \t", "\u180e", "a\n"])
at_limits = (
    st.sampled_from([0, 1, 99, 100, -1, 1.0, 99.0, 99.5, 0.5, -0.0, True, False, 2**63, 2**64, -(2**63) - 1, 10**40])
    | st.sampled_from([math.nan, math.inf, -math.inf])
    | st.integers()
    | st.floats()
)
dates = st.sampled_from(
    [
        "2025-01-19",
        "2025-02-30",
        "2024-02-29",
        "2025-02-29",
        "2025-13-01",
        "2025-00-10",
        "2025-1-01",
        "0000-01-01",
        "9999-12-31",
        "2025-01-19\n",
        "2025-01-19T00:00:00",
        "\uff12\uff10\uff12\uff15-01-19",  # fullwidth digits
        "",
    ]
) | st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z")
long_text = st.sampled_from([TEXT_MAX - 1, TEXT_MAX, TEXT_MAX + 1]).map(lambda n: "t" * n) | st.sampled_from(
    ["é" * TEXT_MAX, "é" * (TEXT_MAX + 1), "😀" * TEXT_MAX, "😀" * (TEXT_MAX + 1)]
)
# what YAML can hand over besides JSON: !!binary, !!set
yaml_only = st.sampled_from([b"bytes", {"a", "b"}, frozenset()])
scalar = st.none() | st.booleans() | at_limits | unicode_text | long_text | yaml_only
value = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(unicode_text | long_text, inner, max_size=2),
    max_leaves=5,
)
tag = (
    unicode_text
    | long_text
    | st.dictionaries(unicode_text | long_text, st.none() | st.booleans() | at_limits | unicode_text | long_text)
    | value
)
field_values: dict[str, st.SearchStrategy[Any]] = {
    "title": unicode_text | long_text | value,
    "order": at_limits | st.sampled_from(["01", "1"]) | value,
    "category": st.sampled_from(["setup", "notes", "guide", "Setup", "setup "]) | value,
    "tags": st.lists(tag, max_size=3) | value,
    "last_updated": dates | value,
    "author": unicode_text | long_text | value,
    "version": unicode_text | long_text | value,
    "status": st.sampled_from(["draft", "review", "published", "Draft"]) | value,
    "deprecated": st.booleans() | value,
    "redirect_to": unicode_text | value,
    "toc": st.booleans() | value,
    "search_exclude": st.booleans() | value,
    "colour": value,
}


@st.composite
def pages(draw: st.DrawFn) -> tuple[str, dict[str, Any]]:
    path = draw(st.sampled_from([LISTED, UNLISTED, "eng/guide/01-intro.md", "eng/guide/other/01-x.md"]))
    page = valid_page("notes" if path == UNLISTED else "guide" if path.count("/") == 2 else "setup")
    for name in draw(st.lists(st.sampled_from(sorted(field_values)), max_size=3, unique=True)):
        page[name] = draw(field_values[name])
    for name in draw(st.lists(st.sampled_from(sorted(page)), max_size=1)):
        del page[name]
    return path, page


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(page=pages())
@example(page=(LISTED, {**valid_page("setup"), "title": "\x1c"}))
@example(page=(LISTED, {**valid_page("setup"), "title": "\ufeff"}))
@example(page=(LISTED, {**valid_page("setup"), "order": math.nan}))
@example(page=(LISTED, {**valid_page("setup"), "tags": [{"": math.nan}]}))
@example(page=(LISTED, {**valid_page("setup"), "tags": [{"topic": -math.inf}]}))
@example(page=(LISTED, {**valid_page("setup"), "last_updated": "2025-02-30"}))
@example(page=(LISTED, {**valid_page("setup"), "tags": ["t" * TEXT_MAX, {"k" * TEXT_MAX: "v" * TEXT_MAX}]}))
@example(page=(LISTED, {**valid_page("setup"), "tags": [{"k" * (TEXT_MAX + 1): "v"}]}))
def test_the_fast_path_vouches_for_exactly_the_valid_pages(page: tuple[str, dict[str, Any]]) -> None:
    path, frontmatter = page
    agree(SCHEMA, {path: frontmatter}, FAST)


@pytest.mark.parametrize(
    ("title", "valid"),
    [("\x1c\x1d\x1e\x1f", False), ("\x85", False), ("\ufeff", True), ("\u200b", True), ("\u3000 ", False)],
)
def test_titles_of_only_space_are_read_alike_by_both(title: str, valid: bool) -> None:
    """Python's `\\S` and Rust's differ on these; the schema spells the class out so both read it as Python."""
    instance = {LISTED: {**valid_page("setup"), "title": title}}
    assert (jsonschema_errors(SCHEMA, instance) == []) is valid
    agree(SCHEMA, instance, FAST)


def test_values_it_cannot_take_leave_the_page_to_jsonschema() -> None:
    instance = {LISTED: {**valid_page("setup"), "version": b"1.0"}}
    assert not FAST.vouches(instance)
    assert FAST.unvouched({**instance, UNLISTED: valid_page("notes")}) == [LISTED]


def test_a_schema_it_cannot_compile_vouches_for_nothing() -> None:
    unreadable = FastSchema({"type": "string", "pattern": "(?<=a)b"})  # lookbehind: not in Rust's regex
    assert not unreadable.vouches("b")
    assert unreadable.unvouched({"a": "b"}) == ["a"]


def test_unvouched_names_the_invalid_pages_in_order() -> None:
    instance = {
        UNLISTED: valid_page("notes"),
        LISTED: {**valid_page("setup"), "order": 0},
        "eng/guide/01-intro.md": {**valid_page("guide"), "title": " "},
    }
    assert FAST.unvouched(instance) == [LISTED, "eng/guide/01-intro.md"]
    assert FAST.unvouched({UNLISTED: valid_page("notes")}) == []


def test_not_only_space_is_pythons_non_whitespace() -> None:

    pattern = re.compile(NOT_ONLY_SPACE)
    assert [c for c in range(0x110000) if bool(pattern.search(chr(c))) == chr(c).isspace()] == []


@settings(max_examples=300, deadline=None)
@given(
    name=unicode_text | long_text | value,
    slug=st.sampled_from(["eng", "Eng", "a--b", "", "x\n"]) | value,
    pages=st.lists(st.sampled_from(["01-a", "1-a", "01-A", ""]) | value, max_size=2),
)
def test_the_structure_file_is_judged_alike(name: Any, slug: Any, pages: Any) -> None:
    document = {
        "structure": [{"shelf": {"name": name, "slug": slug, "books": [{"book": {"name": "B", "pages": pages}}]}}]
    }
    agree(META_SCHEMA, document)


def test_a_tree_with_mistakes_reports_the_same_with_and_without_the_fast_path(
    docs: Docs, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs.write("eng/guide/setup/01-install.md", page_text("setup", 1, title='"\\x1c"', order="0"))
    docs.write("eng/guide/notes/02-dated.md", page_text("notes", 2, last_updated="2025-02-30"))
    docs.write("eng/guide/notes/03-tag.md", page_text("notes", 3, tags=f'["{"t" * (TEXT_MAX + 1)}"]'))
    fast = [d.format() for d in docs.validate().diagnostics]
    monkeypatch.setattr(FastSchema, "vouches", lambda self, instance: False)
    assert [d.format() for d in validate_docs(docs.root, docs.structure).diagnostics] == fast
    assert len(fast) >= 4


@settings(max_examples=1000, deadline=None)
@given(text=dates | st.text(st.sampled_from("0123456789-\n\u0663\uff12T: "), max_size=12))
def test_dates_are_read_as_jsonschema_reads_them(text: str) -> None:
    assert is_date(text) == Draft202012Validator.FORMAT_CHECKER.conforms(text, "date")


def test_a_schema_with_another_format_vouches_for_nothing() -> None:
    email = FastSchema({"type": "string", "format": "email"})
    assert not email.vouches("someone@example.org")


# Listed and unlisted folders and a book's own pages; in the second schema two folders' pages refer to one
# definition (what build_schema never writes, but the quick check must read the schema, not the structure).
ODD_STRUCTURE = """\
structure:
  - shelf:
      name: "X"
      slug: x
      books:
        - book:
            name: "AB"
            slug: ab
            pages: ["01-top"]
            chapters:
              - chapter:
                  name: "C"
                  slug: c
                  pages: ["01-one", "02-two"]
        - book:
            name: "A"
            slug: a
            chapters:
              - chapter:
                  name: "BC"
                  slug: bc
              - chapter:
                  name: "D"
                  slug: d
                  pages: ["01-one"]
"""
_ODD, _ = parse_structure(ODD_STRUCTURE, STRUCTURE_REL)
assert _ODD is not None
ODD_SCHEMA = build_schema(_ODD)
SHARED_SCHEMA = {
    **ODD_SCHEMA,
    "properties": {**ODD_SCHEMA["properties"], "x/a/d/01-one.md": {"$ref": "#/$defs/page-in-x--ab--c"}},
}
# and one whose page definition asks more than a category
STRICTER_SCHEMA = {
    **ODD_SCHEMA,
    "$defs": {
        **ODD_SCHEMA["$defs"],
        "page-in-x--ab--c": {
            "$ref": "#/$defs/frontmatter",
            "properties": {"category": {"const": "c"}, "title": {"maxLength": 3}},
        },
    },
}
ODD_PLACES = [
    ("x/ab/01-top.md", "x/ab"),
    ("x/ab/c/01-one.md", "x/ab/c"),
    ("x/ab/c/03-three.md", "x/ab/c"),  # not listed
    ("x/a/bc/05-any.md", "x/a/bc"),
    ("x/a/bc/5-bad.md", "x/a/bc"),  # a name the pattern refuses
    ("x/a/d/01-one.md", "x/a/d"),
    ("x/a/d/01-one.md", "x/a"),  # the tree puts it elsewhere than its path says
    ("x/a/bc/05-any.md", "x/a"),  # ... in a folder of its own page-name pattern
    ("x/a/e/01-one.md", "x/a/e"),  # no such folder
]


@dataclass
class _Page:
    folder: Any
    frontmatter: Any


@st.composite
def odd_trees(draw: st.DrawFn) -> dict[str, Any]:
    by_path: dict[str, Any] = {}
    for path, key in draw(st.lists(st.sampled_from(ODD_PLACES), min_size=1, max_size=4, unique_by=lambda p: p[0])):
        frontmatter = valid_page(draw(st.sampled_from(["c", "bc", "d", "ab", "a", "C"])))
        for name in draw(st.lists(st.sampled_from(sorted(field_values)), max_size=2, unique=True)):
            frontmatter[name] = draw(field_values[name])
        by_path[path] = _Page(SimpleNamespace(key=key), frontmatter)
    return by_path


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(by_path=odd_trees(), schema=st.sampled_from([ODD_SCHEMA, SHARED_SCHEMA, STRICTER_SCHEMA]))
def test_pages_vouched_one_by_one_are_valid_for_the_whole_schema(by_path: dict[str, Any], schema: Any) -> None:
    """A page the quick per-page check vouches for has no error under the whole tree schema (jsonschema);
    one it leaves to the whole schema's check is still judged right."""
    unvouched = unvouched_pages(schema, by_path)
    for path, page in by_path.items():
        errors = jsonschema_errors(schema, {path: page.frontmatter})
        if path not in unvouched:
            assert errors == [], f"vouched for {path}"
        elif not _safe_side_only(page.frontmatter):
            assert errors != [], f"left a valid page to jsonschema: {path}"


def test_the_quick_check_reads_each_pages_category_from_the_schema() -> None:
    places = dict(ODD_PLACES[:6])
    assert page_categories(ODD_SCHEMA, places) == {
        "x/ab/01-top.md": "ab",
        "x/ab/c/01-one.md": "c",
        "x/a/bc/05-any.md": "bc",
        "x/a/d/01-one.md": "d",
    }
    # a page the tree puts elsewhere than its path says: the whole schema decides it
    assert page_categories(ODD_SCHEMA, {"x/a/d/01-one.md": "x/a", "x/a/bc/05-any.md": "x/a"}) == {}
    assert page_categories(ODD_SCHEMA, {"x/a/d/01-one.md": "x/a/d"}) == {"x/a/d/01-one.md": "d"}
    assert page_categories(SHARED_SCHEMA, {"x/a/d/01-one.md": "x/a/d"}) == {"x/a/d/01-one.md": "c"}
    assert page_categories(STRICTER_SCHEMA, {"x/ab/c/01-one.md": "x/ab/c"}) == {}
    # a schema not shaped as build_schema shapes it: the whole schema decides every page
    assert page_categories({**ODD_SCHEMA, "propertyNames": {"pattern": "^(x.*)/.*$"}}, places) == {}
