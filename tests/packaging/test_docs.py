"""docs.md for Woodpecker's plugin index: frontmatter, the generated settings table, exit codes, examples."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from bookstack_sync.errors import ExitCode
from bookstack_sync.settings import SETTINGS, settings_table_markdown

from .dockerfile import ROOT

DOCS = ROOT / "docs.md"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"


def text() -> str:
    return DOCS.read_text(encoding="utf-8")


def frontmatter() -> dict:  # type: ignore[type-arg]
    match = re.match(r"^---\n(.*?)\n---\n", text(), re.S)
    assert match, "docs.md must start with a YAML frontmatter block"
    data = yaml.safe_load(match.group(1))
    assert isinstance(data, dict)
    return data


def examples() -> list[dict]:  # type: ignore[type-arg]
    blocks = re.findall(r"```yaml\n(.*?)```", text(), re.S)
    parsed = [yaml.safe_load(block) for block in blocks]
    return [p for p in parsed if isinstance(p, dict) and "steps" in p]


def test_frontmatter_has_every_field_the_plugin_index_reads() -> None:
    data = frontmatter()
    for key in ("name", "description", "author", "tags", "containerImage", "containerImageUrl", "url", "icon"):
        assert data.get(key), key
    assert isinstance(data["tags"], list)


def test_settings_table_is_the_generated_one_verbatim() -> None:
    block = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", text(), re.S)
    assert block, "settings markers missing"
    assert block.group(1) == settings_table_markdown()
    for spec in SETTINGS:
        assert f"| `{spec.name}` |" in block.group(1)


def test_update_docs_script_reports_and_fixes_a_stale_table(tmp_path: Path) -> None:
    script = ROOT / "scripts" / "update_docs.py"
    check = subprocess.run([sys.executable, str(script), "--check"], capture_output=True, text=True, timeout=60)
    assert check.returncode == 0, check.stderr
    stale = text().replace("| `docs_dir` |", "| `docs_folder` |")
    (tmp_path / "docs.md").write_text(stale, encoding="utf-8")
    (tmp_path / "README.md").write_text("# Readme\n\n<!-- settings:start -->\nold\n<!-- settings:end -->\n")
    args = [sys.executable, str(script), "--root", str(tmp_path)]
    assert subprocess.run([*args, "--check"], capture_output=True, timeout=60).returncode == 1
    assert subprocess.run(args, capture_output=True, timeout=60).returncode == 0
    assert (tmp_path / "docs.md").read_text(encoding="utf-8") == text()
    assert settings_table_markdown() in (tmp_path / "README.md").read_text(encoding="utf-8")


def test_every_exit_code_is_documented() -> None:
    for code in ExitCode:
        assert re.search(rf"^\| `{int(code)}` \| .+ \|$", text(), re.M), f"exit code {int(code)}"


def test_three_pipeline_examples_push_pull_request_and_manual() -> None:
    events = [example["when"][0]["event"] for example in examples() if "when" in example]
    assert events == ["push", "pull_request", "manual"]
    push = examples()[0]
    assert push["when"][0]["branch"] == "${CI_REPO_DEFAULT_BRANCH}"


def test_examples_use_the_image_settings_and_from_secret_never_environment() -> None:
    image = frontmatter()["containerImage"]
    for example in examples():
        for step in example["steps"]:
            assert step["image"].split(":")[0] == image
            assert "environment" not in step and "commands" not in step  # it must stay a plugin step
            for key in ("token_id", "token_secret"):
                if key in step["settings"]:
                    assert set(step["settings"][key]) == {"from_secret"}


def test_an_advisory_example_uses_failure_ignore() -> None:
    assert any(step.get("failure") == "ignore" for example in examples() for step in example["steps"])


@pytest.mark.skipif(not CHECK_JSONSCHEMA.exists(), reason="check-jsonschema is not installed")
def test_examples_are_valid_woodpecker_pipelines(tmp_path: Path) -> None:
    files = []
    for index, example in enumerate(examples()):
        path = tmp_path / f"example-{index}.yml"
        path.write_text(yaml.safe_dump(example, sort_keys=False), encoding="utf-8")
        files.append(str(path))
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.woodpecker-ci", *files],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
