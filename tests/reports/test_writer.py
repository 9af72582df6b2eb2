"""The reports of ``sergio-kit check``: JSON shape, JUnit that CI can read, a self-contained HTML page.

Every report is fed raw secrets on purpose (the writers must mask again, whatever they are given)
and grepped for them afterwards.
"""

from __future__ import annotations

import io
import json
import re
import tomllib
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sergio_kit.contract.resources import accounts_path
from sergio_kit.reports._common import ReportError
from sergio_kit.reports.chart import group_chart
from sergio_kit.reports.junit import validate
from sergio_kit.reports.results import CheckResult, ResultCollector
from sergio_kit.reports.timeline import TierTraffic
from sergio_kit.reports.writer import write_reports
from tests.support.kit_process import run_kit
from tests.support.reports import API_KEY, JWT, JWT_SHAPE, PASSWORD, REPORT_NAMES, SECRETS, WEBHOOK_SECRET


def sample_results() -> list[CheckResult]:
    """One result of each status across three groups; the failure carries raw secrets everywhere."""
    finding = {
        "message": f"token {JWT} was accepted",
        "expected": "401 for a token signed with alg none",
        "sent": f'POST https://sergio.test/v1/auth/login {{"email": "a@b.test", "password": "{PASSWORD}"}}',
        "received": f'200 {{"token": "{JWT}", "key": "{API_KEY}", "secret": "{WEBHOOK_SECRET}"}}',
        "curl": f"curl -X GET -H 'Authorization: Bearer {JWT}' -H 'X-API-Key: {API_KEY}' https://sergio.test/v1/jobs",
    }
    return [
        CheckResult("contract.health", "", "passed", "", 0.12),
        CheckResult("auth.jwt.alg_none", "GET /v1/jobs", "failed", f"accepted {JWT}", 0.5, finding),
        CheckResult("auth.jwt.alg_none", "GET /v1/webhooks", "passed", "", 0.25),
        CheckResult("auth.expiry.live", "", "skipped", "the target has no test clock", 0.0),
        CheckResult("webhook.signature", "", "error", f"fixture broke: {WEBHOOK_SECRET} <b>", 1.5),
    ]


@pytest.fixture
def report_dir(tmp_path: Path) -> Path:
    """A folder holding the three reports written from :func:`sample_results`."""
    started = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
    target = f"https://sergio.test/?token={JWT}"
    write_reports(tmp_path, target, sample_results(), started, started + timedelta(seconds=42))
    return tmp_path


def test_json_report_has_the_documented_shape(report_dir: Path) -> None:
    """report.json: target, times, summary counts, no changed level and one entry per check with exactly
    the listed keys (a result without a basis or level has neither key)."""
    data = json.loads((report_dir / "report.json").read_text())
    assert set(data) == {"target", "started_at", "finished_at", "summary", "checks", "changed_levels"}
    assert data["started_at"] == "2026-01-30T12:00:00Z" and data["finished_at"] == "2026-01-30T12:00:42Z"
    assert data["summary"] == {"passed": 2, "warned": 0, "failed": 1, "skipped": 1, "error": 1}
    assert data["changed_levels"] == []
    keys = {"id", "group", "subject", "status", "detail", "seconds"}
    assert [set(check) for check in data["checks"]] == [keys, keys | {"finding"}, keys, keys, keys]
    failed = data["checks"][1]
    assert (failed["id"], failed["group"], failed["status"]) == ("auth.jwt.alg_none", "auth", "failed")
    assert set(failed["finding"]) == {"message", "expected", "sent", "received", "curl"}
    assert failed["finding"]["expected"] == "401 for a token signed with alg none"
    assert data["checks"][3] == {
        "id": "auth.expiry.live",
        "group": "auth",
        "subject": "",
        "status": "skipped",
        "detail": "the target has no test clock",
        "seconds": 0.0,
    }


