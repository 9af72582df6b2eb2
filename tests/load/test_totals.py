"""The end-of-run totals rule of ``sergio-kit load`` on synthetic Locust stats (no Locust run).

A conformance run's admitted total per tier must match limit x principals x windows covered by the
run, within a tolerance that still catches a server admitting twice its limit or half of it.
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from sergio_kit.errors import SergioKitError
from sergio_kit.load.findings import LoadFinding
from sergio_kit.load.run import judge, print_summary, summarize
from sergio_kit.load.totals import PLAN_FILE, LoadPlan, admitted_by, expected_range, read_plan

START = 1_800_000_000.0
LIMITS = {"auth": 10, "read": 120, "write": 60, "webhook": 10, "bulk": 10}


def _plan(window: float, duration: float, principals: int = 1, **changes: Any) -> LoadPlan:
    """The plan the locustfile writes for ``principals`` equal principals per tier, paced at 1.5x."""
    rates = {tier: [1.5 * limit / window / principals] * principals for tier, limit in LIMITS.items()}
    settings: dict[str, Any] = {"written_at": START + 1, **changes}
    return LoadPlan(limits=dict(LIMITS), duration=duration, principal_rates=rates, **settings)


def _stats(span: float, **admitted: int) -> list[dict[str, Any]]:
    """Stats entries over ``span`` s: each tier admitted ``admitted[tier]`` (default its limit per
    60-s window begun) and throttled 5."""
    entries = []
    for tier, limit in LIMITS.items():
        default = limit * (1 + int(span // 60))
        for kind, count in (("admitted", admitted.get(tier, default)), ("throttled", 5)):
            entries.append(
                {
                    "name": f"{tier} [{kind}]",
                    "num_requests": count,
                    "num_failures": 0,
                    "start_time": START + 0.5,
                    "last_request_timestamp": START + 0.5 + span,
                }
            )
    return entries


def _judge(plan: LoadPlan | None, span: float, **admitted: int) -> list[LoadFinding]:
    return judge(summarize(_stats(span, **admitted)), "conformance", plan=plan)


def test_rolling_window_arithmetic() -> None:
    """A steady stream past the limit gets the limit per full window plus the partial window's share."""
    assert admitted_by(120, 3.0, 30) == 91  # still under the limit: everything sent
    assert admitted_by(120, 3.0, 59) == 120  # one window: the limit
    assert admitted_by(120, 3.0, 119) == 240  # two windows
    assert admitted_by(120, 3.0, 122) == 247  # plus 2 s into the third window
    assert admitted_by(120, 1.0, 119) == 60 + 60  # never reaches the limit: all of it


def test_default_run_within_tolerance_passes() -> None:
    """The default conformance run (60-s pacing window, 120 s): two windows' worth per tier passes."""
    plan = _plan(60, 120)
    admitted = {tier: 2 * limit for tier, limit in LIMITS.items()}
    assert _judge(plan, 119.0, **admitted) == []
    assert _judge(plan, 118.0) == []
    assert _judge(plan, 121.5, read=243, write=122, auth=21, webhook=20, bulk=21) == []


def test_short_run_exactly_the_limit_passes() -> None:
    """The tests' 8-s window over 12 s: each tier admits exactly its limit, which is the expectation."""
    assert _judge(_plan(8, 12), 11.5) == []


@pytest.mark.parametrize(
    ("window", "duration", "span", "tier", "admitted", "verdict"),
    [
        (60, 120, 119.0, "read", 480, "more than"),  # twice the limit, every window
        (60, 120, 119.0, "read", 120, "fewer than"),  # half the limit
        (60, 120, 119.0, "bulk", 40, "more than"),
        (60, 120, 119.0, "bulk", 10, "fewer than"),
        (8, 12, 11.5, "read", 243, "more than"),  # a run inside one window: past 2x (a fixed window's edge)
        (8, 12, 11.5, "read", 60, "fewer than"),
        (8, 12, 11.5, "webhook", 23, "more than"),  # the smallest limit, past twice
        (8, 12, 11.5, "webhook", 5, "fewer than"),  # and half of it
    ],
)
def test_twice_or_half_the_limit_fails(
    window: float, duration: float, span: float, tier: str, admitted: int, verdict: str
) -> None:
    """A server admitting 2x its limit per window (past what any per-minute window allows), or throttling
    at half of it, is a totals failure for that tier (a documented quota)."""
    findings = _judge(_plan(window, duration), span, **{tier: admitted})
    assert len(findings) == 1, findings
    assert findings[0].message.startswith(
        f"{tier}: admitted {admitted} in {span:.0f} s, {verdict} the contract"
    )
    assert (findings[0].basis, findings[0].warned) == ("documented", False)


