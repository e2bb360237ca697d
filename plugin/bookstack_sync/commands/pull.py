"""The ``pull`` command (and ``mode: pull``): the pages people edited in BookStack since the last sync, written
into the docs files for review and commit (``export/pull.py``), with a JSON and a Markdown report."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from ..check.validate import validate_docs
from ..errors import ExitCode
from ..export.pull import print_pull, pull_edits, pull_markdown
from ..report.files import write_validation_junit
from ..settings import Settings
from .session import bookstack_session, require_bookstack


def run_pull(settings: Settings, env: Mapping[str, str], *, report: Path, out: TextIO) -> ExitCode:
    """The `pull` command and `mode: pull`."""
    started = time.monotonic()
    validation = validate_docs(
        settings.docs_dir, settings.structure_path, ignore=settings.ignore, max_upload_mb=settings.max_upload_mb
    )
    for path in write_validation_junit(validation, settings, env, time.monotonic() - started):
        out.write(f"junit: {path}\n")
    if validation.failed(settings.strict):
        for diagnostic in validation.diagnostics:
            out.write(diagnostic.format() + "\n")
        out.write("pull needs a valid docs tree: nothing was pulled\n")
        return ExitCode.INVALID_DOCS
    require_bookstack(settings, "pull")
    stats: dict[str, Any] = {}
    with bookstack_session(settings, read_only=settings.dry_run, requests=stats) as client:
        result = pull_edits(client, settings, validation, dry_run=settings.dry_run, env=env)
    result.requests = stats
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps(result.to_json(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    report.with_suffix(".md").write_text(pull_markdown(result), encoding="utf-8")
    print_pull(result, out)
    return ExitCode.OK
