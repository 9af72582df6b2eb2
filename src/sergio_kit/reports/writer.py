"""Write the reports of one ``sergio-kit check`` run into a folder."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sergio_kit.reports.html import write_html
from sergio_kit.reports.json_report import write_json
from sergio_kit.reports.junit import write_junit
from sergio_kit.reports.markdown import write_markdown
from sergio_kit.reports.results import CheckResult
from sergio_kit.reports.timeline import TierTraffic

JSON_NAME = "report.json"
JUNIT_NAME = "junit.xml"
HTML_NAME = "report.html"
MARKDOWN_NAME = "summary.md"


def write_reports(
    report_dir: Path,
    target: str,
    results: Sequence[CheckResult],
    started_at: datetime,
    finished_at: datetime,
    *,
    traffic: Sequence[TierTraffic] = (),
    strict: bool = False,
    plan: Mapping[str, Any] | None = None,
) -> list[Path]:
    """Write ``report.json``, ``junit.xml``, ``report.html`` and ``summary.md`` (the short Markdown
    summary for a CI job page) into ``report_dir``; return their paths.

    ``traffic`` (per-tier rate-limited requests of the run) adds the "Rate limits over time" charts
    to ``report.html`` and the per-tier totals (``ratelimit_traffic``) to ``report.json``; ``strict``
    (``--strict``) makes ``report.html`` and ``summary.md`` call a run with warnings failed, as its
    exit code does;
    ``plan`` (the run's plan and what it sent) goes into ``report.json``.
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_json(
            report_dir / JSON_NAME, target, results, started_at, finished_at, traffic=traffic, plan=plan
        ),
        write_junit(report_dir / JUNIT_NAME, target, results),
        write_html(
            report_dir / HTML_NAME,
            target,
            results,
            started_at=started_at,
            finished_at=finished_at,
            traffic=traffic,
            strict=strict,
        ),
        write_markdown(report_dir / MARKDOWN_NAME, target, results, started_at, finished_at, strict=strict),
    ]
