"""The map file: glob patterns that send files to a book or chapter of the structure."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..docs.structure import Folder, Structure
from ..docs.yamlsource import YamlSyntaxError, parse_yaml
from ..errors import UsageError
from .source import (
    _PAGE_STEM_RE,
)


@dataclass(frozen=True)
class MapRule:
    pattern: str  # an old path relative to docs_dir, or a glob (`*` within a folder, `**` across folders)
    folder: Folder
    stem: str | None  # the new file stem, when the rule names one
    line: int
    regex: re.Pattern[str] | None  # None for a literal path

    def matches(self, rel: str) -> bool:
        return self.regex.fullmatch(rel) is not None if self.regex is not None else rel == self.pattern


def glob_regex(pattern: str) -> re.Pattern[str]:
    out: list[str] = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
            continue
        if pattern.startswith("**", i):
            out.append(".*")
            i += 2
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[" and "]" in pattern[i + 2 :]:
            end = pattern.index("]", i + 2)
            inner = pattern[i + 1 : end]
            out.append("[" + ("^" + re.escape(inner[1:]) if inner.startswith("!") else re.escape(inner)) + "]")
            i = end + 1
            continue
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out))


def load_map(path: Path, structure: Structure) -> tuple[MapRule, ...]:
    """Read a map file (``old path or glob: new chapter folder[/NN-stem]``); raise :class:`UsageError` with the line."""
    shown = path.as_posix()
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except FileNotFoundError:
        raise UsageError(f"map file not found: {shown}") from None
    except UnicodeDecodeError:
        raise UsageError(f"map file {shown} is not UTF-8 text") from None
    except OSError as exc:
        raise UsageError(f"cannot read map file {shown}: {exc.strerror}") from None
    try:
        doc = parse_yaml(text.replace("\r\n", "\n"))
    except YamlSyntaxError as exc:
        where = f"{shown}:{exc.line}" if exc.line else shown
        raise UsageError(f"{where}: map file is not valid YAML: {exc.describe()}") from None
    if doc.data is None:
        return ()
    if not isinstance(doc.data, dict):
        raise UsageError(
            f"{shown}:1: a map file is a mapping of `old/path.md: shelf/book/chapter`, not a {type(doc.data).__name__}"
        )
    folders = structure.folder_index()
    rules: list[MapRule] = []
    for key, value in doc.data.items():
        line = doc.line_of((str(key),)) or 1
        where = f"{shown}:{line}"
        if not isinstance(key, str) or not key.strip():
            raise UsageError(f"{where}: {key!r} is not a file path or glob")
        if not isinstance(value, str) or not value.strip():
            raise UsageError(
                f"{where}: the new place of {key!r} must be a chapter or book folder such as "
                f"`shelf/book/chapter`, optionally with a file name (`.../01-name`), not {value!r}"
            )
        pattern = key.strip().strip("/").removeprefix("./")
        target = value.strip().strip("/").removeprefix("./")
        is_glob = any(char in pattern for char in "*?[")
        folder = folders.get(target)
        stem: str | None = None
        if folder is None:
            parent, _, name = target.rpartition("/")
            name = name.removesuffix(".md")
            folder = folders.get(parent)
            if folder is None:
                raise UsageError(
                    f"{where}: {target!r} is not a book or chapter folder of the structure file",
                    hint="`bookstack-sync paths` lists them",
                )
            if not _PAGE_STEM_RE.fullmatch(name):
                raise UsageError(
                    f"{where}: file name {name!r} must look like `NN-kebab-case` (e.g. 01-getting-started)"
                )
            if is_glob:
                raise UsageError(
                    f"{where}: the glob {pattern!r} can match many files, so it can name a folder only, not a file"
                )
            stem = name
        rules.append(MapRule(pattern, folder, stem, line, glob_regex(pattern) if is_glob else None))
    return tuple(rules)


def match_rule(rules: Sequence[MapRule], rel: str) -> MapRule | None:
    """A literal entry wins over globs; among globs the first in the file."""
    for rule in rules:
        if rule.regex is None and rule.matches(rel):
            return rule
    for rule in rules:
        if rule.regex is not None and rule.matches(rel):
            return rule
    return None
