"""Install the package exactly as the Dockerfile does, into a fresh venv, and run it as Woodpecker would:
only PLUGIN_*/CI_* variables (plus PATH and HOME), in a workspace holding a docs tree."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .dockerfile import ROOT, only, pip_installs

pytestmark = pytest.mark.slow


def _container_paths() -> tuple[str, str]:
    """Where the Dockerfile puts the lock file and the package source inside the image."""
    lock = source = ""
    for copy in only("COPY"):
        *sources, dest = copy.split()
        if "requirements.lock" in sources:
            lock = dest.rstrip("/") if dest.endswith("requirements.lock") else f"{dest.rstrip('/')}/requirements.lock"
        if "pyproject.toml" in sources:
            source = dest.rstrip("/")
    assert lock and source, "the Dockerfile no longer copies requirements.lock and pyproject.toml"
    return lock, source


def _copy_source(target: Path) -> None:
    target.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", target)
    if (ROOT / "README.md").exists():
        shutil.copy2(ROOT / "README.md", target)
    shutil.copytree(
        ROOT / "plugin", target / "plugin", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    )


def _docs_tree(workspace: Path) -> None:
    shutil.copytree(ROOT / "examples" / "docs", workspace / "docs")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv built by the Dockerfile's own pip commands; returns its bin directory."""
    base = tmp_path_factory.mktemp("fresh")
    source = base / "src"
    _copy_source(source)
    lock_in_image, source_in_image = _container_paths()
    venv = base / "venv"
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    for args in pip_installs():
        mapped = [
            str(ROOT / "requirements.lock") if arg == lock_in_image else str(source) if arg == source_in_image else arg
            for arg in args
            if arg != "--no-cache-dir"  # the local pip cache keeps this test fast
        ]
        done = subprocess.run(
            [str(python), "-m", "pip", "install", "--quiet", *mapped],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, f"pip install {' '.join(mapped)}\n{done.stdout}\n{done.stderr}"
    print(f"fresh venv installed in {time.monotonic() - started:.1f}s")
    return venv / "bin"


def _woodpecker_env(bin_dir: Path, workspace: Path, home: Path, **extra: str) -> dict[str, str]:
    return {
        "PATH": f"{bin_dir}{os.pathsep}/usr/local/bin{os.pathsep}/usr/bin{os.pathsep}/bin",
        "HOME": str(home),
        "CI": "woodpecker",
        "CI_WORKSPACE": str(workspace),
        "CI_REPO": "acme/handbook",
        "CI_COMMIT_SHA": "0123456789abcdef0123456789abcdef01234567",
        "CI_PIPELINE_NUMBER": "7",
        "CI_PIPELINE_URL": "https://ci.example.org/repos/1/pipeline/7",
        **extra,
    }


def _run(bin_dir: Path, workspace: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bin_dir / "bookstack-sync")], cwd=workspace, env=env, capture_output=True, text=True, timeout=120
    )


def test_pull_request_without_secrets_validates_and_writes_the_reports(installed: Path, tmp_path: Path) -> None:
    workspace, home = tmp_path / "workspace", tmp_path / "home"
    workspace.mkdir()
    home.mkdir()
    _docs_tree(workspace)
    env = _woodpecker_env(
        installed,
        workspace,
        home,
        CI_PIPELINE_EVENT="pull_request",
        CI_COMMIT_PULL_REQUEST="5",
        PLUGIN_JUNIT="junit.xml",
    )
    done = _run(installed, workspace, env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "pull_request" in done.stderr  # the log names the mode and why
    report = json.loads((workspace / "bookstack-sync-report.json").read_text())
    assert report["exit_code"] == 0 and report["mode"] == "plan" and report["event"] == "pull_request"
    assert report["validation"]["pages_checked"] > 0
    assert (workspace / "bookstack-sync-summary.md").read_text().startswith("## ✅")
    assert "<testsuites" in (workspace / "junit.xml").read_text()


def test_a_typo_in_settings_is_a_usage_error(installed: Path, tmp_path: Path) -> None:
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    _docs_tree(workspace)
    env = _woodpecker_env(installed, workspace, tmp_path, CI_PIPELINE_EVENT="push", PLUGIN_DOCS_DIRR="docs")
    done = _run(installed, workspace, env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "unknown setting `docs_dirr`" in done.stderr


def test_the_image_has_no_dev_tools(installed: Path) -> None:
    listed = subprocess.run(
        [str(installed / "python"), "-m", "pip", "list", "--format=json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    names = {p["name"].lower() for p in json.loads(listed.stdout)}
    assert "bookstack-sync" in names and "requests" in names
    assert names.isdisjoint({"pytest", "mypy", "ruff", "hypothesis", "check-jsonschema"})
