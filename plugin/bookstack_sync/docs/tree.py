"""The docs tree on disk: which Markdown files are pages, what their frontmatter says, which files are assets.

Every file problem becomes a diagnostic and discovery goes on, so one run reports every mistake.
Location rules (which folder, which file name) are checked here against the structure; frontmatter
rules are left to the generated JSON Schema (:mod:`bookstack_sync.check.validate`).
"""

from __future__ import annotations

import errno
import fnmatch
import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Any

from frontmatter.default_handlers import YAMLHandler

from .diagnostics import Diagnostic, Rule, error, warning
from .structure import PAGE_FILE_RE, Folder, Structure
from .yamlsource import YamlDocument, YamlSyntaxError, parse_yaml, to_json_value

_HANDLER = YAMLHandler()
_BOM = "\ufeff"
# Real frontmatter is a few hundred characters; a block this large is a mistake or an attack on the CI agent.
FRONTMATTER_MAX = 64 * 1024


@dataclass(frozen=True)
class PageSource:
    """One page file whose frontmatter could be read (it may still break frontmatter rules)."""

    path: str  # relative to docs_dir, posix separators: also the page's source key
    folder: Folder
    frontmatter: Mapping[str, Any]  # JSON types: dates as YYYY-MM-DD, version as its text
    field_lines: Mapping[str, int]  # 1-based line of each top-level frontmatter key
    frontmatter_line: int  # line of the opening ---
    body: str  # the text after the closing ---, LF line ends
    body_line: int  # 1-based line of the file where ``body`` starts

    @property
    def name(self) -> str:
        return self.path.rpartition("/")[2]

    @property
    def stem(self) -> str:
        return PurePosixPath(self.path).stem

    @property
    def number(self) -> int:
        return int(self.name[:2])

    @property
    def title(self) -> str:
        return str(self.frontmatter.get("title", "")).strip()

    def line_of(self, key: str | None) -> int:
        if key is None:
            return self.frontmatter_line
        return self.field_lines.get(key, self.frontmatter_line)


