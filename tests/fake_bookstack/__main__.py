"""Run the fake in the foreground: ``python -m tests.fake_bookstack --port 8080``."""

from __future__ import annotations

import argparse
import threading

from .server import FakeBookStack


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fake_bookstack", description=__doc__)
    parser.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0 = any free port)")
    parser.add_argument("--token-id", default="test-token-id")
    parser.add_argument("--token-secret", default="test-token-secret")
    parser.add_argument("--version", default="v25.11.0", help='BookStack version to imitate, e.g. "v25.02.4"')
    parser.add_argument("--chapterless-chapter-id", type=int, default=None, help="0 to imitate servers before v25.11")
    parser.add_argument("--rate-limit", type=int, default=None, help="requests per minute (default: unlimited)")
    parser.add_argument("--latency", type=float, default=0.0, help="seconds each request takes (a real one: ~0.24)")
    parser.add_argument("--app-url", default=None, help="BookStack's APP_URL (default: http://localhost:PORT)")
    args = parser.parse_args(argv)
    fake = FakeBookStack(
        token_id=args.token_id,
        token_secret=args.token_secret,
        version=args.version,
        chapterless_chapter_id=args.chapterless_chapter_id,
        rate_limit=args.rate_limit,
        port=args.port,
        latency=args.latency,
        app_url=args.app_url,
    )
    url = fake.start()
    print(f"Fake BookStack {args.version} at {url} (APP_URL {fake.app_url})", flush=True)
    print(f"Authorization: Token {args.token_id}:{args.token_secret}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping", flush=True)
    finally:
        fake.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
