"""``report.json``: the run as data, one entry per check, secrets masked."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sergio_kit.redaction import mask_text
from sergio_kit.reports._common import iso_utc, masked, tally
from sergio_kit.results import CheckResult


def report_data(
    target: str, results: Sequence[CheckResult], started_at: datetime, finished_at: datetime
) -> dict[str, Any]:
    """The JSON report as a dict: target, times, summary counts and the checks in run order."""
    checks = []
    for result in map(masked, results):
        check: dict[str, Any] = {
            "id": result.check_id,
            "group": result.group,
            "subject": result.subject,
            "status": result.status,
            "detail": result.detail,
            "seconds": round(result.seconds, 3),
        }
        if result.finding is not None:
            check["finding"] = result.finding
        checks.append(check)
    return {
        "target": mask_text(target),
        "started_at": iso_utc(started_at),
        "finished_at": iso_utc(finished_at),
        "summary": tally(results),
        "checks": checks,
    }


def write_json(
    path: Path, target: str, results: Sequence[CheckResult], started_at: datetime, finished_at: datetime
) -> Path:
    """Write ``report.json`` to ``path`` and return ``path``."""
    data = report_data(target, results, started_at, finished_at)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
