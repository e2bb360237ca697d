"""The JSON report: one document a later step can read, valid against the published schema."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from bookstack_sync import __version__
from bookstack_sync.check.validate import validate_docs
from bookstack_sync.errors import ExitCode
from bookstack_sync.model import ActionKind, EntityKind, OutcomeStatus, RunMode, RunResult
from bookstack_sync.report.files import JsonReporter, report_schema
from bookstack_sync.settings import load_settings

from .conftest import PAGE, WIKI, plan_result, sync_with_failures, validate_only


def render(result: object) -> dict:
    return json.loads(JsonReporter().render(result))  # type: ignore[arg-type]


def test_the_published_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = report_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


def test_every_kind_of_report_validates_against_the_schema(any_result: object) -> None:
    validator = Draft202012Validator(report_schema())
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(render(any_result))]
    assert errors == []


def test_the_schema_rejects_a_report_that_leaks_a_token() -> None:
    document = render(plan_result())
    document["settings"]["token_secret"] = "s3cr3t-value"
    assert not Draft202012Validator(report_schema()).is_valid(document)


def test_the_schema_names_every_status_kind_and_entity_the_plugin_can_write() -> None:
    defs = report_schema()["$defs"]
    assert set(defs["actionFields"]["properties"]["kind"]["enum"]) == {k.value for k in ActionKind}
    assert set(defs["actionFields"]["properties"]["entity"]["enum"]) == {e.value for e in EntityKind}
    assert set(defs["outcome"]["properties"]["status"]["enum"]) == {s.value for s in OutcomeStatus}
    assert set(report_schema()["properties"]["mode"]["enum"]) == {m.value for m in RunMode}


def test_report_names_version_mode_reason_event_and_pipeline() -> None:
    document = render(plan_result())
    assert document["schema_version"] == 1
    assert document["tool"] == {"name": "bookstack-sync", "version": __version__}
    assert (document["mode"], document["mode_reason"]) == ("plan", "CI_PIPELINE_EVENT=pull_request")
    assert document["event"] == "pull_request"
    assert document["ci"]["pipeline_url"] == "https://ci.example.org/repos/7/pipeline/42"
    assert document["ci"]["commit"].startswith("0123456789")
    assert document["ok"] is True and document["exit_code"] == 0 and document["exit_status"] == "ok"


def test_secrets_never_reach_the_report(any_result: object) -> None:
    text = JsonReporter().render(any_result)  # type: ignore[arg-type]
    assert "s3cr3t-value" not in text and "tok-id-123" not in text
    settings = json.loads(text)["settings"]
    assert settings["token_id"] == settings["token_secret"] == "***"
    assert settings["url"] == WIKI


def test_validation_diagnostics_carry_file_line_and_rule() -> None:
    document = render(validate_only())
    assert document["exit_code"] == 1 and document["exit_status"] == "invalid_docs" and not document["ok"]
    assert document["validation"]["errors"] == 2 and document["validation"]["warnings"] == 1
    assert {
        "path": PAGE,
        "line": 2,
        "rule": "field-required",
        "severity": "error",
        "message": "frontmatter field `title` is required",
    } in document["validation"]["diagnostics"]
    assert document["plan"] is None and document["outcomes"] == []


def test_plan_lists_every_action_with_counts() -> None:
    plan = render(plan_result())["plan"]
    assert len(plan["actions"]) == 9
    assert plan["counts"]["create"] == 2 and plan["counts"]["unchanged"] == 2
    move = next(a for a in plan["actions"] if a["kind"] == "move")
    assert move["id"] == 13 and move["detail"].startswith("from engineering/old")


def test_each_outcome_has_status_bookstack_id_url_and_failure_reason() -> None:
    document = render(sync_with_failures())
    by_key = {o["key"]: o for o in document["outcomes"]}
    created = by_key[PAGE]
    assert (created["status"], created["id"]) == ("created", 101)
    assert created["url"] == f"{WIKI}/books/developer-guide/page/prerequisites"
    failed = by_key["engineering/dev-guide/setup.md"]
    assert failed["status"] == "failed" and "name field is required" in failed["error"]
    # a page with a known id but no URL from the server gets BookStack's stable /link/<id> URL
    assert by_key["ops/runbooks/gone.md"]["url"] == f"{WIKI}/link/14"
    assert document["outcome_counts"] == {
        "created": 2,
        "failed": 1,
        "moved": 1,
        "deleted": 1,
        "drift": 1,
        "unchanged": 1,
    }
    assert document["requests"]["writes"] == 8 and document["timings"]["apply"] == 2.5
    assert document["exit_code"] == 3 and document["error"] == "1 of 6 changes failed"
    assert document["messages"] == ["the token's role cannot edit shelves; shelf order left alone"]


@pytest.mark.parametrize("mode", list(RunMode))
def test_mode_is_reported_as_chosen(mode: RunMode) -> None:
    result = plan_result()
    result.mode = mode
    assert render(result)["mode"] == mode.value


def test_a_report_of_a_real_validation_validates(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "bookstack").mkdir(parents=True)
    (docs / "handbook" / "guide").mkdir(parents=True)
    (docs / "bookstack" / "bookstack-structure.yaml").write_text(
        'structure:\n  - shelf:\n      name: "Handbook"\n      slug: handbook\n      books:\n'
        '        - book:\n            name: "Guide"\n            slug: guide\n            pages: ["01-intro"]\n'
    )
    (docs / "handbook" / "guide" / "01-intro.md").write_text('---\ntitle: "Intro"\norder: 1\n---\n\nHi.\n')
    (docs / "handbook" / "guide" / "stray.md").write_text("no frontmatter\n")
    settings = load_settings({}, {"PLUGIN_DOCS_DIR": str(docs)})
    validation = validate_docs(docs, settings.structure_path)
    result = RunResult(
        mode=RunMode.VALIDATE,
        mode_reason="mode setting (validate)",
        settings=settings.redacted(),
        diagnostics=list(validation.diagnostics),
        pages_checked=len(validation.tree.pages) if validation.tree else 0,
        exit_code=ExitCode.INVALID_DOCS,
    )
    document = render(result)
    assert Draft202012Validator(report_schema()).is_valid(document)
    paths = {d["path"] for d in document["validation"]["diagnostics"]}
    assert "handbook/guide/01-intro.md" in paths and document["validation"]["errors"] >= 1