@dataclass(frozen=True)
class Asset:
    """A non-Markdown file inside a book or chapter folder (an image, a PDF...)."""

    path: str  # relative to docs_dir
    file: Path
    size: int

    @cached_property
    def sha256(self) -> str:
        digest = hashlib.sha256()
        with self.file.open("rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 16), b""):
                digest.update(chunk)
        return digest.hexdigest()


@dataclass
class DocsTree:
    root: Path
    pages: list[PageSource] = field(default_factory=list)
    assets: dict[str, Asset] = field(default_factory=dict)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    markdown_files: int = 0  # every Markdown file seen, pages or not
    page_files: set[str] = field(default_factory=set)  # files in the right place, readable or not
    # well-named files in a folder whose `pages` list leaves them out: not pages, but read and checked
    # all the same, so their other mistakes show in the same run as [page-not-listed]
    unlisted: list[PageSource] = field(default_factory=list)

    def page_paths(self) -> set[str]:
        return {page.path for page in self.pages}


def discover_tree(
    docs_dir: Path, structure: Structure, *, ignore: tuple[str, ...] = (), skip_dir: Path | None = None
) -> DocsTree:
    """Walk ``docs_dir`` and read every page file.

    ``skip_dir`` is the folder holding the structure file (and its templates), which is not content.
    Symlinks are followed only while they stay inside ``docs_dir``.
    """
    walk = walk_tree(docs_dir, structure, ignore=ignore, skip_dir=skip_dir)
    return walk.finish(read_pages(walk.files))


# A page file to read: (path to open, path relative to docs_dir, its folder)
PageFile = tuple[str, str, Folder]
# What reading one gave: the page (None when it cannot be read) and its diagnostics
PageRead = tuple[PageSource | None, list[Diagnostic]]


@dataclass
class TreeWalk:
    """Discovery before any page file is read: the tree without pages, and the page files in walk order.

    Reading the files is most of discovery's time and each file is read on its own, so the files may be
    read in parts (by different processes); :meth:`finish` puts the results where a plain walk has them.
    """

    tree: DocsTree
    files: list[PageFile]
    # tree.diagnostics in walk order: a diagnostic, or the index in ``files`` whose read diagnostics go there
    steps: list[Diagnostic | int]
    unlisted: frozenset[int] = frozenset()  # indexes in ``files`` of unlisted pages (see DocsTree.unlisted)

    def finish(self, reads: list[PageRead]) -> DocsTree:
        """The tree, given what reading each of ``files`` gave (in the same order)."""
        tree = self.tree
        for step in self.steps:
            if isinstance(step, int):
                page, diagnostics = reads[step]
                tree.diagnostics.extend(diagnostics)
                if page is not None:
                    (tree.unlisted if step in self.unlisted else tree.pages).append(page)
            else:
                tree.diagnostics.append(step)
        return tree


def read_pages(files: list[PageFile]) -> list[PageRead]:
    return [read_page(file, rel, folder) for file, rel, folder in files]


def walk_tree(
    docs_dir: Path, structure: Structure, *, ignore: tuple[str, ...] = (), skip_dir: Path | None = None
) -> TreeWalk:
    """Discovery up to reading the page files: folders, symlinks, locations, assets (see :func:`discover_tree`)."""
    root = os.path.realpath(docs_dir)
    inside = root.rstrip(os.sep) + os.sep
    tree = DocsTree(root=docs_dir)
    folders = structure.folder_index()
    skip = os.path.realpath(skip_dir) if skip_dir is not None else None
    files: list[PageFile] = []
    steps: list[Diagnostic | int] = []
    unlisted: set[int] = set()

    def walk(directory: str, real: str, rel: str, ancestors: frozenset[str]) -> None:
        # ``real`` is the resolved path of ``directory``; ``ancestors`` those of the folders above it and
        # itself: a symlink back to one of them would loop. Paths are plain strings: pathlib costs
        # seconds over 10,000 files, and only symlinks need resolving.
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=lambda e: e.name)
        except OSError as exc:
            steps.append(error(rel or ".", None, Rule.NOT_A_FILE, f"cannot read folder: {exc.strerror}"))
            return
        for entry in entries:
            entry_rel = f"{rel}/{entry.name}" if rel else entry.name
            if entry.is_symlink():
                target, problem = _symlink_target(entry.path, entry_rel, root, inside)
                if problem is not None:
                    steps.append(problem)
                    continue
            else:
                target = os.path.join(real, entry.name)
            if entry.is_dir():
                if target == skip or target in ancestors:  # the structure folder; a symlink to a parent
                    continue
                if is_markdown(entry.name):
                    steps.append(
                        error(entry_rel, None, Rule.NOT_A_FILE, "a folder where a Markdown page file should be")
                    )
                    continue
                walk(entry.path, target, entry_rel, ancestors | {target})
            elif is_markdown(entry.name):
                tree.markdown_files += 1
                if any(fnmatch.fnmatchcase(entry_rel, pattern) for pattern in ignore):
                    continue
                folder, problem = locate(entry_rel, folders)
                if problem is not None:
                    steps.append(problem)
                    if folder is None:
                        continue
                    unlisted.add(len(files))
                else:
                    assert folder is not None
                    tree.page_files.add(entry_rel)
                steps.append(len(files))
                files.append((entry.path, entry_rel, folder))
            elif entry.is_file():
                # any other file is an asset that pages may reference (images, PDFs), wherever it sits
                tree.assets[entry_rel] = Asset(entry_rel, Path(entry.path), entry.stat().st_size)

    walk(str(docs_dir), root, "", frozenset({root}))
    return TreeWalk(tree, files, steps, frozenset(unlisted))


def _symlink_target(path: str, rel: str, root: str, inside: str) -> tuple[str, Diagnostic | None]:
    """Where a symlink leads, or why it is not followed (outside the tree, broken, a loop)."""
    try:
        target = os.path.realpath(path, strict=True)
    except OSError as exc:
        target = os.path.realpath(path)
        if target != root and not target.startswith(inside):
            return target, error(rel, None, Rule.SYMLINK_OUTSIDE, "symlink points outside the docs tree; refused")
        if exc.errno == errno.ELOOP:
            return target, error(rel, None, Rule.NOT_A_FILE, "symlink loop: the link leads back to itself")
        return target, error(rel, None, Rule.NOT_A_FILE, "broken symlink")
    if target != root and not target.startswith(inside):
        return target, error(rel, None, Rule.SYMLINK_OUTSIDE, "symlink points outside the docs tree; refused")
    return target, None


def is_markdown(name: str) -> bool:
    return name.lower().endswith(".md")


def locate(rel_path: str, folders: Mapping[str, Folder]) -> tuple[Folder | None, Diagnostic | None]:
    """Where a Markdown file sits in the hierarchy, or the diagnostic that says why it does not fit.

    A well-named file left out of its folder's ``pages`` list comes back with its folder *and* the
    diagnostic: it is no page, but it is read and checked so its other mistakes show in the same run.
    """
    parent, _, name = rel_path.rpartition("/")
    folder = folders.get(parent)
    not_a_page = f"if it is not a page, add {rel_path!r} to the `ignore` setting"
    if folder is None:
        return None, error(
            rel_path,
            None,
            Rule.NOT_IN_HIERARCHY,
            "not in the hierarchy: pages go in <shelf>/<book>/ or <shelf>/<book>/<chapter>/ folders named in the "
            f"structure file (see `bookstack-sync paths`); {not_a_page}",
        )
    if not PAGE_FILE_RE.fullmatch(name):
        return None, error(
            rel_path,
            None,
            Rule.FILE_NAME,
            f"file name {name!r} breaks the rule NN-kebab-case.md (two digits, a hyphen, lowercase words joined "
            f"by single hyphens), e.g. 01-getting-started.md; {not_a_page}",
        )
    listed = folder.listed_pages
    if listed is not None and name[:-3] not in listed:
        return folder, error(
            rel_path,
            None,
            Rule.PAGE_NOT_LISTED,
            f"page {name[:-3]!r} is not listed in the `pages` of {folder.key!r} in the structure file; "
            "add it there or move the file",
        )
    return folder, None


