"""``migrate --analyze``: which Markdown files do not conform yet, grouped by rule."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from ..check.validate import Validation, validate_docs
from ..docs.diagnostics import Diagnostic, Rule, Severity, error, sort_diagnostics, warning
from ..docs.schema import REQUIRED_FIELDS
from ..settings import OutputFormat, Settings
from .planning import invalid_fields, markdown_files
from .source import (
    FileProblem,
    read_source,
)


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


def analyze(docs_dir: Path, structure_path: Path, ignore: tuple[str, ...], max_upload_mb: int) -> Analysis:
    """``validate``'s findings, plus the frontmatter problems of files ``validate`` cannot place."""
    validation = validate_docs(docs_dir, structure_path, ignore=ignore, max_upload_mb=max_upload_mb)
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
