"""The pre-commit hook a docs repository can use: `bookstack-sync validate` over the whole tree."""

from __future__ import annotations

import re

import yaml

from bookstack_sync.cli import build_parser

from .dockerfile import ROOT, pyproject


def test_validate_hook() -> None:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "bookstack-sync-validate"]
    assert hook["entry"] == "bookstack-sync validate"
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert re.match(hook["files"], "docs/engineering/dev-guide/01-overview.md")
    assert not re.match(hook["files"], "src/app.py")


def test_the_hook_entry_exists() -> None:
    assert "bookstack-sync" in pyproject()["project"]["scripts"]
    # the subcommand parses (with no file names, as pass_filenames: false sends none)
    args = build_parser().parse_args(["validate"])
    assert args.command == "validate"
