"""Benchmarks (not tests): run them as scripts, e.g. ``python bench/validate_tree.py``."""