def frontmatter_values(doc: YamlDocument) -> dict[str, Any]:
    """A frontmatter mapping as JSON values, with the fields whose meaning is their written text.

    YAML 1.1 reads `order: 08` as a string and `010` as octal, and `version: 1.10` as the float 1.1.
    """
    data: dict[str, Any] = to_json_value(doc.data)
    order_text = doc.scalars.get(("order",))
    if order_text is not None and order_text.isascii() and order_text.isdigit():
        data["order"] = int(order_text, 10)
    version_text = doc.scalars.get(("version",))
    if (
        version_text is not None
        and isinstance(data.get("version"), int | float)
        and not isinstance(data["version"], bool)
    ):
        data["version"] = version_text
    return data


def read_page(file: Path | str, rel: str, folder: Folder) -> tuple[PageSource | None, list[Diagnostic]]:
    """Read one page file. Returns ``None`` with an error when its frontmatter cannot be read."""
    found: list[Diagnostic] = []
    try:
        with open(file, "rb") as handle:
            raw = handle.read()
    except OSError as exc:
        return None, [error(rel, None, Rule.NOT_A_FILE, f"cannot read file: {exc.strerror}")]
    if not raw.strip():
        return None, [error(rel, 1, Rule.EMPTY_FILE, "empty file: a page needs frontmatter and content")]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            error(
                rel,
                line,
                Rule.ENCODING,
                f"not UTF-8 text (invalid byte at offset {exc.start}); save it as UTF-8",
            )
        ]
    if text.startswith(_BOM):
        found.append(warning(rel, 1, Rule.BOM, "file starts with a byte-order mark; save it as UTF-8 without BOM"))
        text = text[1:]
    if "\r" in text:
        found.append(warning(rel, 1, Rule.LINE_ENDINGS, "CRLF line endings; they are published as LF"))
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not _HANDLER.detect(text):
        found.append(error(rel, 1, Rule.FRONTMATTER_MISSING, "no frontmatter: the file must start with a `---` line"))
        return None, found
    assert _HANDLER.FM_BOUNDARY is not None
    boundaries = []
    for match in _HANDLER.FM_BOUNDARY.finditer(text):
        boundaries.append(match)
        if len(boundaries) == 2:
            break
    if len(boundaries) < 2:
        found.append(error(rel, 1, Rule.FRONTMATTER_UNTERMINATED, "frontmatter is never closed with a `---` line"))
        return None, found
    opening, closing = boundaries
    offset = text.count("\n", 0, opening.end())
    if closing.start() - opening.end() > FRONTMATTER_MAX:
        found.append(
            error(
                rel,
                1,
                Rule.FRONTMATTER_TOO_LARGE,
                f"frontmatter is {closing.start() - opening.end()} characters; at most {FRONTMATTER_MAX} are read: "
                "keep long text in the page body",
            )
        )
        return None, found
    try:
        doc = parse_yaml(text[opening.end() : closing.start()])
    except YamlSyntaxError as exc:
        line = exc.line + offset if exc.line else 1
        found.append(
            error(rel, line, Rule.FRONTMATTER_SYNTAX, f"frontmatter is not valid YAML: {exc.describe(offset)}")
        )
        return None, found
    if not isinstance(doc.data, dict):
        kind = "empty" if doc.data is None else f"a {type(doc.data).__name__}"
        found.append(
            error(rel, 1, Rule.FRONTMATTER_NOT_MAPPING, f"frontmatter must be a mapping of fields, not {kind}")
        )
        return None, found
    data = frontmatter_values(doc)
    field_lines = {str(path[0]): line + offset for path, line in doc.lines.items() if len(path) == 1}
    body_start = closing.end()
    if text.startswith("\n", body_start):
        body_start += 1
    page = PageSource(
        path=rel,
        folder=folder,
        frontmatter=data,
        field_lines=field_lines,
        frontmatter_line=1,
        body=text[body_start:],
        body_line=text.count("\n", 0, body_start) + 1,
    )
    return page, found
