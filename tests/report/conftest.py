"""Run results of the kinds a user meets: validate-only with findings, a PR plan, a sync with failures."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from bookstack_sync.docs.diagnostics import Rule, error, warning
from bookstack_sync.errors import ExitCode
from bookstack_sync.model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Plan, RunMode, RunResult
from bookstack_sync.settings import load_settings

WIKI = "https://wiki.example.org"
PAGE = "engineering/dev-guide/getting-started/01-prerequisites.md"
CI = {
    "event": "pull_request",
    "repo": "acme/handbook",
    "commit": "0123456789abcdef0123456789abcdef01234567",
    "pipeline_number": "42",
    "pipeline_url": "https://ci.example.org/repos/7/pipeline/42",
    "forge_url": "https://git.example.org/acme/handbook/pulls/5",
}


def redacted_settings(**env: str) -> dict[str, object]:
    environ = {"PLUGIN_TOKEN_ID": "tok-id-123", "PLUGIN_TOKEN_SECRET": "s3cr3t-value", "PLUGIN_URL": WIKI, **env}
    return load_settings({}, environ).redacted()


def validate_only() -> RunResult:
    return RunResult(
        mode=RunMode.VALIDATE,
        mode_reason="mode setting",
        settings=redacted_settings(PLUGIN_MODE="validate"),
        ci={"event": "push", "repo": "acme/handbook"},
        diagnostics=[
            error("bookstack/bookstack-structure.yaml", 3, Rule.STRUCTURE_SCHEMA, "shelves[0]: 'slug' is required"),
            error(PAGE, 2, Rule.FIELD_REQUIRED, "frontmatter field `title` is required"),
            warning("engineering/dev-guide/readme.md", None, Rule.FILE_NAME, "expected NN-name.md"),
        ],
        pages_checked=3,
        timings={"validate": 0.25},
        exit_code=ExitCode.INVALID_DOCS,
    )


def plan_actions() -> tuple[Action, ...]:
    return (
        Action(ActionKind.CREATE, EntityKind.BOOK, "engineering/dev-guide", "Developer guide"),
        Action(ActionKind.CREATE, EntityKind.PAGE, PAGE, "Prerequisites"),
        Action(ActionKind.UPDATE, EntityKind.PAGE, "engineering/dev-guide/setup.md", "Setup", 12, ("content", "tags")),
        Action(
            ActionKind.MOVE,
            EntityKind.PAGE,
            "engineering/dev-guide/howto/02-b.md",
            "B",
            13,
            ("parent",),
            "from engineering/old to engineering/dev-guide/howto",
        ),
        Action(ActionKind.DELETE, EntityKind.PAGE, "ops/runbooks/gone.md", "Gone", 14),
        Action(ActionKind.DRIFT, EntityKind.PAGE, "ops/runbooks/edited.md", "Edited", 15, (), "edited in BookStack"),
        Action(ActionKind.ORPHAN, EntityKind.PAGE, "ops/runbooks/old.md", "Old", 16),
        Action(ActionKind.UNCHANGED, EntityKind.PAGE, "engineering/dev-guide/index.md", "Index", 17),
        Action(ActionKind.UNCHANGED, EntityKind.PAGE, "ops/runbooks/01-a.md", "A", 18),
    )


def plan_result() -> RunResult:
    return RunResult(
        mode=RunMode.PLAN,
        mode_reason="CI_PIPELINE_EVENT=pull_request",
        settings=redacted_settings(),
        ci=dict(CI),
        diagnostics=[warning("ops/runbooks/01-a.md", 1, Rule.LINE_ENDINGS, "CRLF line endings")],
        pages_checked=6,
        plan=Plan(plan_actions(), notes=("book engineering/dev-guide goes by ZIP import",)),
        requests={"total": 5, "reads": 5, "writes": 0, "by_endpoint": {"GET /api/pages": 5}},
        timings={"validate": 0.1, "snapshot": 0.4, "plan": 0.01},
        bookstack_url=WIKI,
        exit_code=ExitCode.OK,
    )


def sync_with_failures() -> RunResult:
    actions = plan_actions()
    outcomes = [
        Outcome(actions[0], OutcomeStatus.CREATED, 3, f"{WIKI}/books/developer-guide"),
        Outcome(actions[1], OutcomeStatus.CREATED, 101, f"{WIKI}/books/developer-guide/page/prerequisites"),
        Outcome(actions[2], OutcomeStatus.FAILED, error="422 from BookStack: the name field is required"),
        Outcome(actions[3], OutcomeStatus.MOVED, 13),
        Outcome(actions[4], OutcomeStatus.DELETED, 14),
        Outcome(actions[5], OutcomeStatus.DRIFT, 15),
        Outcome(actions[7], OutcomeStatus.UNCHANGED, 17),
    ]
    return RunResult(
        mode=RunMode.SYNC,
        mode_reason="CI_PIPELINE_EVENT=push",
        settings=redacted_settings(),
        ci={**CI, "event": "push", "branch": "main"},
        pages_checked=6,
        plan=Plan(actions),
        outcomes=outcomes,
        requests={"total": 17, "reads": 9, "writes": 8, "by_endpoint": {"GET /api/pages": 9, "PUT /api/pages/{id}": 8}},
        timings={"validate": 0.1, "snapshot": 0.4, "plan": 0.01, "apply": 2.5},
        messages=["the token's role cannot edit shelves; shelf order left alone"],
        bookstack_url=WIKI,
        exit_code=ExitCode.SYNC_FAILED,
        error="1 of 6 changes failed",
    )


@pytest.fixture(params=["validate_only", "plan", "sync_with_failures"])
def any_result(request: pytest.FixtureRequest) -> RunResult:
    return {"validate_only": validate_only, "plan": plan_result, "sync_with_failures": sync_with_failures}[
        request.param
    ]()


@pytest.fixture(autouse=True)
def _restore_package_logger() -> Iterator[None]:
    """configure_logging() changes the package logger; leave it as we found it for other suites."""
    saved = []
    for name in ("bookstack_sync", "bookstack_sync.bookstack"):
        logger = logging.getLogger(name)
        saved.append((logger, list(logger.handlers), list(logger.filters), logger.level, logger.propagate))
    yield
    for logger, handlers, filters, level, propagate in saved:
        logger.handlers[:] = handlers
        logger.filters[:] = filters
        logger.setLevel(level)
        logger.propagate = propagate
