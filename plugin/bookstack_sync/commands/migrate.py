"""Bring a docs folder that grew by hand into the structure: ``migrate --analyze | --report | --apply``.

The plan is computed completely before anything is touched, from the same structure model and rules as
``validate``. A file goes where the map file sends it, else stays in the book or chapter folder it is
already in; a file that fits nowhere is listed for a person, never guessed into a chapter. Frontmatter is
completed, never overwritten where valid, and the body is kept byte for byte (line endings included);
only link destinations that point at moved files change, located by the same scanner the sync uses.

Nothing is ever overwritten: an existing target is a conflict, moves use ``git mv`` inside a work tree
(so ``git log --follow`` keeps the history) and every file is rewritten atomically.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import posixpath
import re
import sys
import tempfile
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Any, TextIO

import yaml
from jsonschema import Draft202012Validator

from ..docs.diagnostics import Diagnostic, Rule, Severity, error, sort_diagnostics, warning
from ..docs.schema import FRONTMATTER_SCHEMA, REQUIRED_FIELDS
from ..docs.structure import NAME_MAX, PAGE_FILE_RE, PAGE_STEM_PATTERN, Folder, Structure, read_structure, slugify
from ..docs.tree import frontmatter_values, is_markdown
from ..docs.validate import Validation, display_path, validate_docs
from ..docs.yamlsource import YamlSyntaxError, parse_yaml
from ..errors import BookstackSyncError, ExitCode, UsageError
from ..git import Git
from ..markdown.content import apply_replacements, classify_destination
from ..markdown.links import Destination, scan
from ..settings import OutputFormat, Settings

_BOM = "\ufeff"
_BOUNDARY = re.compile(r"-{3,}\s*")  # python-frontmatter's `^-{3,}\s*$`, applied to one line
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)?")
_PAGE_STEM_RE = re.compile(PAGE_STEM_PATTERN)
_NUMBERED = re.compile(r"(\d+)[\s._-]*(.*)", re.DOTALL)


# ------------------------------------------------------------------------------------------ page files


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
            Rule.FRONTMATTER_SYNTAX, f"frontmatter is not valid YAML: {exc}", exc.line + 1 if exc.line else 1
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


# ------------------------------------------------------------------------------------------ the map file


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
        raise UsageError(f"{where}: map file is not valid YAML: {exc}") from None
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


# ------------------------------------------------------------------------------------------ the plan


class Blocker(StrEnum):
    """Why a file is left for a person."""

    UNPLACED = "cannot be placed"
    CONFLICT = "conflict"
    UNREADABLE = "cannot be read"
    INCOMPLETE = "frontmatter cannot be completed"


@dataclass(frozen=True)
class FieldChange:
    name: str
    value: object
    old: object | None = None  # the invalid value replaced; None when the field was added
    added: bool = True


@dataclass(frozen=True)
class FilePlan:
    source: str
    target: str | None  # where the file goes (== source when it stays); None when it has no place
    how: str  # why it goes there
    changes: tuple[FieldChange, ...] = ()
    links: int = 0  # link and image destinations rewritten
    bom_removed: bool = False
    blocker: Blocker | None = None
    reason: str = ""
    content: bytes | None = None  # the new bytes of the file; None when its content stays as it is
    mode: int = 0o644

    @property
    def moves(self) -> bool:
        return self.blocker is None and self.target is not None and self.target != self.source

    @property
    def final_path(self) -> str:
        return self.target if self.moves and self.target is not None else self.source

    @property
    def touched(self) -> bool:
        return self.moves or self.content is not None


@dataclass(frozen=True)
class MigrationPlan:
    docs_dir: Path
    structure_shown: str
    map_shown: str | None
    files: tuple[FilePlan, ...]
    notes: tuple[str, ...]

    @property
    def moves(self) -> dict[str, str]:
        return {f.source: f.final_path for f in self.files if f.moves}

    @property
    def blocked(self) -> list[FilePlan]:
        return [f for f in self.files if f.blocker is not None]

    def of(self, kind: str) -> list[FilePlan]:
        if kind == "move":
            return [f for f in self.files if f.moves]
        if kind == "update":
            return [f for f in self.files if not f.moves and f.blocker is None and f.content is not None]
        if kind == "ok":
            return [f for f in self.files if f.blocker is None and not f.touched]
        raise ValueError(kind)


@dataclass
class _Draft:
    """A file while the plan is worked out."""

    source: SourceFile
    folder: Folder | None = None
    how: str = ""
    stem: str | None = None  # "??-name" while the number is still open
    blocker: Blocker | None = None
    reason: str = ""
    changes: tuple[FieldChange, ...] = ()

    @property
    def target(self) -> str | None:
        if self.folder is None or self.stem is None:
            return None
        return f"{self.folder.key}/{self.stem}.md"


@dataclass(frozen=True)
class Context:
    docs_dir: Path
    structure: Structure
    structure_path: Path
    ignore: tuple[str, ...] = ()
    rules: tuple[MapRule, ...] = ()
    map_shown: str | None = None
    author: str | None = None
    git: Git | None = None
    today: str = field(default_factory=lambda: dt.date.today().isoformat())


def markdown_files(docs_dir: Path, structure_path: Path, ignore: Iterable[str]) -> tuple[list[str], list[str]]:
    """(Markdown files, Markdown symlinks) under ``docs_dir``, without the structure folder and ignored paths."""
    skip = os.path.realpath(structure_path.parent)
    patterns = tuple(ignore)
    files: list[str] = []
    links: list[str] = []
    for directory, dirnames, filenames in os.walk(docs_dir):
        rel_dir = Path(directory).relative_to(docs_dir).as_posix()
        rel_dir = "" if rel_dir == "." else rel_dir
        # the structure folder holds templates, not pages; .git holds nobody's docs
        dirnames[:] = sorted(
            d for d in dirnames if d != ".git" and os.path.realpath(os.path.join(directory, d)) != skip
        )
        for name in sorted(filenames):
            if not is_markdown(name):
                continue
            rel = f"{rel_dir}/{name}" if rel_dir else name
            if any(fnmatchcase(rel, pattern) for pattern in patterns):
                continue
            (links if os.path.islink(os.path.join(directory, name)) else files).append(rel)
    return files, links


def build_plan(ctx: Context) -> MigrationPlan:
    """Work out every move, rename and frontmatter change; touch nothing."""
    files, symlinks = markdown_files(ctx.docs_dir, ctx.structure_path, ctx.ignore)
    folders = ctx.structure.folder_index()
    notes: list[str] = []
    blocked: list[FilePlan] = [
        FilePlan(rel, None, "", blocker=Blocker.UNREADABLE, reason="a symlink: move the file it points at by hand")
        for rel in symlinks
    ]
    drafts: list[_Draft] = []
    for rel in files:
        try:
            drafts.append(_Draft(read_source(ctx.docs_dir, rel)))
        except FileProblem as problem:
            line = f" (line {problem.line})" if problem.line else ""
            blocked.append(FilePlan(rel, None, "", blocker=Blocker.UNREADABLE, reason=f"{problem.message}{line}"))
    used_rules: set[int] = set()
    for draft in drafts:
        _place(draft, ctx, folders, used_rules)
    unused = [rule for rule in ctx.rules if rule.line not in used_rules]
    if unused:
        lines = ", ".join(str(rule.line) for rule in unused)
        notes.append(
            f"{len(unused)} map entr{'y' if len(unused) == 1 else 'ies'} matched no Markdown file (line {lines})"
        )
    by_folder: dict[str, list[_Draft]] = defaultdict(list)
    for draft in drafts:
        if draft.folder is not None and draft.blocker is None:
            by_folder[draft.folder.key].append(draft)
    for key, group in by_folder.items():
        _number(ctx.docs_dir, folders[key], group)
    _find_conflicts(ctx.docs_dir, drafts)
    for draft in drafts:
        if draft.blocker is None and draft.folder is not None and draft.stem is not None:
            changes, missing = frontmatter_changes(draft.source, draft.folder, int(draft.stem[:2]), ctx)
            if missing:
                draft.blocker, draft.reason = Blocker.INCOMPLETE, missing
            draft.changes = tuple(changes)
    # only files that really move change links; a blocked file stays where it is
    moves = {d.source.rel: d.target for d in drafts if d.blocker is None and d.target and d.target != d.source.rel}
    folder_keys = frozenset(ctx.structure.shelf_and_book_keys() | set(folders))
    plans = [_finish(draft, ctx, moves, folder_keys) for draft in drafts]
    return MigrationPlan(
        ctx.docs_dir,
        display_path(ctx.structure_path, ctx.docs_dir),
        ctx.map_shown,
        tuple(sorted([*plans, *blocked], key=lambda p: p.source)),
        tuple(notes),
    )


def _place(draft: _Draft, ctx: Context, folders: Mapping[str, Folder], used_rules: set[int]) -> None:
    rel = draft.source.rel
    parent, _, name = rel.rpartition("/")
    rule = match_rule(ctx.rules, rel)
    if rule is not None:
        used_rules.add(rule.line)
        draft.folder = rule.folder
        draft.how = f"map line {rule.line}"
        if rule.stem is not None:
            draft.stem = rule.stem
    elif parent in folders:
        draft.folder = folders[parent]
        draft.how = "stays in its folder" if PAGE_FILE_RE.match(name) else "renamed in its folder"
        if PAGE_FILE_RE.match(name):
            draft.stem = name[:-3]
    else:
        draft.blocker = Blocker.UNPLACED
        draft.reason = (
            "not in a book or chapter folder of the structure, and no map entry names it: add it to the map file "
            "(or to the `ignore` setting if it is not a page)"
        )
        return
    folder = draft.folder
    listed = folder.listed_pages
    if draft.stem is not None:
        if listed is not None and draft.stem not in listed:
            draft.blocker = Blocker.UNPLACED
            draft.reason = (
                f"page {draft.stem!r} is not in the `pages` list of {folder.key!r}: add it to the structure file"
            )
        return
    number, kebab = split_name(name)
    if not kebab:
        heading = first_h1(draft.source.body)
        kebab = slugify(heading) if heading else ""
    if not kebab:
        draft.blocker = Blocker.UNPLACED
        draft.reason = f"no file name can be made from {name!r}: give one in the map file (`.../NN-name`)"
        return
    if listed is not None:
        # a folder that lists its pages decides the number: the listed page with the same name
        same = [stem for stem in listed if stem[3:] == kebab]
        if not same:
            draft.blocker = Blocker.UNPLACED
            draft.reason = (
                f"{folder.key!r} lists its pages and none is called `NN-{kebab}`: add it to the structure file, "
                "or give the page name in the map file"
            )
            return
        draft.stem = same[0]
        return
    if number is None:
        order = draft.source.data.get("order")
        if isinstance(order, int) and not isinstance(order, bool) and 1 <= order <= 99:
            number = order
    # without a number of its own, the file is numbered with its siblings in _number
    draft.stem = f"{number:02d}-{kebab}" if number is not None else "??-" + kebab


def _number(docs_dir: Path, folder: Folder, group: list[_Draft]) -> None:
    """Number the files that have no number yet, after the highest number already used in the folder."""
    used: set[int] = set()
    directory = docs_dir / folder.key
    if directory.is_dir():
        for entry in os.scandir(directory):
            if PAGE_FILE_RE.match(entry.name):
                used.add(int(entry.name[:2]))
    for draft in group:
        if draft.stem is not None and not draft.stem.startswith("??-"):
            used.add(int(draft.stem[:2]))
    # in the order a person reads the folder: case does not decide it
    open_ones = sorted(
        (d for d in group if d.stem is not None and d.stem.startswith("??-")),
        key=lambda d: (d.source.rel.casefold(), d.source.rel),
    )
    next_number = max(used, default=0) + 1
    for draft in open_ones:
        assert draft.stem is not None
        if next_number > 99:
            draft.blocker = Blocker.UNPLACED
            draft.reason = f"{folder.key!r} has no free number left (01-99)"
            draft.stem = None
            continue
        draft.stem = f"{next_number:02d}-{draft.stem[3:]}"
        next_number += 1


def _find_conflicts(docs_dir: Path, drafts: list[_Draft]) -> None:
    staying = {d.source.rel for d in drafts if d.target == d.source.rel}
    moving = [d for d in drafts if d.blocker is None and d.target and d.target != d.source.rel]
    sources: dict[str, list[str]] = defaultdict(list)
    for draft in moving:
        assert draft.target is not None
        sources[draft.target].append(draft.source.rel)
    for draft in moving:
        target = draft.target
        assert target is not None
        path = docs_dir / target
        if target in staying or (os.path.lexists(path) and not _same_file(path, docs_dir / draft.source.rel)):
            draft.blocker = Blocker.CONFLICT
            draft.reason = f"{target} already exists: merge the two files or give this one another name in the map"
        elif len(sources[target]) > 1:
            others = ", ".join(s for s in sources[target] if s != draft.source.rel)
            draft.blocker = Blocker.CONFLICT
            draft.reason = f"{others} would also become {target}: settle which one goes there"


def _same_file(a: Path, b: Path) -> bool:
    # a case-only rename on a case-insensitive file system finds its own source at the target
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@lru_cache(maxsize=256)
def _frontmatter_validator(category: str) -> Draft202012Validator:
    schema = {
        "$ref": "#/$defs/frontmatter",
        "properties": {"category": {"const": category}},
        "$defs": {"frontmatter": FRONTMATTER_SCHEMA},
    }
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def invalid_fields(data: Mapping[str, Any], category: str | None) -> dict[str, tuple[Rule, str]]:
    """Known frontmatter fields whose value breaks the schema, with rule and reason (``category`` when given)."""
    found: dict[str, tuple[Rule, str]] = {}
    for err in _frontmatter_validator(category or "").iter_errors(dict(data)):
        if not err.absolute_path:
            continue  # missing and unknown fields: not a value to fix
        name = str(err.absolute_path[0])
        if name == "category" and category is None:
            continue
        rule = Rule.FIELD_TYPE if err.validator == "type" else Rule.FIELD_VALUE
        found.setdefault(name, (rule, err.message))
    return found


def _finish(draft: _Draft, ctx: Context, moves: Mapping[str, str], folder_keys: frozenset[str]) -> FilePlan:
    src = draft.source
    new_path = moves.get(src.rel, src.rel)
    body, links = rewrite_links(src.body, src.rel, new_path, moves, folder_keys, ctx.docs_dir)
    if draft.blocker is not None:
        # left where it is as it is, except that its links follow the files that move
        content = ((_BOM if src.bom else "") + src.header() + body).encode("utf-8") if links else None
        return FilePlan(
            src.rel, draft.target, draft.how, (), links, False, draft.blocker, draft.reason, content, src.mode
        )
    header = render_header(src, draft.changes) if draft.changes else src.header()
    content = (header + body).encode("utf-8") if draft.changes or links or src.bom else None
    return FilePlan(src.rel, draft.target, draft.how, draft.changes, links, src.bom, None, "", content, src.mode)


def frontmatter_changes(src: SourceFile, folder: Folder, number: int, ctx: Context) -> tuple[list[FieldChange], str]:
    """The fields to add or fix, and why the frontmatter cannot be completed ("" when it can)."""
    data = src.data
    bad = invalid_fields(data, folder.category)
    changes: list[FieldChange] = []
    asked: dict[str, tuple[str, str] | None] = {}  # one git call per file, and only when a field needs it

    def last_commit() -> tuple[str, str] | None:
        if "commit" not in asked:
            asked["commit"] = ctx.git.last_commit(src.rel) if ctx.git is not None else None
        return asked["commit"]

    for name in REQUIRED_FIELDS:
        present = name in data
        if present and name not in bad:
            continue
        old = data.get(name)
        value: object
        if name == "title":
            if isinstance(old, str) and old.strip() and len(old) > NAME_MAX:
                value = old.strip()[:NAME_MAX]
            else:
                value = (first_h1(src.body) or title_from_name(src.name))[:NAME_MAX]
        elif name == "order":
            value = number
        elif name == "category":
            value = folder.category
        elif name == "tags":
            value = _tags(old) if present else []
        elif name == "last_updated":
            value = _date(old) or (last_commit() or (ctx.today, ""))[0]
        else:  # author
            if isinstance(old, int | float) and not isinstance(old, bool):
                value = str(old)
            else:
                found = last_commit()
                value = found[1] if found and found[1] else (ctx.author or "")
                if not value:
                    return [], "no author: the file has no commit to take one from; pass --author NAME"
        changes.append(FieldChange(name, value, old if present else None, not present))
    return changes, ""


def _tags(old: object) -> list[str]:
    # keep what was written: a comma-separated string becomes a list, odd items become text
    if old is None:
        return []
    if isinstance(old, str):
        return [part.strip() for part in old.split(",") if part.strip()]
    if isinstance(old, list):
        return [item if isinstance(item, str) else json.dumps(item) for item in old]
    return [json.dumps(old)]


def _date(old: object) -> str | None:
    if isinstance(old, str) and re.match(r"\d{4}-\d{2}-\d{2}[T ]", old):
        try:
            return dt.date.fromisoformat(old[:10]).isoformat()
        except ValueError:
            return None
    return None


def render_header(src: SourceFile, changes: Sequence[FieldChange]) -> str:
    """The frontmatter block with ``changes`` made: new fields before the closing line, fixed ones in place.

    Lines migrate does not change stay as written (comments included). Only frontmatter that does not put
    each top-level key on its own line (a flow mapping) is written anew.
    """
    eol = src.eol
    if src.opening is None:
        return "---" + eol + "".join(field_line(c.name, c.value, eol) for c in changes) + "---" + eol
    fixed = {c.name: c for c in changes if not c.added}
    added = [c for c in changes if c.added]
    lines = list(src.fm_lines)
    key_at = {name: line - 1 for name, line in src.key_lines.items()}  # yaml line 1 = fm_lines[0]
    starts = sorted(set(key_at.values()))
    in_place = len(starts) == len(key_at) and all(
        0 <= i < len(lines) and lines[i][:1] not in ("", " ", "\t", "{", "[", "#", "-", "?", "\r", "\n") for i in starts
    )
    if fixed and not in_place:
        data = dict(src.data)
        for change in changes:
            data[change.name] = change.value
        dumped = yaml.safe_dump(data, allow_unicode=True, default_flow_style=None, sort_keys=False, width=1_000_000)
        return src.opening + dumped.replace("\n", eol) + src.closing
    # replace each fixed key's lines, from the bottom so earlier indexes stay right
    for name in sorted(fixed, key=lambda n: key_at[n], reverse=True):
        start = key_at[name]
        later = [i for i in starts if i > start]
        end = later[0] if later else len(lines)
        while end > start + 1 and (not lines[end - 1].strip() or lines[end - 1].startswith("#")):
            end -= 1  # comments and blank lines after the value belong to what follows
        lines[start:end] = [field_line(name, fixed[name].value, eol)]
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += eol
    lines.extend(field_line(c.name, c.value, eol) for c in added)
    return src.opening + "".join(lines) + src.closing


# ------------------------------------------------------------------------------------------ links


def rewrite_links(
    body: str,
    old_path: str,
    new_path: str,
    moves: Mapping[str, str],
    folder_keys: frozenset[str],
    docs_dir: Path,
) -> tuple[str, int]:
    """``body`` with every relative link and image that points at a moved file (or from a moved page) redone.

    Destinations are found by :func:`bookstack_sync.markdown.links.scan` (code blocks and spans are skipped) and
    classified by :func:`bookstack_sync.markdown.content.classify_destination`, the same rules ``validate`` uses.
    Only destination characters change: a CRLF body keeps its CRLFs.
    """
    if not moves:
        return body, 0
    text = body.replace("\r\n", "\n").replace("\r", "\n")
    removed = [m.start() - i for i, m in enumerate(re.finditer(r"\r\n", body))]  # offset in ``text`` of each CR dropped

    def original(offset: int) -> int:
        return offset + bisect_left(removed, offset)

    new_dir = posixpath.dirname(new_path) or "."
    replacements: list[tuple[Destination, str]] = []
    for dest in scan(text).destinations:
        target = classify_destination(dest.url, old_path, dest.image, folder_keys, docs_dir)
        if target is None or target.same_page:
            continue
        new_target = moves.get(target.path, target.path)
        if new_target == target.path and new_path == old_path:
            continue
        raw_path = dest.url.partition("#")[0].partition("?")[0]
        suffix = dest.url[len(raw_path) :]
        rel = posixpath.relpath(new_target, new_dir)
        if raw_path.endswith("/") and not rel.endswith("/"):
            rel += "/"
        if raw_path.startswith("./") and not rel.startswith("../"):
            rel = "./" + rel
        url = rel.replace("%", "%25") + suffix  # the renderer percent-decodes; a literal % must stay one
        if url == dest.url:
            continue
        replacements.append((replace(dest, start=original(dest.start), end=original(dest.end)), url))
    if not replacements:
        return body, 0
    return apply_replacements(body, replacements), len(replacements)


# ------------------------------------------------------------------------------------------ applying


class ApplyError(BookstackSyncError):
    """A step of ``--apply`` failed part way; what was done is reported, nothing is lost."""

    exit_code = ExitCode.INVALID_DOCS


def check_clean(git: Git | None, force: bool) -> None:
    if git is None or force:
        return
    changes = git.changes()
    if changes:
        shown = "\n  ".join(changes[:10]) + ("\n  ..." if len(changes) > 10 else "")
        raise UsageError(
            f"uncommitted changes under the docs folder; migrate --apply moves files and wants a clean start:\n  {shown}",
            hint="commit or stash them first, or pass --force",
        )


def apply_plan(plan: MigrationPlan, git: Git | None, out: TextIO) -> None:
    """Carry the plan out: moves first (``git mv`` for tracked files), then atomic rewrites."""
    docs_dir = plan.docs_dir
    tracked = git.tracked() if git is not None else set()
    done: list[str] = []
    emptied: set[str] = set()
    try:
        for item in plan.files:
            if not item.moves:
                continue
            assert item.target is not None
            (docs_dir / item.target).parent.mkdir(parents=True, exist_ok=True)
            if git is not None and item.source in tracked:
                problem = git.mv(item.source, item.target)
                if problem is not None:
                    raise ApplyError(f"git mv {item.source} {item.target} failed: {problem}")
                how = "git mv"
            else:
                _move(docs_dir / item.source, docs_dir / item.target)
                how = "moved"
            emptied.add(posixpath.dirname(item.source))
            done.append(item.source)
            out.write(f"{how}: {item.source} -> {item.target}\n")
        for item in plan.files:
            if item.content is None:
                continue
            write_atomic(docs_dir / item.final_path, item.content, item.mode)
            out.write(f"updated: {item.final_path} ({describe_changes(item)})\n")
    except OSError as exc:
        raise ApplyError(
            f"stopped: {exc.strerror or exc} ({exc.filename}); "
            f"{len(done)} file(s) were moved before that, nothing was deleted",
            hint="fix the cause and run `migrate --apply --force` again to finish",
        ) from None
    for directory in sorted(emptied, key=len, reverse=True):
        _remove_empty(docs_dir, directory)


def _move(source: Path, target: Path) -> None:
    # os.rename would replace an existing target without a word; a hard link refuses to
    try:
        os.link(source, target)
    except FileExistsError:
        if not _same_file(source, target):
            raise
        os.rename(source, target)  # a case-only rename
        return
    except OSError:
        if os.path.lexists(target):
            raise FileExistsError(17, "target exists", str(target)) from None
        os.rename(source, target)  # no hard links on this file system
        return
    os.unlink(source)


def write_atomic(path: Path, content: bytes, mode: int) -> None:
    # a crash half way leaves the old file whole: the new bytes go to a temporary file that replaces it
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise


def _remove_empty(docs_dir: Path, rel: str) -> None:
    while rel:
        try:
            os.rmdir(docs_dir / rel)  # fails on a folder with anything left in it, which is the point
        except OSError:
            return
        rel = posixpath.dirname(rel)


# ------------------------------------------------------------------------------------------ showing the plan


def describe_changes(item: FilePlan) -> str:
    parts: list[str] = []
    added = [c.name for c in item.changes if c.added]
    fixed = [c.name for c in item.changes if not c.added]
    if added:
        parts.append("added " + ", ".join(added))
    if fixed:
        parts.append("fixed " + ", ".join(fixed))
    if item.links:
        parts.append(f"{item.links} link(s) rewritten")
    if item.bom_removed:
        parts.append("byte-order mark removed")
    return "; ".join(parts) or "no change"


def print_plan(plan: MigrationPlan, out: TextIO, *, dry_run: bool) -> None:
    verb = "would " if dry_run else ""
    for item in plan.of("move"):
        out.write(f"{verb}move: {item.source} -> {item.target} ({item.how}; {describe_changes(item)})\n")
    for item in plan.of("update"):
        out.write(f"{verb}update: {item.source} ({describe_changes(item)})\n")
    for item in plan.blocked:
        out.write(f"{item.blocker}: {item.source}: {item.reason}\n")
        if item.content is not None:
            out.write(f"  {verb}rewrite {item.links} link(s) in it to follow the moved files\n")
    for note in plan.notes:
        out.write(f"note: {note}\n")
    out.write(summary_line(plan) + "\n")


def summary_line(plan: MigrationPlan) -> str:
    return (
        f"{len(plan.files)} Markdown file(s): {len(plan.of('move'))} to move or rename, "
        f"{len(plan.of('update'))} to update in place, {len(plan.of('ok'))} already fine, "
        f"{len(plan.blocked)} left for a person"
    )


def _cell(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def report_markdown(plan: MigrationPlan) -> str:
    lines = [f"# Migration plan for `{plan.docs_dir.as_posix()}`", ""]
    lines.append(f"Structure: `{plan.structure_shown}` · map: {f'`{plan.map_shown}`' if plan.map_shown else 'none'}")
    lines += ["", "| | Files |", "| --- | ---: |"]
    rows = [
        ("moved or renamed", len(plan.of("move"))),
        ("updated in place", len(plan.of("update"))),
        ("already conform", len(plan.of("ok"))),
    ]
    rows += [(blocker.value, sum(1 for f in plan.blocked if f.blocker is blocker)) for blocker in Blocker]
    lines += [f"| {label} | {count} |" for label, count in rows]
    if plan.of("move"):
        lines += ["", "## Moves", "", "| File | New path | Why |", "| --- | --- | --- |"]
        for item in plan.of("move"):
            assert item.target is not None
            lines.append(f"| {_cell(item.source)} | {_cell(item.target)} | {item.how} |")
    changed = [f for f in plan.files if f.blocker is None and f.touched]
    if changed:
        lines += ["", "## Changes per file"]
        for item in changed:
            moved = f" (from `{item.source}`)" if item.moves else ""
            lines += ["", f"### `{item.final_path}`{moved}", ""]
            if item.changes:
                lines.append("```yaml")
                for change in item.changes:
                    note = "added" if change.added else f"was {json.dumps(change.old, ensure_ascii=False)}"
                    lines.append(field_line(change.name, change.value).rstrip("\n") + f"  # {note}")
                lines.append("```")
            extras = []
            if item.links:
                extras.append(f"{item.links} link(s) rewritten to follow moved files")
            if item.bom_removed:
                extras.append("byte-order mark removed")
            if not item.changes and not extras:
                extras.append("moved as it is")
            lines += [f"- {extra}" for extra in extras]
    for blocker in Blocker:
        items = [f for f in plan.blocked if f.blocker is blocker]
        if not items:
            continue
        lines += ["", f"## {blocker.value.capitalize()}", ""]
        for item in items:
            goes = f" (would go to `{item.target}`)" if item.target and blocker is not Blocker.UNPLACED else ""
            lines.append(f"- `{item.source}`{goes}: {item.reason}")
            if item.content is not None:
                lines.append(f"  - its {item.links} link(s) to moved files are rewritten")
    if plan.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in plan.notes]
    lines += ["", summary_line(plan) + ".", ""]
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class Analysis:
    validation: Validation
    markdown_files: int
    diagnostics: tuple[Diagnostic, ...]  # validation's and those of files outside the hierarchy

    def by_rule(self) -> dict[Rule, list[Diagnostic]]:
        groups: dict[Rule, list[Diagnostic]] = defaultdict(list)
        for diagnostic in self.diagnostics:
            groups[diagnostic.rule].append(diagnostic)
        return dict(sorted(groups.items(), key=lambda item: (-len({d.path for d in item[1]}), item[0].value)))

    @property
    def failed(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def validation_source(self) -> str:
        structure = self.validation.structure
        return structure.source if structure is not None else ""


def analyze(docs_dir: Path, structure_path: Path, ignore: tuple[str, ...]) -> Analysis:
    """``validate``'s findings, plus the frontmatter problems of files ``validate`` cannot place."""
    validation = validate_docs(docs_dir, structure_path, ignore=ignore)
    found = list(validation.diagnostics)
    files, _ = markdown_files(docs_dir, structure_path, ignore)
    if validation.tree is not None:
        placed = validation.tree.page_files
        for rel in files:
            if rel not in placed:
                found.extend(_frontmatter_findings(docs_dir, rel))
    return Analysis(validation, len(files), tuple(sort_diagnostics(found)))


