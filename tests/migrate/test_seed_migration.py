"""The issue's "done when": the seed's messy tree and its reorganization table, migrated in a real git repo."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

from bookstack_sync.check.references import check_references
from bookstack_sync.check.validate import validate_docs
from bookstack_sync.docs.diagnostics import Severity

from .conftest import AUTHOR, EXAMPLE_MAP, MESSY, Repo, Result

MOVES = {
    "development/quick-start.md": "engineering/dev-guide/getting-started/03-quick-start.md",
    "ci-cd/PIPELINE-TEMPLATES.md": "engineering/ci-cd-guide/pipelines/01-pipeline-templates.md",
    "ci-cd/CI-CD-WORKFLOWS.md": "engineering/ci-cd-guide/pipelines/02-pipeline-workflows.md",
    "operations/backup-restore-operations.md": "operations/backup/implementation/01-backup-operations.md",
    "engineering/dev-guide/getting-started/Getting Started.md": "engineering/dev-guide/getting-started/04-getting-started.md",
    "development/git-workflow.md": "engineering/dev-guide/best-practices/02-git-workflow.md",
    "development/branch-protection-rules.md": "engineering/dev-guide/best-practices/03-branch-protection.md",
    "stack/setup/prerequisites/1-setup.md": "stack/setup/prerequisites/01-setup.md",
    "stack/setup/post-install/01_setup.md": "stack/setup/post-install/01-setup.md",
}
STAYS = [
    "engineering/dev-guide/getting-started/01-prerequisites.md",
    "engineering/dev-guide/getting-started/02-environment-setup.md",
    "engineering/dev-guide/best-practices/01-coding-standards.md",
]
# the only characters of any body that change: destinations of links to moved files, or from moved pages
REWRITES = {
    "development/quick-start.md": [
        ("../ci-cd/PIPELINE-TEMPLATES.md#jobs", "../../ci-cd-guide/pipelines/01-pipeline-templates.md#jobs"),
        (
            "(../operations/backup-restore-operations.md)",
            "(../../../operations/backup/implementation/01-backup-operations.md)",
        ),
        ("(../images/pipeline.png)", "(../../../images/pipeline.png)"),
    ],
    "ci-cd/PIPELINE-TEMPLATES.md": [
        ("../development/quick-start.md", "../../dev-guide/getting-started/03-quick-start.md"),
        ("(CI-CD-WORKFLOWS.md)", "(02-pipeline-workflows.md)"),
    ],
    "ci-cd/CI-CD-WORKFLOWS.md": [("./PIPELINE-TEMPLATES.md", "./01-pipeline-templates.md")],
    "operations/backup-restore-operations.md": [
        (
            "../engineering/dev-guide/getting-started/Getting%20Started.md",
            "../../../engineering/dev-guide/getting-started/04-getting-started.md",
        ),
        ('"../images/pipeline.png"', '"../../../images/pipeline.png"'),
    ],
    "engineering/dev-guide/getting-started/Getting Started.md": [
        ("../../../ci-cd/PIPELINE-TEMPLATES.md", "../../ci-cd-guide/pipelines/01-pipeline-templates.md")
    ],
    "engineering/dev-guide/getting-started/01-prerequisites.md": [
        ("../../../development/quick-start.md", "03-quick-start.md")
    ],
}


def body_of(content: bytes) -> bytes:
    """What follows the frontmatter (a BOM is not body); the whole file when there is none."""
    content = content.removeprefix("\ufeff".encode())
    lines = content.splitlines(keepends=True)
    if not lines or not re.fullmatch(rb"-{3,}\s*", lines[0].rstrip(b"\r\n")):
        return content
    for index in range(1, len(lines)):
        if re.fullmatch(rb"-{3,}\s*", lines[index].rstrip(b"\r\n")):
            return b"".join(lines[index + 1 :])
    raise AssertionError("unterminated frontmatter")


def migrate(repo: Repo, cli: Callable[..., Result], *extra: str) -> Result:
    shutil.copy(EXAMPLE_MAP, repo.root / "migration-map.yaml")
    return cli(repo, "migrate", "--apply", "--map", "migration-map.yaml", *extra)


def test_apply_then_validate_is_clean(messy: Repo, cli: Callable[..., Result]) -> None:
    result = migrate(messy, cli)
    assert result.code == 0, result.out + result.err
    assert "0 error(s)" in result.out  # validate ran after --apply and printed its result
    for old, new in MOVES.items():
        assert not (messy.docs / old).exists(), old
        assert (messy.docs / new).is_file(), new
    for stays in STAYS:
        assert (messy.docs / stays).is_file()
    assert cli(messy, "validate").code == 0
    # the old folders emptied by the moves are gone; the image that nobody moved is where it was
    assert not (messy.docs / "development").exists()
    assert not (messy.docs / "ci-cd").exists()
    assert (messy.docs / "images" / "pipeline.png").is_file()


def test_every_body_is_intact_but_for_rewritten_links(messy: Repo, cli: Callable[..., Result]) -> None:
    assert migrate(messy, cli).code == 0
    for old, original in MESSY.items():
        if not old.endswith(".md"):
            continue
        expected = body_of(original)
        for before, after in REWRITES.get(old, []):
            assert expected.count(before.encode()) == 1, (old, before)
            expected = expected.replace(before.encode(), after.encode())
        new = MOVES.get(old, old)
        assert body_of(messy.read(new)) == expected, new


def test_line_endings_follow_the_file_and_the_bom_is_dropped(messy: Repo, cli: Callable[..., Result]) -> None:
    assert migrate(messy, cli).code == 0
    crlf = messy.read("engineering/ci-cd-guide/pipelines/01-pipeline-templates.md")
    assert b"\n" not in crlf.replace(b"\r\n", b"")  # the new frontmatter lines are CRLF too
    assert crlf.startswith(b"---\r\ntitle: Pipeline Templates\r\n# kept: a comment the team wrote\r\n")
    bom = messy.read("operations/backup/implementation/01-backup-operations.md")
    assert bom.startswith(b"---\n")


def test_frontmatter_is_completed_from_the_file_and_its_history(messy: Repo, cli: Callable[..., Result]) -> None:
    assert migrate(messy, cli).code == 0
    validation = validate_docs(messy.docs, messy.docs / "bookstack" / "bookstack-structure.yaml")
    pages = {page.path: page.frontmatter for page in validation.tree.pages} if validation.tree else {}
    quick = pages["engineering/dev-guide/getting-started/03-quick-start.md"]
    assert quick == {
        "title": "Quick Start",  # the first H1
        "order": 3,  # the file number
        "category": "getting-started",  # the destination chapter
        "tags": [],
        "last_updated": "2024-03-05",  # the last commit's date
        "author": AUTHOR,  # the last commit's author
    }
    templates = pages["engineering/ci-cd-guide/pipelines/01-pipeline-templates.md"]
    assert templates["title"] == "Pipeline Templates"
    assert templates["tags"] == ["ci", "templates"]  # the string was kept, as a list
    assert templates["category"] == "pipelines"  # a category that named no chapter was fixed
    assert pages["engineering/dev-guide/best-practices/03-branch-protection.md"]["title"] == "Branch protection rules"
    # valid values are never overwritten
    assert pages["engineering/dev-guide/getting-started/04-getting-started.md"]["tags"] == ["onboarding"]
    assert pages["engineering/dev-guide/getting-started/01-prerequisites.md"]["author"] == "Sam"
    assert pages["engineering/dev-guide/getting-started/01-prerequisites.md"]["last_updated"] == "2024-01-10"


def test_every_link_still_resolves(messy: Repo, cli: Callable[..., Result]) -> None:
    assert migrate(messy, cli).code == 0
    structure_path = messy.docs / "bookstack" / "bookstack-structure.yaml"
    validation = validate_docs(messy.docs, structure_path)
    assert validation.structure is not None and validation.tree is not None
    problems = check_references(validation.tree, validation.structure)
    assert [p.format() for p in problems if p.severity is Severity.ERROR] == []
    # and the fragment #jobs still finds its heading (a warning otherwise)
    assert [p.format() for p in problems] == []


def test_git_log_follow_finds_the_history_of_moved_files(messy: Repo, cli: Callable[..., Result]) -> None:
    result = migrate(messy, cli)
    assert result.code == 0
    assert "commit the moves first" in result.out
    # as the command advises: the staged moves, then the edits
    messy.commit("docs: move pages", all_files=False)
    messy.commit("docs: complete frontmatter, rewrite links")
    for new in MOVES.values():
        log = messy.git("log", "--follow", "--format=%s", "--", f"docs/{new}")
        assert log.splitlines()[-1] == "docs as they grew", new
    # even the smallest file, whose content the frontmatter more than doubles
    log = messy.git(
        "log", "--follow", "--format=%s", "--", "docs/engineering/dev-guide/best-practices/03-branch-protection.md"
    )
    assert log.splitlines() == ["docs: complete frontmatter, rewrite links", "docs: move pages", "docs as they grew"]


def test_dry_run_changes_nothing_on_disk(messy: Repo, cli: Callable[..., Result]) -> None:
    shutil.copy(EXAMPLE_MAP, messy.root / "migration-map.yaml")
    before = messy.snapshot()
    index_before = (messy.root / ".git" / "index").read_bytes()
    result = cli(messy, "migrate", "--apply", "--dry-run", "--map", "migration-map.yaml")
    assert result.code == 0, result.out
    assert (
        "would move: development/quick-start.md -> engineering/dev-guide/getting-started/03-quick-start.md"
        in result.out
    )
    assert "nothing was changed" in result.out
    assert messy.snapshot() == before
    assert (messy.root / ".git" / "index").read_bytes() == index_before


def test_the_global_dry_run_flag_also_holds_apply_back(messy: Repo, cli: Callable[..., Result]) -> None:
    shutil.copy(EXAMPLE_MAP, messy.root / "migration-map.yaml")
    before = messy.snapshot()
    result = cli(messy, "migrate", "--apply", "--map", "migration-map.yaml", "--dry-run")
    assert result.code == 0
    assert messy.snapshot() == before


def test_report_is_a_markdown_plan(messy: Repo, cli: Callable[..., Result]) -> None:
    shutil.copy(EXAMPLE_MAP, messy.root / "migration-map.yaml")
    before = messy.snapshot()
    result = cli(messy, "migrate", "--report", "--map", "migration-map.yaml")
    assert result.code == 0
    assert messy.snapshot() == before
    report = result.out
    assert report.startswith("# Migration plan for `docs`")
    assert (
        "| `ci-cd/PIPELINE-TEMPLATES.md` | `engineering/ci-cd-guide/pipelines/01-pipeline-templates.md` | map line"
        in report
    )
    assert (
        "| `stack/setup/prerequisites/1-setup.md` | `stack/setup/prerequisites/01-setup.md` | renamed in its folder |"
        in report
    )
    section = report.split("### `engineering/ci-cd-guide/pipelines/01-pipeline-templates.md`", 1)[1].split("###", 1)[0]
    assert 'category: pipelines  # was "ci-cd"' in section
    assert "order: 1  # added" in section
    assert "title:" not in section  # a valid title stays as it is
    assert "- 2 link(s) rewritten" in section


def test_without_the_map_files_outside_the_hierarchy_are_listed_not_guessed(
    messy: Repo, cli: Callable[..., Result]
) -> None:
    result = cli(messy, "migrate", "--report")
    assert result.code == 1
    cannot = result.out.split("## Cannot be placed", 1)[1]
    for old in ("development/quick-start.md", "ci-cd/PIPELINE-TEMPLATES.md", "operations/backup-restore-operations.md"):
        assert f"- `{old}`: not in a book or chapter folder" in cannot
    # the misnamed files already in a chapter are still placed by the name rules
    assert "`stack/setup/post-install/01-setup.md`" in result.out
    applied = cli(messy, "migrate", "--apply")
    assert applied.code == 1  # files are left for a person
    assert (messy.docs / "development" / "quick-start.md").is_file()
    assert (messy.docs / "stack" / "setup" / "post-install" / "01-setup.md").is_file()
    # links to the renamed page from files that stayed put were still rewritten (without quick-start
    # arriving, Getting Started is the third page of its chapter)
    left = messy.read("operations/backup-restore-operations.md")
    assert b"(../engineering/dev-guide/getting-started/03-getting-started.md)" in left
    assert left.startswith("\ufeff# Backup".encode())  # otherwise left exactly as it was


def test_analyze_groups_the_problems_by_rule_id_with_counts(messy: Repo, cli: Callable[..., Result]) -> None:
    before = messy.snapshot()
    result = cli(messy, "migrate", "--analyze")
    assert result.code == 1
    assert messy.snapshot() == before
    out = result.out
    # 50 warnings: the seed structure declares 50 chapters that hold no page yet (chapter-empty)
    assert out.startswith("12 Markdown file(s) under docs: 10 do not conform; 27 error(s), 51 warning(s)")
    assert "chapter-empty (warning): 1 file(s), 50 problem(s)" in out
    assert "not-in-hierarchy (error): 6 file(s), 6 problem(s)" in out
    assert "file-name (error): 3 file(s), 3 problem(s)" in out
    # files outside the hierarchy are checked for frontmatter too, with validate's rule ids
    assert "frontmatter-missing (error): 6 file(s)" in out
    assert "ci-cd/PIPELINE-TEMPLATES.md:4: `tags`" in out
    assert "bom (warning): 1 file(s)" in out
    assert "page-missing (error)" in out


def test_analyze_as_json(messy: Repo, cli: Callable[..., Result]) -> None:
    import json

    result = cli(messy, "--format", "json", "migrate", "--analyze")
    data = json.loads(result.out)
    rules = {group["rule"]: group for group in data["rules"]}
    assert data["markdown_files"] == 12
    assert rules["not-in-hierarchy"]["files"] == 6
    assert {d["path"] for d in rules["file-name"]["diagnostics"]} == {
        "engineering/dev-guide/getting-started/Getting Started.md",
        "stack/setup/prerequisites/1-setup.md",
        "stack/setup/post-install/01_setup.md",
    }


def test_analyze_after_apply_finds_nothing_to_migrate(messy: Repo, cli: Callable[..., Result]) -> None:
    assert migrate(messy, cli).code == 0
    result = cli(messy, "migrate", "--analyze")
    assert result.code == 0
    assert "0 do not conform" in result.out
    assert "nothing to migrate" in result.out
    assert "line-endings (warning)" in result.out  # CRLF files keep their line endings


def test_a_second_apply_changes_nothing(messy: Repo, cli: Callable[..., Result]) -> None:
    assert migrate(messy, cli).code == 0
    messy.commit("migrated")
    before = messy.snapshot()
    again = migrate(messy, cli)
    assert again.code == 0
    assert messy.snapshot() == before
    assert "12 Markdown file(s): 0 to move or rename, 0 to update in place, 12 already fine" in again.out


def test_docs_dir_need_not_be_a_git_work_tree(tmp_path: Path, cli: Callable[..., Result]) -> None:
    from .conftest import make_repo

    repo = make_repo(tmp_path / "plain", MESSY, git=False)
    result = migrate(repo, cli, "--author", "Ops Team")
    assert result.code == 0, result.out
    assert "moved: development/quick-start.md" in result.out
    text = repo.read("engineering/dev-guide/getting-started/03-quick-start.md").decode()
    assert "author: Ops Team" in text
    assert re.search(r"last_updated: '\d{4}-\d{2}-\d{2}'", text)
