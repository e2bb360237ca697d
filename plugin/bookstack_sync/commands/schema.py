"""The ``schema`` command: the JSON Schema generated from the structure file."""

from __future__ import annotations

import json
import sys
from typing import TextIO

from ..check.validate import display_path
from ..docs.schema import build_schema
from ..docs.structure import Structure, read_structure
from ..errors import ExitCode
from ..settings import Settings


def structure_or_report(settings: Settings) -> Structure | None:
    """The structure file, or ``None`` after printing its problems (for commands that need only it)."""
    structure, diagnostics = read_structure(
        settings.structure_path, display=display_path(settings.structure_path, settings.docs_dir)
    )
    for diagnostic in diagnostics:
        print(diagnostic.format(), file=sys.stderr)
    return structure


def run_schema(settings: Settings, out: TextIO) -> ExitCode:
    structure = structure_or_report(settings)
    if structure is None:
        return ExitCode.INVALID_DOCS
    json.dump(build_schema(structure), out, indent=2)
    out.write("\n")
    return ExitCode.OK
