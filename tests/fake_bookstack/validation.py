"""A small subset of Laravel validation with BookStack's English messages (``lang/en/validation.php``)."""

from __future__ import annotations

import re
from typing import Any

from .wire import UploadedFile, validation_error


def is_int(value: Any) -> bool:
    """Laravel ``integer``: an int, or a string of digits (form bodies send strings)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return True
    return isinstance(value, str) and re.fullmatch(r"-?\d+", value) is not None


def is_empty(value: Any) -> bool:
    """What ``required`` treats as missing: null, "" (after trimming), [] and absent files."""
    return value is None or value == "" or value == [] or value == {}


class Validator:
    """Collects the first failing message per field, in rule order, then raises one 422."""

    def __init__(self, data: dict[str, Any], files: dict[str, UploadedFile] | None = None) -> None:
        self.data = data
        self.files = files or {}
        self.errors: dict[str, list[str]] = {}

    def value(self, key: str) -> Any:
        return self.files[key] if key in self.files else self.data.get(key)

    def check(self, key: str, *rules: str) -> None:
        label = key.replace("_", " ")
        value = self.value(key)
        for rule in rules:
            name, _, arg = rule.partition(":")
            message = self._fail(name, arg, value, label)
            if message == "skip":
                return
            if message:
                self.errors.setdefault(key, []).append(message)
                return

    def _fail(self, name: str, arg: str, value: Any, label: str) -> str | None:
        if name == "required":
            return f"The {label} field is required." if is_empty(value) else None
        if name == "required_without":
            others = arg.split(",")
            if is_empty(value) and any(is_empty(self.value(other)) for other in others):
                return f"The {label} field is required when {' / '.join(o.replace('_', ' ') for o in others)} is not present."
            return None
        # Non-implicit rules are skipped for absent values, as in Laravel.
        if value is None:
            return "skip"
        if name == "string":
            return None if isinstance(value, str) else f"The {label} must be a string."
        if name == "integer":
            return None if is_int(value) else f"The {label} must be an integer."
        if name == "array":
            return None if isinstance(value, list | dict) else f"The {label} must be an array."
        if name == "file":
            return None if isinstance(value, UploadedFile) else f"The {label} must be provided as a valid file."
        if name == "max":
            if isinstance(value, str) and len(value) > int(arg):
                return f"The {label} may not be greater than {arg} characters."
            if is_int(value) and not isinstance(value, str) and int(value) > int(arg):
                return f"The {label} may not be greater than {arg}."
            return None
        if name == "min":
            if isinstance(value, str) and len(value) < int(arg):
                return f"The {label} must be at least {arg} characters."
            return None
        if name == "num_max":
            return f"The {label} may not be greater than {arg}." if is_int(value) and int(value) > int(arg) else None
        if name == "num_min":
            return f"The {label} must be at least {arg}." if is_int(value) and int(value) < int(arg) else None
        if name == "in":
            return None if str(value) in arg.split(",") else f"The selected {label} is invalid."
        raise ValueError(f"unknown rule {name}")

    def raise_if_failed(self) -> None:
        if self.errors:
            raise validation_error(self.errors)
