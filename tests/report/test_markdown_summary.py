"""The Markdown summary: short enough for a PR comment, with links, counts and every error's place."""

from __future__ import annotations

from bookstack_sync.diagnostics import Rule, error
from bookstack_sync.model import Action, ActionKind, EntityKind, Outcome, OutcomeStatus, Plan
from bookstack_sync.report import MarkdownSummary

from .conftest import PAGE, WIKI, plan_result, sync_with_failures, validate_only


def test_a_clean_plan_gets_a_green_title_with_the_counts() -> None:
    text = MarkdownSummary().render(plan_result())
    title = text.splitlines()[0]
    assert title.startswith("## ✅ bookstack-sync plan")
    assert "2 to create, 1 to update, 1 to move, 1 to delete" in title


def test_a_failed_run_gets_a_red_title() -> None:
    assert MarkdownSummary().render(validate_only()).startswith("## ❌")
    assert MarkdownSummary().render(sync_with_failures()).startswith("## ❌ bookstack-sync sync: sync failed")


def test_every_validation_error_is_listed_with_file_and_line() -> None:
    text = MarkdownSummary().render(validate_only())
    assert f"`{PAGE}:2` [field-required] frontmatter field `title` is required" in text
    assert "`bookstack/bookstack-structure.yaml:3` [structure-schema]" in text
    assert "2** error(s)" in text


def test_plan_links_existing_pages_to_bookstack() -> None:
    text = MarkdownSummary().render(plan_result())
    assert f"[`engineering/dev-guide/setup.md`]({WIKI}/link/12) (content, tags)" in text
    assert "from engineering/old to engineering/dev-guide/howto" in text
    assert "- 2 unchanged" in text
    assert "[pipeline #42](https://ci.example.org/repos/7/pipeline/42)" in text


def test_changes_put_failures_first_with_their_reason_and_link_created_pages() -> None:
    lines = MarkdownSummary().render(sync_with_failures()).splitlines()
    changes = lines[lines.index("### Changes") + 2 :]
    assert changes[0].startswith("- failed page [`engineering/dev-guide/setup.md`]")
    assert changes[0].endswith("422 from BookStack: the name field is required")
    assert f"- created page [`{PAGE}`]({WIKI}/books/developer-guide/page/prerequisites)" in lines


def test_a_huge_plan_is_capped_with_and_n_more() -> None:
    actions = tuple(Action(ActionKind.CREATE, EntityKind.PAGE, f"s/b/p{i:04}.md", f"P{i}") for i in range(5000))
    result = plan_result()
    result.plan = Plan(actions)
    text = MarkdownSummary(max_items=50).render(result)
    assert "…and 4950 more" in text
    assert text.count("create page") == 50
    assert len(text) < 10_000  # GitHub/Gitea comments stop at 65536 characters


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
