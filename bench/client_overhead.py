"""How much the client itself costs per request, measured against the fake BookStack on loopback.

Runs N GETs and M page creates, sequentially and with ``map_concurrently`` (concurrency 4), with the
client's rate limiter off. A real BookStack spends ~300 ms per request checking the token (api §11), so
these figures only show that the client's own overhead is negligible next to that. Prints figures; not a test.

    .venv/bin/python bench/client_overhead.py [--gets 2000] [--creates 500]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

# Run from a checkout: make the repository root importable for the fake under tests/.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fake_bookstack import FakeBookStack

from bookstack_sync.bookstack import BookStackClient


def _measure(label: str, n: int, run: Callable[[Callable[[int], None]], None], call: Callable[[int], None]) -> None:
    latencies: list[float] = []

    def timed(i: int) -> None:
        start = time.perf_counter()
        call(i)
        latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    run(timed)
    elapsed = time.perf_counter() - start
    print(
        f"  {label:<34} {n:>6} requests  {n / elapsed:>8.0f} req/s  "
        f"mean {statistics.fmean(latencies) * 1000:>6.2f} ms  p95 {_p95(latencies) * 1000:>6.2f} ms"
    )


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gets", type=int, default=2000)
    parser.add_argument("--creates", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()} ({platform.python_implementation()})"
    )
    with FakeBookStack() as fake:
        seq = BookStackClient(fake.url, fake.token_id, fake.token_secret, rate_limit=0, concurrency=1)
        par = BookStackClient(fake.url, fake.token_id, fake.token_secret, rate_limit=0, concurrency=args.concurrency)
        book = seq.create("books", {"name": "bench"})

        def get(i: int) -> None:
            seq.read("books", book["id"])

        def get_par(i: int) -> None:
            par.read("books", book["id"])

        def create(i: int) -> None:
            seq.create("pages", {"book_id": book["id"], "name": f"seq {i}", "markdown": f"# Page {i}\n\nText."})

        def create_par(i: int) -> None:
            par.create("pages", {"book_id": book["id"], "name": f"par {i}", "markdown": f"# Page {i}\n\nText."})

        def sequential(n: int) -> Callable[[Callable[[int], None]], None]:
            def run(fn: Callable[[int], None]) -> None:
                for i in range(n):
                    fn(i)

            return run

        def concurrent(n: int) -> Callable[[Callable[[int], None]], None]:
            def run(fn: Callable[[int], None]) -> None:
                par.map_concurrently(fn, range(n))

            return run

        print(f"fake BookStack on {fake.url}, client rate limiter off")
        _measure("GET /api/books/{id}, sequential", args.gets, sequential(args.gets), get)
        _measure(f"GET /api/books/{{id}}, concurrency {args.concurrency}", args.gets, concurrent(args.gets), get_par)
        _measure("POST /api/pages, sequential", args.creates, sequential(args.creates), create)
        _measure(f"POST /api/pages, concurrency {args.concurrency}", args.creates, concurrent(args.creates), create_par)
        total = seq.stats.total + par.stats.total
        print(f"requests counted by the clients: {total}")
        seq.close()
        par.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
