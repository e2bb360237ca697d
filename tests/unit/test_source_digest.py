"""The docs digest is combinable: one file's hash taken out and another put in gives the digest of the
docs with that file changed; ``CI_PIPELINE_FILES`` is read relative to the workspace."""

from __future__ import annotations

import json
from pathlib import Path

from bookstack_sync.plan.history import pipeline_files
from bookstack_sync.plan.record import combine, docs_digest, file_shares, source_hash


def test_swapping_one_files_hash_gives_the_digest_of_the_changed_docs(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "a").mkdir(parents=True)
    (docs / "a" / "one.md").write_text("one\n", encoding="utf-8")
    (docs / "two.md").write_text("two\n", encoding="utf-8")
    before = docs_digest(file_shares(docs), {"x": 1})
    (docs / "a" / "one.md").write_text("one, edited\n", encoding="utf-8")
    after = docs_digest(file_shares(docs), {"x": 1})
    assert before != after and len(after) == 16
    assert combine(after, source_hash("a/one.md", b"one, edited\n"), source_hash("a/one.md", b"one\n")) == before
    # another file changed as well: the swap of the first alone no longer gives the old digest
    (docs / "two.md").write_text("two, edited\n", encoding="utf-8")
    both = docs_digest(file_shares(docs), {"x": 1})
    assert combine(both, source_hash("a/one.md", b"one, edited\n"), source_hash("a/one.md", b"one\n")) != before
    # the same bytes under another name are another file
    assert source_hash("a/one.md", b"x") != source_hash("a/two.md", b"x")
    assert docs_digest(file_shares(docs), {"x": 2}) != both


def test_the_pipelines_files_under_the_docs_relative_to_them(tmp_path: Path) -> None:
    env = {"CI_WORKSPACE": str(tmp_path)}
    files = ["docs/a/one.md", "README.md", "./docs/b/../two.md", "docsy/x.md"]
    assert pipeline_files(tmp_path / "docs", {**env, "CI_PIPELINE_FILES": json.dumps(files)}) == (
        ["a/one.md", "two.md"],
        "",
    )
    assert pipeline_files(tmp_path, {**env, "CI_PIPELINE_FILES": json.dumps(files[:2])}) == (
        ["README.md", "docs/a/one.md"],
        "",
    )
    assert pipeline_files(tmp_path / "docs", env) == (None, "CI_PIPELINE_FILES is not set")
    assert pipeline_files(tmp_path / "docs", {**env, "CI_PIPELINE_FILES": '{"a": 1}'})[0] is None
    outside = pipeline_files(tmp_path.parent, {**env, "CI_PIPELINE_FILES": '["x.md"]'})
    assert outside == (None, "the docs lie outside the workspace CI_PIPELINE_FILES is relative to")
