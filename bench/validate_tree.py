"""Benchmark: validate a generated docs tree of 10,000 pages (discovery + generated schema + rules).

    python bench/validate_tree.py [--shelves 4 --books-per-shelf 5 --chapters-per-book 20 --pages-per-chapter 25]
                                  [--repeat 3] [--keep DIR]

Prints the page count, the best wall time of ``--repeat`` runs of ``validate_docs``, pages per second
and the machine. The target is under 3 seconds for 10,000 pages on a 2-core CI machine. Not a test:
timings depend on the machine, so nothing here fails on a slow run except the exit status when the
tree does not validate cleanly (which would make the timing meaningless).
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

# run as a script (`python bench/validate_tree.py`): make `bench` importable from the repository root
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.gen_tree import generate_tree
from bookstack_sync.docs.structure import read_structure
from bookstack_sync.docs.tree import discover_tree
from bookstack_sync.docs.validate import missing_pages, order_rules, schema_diagnostics, validate_docs
from bookstack_sync.markdown.content import check_references


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    return (
        f"{platform.system()} {platform.release()} {platform.machine()}, {os.cpu_count()} CPU(s) ({cpu}), "
        f"{platform.python_implementation()} {platform.python_version()}"
    )


def floor(docs: Path, repeat: int) -> float:
    """The best time of what any validation must do: walk the tree, read every page, parse its frontmatter."""
    structure_file = docs / "bookstack" / "bookstack-structure.yaml"
    structure, _ = read_structure(structure_file)
    assert structure is not None
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        discover_tree(docs, structure, skip_dir=structure_file.parent)
        best = min(best, time.perf_counter() - start)
    return best


def breakdown(docs: Path) -> None:
    """Time each stage of validate_docs on its own (one run each), to see where the time goes."""
    structure_file = docs / "bookstack" / "bookstack-structure.yaml"
    start = time.perf_counter()
    structure, _ = read_structure(structure_file)
    assert structure is not None
    stages = [("structure file", time.perf_counter() - start)]
    start = time.perf_counter()
    tree = discover_tree(docs, structure, skip_dir=structure_file.parent)
    stages.append(("discovery (walk, read, frontmatter)", time.perf_counter() - start))
    start = time.perf_counter()
    list(schema_diagnostics(structure, tree.pages))
    stages.append(("generated JSON Schema", time.perf_counter() - start))
    start = time.perf_counter()
    list(missing_pages(structure, tree))
    list(order_rules(tree.pages))
    stages.append(("folder rules (missing pages, order)", time.perf_counter() - start))
    start = time.perf_counter()
    check_references(tree, structure)
    stages.append(("links, images, redirects (content.py)", time.perf_counter() - start))
    for name, seconds in stages:
        print(f"  {name:40s} {seconds:6.3f} s")


def run(docs: Path, repeat: int) -> int:
    structure = docs / "bookstack" / "bookstack-structure.yaml"
    best = float("inf")
    pages = 0
    for i in range(repeat):
        start = time.perf_counter()
        validation = validate_docs(docs, structure)
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        pages = len(validation.tree.pages) if validation.tree else 0
        print(f"run {i + 1}: {elapsed:.3f} s")
        if validation.diagnostics:
            for diagnostic in validation.diagnostics[:20]:
                print(diagnostic.format(), file=sys.stderr)
            print(f"the generated tree does not validate: {validation.summary()}", file=sys.stderr)
            return 1
    least = floor(docs, repeat)
    print(f"pages:        {pages}")
    print(f"best seconds: {best:.3f}")
    print(f"floor:        {least:.3f} s (walk + read + frontmatter parse, best of {repeat})")
    print(f"validation / floor: {best / least:.2f} (bound: 2.00 -> {'met' if best <= 2 * least else 'MISSED'})")
    print(f"pages/second: {pages / best:,.0f}")
    print(f"machine:      {machine()}")
    print(f"target:       < 3 s for 10,000 pages -> {'met' if best < 3 else 'MISSED'}")
    print("stages (each timed on its own; validate_docs overlaps them on two CPUs for a large tree):")
    breakdown(docs)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shelves", type=int, default=4)
    parser.add_argument("--books-per-shelf", type=int, default=5)
    parser.add_argument("--chapters-per-book", type=int, default=20)
    parser.add_argument("--pages-per-chapter", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="generate the tree here and keep it (default: a temp dir)")
    args = parser.parse_args(argv)
    shape = (args.shelves, args.books_per_shelf, args.chapters_per_book, args.pages_per_chapter)
    if args.keep is not None:
        start = time.perf_counter()
        docs = generate_tree(args.keep, *shape)
        print(f"generated in {time.perf_counter() - start:.1f} s: {docs}")
        return run(docs, args.repeat)
    with tempfile.TemporaryDirectory(prefix="bookstack-sync-bench-") as tmp:
        start = time.perf_counter()
        docs = generate_tree(Path(tmp) / "docs", *shape)
        print(f"generated in {time.perf_counter() - start:.1f} s")
        return run(docs, args.repeat)


if __name__ == "__main__":
    sys.exit(main())
