"""The reports of ``sergio-kit check``: ``report.json``, ``junit.xml`` and ``report.html``.

Each writer takes the :class:`~sergio_kit.results.CheckResult` list of a run and masks every
text field again before writing it (defence in depth: findings are masked when they are made).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from sergio_kit.reports._common import ReportError
from sergio_kit.reports.chart import group_chart
from sergio_kit.reports.html import render_html, write_html
from sergio_kit.reports.json_report import report_data, write_json
from sergio_kit.reports.junit import junit_tree, write_junit
from sergio_kit.reports.timeline import TierTraffic, timeline_svg, timelines_html
from sergio_kit.results import CheckResult

__all__ = [
    "ReportError",
    "TierTraffic",
    "group_chart",
    "junit_tree",
    "render_html",
    "report_data",
    "timeline_svg",
    "timelines_html",
    "write_html",
    "write_json",
    "write_junit",
    "write_reports",
]

JSON_NAME = "report.json"
JUNIT_NAME = "junit.xml"
HTML_NAME = "report.html"


def write_reports(
    report_dir: Path,
    target: str,
    results: Sequence[CheckResult],
    started_at: datetime,
    finished_at: datetime,
    *,
    traffic: Sequence[TierTraffic] = (),
) -> list[Path]:
    """Write ``report.json``, ``junit.xml`` and ``report.html`` into ``report_dir``; return their paths.

    ``traffic`` (per-tier rate-limited requests of the run) adds the "Rate limits over time" charts
    to ``report.html`` and the per-tier totals (``ratelimit_traffic``) to ``report.json``.
    """
    report_dir.mkdir(parents=True, exist_ok=True)
    return [
        write_json(report_dir / JSON_NAME, target, results, started_at, finished_at, traffic=traffic),
        write_junit(report_dir / JUNIT_NAME, target, results),
        write_html(
            report_dir / HTML_NAME,
            target,
            results,
            started_at=started_at,
            finished_at=finished_at,
            traffic=traffic,
        ),
    ]
