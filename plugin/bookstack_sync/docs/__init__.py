"""Reading the docs tree: the structure file (with the JSON Schema generated from it), the page files and
their frontmatter, read once; what is wrong with them is reported as ``diagnostics`` (``check/`` does the rest)."""
