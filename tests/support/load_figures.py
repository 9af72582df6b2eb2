"""Synthetic ``figures.json`` data for the tests of the load judgements (thresholds, knee, baseline)."""

from __future__ import annotations

from typing import Any


def figures(rps: float, p95: float, *, failed: int = 0, read_p95: float | None = None) -> dict[str, Any]:
    """A span of one step: ``rps`` admitted requests per second at ``p95`` ms."""
    total = {"requests": int(rps * 10) + failed, "admitted": int(rps * 10), "throttled": 0, "failed": failed}
    total |= {"rps": rps, "admitted_rps": rps, "error_rate": failed / (rps * 10 + failed)}
    total |= {"p50": p95 / 3, "p90": p95 * 0.8, "p95": p95, "p99": p95 * 1.5, "max": p95 * 2, "avg": p95 / 2}
    read = {**total, "p95": read_p95 if read_p95 is not None else p95}
    return {"seconds": 7.5, "total": total, "tiers": {"read": read}, "operations": {"GET /v1/jobs": read}}


def run(*steps: tuple[int, dict[str, Any]], stopped: str = "") -> dict[str, Any]:
    """figures.json data of a step load with ``(users, span)`` steps, all held to their end."""
    return {
        "profile": "capacity",
        "run": steps[-1][1],
        "steps": [
            {
                "index": i,
                "users": users,
                "start": i * 10.0,
                "end": i * 10.0 + 10,
                "complete": True,
                "figures": span,
            }
            for i, (users, span) in enumerate(steps)
        ],
        "stopped": stopped,
        "aborted": "",
    }
