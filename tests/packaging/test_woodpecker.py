"""The project's own Woodpecker 3 pipeline, `.woodpecker.yml`: valid against Woodpecker's schema, one file
(Woodpecker reads a `.woodpecker/` folder first when both exist), shaped as promised."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from .dockerfile import ROOT

CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
PIPELINE = ROOT / ".woodpecker.yml"


def load() -> dict:  # type: ignore[type-arg]
    data = yaml.safe_load(PIPELINE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def test_one_pipeline_file_and_no_folder() -> None:
    assert PIPELINE.is_file()
    assert not (ROOT / ".woodpecker").exists()
    assert not any((ROOT / name).exists() for name in (".woodpecker.yaml", ".woodpecker"))


def test_make_lint_checks_the_pipeline_file() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    lint_ci = makefile.split("\nlint-ci:", 1)[1].split("\n\n", 1)[0]
    assert "vendor.woodpecker-ci .woodpecker.yml" in lint_ci and "-d .woodpecker" in lint_ci


def step(workflow: dict, name: str) -> dict:  # type: ignore[type-arg]
    (found,) = [s for s in workflow["steps"] if s["name"] == name]
    assert isinstance(found, dict)
    return found


@pytest.mark.skipif(not CHECK_JSONSCHEMA.exists(), reason="check-jsonschema is not installed")
def test_the_pipeline_validates_against_woodpeckers_schema() -> None:
    done = subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.woodpecker-ci", str(PIPELINE)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_lint_and_tests_run_on_pull_requests_pushes_and_tags() -> None:
    pipeline = load()
    events = pipeline["when"][0]["event"]
    assert {"pull_request", "push", "tag"} <= set(events)
    commands = [c for s in pipeline["steps"] for c in s.get("commands", [])]
    assert "make lint" in commands and "make test" in commands
    assert any("examples/docs" in c for c in commands)


def test_every_image_is_pinned() -> None:
    workflow = load()
    for item in workflow.get("services", []) + workflow["steps"]:
        image = item["image"]
        assert re.search(r":(version-)?v?\d+\.\d+\.\d+", image), f"{image} is not pinned"


def test_e2e_starts_bookstack_and_mariadb_and_runs_the_suites_with_a_token() -> None:
    e2e = load()
    services = {s["name"]: s for s in e2e["services"]}
    assert services["bookstack"]["image"].startswith("lscr.io/linuxserver/bookstack:")
    assert services["db"]["image"].startswith("mariadb:")
    assert services["bookstack"]["environment"]["DB_HOST"] == "db"
    token = "\n".join(step(e2e, "make-api-token")["commands"])
    assert "gensalt(rounds=4)" in token and "INSERT INTO api_tokens" in token and ", 1, " in token
    suites = "\n".join(step(e2e, "e2e")["commands"])
    assert "pytest" in suites and "tests/contract" in suites and "tests/e2e" in suites
    assert "bookstack-test.env" in suites
    assert "PLUGIN_MODE=plan" in "\n".join(step(e2e, "plan-examples")["commands"])


def test_the_token_script_is_valid_python() -> None:
    token = "\n".join(step(load(), "make-api-token")["commands"])
    script = re.search(r"<<'PY'\n(.*?)\nPY", token, re.S)
    assert script, "heredoc not found"
    compile(script.group(1), "make-api-token", "exec")


def test_image_build_is_multi_arch_dry_run_on_prs_published_on_tags() -> None:
    image = load()
    build, publish = step(image, "build-image"), step(image, "publish-image")
    for s in (build, publish):
        assert s["image"].startswith("woodpeckerci/plugin-docker-buildx:")
        assert set(s["settings"]["platforms"].split(",")) == {"linux/amd64", "linux/arm64"}
    assert build["settings"]["dry_run"] is True and "pull_request" in build["when"][0]["event"]
    assert publish["when"][0]["event"] == "tag"
    assert publish["settings"]["registry"] == "codeberg.org"
    assert publish["settings"]["username"] == {"from_secret": "registry_username"}
    assert publish["settings"]["password"] == {"from_secret": "registry_token"}
    assert "environment" not in publish
