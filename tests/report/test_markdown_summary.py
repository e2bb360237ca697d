"""The Markdown summary: short enough for a PR comment, with links, counts and every error's place."""

from __future__ import annotations

from bookstack_sync.docs.diagnostics import Rule, error
from bookstack_sync.model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Plan
from bookstack_sync.report.summary import COMMENT_LIMIT, MarkdownSummary, comment_length, summary_marker

from .conftest import PAGE, WIKI, plan_result, sync_with_failures, validate_only


def test_a_clean_plan_gets_a_green_title_with_a_one_line_verdict() -> None:
    text = MarkdownSummary().render(plan_result())
    assert text.splitlines()[0] == (
        "## ✅ bookstack-sync plan: 2 pages, 1 book change, 1 page moves, 1 to delete, "
        "1 edited in BookStack, 1 orphan (source gone, kept)"
    )
    assert text.count("Plan: ") == 1


def test_the_verdict_of_a_small_plan_reads_like_a_sentence() -> None:
    result = plan_result()
    result.plan = Plan(
        (
            *(Action(ActionKind.UPDATE, EntityKind.PAGE, f"s/b/0{i}-p.md", "P", i, ("content",)) for i in range(1, 4)),
            Action(ActionKind.MOVE, EntityKind.PAGE, "s/b/05-m.md", "M", 5, ("parent",), "from s/c to s/b"),
            Action(ActionKind.UNCHANGED, EntityKind.PAGE, "s/b/06-u.md", "U", 6),
        )
    )
    assert (
        MarkdownSummary()
        .render(result)
        .startswith("## ✅ bookstack-sync plan: 3 pages change, 1 page moves, nothing deleted\n")
    )


def test_an_empty_plan_says_so() -> None:
    result = plan_result()
    result.plan = Plan(tuple(Action(ActionKind.UNCHANGED, EntityKind.PAGE, f"s/b/0{i}-p.md", "P", i) for i in range(5)))
    text = MarkdownSummary().render(result)
    assert text.startswith("## ✅ bookstack-sync plan: nothing to change: BookStack already matches the docs\n")
    assert "\n- " not in text.split("### Plan", 1)[1]  # no list of unchanged pages


def test_orphans_are_called_orphans_and_drift_names_the_editor() -> None:
    result = sync_with_failures()
    drifted = Action(
        ActionKind.UPDATE,
        EntityKind.PAGE,
        "ops/runbooks/edited.md",
        "Edited",
        15,
        ("content",),
        "edited in BookStack by Human Editor, revision 3 after our 2; git wins",
    )
    orphan = Action(ActionKind.ORPHAN, EntityKind.PAGE, "ops/runbooks/old.md", "Old", 16, (), "source file is gone")
    result.outcomes = [Outcome(drifted, OutcomeStatus.UPDATED, 15), Outcome(orphan, OutcomeStatus.ORPHAN, 16)]
    text = MarkdownSummary().render(result)
    assert "1 page changed, nothing deleted, 1 edited in BookStack, 1 orphan kept" in text.splitlines()[0]
    assert (
        f"- ✏️ updated page [`ops/runbooks/edited.md`]({WIKI}/link/15) (content) — "
        "edited in BookStack by Human Editor, revision 3 after our 2; git wins"
    ) in text
    assert f"- ❓ orphan page [`ops/runbooks/old.md`]({WIKI}/link/16) — source file is gone" in text
    assert "skipped" not in text


def test_a_failed_run_gets_a_red_title() -> None:
    assert MarkdownSummary().render(validate_only()).startswith("## ❌")
    assert MarkdownSummary().render(sync_with_failures()).startswith("## ❌ bookstack-sync sync (sync failed): ")


def test_every_validation_error_is_listed_with_file_and_line() -> None:
    text = MarkdownSummary().render(validate_only())
    assert f"`{PAGE}:2` [field-required] frontmatter field `title` is required" in text
    assert "`bookstack/bookstack-structure.yaml:3` [structure-schema]" in text
    assert "2** error(s)" in text


def test_plan_links_existing_pages_to_bookstack() -> None:
    text = MarkdownSummary().render(plan_result())
    assert f"[`engineering/dev-guide/setup.md`]({WIKI}/link/12) (content, tags)" in text
    assert "from engineering/old to engineering/dev-guide/howto" in text
    assert "**`engineering/dev-guide`** · 1 unchanged" in text and "**`ops/runbooks`** · 1 unchanged" in text
    assert "[pipeline #42](https://ci.example.org/repos/7/pipeline/42)" in text
    assert "[pipeline log](https://ci.example.org/repos/7/pipeline/42)" in text


