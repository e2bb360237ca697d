"""`make demo`: sync the example docs tree into the bundled fake BookStack, as a Woodpecker push would.

Starts the fake BookStack (the one the tests use) on a free loopback port, runs the `bookstack-sync`
entrypoint twice with only PLUGIN_*/CI_* variables in a throwaway workspace — the first run creates
everything, the second finds nothing to do — and prints the log, the Markdown summary and the start
of the JSON report. Then it reads the pages back and checks that no relative link is left.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.fake_bookstack import FakeBookStack  # noqa: E402

from bookstack_sync.bookstack import BookStackClient  # noqa: E402

_LINK = re.compile(r"\]\(([^)\s]+)")


def banner(text: str) -> None:
    print(f"\n\033[1m=== {text} ===\033[0m" if sys.stdout.isatty() else f"\n=== {text} ===", flush=True)


def run_plugin(workspace: Path, fake: FakeBookStack, event: str) -> int:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workspace),
        "CI": "woodpecker",
        "CI_PIPELINE_EVENT": event,
        "CI_WORKSPACE": str(workspace),
        "CI_REPO": "example/docs",
        "CI_COMMIT_SHA": "5e1f0c0ffee0ddba11dec0de5e1f0c0ffee0ddba",
        "PLUGIN_URL": fake.url,
        "PLUGIN_TOKEN_ID": fake.token_id,
        "PLUGIN_TOKEN_SECRET": fake.token_secret,
        "PLUGIN_DOCS_DIR": "docs",
    }
    script = Path(sys.executable).with_name("bookstack-sync")
    return subprocess.run([str(script)], env=env, cwd=workspace, check=False).returncode


_RESOLVED = ("http://", "https://", "/link/", "/shelves/", "/books/", "/attachments/", "#", "mailto:")


def relative_links(client: BookStackClient) -> list[str]:
    found = []
    for item in client.list("pages"):
        markdown = str(client.read("pages", int(item["id"])).get("markdown") or "")
        for target in _LINK.findall(markdown):
            # BookStack's own paths (a page by id, a shelf/book/chapter by slug, an attachment) resolve for
            # every reader; a path relative to the docs tree would not
            if not target.startswith(_RESOLVED):
                found.append(f"{item['name']}: {target}")
    return found


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bookstack-sync-demo-") as tmp, FakeBookStack() as fake:
        workspace = Path(tmp)
        shutil.copytree(ROOT / "examples" / "docs", workspace / "docs")
        banner(f"first run: sync examples/docs into the fake BookStack at {fake.url}")
        first = run_plugin(workspace, fake, "push")
        banner("bookstack-sync-summary.md (fit for a PR comment)")
        print((workspace / "bookstack-sync-summary.md").read_text(encoding="utf-8"))
        banner("bookstack-sync-report.json (first lines)")
        report = json.loads((workspace / "bookstack-sync-report.json").read_text(encoding="utf-8"))
        print("\n".join(json.dumps(report, indent=2).splitlines()[:25]) + "\n  ...")
        banner("second run: nothing changed, so nothing is written")
        fake.requests.clear()
        second = run_plugin(workspace, fake, "push")
        writes = fake.writes()
        print(f"writes in the second run: {len(writes)} (requests: {len(fake.requests)})")
        banner("pages read back from BookStack")
        with BookStackClient(fake.url, fake.token_id, fake.token_secret, rate_limit=0) as client:
            left = relative_links(client)
        print(f"relative links left: {len(left)}")
        for line in left:
            print(f"  {line}")
        ok = first == 0 and second == 0 and not writes and not left
        print("\ndemo: ok" if ok else "\ndemo: FAILED")
        return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
