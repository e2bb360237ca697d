"""Reporters: turn one :class:`~bookstack_sync.model.RunResult` into files a later pipeline step can use.

Woodpecker has no artifact store, no test-report view and no annotation API, so the plugin writes
files into the workspace for the next step of the same workflow (a PR-comment plugin, an upload):

- ``report`` — one JSON document; its JSON Schema is ``data/report.schema.json``;
- ``summary`` — short Markdown fit for a pull-request comment;
- ``junit`` — the validation results as JUnit XML, for CI systems that show test reports.

Each reporter only renders (``render(result) -> str``, no I/O); :func:`write_reports` writes the files,
each one only after it rendered, atomically, and never lets a refused write change the exit code.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from .. import __version__
from ..check.validate import Validation
from ..errors import ExitCode
from ..model import Outcome, RunMode, RunResult
from ..settings import Settings, workspace_of
from .junit import JUnitReporter
from .summary import MarkdownSummary
from .words import diagnostic_counts, diagnostics_json, page_link, run_ok

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "JsonReporter",
    "Reporter",
    "ci_context",
    "report_schema",
    "write_reports",
]


REPORT_SCHEMA_VERSION = 1
"""Bumped on any change a consumer of the JSON report could trip over (a removed or renamed field)."""


log = logging.getLogger("bookstack_sync.report")


# CI_* variable -> key in ``RunResult.ci`` and in the report's ``ci`` object.
_CI_KEYS: tuple[tuple[str, str], ...] = (
    ("event", "CI_PIPELINE_EVENT"),
    ("repo", "CI_REPO"),
    ("repo_url", "CI_REPO_URL"),
    ("default_branch", "CI_REPO_DEFAULT_BRANCH"),
    ("commit", "CI_COMMIT_SHA"),
    ("ref", "CI_COMMIT_REF"),
    ("branch", "CI_COMMIT_BRANCH"),
    ("tag", "CI_COMMIT_TAG"),
    ("pull_request", "CI_COMMIT_PULL_REQUEST"),
    ("source_branch", "CI_COMMIT_SOURCE_BRANCH"),
    ("target_branch", "CI_COMMIT_TARGET_BRANCH"),
    ("pipeline_number", "CI_PIPELINE_NUMBER"),
    ("pipeline_url", "CI_PIPELINE_URL"),
    ("forge_url", "CI_PIPELINE_FORGE_URL"),
    ("step_url", "CI_STEP_URL"),
    ("system", "CI_SYSTEM_NAME"),
)


def ci_context(environ: Mapping[str, str]) -> dict[str, str]:
    """The pipeline facts a report names (for ``RunResult.ci``): only the variables that are set.

    Woodpecker 3 does not inject empty ``CI_*`` variables (``setNonEmptyEnvVar``), so a missing key means
    "not this kind of event". (Settings differ: ``''`` arrives as an empty ``PLUGIN_*`` variable.)
    """
    return {key: environ[name] for key, name in _CI_KEYS if environ.get(name)}


class Reporter(Protocol):
    """Renders a run result as the text of one file. Renders only; never writes."""

    @property
    def name(self) -> str:
        """The setting that turns this file on (``report``, ``summary``, ``junit``)."""
        ...

    def render(self, result: RunResult) -> str: ...


def report_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) every report of :class:`JsonReporter` validates against."""
    text = resources.files("bookstack_sync").joinpath("data/report.schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


@dataclass(frozen=True)
class JsonReporter:
    """The whole run as one JSON document (``schema_version`` 1, see ``data/report.schema.json``)."""

    name: str = "report"

    def render(self, result: RunResult) -> str:
        return json.dumps(self.document(result), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    def document(self, result: RunResult) -> dict[str, Any]:
        diagnostics = diagnostics_json(result)
        errors, warnings = diagnostic_counts(diagnostics)
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": {"name": "bookstack-sync", "version": __version__},
            "ok": run_ok(result),
            "exit_code": int(result.exit_code),
            "exit_status": ExitCode(result.exit_code).name.lower(),
            "error": result.error,
            "mode": result.mode.value,
            "mode_reason": result.mode_reason,
            "event": result.ci.get("event"),
            "ci": dict(result.ci),
            "bookstack_url": result.bookstack_url,
            "tree": result.tree,
            "settings": result.settings,
            "validation": {
                "pages_checked": result.pages_checked,
                "errors": errors,
                "warnings": warnings,
                "diagnostics": diagnostics,
            },
            "plan": result.plan.to_json() if result.plan is not None else None,
            "outcomes": [self._outcome(o, result.bookstack_url) for o in result.outcomes],
            "outcome_counts": result.outcome_counts(),
            "requests": result.requests,
            "timings": result.timings,
            "messages": list(result.messages),
        }

    @staticmethod
    def _outcome(outcome: Outcome, bookstack_url: str | None) -> dict[str, Any]:
        data = outcome.to_json()
        if data.get("url") is None:
            data["url"] = page_link(bookstack_url, outcome.action.entity, data.get("id"))
        return data


def record_validation(result: RunResult, validation: Validation, seconds: float) -> None:
    """What the reports say about a validation: its diagnostics, the pages checked, how long it took."""
    result.timings["validate"] = round(seconds, 3)
    result.diagnostics = list(validation.diagnostics)
    result.pages_checked = len(validation.tree.pages) if validation.tree else 0
    result.page_paths = sorted(validation.tree.page_files) if validation.tree else []


def write_validation_junit(
    validation: Validation, settings: Settings, env: Mapping[str, str], seconds: float
) -> list[str]:
    """The JUnit XML of a validation alone (``junit`` set), for the commands whose other reports are their
    own: validate, export and pull. Returns the paths written."""
    if settings.junit is None:
        return []
    result = RunResult(RunMode.VALIDATE, "validation", settings.redacted())
    record_validation(result, validation, seconds)
    only_junit = replace(settings, report=None, summary=None)
    return write_reports(result, only_junit, workspace_of(env), pages=result.page_paths)


def _targets(settings: Settings, pages: Sequence[str]) -> list[tuple[Reporter, Path]]:
    targets: list[tuple[Reporter, Path]] = []
    if settings.report is not None:
        targets.append((JsonReporter(), settings.report))
    if settings.summary is not None:
        targets.append((MarkdownSummary(), settings.summary))
    if settings.junit is not None:
        targets.append((JUnitReporter(pages=tuple(pages)), settings.junit))
    return targets


def write_reports(result: RunResult, settings: Settings, workspace: Path, *, pages: Sequence[str] = ()) -> list[str]:
    """Render and write every enabled report file; return the paths written.

    Relative paths resolve against ``workspace`` (``CI_WORKSPACE``, else the current directory).
    A file is written only after it rendered, through a temporary file renamed into place, so a
    reader never sees half a report. A refused write (a root-owned or read-only workspace — the
    plugin runs as uid 1000) is logged as a warning and does not change the exit code.
    ``pages`` are the page keys that were checked, for the JUnit cases of clean pages.
    """
    written: list[str] = []
    for reporter, configured in _targets(settings, pages):
        text = reporter.render(result)
        path = configured if configured.is_absolute() else workspace / configured
        try:
            _write_atomically(path, text)
        except OSError as exc:
            log.warning(
                "could not write the %s file %s: %s (the run's result is unchanged; "
                "point the `%s` setting at a writable place, or set it to `off`)",
                reporter.name,
                path,
                exc.strerror or exc,
                reporter.name,
            )
            continue
        written.append(str(path))
    return written


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(text)
        # mkstemp creates 0600; a report is for the next step, which may run as another user
        os.chmod(temp_name, 0o644)
        os.replace(temp_name, path)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise
