"""The Markdown summary: a verdict first, changes grouped by book with links, long lists folded, never more
than a pull-request comment may hold; the same text is the summary file and the PR comment.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from .. import __version__
from ..docs.diagnostics import Severity
from ..errors import ExitCode
from ..model import Action, ActionKind, Outcome, OutcomeStatus, RunMode, RunResult
from .words import (
    BookGroup,
    T,
    action_note,
    diagnostic_counts,
    diagnostics_json,
    group_by_book,
    outcome_verdict,
    page_link,
    plan_sentence,
    plan_verdict,
    run_ok,
    validation_counts,
)

_PLAN_WORDS: dict[ActionKind, tuple[str, str]] = {
    # kind -> (emoji, verb)
    ActionKind.CREATE: ("🆕", "create"),
    ActionKind.UPDATE: ("✏️", "update"),
    ActionKind.REORDER: ("↕️", "reorder"),
    ActionKind.MOVE: ("➡️", "move"),
    ActionKind.ADOPT: ("🔗", "adopt"),
    ActionKind.CLAIM: ("🏷️", "claim"),
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
    OutcomeStatus.CLAIMED: "🏷️",
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
    It names the docs tree's id, so two plugin steps in one pull request (two docs folders, or one folder
    published under two ``tree`` settings) keep a comment each. Before the tree is known: the older form."""
    if result.tree:
        return _marker(f"tree {result.tree}")
    return docs_dir_marker(result)


def docs_dir_marker(result: RunResult) -> str:
    """The marker of versions before tree ids (one per ``docs_dir``): a comment holding it is taken over
    by the first tree of that folder that comments, then carries that tree's marker."""
    return _marker(str(result.settings.get("docs_dir") or "docs"))


def _marker(name: str) -> str:
    # `--` would end the HTML comment early (and `>` a tolerant parser's)
    return f"<!-- bookstack-sync summary: {re.sub(r'-{2,}|>', '-', name)} -->"


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
        mark = "✅" if run_ok(result) else "❌"
        word = _EXIT_WORDS.get(ExitCode(result.exit_code), "failed")
        prefix = f"bookstack-sync {result.mode.value}" + ("" if run_ok(result) else f" ({word})")
        return f"## {mark} {prefix}: {self._verdict(result)}"

    @staticmethod
    def _verdict(result: RunResult) -> str:
        # a sync that found nothing to do without planning (the probe saw no change) has no outcomes
        no_op = result.mode in (RunMode.SYNC, RunMode.FULL) and result.plan is not None and not result.plan.actions
        if result.outcomes or no_op:
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
        if result.tree:
            bits.append(f"tree {_code(result.tree)}")
        return [" · ".join(bits)]

    @staticmethod
    def _footer(result: RunResult) -> str:
        bits = [f"bookstack-sync {__version__}", f"exit code {int(result.exit_code)}"]
        if result.ci.get("pipeline_url"):
            bits.append(f"[pipeline log]({result.ci['pipeline_url']})")
        return f"<sub>{' · '.join(bits)}</sub>"

    def _validation(self, result: RunResult) -> list[str]:
        diagnostics = diagnostics_json(result)
        errors, warnings = diagnostic_counts(diagnostics)
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