def test_each_principal_has_its_own_window() -> None:
    """Two principals on a tier double its expectation: 2x the limit passes, 1x fails."""
    plan = _plan(8, 12, principals=2)
    assert _judge(plan, 11.5, **{t: 2 * n for t, n in LIMITS.items()}) == []
    findings = _judge(plan, 11.5, **{t: 2 * n for t, n in LIMITS.items() if t != "read"})
    assert [finding.message for finding in findings] == [
        "read: admitted 120 in 12 s, fewer than the contract allows "
        "(210..244: limit 120 per 60 s, 2 principal(s) at 11.2+11.2 req/s)"
    ]


def test_tier_without_responses_fails() -> None:
    """A tier the plan loaded but that got no response at all is short of its total."""
    stats = [e for e in _stats(11.5) if not e["name"].startswith("bulk ")]
    findings = judge(summarize(stats), "conformance", plan=_plan(8, 12))
    assert [f.message.split(",")[0] for f in findings] == ["bulk: admitted 0 in 12 s"]


def test_auth_allows_pool_logins_of_workers_elsewhere() -> None:
    """Auth: each worker on a host without the auth user adds its own token-pool login."""
    assert _judge(_plan(8, 12, workers=3), 11.5, auth=15) == []
    assert _judge(_plan(8, 12, workers=0), 11.5, auth=15) != []


def test_rule_needs_a_current_plan_and_conformance() -> None:
    """No plan, a plan of another run, or the capacity profile: only the per-response rules apply."""
    assert _judge(None, 119.0, read=480) == []
    assert _judge(_plan(60, 120, written_at=START - 3600), 119.0, read=480) == []
    assert judge(summarize(_stats(119.0, read=480)), "capacity", plan=_plan(60, 120)) == []


def test_summarize_keeps_each_tiers_span() -> None:
    """The span is from a tier's first to its last response, over all its classes and pool logins."""
    stats = _stats(10.0)
    stats.append(
        {
            "name": "token pool login [worker 0]",
            "num_requests": 1,
            "num_failures": 0,
            "start_time": START,
            "last_request_timestamp": START,
        }
    )
    summaries = summarize(stats)
    assert summaries["auth"].span == pytest.approx(10.5)
    assert summaries["read"].span == pytest.approx(10.0)


def test_expected_range_tolerance_is_narrow() -> None:
    """The tolerance stays well inside half and twice the expectation, even at a limit of 10."""
    low, high = expected_range(10, [0.25], 119.0)
    assert 10 < low <= 20 <= high < 40


def test_read_plan(tmp_path: Path) -> None:
    """The plan file is read when present, absent is ``None``, malformed is a one-line kit error."""
    assert read_plan(tmp_path) is None
    (tmp_path / PLAN_FILE).write_text(
        json.dumps({"limits": LIMITS, "duration": 12, "principal_rates": {"read": [22.5]}, "workers": 2})
    )
    plan = read_plan(tmp_path)
    assert plan is not None and plan.principal_rates == {"read": [22.5]} and plan.workers == 2
    (tmp_path / PLAN_FILE).write_text(json.dumps({"limits": LIMITS}))
    with pytest.raises(SergioKitError, match=r"load_plan\.json is malformed"):
        read_plan(tmp_path)


def test_locust_exiting_non_zero_alone_fails_the_run() -> None:
    """Without any finding, Locust's own non-zero exit (a user crashed) still makes the verdict FAILED,
    as it makes the exit code 1 and summary.html say so."""
    summaries = summarize(_stats(11.5))
    out = io.StringIO()
    print_summary(summaries, [], out, locust_exit_code=1)
    assert out.getvalue().endswith("FAIL Locust exited with code 1\nload: FAILED\n")
    out = io.StringIO()
    print_summary(summaries, [], out)
    assert out.getvalue().endswith("load: passed\n") and "FAIL" not in out.getvalue()
