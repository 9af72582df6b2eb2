"""``summary.md``: the verdict, the counts and one line per failed, errored and warned check, masked and
escaped; rendered with a CommonMark parser (as a CI job page would) to see what a reader sees."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from html import unescape
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from sergio_kit.reports.markdown import MAX_DETAIL, MAX_LINES, check_line, markdown_summary
from sergio_kit.reports.results import CheckResult
from sergio_kit.reports.writer import write_reports
from tests.support.reports import API_KEY, JWT, JWT_SHAPE, PASSWORD, SECRETS, WEBHOOK_SECRET

STARTED = datetime(2026, 1, 30, 12, 0, tzinfo=UTC)
FINISHED = STARTED + timedelta(seconds=42)
HOSTILE = "<script>alert(1)</script> [click](https://evil.example) **bold** @octocat | `x` # h"


def render(text: str) -> str:
    """``text`` as HTML, by CommonMark with GitHub's tables."""
    return MarkdownIt("commonmark").enable("table").render(text)


def mixed_results() -> list[CheckResult]:
    """One result per status; the failure, the error and the warning carry raw secrets."""
    finding = {"message": f"token {JWT} accepted", "sent": f'{{"password": "{PASSWORD}"}}', "curl": API_KEY}
    return [
        CheckResult("contract.health", "", "passed", "", 0.1),
        CheckResult("auth.jwt.alg_none", "GET /v1/jobs", "failed", f"accepted {JWT}", 0.5, finding),
        CheckResult("webhook.signature", "", "error", f"fixture broke: {WEBHOOK_SECRET}\nsecond line", 1.0),
        CheckResult(
            "auth.login.enumeration", "", "warned", f"key {API_KEY} differs", 0.2, basis="recommended"
        ),
        CheckResult("auth.expiry.live", "", "skipped", "the target has no test clock", 0.0),
    ]


def section(text: str, heading: str) -> list[str]:
    """The list lines under ``### heading (N)``."""
    block = text.split(f"### {heading} (", 1)[1].split("\n\n", 2)[1]
    return [line for line in block.splitlines() if line.startswith("- ")]


def test_summary_has_verdict_counts_and_a_line_per_problem() -> None:
    """Headline with the verdict, a counts table, then failed, errors and warned, one line per check
    (a warned line starts with its rule's basis); passed and skipped checks are only counted."""
    text = markdown_summary("https://sergio.test", mixed_results(), STARTED, FINISHED)
    assert text.startswith("## sergio-kit check: ❌ failed\n")
    assert "Target: https://sergio.test · started 2026-01-30T12:00:00Z · 42 s" in text
    counts = (
        "| passed | warned | failed | skipped | error |\n|---:|---:|---:|---:|---:|\n| 1 | 1 | 1 | 1 | 1 |"
    )
    assert counts in text
    assert text.index("### Failed (1)") < text.index("### Errors (1)") < text.index("### Warned (1)")
    failed, errors, warned = section(text, "Failed"), section(text, "Errors"), section(text, "Warned")
    assert len(failed) == len(errors) == len(warned) == 1
    assert failed[0].startswith("- `auth.jwt.alg_none` GET /v1/jobs: accepted [jwt ")
    assert errors[0].startswith("- `webhook.signature`: fixture broke: [webhook-secret ")
    assert errors[0].endswith("] second line")  # one line: the newline became a space
    assert warned[0].startswith("- `auth.login.enumeration`: recommended rule: key [api-key ")
    assert "contract.health" not in text and "auth.expiry.live" not in text
    table = render(text)
    assert re.findall(r"<td[^>]*>(\d+)</td>", table) == ["1"] * 5


@pytest.mark.parametrize(
    ("statuses", "strict", "headline"),
    [
        (["passed", "skipped"], False, "✅ passed"),
        (["passed", "warned"], False, "⚠️ passed with warnings"),
        (["passed", "warned"], True, "❌ failed (--strict: warnings fail)"),
        (["passed", "error"], False, "❌ failed"),
        ([], False, "no checks ran"),
    ],
)
def test_verdict_is_the_exit_codes(statuses: list[str], strict: bool, headline: str) -> None:
    """The verdict says what the exit code says: errors fail, warnings fail only with --strict."""
    results = [CheckResult(f"auth.c{i}", "", status, "d", 0.0) for i, status in enumerate(statuses)]
    text = markdown_summary("t", results, STARTED, FINISHED, strict=strict)
    assert text.splitlines()[0] == f"## sergio-kit check: {headline}"


def test_no_raw_secret_and_nothing_injected() -> None:
    """Raw secrets given to the writer come out masked; a hostile detail renders as its own plain text:
    no script, link, emphasis, code or heading of its own."""
    results = [
        *mixed_results(),
        CheckResult("transport.tls", f"GET /v1/jobs?token={JWT}", "failed", HOSTILE, 0.1),
    ]
    text = markdown_summary(f"https://sergio.test/?key={API_KEY}", results, STARTED, FINISHED)
    for secret in SECRETS:
        assert secret not in text, secret[:12]
    assert not JWT_SHAPE.search(text)
    html = render(text)
    assert not re.search(r"<(?:script|a|strong|em|h1)\b", html), html
    line = next(item for item in re.findall(r"<li>(.*?)</li>", html) if "transport.tls" in item)
    assert unescape(re.sub(r"<[^>]+>", "", line)).endswith(f": {HOSTILE}")


def test_long_details_are_cut_and_long_lists_counted() -> None:
    """A detail longer than MAX_DETAIL is cut with "..."; past MAX_LINES checks the rest is counted."""
    results = [CheckResult(f"contract.c{i}", "", "failed", "x" * 1000, 0.0) for i in range(MAX_LINES + 7)]
    text = markdown_summary("t", results, STARTED, FINISHED)
    lines = section(text, "Failed")
    assert len(lines) == MAX_LINES + 1 and lines[-1] == "- and 7 more: see report.html"
    assert lines[0] == "- `contract.c0`: " + "x" * (MAX_DETAIL - 3) + "..."


def test_writer_writes_summary_md(tmp_path: Path) -> None:
    """write_reports writes summary.md beside the other reports, with the same counts as report.json."""
    paths = write_reports(tmp_path, "https://sergio.test", mixed_results(), STARTED, FINISHED, strict=True)
    assert tmp_path / "summary.md" in paths
    text = (tmp_path / "summary.md").read_text(encoding="utf-8")
    assert text.startswith("## sergio-kit check: ❌ failed") and "| 1 | 1 | 1 | 1 | 1 |" in text


def test_a_secret_at_the_cut_is_masked_whole() -> None:
    """A raw JWT straddling the cut is masked before the detail is cut: no fragment of it is left."""
    detail = "x" * (MAX_DETAIL - 20) + f" {JWT} tail"
    line = check_line(CheckResult("auth.c", "", "failed", detail, 0.0))
    assert "[jwt " in line and JWT[:12] not in line
