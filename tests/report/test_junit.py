"""JUnit XML: one test case per page plus one for the structure file; failures carry the diagnostics."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bookstack_sync.report.junit import JUnitReporter

from .conftest import PAGE, plan_result, validate_only


def cases(xml: str) -> dict[str, ET.Element]:
    root = ET.fromstring(xml.encode())
    assert root.tag == "testsuites"
    return {case.get("name", ""): case for case in root.iter("testcase")}


def test_one_case_per_page_and_one_for_the_structure_file() -> None:
    pages = (PAGE, "engineering/dev-guide/readme.md", "engineering/dev-guide/clean.md")
    found = cases(JUnitReporter(pages=pages).render(validate_only()))
    assert set(found) == {"docs/bookstack/bookstack-structure.yaml", *pages}
    assert found["docs/bookstack/bookstack-structure.yaml"].get("classname") == "structure"
    assert found["engineering/dev-guide/clean.md"].find("failure") is None


def test_errors_fail_their_case_and_carry_line_and_rule() -> None:
    found = cases(JUnitReporter(pages=(PAGE,)).render(validate_only()))
    failure = found[PAGE].find("failure")
    assert failure is not None and failure.get("type") == "field-required"
    assert f"{PAGE}:2: error [field-required]" in (failure.text or "")
    structure = found["docs/bookstack/bookstack-structure.yaml"].find("failure")
    assert structure is not None and "'slug' is required" in (structure.text or "")


def test_warnings_pass_but_are_shown_unless_strict() -> None:
    result = validate_only()
    found = cases(JUnitReporter().render(result))
    readme = found["engineering/dev-guide/readme.md"]
    assert readme.find("failure") is None and "expected NN-name.md" in (readme.findtext("system-out") or "")
    result.settings["strict"] = True
    strict = cases(JUnitReporter().render(result))["engineering/dev-guide/readme.md"]
    assert strict.find("failure") is not None


def test_totals_agree_with_the_cases() -> None:
    root = ET.fromstring(JUnitReporter().render(plan_result()).encode())
    suite = root.find("testsuite")
    assert suite is not None
    assert int(suite.get("tests", "-1")) == len(list(suite.iter("testcase")))
    assert suite.get("failures") == "0"  # the plan run only has a warning
