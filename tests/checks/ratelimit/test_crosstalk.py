"""``ratelimit.isolation.tiers`` for every ordered pair of the bearer surface's tiers: which tiers take
part, and how the live plan judges pairs from one user's tier probes that ran at once (a pair only when
one tier's quota was all spent before the other met its first 429).

The probe recordings are made up here; the pairs judged on the reference server (with the test clock)
and the crosstalk faults (``ratelimit.isolation.tiers@write-read``, ``@bulk-write``, ``@webhook-bulk``)
are proven in ``test_check_proofs.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.ratelimit.calls import TIER_OPERATIONS, TierCaller
from sergio_kit.checks.ratelimit.crosstalk import bearer_tiers, judge_parallel_probes
from sergio_kit.checks.ratelimit.probe import TierRun
from sergio_kit.reports.findings import CheckFailed
from sergio_kit.target.target import Account, Target

SENT = httpx.Request("GET", "https://sergio.test/v1/jobs")


@pytest.fixture
def context() -> Iterator[CheckContext]:
    """A context on a stand-in target with the packaged contract (nothing is sent)."""
    ctx = CheckContext(Target("https://sergio.test", Account("qa@sergio.test", "not-a-real-password")))
    yield ctx
    ctx.close()


def _run(ctx: CheckContext, tier: str, admitted: int, spent_at: float, refused_from: float) -> TierRun:
    """A bearer probe of ``tier`` that had ``admitted`` admitted, its quota spent by ``spent_at`` and
    its first 429 sent at ``refused_from`` (this machine's monotonic seconds)."""
    operation = ctx.require(TIER_OPERATIONS[tier][0])
    caller = TierCaller(ctx, tier, operation, {"Authorization": "Bearer t"}, None)
    run = TierRun(caller, ctx.target.tier_limits[tier])
    run.admitted = [httpx.Response(200, request=SENT) for _ in range(admitted)]
    run.first_429 = httpx.Response(429, request=SENT)
    run.spent_at, run.refused_from = spent_at, refused_from
    return run


def test_the_bearer_surface_tiers_come_from_the_contract(context: CheckContext) -> None:
    """Every tier with a bearer operation the kit can spend, scarcest first (logout is the auth tier's)."""
    assert bearer_tiers(context) == ["auth", "bulk", "webhook", "write", "read"]


def test_without_logout_or_bulk_their_tiers_are_left_out(context: CheckContext) -> None:
    """A contract without logout has no bearer operation of the auth tier; without bulk, no bulk tier."""
    context.contract = context.contract.without({"POST /v1/auth/logout", "POST /v1/jobs/bulk"}, "a test")
    context.operations = list(context.contract.operations)
    assert bearer_tiers(context) == ["webhook", "write", "read"]


def test_a_tier_spent_before_another_ran_out_judges_that_pair(context: CheckContext) -> None:
    """Bulk spent before webhook met its 429; bulk and webhook before write and read; write before
    read: six pairs."""
    runs = {
        "bulk": _run(context, "bulk", 10, spent_at=0.3, refused_from=0.25),
        "webhook": _run(context, "webhook", 10, spent_at=0.4, refused_from=0.35),
        "write": _run(context, "write", 60, spent_at=1.5, refused_from=1.45),
        "read": _run(context, "read", 120, spent_at=3.0, refused_from=2.95),
    }
    assert sorted(judge_parallel_probes(context, runs)) == sorted(
        ["bulk->webhook", "bulk->write", "webhook->write", "bulk->read", "webhook->read", "write->read"]
    )


def test_a_short_tier_after_others_fails_naming_them(context: CheckContext) -> None:
    """Read admitting 60 of 120 while the user's other probes spent their tiers is a finding."""
    runs = {
        "bulk": _run(context, "bulk", 10, spent_at=0.3, refused_from=0.25),
        "write": _run(context, "write", 60, spent_at=1.5, refused_from=1.45),
        "read": _run(context, "read", 60, spent_at=1.6, refused_from=1.55),
    }
    with pytest.raises(CheckFailed, match=r"read tier \(GET /v1/jobs\) was refused after 60 of its 120"):
        judge_parallel_probes(context, runs)


def test_a_tier_short_with_nothing_spent_before_is_not_judged_here(context: CheckContext) -> None:
    """A tier that ran out first is its own boundary's matter: no pair, no finding."""
    runs = {
        "bulk": _run(context, "bulk", 9, spent_at=0.3, refused_from=0.25),
        "read": _run(context, "read", 120, spent_at=3.0, refused_from=2.95),
    }
    assert judge_parallel_probes(context, runs) == ["bulk->read"]


def test_a_probe_that_broke_down_judges_nothing(context: CheckContext) -> None:
    """A probe with a problem (it never spent its quota) is no tier spent before another."""
    broken = _run(context, "bulk", 0, spent_at=0.3, refused_from=0.25)
    broken.problem = CheckFailed.__new__(CheckFailed)
    runs = {"bulk": broken, "read": _run(context, "read", 120, spent_at=3.0, refused_from=2.95)}
    assert judge_parallel_probes(context, runs) == []
