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


@pytest.mark.parametrize("name", ["docs.md", "README.md"])
def test_settings_table_is_the_generated_one_verbatim(name: str) -> None:
    # every setting settings.py reads (tree included), one row each, as Woodpecker's index shows plugins:
    # Setting | Default | Description; action.yml's inputs are pinned to the same list in test_action.py
    page = (ROOT / name).read_text(encoding="utf-8")
    block = re.search(r"<!-- settings:start -->\n(.*?)\n<!-- settings:end -->", page, re.S)
    assert block, f"settings markers missing in {name}"
    assert block.group(1) == settings_table_markdown()
    assert block.group(1).splitlines()[0] == "| Setting | Default | Description |"
    rows = [line.split("|")[1].strip() for line in block.group(1).splitlines()[2:]]
    assert rows == [f"`{spec.name}`" for spec in SETTINGS]
    assert "`tree`" in rows


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
    (tmp_path / "README.md").write_text("# Readme\n\nThe settings table went missing.\n")
    lost = subprocess.run([*args, "--check"], capture_output=True, text=True, timeout=60)
    assert lost.returncode == 1 and "README.md: no <!-- settings:start -->" in lost.stderr


def test_every_exit_code_is_documented() -> None:
    for code in ExitCode:
        assert re.search(rf"^\| `{int(code)}` \| .+ \|$", text(), re.M), f"exit code {int(code)}"


def test_pipeline_examples_for_push_pull_request_comment_and_manual() -> None:
    events = [example["when"][0]["event"] for example in examples() if "when" in example]
    assert events == ["push", "pull_request", "pull_request", "manual"]
    comment = examples()[2]["steps"][0]["settings"]
    assert comment["forge_token"] == {"from_secret": "docs_comment_token"}
    push = examples()[0]
    assert push["when"][0]["branch"] == "${CI_REPO_DEFAULT_BRANCH}"


def test_examples_use_the_image_settings_and_from_secret_never_environment() -> None:
    image = frontmatter()["containerImage"]
    names = {spec.name for spec in SETTINGS}
    for path in (DOCS, README):
        for example in pipelines_in(path):
            for step in example["steps"]:
                if step["image"].split(":")[0] != image:
                    continue  # another plugin (the clone)
                assert "environment" not in step and "commands" not in step  # it must stay a plugin step
                # a key that is no setting stops a copied pipeline with exit 2 (unknown PLUGIN_* variable)
                assert set(step["settings"]) <= names, f"{path.name}: step {step['name']}"
                for key in ("token_id", "token_secret", "forge_token"):
                    if key in step["settings"]:
                        assert set(step["settings"][key]) == {"from_secret"}
    assert all(step["image"].split(":")[0] == image for example in examples() for step in example["steps"])


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


README = ROOT / "README.md"
ALL_EVENTS = {"push", "pull_request", "pull_request_closed", "pull_request_metadata", "tag", "release", "deployment", "cron", "manual"}  # fmt: skip


def pipelines_in(path: Path) -> list[dict]:  # type: ignore[type-arg]
    blocks = re.findall(r"```yaml\n(.*?)```", path.read_text(encoding="utf-8"), re.S)
    parsed = [yaml.safe_load(block) for block in blocks]
    return [p for p in parsed if isinstance(p, dict) and "steps" in p]


def events_of(when: object) -> set[str]:
    if not when:
        return set(ALL_EVENTS)
    found: set[str] = set()
    for condition in when if isinstance(when, list) else [when]:
        event = condition.get("event", sorted(ALL_EVENTS))
        found |= {event} if isinstance(event, str) else set(event)
    return found


def test_the_write_token_never_meets_a_pull_request_in_any_example() -> None:
    # A from_secret whose secret does not allow the event stops the whole pipeline from starting, and
    # pull requests must never get the token that writes: a step holding it runs on push/manual/... only.
    for path in (README, DOCS):
        for pipeline in pipelines_in(path):
            for step in pipeline["steps"]:
                secrets = {
                    str(value.get("from_secret"))
                    for value in step.get("settings", {}).values()
                    if isinstance(value, dict) and "from_secret" in value
                }
                runs_on = events_of(pipeline.get("when")) & events_of(step.get("when"))
                writing = {s for s in secrets if s.startswith("bookstack_token")}
                assert not (writing and "pull_request" in runs_on), f"{path.name}: step {step['name']}"


def test_readme_pipelines_are_valid_and_show_the_pull_request_comment(tmp_path: Path) -> None:
    pipelines = pipelines_in(README)
    assert pipelines
    steps = [step for pipeline in pipelines for step in pipeline["steps"]]
    plan = next(step for step in steps if events_of(step.get("when")) == {"pull_request"})
    assert plan["settings"]["forge_token"] == {"from_secret": "docs_comment_token"}
    assert any("manual" in events_of(step.get("when")) for step in steps)
    if CHECK_JSONSCHEMA.exists():
        files = []
        for index, pipeline in enumerate(pipelines):
            files.append(tmp_path / f"readme-{index}.yml")
            files[-1].write_text(yaml.safe_dump(pipeline, sort_keys=False), encoding="utf-8")
        done = subprocess.run(
            [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.woodpecker-ci", *map(str, files)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stdout + done.stderr
