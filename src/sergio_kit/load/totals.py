"""End-of-run totals of a conformance load run: did each tier admit what its contract allows?

A rolling window of ``limit`` per ``window`` seconds, fed a steady stream of ``rate`` requests per
second, admits the first ``limit`` requests, refuses the rest until the first admission is
``window`` seconds old, and then admits again as the old admissions age out: over ``s`` seconds it
admits ``limit`` per full window plus, in the last partial window, whichever is smaller of
``limit`` and the requests sent in it (``admitted_by``). Each principal has its own window, so a
tier's expectation is the sum over the principals that loaded it (``load_plan.json``, written by
the Locust master: which principals carried each tier and at what rate).

The run's span per tier is measured (first to last response in Locust's stats); the expectation
is taken over that span plus or minus ``SKEW`` seconds (client and server see the same request at
slightly different instants, and a partial window is sensitive to that), with ``SLACK`` requests
per principal and window for rounding. That is tight enough to catch a server that admits twice
its limit or throttles at half of it, even at the smallest limits (10 per window).

The rolling window is the kit's assumption: the docs say "N per minute", and a fixed per-minute
window (at any alignment) admits the same steady stream no less, and at most one window's worth
(``limit``) more per principal: its first window may already be under way when the run starts, so
it can end a full window early and let a fresh one in. So a total above the rolling bound but
within the fixed-window bound breaks only the recommended rolling-window rule (a warning); above it,
or below the rolling bound (a server throttling before its published quota), it fails.
Pure: no I/O except :func:`read_plan`, no locust import.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.errors import SergioKitError
from sergio_kit.load.findings import LoadFinding
from sergio_kit.load.plan import PLAN_FILE

__all__ = [
    "PLAN_FILE",
    "SKEW",
    "SLACK",
    "STALE",
    "LoadPlan",
    "admitted_by",
    "expected_range",
    "fixed_window_high",
    "is_current",
    "read_plan",
    "totals_findings",
]

SKEW = 2.0
SLACK = 2
STALE = 60.0  # a plan written this long before the first or after the last response is another run's


@dataclass(frozen=True)
class LoadPlan:
    """What the Locust master ran: the limits, the run length, and each tier's principals and rates.

    ``principal_rates[tier]`` has one request rate (req/s) per principal that loaded the tier;
    ``workers`` counts worker processes on hosts without the auth user (their token-pool logins come
    from another address, so the auth tier may admit that many more).
    """

    limits: dict[str, int]
    duration: float
    principal_rates: dict[str, list[float]]
    server_window: float = WINDOW_SECONDS
    workers: int = 0
    written_at: float | None = None

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LoadPlan:
        """Parse ``load_plan.json``; a malformed plan is a kit error naming what is wrong."""
        try:
            return cls(
                limits={str(t): int(n) for t, n in data["limits"].items()},
                duration=float(data["duration"]),
                principal_rates={
                    str(t): [float(r) for r in rates] for t, rates in data["principal_rates"].items()
                },
                server_window=float(data.get("server_window", WINDOW_SECONDS)),
                workers=int(data.get("workers", 0)),
                written_at=float(data["written_at"]) if data.get("written_at") is not None else None,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise SergioKitError(f"{PLAN_FILE} is malformed ({error!r}): delete it and run again") from None


def read_plan(report_dir: Path) -> LoadPlan | None:
    """The plan the Locust master wrote into ``report_dir``, or ``None`` when there is none."""
    path = report_dir / PLAN_FILE
    if not path.exists():
        return None
    return LoadPlan.from_json(json.loads(path.read_text()))


def admitted_by(limit: int, rate: float, seconds: float, window: float = WINDOW_SECONDS) -> float:
    """Admissions a rolling ``limit``-per-``window`` bucket grants a steady ``rate`` stream in ``seconds``."""
    if seconds < 0 or rate <= 0:
        return 0.0
    full, rest = divmod(seconds, window)
    return full * min(limit, rate * window) + min(limit, math.floor(rate * rest) + 1)


def expected_range(
    limit: int, rates: list[float], span: float, window: float = WINDOW_SECONDS, skew: float = SKEW
) -> tuple[int, int]:
    """Lowest and highest admissions a conforming server gives these principals over ``span`` seconds."""
    low = sum(admitted_by(limit, rate, span - skew, window) for rate in rates)
    high = sum(admitted_by(limit, rate, span + skew, window) for rate in rates)
    slack = SLACK * len(rates) * (1 + math.floor((span + skew) / window))
    return max(0, math.floor(low) - slack), math.ceil(high) + slack


def is_current(plan: LoadPlan, first: float | None, last: float | None) -> bool:
    """Whether ``plan`` belongs to the run whose responses span ``first``..``last`` (epoch seconds)."""
    if plan.written_at is None or first is None or last is None:
        return True
    return first - STALE <= plan.written_at <= last + STALE


def fixed_window_high(limit: int, rates: list[float], high: int) -> int:
    """The most a fixed per-minute window, at any alignment, admits where a rolling one admits at most
    ``high``: one more window's worth per principal (its first window may end early in the run)."""
    return high + limit * len(rates)


def totals_findings(plan: LoadPlan, tiers: Mapping[str, tuple[int, float | None]]) -> list[LoadFinding]:
    """Per tier, a finding when the admitted total is outside what the contract allows over the run.

    ``tiers`` maps a tier to ``(admitted, span)``: its admitted total (token-pool logins included
    for auth) and the seconds from its first to its last response (``None``: no response, so the
    planned duration is used). The auth tier also allows one token-pool login per worker process
    (a worker on another host logs in from its own address, outside the auth user's bucket).
    Fewer than a rolling window admits, or more than a fixed window admits, fails (the documented
    quota); more than a rolling window but no more than a fixed one warns (the recommended rule).
    """
    findings = []
    for tier, rates in plan.principal_rates.items():
        rates = [rate for rate in rates if rate > 0]
        if not rates or tier not in plan.limits or tier not in tiers:
            continue
        admitted, span = tiers[tier]
        limit = plan.limits[tier]
        measured = span if span is not None else plan.duration
        low, high = expected_range(limit, rates, measured, plan.server_window)
        fixed_high = fixed_window_high(limit, rates, high)
        if tier == "auth":
            high, fixed_high = high + plan.workers, fixed_high + plan.workers
        if not low <= admitted <= high:
            shown = f"{tier}: admitted {admitted} in {measured:.0f} s"
            quota = (
                f"limit {limit} per {plan.server_window:.0f} s, {len(rates)} principal(s) at {_rates(rates)}"
            )
            findings.append(_total_finding(shown, admitted, (low, high, fixed_high), quota + " req/s"))
    return findings


def _total_finding(shown: str, admitted: int, bounds: tuple[int, int, int], quota: str) -> LoadFinding:
    """The finding on a total outside the rolling bounds ``low..high``: fewer (fails), more than
    ``fixed_high`` (fails) or more but within it (warns)."""
    low, high, fixed_high = bounds
    if admitted < low:
        return LoadFinding(f"{shown}, fewer than the contract allows ({low}..{high}: {quota})", "documented")
    if admitted > fixed_high:
        allowed = f"{low}..{fixed_high} for any per-minute window"
        return LoadFinding(f"{shown}, more than the contract allows ({allowed}: {quota})", "documented")
    return LoadFinding(
        f"{shown}, more than a rolling window allows ({low}..{high}: {quota}); "
        f"a fixed per-minute window allows up to {fixed_high}",
        "recommended",
    )


def _rates(rates: list[float]) -> str:
    return "+".join(f"{rate:.3g}" for rate in rates)
