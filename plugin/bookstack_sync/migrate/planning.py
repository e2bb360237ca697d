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
from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from fnmatch import fnmatchcase
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from jsonschema import Draft202012Validator

from ..check.validate import display_path
from ..docs.diagnostics import Rule
from ..docs.schema import FRONTMATTER_SCHEMA, REQUIRED_FIELDS
from ..docs.structure import NAME_MAX, PAGE_FILE_RE, Folder, Structure, slugify
from ..docs.tree import is_markdown
from ..git import Git
from ..markdown.content import apply_replacements, classify_destination
from ..markdown.destinations import Destination
from ..markdown.links import scan
from .mapping import MapRule, match_rule
from .source import (
    _BOM,
    FileProblem,
    SourceFile,
    field_line,
    first_h1,
    read_source,
    split_name,
    title_from_name,
)


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
        if target in staying or (os.path.lexists(path) and not same_file(path, docs_dir / draft.source.rel)):
            draft.blocker = Blocker.CONFLICT
            draft.reason = f"{target} already exists: merge the two files or give this one another name in the map"
        elif len(sources[target]) > 1:
            others = ", ".join(s for s in sources[target] if s != draft.source.rel)
            draft.blocker = Blocker.CONFLICT
            draft.reason = f"{others} would also become {target}: settle which one goes there"


def same_file(a: Path, b: Path) -> bool:
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
