"""Every rule the validator emits: one or more cases that trigger it (path, line, rule id, severity),
and near misses that must not. Each case asserts the complete set of diagnostics, so a rule that
fires where it should not fails the test too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest

from bookstack_sync.docs.diagnostics import Rule, Severity

from .conftest import STRUCTURE, STRUCTURE_REL, Docs, page_text

# added by a colleague together with the content checks; covered by their tests
NOT_YET_EMITTED = {
    Rule.LINK_BROKEN,
    Rule.IMAGE_BROKEN,
    Rule.IMAGE_UNSUPPORTED,
    Rule.FILE_TOO_LARGE,
    Rule.REDIRECT_TARGET,
}

INSTALL = "eng/guide/setup/01-install.md"
CONFIGURE = "eng/guide/setup/02-configure.md"
INTRO = "eng/guide/01-intro.md"
NOTE = "eng/guide/notes/01-first-note.md"
S = STRUCTURE_REL

Found = set[tuple[str, int | None, Rule]]

# 9 lists of 9 references each to the list before: a kilobyte that expands to 9^9 strings (first alias on line 2)
BILLION_LAUGHS = 'a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n' + "".join(
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n" for i in range(8)
)


@dataclass(frozen=True)
class Case:
    id: str
    setup: Callable[[Docs], object]
    expected: Found
    severity: Severity | None = Severity.ERROR

    def __str__(self) -> str:
        return self.id


def structure(text: str) -> Callable[[Docs], object]:
    return lambda d: d.write(S, text)


def shelf_with(body: str) -> str:
    """A one-shelf structure with ``body`` as the shelf's mapping (indented by the caller)."""
    return "structure:\n  - shelf:\n" + body


