"""The validation results as JUnit XML, for CI systems that show test reports."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..docs.diagnostics import Severity
from ..model import EntityKind, RunResult
from .words import diagnostics_json

_STRUCTURE_CASE = "structure"


@dataclass(frozen=True)
class JUnitReporter:
    """Validation results as JUnit XML: one test case for the structure file and one per page.

    Errors fail a case (warnings too under ``strict``); other warnings go to the case's ``system-out``.
    ``pages`` names the pages that were checked, so a clean page still shows as a passing case;
    pages named by the plan or by a diagnostic are added to it.
    """

    name: str = "junit"
    pages: tuple[str, ...] = ()

    def render(self, result: RunResult) -> str:
        diagnostics = diagnostics_json(result)
        strict = bool(result.settings.get("strict"))
        structure_path = str(result.settings.get("structure") or "structure")
        by_case: dict[str, list[dict[str, Any]]] = {}
        by_case[structure_path] = []
        for page in self._page_keys(result):
            by_case.setdefault(page, [])
        for diagnostic in diagnostics:
            rule = str(diagnostic.get("rule", ""))
            case_name = structure_path if rule.startswith("structure-") else str(diagnostic.get("path", "?"))
            by_case.setdefault(case_name, []).append(diagnostic)

        suites = ET.Element("testsuites", name="bookstack-sync")
        suite = ET.SubElement(suites, "testsuite", name="bookstack-sync validate")
        failures = 0
        for case_name, found in by_case.items():
            classname = _STRUCTURE_CASE if case_name == structure_path else _classname(case_name)
            testcase = ET.SubElement(suite, "testcase", classname=classname, name=case_name, time="0")
            failing = [d for d in found if d.get("severity") == Severity.ERROR.value or strict]
            passing = [d for d in found if d not in failing]
            if failing:
                failures += 1
                first = failing[0]
                failure = ET.SubElement(
                    testcase,
                    "failure",
                    message=f"{len(failing)} problem(s): {first.get('message', '')}",
                    type=str(first.get("rule", "validation")),
                )
                failure.text = "\n".join(_diagnostic_text(d) for d in failing)
            if passing:
                ET.SubElement(testcase, "system-out").text = "\n".join(_diagnostic_text(d) for d in passing)
        total = len(by_case)
        seconds = result.timings.get("validate", sum(result.timings.values()))
        for element in (suites, suite):
            element.set("tests", str(total))
            element.set("failures", str(failures))
            element.set("errors", "0")
            element.set("time", f"{seconds:.3f}")
        suite.set("skipped", "0")
        ET.indent(suites)
        return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"

    def _page_keys(self, result: RunResult) -> list[str]:
        keys = list(self.pages)
        if result.plan is not None:
            keys += [a.key for a in result.plan.actions if a.entity is EntityKind.PAGE]
        return sorted(dict.fromkeys(keys))


def _classname(path: str) -> str:
    """``engineering.dev-guide.getting-started`` for a page in that folder (JUnit UIs group by it)."""
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    return folder.replace("/", ".") or "docs"


def _diagnostic_text(diagnostic: Mapping[str, Any]) -> str:
    where = str(diagnostic.get("path", "?"))
    if diagnostic.get("line"):
        where += f":{diagnostic['line']}"
    return f"{where}: {diagnostic.get('severity')} [{diagnostic.get('rule')}] {diagnostic.get('message')}"
