"""Benchmark: validate generated docs trees of 10,000 pages against the floor (walk + read + frontmatter parse).

    python bench/validate_tree.py [--shelves 4 --books-per-shelf 5 --chapters-per-book 20 --pages-per-chapter 25]
                                  [--rounds 5] [--keep DIR] [--startup]

Two trees of the same shape: ``plain`` (each page links to the next page and to a heading of the next
chapter, as bench/gen_tree.py writes by default) and ``linked`` (``--dense-links``: every page links to
several others, most with a ``#fragment``). For each, ``--rounds`` interleaved rounds time the floor, then
``validate_docs``; the ratio is best validation / best floor, so load from other processes on the machine
weighs on both alike. Bounds: 1.3x (plain) and 1.6x (linked). Each validation starts with the text-keyed
caches empty, as a new process does. Also printed: the CPU seconds of both processes against the floor's
(what a machine with no CPU to spare pays), what each of the two processes did in the best run (CPU and
wall seconds per stage), and each stage timed on its own in one process (CPU seconds). ``--startup``
also times the command line (``bookstack-sync validate --help`` and a 1-page tree) in fresh processes.
Not a test: timings depend on the machine; the exit status is 1 only when a generated tree does not
validate cleanly.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

# run as a script (`python bench/validate_tree.py`): make `bench` importable from the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_tree import add_shape_arguments, generate_tree, shape_of
from bookstack_sync.check import parallel
from bookstack_sync.check.references import LinkChecker, checking_order
from bookstack_sync.check.validate import missing_pages, order_rules, schema_diagnostics, validate_docs
from bookstack_sync.docs.structure import read_structure
from bookstack_sync.docs.tree import discover_tree
from bookstack_sync.markdown import headings, links


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPU(s) ({cpu}), "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


BOUNDS = {"plain": 1.3, "linked": 1.6}


def _floor(docs: Path) -> Callable[[], object]:
    """What any validation must do, as a call: walk the tree, read every page, parse its frontmatter.

    The structure file is read beforehand, outside the timing (validation's time includes it).
    """
    structure_file = docs / "bookstack" / "bookstack-structure.yaml"
    structure, _ = read_structure(structure_file)
    assert structure is not None
    return lambda: discover_tree(docs, structure, skip_dir=structure_file.parent)


def _cold() -> None:
    """Empty the caches keyed by page text, as a new process starts: repeated runs must not find them warm."""
    links._CACHE.clear()
    for cached in (headings.anchors_of, headings._plain_heading_slugs, headings.github_slug):
        cached.cache_clear()


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _cpu(fn: Callable[[], object]) -> float:
    start = time.process_time()
    fn()
    return time.process_time() - start


def breakdown(docs: Path) -> None:
    """Time each stage of validate_docs on its own in this process (CPU seconds, one run each), to see
    where the time goes."""
    structure_file = docs / "bookstack" / "bookstack-structure.yaml"
    start = time.process_time()
    structure, _ = read_structure(structure_file)
    assert structure is not None
    stages = [("structure file", time.process_time() - start)]
    start = time.process_time()
    tree = discover_tree(docs, structure, skip_dir=structure_file.parent)
    stages.append(("discovery (walk, read, frontmatter)", time.process_time() - start))
    stages.append(("JSON Schema", _cpu(lambda: list(schema_diagnostics(structure, tree.pages)))))
    stages.append(("folder rules", _cpu(lambda: (list(missing_pages(structure, tree)), list(order_rules(tree.pages))))))
    ordered = checking_order(tree)
    _cold()
    stages.append(("links (one process)", _cpu(lambda: LinkChecker(tree, structure).check(ordered))))
    for name, seconds in stages:
        print(f"    {name:38s} {seconds:6.3f} s")


def measure(name: str, docs: Path, rounds: int) -> tuple[float, float] | None:
    """Best floor and best validation over ``rounds`` interleaved rounds; None when the tree is not valid."""
    structure = docs / "bookstack" / "bookstack-structure.yaml"
    validation = validate_docs(docs, structure)
    if validation.diagnostics:
        for diagnostic in validation.diagnostics[:20]:
            print(diagnostic.format(), file=sys.stderr)
        print(f"the {name} tree does not validate: {validation.summary()}", file=sys.stderr)
        return None
    floor = _floor(docs)
    floors: list[float] = []
    runs: list[float] = []
    floor_cpu: list[float] = []
    run_cpu: list[float] = []
    split = None  # what each process did in the best run
    for _ in range(rounds):
        cpu = time.process_time()
        floors.append(_timed(floor))
        floor_cpu.append(time.process_time() - cpu)
        _cold()
        parallel.last_split = None
        cpu = time.process_time()
        runs.append(_timed(lambda: validate_docs(docs, structure)))
        run_cpu.append(time.process_time() - cpu + (parallel.last_split[1].cpu_total if parallel.last_split else 0.0))
        if runs[-1] == min(runs):
            split = parallel.last_split
    least, best = min(floors), min(runs)
    bound = BOUNDS[name]
    pages = len(validation.tree.pages) if validation.tree else 0
    print(f"{name}: {pages} pages")
    print(f"  floor (walk + read + frontmatter): {' '.join(f'{t:.3f}' for t in floors)} -> best {least:.3f} s")
    print(f"  validation:                        {' '.join(f'{t:.3f}' for t in runs)} -> best {best:.3f} s")
    verdict = "met" if best <= bound * least else "MISSED"
    print(f"  validation / floor: {best / least:.2f} (bound {bound:.1f}: {verdict}); {pages / best:,.0f} pages/s")
    print(
        f"  CPU seconds (both processes): floor {min(floor_cpu):.3f}, validation {min(run_cpu):.3f} "
        f"= {min(run_cpu) / min(floor_cpu):.2f} x"
    )
    if split is not None:
        print("  the two processes of the best run (seconds per stage, CPU / wall):")
        for role, share in zip(("parent", "worker"), split, strict=True):
            stages = ", ".join(f"{name} {share.cpu[name]:.3f}/{share.wall[name]:.3f}" for name in share.cpu)
            print(f"    {role}: {stages}; {share.slices} link slices; CPU {share.cpu_total:.3f}")
    print("  stages (each timed on its own, one process, CPU seconds):")
    breakdown(docs)
    return least, best


def startup(rounds: int) -> None:
    """Wall time of the command line in fresh processes: ``validate --help`` and a 1-page tree (best of rounds)."""
    with tempfile.TemporaryDirectory(prefix="bookstack-sync-bench-") as tmp:
        docs = generate_tree(Path(tmp) / "docs", 1, 1, 1, 1, with_links=False)
        commands = {
            "validate --help": ["validate", "--help"],
            "validate (1 page)": ["validate", "--docs-dir", str(docs)],
        }
        for label, args in commands.items():
            times = []
            for _ in range(rounds):
                start = time.perf_counter()
                subprocess.run([sys.executable, "-m", "bookstack_sync", *args], check=True, stdout=subprocess.DEVNULL)
                times.append(time.perf_counter() - start)
            print(f"start-up, {label:18s} {' '.join(f'{t:.3f}' for t in times)} -> best {min(times):.3f} s")


def run(root: Path, shape: tuple[int, int, int, int], rounds: int, with_startup: bool) -> int:
    trees = {}
    for name in BOUNDS:
        start = time.perf_counter()
        trees[name] = generate_tree(root / name, *shape, dense_links=name == "linked")
        print(f"{name} tree generated in {time.perf_counter() - start:.1f} s")
    print(f"machine: {machine()}, load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    status = 0
    for name, docs in trees.items():
        if measure(name, docs, rounds) is None:
            status = 1
    if with_startup:
        startup(rounds)
    return status


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_shape_arguments(parser, 4, 5, 20, 25)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--keep", type=Path, help="generate the trees under this folder and keep them")
    parser.add_argument("--startup", action="store_true", help="also time the command line's start-up")
    args = parser.parse_args(argv)
    shape = shape_of(args)
    if args.keep is not None:
        return run(args.keep, shape, args.rounds, args.startup)
    with tempfile.TemporaryDirectory(prefix="bookstack-sync-bench-") as tmp:
        return run(Path(tmp), shape, args.rounds, args.startup)


if __name__ == "__main__":
    sys.exit(main())
