"""A broken recommended rule is ``warned`` in every report: counted, amber, its finding and basis shown,
and never a failure to CI; the levels the user changed are listed.

The warned result carries raw secrets on purpose (:mod:`tests.support.reports`), like the failure of
``test_writer``.
"""

from __future__ import annotations

import io
import json
import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sergio_kit.reports._common import ReportError
from sergio_kit.reports.chart import COLOURS, WARNED_INK, group_chart
from sergio_kit.reports.html import render_html
from sergio_kit.reports.junit import validate
from sergio_kit.reports.results import CheckResult, ResultCollector, print_table
from sergio_kit.reports.writer import write_reports
from tests.support.reports import API_KEY, JWT, JWT_SHAPE, PASSWORD, REPORT_NAMES, SECRETS

RECOMMENDED = "recommended rule: a best practice or an assumption of the kit; a correct deployment may differ"


def warned_finding() -> dict[str, str]:
    """An enumeration finding whose every field holds a raw secret."""
    return {
        "message": f"an unknown email and a wrong password get different bodies (token {JWT})",
        "expected": "the same body for both",
        "sent": f'POST https://sergio.test/v1/auth/login {{"email": "a@b.test", "password": "{PASSWORD}"}}',
        "received": '401 {"error": {"code": "unauthorized", "message": "no account with that email"}}',
        "curl": f"curl -X POST -H 'X-API-Key: {API_KEY}' https://sergio.test/v1/auth/login",
    }


def mixed_results() -> list[CheckResult]:
    """A warned, a failed (level raised to fail), an ignored, an erroring and a passed check."""
    failed_finding = {"message": "refresh token reused", "expected": "401", "sent": "POST /v1/auth/refresh"}
    return [
        CheckResult("auth.login.shape", "", "passed", "", 0.1, basis="documented"),
        CheckResult(
            "auth.login.enumeration",
            "",
            "warned",
            f"different bodies (token {JWT})",
            0.2,
            warned_finding(),
            basis="recommended",
        ),
        CheckResult("auth.jwt.expired", "", "skipped", "ignored: its level is 'ignore'", 0.0, level="ignore"),
        CheckResult(
            "refresh.reuse", "", "failed", "refresh token reused", 0.3, failed_finding, "recommended", "fail"
        ),
        CheckResult("refresh.race", "", "error", "fixture broke", 0.4, basis="documented"),
    ]


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A folder holding the three reports written from :func:`mixed_results`."""
    started = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
    write_reports(tmp_path, "https://sergio.test", mixed_results(), started, started + timedelta(seconds=9))
    return tmp_path


def test_json_counts_warned_and_lists_basis_level_and_changed_levels(report_dir: Path) -> None:
    """report.json: a ``warned`` status with its finding, each result's basis and level, ``warned`` in
    the summary, and the levels the user changed."""
    data = json.loads((report_dir / "report.json").read_text())
    assert data["summary"] == {"passed": 1, "warned": 1, "failed": 1, "skipped": 1, "error": 1}
    by_id = {check["id"]: check for check in data["checks"]}
    warned = by_id["auth.login.enumeration"]
    assert (warned["status"], warned["basis"]) == ("warned", "recommended") and "level" not in warned
    assert warned["finding"]["expected"] == "the same body for both"
    assert "[masked]" in warned["finding"]["sent"] and "[api-key " in warned["finding"]["curl"]
    assert (by_id["refresh.reuse"]["basis"], by_id["refresh.reuse"]["level"]) == ("recommended", "fail")
    assert "basis" not in by_id["auth.jwt.expired"] and by_id["auth.jwt.expired"]["level"] == "ignore"
    assert data["changed_levels"] == [
        {"id": "auth.jwt.expired", "level": "ignore"},
        {"id": "refresh.reuse", "level": "fail"},
    ]


def test_junit_warned_is_a_passing_case_with_the_warning_in_its_output(report_dir: Path) -> None:
    """junit.xml: the warned check passes (CI counts 1 failure, the real one), carries ``verdict=warned``
    and ``basis``, and its ``<system-out>`` holds the basis and the finding."""
    root = ET.parse(report_dir / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    case = root.find(".//testcase[@name='auth.login.enumeration']")
    assert case is not None
    assert [child.tag for child in case] == ["properties", "system-out"]
    properties = {p.get("name"): p.get("value") for p in case.iter("property")}
    assert properties == {"check_id": "auth.login.enumeration", "basis": "recommended", "verdict": "warned"}
    output = case.findtext("system-out") or ""
    assert output.startswith(f"warning ({RECOMMENDED})\ndifferent bodies (token [jwt ")
    for label in ("expected:", "sent:", "received:", "reproduce: curl -X POST"):
        assert label in output
    reuse = root.find(".//testcase[@name='refresh.reuse']")
    assert reuse is not None and reuse.find("failure") is not None and reuse.find("system-out") is None
    assert {p.get("name"): p.get("value") for p in reuse.iter("property")}["level"] == "fail"


def test_junit_validation_counts_warned_cases(report_dir: Path) -> None:
    """The writer's own check also wants one ``verdict=warned`` case per warned result."""
    counts = {"passed": 1, "warned": 1, "failed": 1, "skipped": 1, "error": 1}
    validate(report_dir / "junit.xml", counts)
    with pytest.raises(ReportError, match="1 warned test cases, 0 results"):
        validate(report_dir / "junit.xml", {**counts, "warned": 0, "passed": 2})


