#!/usr/bin/env python3
"""Check that the files a user copies from agree on the image, its home and its icon (`make lint`).

The image is published as :data:`IMAGE` (Codeberg's container registry, beside the source); every
place that names it — README.md, docs.md (examples and the plugin index's frontmatter), action.yml,
.pre-commit-hooks.yaml, the Dockerfile's labels, the Makefile's `image` target and the publish step of
.woodpecker.yml — must name it the same way, and no `OWNER` placeholder may be left. It also checks
the packaging details a new user meets first: the icon docs.md points at exists, pyproject.toml
declares its licence as an SPDX string with a setuptools that reads it, and the README says how long
the test suite takes next to `make test-fast`. Exit 1 with one line per problem.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

HOME = "https://codeberg.org/bookstack-sync/bookstack-sync"
REGISTRY = "codeberg.org"
IMAGE = f"{REGISTRY}/bookstack-sync/bookstack-sync"
TAG = "1"  # the major version users pin; `auto_tag` publishes it with every 1.x.y tag
IMAGE_URL = "https://codeberg.org/bookstack-sync/-/packages/container/bookstack-sync"
ICON = "icon.svg"
ICON_URL = f"{HOME}/raw/branch/main/{ICON}"
ACTION = f"{HOME}@v{TAG}"
# files a user reads or copies from: none may keep a placeholder owner
NAMED_IN = ("README.md", "docs.md", "action.yml", ".pre-commit-hooks.yaml", "Dockerfile", ".woodpecker.yml", "Makefile")
PLACEHOLDER = re.compile(r"\bOWNER/")
SETUPTOOLS_SPDX = (77, 0)  # the first setuptools that reads `license = "MIT"` (PEP 639)


def _image_lines(text: str) -> list[str]:
    """Every `image:` value in the YAML examples of a Markdown file that names this plugin."""
    found: list[str] = []
    for block in re.findall(r"```yaml\n(.*?)```", text, re.S):
        for match in re.finditer(r"^\s*(?:-\s+)?image:\s*(\S+)\s*$", block, re.M):
            if "bookstack-sync" in match.group(1):
                found.append(match.group(1))
    return found


def _markdown(root: Path, name: str) -> list[str]:
    text = (root / name).read_text(encoding="utf-8")
    problems: list[str] = []
    images = _image_lines(text)
    if not images:
        problems.append(f"{name}: no pipeline example names the image {IMAGE}:{TAG}")
    for image in images:
        if image != f"{IMAGE}:{TAG}":
            problems.append(f"{name}: example uses image {image}, expected {IMAGE}:{TAG}")
    for uses in re.findall(r"uses: (\S+?)`", text):
        if uses != ACTION:
            problems.append(f"{name}: `uses: {uses}`, expected `uses: {ACTION}`")
    return problems


def _docs_frontmatter(root: Path) -> list[str]:
    match = re.match(r"^---\n(.*?)\n---\n", (root / "docs.md").read_text(encoding="utf-8"), re.S)
    if not match:
        return ["docs.md: no frontmatter block"]
    data = yaml.safe_load(match.group(1)) or {}
    expected = {"containerImage": IMAGE, "containerImageUrl": IMAGE_URL, "url": HOME, "icon": ICON_URL}
    return [
        f"docs.md: frontmatter `{key}` is {data.get(key)!r}, expected {value!r}"
        for key, value in expected.items()
        if data.get(key) != value
    ]


def _icon(root: Path) -> list[str]:
    path = root / ICON
    if not path.is_file():
        return [f"{ICON}: missing (docs.md's `icon` points at it)"]
    try:
        tag = ET.parse(path).getroot().tag
    except ET.ParseError as exc:
        return [f"{ICON}: not well-formed XML: {exc}"]
    if tag != "{http://www.w3.org/2000/svg}svg":
        return [f"{ICON}: the root element is {tag}, not an SVG <svg>"]
    return []


def _action(root: Path) -> list[str]:
    data = yaml.safe_load((root / "action.yml").read_text(encoding="utf-8"))
    image = (data.get("runs") or {}).get("image")
    if image != f"docker://{IMAGE}:{TAG}":
        return [f"action.yml: runs.image is {image!r}, expected 'docker://{IMAGE}:{TAG}'"]
    return []


def _precommit(root: Path) -> list[str]:
    text = (root / ".pre-commit-hooks.yaml").read_text(encoding="utf-8")
    repos = re.findall(r"repo: (\S+)", text)
    return [f".pre-commit-hooks.yaml: repo {repo}, expected {HOME}" for repo in repos if repo != HOME]


def _dockerfile_labels(root: Path) -> list[str]:
    text = (root / "Dockerfile").read_text(encoding="utf-8").replace("\\\n", " ")
    labels = dict(re.findall(r'(org\.opencontainers\.image\.[a-z]+)="([^"]*)"', text))
    expected = {
        "org.opencontainers.image.title": "bookstack-sync",
        "org.opencontainers.image.source": HOME,
        "org.opencontainers.image.url": HOME,
        "org.opencontainers.image.licenses": "MIT",
    }
    return [
        f"Dockerfile: LABEL {key} is {labels.get(key)!r}, expected {value!r}"
        for key, value in expected.items()
        if labels.get(key) != value
    ]


def _woodpecker(root: Path) -> list[str]:
    data = yaml.safe_load((root / ".woodpecker.yml").read_text(encoding="utf-8"))
    steps = {step.get("name"): step for step in data.get("steps", [])}
    problems: list[str] = []
    for name in ("build-image", "publish-image"):
        settings = (steps.get(name) or {}).get("settings") or {}
        if settings.get("repo") != IMAGE:
            problems.append(f".woodpecker.yml: step {name} builds repo {settings.get('repo')!r}, expected {IMAGE!r}")
        if name == "publish-image" and settings.get("registry") != REGISTRY:
            problems.append(
                f".woodpecker.yml: step {name} logs in to {settings.get('registry')!r}, expected {REGISTRY!r}"
            )
    return problems


def _makefile(root: Path) -> list[str]:
    text = (root / "Makefile").read_text(encoding="utf-8")
    problems: list[str] = []
    match = re.search(r"^IMAGE \?= (\S+)$", text, re.M)
    if not match or match.group(1) != IMAGE:
        problems.append(f"Makefile: `IMAGE ?= {IMAGE}` missing (the `make image` target builds it)")
    for target in ("image", "test-fast"):
        if not re.search(rf"^{target}:", text, re.M):
            problems.append(f"Makefile: no `{target}` target")
    return problems


def _placeholders(root: Path) -> list[str]:
    problems: list[str] = []
    for name in NAMED_IN:
        for number, line in enumerate((root / name).read_text(encoding="utf-8").splitlines(), 1):
            if PLACEHOLDER.search(line):
                problems.append(f"{name}:{number}: placeholder owner left: {line.strip()}")
    return problems


def _pyproject(root: Path) -> list[str]:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    problems: list[str] = []
    license_value = data.get("project", {}).get("license")
    if license_value != "MIT":
        problems.append(
            f'pyproject.toml: license is {license_value!r}; write the SPDX string `license = "MIT"` '
            "(the table form prints setuptools' deprecation warning on every install)"
        )
    if any(c.startswith("License ::") for c in data.get("project", {}).get("classifiers", [])):
        problems.append("pyproject.toml: a `License ::` classifier beside an SPDX license is an error for setuptools")
    requires = data.get("build-system", {}).get("requires", [])
    floor = None
    for requirement in requires:
        match = re.fullmatch(r"setuptools\s*>=\s*(\d+)(?:\.(\d+))?.*", requirement)
        if match:
            floor = (int(match.group(1)), int(match.group(2) or 0))
    if floor is None or floor < SETUPTOOLS_SPDX:
        problems.append(
            f"pyproject.toml: build-system requires {requires}; an SPDX license needs setuptools>={SETUPTOOLS_SPDX[0]}"
        )
    return problems


def _readme_tests(root: Path) -> list[str]:
    text = (root / "README.md").read_text(encoding="utf-8")
    problems: list[str] = []
    if "make test-fast" not in text:
        problems.append("README.md: does not mention `make test-fast`")
    if not re.search(r"make test\b[^\n]*\b\d+\s*(?:s|seconds|min|minutes)\b", text):
        problems.append("README.md: does not say how long `make test` takes (e.g. `make test ... about 5 minutes`)")
    return problems


CHECKS = (
    _placeholders,
    lambda root: _markdown(root, "README.md"),
    lambda root: _markdown(root, "docs.md"),
    _docs_frontmatter,
    _icon,
    _action,
    _precommit,
    _dockerfile_labels,
    _woodpecker,
    _makefile,
    _pyproject,
    _readme_tests,
)


def problems(root: Path = ROOT) -> list[str]:
    found: list[str] = []
    for check in CHECKS:
        found.extend(check(root))
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository root")
    args = parser.parse_args(argv)
    found = problems(args.root)
    for problem in found:
        print(problem, file=sys.stderr)
    if found:
        print(f"packaging: {len(found)} problem(s)", file=sys.stderr)
        return 1
    print(f"packaging: image {IMAGE}:{TAG} named the same way in {len(NAMED_IN)} files; icon, license, README ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
