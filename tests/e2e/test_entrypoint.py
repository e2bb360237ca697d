"""The real entrypoint as Woodpecker runs it: the console script, only PLUGIN_*/CI_* variables, a workspace.

Every exit code, every report file and the pull_request / push / manual behaviour, checked from outside
the process.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest

from bookstack_sync.report.files import report_schema
from tests.bookstack_target import BookStackTarget

from .conftest import Docs, Plugin, Run

SCRIPT = Path(sys.executable).with_name("bookstack-sync")


def report(docs: Docs) -> dict[str, object]:
    data = json.loads((docs.root / "report.json").read_text(encoding="utf-8"))
    jsonschema.validate(data, report_schema())
    return data


def test_push_syncs_and_writes_every_report_file(plugin: Plugin, docs: Docs) -> None:
    run = plugin.subprocess("push", junit=str(docs.root / "junit.xml"))
    assert run.exit_code == 0, run.err
    data = report(docs)
    assert data["mode"] == "sync" and data["exit_code"] == 0
    assert "CI_PIPELINE_EVENT=push" in str(data["mode_reason"])
    summary = (docs.root / "summary.md").read_text(encoding="utf-8")
    assert "created" in summary
    cases = ET.parse(docs.root / "junit.xml").getroot().iter("testcase")
    assert sum(1 for _ in cases) >= 7
    assert "mode: sync" in run.err and "Traceback" not in run.err


def test_pull_request_plans_without_writing(plugin: Plugin, bookstack: BookStackTarget, docs: Docs) -> None:
    run = plugin.subprocess("pull_request")
    assert run.exit_code == 0, run.err
    data = report(docs)
    assert data["mode"] == "plan"
    assert data["outcomes"] == []
    plan = data["plan"]
    assert isinstance(plan, dict) and plan["counts"].get("create", 0) >= 16
    if bookstack.fake is not None:
        assert bookstack.fake.content_writes() == []


def test_pull_request_without_token_still_validates(plugin: Plugin, docs: Docs) -> None:
    docs.path("eng/guide/practice/01-style.md").write_text("---\ntitle: x\n---\n")
    run = plugin.subprocess("pull_request", token_id="", token_secret="")
    assert run.exit_code == 1
    data = report(docs)
    assert data["exit_code"] == 1 and data["mode"] == "plan"
    assert "field-required" in (docs.root / "summary.md").read_text(encoding="utf-8")


def test_manual_run_is_a_full_resync(plugin: Plugin, docs: Docs) -> None:
    assert plugin.subprocess("push").exit_code == 0
    run = plugin.subprocess("manual")
    assert run.exit_code == 0, run.err
    data = report(docs)
    assert data["mode"] == "full"
    requests = data["requests"]
    assert isinstance(requests, dict)
    reads = requests["by_endpoint"]
    # the content of every page is read: by book export (v25.07+) or one page at a time
    assert reads.get("GET /api/books/{id}/export/zip", 0) >= 1 or reads.get("GET /api/pages/{id}", 0) >= 7


def test_exit_2_for_a_bad_setting(plugin: Plugin) -> None:
    run = plugin.subprocess("push", on_drift="sometimes")
    assert run.exit_code == 2
    assert "on_drift" in run.err and "Traceback" not in run.err


def test_exit_3_when_bookstack_is_unreachable(plugin: Plugin, docs: Docs) -> None:
    run = plugin.subprocess("push", url="http://127.0.0.1:9", timeout="2")
    assert run.exit_code == 3, run.err
    assert "Traceback" not in run.err
    assert report(docs)["exit_code"] == 3


def test_exit_3_when_the_token_is_refused(plugin: Plugin, docs: Docs) -> None:
    run = plugin.subprocess("push", token_secret="wrong-secret")
    assert run.exit_code == 3
    assert "token" in run.err.lower() and "wrong-secret" not in run.err


def test_exit_4_for_an_internal_error_asks_for_a_report(plugin: Plugin, tmp_path: Path) -> None:
    # A bug is simulated by breaking one stage in the child process; everything else is the real program.
    code = (
        "import sys, bookstack_sync.commands.sync as run\n"
        "def boom(*a, **k):\n    raise KeyError('simulated bug')\n"
        "run.build_desired = boom\n"
        "from bookstack_sync.cli import main\nsys.exit(main([]))\n"
    )
    env = {"PATH": "/usr/bin:/bin", **plugin.environ("push")}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 4
    assert "Traceback" in done.stderr and "Please report it" in done.stderr


@pytest.mark.parametrize("event", ["tag", "release", "deployment", "cron"])
def test_other_events_sync(plugin: Plugin, docs: Docs, event: str) -> None:
    run: Run = plugin.subprocess(event)
    assert run.exit_code == 0, run.err
    assert report(docs)["mode"] == "sync"


def test_console_script_is_the_entrypoint() -> None:
    assert SCRIPT.exists()
    done = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("bookstack-sync ")