def test_changes_put_failures_first_with_their_reason_and_link_created_pages() -> None:
    lines = MarkdownSummary().render(sync_with_failures()).splitlines()
    changes = lines[lines.index("### Changes") + 2 :]
    assert changes[:2] == ["**`engineering/dev-guide`** · 1 unchanged", ""]
    changes = changes[2:]
    assert changes[0].startswith("- ❌ failed page [`engineering/dev-guide/setup.md`]")
    assert changes[0].endswith("422 from BookStack: the name field is required")
    assert f"- 🆕 created page [`{PAGE}`]({WIKI}/books/developer-guide/page/prerequisites)" in lines


def test_a_long_plan_is_folded_in_details() -> None:
    result = plan_result()
    result.plan = Plan(
        tuple(Action(ActionKind.CREATE, EntityKind.PAGE, f"s/b{i % 3}/p{i:02}.md", "P") for i in range(30))
    )
    lines = MarkdownSummary(fold_after=20).render(result).splitlines()
    opened = lines.index("<details>")
    assert lines[opened + 1] == "<summary>30 changes in 3 books (click to show)</summary>"
    closed = lines.index("</details>")
    assert sum(line.startswith("- 🆕 create page") for line in lines[opened:closed]) == 30
    short = plan_result()
    assert "<details>" not in MarkdownSummary(fold_after=20).render(short)


def test_a_folded_plan_counts_shelves_apart_from_books() -> None:
    # the demo's first sync: pages in 2 books, and the shelves' own writes (their key is the shelf slug)
    result = plan_result()
    result.plan = Plan(
        (
            *(Action(ActionKind.CREATE, EntityKind.PAGE, f"s/b{i % 2}/p{i:02}.md", "P") for i in range(20)),
            Action(ActionKind.CREATE, EntityKind.SHELF, "s", "S"),
            Action(ActionKind.CREATE, EntityKind.SHELF, "t", "T"),
            Action(ActionKind.CREATE, EntityKind.SHELF, "u", "U"),
        )
    )
    lines = MarkdownSummary(fold_after=20).render(result).splitlines()
    assert "<summary>23 changes in 2 books and 3 shelves (click to show)</summary>" in lines


def test_a_huge_plan_is_cut_to_the_comment_limit_with_a_note() -> None:
    actions = tuple(Action(ActionKind.CREATE, EntityKind.PAGE, f"s/b/p{i:05}.md", f"P{i}") for i in range(5000))
    result = plan_result()
    result.plan = Plan(actions)
    text = MarkdownSummary().render(result)
    assert comment_length(text) <= COMMENT_LIMIT == 65_536
    assert text.splitlines()[0].startswith("## ✅ bookstack-sync plan: 5000 pages change")
    assert "✂️ **Cut here:**" in text and "more line(s) not shown" in text
    shown = text.count("- 🆕 create page")
    assert 500 < shown < 5000
    assert text.count("<details>") == text.count("</details>") == 1
    assert text.rstrip().endswith(summary_marker(result))  # the footer and marker survive the cut
    assert len(MarkdownSummary().render(plan_result())) < 4000 and "Cut here" not in MarkdownSummary().render(
        plan_result()
    )


def test_the_limit_counts_emoji_as_github_does() -> None:
    assert comment_length("✏️ a") == len("✏️ a") and comment_length("🆕") == 2


def test_huge_numbers_of_errors_are_capped_too() -> None:
    result = validate_only()
    result.diagnostics = [error(f"s/b/p{i}.md", 1, Rule.FIELD_REQUIRED, "x") for i in range(1000)]
    text = MarkdownSummary(max_diagnostics=100).render(result)
    assert "…and 900 more" in text and len(text) < 20_000


def test_markdown_in_a_message_cannot_break_the_comment() -> None:
    result = sync_with_failures()
    bad = Action(ActionKind.UPDATE, EntityKind.PAGE, "a/b/c.md", "C", 9)
    result.outcomes = [Outcome(bad, OutcomeStatus.FAILED, error="<script>[x](http://evil) *boom*")]
    text = MarkdownSummary().render(result)
    assert "<script>" not in text and "\\[x\\](http://evil)" in text
