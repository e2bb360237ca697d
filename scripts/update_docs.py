#!/usr/bin/env python3
"""Rewrite the generated settings table in docs.md and README.md from the settings module.

The table sits between ``<!-- settings:start -->`` and ``<!-- settings:end -->``; everything else in
the files is left as it is. ``--check`` changes nothing and exits 1 when a file is out of date (CI).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "plugin"))

from bookstack_sync.settings import settings_table_markdown  # noqa: E402

START = "<!-- settings:start -->"
END = "<!-- settings:end -->"
FILES = ("docs.md", "README.md")


def render_block(text: str, table: str) -> str:
    """``text`` with the block between the markers replaced by ``table``; unchanged without markers."""
    if START not in text:
        return text
    head, rest = text.split(START, 1)
    if END not in rest:
        raise ValueError(f"found {START} without {END}")
    _old, tail = rest.split(END, 1)
    return f"{head}{START}\n{table}\n{END}{tail}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if a file is out of date; change nothing")
    parser.add_argument("--root", type=Path, default=ROOT, help="the repository root")
    args = parser.parse_args(argv)
    table = settings_table_markdown()
    stale = []
    for name in FILES:
        path = args.root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        if START not in text:
            # a table that lost its markers would never be brought up to date again
            print(f"{name}: no {START} ... {END} block for the settings table", file=sys.stderr)
            return 1
        updated = render_block(text, table)
        if updated == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(updated, encoding="utf-8")
            print(f"updated the settings table in {name}")
    if args.check and stale:
        print(f"out of date: {', '.join(stale)} (run `make docs`)", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
