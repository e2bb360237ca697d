"""A migration plan in words: the lines printed for a dry run and the Markdown report."""

from __future__ import annotations

import json
from typing import TextIO

from .planning import Blocker, FilePlan, MigrationPlan
from .source import (
    field_line,
)


def describe_changes(item: FilePlan) -> str:
    parts: list[str] = []
    added = [c.name for c in item.changes if c.added]
    fixed = [c.name for c in item.changes if not c.added]
    if added:
        parts.append("added " + ", ".join(added))
    if fixed:
        parts.append("fixed " + ", ".join(fixed))
    if item.links:
        parts.append(f"{item.links} link(s) rewritten")
    if item.bom_removed:
        parts.append("byte-order mark removed")
    return "; ".join(parts) or "no change"


def print_plan(plan: MigrationPlan, out: TextIO, *, dry_run: bool) -> None:
    verb = "would " if dry_run else ""
    for item in plan.of("move"):
        out.write(f"{verb}move: {item.source} -> {item.target} ({item.how}; {describe_changes(item)})\n")
    for item in plan.of("update"):
        out.write(f"{verb}update: {item.source} ({describe_changes(item)})\n")
    for item in plan.blocked:
        out.write(f"{item.blocker}: {item.source}: {item.reason}\n")
        if item.content is not None:
            out.write(f"  {verb}rewrite {item.links} link(s) in it to follow the moved files\n")
    for note in plan.notes:
        out.write(f"note: {note}\n")
    out.write(summary_line(plan) + "\n")


def summary_line(plan: MigrationPlan) -> str:
    return (
        f"{len(plan.files)} Markdown file(s): {len(plan.of('move'))} to move or rename, "
        f"{len(plan.of('update'))} to update in place, {len(plan.of('ok'))} already fine, "
        f"{len(plan.blocked)} left for a person"
    )


def _cell(text: str) -> str:
    return "`" + text.replace("`", "'").replace("|", "\\|") + "`"


def report_markdown(plan: MigrationPlan) -> str:
    lines = [f"# Migration plan for `{plan.docs_dir.as_posix()}`", ""]
    lines.append(f"Structure: `{plan.structure_shown}` · map: {f'`{plan.map_shown}`' if plan.map_shown else 'none'}")
    lines += ["", "| | Files |", "| --- | ---: |"]
    rows = [
        ("moved or renamed", len(plan.of("move"))),
        ("updated in place", len(plan.of("update"))),
        ("already conform", len(plan.of("ok"))),
    ]
    rows += [(blocker.value, sum(1 for f in plan.blocked if f.blocker is blocker)) for blocker in Blocker]
    lines += [f"| {label} | {count} |" for label, count in rows]
    if plan.of("move"):
        lines += ["", "## Moves", "", "| File | New path | Why |", "| --- | --- | --- |"]
        for item in plan.of("move"):
            assert item.target is not None
            lines.append(f"| {_cell(item.source)} | {_cell(item.target)} | {item.how} |")
    changed = [f for f in plan.files if f.blocker is None and f.touched]
    if changed:
        lines += ["", "## Changes per file"]
        for item in changed:
            moved = f" (from `{item.source}`)" if item.moves else ""
            lines += ["", f"### `{item.final_path}`{moved}", ""]
            if item.changes:
                lines.append("```yaml")
                for change in item.changes:
                    note = "added" if change.added else f"was {json.dumps(change.old, ensure_ascii=False)}"
                    lines.append(field_line(change.name, change.value).rstrip("\n") + f"  # {note}")
                lines.append("```")
            extras = []
            if item.links:
                extras.append(f"{item.links} link(s) rewritten to follow moved files")
            if item.bom_removed:
                extras.append("byte-order mark removed")
            if not item.changes and not extras:
                extras.append("moved as it is")
            lines += [f"- {extra}" for extra in extras]
    for blocker in Blocker:
        items = [f for f in plan.blocked if f.blocker is blocker]
        if not items:
            continue
        lines += ["", f"## {blocker.value.capitalize()}", ""]
        for item in items:
            goes = f" (would go to `{item.target}`)" if item.target and blocker is not Blocker.UNPLACED else ""
            lines.append(f"- `{item.source}`{goes}: {item.reason}")
            if item.content is not None:
                lines.append(f"  - its {item.links} link(s) to moved files are rewritten")
    if plan.notes:
        lines += ["", "## Notes", ""]
        lines += [f"- {note}" for note in plan.notes]
    lines += ["", summary_line(plan) + ".", ""]
    return "\n".join(lines)
