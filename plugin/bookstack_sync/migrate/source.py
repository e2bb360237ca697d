"""A page file as migrate reads it: its bytes, frontmatter and body kept apart so the body is written
back byte for byte; and file names (the ``NN-`` number, a title from a name).
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from ..docs.diagnostics import Rule
from ..docs.structure import PAGE_STEM_PATTERN, slugify
from ..docs.tree import frontmatter_values
from ..docs.yamlsource import YamlSyntaxError, parse_yaml
from ..markdown.links import scan

_BOM = "\ufeff"


_BOUNDARY = re.compile(r"-{3,}\s*")  # python-frontmatter's `^-{3,}\s*$`, applied to one line


_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")


_PAGE_STEM_RE = re.compile(PAGE_STEM_PATTERN)


_NUMBERED = re.compile(r"(\d+)[\s._-]*(.*)", re.DOTALL)


class FileProblem(Exception):
    """A file migrate must not touch (not UTF-8, unreadable frontmatter...): a person has to look at it."""

    def __init__(self, rule: Rule, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.rule = rule
        self.message = message
        self.line = line


@dataclass(frozen=True)
class SourceFile:
    """A Markdown file split into what migrate may change (the frontmatter) and what it must keep (the body)."""

    rel: str  # relative to docs_dir
    bom: bool
    eol: str  # the file's own line ending, used for every line migrate writes
    opening: str | None  # the opening `---` line as written; None when the file has no frontmatter
    fm_lines: tuple[str, ...]  # the frontmatter lines between the boundaries, each with its line ending
    closing: str
    body: str  # everything after the closing line (the whole text without frontmatter), untouched
    data: Mapping[str, Any]  # the frontmatter read as ``validate`` reads it
    key_lines: Mapping[str, int]  # top-level key → index in fm_lines
    mode: int  # permission bits, kept when the file is rewritten

    @property
    def name(self) -> str:
        return posixpath.basename(self.rel)

    def header(self) -> str:
        if self.opening is None:
            return ""
        return self.opening + "".join(self.fm_lines) + self.closing


def split_lines(text: str) -> list[str]:
    """Lines with their endings; only CR, LF and CRLF end a line (not the Unicode separators)."""
    lines: list[str] = []
    at = 0
    while at < len(text):
        match = _LINE.match(text, at)
        assert match is not None and match.end() > at
        lines.append(match.group())
        at = match.end()
    return lines


def _line_content(line: str) -> str:
    return line.rstrip("\r\n")


def _eol_of(text: str) -> str:
    match = re.search(r"\r\n|\r|\n", text)
    return match.group() if match else "\n"


def parse_source(raw: bytes, rel: str, mode: int = 0o644) -> SourceFile:
    """Split a file the way :func:`bookstack_sync.docs.tree.read_page` reads it; raise :class:`FileProblem`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FileProblem(Rule.ENCODING, f"not UTF-8 text (invalid byte at offset {exc.start})", line) from None
    bom = text.startswith(_BOM)
    if bom:
        text = text[1:]
    lines = split_lines(text)
    if not lines or not _BOUNDARY.fullmatch(_line_content(lines[0])):
        return SourceFile(rel, bom, _eol_of(text), None, (), "", text, {}, {}, mode)
    closing_index = next((i for i in range(1, len(lines)) if _BOUNDARY.fullmatch(_line_content(lines[i]))), None)
    if closing_index is None:
        # the first line may be a thematic break rather than frontmatter: only a person can tell
        raise FileProblem(Rule.FRONTMATTER_UNTERMINATED, "frontmatter is never closed with a `---` line", 1)
    fm_lines = lines[1:closing_index]
    try:
        doc = parse_yaml("".join(_line_content(line) + "\n" for line in fm_lines))
    except YamlSyntaxError as exc:
        raise FileProblem(
            Rule.FRONTMATTER_SYNTAX,
            f"frontmatter is not valid YAML: {exc.describe(1)}",
            exc.line + 1 if exc.line else 1,
        ) from None
    if doc.data is None:
        data: dict[str, Any] = {}  # an empty block (or comments only) is simply completed
    elif not isinstance(doc.data, dict):
        raise FileProblem(
            Rule.FRONTMATTER_NOT_MAPPING, f"frontmatter must be a mapping of fields, not a {type(doc.data).__name__}", 1
        )
    else:
        data = frontmatter_values(doc)  # read like tree.read_page: `order: 08` is 8, `version: 1.10` stays "1.10"
    key_lines = {str(path[0]): line for path, line in doc.lines.items() if len(path) == 1}
    return SourceFile(
        rel,
        bom,
        _eol_of(lines[0]),
        lines[0],
        tuple(fm_lines),
        lines[closing_index],
        "".join(lines[closing_index + 1 :]),
        data,
        key_lines,
        mode,
    )


def read_source(docs_dir: Path, rel: str) -> SourceFile:
    path = docs_dir / rel
    try:
        raw = path.read_bytes()
        mode = path.stat().st_mode & 0o7777
    except OSError as exc:
        raise FileProblem(Rule.NOT_A_FILE, f"cannot read file: {exc.strerror}") from None
    return parse_source(raw, rel, mode)


def field_line(name: str, value: object, eol: str = "\n") -> str:
    """One top-level frontmatter line, quoted where YAML would read the text as something else."""
    if isinstance(value, list):
        # lists on one line, as the templates write them: `tags: [ci, templates]`
        text = f"{name}: " + yaml.safe_dump(value, allow_unicode=True, default_flow_style=True, width=1_000_000).strip()
    else:
        text = yaml.safe_dump(
            {name: value}, allow_unicode=True, default_flow_style=False, sort_keys=False, width=1_000_000
        ).rstrip("\n")
    return text.replace("\n", eol) + eol


def first_h1(body: str) -> str | None:
    """The text of the first level-1 heading outside code, as written."""
    for heading in scan(body.replace("\r\n", "\n").replace("\r", "\n")).headings:
        if heading.level == 1 and heading.text.strip():
            return " ".join(heading.text.split())
    return None


def split_name(filename: str) -> tuple[int | None, str]:
    """(number prefix, kebab-case name) of a file name: ``1-setup.md`` → (1, "setup")."""
    stem = filename[:-3] if filename.lower().endswith(".md") else filename
    match = _NUMBERED.fullmatch(stem)
    if match and match.group(2) and 1 <= int(match.group(1)) <= 99:
        return int(match.group(1)), slugify(match.group(2))
    return None, slugify(stem)


def title_from_name(filename: str) -> str:
    stem = filename[:-3] if filename.lower().endswith(".md") else filename
    match = _NUMBERED.fullmatch(stem)
    if match and match.group(2):
        stem = match.group(2)
    words = " ".join(re.split(r"[\s_-]+", stem)).strip()
    return words[:1].upper() + words[1:] if words == words.lower() else words


def new_file_name(filename: str, number: int) -> str | None:
    """The ``NN-kebab-case.md`` name for ``filename`` at position ``number``; None when nothing is left of it."""
    _, kebab = split_name(filename)
    return f"{number:02d}-{kebab}.md" if kebab else None
