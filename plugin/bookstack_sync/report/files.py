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
import re
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from .. import __version__
from ..docs.diagnostics import Severity
from ..errors import ExitCode
from ..model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, RunMode, RunResult
from ..settings import Settings

__all__ = [
    "REPORT_SCHEMA_VERSION",
    "JUnitReporter",
    "JsonReporter",
    "MarkdownSummary",
    "Reporter",
    "ci_context",
    "page_link",
    "plan_sentence",
    "report_schema",
    "summary_marker",
    "validation_counts",
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


# --- shared helpers -------------------------------------------------------------------------------


def _diagnostic_json(diagnostic: Any) -> dict[str, Any]:
    if isinstance(diagnostic, Mapping):
        return dict(diagnostic)
    data: dict[str, Any] = diagnostic.to_json()
    return data


def _diagnostics(result: RunResult) -> list[dict[str, Any]]:
    return [_diagnostic_json(d) for d in result.diagnostics]


def _counts(diagnostics: Iterable[Mapping[str, Any]]) -> tuple[int, int]:
    errors = warnings = 0
    for d in diagnostics:
        if d.get("severity") == Severity.ERROR.value:
            errors += 1
        else:
            warnings += 1
    return errors, warnings


def validation_counts(result: RunResult) -> tuple[int, int]:
    """(errors, warnings) among the run's diagnostics."""
    return _counts(_diagnostics(result))


def _ok(result: RunResult) -> bool:
    return result.exit_code == ExitCode.OK


def page_link(bookstack_url: str | None, entity: EntityKind, remote_id: int | None) -> str | None:
    """A stable link to a BookStack page by id (``/link/<id>`` survives renames and moves)."""
    if not bookstack_url or remote_id is None or entity is not EntityKind.PAGE:
        return None
    return f"{bookstack_url.rstrip('/')}/link/{remote_id}"


# --- JSON -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class JsonReporter:
    """The whole run as one JSON document (``schema_version`` 1, see ``data/report.schema.json``)."""

    name: str = "report"

    def render(self, result: RunResult) -> str:
        return json.dumps(self.document(result), indent=2, ensure_ascii=False, sort_keys=False) + "\n"

    def document(self, result: RunResult) -> dict[str, Any]:
        diagnostics = _diagnostics(result)
        errors, warnings = _counts(diagnostics)
        return {
            "schema_version": REPORT_SCHEMA_VERSION,
            "tool": {"name": "bookstack-sync", "version": __version__},
            "ok": _ok(result),
            "exit_code": int(result.exit_code),
            "exit_status": ExitCode(result.exit_code).name.lower(),
            "error": result.error,
            "mode": result.mode.value,
            "mode_reason": result.mode_reason,
            "event": result.ci.get("event"),
            "ci": dict(result.ci),
            "bookstack_url": result.bookstack_url,
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


# --- changes in words (shared with the log) ----------------------------------------------------------

_PLURAL = {kind: "shelves" if kind is EntityKind.SHELF else f"{kind.value}s" for kind in EntityKind}

T = TypeVar("T")


def book_of(key: str) -> str:
    """The shelf/book a source key belongs to: ``engineering/dev-guide/x/01-a.md`` → ``engineering/dev-guide``."""
    parts = [p for p in key.split("/") if p]
    return "/".join(parts[:2]) if parts else "(root)"


def group_by_book(items: Iterable[T], key: Callable[[T], str], unchanged: Callable[[T], bool]) -> list[BookGroup[T]]:
    """The changed items grouped by book (sorted by key, each group in its original order), with how many
    unchanged items each group holds. Books where nothing changes are left out: they are only counted."""
    changed: dict[str, list[T]] = {}
    still: Counter[str] = Counter()
    for item in items:
        book = book_of(key(item))
        if unchanged(item):
            still[book] += 1
        else:
            changed.setdefault(book, []).append(item)
    return [BookGroup(book, tuple(changed[book]), still[book]) for book in sorted(changed)]


@dataclass(frozen=True)
class BookGroup(Generic[T]):
    book: str  # the shelf/book key
    items: tuple[T, ...]  # what changes in it
    unchanged: int  # how many of its objects stay as they are


def _counted(count: int, entity: EntityKind) -> str:
    return f"{count} {entity.value if count == 1 else _PLURAL[entity]}"


_READING_ORDER = (
    EntityKind.PAGE,
    EntityKind.CHAPTER,
    EntityKind.BOOK,
    EntityKind.SHELF,
    EntityKind.IMAGE,
    EntityKind.ATTACHMENT,
)


def _per_entity(entities: Iterable[EntityKind], singular: str, plural: str) -> list[str]:
    """``["7 pages, 2 books change"]``, ``["1 page moves"]``, or nothing: pages first, as a reader cares."""
    counts = Counter(entities)
    if not counts:
        return []
    listed = ", ".join(_counted(counts[entity], entity) for entity in _READING_ORDER if counts[entity])
    return [f"{listed} {singular if sum(counts.values()) == 1 else plural}"]


def plan_verdict(actions: Sequence[Action]) -> str:
    """One line a reviewer reads first: ``3 pages change, 1 page moves, nothing deleted``."""
    if not any(a.kind.writes or a.drifted or a.kind is ActionKind.ORPHAN for a in actions):
        return "nothing to change: BookStack already matches the docs"
    changing = [a.entity for a in actions if a.kind.writes and a.kind not in (ActionKind.MOVE, ActionKind.DELETE)]
    parts = _per_entity(changing, "changes", "change")
    parts += _per_entity((a.entity for a in actions if a.kind is ActionKind.MOVE), "moves", "move")
    deleting = sum(1 for a in actions if a.kind is ActionKind.DELETE)
    parts.append(f"{deleting} to delete" if deleting else "nothing deleted")
    drifted = sum(1 for a in actions if a.drifted)
    if drifted:
        parts.append(f"{drifted} edited in BookStack")
    orphans = sum(1 for a in actions if a.kind is ActionKind.ORPHAN)
    if orphans:
        parts.append(f"{orphans} orphan{'s' if orphans != 1 else ''} (source gone, kept)")
    return ", ".join(parts)


def outcome_verdict(outcomes: Sequence[Outcome]) -> str:
    """The same line after a sync: ``3 pages changed, 1 page moved, nothing deleted, 1 failed``."""
    status = Counter(o.status for o in outcomes)
    if not set(status) - {OutcomeStatus.UNCHANGED, OutcomeStatus.SKIPPED}:
        return "nothing changed: BookStack already matched the docs"
    changed = [o.action.entity for o in outcomes if o.status in _CHANGED]
    parts = _per_entity(changed, "changed", "changed")
    parts += _per_entity((o.action.entity for o in outcomes if o.status is OutcomeStatus.MOVED), "moved", "moved")
    if not parts and not status[OutcomeStatus.DELETED]:
        parts.append("nothing changed")
    deleted = status[OutcomeStatus.DELETED]
    parts.append(f"{deleted} deleted" if deleted else "nothing deleted")
    drifted = sum(1 for o in outcomes if o.action.drifted and o.status is not OutcomeStatus.FAILED)
    if drifted:
        parts.append(f"{drifted} edited in BookStack")
    if status[OutcomeStatus.ORPHAN]:
        parts.append(f"{status[OutcomeStatus.ORPHAN]} orphan{'s' if status[OutcomeStatus.ORPHAN] != 1 else ''} kept")
    if status[OutcomeStatus.FAILED]:
        parts.append(f"**{status[OutcomeStatus.FAILED]} failed**")
    if status[OutcomeStatus.NOT_ATTEMPTED]:
        parts.append(f"**{status[OutcomeStatus.NOT_ATTEMPTED]} not attempted**")
    return ", ".join(parts)


_CHANGED = {OutcomeStatus.CREATED, OutcomeStatus.UPDATED, OutcomeStatus.ADOPTED}


def action_note(action: Action) -> str:
    """What changes and why, after the key: ``(content, tags) — from a/b to a/c``."""
    note = f" ({', '.join(action.changes)})" if action.changes else ""
    if action.detail:
        note += f" — {action.detail}"
    return note


# --- Markdown -------------------------------------------------------------------------------------

_PLAN_WORDS: dict[ActionKind, tuple[str, str]] = {
    # kind -> (emoji, verb)
    ActionKind.CREATE: ("🆕", "create"),
    ActionKind.UPDATE: ("✏️", "update"),
    ActionKind.REORDER: ("↕️", "reorder"),
    ActionKind.MOVE: ("➡️", "move"),
    ActionKind.ADOPT: ("🔗", "adopt"),
    ActionKind.DELETE: ("🗑️", "delete"),
    ActionKind.ORPHAN: ("❓", "orphan"),
    ActionKind.DRIFT: ("⚠️", "drift"),
    ActionKind.SKIP: ("⏭️", "skip"),
    ActionKind.UNCHANGED: ("", "unchanged"),
}

_OUTCOME_MARKS: dict[OutcomeStatus, str] = {
    OutcomeStatus.FAILED: "❌",
    OutcomeStatus.NOT_ATTEMPTED: "⏸️",
    OutcomeStatus.DRIFT: "⚠️",
    OutcomeStatus.CREATED: "🆕",
    OutcomeStatus.UPDATED: "✏️",
    OutcomeStatus.MOVED: "➡️",
    OutcomeStatus.ADOPTED: "🔗",
    OutcomeStatus.DELETED: "🗑️",
    OutcomeStatus.ORPHAN: "❓",
    OutcomeStatus.SKIPPED: "⏭️",
    OutcomeStatus.UNCHANGED: "",
}
_OUTCOME_ORDER = {status: rank for rank, status in enumerate(_OUTCOME_MARKS)}

_EXIT_WORDS: dict[ExitCode, str] = {
    ExitCode.OK: "ok",
    ExitCode.INVALID_DOCS: "docs invalid",
    ExitCode.USAGE: "settings error",
    ExitCode.SYNC_FAILED: "sync failed",
    ExitCode.INTERNAL: "internal error",
}

COMMENT_LIMIT = 65_536
"""GitHub's limit on a comment body, in characters (UTF-16 code units); the tightest of the forges."""


def summary_marker(result: RunResult) -> str:
    """The hidden line every summary ends with; the forge module finds its pull-request comment by it.
    It names the docs tree, so two plugin steps (two trees) in one pull request keep a comment each."""
    docs_dir = str(result.settings.get("docs_dir") or "docs")
    return f"<!-- bookstack-sync summary: {re.sub(r'-{2,}|>', '-', docs_dir)} -->"


def comment_length(text: str) -> int:
    """Length as GitHub counts it: UTF-16 code units, so an emoji counts two."""
    return len(text.encode("utf-16-le")) // 2


def _code(text: str) -> str:
    """``text`` as a Markdown code span, whatever backticks it holds."""
    fence = "`"
    while fence in text:
        fence += "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _escape(text: str) -> str:
    """Plain text safe inside a Markdown list item (no accidental links, emphasis or HTML).

    Backticks are kept when they pair up: the validator's messages quote field names as code.
    """
    specials = "\\*_[]<>|" if text.count("`") % 2 == 0 else "\\`*_[]<>|"
    parts = text.split("`") if "`" not in specials else [text]
    for index, part in enumerate(parts):
        if index % 2 == 0:  # outside a code span
            for char in specials:
                part = part.replace(char, "\\" + char)
            parts[index] = part
    return "`".join(parts).replace("\n", " ")


@dataclass(frozen=True)
class MarkdownSummary:
    """The summary file, which is also the pull-request comment: a one-line verdict in the title, the
    changes grouped by book with links to BookStack, long lists folded in ``<details>``, a link back to
    the pipeline, and never more than ``max_chars`` (GitHub's comment limit) — cut with a note saying so.
    The JSON report has everything.
    """

    name: str = "summary"
    max_chars: int = COMMENT_LIMIT
    fold_after: int = 20  # change lines shown open; a longer list is folded
    max_diagnostics: int = 200

    def render(self, result: RunResult) -> str:
        head = [self._title(result), "", *self._context(result), ""]
        if result.error:
            head += [f"**Stopped:** {_escape(result.error)}", ""]
        body = self._validation(result)
        if result.outcomes:
            body += self._changes(result)
        elif result.plan is not None and result.mode is not RunMode.VALIDATE:
            body += self._plan(result)
        tail: list[str] = []
        if result.messages:
            tail += ["### Notes", ""]
            tail += [f"- {_escape(message)}" for message in result.messages]
            tail.append("")
        tail += [self._footer(result), summary_marker(result)]
        return self._fit(head, body, tail)

    def _fit(self, head: list[str], body: list[str], tail: list[str]) -> str:
        """Join the parts, cutting the body (never the verdict or the footer) to stay within ``max_chars``."""
        text = "\n".join([*head, *body, *tail]) + "\n"
        if comment_length(text) <= self.max_chars:
            return text
        kept: list[str] = []
        folded = False
        budget = self.max_chars - comment_length("\n".join([*head, *tail]) + "\n") - 400  # the note and closing tags
        for line in body:
            cost = comment_length(line) + 1
            if cost > budget:
                break
            budget -= cost
            kept.append(line)
            folded = (folded or line.startswith("<details>")) and line != "</details>"
        left = sum(1 for line in body[len(kept) :] if line.startswith("- "))
        note = (
            f"✂️ **Cut here:** {left} more line(s) not shown — a comment holds at most {self.max_chars:,} "
            "characters. The JSON report (`report` setting) has everything."
        )
        closing = ["", "</details>"] if folded else []
        return "\n".join([*head, *kept, *closing, "", note, "", *tail]) + "\n"

    def _title(self, result: RunResult) -> str:
        mark = "✅" if _ok(result) else "❌"
        word = _EXIT_WORDS.get(ExitCode(result.exit_code), "failed")
        prefix = f"bookstack-sync {result.mode.value}" + ("" if _ok(result) else f" ({word})")
        return f"## {mark} {prefix}: {self._verdict(result)}"

    @staticmethod
    def _verdict(result: RunResult) -> str:
        if result.outcomes:
            return outcome_verdict(result.outcomes)
        if result.plan is not None and result.mode is not RunMode.VALIDATE:
            return plan_verdict(result.plan.actions)
        errors, warnings = validation_counts(result)
        return f"{result.pages_checked} pages checked, {errors} error(s), {warnings} warning(s)"

    @staticmethod
    def _context(result: RunResult) -> list[str]:
        ci = result.ci
        bits = [f"Mode **{result.mode.value}** ({_escape(result.mode_reason)})"]
        if ci.get("commit"):
            commit = _code(ci["commit"][:10])
            if ci.get("forge_url"):
                commit = f"[{commit}]({ci['forge_url']})"
            bits.append(f"commit {commit}")
        if ci.get("pipeline_url"):
            number = f" #{ci['pipeline_number']}" if ci.get("pipeline_number") else ""
            bits.append(f"[pipeline{number}]({ci['pipeline_url']})")
        if result.bookstack_url:
            bits.append(f"wiki {result.bookstack_url}")
        return [" · ".join(bits)]

    @staticmethod
    def _footer(result: RunResult) -> str:
        bits = [f"bookstack-sync {__version__}", f"exit code {int(result.exit_code)}"]
        if result.ci.get("pipeline_url"):
            bits.append(f"[pipeline log]({result.ci['pipeline_url']})")
        return f"<sub>{' · '.join(bits)}</sub>"

    def _validation(self, result: RunResult) -> list[str]:
        diagnostics = _diagnostics(result)
        errors, warnings = _counts(diagnostics)
        summary = f"{result.pages_checked} pages checked: **{errors}** error(s), **{warnings}** warning(s)."
        if not diagnostics:
            return [summary, ""]
        lines = ["### Validation", "", summary, ""]
        # errors before warnings, each group in path/line order as the validator sorted them
        ordered = [d for d in diagnostics if d.get("severity") == Severity.ERROR.value]
        ordered += [d for d in diagnostics if d.get("severity") != Severity.ERROR.value]
        for diagnostic in ordered[: self.max_diagnostics]:
            where = diagnostic.get("path", "?")
            if diagnostic.get("line"):
                where = f"{where}:{diagnostic['line']}"
            lines.append(
                f"- {diagnostic.get('severity', 'error')} {_code(where)} [{diagnostic.get('rule', '')}] "
                f"{_escape(str(diagnostic.get('message', '')))}"
            )
        if len(ordered) > self.max_diagnostics:
            lines.append(f"- …and {len(ordered) - self.max_diagnostics} more (see the JSON report)")
        lines.append("")
        return lines

    def _plan(self, result: RunResult) -> list[str]:
        assert result.plan is not None
        groups = group_by_book(result.plan.actions, lambda a: a.key, lambda a: a.kind is ActionKind.UNCHANGED)
        lines = ["### Plan", "", plan_sentence(result.plan.actions), ""]
        lines += self._grouped(groups, lambda action: self._action_line(action, result.bookstack_url))
        if result.plan.notes:
            lines += [f"> {_escape(note)}" for note in result.plan.notes]
            lines.append("")
        return lines

    def _changes(self, result: RunResult) -> list[str]:
        # failures first, then drift, then the writes in apply order
        ordered = sorted(result.outcomes, key=lambda o: _OUTCOME_ORDER[o.status])
        groups = group_by_book(ordered, lambda o: o.action.key, lambda o: o.status is OutcomeStatus.UNCHANGED)
        lines = ["### Changes", ""]
        lines += self._grouped(groups, lambda outcome: self._outcome_line(outcome, result.bookstack_url))
        return lines

    def _grouped(self, groups: Sequence[BookGroup[T]], line: Callable[[T], str]) -> list[str]:
        count = sum(len(group.items) for group in groups)
        lines: list[str] = []
        for group in groups:
            still = f" · {group.unchanged} unchanged" if group.unchanged else ""
            lines += [f"**{_code(group.book)}**{still}", ""]
            lines += [f"- {line(item)}" for item in group.items]
            lines.append("")
        if count <= self.fold_after:
            return lines
        # a shelf's own changes (its books, its name) are grouped under the shelf's key: not a book
        books = sum(1 for group in groups if "/" in group.book)
        places = [f"{books} book{'s' if books != 1 else ''}"] if books else []
        if len(groups) - books:
            places.append(
                f"{len(groups) - books} shelf" if len(groups) - books == 1 else f"{len(groups) - books} shelves"
            )
        return [
            "<details>",
            f"<summary>{count} changes in {' and '.join(places)} (click to show)</summary>",
            "",
            *lines,
            "</details>",
            "",
        ]

    @staticmethod
    def _target(key: str, url: str | None) -> str:
        return f"[{_code(key)}]({url})" if url else _code(key)

    def _action_line(self, action: Action, bookstack_url: str | None) -> str:
        symbol, verb = _PLAN_WORDS[action.kind]
        target = self._target(action.key, page_link(bookstack_url, action.entity, action.remote_id))
        return f"{symbol} {verb} {action.entity.value} {target}{_escape(action_note(action))}"

    def _outcome_line(self, outcome: Outcome, bookstack_url: str | None) -> str:
        action = outcome.action
        remote_id = outcome.remote_id if outcome.remote_id is not None else action.remote_id
        url = outcome.url or page_link(bookstack_url, action.entity, remote_id)
        line = f"{_OUTCOME_MARKS[outcome.status]} {outcome.status.value} {action.entity.value} {self._target(action.key, url)}"
        if outcome.error:
            return f"{line}: {_escape(outcome.error)}"
        if outcome.status is OutcomeStatus.CREATED:
            return line
        return line + _escape(action_note(action))


def plan_sentence(actions: Sequence[Action]) -> str:
    """``Plan: 3 to create, 2 to update, 1 to move, 0 to delete.`` (+ drift/orphans/skips when any)."""
    kinds = Counter(action.kind for action in actions)
    update = kinds[ActionKind.UPDATE] + kinds[ActionKind.REORDER] + kinds[ActionKind.ADOPT]
    text = (
        f"Plan: {kinds[ActionKind.CREATE]} to create, {update} to update, "
        f"{kinds[ActionKind.MOVE]} to move, {kinds[ActionKind.DELETE]} to delete."
    )
    extra = [
        f"{kinds[kind]} {word}"
        for kind, word in (
            (ActionKind.DRIFT, "drifted"),
            (ActionKind.ORPHAN, "orphaned"),
            (ActionKind.SKIP, "skipped"),
            (ActionKind.UNCHANGED, "unchanged"),
        )
        if kinds[kind]
    ]
    return text + (f" ({', '.join(extra)})" if extra else "")


# --- JUnit ----------------------------------------------------------------------------------------

_STRUCTURE_CASE = "structure"


@dataclass(frozen=True)
class JUnitReporter:
    """Validation results as JUnit XML: one test case for the structure file and one per page.

    Errors fail a case (warnings too under ``strict``); other warnings go to the case's ``system-out``.
    ``pages`` names the pages that were checked, so a clean page still shows as a passing case;
    pages named by the plan or by a diagnostic are added to it.
    """

    name: str = "junit"
    pages: tuple[str, ...] = ()

    def render(self, result: RunResult) -> str:
        diagnostics = _diagnostics(result)
        strict = bool(result.settings.get("strict"))
        structure_path = str(result.settings.get("structure") or "structure")
        by_case: dict[str, list[dict[str, Any]]] = {}
        by_case[structure_path] = []
        for page in self._page_keys(result):
            by_case.setdefault(page, [])
        for diagnostic in diagnostics:
            rule = str(diagnostic.get("rule", ""))
            case_name = structure_path if rule.startswith("structure-") else str(diagnostic.get("path", "?"))
            by_case.setdefault(case_name, []).append(diagnostic)

        suites = ET.Element("testsuites", name="bookstack-sync")
        suite = ET.SubElement(suites, "testsuite", name="bookstack-sync validate")
        failures = 0
        for case_name, found in by_case.items():
            classname = _STRUCTURE_CASE if case_name == structure_path else _classname(case_name)
            testcase = ET.SubElement(suite, "testcase", classname=classname, name=case_name, time="0")
            failing = [d for d in found if d.get("severity") == Severity.ERROR.value or strict]
            passing = [d for d in found if d not in failing]
            if failing:
                failures += 1
                first = failing[0]
                failure = ET.SubElement(
                    testcase,
                    "failure",
                    message=f"{len(failing)} problem(s): {first.get('message', '')}",
                    type=str(first.get("rule", "validation")),
                )
                failure.text = "\n".join(_diagnostic_text(d) for d in failing)
            if passing:
                ET.SubElement(testcase, "system-out").text = "\n".join(_diagnostic_text(d) for d in passing)
        total = len(by_case)
        seconds = result.timings.get("validate", sum(result.timings.values()))
        for element in (suites, suite):
            element.set("tests", str(total))
            element.set("failures", str(failures))
            element.set("errors", "0")
            element.set("time", f"{seconds:.3f}")
        suite.set("skipped", "0")
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"

    def _page_keys(self, result: RunResult) -> list[str]:
        keys = list(self.pages)
        if result.plan is not None:
            keys += [a.key for a in result.plan.actions if a.entity is EntityKind.PAGE]
        return sorted(dict.fromkeys(keys))


def _classname(path: str) -> str:
    """``engineering.dev-guide.getting-started`` for a page in that folder (JUnit UIs group by it)."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return folder.replace("/", ".") or "docs"


def _diagnostic_text(diagnostic: Mapping[str, Any]) -> str:
    where = str(diagnostic.get("path", "?"))
    if diagnostic.get("line"):
        where += f":{diagnostic['line']}"
    return f"{where}: {diagnostic.get('severity')} [{diagnostic.get('rule')}] {diagnostic.get('message')}"


# --- writing --------------------------------------------------------------------------------------


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
