"""Reading and checking the docs tree: the structure file, the page files, the generated schema, validation."""
