"""``report.json``: the run as data, one entry per check, secrets masked."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sergio_kit.reports._common import changed_levels, iso_utc, masked, tally
from sergio_kit.reports.redaction import mask_text
from sergio_kit.reports.results import CheckResult
from sergio_kit.reports.timeline import TierTraffic, traffic_totals


def report_data(
    target: str,
    results: Sequence[CheckResult],
    started_at: datetime,
    finished_at: datetime,
    *,
    traffic: Sequence[TierTraffic] = (),
    plan: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The JSON report as a dict: target, times, summary counts (``warned`` among them), the checks in
    run order (each with its rule's ``basis`` and the ``level`` the user set, when known) and
    ``changed_levels``: the checks whose level the user changed, ``[{"id", "level"}]``.

    With ``traffic``, also ``ratelimit_traffic``: per tier its limit, window, principals and the
    admitted / throttled / failed totals (not the raw events). With ``plan``, also ``plan``: what the
    run planned to send per tier and principal, its floor and estimate, and what it sent.
    """
    safe = [masked(result) for result in results]
    checks = []
    for result in safe:
        check: dict[str, Any] = {
            "id": result.check_id,
            "group": result.group,
            "subject": result.subject,
            "status": result.status,
            "detail": result.detail,
            "seconds": round(result.seconds, 3),
        }
        if result.basis:
            check["basis"] = result.basis
        if result.level:
            check["level"] = result.level
        if result.finding is not None:
            check["finding"] = result.finding
        checks.append(check)
    data: dict[str, Any] = {
        "target": mask_text(target),
        "started_at": iso_utc(started_at),
        "finished_at": iso_utc(finished_at),
        "summary": tally(safe),
        "checks": checks,
        "changed_levels": [
            {"id": check_id, "level": level} for check_id, level in changed_levels(safe).items()
        ],
    }
    if traffic:
        data["ratelimit_traffic"] = [traffic_data(tier) for tier in traffic]
    if plan is not None:
        data["plan"] = dict(plan)
    return data


def traffic_data(traffic: TierTraffic) -> dict[str, Any]:
    """One tier's ``ratelimit_traffic`` entry: its limit, window, principals and outcome totals."""
    return {
        "tier": mask_text(traffic.tier),
        "limit": traffic.limit,
        "window": traffic.window,
        "principals": traffic.principals,
        **traffic_totals(traffic),
    }


def write_json(
    path: Path,
    target: str,
    results: Sequence[CheckResult],
    started_at: datetime,
    finished_at: datetime,
    *,
    traffic: Sequence[TierTraffic] = (),
    plan: Mapping[str, Any] | None = None,
) -> Path:
    """Write ``report.json`` to ``path`` and return ``path``."""
    data = report_data(target, results, started_at, finished_at, traffic=traffic, plan=plan)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path
