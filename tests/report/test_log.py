"""The stderr log: header, one progress line per action, colour rules, plan format, redaction."""

from __future__ import annotations

import io
import logging

import pytest

from bookstack_sync.errors import ExitCode
from bookstack_sync.model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Plan, RunMode
from bookstack_sync.report.log import (
    RunLog,
    configure_logging,
    format_header,
    format_plan,
    format_progress,
    format_summary,
    use_colour,
)

from .conftest import PAGE, plan_result, sync_with_failures


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_header_names_version_mode_and_why() -> None:
    assert (
        format_header(RunMode.PLAN, "CI_PIPELINE_EVENT=pull_request")
        == "bookstack-sync 0.1.0 — mode: plan (CI_PIPELINE_EVENT=pull_request)"
    )


def test_progress_is_one_plain_line_per_action_never_a_carriage_return() -> None:
    stream = io.StringIO()
    log = RunLog(stream)
    action = Action(ActionKind.UPDATE, EntityKind.PAGE, PAGE, "Prerequisites", 7)
    for done in range(1, 1001):
        log.progress(done, 1000, Outcome(action, OutcomeStatus.UPDATED, 7))
    text = stream.getvalue()
    assert "\r" not in text and "\x1b" not in text
    lines = text.splitlines()
    assert len(lines) == 1000
    assert lines[119] == f"[ 120/1000] updated {PAGE}"


def test_progress_names_non_pages_and_failure_reasons() -> None:
    book = Action(ActionKind.CREATE, EntityKind.BOOK, "engineering/dev-guide", "Dev guide")
    line = format_progress(3, 10, Outcome(book, OutcomeStatus.FAILED, error="403 from BookStack:\nno permission"))
    assert line == "[ 3/10] failed book engineering/dev-guide: 403 from BookStack: no permission"


@pytest.mark.parametrize(
    ("environ", "tty", "expected"),
    [
        ({}, False, False),
        ({}, True, True),
        ({"FORCE_COLOR": "1"}, False, True),
        ({"FORCE_COLOR": "0"}, False, False),
        ({"NO_COLOR": "1"}, True, False),
        ({"NO_COLOR": ""}, True, False),  # any value, even empty
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, True, False),
    ],
)
def test_colour_rules(environ: dict[str, str], tty: bool, expected: bool) -> None:
    assert use_colour(Tty() if tty else io.StringIO(), environ) is expected


def test_colour_when_forced_and_plain_when_no_color() -> None:
    outcome = Outcome(Action(ActionKind.CREATE, EntityKind.PAGE, PAGE, "P"), OutcomeStatus.CREATED, 1)
    forced = io.StringIO()
    RunLog.for_run({"FORCE_COLOR": "1"}, stream=forced).progress(1, 1, outcome)
    assert "\x1b[32mcreated\x1b[0m" in forced.getvalue()
    plain = Tty()
    RunLog.for_run({"NO_COLOR": "1"}, stream=plain).progress(1, 1, outcome)
    assert plain.getvalue() == f"[1/1] created {PAGE}\n"


def test_plan_is_grouped_by_shelf_and_book_with_one_line_per_action() -> None:
    text = format_plan(plan_result().plan)  # type: ignore[arg-type]
    lines = text.splitlines()
    dev = lines.index("engineering/dev-guide")
    assert lines[dev + 1 : dev + 6] == [
        "  + create book engineering/dev-guide",
        f"  + create page {PAGE}",
        "  ~ update page engineering/dev-guide/setup.md (content, tags)",
        "  > move page engineering/dev-guide/howto/02-b.md (parent) — from engineering/old to engineering/dev-guide/howto",
        "  = 1 unchanged",
    ]
    ops = lines.index("ops/runbooks")
    assert lines[ops + 1 : ops + 5] == [
        "  - delete page ops/runbooks/gone.md",
        "  ! drift page ops/runbooks/edited.md — edited in BookStack",
        "  ? orphan page ops/runbooks/old.md",
        "  = 1 unchanged",
    ]
    assert lines[-1] == "Plan: 2 to create, 1 to update, 1 to move, 1 to delete. (1 drifted, 1 orphaned, 2 unchanged)"


def test_books_without_changes_are_counted_not_listed() -> None:
    # 60 books of unchanged pages around one change: one group, one count line, one Plan line
    actions = [
        Action(ActionKind.UNCHANGED, EntityKind.PAGE, f"shelf/book-{b:02}/0{p}-page.md", "x", b * 10 + p)
        for b in range(60)
        for p in range(1, 4)
    ]
    actions.append(Action(ActionKind.UPDATE, EntityKind.PAGE, "shelf/book-07/09-new.md", "New", 999, ("content",)))
    lines = format_plan(Plan(tuple(actions))).splitlines()
    assert lines[:4] == [
        "shelf/book-07",
        "  ~ update page shelf/book-07/09-new.md (content)",
        "  = 3 unchanged",
        "",
    ]
    assert sum("unchanged" in line for line in lines) == 2  # the book's count and the Plan line
    assert [line for line in lines if line.startswith("Plan:")] == [
        "Plan: 0 to create, 1 to update, 0 to move, 0 to delete. (180 unchanged)"
    ]


