"""The ``scaffold`` command: the folders the structure file names, and with ``--stubs`` a draft stub for each
listed page that is missing (``migrate/scaffold.py``)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TextIO

from ..check.validate import display_path
from ..docs.structure import read_structure
from ..errors import ExitCode, UsageError
from ..git import Git
from ..migrate.scaffold import print_result, scaffold
from ..settings import Settings


def run_scaffold(settings: Settings, *, author: str | None, stubs: bool, out: TextIO) -> ExitCode:
    docs_dir = settings.docs_dir
    structure, diagnostics = read_structure(
        settings.structure_path, display=display_path(settings.structure_path, docs_dir)
    )
    if structure is None:
        for diagnostic in diagnostics:
            print(diagnostic.format(), file=sys.stderr)
        return ExitCode.INVALID_DOCS
    if author is not None and not author.strip():
        raise UsageError("--author must not be empty")
    if author is None and stubs:
        git = Git(docs_dir) if docs_dir.is_dir() else Git(Path.cwd())
        author = git.user_name()
    result = scaffold(docs_dir, structure, stubs=stubs, author=author, dry_run=settings.dry_run)
    print_result(result, out, dry_run=settings.dry_run)
    return ExitCode.INVALID_DOCS if result.problems else ExitCode.OK