def _frontmatter_findings(docs_dir: Path, rel: str) -> Iterator[Diagnostic]:
    try:
        src = read_source(docs_dir, rel)
    except FileProblem as problem:
        yield error(rel, problem.line, problem.rule, problem.message)
        return
    if src.bom:
        yield warning(rel, 1, Rule.BOM, "file starts with a byte-order mark; save it as UTF-8 without BOM")
    if src.opening is None:
        yield error(rel, 1, Rule.FRONTMATTER_MISSING, "no frontmatter: the file must start with a `---` line")
        return
    for name in REQUIRED_FIELDS:
        if name not in src.data and name != "category":  # the category follows from where the file goes
            yield error(rel, 1, Rule.FIELD_REQUIRED, f"missing required field `{name}`")
    for name, (rule, message) in invalid_fields(src.data, None).items():
        yield error(rel, src.key_lines.get(name, 0) + 1, rule, f"`{name}`: {message}")


def print_analysis(analysis: Analysis, settings: Settings, out: TextIO) -> None:
    groups = analysis.by_rule()
    # a file conforms when validate would pass it: warnings alone (CRLF, a BOM) do not count
    bad_files = {
        d.path for d in analysis.diagnostics if d.severity is Severity.ERROR and d.path != analysis.validation_source
    }
    errors = sum(1 for d in analysis.diagnostics if d.severity is Severity.ERROR)
    warnings = len(analysis.diagnostics) - errors
    if settings.format is OutputFormat.JSON:
        json.dump(
            {
                "markdown_files": analysis.markdown_files,
                "nonconforming_files": len(bad_files),
                "errors": errors,
                "warnings": warnings,
                "rules": [
                    {
                        "rule": rule.value,
                        "files": len({d.path for d in items}),
                        "problems": len(items),
                        "diagnostics": [d.to_json() for d in items],
                    }
                    for rule, items in groups.items()
                ],
            },
            out,
            indent=2,
        )
        out.write("\n")
        return
    out.write(
        f"{analysis.markdown_files} Markdown file(s) under {settings.docs_dir.as_posix()}: "
        f"{len(bad_files)} do not conform; {errors} error(s), {warnings} warning(s)\n"
    )
    for rule, items in groups.items():
        paths = {d.path for d in items}
        severity = "warning" if all(d.severity is Severity.WARNING for d in items) else "error"
        out.write(f"\n{rule.value} ({severity}): {len(paths)} file(s), {len(items)} problem(s)\n")
        messages = {d.message for d in items}
        if len(messages) == 1 and len(items) > 1:
            out.write(f"  {next(iter(messages))}\n")
            for path in sorted(paths):
                out.write(f"    {path}\n")
        else:
            for d in items:
                where = f"{d.path}:{d.line}" if d.line else d.path
                out.write(f"  {where}: {d.message}\n")
    if not bad_files:
        out.write("\nnothing to migrate: every file conforms\n")


# ------------------------------------------------------------------------------------------ the command


def load_context(settings: Settings, map_file: str | None, author: str | None) -> Context | None:
    """The structure, map and git context; None (after printing why) when the structure file is broken."""
    if not settings.docs_dir.is_dir():
        raise UsageError(
            f"docs directory not found: {settings.docs_dir}", hint="set `docs_dir` to the folder holding your shelves"
        )
    if author is not None and not author.strip():
        raise UsageError("--author must not be empty")
    structure, diagnostics = read_structure(
        settings.structure_path, display=display_path(settings.structure_path, settings.docs_dir)
    )
    if structure is None:
        for diagnostic in diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        print("bookstack-sync: fix the structure file first: migrate places files by it", file=sys.stderr)
        return None
    rules = load_map(Path(map_file), structure) if map_file else ()
    return Context(
        docs_dir=settings.docs_dir,
        structure=structure,
        structure_path=settings.structure_path,
        ignore=settings.ignore,
        rules=rules,
        map_shown=map_file,
        author=author.strip() if author else None,
        git=Git.find(settings.docs_dir),
    )
