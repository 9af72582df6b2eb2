"""``figures.json``: a load run's figures per tier and per operation, whole run and per step.

Written by the Locust master (or the only Locust process) when it quits, next to ``--json-file``,
from Locust's own statistics and percentile functions (``load/measure.py``; what each figure means
is written there). Its shape::

    {"profile": ..., "start": epoch s, "run": SPAN, "steps": [STEP, ...], "stopped": why, "aborted": ...}
    SPAN = {"seconds": s, "total": FIGURES, "tiers": {tier: FIGURES}, "operations": {op: FIGURES}}
    STEP = {"index": i, "users": u, "start": s, "end": s, "complete": bool, "figures": SPAN}
    FIGURES = {"requests", "admitted", "throttled", "failed", "rps", "admitted_rps", "error_rate",
               "p50", "p90", "p95", "p99", "max", "avg"}

Plain Python (no locust import): the kit reads it here and prints its tables.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from sergio_kit.errors import SergioKitError

FIGURES_FILE = "figures.json"
LATENCY_COLUMNS = ("p50", "p90", "p95", "p99", "max")
Figures = Mapping[str, Any]  # one figure set (FIGURES above)
Span = Mapping[str, Any]  # SPAN above


def read_figures(report_dir: Path) -> dict[str, Any] | None:
    """The figures the Locust master wrote into ``report_dir``, or ``None`` when there are none."""
    path = report_dir / FIGURES_FILE
    if not path.exists():
        return None
    try:
        data: Any = json.loads(path.read_text())
    except ValueError as error:
        raise SergioKitError(f"{path} is not JSON ({error}): delete it and run again") from None
    if not isinstance(data, dict) or not isinstance(data.get("run"), dict):
        raise SergioKitError(f"{path} has no run figures: delete it and run again")
    return data


def scope_figures(span: Span, scope: str) -> Figures | None:
    """The figure set of ``scope`` in ``span``: ``*`` (every request), a tier or an operation."""
    found: Figures | None = span.get("total") if scope == "*" else span.get("tiers", {}).get(scope)
    if found is None and scope != "*":
        found = span.get("operations", {}).get(scope)
    return found


def scopes(span: Span) -> Iterator[tuple[str, str, Figures]]:
    """``(kind, scope, figures)`` for the total, each tier and each operation of ``span``."""
    if span.get("total"):
        yield "total", "*", span["total"]
    for kind in ("tiers", "operations"):
        for scope, figures in span.get(kind, {}).items():
            yield kind, scope, figures


def complete_steps(data: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The steps of a run that were held to their end (a cut-short step judges nothing)."""
    return [step for step in data.get("steps", []) if step.get("complete")]


def ms(value: Any) -> str:
    """A latency cell: ``182`` or ``-`` when not measured."""
    return "-" if value is None else f"{float(value):.0f}"


def rate(value: Any) -> str:
    """A throughput cell: ``410.3`` or ``-``."""
    return "-" if value is None else f"{float(value):.1f}"


def figures_table(span: Span) -> list[str]:
    """The text table of a span: one row for every request, each tier and each operation."""
    header = f"{'scope':<22} {'requests':>8} {'admitted':>8} {'throttled':>9} {'failed':>6} {'req/s':>8}"
    header += "".join(f" {column:>6}" for column in LATENCY_COLUMNS)
    lines = [header + "  (ms)"]
    for _, scope, figures in scopes(span):
        label = "all requests" if scope == "*" else scope
        row = (
            f"{label:<22} {figures['requests']:>8} {figures['admitted']:>8} {figures['throttled']:>9} "
            f"{figures['failed']:>6} {rate(figures.get('rps')):>8}"
        )
        lines.append(row + "".join(f" {ms(figures.get(column)):>6}" for column in LATENCY_COLUMNS))
    return lines


def steps_table(steps: Sequence[Mapping[str, Any]]) -> list[str]:
    """The text table of a step load: offered users, throughput, errors and latency per step."""
    header = f"{'step':>4} {'users':>5} {'req/s':>8} {'admitted/s':>10} {'failed':>6}"
    lines = [header + "".join(f" {column:>6}" for column in ("p50", "p95", "p99")) + "  (ms)"]
    for step in steps:
        total = step["figures"]["total"]
        lines.append(
            f"{step['index'] + 1:>4} {step['users']:>5} {rate(total.get('rps')):>8} "
            f"{rate(total.get('admitted_rps')):>10} {total['failed']:>6} {ms(total.get('p50')):>6} "
            f"{ms(total.get('p95')):>6} {ms(total.get('p99')):>6}"
            + ("" if step.get("complete") else "  (cut short)")
        )
    return lines
