"""The ``export`` command: read the wiki, write the docs tree and its report, validate what was written."""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from ..check.validate import validate_docs
from ..errors import ExitCode
from ..export.read import (
    ExportFilter,
)
from ..export.write import export_wiki, write_export_report
from ..plan.treeid import tree_id_for
from ..report.files import write_validation_junit
from ..settings import Settings
from .session import bookstack_session, require_bookstack


def run_export(
    settings: Settings,
    env: Mapping[str, str],
    *,
    wanted: ExportFilter,
    unshelved: str | None,
    force: bool,
    report: Path,
    out: TextIO,
) -> ExitCode:
    """The `export` command: export, write the reports, validate the written tree."""
    require_bookstack(settings, "export")
    stats: dict[str, Any] = {}
    with bookstack_session(settings, read_only=True, requests=stats) as client:
        result = export_wiki(
            client,
            settings.docs_dir,
            settings.structure_path,
            wanted=wanted,
            unshelved=unshelved,
            force=force,
            saved_dir=report.parent / (report.stem + "-pages"),
            tree_id=tree_id_for(settings.tree, settings.docs_dir, env).value,
        )
    result.requests = stats
    written = write_export_report(result, report, settings.docs_dir.as_posix())
    out.write(
        f"exported {len(result.layout.page_files)} pages and {len(result.assets)} images/attachments into "
        f"{settings.docs_dir} with {stats.get('total', 0)} requests\n"
    )
    for problem in result.problems:
        out.write(f"not represented: [{problem.kind}] {problem.object}: {problem.detail}\n")
    for note in result.notes:
        out.write(f"note: {note}\n")
    out.write(f"report: {', '.join(p.as_posix() for p in written)}\n")
    started = time.monotonic()
    validation = validate_docs(
        settings.docs_dir, settings.structure_path, ignore=settings.ignore, max_upload_mb=settings.max_upload_mb
    )
    for diagnostic in validation.diagnostics:
        out.write(diagnostic.format() + "\n")
    out.write(validation.summary(settings.strict) + "\n")
    for path in write_validation_junit(validation, settings, env, time.monotonic() - started):
        out.write(f"junit: {path}\n")
    return ExitCode.INVALID_DOCS if validation.failed(settings.strict) else ExitCode.OK
