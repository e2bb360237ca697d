"""The ``migrate`` command: --analyze, --report, --apply [--dry-run], driving ``migrate/``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..check.validate import display_path, validate_docs, write_validation
from ..docs.structure import read_structure
from ..errors import ExitCode, UsageError
from ..git import Git
from ..migrate.analysis import analyze, print_analysis
from ..migrate.mapping import load_map
from ..migrate.planning import Context, build_plan
from ..migrate.show import print_plan, report_markdown, summary_line
from ..migrate.write import check_clean, write_migration
from ..settings import Settings


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


def run_migrate(
    settings: Settings,
    action: str,
    *,
    map_file: str | None,
    author: str | None,
    dry_run: bool,
    force: bool,
    out: TextIO,
) -> ExitCode:
    """``action`` is ``analyze``, ``report`` or ``apply`` (with ``dry_run``, nothing is changed)."""
    if action == "analyze":
        if not settings.docs_dir.is_dir():
            raise UsageError(f"docs directory not found: {settings.docs_dir}")
        analysis = analyze(settings.docs_dir, settings.structure_path, settings.ignore, settings.max_upload_mb)
        print_analysis(analysis, settings, out)
        return ExitCode.INVALID_DOCS if analysis.failed else ExitCode.OK
    ctx = load_context(settings, map_file, author)
    if ctx is None:
        return ExitCode.INVALID_DOCS
    plan = build_plan(ctx)
    left = ExitCode.INVALID_DOCS if plan.blocked else ExitCode.OK
    if action == "report":
        out.write(report_markdown(plan))
        return left
    if dry_run:
        print_plan(plan, out, dry_run=True)
        if ctx.git is not None and ctx.git.changes() and not force:
            print(
                "note: there are uncommitted changes under the docs folder; --apply would refuse without --force",
                file=out,
            )
        print("dry run: nothing was changed", file=out)
        return left
    check_clean(ctx.git, force)
    for item in plan.blocked:
        print(f"{item.blocker}: {item.source}: {item.reason}", file=out)
    for note in plan.notes:
        print(f"note: {note}", file=out)
    write_migration(plan, ctx.git, out)
    print(summary_line(plan), file=out)
    if ctx.git is not None and plan.of("move"):
        print(
            "the moves are staged (git mv) and the edits are not: commit the moves first "
            "(`git commit -m 'docs: move pages'`), then the edits, so `git log --follow` finds every file's history",
            file=out,
        )
    print("validate:", file=out)
    validation = validate_docs(
        settings.docs_dir, settings.structure_path, ignore=settings.ignore, max_upload_mb=settings.max_upload_mb
    )
    write_validation(validation, settings.format, out, strict=settings.strict)
    return max(left, validation.exit_code(settings.strict))
