"""Which instances a JSON Schema finds valid, decided quickly by ``jsonschema-rs`` (Rust).

Python's ``jsonschema`` explains every error (its errors become the diagnostics), but it walks a
10,000-page tree in about a second even when nothing is wrong. ``jsonschema-rs`` answers "valid or
not" in a few hundredths of that, so validation asks it first and gives ``jsonschema`` only what it
does not vouch for. It must never vouch for what ``jsonschema`` finds invalid:
``tests/validation/test_fastschema.py`` compares the two on every rule's fixtures and generated pages.

Where the two engines could read the schema differently it is written so that they cannot (``\\S``
is spelled out as :data:`~.structure.NOT_ONLY_SPACE`), and the one format the schemas use, ``date``, is
checked as jsonschema checks it (jsonschema-rs takes year 0000 for a date, Python's ``date`` does not);
a schema with another format vouches for nothing. Whatever ``jsonschema-rs`` cannot take — YAML's
``!!binary`` and ``!!set`` values, a schema it does not compile — vouches for nothing, and ``jsonschema``
decides alone: the result is the same, only slower.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from typing import Any

import jsonschema_rs


class FastSchema:
    """A compiled schema that vouches for valid instances; ``False`` means "ask ``jsonschema``", not "invalid"."""

    __slots__ = ("_validator", "schema")

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        if _formats(schema) - {"date"}:
            self._validator: jsonschema_rs.Validator | None = None
            return
        try:
            # formats are assertions, as jsonschema's FORMAT_CHECKER makes them (`date` refuses 2025-02-30)
            self._validator = jsonschema_rs.validator_for(
                schema, validate_formats=True, formats={"date": is_date}, pattern_options=jsonschema_rs.RegexOptions()
            )
        except Exception:  # noqa: BLE001 - a schema it cannot compile: jsonschema decides everything
            self._validator = None

    def vouches(self, instance: Any) -> bool:
        """True only when ``instance`` is valid; False when it is not or when it cannot be told here."""
        if self._validator is None:
            return False
        try:
            return bool(self._validator.is_valid(instance))
        except Exception:  # noqa: BLE001 - a value it cannot convert (bytes, set, ...): jsonschema decides
            return False

    def unvouched(self, instances: Mapping[str, Any]) -> list[str]:
        """The keys of ``instances`` whose ``{key: value}`` it does not vouch for, in their order.

        For a schema whose keywords judge each property of an object on its own (the tree schema: one
        property per page), these are the properties ``jsonschema`` must look at; the others hold no error.
        """
        if self.vouches(instances):
            return []
        return [key for key, value in instances.items() if not self.vouches({key: value})]


_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


@lru_cache(maxsize=1024)  # a tree repeats its dates
def is_date(value: str) -> bool:
    """The ``date`` format as jsonschema's FORMAT_CHECKER decides it: ``YYYY-MM-DD`` that Python reads as a date.

    Written here so that validating a valid tree never imports jsonschema; tests/validation/test_fastschema.py
    compares the two.
    """
    if _DATE.fullmatch(value) is None:
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _formats(schema: Any) -> set[str]:
    """Every ``format`` named in ``schema`` (a property called "format" counts too: that only costs speed)."""
    found: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            if isinstance(node.get("format"), str):
                found.add(node["format"])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found
