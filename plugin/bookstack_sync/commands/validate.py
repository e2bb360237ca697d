"""The ``validate`` command: check the docs tree, print every finding, write the JUnit XML when asked."""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping
from typing import TextIO

from ..check.validate import validate_docs, write_validation
from ..errors import ExitCode
from ..settings import Settings


def run_validate(settings: Settings, env: Mapping[str, str], out: TextIO) -> ExitCode:
    started = time.monotonic()
    validation = validate_docs(
        settings.docs_dir, settings.structure_path, ignore=settings.ignore, max_upload_mb=settings.max_upload_mb
    )
    write_validation(validation, settings.format, out, strict=settings.strict)
    if settings.junit is not None:
        from ..report.files import write_validation_junit  # the report writers, only when a JUnit file is asked for

        for path in write_validation_junit(validation, settings, env, time.monotonic() - started):
            print(f"bookstack-sync: wrote {path}", file=sys.stderr)
    return validation.exit_code(settings.strict)
