"""The log moves while the plugin writes: a line per write as it happens, a named slow request, an
announced wait. Each line is timed as it reaches stderr, through the entrypoint, against a fake
BookStack that takes a set time per request."""

from __future__ import annotations

import itertools
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest

from bookstack_sync.cli import main
from tests.bookstack_target import BookStackTarget
from tests.fake_bookstack import FakeBookStack

from .conftest import Docs, Plugin

PROGRESS = re.compile(r"^\[\s*\d+/\d+\] (\w+) (.+)$")


@dataclass
class TimedStream:
    """Stands in for stderr: every line with the moment it was written."""

    lines: list[tuple[float, str]] = field(default_factory=list)
    _partial: str = ""

    def write(self, text: str) -> int:
        now = time.monotonic()
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        self.lines.extend((now, line) for line in complete)
        return len(text)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False

    def text(self) -> str:
        return "\n".join(line for _, line in self.lines)

    def longest_gap(self) -> float:
        times = [t for t, _ in self.lines]
        return max((b - a for a, b in itertools.pairwise(times)), default=0.0)


def run_timed(
    fake: FakeBookStack, docs: Docs, capsys: pytest.CaptureFixture[str], **settings: str
) -> tuple[int, TimedStream]:
    target = BookStackTarget(fake.base_url, fake.token_id, fake.token_secret, fake=fake)
    environ = Plugin(target, docs, capsys).environ(**{"import": "never", **settings})
    stream = TimedStream()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "stderr", stream)
        code = main([], environ)
    return code, stream


def more_pages(docs: Docs, count: int) -> None:
    """``count`` more pages in the Runbooks chapter (it lists no pages, so any file is one)."""
    for n in range(2, count + 2):
        docs.page(f"eng/ops/runbooks/{n:02d}-step-{n}.md", f"Step {n}", f"Do step {n}.\n")


def test_each_page_is_logged_when_it_is_written_not_after_the_phase(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    more_pages(docs, 8)
    fake = fakes(latency=0.1)
    code, log = run_timed(fake, docs, capsys, concurrency="1")
    assert code == 0, log.text()
    page_lines = [
        (t, m.group(2)) for t, line in log.lines if (m := PROGRESS.match(line)) and m.group(2).endswith(".md")
    ]
    assert len(page_lines) == 15
    # fifteen page writes of 0.1 s each one after the other: their lines come over more than a second,
    # one by one, not in one burst when the last page is done
    assert page_lines[-1][0] - page_lines[0][0] > 1.0
    assert all(b - a > 0.05 for (a, _), (b, _) in itertools.pairwise(page_lines))


def test_a_slow_answer_is_named_while_it_lasts(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    fake = fakes()
    fake.faults.hang_next(7.0, methods="POST", path_prefix="/api/pages")
    code, log = run_timed(fake, docs, capsys)
    assert code == 0, log.text()
    assert re.search(r"… waiting for BookStack to answer POST /api/pages: [4-7] s so far", log.text()), log.text()
    assert log.longest_gap() < 5.0, log.text()


def test_a_rate_limited_request_says_how_long_it_waits(
    docs: Docs, fakes: Callable[..., FakeBookStack], capsys: pytest.CaptureFixture[str]
) -> None:
    fake = fakes()
    fake.faults.rate_limit_next(retry_after=2, methods="POST", path_prefix="/api/pages")
    code, log = run_timed(fake, docs, capsys, rate_limit="180")
    assert code == 0, log.text()
    assert re.search(r"POST /api/pages: 429 rate limited on attempt 1 of \d+; retrying in 2\.0 s", log.text())
