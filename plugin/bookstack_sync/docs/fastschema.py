"""Which instances a JSON Schema finds valid, decided quickly by ``jsonschema-rs`` (Rust).

Python's ``jsonschema`` explains every error (its errors become the diagnostics), but it walks a
10,000-page tree in about a second even when nothing is wrong. ``jsonschema-rs`` answers "valid or
not" in a few hundredths of that, so validation asks it first and gives ``jsonschema`` only what it
does not vouch for. It must never vouch for what ``jsonschema`` finds invalid:
``tests/validation/test_fastschema.py`` compares the two on every rule's fixtures and generated pages.

Where the two engines could read the schema differently it is written so that they cannot (``\\S``
is spelled out as :data:`~.structure.NOT_ONLY_SPACE`), and formats are checked by jsonschema's own
functions (jsonschema-rs takes year 0000 for a date, Python's ``date`` does not). Whatever ``jsonschema-rs`` cannot take — YAML's
``!!binary`` and ``!!set`` values, a schema it does not compile — vouches for nothing, and ``jsonschema``
decides alone: the result is the same, only slower.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

import jsonschema_rs
from jsonschema import Draft202012Validator


class FastSchema:
    """A compiled schema that vouches for valid instances; ``False`` means "ask ``jsonschema``", not "invalid"."""

    __slots__ = ("_validator", "schema")

    def __init__(self, schema: dict[str, Any]) -> None:
        self.schema = schema
        try:
            # formats are assertions, as jsonschema's FORMAT_CHECKER makes them (`date` refuses 2025-02-30)
            self._validator: jsonschema_rs.Validator | None = jsonschema_rs.validator_for(
                schema, validate_formats=True, formats=_FORMATS, pattern_options=jsonschema_rs.RegexOptions()
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


def _python_format(name: str) -> Callable[[str], bool]:
    conforms = Draft202012Validator.FORMAT_CHECKER.conforms

    @lru_cache(maxsize=4096)  # a tree repeats its dates
    def check(value: str) -> bool:
        return bool(conforms(value, name))

    return check


# the formats as jsonschema (FORMAT_CHECKER, which validation uses) decides them
_FORMATS = {name: _python_format(name) for name in Draft202012Validator.FORMAT_CHECKER.checkers}
