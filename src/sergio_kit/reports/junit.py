"""``junit.xml``: one ``<testsuite>`` per check group, the check id as the test name.

CI servers (Jenkins, GitLab, GitHub test reporters) show ``name`` as the test, so a failing check
appears under its own id (``auth.jwt.alg_none GET /v1/jobs``), not under a pytest node id. A warned
check is a passing test case (warnings are not failures) with the warning in its ``<system-out>`` and
the properties ``verdict=warned`` and ``basis``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Sequence
from pathlib import Path

from sergio_kit.reports._common import (
    FINDING_FIELDS,
    FINDING_LABELS,
    ReportError,
    grouped,
    masked,
    printable,
    tally,
)
from sergio_kit.reports.findings import describe_basis
from sergio_kit.reports.redaction import mask_text
from sergio_kit.reports.results import CheckResult


def junit_name(result: CheckResult) -> str:
    """The JUnit test name: the check id, then the operation or case when there is one."""
    if not result.subject or result.subject == result.check_id:
        return result.check_id
    return f"{result.check_id} {result.subject}"


def failure_text(result: CheckResult) -> str:
    """The body of a ``<failure>``: the detail, then what was expected, sent, received, and curl."""
    lines = [result.detail]
    finding = result.finding or {}
    for name in FINDING_FIELDS:
        if finding.get(name):
            lines.append(f"{FINDING_LABELS[name] + ':':<10} {finding[name]}")
    return "\n".join(lines)


def warning_text(result: CheckResult) -> str:
    """The ``<system-out>`` of a warned check: the warning and its rule's basis, then the finding."""
    basis = describe_basis(result.basis, result.level)
    return f"warning ({basis})\n{failure_text(result)}" if basis else f"warning\n{failure_text(result)}"


def junit_tree(target: str, results: Sequence[CheckResult]) -> ET.ElementTree[ET.Element]:
    """The JUnit document for ``results`` (masked, control characters removed)."""
    safe = [masked(result) for result in results]
    root = ET.Element("testsuites", {"name": "sergio-kit", **_counts(safe)})
    for group, members in grouped(safe).items():
        suite = ET.SubElement(root, "testsuite", {"name": f"sergio.{group}", **_counts(members)})
        properties = ET.SubElement(suite, "properties")
        ET.SubElement(properties, "property", name="target", value=printable(mask_text(target)))
        for result in members:
            _testcase(suite, group, result)
    tree: ET.ElementTree[ET.Element] = ET.ElementTree(root)
    ET.indent(tree)
    return tree


def write_junit(path: Path, target: str, results: Sequence[CheckResult]) -> Path:
    """Write ``junit.xml`` to ``path``, check that it parses back to the same counts, return ``path``."""
    junit_tree(target, results).write(path, encoding="utf-8", xml_declaration=True)
    validate(path, tally(results))
    return path


def validate(path: Path, expected: dict[str, int]) -> None:
    """Parse ``path`` and raise :class:`ReportError` unless its counts match ``expected`` (warned
    checks: passing test cases with the property ``verdict=warned``)."""
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as error:
        raise ReportError(f"{path} is not well-formed XML: {error}") from error
    found = {
        "tests": len(root.findall("./testsuite/testcase")),
        "failures": len(root.findall("./testsuite/testcase/failure")),
        "errors": len(root.findall("./testsuite/testcase/error")),
        "skipped": len(root.findall("./testsuite/testcase/skipped")),
    }
    wanted = {
        "tests": sum(expected.values()),
        "failures": expected.get("failed", 0),
        "errors": expected.get("error", 0),
        "skipped": expected.get("skipped", 0),
    }
    declared = {name: int(root.get(name, "-1")) for name in wanted}
    suites = {name: sum(int(s.get(name, "0")) for s in root.iter("testsuite")) for name in wanted}
    if not found == wanted == declared == suites:
        raise ReportError(
            f"{path}: counts do not add up: elements {found}, results {wanted}, "
            f"<testsuites> {declared}, sum of <testsuite> {suites}"
        )
    warned = root.findall("./testsuite/testcase/properties/property[@name='verdict'][@value='warned']")
    if len(warned) != expected.get("warned", 0):
        raise ReportError(f"{path}: {len(warned)} warned test cases, {expected.get('warned', 0)} results")


def _testcase(suite: ET.Element, group: str, result: CheckResult) -> None:
    case = ET.SubElement(
        suite,
        "testcase",
        classname=f"sergio.{group}",
        name=printable(junit_name(result)),
        time=f"{result.seconds:.3f}",
    )
    properties = ET.SubElement(case, "properties")
    ET.SubElement(properties, "property", name="check_id", value=printable(result.check_id))
    if result.basis:
        ET.SubElement(properties, "property", name="basis", value=result.basis)
    if result.level:
        ET.SubElement(properties, "property", name="level", value=result.level)
    message = printable(result.detail)
    if result.status == "failed":
        ET.SubElement(case, "failure", message=message).text = printable(failure_text(result))
    elif result.status == "error":
        ET.SubElement(case, "error", message=message).text = printable(failure_text(result))
    elif result.status == "skipped":
        ET.SubElement(case, "skipped", message=message)
    elif result.status == "warned":
        ET.SubElement(properties, "property", name="verdict", value="warned")
        ET.SubElement(case, "system-out").text = printable(warning_text(result))


def _counts(results: Sequence[CheckResult]) -> dict[str, str]:
    counts = tally(results)
    return {
        "tests": str(len(results)),
        "failures": str(counts["failed"]),
        "errors": str(counts["error"]),
        "skipped": str(counts["skipped"]),
        "time": f"{sum(r.seconds for r in results):.3f}",
    }
