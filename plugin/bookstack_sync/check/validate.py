"""Validation: the structure file, the tree on disk, and every page's frontmatter against the generated schema.

The schema is compiled once per run and the whole tree is validated as one instance; each ``jsonschema``
error is mapped back to ``path:line`` with a stable rule id. The rules JSON Schema cannot express over
that instance (a listed page missing on disk, ``order`` against the file prefix, duplicate orders) are
checked beside it and produce the same :class:`Diagnostic`.
"""

from __future__ import annotations

import json
import re
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from ..docs.diagnostics import Diagnostic, Rule, Severity, count, error, sort_diagnostics, warning
from ..docs.fastschema import FastSchema
from ..docs.schema import build_schema, def_name, page_categories
from ..docs.structure import TEXT_MAX, Structure, read_structure
from ..docs.tree import DocsTree, PageSource, read_pages, walk_tree
from ..errors import ExitCode, UsageError
from ..settings import OutputFormat
from .parallel import can_fork, validate_in_two
from .references import check_references

if TYPE_CHECKING:  # jsonschema is imported only to explain a page jsonschema-rs does not vouch for
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import ValidationError


@dataclass
class Validation:
    """Everything one validation run found."""

    structure: Structure | None
    tree: DocsTree | None
    diagnostics: list[Diagnostic] = field(default_factory=list)

    def exit_code(self, strict: bool) -> ExitCode:
        return ExitCode.INVALID_DOCS if self.failed(strict) else ExitCode.OK

    @property
    def errors(self) -> int:
        return count(self.diagnostics)[0]

    @property
    def warnings(self) -> int:
        return count(self.diagnostics)[1]

    def failed(self, strict: bool = False) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)

    def summary(self, strict: bool = False) -> str:
        """The last line of ``validate``: the counts, and why the run fails when only warnings make it fail."""
        pages = len(self.tree.pages) if self.tree else 0
        line = f"{pages} pages checked: {self.errors} error(s), {self.warnings} warning(s)"
        if strict and self.warnings and not self.errors:
            line += " — failed: strict mode (`--strict`, `strict: true`) counts warnings as errors"
        return line