POSITIVE: list[Case] = [
    # --- the structure file ---
    Case("structure-unreadable", structure("structure: \udcff"), set()),  # replaced below (bytes)
    Case(
        "structure-syntax-tab",
        structure("structure:\n  - shelf:\n\tname: x\n"),
        {(S, 3, Rule.STRUCTURE_SYNTAX)},
    ),
    Case(
        "structure-syntax-mapping-value",
        structure('structure:\n  - shelf:\n      name: "Eng"\n      slug: a: b\n'),
        {(S, 4, Rule.STRUCTURE_SYNTAX)},
    ),
    Case(
        "structure-unknown-key",
        structure(shelf_with("      name: Eng\n      colour: red\n")),
        {(S, 4, Rule.STRUCTURE_SCHEMA)},
    ),
    Case(
        "structure-unknown-key-on-book",
        structure(
            shelf_with("      name: Eng\n      books:\n        - book:\n            name: B\n            chapter: []\n")
        ),
        {(S, 7, Rule.STRUCTURE_SCHEMA)},
    ),
    Case("structure-unknown-top-key", structure("structure: []\nshelves: []\n"), {(S, 2, Rule.STRUCTURE_SCHEMA)}),
    Case("structure-missing-name", structure(shelf_with("      slug: eng\n")), {(S, 2, Rule.STRUCTURE_SCHEMA)}),
    Case("structure-blank-name", structure(shelf_with('      name: "   "\n')), {(S, 3, Rule.STRUCTURE_SCHEMA)}),
    Case("structure-name-not-text", structure(shelf_with("      name: 12\n")), {(S, 3, Rule.STRUCTURE_SCHEMA)}),
    Case(
        "structure-name-without-slug",
        structure(shelf_with('      name: "!!!"\n')),
        {(S, 2, Rule.STRUCTURE_SCHEMA)},
    ),
    Case("structure-missing-key", structure("shelves: []\n"), {(S, 1, Rule.STRUCTURE_SCHEMA)}),
    Case("structure-empty-file", structure(""), {(S, None, Rule.STRUCTURE_SCHEMA)}),
    Case("structure-not-a-list", structure("structure: {a: 1}\n"), {(S, 1, Rule.STRUCTURE_SCHEMA)}),
    Case(
        "structure-reserved-slug",
        structure(shelf_with("      name: BookStack\n")),
        {(S, 2, Rule.STRUCTURE_SCHEMA)},
    ),
    *[
        Case(
            f"structure-slug-{name}",
            structure(shelf_with(f"      name: Eng\n      slug: {slug}\n")),
            {(S, 4, Rule.STRUCTURE_SCHEMA)},
        )
        for name, slug in [
            ("dotdot", '".."'),
            ("slash", '"a/b"'),
            ("absolute", '"/etc"'),
            ("empty", '""'),
            ("upper", "Eng"),
            ("underscore", "my_shelf"),
            ("double-hyphen", "a--b"),
            ("leading-hyphen", "-a"),
            ("space", '"a b"'),
            ("trailing-newline", '"eng\\n"'),
            ("number", "12"),
        ]
    ],
    *[
        Case(
            f"structure-page-stem-{name}",
            structure(
                shelf_with(
                    f"      name: Eng\n      books:\n        - book:\n            name: B\n            pages: [{stem}]\n"
                )
            ),
            {(S, 7, Rule.STRUCTURE_SCHEMA)},
        )
        for name, stem in [
            ("one-digit", '"1-setup"'),
            ("underscore", '"01_setup"'),
            ("upper", '"01-Setup"'),
            ("with-extension", '"01-setup.md"'),
            ("three-digits", '"001-setup"'),
            ("no-words", '"01"'),
            ("path", '"../01-setup"'),
        ]
    ],
    Case(
        "structure-duplicate-shelf",
        structure("structure:\n  - shelf:\n      name: Eng\n  - shelf:\n      name: Other\n      slug: eng\n"),
        {(S, 4, Rule.STRUCTURE_DUPLICATE_SLUG)},
    ),
    Case(
        "structure-duplicate-derived-slug",
        structure("structure:\n  - shelf:\n      name: Set Up\n  - shelf:\n      name: set-up\n"),
        {(S, 4, Rule.STRUCTURE_DUPLICATE_SLUG)},
    ),
    Case(
        "structure-duplicate-book",
        structure(
            shelf_with(
                "      name: Eng\n      books:\n"
                "        - book:\n            name: Guide\n"
                "        - book:\n            name: Other\n            slug: guide\n"
            )
        ),
        {(S, 7, Rule.STRUCTURE_DUPLICATE_SLUG)},
    ),
    Case(
        "structure-duplicate-chapter",
        structure(STRUCTURE.replace("slug: notes", "slug: setup")),
        {(S, 15, Rule.STRUCTURE_DUPLICATE_SLUG)},
    ),
    Case(
        "structure-duplicate-page",
        structure(STRUCTURE.replace('pages: ["01-install", "02-configure"]', 'pages: ["01-install",\n  "01-install"]')),
        {(S, 15, Rule.STRUCTURE_DUPLICATE_SLUG)},
    ),
    # --- files and folders ---
    Case("not-in-hierarchy-root", lambda d: d.page("README.md", "x"), {("README.md", None, Rule.NOT_IN_HIERARCHY)}),
    Case(
        "not-in-hierarchy-shelf-level",
        lambda d: d.page("eng/01-x.md", "eng"),
        {("eng/01-x.md", None, Rule.NOT_IN_HIERARCHY)},
    ),
    Case(
        "not-in-hierarchy-unknown-chapter",
        lambda d: d.page("eng/guide/unknown/01-x.md"),
        {("eng/guide/unknown/01-x.md", None, Rule.NOT_IN_HIERARCHY)},
    ),
    Case(
        "not-in-hierarchy-too-deep",
        lambda d: d.page("eng/guide/setup/deeper/01-x.md"),
        {("eng/guide/setup/deeper/01-x.md", None, Rule.NOT_IN_HIERARCHY)},
    ),
    Case(
        "not-in-hierarchy-unknown-shelf",
        lambda d: d.page("ops/guide/setup/01-install.md", "setup"),
        {("ops/guide/setup/01-install.md", None, Rule.NOT_IN_HIERARCHY)},
    ),
    *[
        Case(
            f"file-name-{name}",
            (lambda d, f=file_name: d.page(f"eng/guide/notes/{f}", "notes", 1)),
            {(f"eng/guide/notes/{file_name}", None, Rule.FILE_NAME)},
        )
        for name, file_name in [
            ("one-digit", "1-setup.md"),
            ("underscore", "01_setup.md"),
            ("spaces", "Getting Started.md"),
            ("upper", "01-Setup.md"),
            ("upper-extension", "01-setup.MD"),
            ("three-digits", "001-setup.md"),
            ("no-words", "01.md"),
            ("double-hyphen", "01--setup.md"),
        ]
    ],
    Case(
        "page-not-listed",
        lambda d: d.page("eng/guide/setup/03-extra.md"),
        {("eng/guide/setup/03-extra.md", None, Rule.PAGE_NOT_LISTED)},
    ),
    Case(
        "page-not-listed-book-level",
        lambda d: d.page("eng/guide/02-extra.md", "guide"),
        {("eng/guide/02-extra.md", None, Rule.PAGE_NOT_LISTED)},
    ),
    Case("page-missing", lambda d: d.remove(CONFIGURE), {(S, 14, Rule.PAGE_MISSING)}),
    Case("page-missing-book-level", lambda d: d.remove(INTRO), {(S, 9, Rule.PAGE_MISSING)}),
    # a declared chapter with nothing to put in it: a sync would create it empty
    Case("chapter-empty", lambda d: d.remove(NOTE), {(S, 15, Rule.CHAPTER_EMPTY)}, Severity.WARNING),
    Case(
        "chapter-empty-pages-list",
        lambda d: [d.write(S, STRUCTURE + "                  pages: []\n"), d.remove(NOTE)],
        {(S, 15, Rule.CHAPTER_EMPTY)},
        Severity.WARNING,
    ),
    Case(
        "chapter-empty-only-ignored-or-misnamed-files",
        lambda d: [d.remove(NOTE), d.write("eng/guide/notes/NOTES.md", "scratch\n")],
        {(S, 15, Rule.CHAPTER_EMPTY), ("eng/guide/notes/NOTES.md", None, Rule.FILE_NAME)},
        None,
    ),
    # every mistake of an unlisted page shows in the run that says it is not listed
    Case(
        "page-not-listed-with-bad-yaml",
        lambda d: d.write("eng/guide/setup/03-extra.md", "---\ntitle: T\ntags: [a, b\norder: 3\n---\n"),
        {
            ("eng/guide/setup/03-extra.md", None, Rule.PAGE_NOT_LISTED),
            ("eng/guide/setup/03-extra.md", 3, Rule.FRONTMATTER_SYNTAX),
        },
    ),
    Case(
        "page-not-listed-with-bad-fields",
        lambda d: d.write("eng/guide/setup/03-extra.md", page_text("notes", 3, last_updated="'17/01/2025'")),
        {
            ("eng/guide/setup/03-extra.md", None, Rule.PAGE_NOT_LISTED),
            ("eng/guide/setup/03-extra.md", 4, Rule.CATEGORY_MISMATCH),
            ("eng/guide/setup/03-extra.md", 6, Rule.FIELD_VALUE),
        },
    ),
    # --- reading a page file ---
    Case("encoding", lambda d: d.write(INSTALL, b'---\ntitle: "caf\xe9"\n---\n'), {(INSTALL, 2, Rule.ENCODING)}),
    Case(
        "bom",
        lambda d: d.write(INSTALL, "\ufeff" + page_text("setup", 1)),
        {(INSTALL, 1, Rule.BOM)},
        Severity.WARNING,
    ),
    Case(
        "line-endings",
        lambda d: d.write(INSTALL, page_text("setup", 1).replace("\n", "\r\n")),
        {(INSTALL, 1, Rule.LINE_ENDINGS)},
        Severity.WARNING,
    ),
    Case("empty-file", lambda d: d.write(INSTALL, b""), {(INSTALL, 1, Rule.EMPTY_FILE)}),
    Case("empty-file-whitespace", lambda d: d.write(INSTALL, "\n  \n"), {(INSTALL, 1, Rule.EMPTY_FILE)}),
    Case(
        "frontmatter-missing",
        lambda d: d.write(INSTALL, "# Install\n\ntitle: x\n"),
        {(INSTALL, 1, Rule.FRONTMATTER_MISSING)},
    ),
    Case(
        "frontmatter-missing-late-fence",
        lambda d: d.write(INSTALL, "\n---\ntitle: x\n---\n"),
        {(INSTALL, 1, Rule.FRONTMATTER_MISSING)},
    ),
    Case(
        "frontmatter-unterminated",
        lambda d: d.write(INSTALL, '---\ntitle: "x"\norder: 1\n\n# Body\n'),
        {(INSTALL, 1, Rule.FRONTMATTER_UNTERMINATED)},
    ),
    Case(
        "frontmatter-syntax",
        lambda d: d.write(INSTALL, '---\ntitle: "x"\norder: 1\ncategory: : setup\n---\n'),
        {(INSTALL, 4, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "frontmatter-syntax-tab",
        lambda d: d.write(INSTALL, '---\ntitle: "x"\n\torder: 1\n---\n'),
        {(INSTALL, 3, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "frontmatter-syntax-after-blank-lines",
        lambda d: d.write(INSTALL, '---\n\n\ntitle: "x"\ncategory: : setup\n---\n'),
        {(INSTALL, 5, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "frontmatter-syntax-recursive-alias",
        lambda d: d.write(INSTALL, '---\ntitle: "x"\ntags: &t [*t]\n---\n'),
        {(INSTALL, 3, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "frontmatter-syntax-unreadable-number",
        lambda d: d.write(INSTALL, page_text("setup", "0x_")),
        {(INSTALL, 3, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "frontmatter-not-mapping-list",
        lambda d: d.write(INSTALL, "---\n- title\n- order\n---\n"),
        {(INSTALL, 1, Rule.FRONTMATTER_NOT_MAPPING)},
    ),
    Case(
        "frontmatter-not-mapping-scalar",
        lambda d: d.write(INSTALL, "---\njust some words\n---\n"),
        {(INSTALL, 1, Rule.FRONTMATTER_NOT_MAPPING)},
    ),
    Case(
        "frontmatter-not-mapping-empty",
        lambda d: d.write(INSTALL, "---\n---\n# Body\n"),
        {(INSTALL, 1, Rule.FRONTMATTER_NOT_MAPPING)},
    ),
    Case(
        "frontmatter-not-mapping-comment-only",
        lambda d: d.write(INSTALL, "---\n# nothing here\n---\n"),
        {(INSTALL, 1, Rule.FRONTMATTER_NOT_MAPPING)},
    ),
    # --- frontmatter fields ---
    *[
        Case(
            f"field-required-{name}",
            (lambda d, n=name: d.write(INSTALL, page_text("setup", 1, **{n: None}))),
            {(INSTALL, 1, Rule.FIELD_REQUIRED)},
        )
        for name in ("title", "order", "category", "tags", "last_updated", "author")
    ],
    *[
        Case(
            f"field-type-{name}",
            (lambda d, f=fields: d.write(INSTALL, page_text("setup", 1, **f))),
            {(INSTALL, line, Rule.FIELD_TYPE)},
        )
        for name, fields, line in [
            ("title-number", {"title": "5"}, 2),
            ("title-null", {"title": "null"}, 2),
            ("order-quoted", {"order": '"1"'}, 3),
            ("order-float", {"order": "1.5"}, 3),
            ("order-bool", {"order": "true"}, 3),
            ("tags-text", {"tags": '"a, b"'}, 5),
            ("tags-item-number", {"tags": "[docs, 5]"}, 5),
            ("last-updated-number", {"last_updated": "20250119"}, 6),
            ("author-list", {"author": "[a, b]"}, 7),
            ("version-list", {"version": "[1]"}, 8),
            ("deprecated-text", {"deprecated": '"yes"'}, 8),
            ("toc-number", {"toc": "1"}, 8),
            ("search-exclude-text", {"search_exclude": "maybe"}, 8),
            ("redirect-to-bool", {"redirect_to": "true"}, 8),
        ]
    ],
    *[
        Case(
            f"field-value-{name}",
            (lambda d, f=fields: d.write(INSTALL, page_text("setup", 1, **f))),
            {(INSTALL, line, Rule.FIELD_VALUE)},
        )
        for name, fields, line in [
            ("title-empty", {"title": '""'}, 2),
            ("title-blank", {"title": '"   "'}, 2),
            ("date-month-13", {"last_updated": '"2025-13-01"'}, 6),
            ("date-day-month-year", {"last_updated": '"19/01/2025"'}, 6),
            ("date-impossible-unquoted", {"last_updated": "2025-02-30"}, 6),
            ("date-with-time", {"last_updated": "2025-01-19 10:00:00"}, 6),
            ("status-capitalised", {"status": "Draft"}, 8),
            ("status-unknown", {"status": "final"}, 8),
            ("author-empty", {"author": '""'}, 7),
            ("redirect-to-empty", {"redirect_to": '""'}, 8),
        ]
    ],
    *[
        # an order out of range also differs from the file's prefix: an error and a warning
        Case(
            f"field-value-order-{name}",
            (lambda d, v=value: d.write(INSTALL, page_text("setup", v))),
            {(INSTALL, 3, Rule.FIELD_VALUE), (INSTALL, 3, Rule.ORDER_PREFIX_MISMATCH)},
            None,
        )
        for name, value in [("zero", "0"), ("100", "100"), ("negative", "-1")]
    ],
    # --- BookStack's 191-character columns: names, tag names and values, and the keys the plugin writes ---
    *[
        Case(
            f"name-too-long-title-{length}",
            (lambda d, n=length: d.write(INSTALL, page_text("setup", 1, title='"' + "x" * n + '"'))),
            {(INSTALL, 2, Rule.NAME_TOO_LONG)},
        )
        for length in (192, 256)
    ],
    Case(
        "name-too-long-shelf",
        structure(STRUCTURE.replace('name: "Engineering"', f'name: "{"E" * 192}"')),
        {(S, 3, Rule.NAME_TOO_LONG)},
    ),
    Case(
        "name-too-long-chapter",
        structure(STRUCTURE.replace('name: "Setup"', f'name: "{"S" * 300}"')),
        {(S, 12, Rule.NAME_TOO_LONG)},
    ),
    Case(
        "tag-too-long-name",
        lambda d: d.write(INSTALL, page_text("setup", 1, tags=f'[docs, "{"t" * 192}"]')),
        {(INSTALL, 5, Rule.TAG_TOO_LONG)},
    ),
    Case(
        "tag-too-long-pair-value-and-name",
        lambda d: d.write(INSTALL, page_text("setup", 1, tags=f'[{{topic: "{"v" * 192}"}}, {{"{"n" * 192}": x}}]')),
        {(INSTALL, 5, Rule.TAG_TOO_LONG)},
    ),
    Case(
        "tag-too-long-author-and-version",
        lambda d: d.write(INSTALL, page_text("setup", 1, author="a" * 192, version="v" * 400)),
        {(INSTALL, 7, Rule.TAG_TOO_LONG), (INSTALL, 8, Rule.TAG_TOO_LONG)},
    ),
    Case(
        "path-too-long-page",
        lambda d: d.page(f"eng/guide/notes/02-{'p' * 170}.md"),
        {(f"eng/guide/notes/02-{'p' * 170}.md", None, Rule.PATH_TOO_LONG)},
    ),
    Case(
        "path-too-long-chapter-folder",
        lambda d: d.write(S, STRUCTURE.replace("slug: notes", "slug: " + "n" * 190)),
        {(S, 15, Rule.PATH_TOO_LONG)},
    ),
    # --- hostile YAML ---
    Case(
        "frontmatter-syntax-alias",
        lambda d: d.write(INSTALL, page_text("setup", 1, author="&who tester", version="*who")),
        {(INSTALL, 8, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "frontmatter-syntax-merge-key",
        lambda d: d.write(INSTALL, page_text("setup", 1, base="&b {x: 1}", more="{<<: *b}")),
        {(INSTALL, 9, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "frontmatter-syntax-billion-laughs",
        lambda d: d.write(INSTALL, "---\n" + BILLION_LAUGHS + "---\n"),
        {(INSTALL, 3, Rule.FRONTMATTER_SYNTAX)},
    ),
    Case(
        "structure-syntax-billion-laughs",
        structure(STRUCTURE + BILLION_LAUGHS.replace("\n", "\n  ").join(["x-laughs:\n  ", "\n"])),
        {(S, 20, Rule.STRUCTURE_SYNTAX)},
    ),
    Case(
        "frontmatter-too-large",
        lambda d: d.write(INSTALL, page_text("setup", 1, version='"' + "1" * 70_000 + '"')),
        {(INSTALL, 1, Rule.FRONTMATTER_TOO_LARGE)},
    ),
    Case(
        "field-unknown",
        lambda d: d.write(INSTALL, page_text("setup", 1, colour="red")),
        {(INSTALL, 8, Rule.FIELD_UNKNOWN)},
        Severity.WARNING,
    ),
    Case(
        "category-mismatch",
        lambda d: d.write(INSTALL, page_text("notes", 1)),
        {(INSTALL, 4, Rule.CATEGORY_MISMATCH)},
    ),
    Case(
        "category-mismatch-book-level-page",
        lambda d: d.write(INTRO, page_text("setup", 1)),
        {(INTRO, 4, Rule.CATEGORY_MISMATCH)},
    ),
    Case(
        "order-prefix-mismatch",
        lambda d: d.write(CONFIGURE, page_text("setup", 3)),
        {(CONFIGURE, 3, Rule.ORDER_PREFIX_MISMATCH)},
        Severity.WARNING,
    ),
    Case(
        "order-duplicate",
        lambda d: d.page("eng/guide/notes/02-second-note.md", order=1),
        {
            ("eng/guide/notes/02-second-note.md", 3, Rule.ORDER_PREFIX_MISMATCH),
            ("eng/guide/notes/02-second-note.md", 3, Rule.ORDER_DUPLICATE),
            (NOTE, 3, Rule.ORDER_DUPLICATE),
        },
        Severity.WARNING,
    ),
]
# a structure file that is not UTF-8 cannot be written as text
POSITIVE[0] = Case(
    "structure-unreadable",
    lambda d: d.write(S, b'structure:\n  - shelf:\n      name: "Caf\xe9"\n'),
    {(S, None, Rule.STRUCTURE_UNREADABLE)},
)

NEGATIVE: list[Case] = [
    Case("clean-tree", lambda d: None, set()),
    Case(
        "same-slug-in-different-parents",
        lambda d: [
            d.write(S, STRUCTURE.replace("slug: notes", "slug: guide")),
            d.remove(NOTE),
            d.page("eng/guide/guide/01-first-note.md"),
        ],
        set(),
    ),
    Case("unlisted-folder-takes-any-well-named-page", lambda d: d.page("eng/guide/notes/42-anything.md"), set()),
    Case("book-level-category-is-book-slug", lambda d: d.write(INTRO, page_text("guide", 1)), set()),
    Case("order-equals-prefix", lambda d: d.write(CONFIGURE, page_text("setup", 2)), set()),
    Case(
        "same-order-in-different-folders",
        lambda d: d.write(NOTE, page_text("notes", 1)),
        set(),
    ),
    Case("title-191-characters", lambda d: d.write(INSTALL, page_text("setup", 1, title="x" * 191)), set()),
    Case(
        "tag-and-author-191-characters",
        lambda d: d.write(
            INSTALL, page_text("setup", 1, tags=f'["{"t" * 191}", {{"{"n" * 191}": "{"v" * 191}"}}]', author="a" * 191)
        ),
        set(),
    ),
    Case(
        "names-and-keys-191-characters",
        lambda d: [
            # the page path is the longest key: 10 + 164 + 17 = 191 characters
            d.write(S, STRUCTURE.replace('name: "Setup"', f'name: "{"s" * 191}"').replace("notes", "n" * 164)),
            d.remove(NOTE),
            d.page(f"eng/guide/{'n' * 164}/01-first-note.md"),
        ],
        set(),
    ),
    Case("anchor-without-alias", lambda d: d.write(INSTALL, page_text("setup", 1, author="&who tester")), set()),
    Case(
        "every-optional-field",
        lambda d: d.write(
            INSTALL,
            page_text(
                "setup",
                1,
                version='"2.0"',
                status="review",
                deprecated="true",
                redirect_to='"../notes/01-first-note.md"',
                toc="false",
                search_exclude="true",
            ),
        ),
        set(),
    ),
    Case(
        "each-status",
        lambda d: [
            d.page(f"eng/guide/notes/0{i}-s.md", status=s) for i, s in ((2, "draft"), (3, "review"), (4, "published"))
        ],
        set(),
    ),
    Case("empty-tags", lambda d: d.write(INSTALL, page_text("setup", 1, tags="[]")), set()),
    Case(
        "assets-anywhere-in-book",
        lambda d: [d.write("eng/guide/setup/diagram.png", b"\x89PNG"), d.write("eng/guide/notes/files/a.pdf", b"%PDF")],
        set(),
    ),
    Case(
        "frontmatter-with-trailing-spaces-on-fences",
        lambda d: d.write(INSTALL, page_text("setup", 1).replace("---\n", "---  \n")),
        set(),
    ),
    Case(
        "body-with-horizontal-rule",
        lambda d: d.write(INSTALL, page_text("setup", 1, body="# A\n\n---\n\ntext\n---\n")),
        set(),
    ),
    Case("structure-bom-is-accepted", lambda d: d.write(S, "\ufeff" + STRUCTURE), set()),
    Case("structure-crlf-is-accepted", lambda d: d.write(S, STRUCTURE.replace("\n", "\r\n")), set()),
    Case(
        "frontmatter-key-order-free",
        lambda d: d.write(
            INSTALL, "---\nauthor: a\ntags: []\norder: 1\ntitle: T\ncategory: setup\nlast_updated: 2025-01-19\n---\n"
        ),
        set(),
    ),
]


def _run(docs: Docs, case: Case) -> Found:
    case.setup(docs)
    return docs.found()


@pytest.mark.parametrize("case", POSITIVE, ids=str)
def test_rule_fires(docs: Docs, case: Case) -> None:
    case.setup(docs)
    diagnostics = docs.validate().diagnostics
    assert {(d.path, d.line, d.rule) for d in diagnostics} == case.expected
    if case.severity is None:
        assert {d.severity for d in diagnostics} == {Severity.ERROR, Severity.WARNING}
    else:
        assert {d.severity for d in diagnostics} == {case.severity}
    assert all(d.message for d in diagnostics)


@pytest.mark.parametrize("case", NEGATIVE, ids=str)
def test_rule_does_not_fire(docs: Docs, case: Case) -> None:
    assert _run(docs, case) == set()


def test_every_emitted_rule_has_a_positive_case() -> None:
    covered = {rule for case in POSITIVE for _, _, rule in case.expected}
    # rules only reachable through the file system (symlinks, folders) are in test_bad_input.py
    covered |= {Rule.SYMLINK_OUTSIDE, Rule.NOT_A_FILE}
    assert covered == set(Rule) - NOT_YET_EMITTED


def test_required_fields_each_named(docs: Docs) -> None:
    docs.write(INSTALL, "---\ntitle: T\n---\n")
    messages = sorted(d.message for d in docs.diagnostics(Rule.FIELD_REQUIRED))
    assert messages == sorted(
        f"missing required field `{name}`" for name in ("order", "category", "tags", "last_updated", "author")
    )
    assert {d.line for d in docs.diagnostics(Rule.FIELD_REQUIRED)} == {1}


def test_category_message_says_what_to_write(docs: Docs) -> None:
    docs.write(INSTALL, page_text("notes", 1))
    (diagnostic,) = docs.diagnostics()
    assert "setup" in diagnostic.message and "notes" in diagnostic.message


def test_page_missing_names_the_expected_file(docs: Docs) -> None:
    docs.remove(CONFIGURE)
    (diagnostic,) = docs.diagnostics()
    assert CONFIGURE in diagnostic.message


def test_listed_page_that_exists_but_is_broken_is_not_missing(docs: Docs) -> None:
    docs.write(CONFIGURE, b"")
    assert docs.found() == {(CONFIGURE, 1, Rule.EMPTY_FILE)}


def test_field_rules_still_run_on_crlf_and_bom_files(docs: Docs) -> None:
    docs.write(INSTALL, "\ufeff" + page_text("setup", 0).replace("\n", "\r\n"))
    assert docs.found() == {
        (INSTALL, 1, Rule.BOM),
        (INSTALL, 1, Rule.LINE_ENDINGS),
        (INSTALL, 3, Rule.FIELD_VALUE),
        (INSTALL, 3, Rule.ORDER_PREFIX_MISMATCH),
    }


def test_unknown_field_is_only_a_warning_and_others_still_checked(docs: Docs) -> None:
    docs.write(INSTALL, page_text("setup", 1, colour="red", status="done"))
    assert {(d.line, d.rule, d.severity) for d in docs.diagnostics()} == {
        (8, Rule.FIELD_UNKNOWN, Severity.WARNING),
        (9, Rule.FIELD_VALUE, Severity.ERROR),
    }
