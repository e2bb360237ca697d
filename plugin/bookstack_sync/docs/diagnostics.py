"""Findings about a docs tree: one :class:`Diagnostic` per problem, each with path, line and rule id."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Rule(StrEnum):
    """Stable rule ids. Users grep for them and may ignore them: never rename one."""

    # the structure file
    STRUCTURE_UNREADABLE = "structure-unreadable"
    STRUCTURE_SYNTAX = "structure-syntax"
    STRUCTURE_SCHEMA = "structure-schema"
    STRUCTURE_DUPLICATE_SLUG = "structure-duplicate-slug"
    # BookStack's 191-character columns (names, tag names, tag values): longer text would be cut silently
    NAME_TOO_LONG = "name-too-long"
    TAG_TOO_LONG = "tag-too-long"
    PATH_TOO_LONG = "path-too-long"
    # files and folders
    NOT_IN_HIERARCHY = "not-in-hierarchy"
    FILE_NAME = "file-name"
    PAGE_NOT_LISTED = "page-not-listed"
    PAGE_MISSING = "page-missing"
    CHAPTER_EMPTY = "chapter-empty"
    SYMLINK_OUTSIDE = "symlink-outside"
    NOT_A_FILE = "not-a-file"
    # reading a page file
    ENCODING = "encoding"
    BOM = "bom"
    LINE_ENDINGS = "line-endings"
    EMPTY_FILE = "empty-file"
    FRONTMATTER_MISSING = "frontmatter-missing"
    FRONTMATTER_UNTERMINATED = "frontmatter-unterminated"
    FRONTMATTER_SYNTAX = "frontmatter-syntax"
    FRONTMATTER_NOT_MAPPING = "frontmatter-not-mapping"
    FRONTMATTER_TOO_LARGE = "frontmatter-too-large"
    # frontmatter fields (from the generated JSON Schema)
    FIELD_REQUIRED = "field-required"
    FIELD_TYPE = "field-type"
    FIELD_VALUE = "field-value"
    FIELD_UNKNOWN = "field-unknown"
    CATEGORY_MISMATCH = "category-mismatch"
    ORDER_PREFIX_MISMATCH = "order-prefix-mismatch"
    ORDER_DUPLICATE = "order-duplicate"
    # content
    LINK_BROKEN = "link-broken"
    IMAGE_BROKEN = "image-broken"
    IMAGE_UNSUPPORTED = "image-unsupported"
    FILE_TOO_LARGE = "file-too-large"
    REDIRECT_TARGET = "redirect-target"


@dataclass(frozen=True, order=True)
class Diagnostic:
    """One problem found in the docs tree.

    ``path`` is relative to the docs directory (posix separators) except for files outside it,
    such as a structure file given by an absolute path. ``line`` is 1-based, ``None`` when unknown.
    """

    path: str
    line: int | None
    rule: Rule
    severity: Severity
    message: str

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.rule.value, self.message)

    def format(self) -> str:
        where = f"{self.path}:{self.line}" if self.line else self.path
        return f"{where}: {self.severity.value} [{self.rule.value}] {self.message}"

    def to_json(self) -> dict[str, object]:
        return {
            "path": self.path,
            "line": self.line,
            "rule": self.rule.value,
            "severity": self.severity.value,
            "message": self.message,
        }


def error(path: str, line: int | None, rule: Rule, message: str) -> Diagnostic:
    return Diagnostic(path, line, rule, Severity.ERROR, message)


def warning(path: str, line: int | None, rule: Rule, message: str) -> Diagnostic:
    return Diagnostic(path, line, rule, Severity.WARNING, message)


def sort_diagnostics(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    return sorted(diagnostics, key=Diagnostic.sort_key)


def count(diagnostics: Iterable[Diagnostic]) -> tuple[int, int]:
    """(errors, warnings)."""
    errors = warnings = 0
    for d in diagnostics:
        if d.severity is Severity.ERROR:
            errors += 1
        else:
            warnings += 1
    return errors, warnings
