"""The JSON Schema of a whole docs tree, generated from the structure file.

The instance it describes is ``{"<path relative to docs_dir>": <frontmatter>, ...}``. Listed pages are
exact ``properties``; a folder without a ``pages`` list admits any well-named file through
``patternProperties``; every page's ``category`` is fixed to its parent's slug. ``bookstack-sync schema``
prints it for editors (YAML language server) and other tools.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .structure import NAME_MAX, NOT_ONLY_SPACE, TEXT_MAX, Structure

SCHEMA_ID = "https://bookstack-sync.invalid/docs-tree.schema.json"
PAGE_NAME_REGEX = "[0-9]{2}-[a-z0-9]+(-[a-z0-9]+)*\\.md"
DATE_REGEX = "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
STATUSES = ("draft", "review", "published")
REQUIRED_FIELDS = ("title", "order", "category", "tags", "last_updated", "author")

FRONTMATTER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": list(REQUIRED_FIELDS),
    "additionalProperties": False,
    "properties": {
        "title": {"type": "string", "minLength": 1, "maxLength": NAME_MAX, "pattern": NOT_ONLY_SPACE},
        "order": {"type": "integer", "minimum": 1, "maximum": 99},
        "category": {"type": "string"},
        # a tag without a value (`- networking`) or a name/value pair (`- {topic: api}`), as BookStack has them;
        # the lengths sit beside the anyOf so that a long tag is reported as too long, not as the wrong type
        "tags": {
            "type": "array",
            "items": {
                "maxLength": TEXT_MAX,
                "propertyNames": {"maxLength": TEXT_MAX},
                "additionalProperties": {"maxLength": TEXT_MAX},
                "anyOf": [
                    {"type": "string"},
                    {
                        "type": "object",
                        "minProperties": 1,
                        "maxProperties": 1,
                        "additionalProperties": {"type": ["string", "number", "boolean"]},
                    },
                ],
            },
        },
        "last_updated": {"type": "string", "format": "date", "pattern": DATE_REGEX},
        "author": {"type": "string", "minLength": 1, "maxLength": TEXT_MAX},
        "version": {"type": "string", "maxLength": TEXT_MAX},
        "status": {"enum": list(STATUSES)},
        "deprecated": {"type": "boolean"},
        "redirect_to": {"type": "string", "minLength": 1},
        "toc": {"type": "boolean"},
        "search_exclude": {"type": "boolean"},
    },
}


def def_name(folder_key: str) -> str:
    return "page-in-" + folder_key.replace("/", "--")


def build_schema(structure: Structure) -> dict[str, Any]:
    """The draft 2020-12 schema of the docs tree described by ``structure``."""
    defs: dict[str, Any] = {"frontmatter": FRONTMATTER_SCHEMA}
    properties: dict[str, Any] = {}
    patterns: dict[str, Any] = {}
    folder_keys: list[str] = []
    for folder in structure.folders():
        folder_keys.append(folder.key)
        name = def_name(folder.key)
        defs[name] = {
            "$ref": "#/$defs/frontmatter",
            "properties": {"category": {"const": folder.category}},
        }
        ref = {"$ref": f"#/$defs/{name}"}
        if folder.listed_pages is None:
            # slugs are [a-z0-9-] only, so folder keys need no regex escaping
            patterns[f"^{folder.key}/{PAGE_NAME_REGEX}$"] = ref
        else:
            for stem in folder.listed_pages:
                properties[f"{folder.key}/{stem}.md"] = ref
    schema: dict[str, Any] = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Docs tree for bookstack-sync",
        "description": f"Generated from {structure.source}: page path → frontmatter.",
        "type": "object",
        "propertyNames": {"pattern": "^(" + "|".join(folder_keys) + f")/{PAGE_NAME_REGEX}$"}
        if folder_keys
        else {"not": {}},
        "properties": properties,
        "patternProperties": patterns,
        "additionalProperties": False,
        "$defs": defs,
    }
    return schema


_FOLDER_KEY = re.compile(r"[a-z0-9-]+(?:/[a-z0-9-]+)*")  # no regex syntax in it: a pattern names it literally
_PAGE_NAME = re.compile(PAGE_NAME_REGEX)
_FOLDER_PAGES = f"/{PAGE_NAME_REGEX}$"  # how a folder's page-name pattern ends (after "^<folder key>")


def page_categories(schema: dict[str, Any], folder_of: Mapping[str, str]) -> dict[str, str]:
    """For each page (path -> the key of the folder it is in) that the tree ``schema`` judges by its
    folder's page definition alone: the ``category`` that definition fixes. Then the page is valid when its
    frontmatter is valid for ``$defs/frontmatter`` and its category is that one, which a validator tells
    without compiling the whole schema (one property per listed page is most of its cost).

    Read from ``schema`` as :func:`build_schema` shapes it: ``propertyNames`` names the folders, each
    pattern is one folder's page names, each page definition is the frontmatter and a ``const`` category.
    A page whose place or definition reads otherwise is left out (the whole schema decides it), and so is
    every page of a schema shaped otherwise.
    """
    folders = _named_folders(schema.get("propertyNames"))
    if folders is None or schema.get("type") != "object" or schema.get("additionalProperties") is not False:
        return {}
    properties, patterns, defs = schema.get("properties"), schema.get("patternProperties"), schema.get("$defs")
    if not isinstance(properties, dict) or not isinstance(patterns, dict) or not isinstance(defs, dict):
        return {}
    by_pattern: dict[str, Any] = {}  # folder key -> what its page-name pattern applies
    for pattern, applied in patterns.items():
        key = pattern[1 : -len(_FOLDER_PAGES)] if pattern.startswith("^") and pattern.endswith(_FOLDER_PAGES) else ""
        if not _FOLDER_KEY.fullmatch(key):
            return {}  # a pattern that might match other folders' pages
        by_pattern[key] = applied
    found: dict[str, str] = {}
    for path, key in folder_of.items():
        folder, _, name = path.rpartition("/")
        if folder != key or key not in folders or not _PAGE_NAME.fullmatch(name):
            continue
        applied = properties.get(path)
        if applied is None:
            applied = by_pattern.get(key)
        elif key in by_pattern:
            continue  # a listed page its folder's pattern also matches: both apply
        category = _fixed_category(applied, defs)
        if category is not None:
            found[path] = category
    return found


def _named_folders(names: Any) -> frozenset[str] | None:
    """The folder keys of ``propertyNames`` as build_schema writes it, each free of regex syntax."""
    pattern = names.get("pattern") if isinstance(names, dict) and len(names) == 1 else None
    if not isinstance(pattern, str) or not pattern.startswith("^(") or not pattern.endswith(")" + _FOLDER_PAGES):
        return None
    keys = pattern[2 : -len(")" + _FOLDER_PAGES)].split("|")
    return frozenset(keys) if all(_FOLDER_KEY.fullmatch(key) for key in keys) else None


def _fixed_category(applied: Any, defs: dict[str, Any]) -> str | None:
    """The category of a ``{"$ref": "#/$defs/<page definition>"}`` written as build_schema writes it."""
    ref = applied.get("$ref") if isinstance(applied, dict) and len(applied) == 1 else None
    if not isinstance(ref, str) or not ref.startswith("#/$defs/") or "~" in ref or "%" in ref:
        return None  # (a JSON pointer's escapes would name another definition than its text)
    page_def = defs.get(ref[len("#/$defs/") :])
    try:
        category = page_def["properties"]["category"]["const"]  # type: ignore[index]
    except (KeyError, TypeError):
        return None
    expected = {"$ref": "#/$defs/frontmatter", "properties": {"category": {"const": category}}}
    return category if isinstance(category, str) and page_def == expected else None