def test_a_rename_shows_old_and_new() -> None:
    rename = Action(
        ActionKind.UPDATE, EntityKind.PAGE, "s/b/01-new.md", "New title", 5, ("name",), "“Old title” → “New title”"
    )
    assert "  ~ update page s/b/01-new.md (name) — “Old title” → “New title”" in format_plan(Plan((rename,)))


def test_an_empty_plan_says_there_is_nothing_to_do() -> None:
    unchanged = tuple(Action(ActionKind.UNCHANGED, EntityKind.PAGE, f"s/b/{i}.md", "x", i) for i in range(3))
    text = format_plan(Plan(unchanged))
    assert text.splitlines() == [
        "No changes: BookStack already matches the docs.",
        "Plan: 0 to create, 0 to update, 0 to move, 0 to delete. (3 unchanged)",
    ]


def test_drift_alone_is_not_called_no_changes() -> None:
    drift = Action(ActionKind.DRIFT, EntityKind.PAGE, "s/b/01-a.md", "A", 3, (), "edited in BookStack by Ana")
    assert "No changes" not in format_plan(Plan((drift,)))


def test_the_closing_summary_does_not_repeat_the_plan_line() -> None:
    assert "Plan:" not in format_summary(plan_result())


def test_summary_names_counts_requests_and_exit_code() -> None:
    stream = io.StringIO()
    RunLog(stream).summary(sync_with_failures())
    text = stream.getvalue()
    assert "Applied: 2 created, 1 moved, 1 unchanged, 1 deleted, 1 drift, 1 failed." in text
    assert "17 request(s) to BookStack" in text
    assert "exit 3 (BookStack or sync failure): 1 of 6 changes failed" in text


def test_warning_level_hides_progress_but_not_failures_or_a_failed_summary() -> None:
    stream = io.StringIO()
    log = RunLog(stream, level="warning")
    action = Action(ActionKind.UPDATE, EntityKind.PAGE, PAGE, "P", 7)
    log.header(RunMode.SYNC, "CI_PIPELINE_EVENT=push")
    log.progress(1, 2, Outcome(action, OutcomeStatus.UPDATED, 7))
    log.progress(2, 2, Outcome(action, OutcomeStatus.FAILED, error="boom"))
    result = sync_with_failures()
    log.summary(result)
    lines = stream.getvalue().splitlines()
    assert lines[0] == f"[2/2] failed {PAGE}: boom"
    assert any(line.startswith("exit 3") for line in lines)
    result.exit_code = ExitCode.OK
    quiet = io.StringIO()
    RunLog(quiet, level="warning").summary(result)
    assert quiet.getvalue() == ""


SECRET = "Zq8sEcReT0123456789"
TOKEN_ID = "AbCtOkEnId42"


def test_debug_shows_requests_and_never_the_token() -> None:
    stream = io.StringIO()
    configure_logging("debug", stream, secrets=(TOKEN_ID, SECRET))
    client_log = logging.getLogger("bookstack_sync.bookstack")
    client_log.debug("GET %s -> %s", "/api/pages?count=500", 200)
    client_log.debug("headers: %s", {"Authorization": f"Token {TOKEN_ID}:{SECRET}", "Accept": "application/json"})
    client_log.debug("Authorization: Token other-id:other-secret")
    client_log.warning("retrying with secret %s", SECRET)
    try:
        raise ValueError(f"bad token {TOKEN_ID}:{SECRET}")
    except ValueError:
        client_log.exception("request failed")
    text = stream.getvalue()
    assert "debug: GET /api/pages?count=500 -> 200" in text
    assert SECRET not in text and TOKEN_ID not in text and "other-secret" not in text
    assert "Token ***:***" in text and "warning: retrying with secret ***" in text


def test_info_level_hides_the_requests() -> None:
    stream = io.StringIO()
    configure_logging("info", stream)
    logging.getLogger("bookstack_sync.bookstack").debug("GET /api/pages")
    logging.getLogger("bookstack_sync.bookstack").info("rate limited: waiting 2s")
    assert stream.getvalue() == "rate limited: waiting 2s\n"


def test_configuring_twice_does_not_double_the_lines() -> None:
    stream = io.StringIO()
    configure_logging("info", stream)
    configure_logging("info", stream)
    logging.getLogger("bookstack_sync").info("once")
    assert stream.getvalue() == "once\n"


def test_the_token_is_redacted_for_other_handlers_too(caplog: pytest.LogCaptureFixture) -> None:
    # e.g. a root handler from logging.basicConfig, or pytest's capture
    configure_logging("debug", io.StringIO(), secrets=(TOKEN_ID, SECRET))
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("bookstack_sync.bookstack").debug("auth %s", f"Token {TOKEN_ID}:{SECRET}")
    assert SECRET not in caplog.text and TOKEN_ID not in caplog.text
    assert "Token ***:***" in caplog.text