def display_path(path: Path, docs_dir: Path) -> str:
    """How a file is named in diagnostics: relative to docs_dir when inside it."""
    try:
        return path.resolve().relative_to(docs_dir.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def validate_docs(
    docs_dir: Path, structure_path: Path, *, ignore: tuple[str, ...] = (), max_upload_mb: int = 50
) -> Validation:
    """Validate the docs tree under ``docs_dir`` against ``structure_path``; a file over ``max_upload_mb``
    (the setting) is an error.

    Raises :class:`UsageError` (exit 2) only when there is nothing to validate: no docs folder,
    no structure file.
    """
    if not docs_dir.is_dir():
        raise UsageError(
            f"docs directory not found: {docs_dir}", hint="set `docs_dir` to the folder holding your shelves"
        )
    structure, diagnostics = read_structure(structure_path, display=display_path(structure_path, docs_dir))
    if structure is None:
        return Validation(None, None, sort_diagnostics(diagnostics))
    walk = walk_tree(docs_dir, structure, ignore=ignore, skip_dir=structure_path.parent)
    done = validate_in_two(structure, walk, _tree_rules, max_upload_mb) if can_fork(len(walk.files)) else None
    if done is None:
        tree = walk.finish(read_pages(walk.files))
        found = validate_tree(structure, tree, max_upload_mb)
    else:
        tree, found = done
    diagnostics.extend(tree.diagnostics)
    diagnostics.extend(found)
    return Validation(structure, tree, sort_diagnostics(diagnostics))


def validate_tree(structure: Structure, tree: DocsTree, max_upload_mb: int) -> list[Diagnostic]:
    """The rules over readable pages: the generated schema, then the folder-level rules beside it."""
    found = _tree_rules(structure, tree)
    found.extend(check_references(tree, structure, max_upload_mb=max_upload_mb))
    return found


def _tree_rules(structure: Structure, tree: DocsTree) -> list[Diagnostic]:
    found = list(schema_diagnostics(structure, tree.pages))
    found.extend(unlisted_page_diagnostics(structure, tree.unlisted))
    found.extend(missing_pages(structure, tree))
    found.extend(empty_chapters(structure, tree))
    found.extend(order_rules(tree.pages))
    found.extend(long_paths(tree.pages))
    return found


_REGEX_META = frozenset(".^$*+?{}[]\\|()")


@lru_cache(maxsize=4096)
def _literal_prefix(pattern: str) -> str:
    """Text every string matching ``pattern`` (as ``re.search`` does it) starts with; "" when unknown.

    Only a pattern anchored with ``^`` and free of alternation has one: the characters up to the first
    regex metacharacter, minus the last one when a quantifier that allows zero repeats follows it.
    """
    if not pattern.startswith("^") or "|" in pattern:
        return ""
    prefix: list[str] = []
    for char in pattern[1:]:
        if char in _REGEX_META:
            if char in "*?{" and prefix:
                prefix.pop()
            break
        prefix.append(char)
    return "".join(prefix)


@lru_cache(maxsize=4096)
def _regex(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _pattern_properties(
    validator: Any, pattern_properties: dict[str, Any], instance: Any, schema: Any
) -> Iterator[ValidationError]:
    """``patternProperties`` with the same result as jsonschema's, in O(patterns * log(properties)).

    jsonschema tries every pattern on every property name: 100 unlisted folders times 10,000 pages is
    a million regex searches. Our patterns are anchored folder prefixes, so the candidates of each are
    found by binary search in the sorted names, and only those are matched against the full pattern.
    """
    if not validator.is_type(instance, "object"):
        return
    names = sorted(name for name in instance if isinstance(name, str))
    for pattern, subschema in pattern_properties.items():
        for name in _names_matching(pattern, names):
            yield from validator.descend(instance[name], subschema, path=name, schema_path=pattern)


def _names_matching(pattern: str, sorted_names: list[str]) -> Iterator[str]:
    """The names ``pattern`` matches: only those sharing its literal prefix are tried (binary search)."""
    regex = _regex(pattern)
    prefix = _literal_prefix(pattern)
    for index in range(bisect_left(sorted_names, prefix) if prefix else 0, len(sorted_names)):
        name = sorted_names[index]
        if not name.startswith(prefix):
            break
        if regex.search(name):
            yield name


@lru_cache(maxsize=1)
def _tree_validator() -> Any:
    """Draft 2020-12, with a faster but equivalent implementation of one keyword."""
    from jsonschema import Draft202012Validator, validators

    return validators.extend(  # type: ignore[no-untyped-call]
        Draft202012Validator, {"patternProperties": _pattern_properties}
    )


# keywords whose meaning depends on other keywords of the same schema object: objects holding one of
# these are never merged with another, only combined with allOf
_INTERACTING = frozenset(
    {"$ref", "$dynamicRef", "$id", "$anchor", "$dynamicAnchor", "additionalProperties", "patternProperties"}
    | {"unevaluatedProperties", "unevaluatedItems", "items", "prefixItems", "contains", "minContains"}
    | {"maxContains", "if", "then", "else", "dependentSchemas", "dependentRequired"}
)


def inline_local_refs(schema: dict[str, Any]) -> dict[str, Any]:
    """The same schema with every ``{"$ref": "#/$defs/x", ...}`` replaced by what it refers to.

    A ``$ref`` costs jsonschema about as much as validating a small object, and the tree schema has two
    per page (page → ``page-in-<folder>`` → ``frontmatter``). A ``$ref`` with sibling keywords means
    both must hold; the siblings are merged into the target where that keeps the meaning exactly
    (disjoint keywords, or ``properties`` naming only properties the target already has), and joined
    with ``allOf`` otherwise. ``$defs`` stay, so any ``$ref`` left (a recursive one) still resolves.
    """
    defs: dict[str, Any] = schema.get("$defs", {})
    done: dict[str, Any] = {}
    active: set[str] = set()

    def resolve(node: Any) -> Any:
        if isinstance(node, list):
            return [resolve(item) for item in node]
        if not isinstance(node, dict):
            return node
        out = {key: value if key == "$defs" else resolve(value) for key, value in node.items()}
        ref = out.get("$ref")
        name = ref[len("#/$defs/") :] if isinstance(ref, str) and ref.startswith("#/$defs/") else None
        if name is None or "/" in name or "~" in name or name not in defs or name in active:
            return out
        if name not in done:
            active.add(name)
            done[name] = resolve(defs[name])
            active.discard(name)
        return _conjoin(done[name], {key: value for key, value in out.items() if key != "$ref"})

    inlined: dict[str, Any] = resolve(schema)
    return inlined


def _conjoin(target: Any, siblings: dict[str, Any]) -> Any:
    """A schema that holds exactly when both ``target`` and ``siblings`` hold."""
    if not siblings:
        return target
    if not isinstance(target, dict):
        return {"allOf": [target, siblings]}
    shared = set(target) & set(siblings)
    if (_INTERACTING & set(siblings)) or shared - {"properties"}:
        return {"allOf": [target, siblings]}
    if not shared:
        if _INTERACTING & set(target):
            return {"allOf": [target, siblings]}
        return {**target, **siblings}
    # both have `properties`: merge them only when the siblings add no property name, so the target's
    # additionalProperties/unevaluatedProperties see the same names as before
    own, extra = target["properties"], siblings["properties"]
    if not isinstance(own, dict) or not isinstance(extra, dict) or not set(extra) <= set(own):
        return {"allOf": [target, siblings]}
    if any(not isinstance(sub, dict) for sub in extra.values()):
        return {"allOf": [target, siblings]}
    properties = {name: _conjoin(sub, extra[name]) if name in extra else sub for name, sub in own.items()}
    return {**target, **{k: v for k, v in siblings.items() if k != "properties"}, "properties": properties}


def compile_validator(structure: Structure, schema: dict[str, Any] | None = None) -> Draft202012Validator:
    """The validator of the tree schema (``schema``, built from ``structure`` when not given); ``$ref``
    resolved ahead of time (same meaning, a third faster)."""
    tree_validator = _tree_validator()
    validator: Draft202012Validator = tree_validator(
        inline_local_refs(schema if schema is not None else build_schema(structure)),
        format_checker=tree_validator.FORMAT_CHECKER,
    )
    return validator


def schema_diagnostics(structure: Structure, pages: Iterable[PageSource]) -> Iterator[Diagnostic]:
    by_path = {page.path: page for page in pages}
    schema = build_schema(structure)
    # every keyword of the tree schema judges each page on its own, so jsonschema finds the same errors,
    # in the same order, over the pages jsonschema-rs does not vouch for (nearly always none)
    unvouched = unvouched_pages(schema, by_path)
    if not unvouched:
        return
    yield from _schema_errors(compile_validator(structure, schema), {path: by_path[path] for path in unvouched})


def unvouched_pages(schema: dict[str, Any], by_path: dict[str, PageSource]) -> list[str]:
    """The pages (in order) jsonschema-rs does not vouch for against the tree ``schema``: first each page
    whose place the schema judges by its folder's definition alone (:func:`page_categories`) by its
    frontmatter and category, without compiling the whole schema; the others against the whole schema."""
    categories = page_categories(schema, {path: page.folder.key for path, page in by_path.items()})
    candidates = [
        path
        for path, page in by_path.items()
        if path in categories and page.frontmatter.get("category") == categories[path]
    ]
    vouched: set[str] = set()
    if candidates:
        # the frontmatter definition alone (were it to refer to another, it would not compile: no vouching)
        frontmatters = FastSchema(
            {
                "$schema": schema.get("$schema"),
                "type": "array",
                "items": {"$ref": "#/$defs/frontmatter"},
                "$defs": {"frontmatter": schema["$defs"]["frontmatter"]},
            }
        )
        if frontmatters.vouches([by_path[path].frontmatter for path in candidates]):
            vouched.update(candidates)
        else:
            vouched.update(path for path in candidates if frontmatters.vouches([by_path[path].frontmatter]))
    rest = {path: page.frontmatter for path, page in by_path.items() if path not in vouched}
    return FastSchema(schema).unvouched(rest) if rest else []


def unlisted_page_diagnostics(structure: Structure, pages: Iterable[PageSource]) -> Iterator[Diagnostic]:
    """The frontmatter of pages their folder's ``pages`` list leaves out, checked as if listed: the user
    sees every mistake of the file in the run that says it is not listed."""
    by_path = {page.path: page for page in pages}
    if not by_path:
        return
    schema = {
        "type": "object",
        "properties": {path: {"$ref": f"#/$defs/{def_name(page.folder.key)}"} for path, page in by_path.items()},
        "$defs": build_schema(structure)["$defs"],
    }
    tree_validator = _tree_validator()
    validator = tree_validator(inline_local_refs(schema), format_checker=tree_validator.FORMAT_CHECKER)
    yield from _schema_errors(validator, by_path)


def _schema_errors(validator: Draft202012Validator, by_path: dict[str, PageSource]) -> Iterator[Diagnostic]:
    instance = {path: page.frontmatter for path, page in by_path.items()}
    reported_required: set[str] = set()
    # one value can break two keywords that say the same (a date's `format` and `pattern`): say it once
    said: set[Diagnostic] = set()
    for err in validator.iter_errors(instance):
        path = list(err.absolute_path)
        if not path:
            # Only reachable when the tree and the schema disagree about locations, which the
            # location checks in tree.py rule out; report it rather than hide it.
            yield error(".", None, Rule.NOT_IN_HIERARCHY, err.message)
            continue
        page = by_path[str(path[0])]
        for diagnostic in _page_error(page, path[1:], err, reported_required):
            if diagnostic not in said:
                said.add(diagnostic)
                yield diagnostic


def _page_error(
    page: PageSource, path: list[Any], err: ValidationError, reported_required: set[str]
) -> Iterator[Diagnostic]:
    key = str(path[0]) if path else None
    instance: Any = err.instance
    schema: Any = err.schema
    validator_value: Any = err.validator_value
    line = page.line_of(key)
    where = ".".join(str(p) for p in path)
    keyword = err.validator
    if keyword == "required":
        if page.path in reported_required:
            return
        reported_required.add(page.path)
        missing = [name for name in validator_value if name not in instance]
        for name in missing:
            yield error(page.path, page.frontmatter_line, Rule.FIELD_REQUIRED, f"missing required field `{name}`")
        return
    if keyword == "additionalProperties":
        known = set(schema.get("properties", {}))
        for extra in sorted(set(instance) - known):
            yield warning(page.path, page.line_of(extra), Rule.FIELD_UNKNOWN, f"unknown field `{extra}` is ignored")
        return
    if key == "category" and keyword == "const":
        yield error(
            page.path,
            line,
            Rule.CATEGORY_MISMATCH,
            f"category is {instance!r} but the page is in {page.folder.key!r}: set `category: {validator_value}`",
        )
        return
    if keyword == "anyOf" and key == "tags":
        yield error(
            page.path,
            line,
            Rule.FIELD_TYPE,
            f"`{where}` must be a string (a tag) or a one-key mapping (a tag with a value: `{{topic: api}}`), "
            f"got {_json_type(instance)} {_short(instance)}",
        )
        return
    if keyword == "type":
        expected = validator_value
        yield error(
            page.path,
            line,
            Rule.FIELD_TYPE,
            f"`{where}` must be {_article(expected)}, got {_json_type(instance)} {_short(instance)}",
        )
        return
    if keyword == "maxLength":
        yield error(
            page.path,
            line,
            Rule.NAME_TOO_LONG if key == "title" else Rule.TAG_TOO_LONG,
            f"`{where}` is {len(instance)} characters; BookStack stores at most {validator_value} "
            "(it would cut the rest): shorten it",
        )
        return
    yield error(page.path, line, Rule.FIELD_VALUE, f"`{where}`: {_value_message(keyword, err)}")


def _value_message(keyword: Any, err: ValidationError) -> str:
    validator_value: Any = err.validator_value
    value = _short(err.instance)
    if keyword == "enum":
        return f"{value} is not one of {', '.join(map(str, validator_value))}"
    if keyword in ("minimum", "maximum"):
        return f"{value} is out of range (1 to 99)" if "order" in err.absolute_path else err.message
    if keyword in ("format", "pattern") and "last_updated" in err.absolute_path:
        return f"{value} is not a date written YYYY-MM-DD"
    if keyword in ("minLength", "pattern"):
        return "must not be empty"
    return err.message


def _article(expected: Any) -> str:
    names = {"string": "a string", "integer": "a whole number", "array": "a list", "boolean": "true or false"}
    if isinstance(expected, list):
        return " or ".join(names.get(str(e), str(e)) for e in expected)
    return names.get(expected, str(expected))


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def missing_pages(structure: Structure, tree: DocsTree) -> Iterator[Diagnostic]:
    """Listed pages without a file (checked against every located file, readable or not)."""
    for folder in structure.folders():
        if folder.listed_pages is None:
            continue
        for stem, line in zip(folder.listed_pages, folder.listed_page_lines, strict=True):
            expected = f"{folder.key}/{stem}.md"
            if expected not in tree.page_files:
                yield error(
                    structure.source,
                    line,
                    Rule.PAGE_MISSING,
                    f"page {stem!r} is listed but {expected} does not exist",
                )


def empty_chapters(structure: Structure, tree: DocsTree) -> Iterator[Diagnostic]:
    """A declared chapter with no page to put in it (no `pages`, or an empty list, and no page file): a sync
    would create it empty in BookStack. A listed page that is missing is [page-missing] instead."""
    holding = {path.rpartition("/")[0] for path in tree.page_files}
    holding.update(page.path.rpartition("/")[0] for page in tree.unlisted)
    for folder in structure.folders():
        chapter = folder.chapter
        if chapter is None or folder.listed_pages or folder.key in holding:
            continue
        yield warning(
            structure.source,
            chapter.line,
            Rule.CHAPTER_EMPTY,
            f"chapter {chapter.name!r} has no pages: `plan` and `sync` would create it empty in BookStack; "
            f"add a page file to {folder.key}/ (see `bookstack-sync paths`) or remove the chapter",
        )


def long_paths(pages: Iterable[PageSource]) -> Iterator[Diagnostic]:
    """A page's path is its key in BookStack (the ``bookstack-sync`` tag value), cut at 191 characters there."""
    for page in pages:
        if len(page.path) > TEXT_MAX:
            yield error(
                page.path,
                None,
                Rule.PATH_TOO_LONG,
                f"the path is {len(page.path)} characters; BookStack keeps {TEXT_MAX} of the tag that records "
                "where a page comes from: shorten the folder or file names",
            )


def order_rules(pages: Iterable[PageSource]) -> Iterator[Diagnostic]:
    """``order`` against the file's number prefix, and two pages with one order in one folder."""
    by_folder: dict[str, dict[int, list[PageSource]]] = defaultdict(lambda: defaultdict(list))
    for page in pages:
        order = page.frontmatter.get("order")
        if not isinstance(order, int) or isinstance(order, bool):
            continue
        by_folder[page.folder.key][order].append(page)
        if order != page.number:
            yield warning(
                page.path,
                page.line_of("order"),
                Rule.ORDER_PREFIX_MISMATCH,
                f"order {order} differs from the file's number prefix {page.name[:2]}",
            )
    for orders in by_folder.values():
        for order, same in orders.items():
            if len(same) > 1:
                names = ", ".join(p.name for p in same)
                for page in same:
                    yield warning(
                        page.path,
                        page.line_of("order"),
                        Rule.ORDER_DUPLICATE,
                        f"order {order} is shared by {names}: their order in BookStack is undefined",
                    )


__all__ = ["Severity", "Validation", "validate_docs", "validate_tree"]


def write_validation(validation: Validation, output_format: OutputFormat, out: TextIO, *, strict: bool = False) -> None:
    """What ``validate`` prints: one line per problem and a summary, or the same as JSON."""
    if output_format is OutputFormat.JSON:
        json.dump(
            {
                "diagnostics": [d.to_json() for d in validation.diagnostics],
                "pages": len(validation.tree.pages) if validation.tree else 0,
                "errors": validation.errors,
                "warnings": validation.warnings,
                "strict": strict,
                "failed": validation.failed(strict),
            },
            out,
            indent=2,
        )
        out.write("\n")
        return
    for diagnostic in validation.diagnostics:
        out.write(diagnostic.format() + "\n")
    out.write(validation.summary(strict) + "\n")
