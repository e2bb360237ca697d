"""The JSON Schema of a whole docs tree, generated from the structure file.

The instance it describes is ``{"<path relative to docs_dir>": <frontmatter>, ...}``. Listed pages are
exact ``properties``; a folder without a ``pages`` list admits any well-named file through
``patternProperties``; every page's ``category`` is fixed to its parent's slug. ``bookstack-sync schema``
prints it for editors (YAML language server) and other tools.
"""

from __future__ import annotations

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
