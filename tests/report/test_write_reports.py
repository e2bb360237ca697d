"""Writing the report files: where they go, only after rendering, atomically, and never failing the run."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import pytest

from bookstack_sync.report import files as report
from bookstack_sync.report.files import write_reports
from bookstack_sync.settings import load_settings
from tests.privileges import python_without_file_override

from .conftest import PAGE, plan_result, validate_only


def settings(**env: str):  # type: ignore[no-untyped-def]
    return load_settings({}, env)


def test_default_files_land_in_the_workspace(tmp_path: Path) -> None:
    written = write_reports(plan_result(), settings(), tmp_path)
    assert written == [str(tmp_path / "bookstack-sync-report.json"), str(tmp_path / "bookstack-sync-summary.md")]
    assert json.loads((tmp_path / "bookstack-sync-report.json").read_text())["mode"] == "plan"
    assert (tmp_path / "bookstack-sync-summary.md").read_text().startswith("## ✅")
    assert not (tmp_path / "junit.xml").exists()


def test_empty_settings_turn_files_off_and_junit_is_opt_in(tmp_path: Path) -> None:
    env = {"PLUGIN_REPORT": "", "PLUGIN_SUMMARY": "", "PLUGIN_JUNIT": "out/junit.xml"}
    written = write_reports(validate_only(), settings(**env), tmp_path, pages=(PAGE,))
    assert written == [str(tmp_path / "out" / "junit.xml")]
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["junit.xml"]
    assert f'name="{PAGE}"' in (tmp_path / "out" / "junit.xml").read_text()


def test_absolute_paths_are_kept(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "r.json"
    written = write_reports(plan_result(), settings(PLUGIN_REPORT=str(target), PLUGIN_SUMMARY=""), tmp_path / "ws")
    assert written == [str(target)] and target.is_file()


def test_files_are_readable_by_the_next_step_and_no_temp_files_remain(tmp_path: Path) -> None:
    write_reports(plan_result(), settings(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bookstack-sync-report.json", "bookstack-sync-summary.md"]
    assert (tmp_path / "bookstack-sync-report.json").stat().st_mode & 0o777 == 0o644


def test_a_refused_write_is_a_warning_and_the_other_files_are_still_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # the parent of the report is a file: the write fails with a real OSError, even as root
    (tmp_path / "blocked").write_text("not a directory")
    env = {"PLUGIN_REPORT": "blocked/report.json"}
    with caplog.at_level(logging.WARNING, logger="bookstack_sync"):
        written = write_reports(plan_result(), settings(**env), tmp_path)
    assert written == [str(tmp_path / "bookstack-sync-summary.md")]
    assert "could not write the report file" in caplog.text and "`report` setting" in caplog.text


def test_a_root_owned_workspace_does_not_change_the_outcome(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def refuse(*args: object, **kwargs: object) -> tuple[int, str]:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", refuse)
    result = plan_result()
    with caplog.at_level(logging.WARNING, logger="bookstack_sync"):
        assert write_reports(result, settings(), tmp_path) == []
    assert "Permission denied" in caplog.text
    assert int(result.exit_code) == 0
    assert list(tmp_path.iterdir()) == []


def test_a_read_only_workspace_is_tolerated(tmp_path: Path) -> None:
    # in a child without root's override of file modes: CI runs as root
    tmp_path.chmod(0o555)
    code = (
        "from tests.report.conftest import plan_result\n"
        "from tests.report.test_write_reports import settings\n"
        "from bookstack_sync.report.files import write_reports\n"
        f"print(write_reports(plan_result(), settings(), __import__('pathlib').Path({str(tmp_path)!r})))\n"
    )
    try:
        done = python_without_file_override(code)
    finally:
        tmp_path.chmod(0o755)
    assert (done.returncode, done.stdout) == (0, "[]\n"), done.stderr
    assert "Permission denied" in done.stderr  # said as a warning
    assert list(tmp_path.iterdir()) == []


def test_a_report_that_fails_to_render_leaves_the_previous_file_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    previous = tmp_path / "bookstack-sync-report.json"
    previous.write_text('{"old": true}')

    def broken(self: object, result: object) -> str:
        raise RuntimeError("bug in a reporter")

    monkeypatch.setattr(report.JsonReporter, "render", broken)
    with pytest.raises(RuntimeError):
        write_reports(plan_result(), settings(), tmp_path)
    assert previous.read_text() == '{"old": true}'
    assert [p.name for p in tmp_path.iterdir()] == ["bookstack-sync-report.json"]


def test_an_existing_report_is_replaced_whole(tmp_path: Path) -> None:
    (tmp_path / "bookstack-sync-report.json").write_text("x" * 100_000)
    write_reports(plan_result(), settings(PLUGIN_SUMMARY=""), tmp_path)
    json.loads((tmp_path / "bookstack-sync-report.json").read_text())


def test_ci_context_keeps_only_the_variables_that_are_set() -> None:
    ci = report.ci_context(
        {"CI_PIPELINE_EVENT": "push", "CI_REPO": "acme/handbook", "CI_COMMIT_TAG": "", "PATH": "/bin"}
    )
    assert ci == {"event": "push", "repo": "acme/handbook"}
