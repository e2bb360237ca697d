"""The ``max_upload_mb`` setting is the limit files are checked against, however validation runs."""

from __future__ import annotations

import pytest

from bookstack_sync.check import parallel
from bookstack_sync.check.validate import validate_docs
from bookstack_sync.docs.diagnostics import Rule

from .conftest import Docs, page_text

PAGE = "eng/guide/setup/01-install.md"
SIZE = 1_500_000  # bytes: over 1 MB as BookStack counts it (1000 KiB), far under the default 50 MB


@pytest.mark.parametrize("processes", [1, 2])
def test_the_limit_given_is_the_limit_checked(docs: Docs, monkeypatch: pytest.MonkeyPatch, processes: int) -> None:
    if processes == 2:
        monkeypatch.setattr(parallel, "PARALLEL_MIN_PAGES", 1)  # the forked validation, on a small tree
        if not parallel.can_fork(4):
            pytest.skip("the forked validation needs Linux, two CPUs and no other thread")
    docs.write(PAGE, page_text("setup", 1, body="Get [the disk image](files/disk.img).\n"))
    docs.write("eng/guide/setup/files/disk.img", b"\0" * SIZE)
    assert docs.validate().diagnostics == []  # the default, 50 MB
    found = validate_docs(docs.root, docs.structure, max_upload_mb=1).diagnostics
    assert [(d.path, d.rule) for d in found] == [(PAGE, Rule.FILE_TOO_LARGE)]
    assert "over the upload limit of 1 MB (setting `max_upload_mb`" in found[0].message
