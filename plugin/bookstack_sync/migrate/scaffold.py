"""``scaffold``: create the folders the structure file names and, with ``--stubs``, a stub for each listed page.

A stub starts from ``<docs_dir>/bookstack/templates/page-template.md`` when there is one (the seed's
templates folder), else from a minimal built-in page, and always gets frontmatter that validates, with
``status: draft`` so an empty page is not published. Nothing that exists is ever overwritten.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..docs.schema import REQUIRED_FIELDS
from ..docs.structure import Folder, Structure
from ..errors import UsageError
from ..markdown.content import apply_replacements, classify_destination
from ..markdown.links import scan
from .source import FileProblem, field_line, parse_source

BUILTIN_TEMPLATE = "# {title}\n\nThis page is a stub: write it, then set `status: published`.\n"


@dataclass(frozen=True)
class Template:
    source: str  # where it came from, for messages
    fields: Mapping[str, object]  # the template's own frontmatter (fields other than ours are kept)
    body: str


def template_path(docs_dir: Path) -> Path:
    return docs_dir / "bookstack" / "templates" / "page-template.md"


def load_template(docs_dir: Path) -> Template:
    path = template_path(docs_dir)
    if not path.is_file():
        return Template("built-in template", {}, BUILTIN_TEMPLATE)
    shown = path.as_posix()
    try:
        src = parse_source(path.read_bytes(), shown)
    except OSError as exc:
        raise UsageError(f"cannot read the page template {shown}: {exc.strerror}") from None
    except FileProblem as problem:
        where = f"{shown}:{problem.line}" if problem.line else shown
        raise UsageError(f"{where}: page template: {problem.message}", hint="fix the template or remove it") from None
    body = src.body.replace("\r\n", "\n").replace("\r", "\n")
    return Template(shown, dict(src.data), body)


def stub_text(template: Template, folder: Folder, stem: str, author: str, today: str, docs_dir: Path) -> str:
    title = _title(stem)
    ours: dict[str, object] = {
        "title": title,
        "order": int(stem[:2]),
        "category": folder.category,
        "tags": [],
        "last_updated": today,
        "author": author,
        "status": "draft",  # an empty page is not published until someone writes it
    }
    lines = [field_line(name, ours[name]) for name in (*REQUIRED_FIELDS, "status")]
    # the template's other fields (version, toc...) stay; its placeholders for ours do not
    lines += [field_line(name, value) for name, value in template.fields.items() if name not in ours]
    body = template.body.replace("{title}", title)
    heading = next((h for h in scan(body).headings if h.level == 1 and h.top_level), None)
    if heading is not None:
        # the template's heading is a placeholder ("Page Title Here"): the page's own title replaces it
        body = body[: heading.start] + f"# {title}\n" + body[heading.end :]
    return "---\n" + "".join(lines) + "---\n" + _unlink_placeholders(body, f"{folder.key}/{stem}.md", docs_dir)


def _unlink_placeholders(body: str, page_path: str, docs_dir: Path) -> str:
    """Relative links of the template that lead nowhere from the new page point at ``#`` instead.

    The seed's template carries example links (``../related-chapter/01-related-page.md``); kept as they
    are, every stub would fail validation with broken links. ``#`` keeps them visible as placeholders.
    """
    replacements = []
    for dest in scan(body).destinations:
        target = classify_destination(dest.url, page_path, dest.image, frozenset(), docs_dir)
        if target is None or target.same_page or dest.image:
            continue
        if target.outside or not (docs_dir / target.path).exists():
            replacements.append((dest, "#"))
    return apply_replacements(body, replacements) if replacements else body


def _title(stem: str) -> str:
    words = re.sub(r"^\d{2}-", "", stem).split("-")
    text = " ".join(words)
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class ScaffoldResult:
    folders: tuple[str, ...]
    stubs: tuple[str, ...]
    existing_stubs: int
    problems: tuple[str, ...]


def scaffold(
    docs_dir: Path,
    structure: Structure,
    *,
    stubs: bool,
    author: str | None,
    dry_run: bool = False,
    today: str | None = None,
) -> ScaffoldResult:
    day = today or dt.date.today().isoformat()
    keys: list[str] = []
    for shelf in structure.shelves:
        keys.append(shelf.key)
        for book in shelf.books:
            keys.append(book.key)
            keys.extend(chapter.key for chapter in book.chapters)
    created: list[str] = []
    problems: list[str] = []
    blocked: set[str] = set()
    for key in keys:
        path = docs_dir / key
        if path.is_dir() or any(key.startswith(b + "/") for b in blocked):
            continue
        if os.path.lexists(path):
            blocked.add(key)
            problems.append(f"{key} exists and is not a folder: rename it, then run scaffold again")
            continue
        if not dry_run:
            try:
                path.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                blocked.add(key)
                problems.append(f"cannot create {key}/: {exc.strerror}")
                continue
        created.append(key)
    written: list[str] = []
    existing = 0
    if stubs:
        template = load_template(docs_dir)
        for folder in structure.folders():
            for stem in folder.listed_pages or ():
                rel = f"{folder.key}/{stem}.md"
                path = docs_dir / rel
                if os.path.lexists(path):
                    existing += 1
                    continue
                if not (docs_dir / folder.key).is_dir() and not dry_run:
                    continue  # its folder could not be made; reported above
                if author is None:
                    raise UsageError("stub pages need an author: git has no user.name here", hint="pass --author NAME")
                if not dry_run:
                    _create(path, stub_text(template, folder, stem, author, day, docs_dir).encode("utf-8"))
                written.append(rel)
    return ScaffoldResult(tuple(created), tuple(written), existing, tuple(problems))


def _create(path: Path, content: bytes) -> None:
    # exclusive creation: a file that appeared since we looked is kept, not replaced
    try:
        with open(path, "xb") as handle:
            handle.write(content)
    except FileExistsError:
        return


def print_result(result: ScaffoldResult, out: TextIO, *, dry_run: bool) -> None:
    verb = "would create" if dry_run else "created"
    for key in result.folders:
        out.write(f"{verb} folder: {key}/\n")
    for rel in result.stubs:
        out.write(f"{verb} stub: {rel}\n")
    for problem in result.problems:
        out.write(f"problem: {problem}\n")
    out.write(
        f"{len(result.folders)} folder(s) and {len(result.stubs)} stub page(s) {verb.split()[-1]}"
        + (
            f"; {result.existing_stubs} listed page(s) already exist and were left alone"
            if result.existing_stubs
            else ""
        )
        + ("\n" if not dry_run else " (dry run: nothing was changed)\n")
    )
