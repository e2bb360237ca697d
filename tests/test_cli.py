"""The command line through a real process: `python -m bookstack_sync` and the `bookstack-sync`
console script. Exit codes, output formats, `schema`, `paths`, the bare plugin entrypoint, and never
a traceback."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from tests.fake_bookstack.serving import serve_in_thread, stop_serving
from tests.validation.conftest import STRUCTURE_REL, Docs, clean_docs, page_text

EXAMPLES = Path(__file__).resolve().parents[1] / "examples" / "docs"
CONSOLE_SCRIPT = Path(sys.executable).parent / "bookstack-sync"
LAUNCHERS = {
    "module": [sys.executable, "-m", "bookstack_sync"],
    "console-script": [str(CONSOLE_SCRIPT)],
}
DIAGNOSTIC_LINE = re.compile(
    r"^(?P<path>[^:]+?)(?::(?P<line>\d+))?: (?P<severity>error|warning) \[(?P<rule>[a-z-]+)\] .+$"
)
SUMMARY_LINE = re.compile(r"^\d+ pages checked: \d+ error\(s\), \d+ warning\(s\)$")


def run(
    *args: str, env: dict[str, str] | None = None, cwd: Path | None = None, launcher: str = "module"
) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("PLUGIN_", "CI_", "BOOKSTACK_"))}
    environment.update(env or {})
    result = subprocess.run(
        [*LAUNCHERS[launcher], *args],
        capture_output=True,
        text=True,
        env=environment,
        cwd=cwd,
        timeout=120,
        check=False,
    )
    assert "Traceback" not in result.stderr, result.stderr
    assert "internal error" not in result.stderr, result.stderr
    return result


@pytest.fixture
def docs(tmp_path: Path) -> Docs:
    return clean_docs(tmp_path / "docs")


def test_console_script_is_installed_next_to_the_interpreter() -> None:
    assert CONSOLE_SCRIPT.is_file()


# --- exit codes ------------------------------------------------------------------------------------


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_clean_tree_exits_0(docs: Docs, launcher: str) -> None:
    result = run("validate", "--docs-dir", str(docs.root), launcher=launcher)
    assert result.returncode == 0
    assert result.stdout == "4 pages checked: 0 error(s), 0 warning(s)\n"


def test_warnings_exit_0_but_1_under_strict(docs: Docs) -> None:
    docs.write("eng/guide/setup/01-install.md", page_text("setup", 1, colour="red"))
    assert run("validate", "--docs-dir", str(docs.root)).returncode == 0
    strict = run("validate", "--docs-dir", str(docs.root), "--strict")
    assert strict.returncode == 1
    assert "warning [field-unknown]" in strict.stdout
    assert run("validate", "--docs-dir", str(docs.root), env={"PLUGIN_STRICT": "true"}).returncode == 1
    # the flag beats the variable
    assert run("validate", "--docs-dir", str(docs.root), "--no-strict", env={"PLUGIN_STRICT": "true"}).returncode == 0


def test_max_upload_mb_is_the_limit_files_are_checked_against(docs: Docs) -> None:
    docs.write("eng/guide/setup/01-install.md", page_text("setup", 1, body="Get [the disk](files/disk.img).\n"))
    disk = docs.write("eng/guide/setup/files/disk.img", b"")
    with disk.open("wb") as out:
        out.truncate(60 * 1000 * 1024)  # 60 MB as BookStack counts them (sparse: no space on disk)
    default = run("validate", "--docs-dir", str(docs.root))
    assert default.returncode == 1 and "is 61.4 MB, over the upload limit of 50 MB" in default.stdout
    # a wiki that takes larger files: the setting raises the limit, and lowers it
    assert run("validate", "--docs-dir", str(docs.root), env={"PLUGIN_MAX_UPLOAD_MB": "100"}).returncode == 0
    lower = run("validate", "--docs-dir", str(docs.root), env={"PLUGIN_MAX_UPLOAD_MB": "55"})
    assert lower.returncode == 1 and "over the upload limit of 55 MB (setting `max_upload_mb`" in lower.stdout


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_errors_exit_1(docs: Docs, launcher: str) -> None:
    docs.write("eng/guide/setup/01-install.md", page_text("notes", 1))
    result = run("validate", "--docs-dir", str(docs.root), launcher=launcher)
    assert result.returncode == 1
    assert "eng/guide/setup/01-install.md:4: error [category-mismatch]" in result.stdout


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["validate", "--no-such-flag"], {}, "unknown option --no-such-flag"),
        (["validate", "--format", "xml"], {}, "invalid choice"),
        (["frobnicate"], {}, "invalid choice"),
        (["validate", "--structure", "missing.yaml"], {}, "structure file not found"),
        (["validate"], {"PLUGIN_STRICT": "ture"}, "PLUGIN_STRICT"),
        (["validate"], {"PLUGIN_CONCURRENCY": "0"}, "PLUGIN_CONCURRENCY"),
        (["validate"], {"PLUGIN_DOCS_DIRR": "docs"}, "unknown setting"),
        (["validate", "--ignore", "[oops"], {}, "setting `ignore` from --ignore: looks like a JSON list"),
        (["validate", "--concurrency", "4"], {}, "--concurrency is not used by `validate`"),
    ],
)
def test_usage_errors_exit_2(docs: Docs, args: list[str], env: dict[str, str], words: str) -> None:
    result = run(*args, env={"PLUGIN_DOCS_DIR": str(docs.root), **env}, cwd=docs.root.parent)
    assert result.returncode == 2
    assert words in result.stderr
    assert result.stderr.startswith(("bookstack-sync: error:", "usage:"))


def test_missing_docs_dir_exits_2(tmp_path: Path) -> None:
    result = run("validate", "--docs-dir", str(tmp_path / "missing"))
    assert result.returncode == 2
    assert "docs directory not found" in result.stderr


def test_version_and_help(docs: Docs) -> None:
    assert run("--version").stdout.startswith("bookstack-sync ")
    assert "validate" in run("--help").stdout
    assert run("validate", "--help").returncode == 0


# --- output formats ------------------------------------------------------------------------------


def _plant_mixed_mistakes(docs: Docs) -> None:
    docs.write("README.md", "# not a page\n")
    docs.write("eng/guide/setup/01-install.md", page_text("setup", 1, colour="red", status="done"))
    docs.remove("eng/guide/setup/02-configure.md")
    docs.write("eng/guide/notes/02-bad.md", b"")


def test_text_output_format_sorted_with_summary(docs: Docs) -> None:
    _plant_mixed_mistakes(docs)
    result = run("validate", "--docs-dir", str(docs.root))
    assert result.returncode == 1
    *lines, summary = result.stdout.splitlines()
    assert SUMMARY_LINE.match(summary)
    # 3 pages readable: 02-configure is gone and 02-bad is empty
    assert summary == "3 pages checked: 4 error(s), 1 warning(s)"
    matches = [DIAGNOSTIC_LINE.match(line) for line in lines]
    assert all(matches), lines
    found = [(m["path"], m["line"], m["severity"], m["rule"]) for m in matches if m]
    assert [f[0] for f in found] == sorted(f[0] for f in found)
    assert found == [
        ("README.md", None, "error", "not-in-hierarchy"),
        (STRUCTURE_REL, "14", "error", "page-missing"),
        ("eng/guide/notes/02-bad.md", "1", "error", "empty-file"),
        ("eng/guide/setup/01-install.md", "8", "warning", "field-unknown"),
        ("eng/guide/setup/01-install.md", "9", "error", "field-value"),
    ]


def test_json_output_parses(docs: Docs) -> None:
    _plant_mixed_mistakes(docs)
    result = run("validate", "--docs-dir", str(docs.root), "--format", "json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["errors"] == 4 and report["warnings"] == 1 and report["pages"] == 3
    first = report["diagnostics"][0]
    assert first == {
        "path": "README.md",
        "line": None,
        "rule": "not-in-hierarchy",
        "severity": "error",
        "message": first["message"],
    }
    assert run("validate", "--docs-dir", str(docs.root), env={"PLUGIN_FORMAT": "json"}).stdout.startswith("{")


def test_json_output_of_a_clean_tree(docs: Docs) -> None:
    report = json.loads(run("validate", "--docs-dir", str(docs.root), "--format", "json").stdout)
    assert report == {"diagnostics": [], "pages": 4, "errors": 0, "warnings": 0, "strict": False, "failed": False}


# --- schema and paths ----------------------------------------------------------------------------------


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_schema_prints_a_valid_2020_12_schema(launcher: str) -> None:
    result = run("schema", "--docs-dir", str(EXAMPLES), launcher=launcher)
    assert result.returncode == 0
    schema = json.loads(result.stdout)
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert "engineering/dev-guide/getting-started/01-prerequisites.md" in schema["properties"]
    assert any(p.startswith("^engineering/architecture/overview/") for p in schema["patternProperties"])


def test_schema_of_a_broken_structure_reports_it(docs: Docs) -> None:
    docs.write(STRUCTURE_REL, "structure:\n  - shelf:\n      slug: eng\n")
    result = run("schema", "--docs-dir", str(docs.root))
    assert result.returncode == 1
    assert result.stdout == ""
    assert f"{STRUCTURE_REL}:2: error [structure-schema]" in result.stderr


def test_paths_list() -> None:
    result = run("paths", "--docs-dir", str(EXAMPLES))
    assert result.returncode == 0
    lines = result.stdout.splitlines()
    root = EXAMPLES.as_posix()
    assert f"{root}/engineering/dev-guide/getting-started/01-prerequisites.md    (category: getting-started)" in lines
    assert f"{root}/engineering/dev-guide/01-overview.md    (category: dev-guide)" in lines
    assert f"{root}/engineering/architecture/overview/NN-*.md    (category: overview)" in lines
    # books without `pages` take any well-named book-level page too
    assert f"{root}/engineering/architecture/NN-*.md    (category: architecture)" in lines
    assert len(lines) == 24  # 21 listed pages, one chapter and two books without a list


def test_paths_list_by_category() -> None:
    result = run("paths", "--docs-dir", str(EXAMPLES), "--format", "list", "--category", "emergency")
    assert result.returncode == 0
    assert [line.split()[0].rsplit("/", 1)[1] for line in result.stdout.splitlines()] == [
        "01-incident-response.md",
        "02-database-failover.md",
    ]
    assert run("paths", "--docs-dir", str(EXAMPLES), "--category", "no-such").stdout == ""


def test_paths_tree() -> None:
    result = run("paths", "--docs-dir", str(EXAMPLES), "--format", "tree")
    assert result.returncode == 0
    text = result.stdout
    assert text.startswith(f"{EXAMPLES.as_posix()}/\n  engineering/    # shelf: Engineering Documentation\n")
    assert "    dev-guide/    # book: Development Guide\n      01-overview.md\n" in text
    assert "      getting-started/    # chapter: Getting Started\n        01-prerequisites.md\n" in text
    assert "      overview/    # chapter: Overview\n        NN-*.md\n" in text
    # a book without `pages` takes any well-named book-level page, as `--format list` says
    assert "    architecture/    # book: Architecture\n      NN-*.md\n" in text


def test_paths_tree_by_category_keeps_only_that_folder() -> None:
    text = run("paths", "--docs-dir", str(EXAMPLES), "--format", "tree", "--category", "tools").stdout
    assert "tools/    # chapter: Tools" in text and "01-accounts-and-access.md" in text
    assert "01-welcome.md" not in text and "getting-started/" not in text


# --- the plugin entrypoint ------------------------------------------------------------------------


@pytest.mark.parametrize("launcher", sorted(LAUNCHERS))
def test_bare_command_validates_from_plugin_variables(tmp_path: Path, launcher: str) -> None:
    result = run(env={"PLUGIN_DOCS_DIR": str(EXAMPLES)}, cwd=tmp_path, launcher=launcher)
    assert result.returncode == 0, result.stdout + result.stderr


def test_bare_command_fails_on_invalid_docs(docs: Docs) -> None:
    docs.write("eng/guide/setup/01-install.md", page_text("notes", 1))
    result = run(env={"PLUGIN_DOCS_DIR": str(docs.root)}, cwd=docs.root.parent)
    assert result.returncode == 1
    assert "category-mismatch" in result.stdout + result.stderr


def test_bare_command_with_a_bad_variable_exits_2(tmp_path: Path) -> None:
    result = run(env={"PLUGIN_DOCS_DIR": str(EXAMPLES), "PLUGIN_STRICT": "ture"}, cwd=tmp_path)
    assert result.returncode == 2
    assert "PLUGIN_STRICT" in result.stderr


def test_example_tree_is_clean_under_strict() -> None:
    result = run("validate", "--docs-dir", str(EXAMPLES), "--strict")
    assert (result.returncode, result.stdout) == (0, "23 pages checked: 0 error(s), 0 warning(s)\n")


class _RefusingBookStack(http.server.BaseHTTPRequestHandler):
    """Answers every request as BookStack does a token it does not know (401, its JSON error shape)."""

    def do_GET(self) -> None:
        body = json.dumps({"error": {"code": 401, "message": "The given token is not valid"}}).encode()
        self.send_response(401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def refusing_bookstack() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RefusingBookStack)
    thread = serve_in_thread(server, "refusing-bookstack")
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        stop_serving(server, thread)


@pytest.mark.parametrize("command", ["export", "pull"])
def test_a_bookstack_failure_reaches_the_one_error_boundary_with_its_hint(
    command: str, docs: Docs, refusing_bookstack: str, tmp_path: Path
) -> None:
    """export and pull do not print their own failure: cli.main shows the message and BookStack's hint, exit 3."""
    docs_dir = str(tmp_path / "exported") if command == "export" else str(docs.root)
    env = {"BOOKSTACK_URL": refusing_bookstack, "BOOKSTACK_TOKEN_ID": "id", "BOOKSTACK_TOKEN_SECRET": "s3cr3t-value"}
    result = run(command, "--docs-dir", docs_dir, env=env, cwd=tmp_path)
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert "bookstack-sync: error:" in result.stderr
    assert "bookstack-sync: hint:" in result.stderr
    assert "s3cr3t-value" not in result.stderr + result.stdout