def test_junit_names_tests_by_check_id_and_counts_add_up(report_dir: Path) -> None:
    """junit.xml parses; one suite per group; test names are check ids; failure/skip/error counts match."""
    root = ET.parse(report_dir / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == (
        "5",
        "1",
        "1",
        "1",
    )
    suites = {suite.get("name"): suite for suite in root.iter("testsuite")}
    assert list(suites) == ["sergio.contract", "sergio.auth", "sergio.webhook"]
    assert suites["sergio.auth"].get("tests") == "3" and suites["sergio.auth"].get("failures") == "1"
    names = [(case.get("classname"), case.get("name")) for case in root.iter("testcase")]
    assert names == [
        ("sergio.contract", "contract.health"),
        ("sergio.auth", "auth.jwt.alg_none GET /v1/jobs"),
        ("sergio.auth", "auth.jwt.alg_none GET /v1/webhooks"),
        ("sergio.auth", "auth.expiry.live"),
        ("sergio.webhook", "webhook.signature"),
    ]
    failure = root.find(".//testcase[@name='auth.jwt.alg_none GET /v1/jobs']/failure")
    assert failure is not None and failure.text is not None
    assert failure.get("message", "").startswith("accepted [jwt ")
    for label in ("expected:", "sent:", "received:", "reproduce: curl -X GET"):
        assert label in failure.text
    skipped = root.find(".//testcase[@name='auth.expiry.live']/skipped")
    assert skipped is not None and skipped.get("message") == "the target has no test clock"
    assert len(root.findall(".//testcase/error")) == 1
    check_ids = {p.get("value") for p in root.iter("property") if p.get("name") == "check_id"}
    assert check_ids == {"contract.health", "auth.jwt.alg_none", "auth.expiry.live", "webhook.signature"}


def test_junit_validation_rejects_counts_that_do_not_add_up(report_dir: Path) -> None:
    """The writer's own check fails loudly when the document and the results disagree."""
    validate(report_dir / "junit.xml", {"passed": 2, "failed": 1, "skipped": 1, "error": 1})
    with pytest.raises(ReportError, match="counts do not add up"):
        validate(report_dir / "junit.xml", {"passed": 2, "failed": 2, "skipped": 1, "error": 1})


def test_html_is_self_contained_and_escaped(report_dir: Path) -> None:
    """report.html: inline CSS and SVG chart, no script, no external asset, markup in data escaped."""
    page = (report_dir / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<style>" in page and "<svg" in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"<(?:script|link|iframe|img)\b", page, re.IGNORECASE)
    assert not re.search(r"url\(\s*['\"]?(?:https?:)?//", page, re.IGNORECASE)
    assert "<b>" not in page and "fixture broke: [webhook-secret " in page and "&lt;b&gt;" in page
    for text in ("auth.jwt.alg_none", "GET /v1/jobs", "the target has no test clock", "reproduce"):
        assert text in page
    assert page.count("<details") == 1 and "<pre>curl -X GET" in page
    for group in ("contract", "auth", "webhook"):
        assert f'href="#group-{group}"' in page and f'id="group-{group}"' in page


def test_no_report_contains_a_raw_secret(report_dir: Path) -> None:
    """Secrets given raw to the writers (target, detail, finding) are masked in all three files."""
    for name in REPORT_NAMES:
        text = (report_dir / name).read_text()
        for secret in SECRETS:
            assert secret not in text, f"{secret[:12]}... in {name}"
        assert not JWT_SHAPE.search(text), name
        assert "[jwt " in text, name
        assert "[api-key " in text or name == "summary.md", name  # summary.md: one-line details only


def test_rate_limit_traffic_adds_timelines_and_totals(tmp_path: Path) -> None:
    """With traffic: a "Rate limits over time" section after the group chart, totals in report.json."""
    read_events = tuple((i * 0.05, "admitted" if i < 120 else "throttled") for i in range(130))
    traffic = [
        TierTraffic("read", 120, 60.0, 1, (*read_events, (7.0, "failed"))),
        TierTraffic("bulk", 10, 60.0, 2, ((0.5, "admitted"), (61.5, "throttled"))),
        TierTraffic("webhook", 10),  # no events: no chart, but still in the totals
    ]
    started = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
    write_reports(tmp_path, "https://sergio.test", sample_results(), started, started, traffic=traffic)
    page = (tmp_path / "report.html").read_text()
    section = page.index("Rate limits over time")
    assert page.index('aria-label="checks by group"') < section < page.index('id="group-contract"')
    assert page.count('class="chart timeline"') == 2
    assert 'data-tier="read"' in page and 'data-tier="bulk"' in page and 'data-tier="webhook"' not in page
    assert "read tier: 120 admitted, 10 throttled, 1 failed" in page
    assert "limit 10/60 s \N{MULTIPLICATION SIGN} 2 principals = 0.333 req/s" in page
    data = json.loads((tmp_path / "report.json").read_text())
    keys = ("tier", "limit", "window", "principals", "admitted", "throttled", "failed")
    assert data["ratelimit_traffic"] == [
        dict(zip(keys, ("read", 120, 60.0, 1, 120, 10, 1), strict=True)),
        dict(zip(keys, ("bulk", 10, 60.0, 2, 1, 1, 0), strict=True)),
        dict(zip(keys, ("webhook", 10, 60.0, 1, 0, 0, 0), strict=True)),
    ]


def test_no_traffic_means_no_timeline_section(report_dir: Path) -> None:
    """Without traffic, report.html has no timeline section and report.json no ratelimit_traffic."""
    assert "Rate limits over time" not in (report_dir / "report.html").read_text()
    assert "ratelimit_traffic" not in json.loads((report_dir / "report.json").read_text())


def test_chart_has_a_bar_per_group_and_marks_red_groups() -> None:
    """The SVG chart draws one labelled bar per group; failing groups get a red label and count."""
    svg = group_chart(
        {
            "auth": {"passed": 199, "failed": 1, "skipped": 0, "error": 0},
            "refresh": {"passed": 5, "failed": 0, "skipped": 0, "error": 0},
            "transport": {"passed": 1, "failed": 0, "skipped": 1, "error": 0},
        }
    )
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    ET.fromstring(svg)  # well-formed
    assert "1 of 200 failing" in svg and "all 5 passed" in svg and "1 passed, 1 skipped" in svg
    red_labels = re.findall(r'fill="#c62828" font-weight="700">([^<]+)</text>', svg)
    assert any("auth" in label for label in red_labels)
    assert not any("refresh" in label for label in red_labels)
    assert re.search(r'<rect [^>]*width="8\.0"[^>]*fill="#c62828"', svg), "1 in 200 must stay visible"
    assert "no checks ran" in group_chart({})


def test_collector_takes_the_finding_from_check_failed(tmp_path: Path) -> None:
    """CheckFailed gives a result with its finding and one-line detail; a header line per group run."""
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_sample.py").write_text(
        "import pytest\n"
        "from sergio_kit.reports.findings import CheckFailed, Finding\n\n"
        "@pytest.mark.parametrize('x', [1])\n"
        "def test_auth_fails(record_property, x):\n"
        "    record_property('check_id', 'auth.bearer.missing')\n"
        "    raise CheckFailed(Finding('GET /v1/jobs without a token answered 200', expected='401',"
        f" sent='GET /v1/jobs', received='200 []', curl='curl -X GET -H \"X-API-Key: {API_KEY}\"'))\n\n"
        "def test_refresh_passes(record_property):\n"
        "    record_property('check_id', 'refresh.rotation')\n\n"
        "def test_auth_asserts(record_property):\n"
        "    record_property('check_id', 'auth.login.shape')\n"
        f"    assert False, 'token {JWT} leaked'\n"
    )
    collector = ResultCollector(stream=(out := io.StringIO()))
    arguments = [str(tmp_path), "-c", str(tmp_path / "pytest.ini"), "--rootdir", str(tmp_path)]
    pytest.main([*arguments, "-p", "no:terminal", "-p", "no:cacheprovider"], plugins=[collector])
    by_id = {result.check_id: result for result in collector.results}
    failed = by_id["auth.bearer.missing"]
    assert failed.status == "failed" and failed.subject == "1"
    assert failed.detail == "GET /v1/jobs without a token answered 200 (expected 401)"
    assert failed.finding is not None and failed.finding["received"] == "200 []"
    assert by_id["refresh.rotation"].finding is None and by_id["refresh.rotation"].status == "passed"
    assert by_id["auth.login.shape"].finding is None and JWT not in by_id["auth.login.shape"].detail
    assert [line for line in out.getvalue().splitlines() if line.startswith("==")] == [
        "== auth ==",
        "== refresh ==",
        "== auth ==",
    ]


def test_check_command_writes_three_clean_reports(tmp_path: Path) -> None:
    """`check --fault contract.health`: exit 1, the check failed in all three reports, no secret in any."""
    result = run_kit("check", "--max-examples", "5", "--report", str(tmp_path), "--fault", "contract.health")
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    final_line = result.stdout.strip().splitlines()[-1]
    for name in REPORT_NAMES:
        assert str(tmp_path / name) in final_line
    data = json.loads((tmp_path / "report.json").read_text())
    health = [check for check in data["checks"] if check["id"] == "contract.health"]
    assert [check["status"] for check in health] == ["failed"]
    assert data["summary"]["failed"] >= 1 and data["target"] == "the embedded reference server"
    root = ET.parse(tmp_path / "junit.xml").getroot()
    assert root.find(".//testcase[@name='contract.health']/failure") is not None
    assert "contract.health" in (tmp_path / "report.html").read_text()
    accounts = tomllib.loads(accounts_path().read_text())
    passwords = [user["password"] for company in accounts["companies"] for user in company["users"]]
    assert passwords
    for name in REPORT_NAMES:
        text = (tmp_path / name).read_text()
        assert not JWT_SHAPE.search(text), f"a JWT in {name}"
        for password in passwords:
            assert password not in text, f"a seeded password in {name}"