def test_html_shows_warnings_in_amber_with_finding_and_basis(report_dir: Path) -> None:
    """report.html: amber badge and row, the warning's finding expanded with its basis, order failed,
    error, warned, skipped, passed, and the "Levels changed" list."""
    page = (report_dir / "report.html").read_text()
    assert f".status.warned {{ background: {COLOURS['warned']};" in page
    assert '<tr class="warned">' in page and '<span class="status warned">warned</span>' in page
    assert page.count("<details") == 2 and '<details class="warned" open>' in page
    warning = page[page.index('<details class="warned"') :]
    assert RECOMMENDED in warning[: warning.index("</summary>")]
    assert "<pre>the same body for both</pre>" in warning and "<pre>curl -X POST" in warning
    rows = re.findall(r'<tr class="(\w+)"><td><code>([\w.]+)</code>', page)
    assert [status for status, _ in rows] == ["warned", "skipped", "passed", "failed", "error"]  # 2 groups
    levels = page[page.index('<div class="levels">') :]
    assert levels.startswith(
        '<div class="levels">Levels changed: <ul><li><code>auth.jwt.expired</code> ignore</li>'
        "<li><code>refresh.reuse</code> fail</li></ul></div>"
    )
    assert f'<b style="color: {WARNED_INK}">1</b>warned' in page
    assert "FAILED: 1 failed and 1 error out of 5 checks (1 warned, 1 skipped)" in page


def test_html_with_only_warnings_passes_with_warnings() -> None:
    """With warnings and no failure the verdict is amber, "PASSED WITH WARNINGS", and no level list."""
    results = [
        CheckResult("auth.login.shape", "", "passed", "", 0.1),
        CheckResult("auth.login.enumeration", "", "warned", "different bodies", 0.2, warned_finding()),
    ]
    page = render_html("https://sergio.test", results)
    assert f'<body style="--verdict: {COLOURS["warned"]}">' in page
    assert "PASSED WITH WARNINGS: 1 warned, 1 passed out of 2 checks" in page
    assert 'class="levels"' not in page
    assert (
        "WARNING: what was sent" not in page and "warning: what was sent and what came back</summary>" in page
    )


def test_html_with_warnings_under_strict_says_failed() -> None:
    """Under ``--strict`` a run with warnings exits 1, and its page says so in red."""
    results = [
        CheckResult("auth.login.shape", "", "passed", "", 0.1),
        CheckResult("auth.login.enumeration", "", "warned", "different bodies", 0.2, warned_finding()),
    ]
    page = render_html("https://sergio.test", results, strict=True)
    assert f'<body style="--verdict: {COLOURS["failed"]}">' in page
    assert '<p class="verdict">FAILED (--strict): 1 warned, 1 passed out of 2 checks</p>' in page  # not amber


def test_chart_marks_warned_groups_amber() -> None:
    """A group with warnings and no failure gets an amber label and count, and an amber segment."""
    svg = group_chart({"auth": {"passed": 19, "warned": 1}, "refresh": {"passed": 5}})
    ET.fromstring(svg)
    assert re.search(rf'fill="{WARNED_INK}" font-weight="700">! auth</text>', svg)
    assert "1 warned, 19 passed" in svg and "all 5 passed" in svg
    assert re.search(rf'<rect [^>]*fill="{COLOURS["warned"]}"><title>auth: 1 warned</title>', svg)


def test_no_report_leaks_a_secret_of_a_warning(report_dir: Path) -> None:
    """The warned finding's raw secrets are masked in all three files."""
    for name in REPORT_NAMES:
        text = (report_dir / name).read_text()
        for secret in SECRETS:
            assert secret not in text, f"{secret[:12]}... in {name}"
        assert not JWT_SHAPE.search(text), name


def test_terminal_table_names_the_basis_of_a_warning() -> None:
    """The summary table lists the warned row after failures, its detail led by the basis; the finding
    follows under the table, masked."""
    out = io.StringIO()
    print_table(mixed_results(), out)
    lines = out.getvalue().splitlines()
    statuses = [line.split()[1] for line in lines[2:7]]
    assert statuses == ["failed", "error", "warned", "skipped", "passed"]
    warned_row = next(line for line in lines if line.startswith("auth.login.enumeration"))
    assert "warned   recommended rule: different bodies (token [jwt " in warned_row
    assert "auth.login.enumeration (warned, recommended rule): an unknown email" in out.getvalue()
    assert "  expected: the same body for both" in out.getvalue()
    assert JWT not in out.getvalue() and PASSWORD not in out.getvalue()


def test_collector_turns_a_warned_verdict_into_a_warned_result(tmp_path: Path) -> None:
    """A passing test with ``verdict=warned`` properties (as the suite records them) is a warned result
    with the finding, the rule's basis and the level."""
    finding = json.dumps({"message": "different bodies", "expected": "the same body", "curl": "curl x"})
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_warned_sample.py").write_text(  # not test_sample.py: test_writer imports that name
        "def test_warns(record_property):\n"
        "    record_property('check_id', 'auth.login.enumeration')\n"
        "    record_property('level', 'warn')\n"
        "    record_property('verdict', 'warned')\n"
        "    record_property('basis', 'recommended')\n"
        f"    record_property('finding', {finding!r})\n"
    )
    collector = ResultCollector(stream=io.StringIO())
    arguments = [str(tmp_path), "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)]
    pytest.main([*arguments, "-p", "no:terminal", "-p", "no:cacheprovider"], plugins=[collector])
    [result] = collector.results
    assert (result.status, result.basis, result.level) == ("warned", "recommended", "warn")
    assert result.detail == "different bodies (expected the same body)"
    assert result.finding is not None and result.finding["curl"] == "curl x"
