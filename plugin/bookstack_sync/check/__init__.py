"""Checking the docs tree: every page against the generated schema and the folder rules (``validate``), every
link (``references``); a large tree on two CPUs (``parallel``). Reads the tree through ``docs`` and the pages
through ``markdown``."""
