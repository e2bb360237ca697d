"""Read the Dockerfile the way the tests need it: instructions with continuation lines joined."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Instruction:
    keyword: str
    value: str


def instructions(path: Path = ROOT / "Dockerfile") -> list[Instruction]:
    found: list[Instruction] = []
    pending = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        text = pending + line
        pending = ""
        keyword, _, value = text.partition(" ")
        found.append(Instruction(keyword.upper(), value.strip()))
    return found


def only(keyword: str) -> list[str]:
    return [i.value for i in instructions() if i.keyword == keyword]


def pip_installs() -> list[list[str]]:
    """Every ``pip install`` command in RUN lines, as argument lists after ``install``."""
    commands: list[list[str]] = []
    for run in only("RUN"):
        for part in re.split(r"&&|;", run):
            words = shlex.split(part)
            if "pip" in words and "install" in words:
                commands.append(words[words.index("install") + 1 :])
    return commands


def entrypoint() -> list[str]:
    (value,) = only("ENTRYPOINT")
    parsed: list[str] = json.loads(value)
    return parsed


def pyproject() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def normalise(name: str) -> str:
    """PEP 503 name of a requirement string (``PyYAML>=6`` → ``pyyaml``)."""
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", name)
    assert match, name
    return re.sub(r"[-_.]+", "-", match.group(1)).lower()


def locked() -> dict[str, tuple[str, list[str]]]:
    """name → (version, hashes) from requirements.lock."""
    pins: dict[str, tuple[str, list[str]]] = {}
    current = ""
    for raw in (ROOT / "requirements.lock").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        pin = re.match(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", line)
        if pin:
            current = normalise(pin.group(1))
            pins[current] = (pin.group(2), [])
        for digest in re.findall(r"--hash=sha256:([0-9a-f]{64})", line):
            pins[current][1].append(digest)
    return pins
