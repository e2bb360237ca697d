"""Flags that mean what they say (issue 20): each subcommand shows and accepts the settings it reads, a
flag it would ignore is an error that says so, misspellings get a suggestion, `--junit` works wherever
a report is written."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bookstack_sync import cli
from bookstack_sync.cli import COMMAND_SETTINGS, build_parser, main
from bookstack_sync.settings import SETTINGS, Settings
from tests.validation.conftest import Docs, clean_docs

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "docs"
# what a command needs on its line before a setting flag can be judged (a required choice)
REQUIRED: dict[str, list[str]] = {"migrate": ["--analyze"]}


@pytest.fixture
def docs(tmp_path: Path) -> Docs:
    return clean_docs(tmp_path / "docs")


def _help(command: str, capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    return capsys.readouterr().out


def test_every_setting_belongs_to_a_command_and_run_takes_them_all() -> None:
    names = {spec.name for spec in SETTINGS}
    assert set(COMMAND_SETTINGS) == set(cli._COMMANDS)
    assert COMMAND_SETTINGS["run"] == names
    for command, used in COMMAND_SETTINGS.items():
        assert used <= names, command


def test_validate_help_shows_only_what_validate_reads(capsys: pytest.CaptureFixture[str]) -> None:
    text = _help("validate", capsys)
    for flag in ("--docs-dir", "--structure", "--ignore", "--strict", "--format", "--junit"):
        assert flag in text
    for flag in ("--url", "--prune", "--forge-token", "--token-secret", "--mode", "--report", "--summary"):
        assert flag not in text


@pytest.mark.parametrize("command", sorted(COMMAND_SETTINGS))
def test_each_command_shows_the_flags_of_its_settings(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    text = _help(command, capsys)
    for spec in SETTINGS:
        shown = f"  {spec.flag}" in text
        # a command's own option of the same name (`paths --format`, `migrate --report`) is not the setting
        if spec.name not in COMMAND_SETTINGS[command]:
            assert not shown or command in ("paths", "migrate"), (command, spec.flag)
        elif command not in ("paths", "migrate"):
            assert shown, (command, spec.flag)


def _ignored() -> Iterator[tuple[str, str]]:
    for command, used in sorted(COMMAND_SETTINGS.items()):
        for spec in SETTINGS:
            if spec.name not in used:
                yield command, spec.flag


@pytest.mark.parametrize(("command", "flag"), list(_ignored()))
def test_a_flag_the_command_would_ignore_is_an_error(
    command: str, flag: str, docs: Docs, capsys: pytest.CaptureFixture[str]
) -> None:
    value = [] if any(s.flag == flag and s.kind.value == "boolean" for s in SETTINGS) else ["1"]
    argv = [command, *REQUIRED.get(command, []), "--docs-dir", str(docs.root), flag, *value]
    assert main(argv, environ={}) == 2
    err = capsys.readouterr().err
    if f"{flag} is not used by `{command}`" not in err:
        # a command's own option of that name (migrate --report, paths --format) answers for it
        assert command in ("paths", "migrate") and "error:" in err, err


def test_a_setting_before_the_command_name_is_checked_too(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--url", "https://wiki.example.org", "validate", "--docs-dir", str(docs.root)], environ={}) == 2
    err = capsys.readouterr().err
    assert "--url is not used by `validate` (it is a setting of run, plan, sync, export, pull)" in err


def test_validate_junit_writes_the_file(docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "out" / "validate.xml"
    target.parent.mkdir()
    docs.write("eng/guide/setup/NOTES.md", "scratch\n")
    assert main(["validate", "--docs-dir", str(docs.root), "--junit", str(target)], environ={}) == 1
    assert f"wrote {target}" in capsys.readouterr().err
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    assert cases["eng/guide/setup/NOTES.md"].find("failure") is not None
    assert "eng/guide/setup/01-install.md" in cases  # a clean page is a passing case
    assert not (tmp_path / "bookstack-sync-report.json").exists()


def test_validate_junit_from_the_environment_works_the_same(
    docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"PLUGIN_JUNIT": "junit.xml", "CI_WORKSPACE": str(tmp_path)}
    assert main(["validate", "--docs-dir", str(docs.root)], environ=env) == 0
    assert ET.parse(tmp_path / "junit.xml").getroot().tag == "testsuites"


def test_pull_junit_writes_the_validation_it_stopped_on(
    docs: Docs, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # pull validates before it asks BookStack anything: a tree it refuses still gets its JUnit XML
    target = tmp_path / "pull.xml"
    docs.write("eng/guide/setup/NOTES.md", "scratch\n")
    argv = ["pull", "--docs-dir", str(docs.root), "--junit", str(target), "--url", "http://127.0.0.1:9"]
    assert main(argv, environ={"CI_WORKSPACE": str(tmp_path)}) == 1
    assert f"junit: {target}" in capsys.readouterr().out
    suite = ET.parse(target).getroot().find("testsuite")
    assert suite is not None and suite.get("failures") == "1"


@pytest.mark.parametrize(
    ("argv", "hint"),
    [
        (["validate", "--docs-dirr", "docs"], "did you mean --docs-dir?"),
        (["validate", "--strickt"], "did you mean --strict?"),
        (["sync", "--prune-limt", "5"], "did you mean --prune-limit?"),
        (["valdate"], "did you mean validate?"),
        (["validate", "--format", "jsn"], "did you mean json?"),
    ],
)
def test_a_misspelled_flag_gets_a_suggestion(argv: list[str], hint: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv, environ={}) == 2
    assert f"bookstack-sync: hint: {hint}" in capsys.readouterr().err


def test_a_misspelled_plugin_variable_gets_a_suggestion(docs: Docs, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--docs-dir", str(docs.root)], environ={"PLUGIN_DOCS_DIRR": "docs"}) == 2
    err = capsys.readouterr().err
    assert "unknown setting `docs_dirr` (PLUGIN_DOCS_DIRR); did you mean `docs_dir` (PLUGIN_DOCS_DIR)?" in err
    assert "known settings:" not in err
    # nothing close: the list of known settings instead
    assert main(["validate", "--docs-dir", str(docs.root)], environ={"PLUGIN_COLOUR": "red"}) == 2
    assert "unknown setting `colour` (PLUGIN_COLOUR); known settings: docs_dir, structure," in capsys.readouterr().err


class _Recording:
    """Settings that note which of them a command reads."""

    def __init__(self, settings: Settings, read: set[str]) -> None:
        self._settings = settings
        self._read = read

    def __getattr__(self, name: str) -> Any:
        self._read.add(name)
        return getattr(self._settings, name)


# properties of Settings and the settings behind them
_BEHIND = {
    "structure_path": {"structure", "docs_dir"},
    "has_token": {"token_id", "token_secret"},
    "verify": {"ca_cert", "insecure"},
    "import_mode": {"import"},
}


@pytest.mark.parametrize(
    ("command", "extra"),
    [
        ("validate", []),
        ("schema", []),
        ("paths", []),
        ("scaffold", ["--dry-run"]),
        ("migrate", ["--analyze"]),
        ("export", []),
        ("pull", []),
    ],
)
def test_a_command_reads_only_the_settings_it_declares(
    command: str, extra: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    read: set[str] = set()
    real = cli.load_settings
    monkeypatch.setattr(cli, "load_settings", lambda flags, env: _Recording(real(flags, env), read))
    docs = EXAMPLES if command != "export" else tmp_path / "new"
    main([command, "--docs-dir", str(docs), *extra], environ={"CI_WORKSPACE": str(tmp_path)})
    capsys.readouterr()
    names = set().union(*(_BEHIND.get(name, {name}) for name in read)) if read else set()
    assert read, "the command read no setting at all: the recording did not work"
    assert names <= COMMAND_SETTINGS[command], names - COMMAND_SETTINGS[command]
