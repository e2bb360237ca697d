"""Hostile input from a pull request is refused fast and small: ``bookstack-sync validate`` in a subprocess
with a memory and CPU limit, as a CI agent would want it.

A kilobyte of nested YAML aliases ("billion laughs", 9^9 strings once expanded) used to grow past 5 GB in a
minute. Now the alias itself is the error, named by file and line, and the run stays within the limits.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import STRUCTURE, STRUCTURE_REL, Docs, page_text

MEMORY_LIMIT = 400 * 1024 * 1024  # address space of the whole validate process, interpreter included
CPU_SECONDS = 10
WALL_SECONDS = 30  # the machine is shared: wall time is only a backstop, the CPU limit is the bound

# 9 lists of 9 references each to the list before it: 1 KB of text
LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)
INSTALL = "eng/guide/setup/01-install.md"


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))


def validate_limited(docs: Docs) -> tuple[subprocess.CompletedProcess[str], float]:
    script = Path(sys.executable).with_name("bookstack-sync")
    started = time.monotonic()
    done = subprocess.run(
        [str(script), "validate", "--docs-dir", str(docs.root)],
        capture_output=True,
        text=True,
        timeout=WALL_SECONDS,
        preexec_fn=_limits,
        env={"PATH": "/usr/bin:/bin"},
    )
    return done, time.monotonic() - started


def test_the_limits_leave_room_for_a_normal_validation(docs: Docs) -> None:
    done, _ = validate_limited(docs)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("frontmatter", f"{INSTALL}:3: error [frontmatter-syntax]"),
        ("structure", f"{STRUCTURE_REL}:20: error [structure-syntax]"),
    ],
)
def test_billion_laughs_is_refused_within_seconds_and_a_few_hundred_mb(docs: Docs, where: str, expected: str) -> None:
    assert len(LAUGHS) < 1024
    if where == "frontmatter":
        docs.write(INSTALL, "---\n" + LAUGHS + "---\n# Install\n")
    else:
        docs.write(STRUCTURE_REL, STRUCTURE + "x-laughs:\n" + "".join(f"  {line}\n" for line in LAUGHS.splitlines()))
    done, seconds = validate_limited(docs)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert expected in done.stdout
    assert "YAML aliases are not allowed (*a repeats the value of &a)" in done.stdout
    assert seconds < WALL_SECONDS


def test_a_huge_frontmatter_block_is_an_error_not_a_parse(docs: Docs) -> None:
    # 50 MB of frontmatter: refused by its size, never handed to the YAML parser
    docs.write(INSTALL, page_text("setup", 1, notes='"' + "x" * 50_000_000 + '"'))
    done, _ = validate_limited(docs)
    assert done.returncode == 1, (done.returncode, done.stderr[-2000:])
    assert f"{INSTALL}:1: error [frontmatter-too-large] frontmatter is 50000" in done.stdout
