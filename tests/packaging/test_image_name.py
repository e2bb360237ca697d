"""The image has one real name everywhere a user copies it from; the packaging a new user meets first
(the icon, the licence, `make image`, `make test-fast`, hadolint) does what the README says."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .dockerfile import ROOT

sys.path.insert(0, str(ROOT / "scripts"))
import check_packaging

IMAGE = check_packaging.IMAGE
MAKE = shutil.which("make")


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    for name in (*check_packaging.NAMED_IN, "pyproject.toml", "icon.svg"):
        shutil.copy2(ROOT / name, root / name)
    return root


def test_the_repository_names_the_image_one_way() -> None:
    assert check_packaging.problems() == []
    assert IMAGE == "codeberg.org/bookstack-sync/bookstack-sync"


@pytest.mark.parametrize(
    ("name", "old", "new", "expected"),
    [
        ("README.md", f"image: {IMAGE}:1", "image: OWNER/bookstack-sync:1", "README.md:"),
        ("docs.md", f"containerImage: {IMAGE}\n", "containerImage: bookstack-sync\n", "frontmatter `containerImage`"),
        ("docs.md", f"    image: {IMAGE}:1", f"    image: {IMAGE}:latest", "docs.md: example uses image"),
        ("action.yml", f"docker://{IMAGE}:1", "Dockerfile", "action.yml: runs.image"),
        ("Dockerfile", 'image.source="https://codeberg.org', 'image.source="https://github.com', "LABEL"),
        (".woodpecker.yml", f"      repo: {IMAGE}", "      repo: acme/bookstack-sync", "step build-image"),
        (".woodpecker.yml", "registry: codeberg.org", "registry: docker.io", "logs in to 'docker.io'"),
        ("Makefile", f"IMAGE ?= {IMAGE}", "IMAGE ?= bookstack-sync", "Makefile: `IMAGE ?="),
        ("pyproject.toml", 'license = "MIT"', 'license = { text = "MIT" }', "SPDX string"),
        ("pyproject.toml", "setuptools>=77", "setuptools>=68", "needs setuptools>=77"),
        ("README.md", "make test-fast", "make quick", "`make test-fast`"),
    ],
)
def test_the_check_finds_each_disagreement(tmp_path: Path, name: str, old: str, new: str, expected: str) -> None:
    root = _copy(tmp_path)
    text = (root / name).read_text(encoding="utf-8")
    assert old in text, f"{name} no longer holds {old!r}"
    (root / name).write_text(text.replace(old, new), encoding="utf-8")
    found = check_packaging.problems(root)
    assert any(expected in problem for problem in found), found
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "check_packaging.py"), "--root", str(root)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1 and expected in done.stderr


def test_the_icon_docs_md_points_at_exists(tmp_path: Path) -> None:
    assert check_packaging.ICON_URL.endswith("/icon.svg")
    root = _copy(tmp_path)
    (root / "icon.svg").unlink()
    assert "icon.svg: missing (docs.md's `icon` points at it)" in check_packaging.problems(root)
    (root / "icon.svg").write_text("<html/>", encoding="utf-8")
    assert any("not an SVG" in p for p in check_packaging.problems(root))


def test_the_build_backend_reads_the_licence_without_a_warning(tmp_path: Path) -> None:
    """What pip runs on every install: the metadata hook of the build backend pyproject.toml names."""
    source = tmp_path / "src"
    source.mkdir()
    shutil.copy2(ROOT / "pyproject.toml", source)
    shutil.copy2(ROOT / "README.md", source)
    shutil.copytree(ROOT / "plugin", source / "plugin", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path / "meta"
    out.mkdir()
    hook = "import sys, setuptools.build_meta as backend; print(backend.prepare_metadata_for_build_wheel(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-W", "always", "-c", hook, str(out)],
        cwd=source,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Deprecat" not in done.stderr and "warning" not in done.stderr.lower(), done.stderr
    metadata = (out / done.stdout.strip().splitlines()[-1] / "METADATA").read_text(encoding="utf-8")
    assert "License-Expression: MIT" in metadata


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_image_says_plainly_when_there_is_no_engine() -> None:
    done = subprocess.run(
        [str(MAKE), "-s", "-C", str(ROOT), "image", "ENGINE="], capture_output=True, text=True, timeout=60
    )
    assert done.returncode != 0
    assert "no container engine found (install Docker or Podman" in done.stderr


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_make_image_builds_the_published_name_with_the_engine_found() -> None:
    dry = subprocess.run(
        [str(MAKE), "-n", "-C", str(ROOT), "image", "ENGINE=podman"], capture_output=True, text=True, timeout=60
    )
    assert f"podman build --tag {IMAGE}:dev ." in dry.stdout


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_lint_runs_hadolint_and_the_packaging_check_and_says_so() -> None:
    dry = subprocess.run([str(MAKE), "-n", "-C", str(ROOT), "lint-ci"], capture_output=True, text=True, timeout=60)
    assert "hadolint Dockerfile" in dry.stdout and "check_packaging.py" in dry.stdout
    assert 'echo "hadolint: Dockerfile checked, no findings"' in dry.stdout
    assert "Dockerfile NOT checked" in dry.stdout  # where hadolint is missing, it says the file went unchecked
    if os.access(ROOT / ".venv" / "bin" / "hadolint", os.X_OK):
        run = subprocess.run([str(MAKE), "-s", "-C", str(ROOT), "lint-ci"], capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        assert "hadolint: Dockerfile checked, no findings" in run.stdout


@pytest.mark.skipif(MAKE is None, reason="make is not installed")
def test_test_fast_is_a_subset_and_test_is_the_whole_suite() -> None:
    fast = subprocess.run([str(MAKE), "-n", "-C", str(ROOT), "test-fast"], capture_output=True, text=True, timeout=60)
    line = next(line for line in fast.stdout.splitlines() if "pytest" in line)
    paths = [arg for arg in line.split() if arg.startswith("tests/")]
    assert paths and all((ROOT / path).exists() for path in paths)
    assert {"tests/unit", "tests/test_fake_bookstack.py"} <= set(paths)
    assert not any(path.startswith(("tests/e2e", "tests/contract")) for path in paths)
    for real, workers in (("", "4"), ("https://wiki.example", "0")):
        env = {**os.environ, "BOOKSTACK_TEST_URL": real}
        whole = subprocess.run(
            [str(MAKE), "-n", "-C", str(ROOT), "test"], capture_output=True, text=True, timeout=60, env=env
        )
        # every test: the ones not marked `alone` in parallel (one at a time against a real BookStack), then
        # those, no folder left out
        assert [line for line in whole.stdout.splitlines() if "pytest" in line] == [
            f'.venv/bin/pytest -q -n {workers} -m "not alone"',
            ".venv/bin/pytest -q -m alone",
        ]
