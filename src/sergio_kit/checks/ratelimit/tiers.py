"""``ratelimit.<tier>.*``: exact boundary, valid and honest Retry-After, RateLimit headers and the 429
body, for every tier (auth, read, write, webhook, bulk), on the bearer surface and, for the tiers
the Zapier surface has, per API key.

Each tier is probed once per surface (``probe.py``) and the five rules judge that one recording.
On the embedded server a probe runs in a fresh, frozen window of the test clock the first time one
of its rules is checked; on a live target the live plan (``live.py``) probes every tier at once,
each with a principal of its own. A tier whose operation the contract lacks (no bulk endpoint) is
skipped, naming the operation.
"""

from __future__ import annotations

from collections.abc import Callable

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.ratelimit.calls import spending, surfaces, tier_limit
from sergio_kit.checks.ratelimit.live import live_plan
from sergio_kit.checks.ratelimit.probe import JUDGES, TierRun, probe_tier
from sergio_kit.checks.registry import check
from sergio_kit.contract.document import TIERS
from sergio_kit.reports.findings import CheckSkipped

RUNS = "ratelimit.runs"  # ctx.memo key: {(tier, surface): TierRun | CheckSkipped}

#: The basis of each per-tier rule: the quotas, the 429 and its Retry-After are published; the
#: RateLimit header fields and the 429's body (error shape, ``Cache-Control: no-store``) are not.
RULE_BASES = {
    "boundary": "documented",
    "retry_after": "documented",
    "retry_after_honest": "documented",
    "headers": "recommended",
    "body": "recommended",
}


def tier_runs(ctx: CheckContext, tier: str) -> list[TierRun | CheckSkipped]:
    """The probes of ``tier``, one per surface, each made once per context."""
    plan = live_plan(ctx)
    if plan is not None:
        return plan.tier_runs(tier)
    runs: dict[tuple[str, int], TierRun | CheckSkipped] = ctx.memo.setdefault(RUNS, {})
    for surface in surfaces(tier):
        if (tier, surface) not in runs:
            try:
                with spending(ctx, tier, surface=surface) as caller:
                    runs[(tier, surface)] = probe_tier(ctx, caller, tier_limit(ctx, tier))
            except CheckSkipped as reason:
                runs[(tier, surface)] = reason
    return [runs[(tier, surface)] for surface in surfaces(tier)]


def judge_tier(ctx: CheckContext, tier: str, judge: Callable[[CheckContext, TierRun], None]) -> None:
    """``judge`` on every surface's probe of ``tier``; a surface that could not be probed is a skip,
    reported once the others have passed."""
    skipped: CheckSkipped | None = None
    for run in tier_runs(ctx, tier):
        if isinstance(run, CheckSkipped):
            skipped = run
        else:
            judge(ctx, run)
    if skipped is not None:
        raise skipped


def _register(tier: str, rule: str, judge: Callable[[CheckContext, TierRun], None]) -> None:
    def run(ctx: CheckContext) -> None:
        judge_tier(ctx, tier, judge)

    run.__name__ = run.__qualname__ = f"{tier}_{rule}"
    keyed = " (bearer and per API key)" if len(surfaces(tier)) > 1 else ""
    run.__doc__ = f"{tier} tier{keyed}: {judge.__doc__}"
    check(f"ratelimit.{tier}.{rule}", basis=RULE_BASES[rule])(run)


for _tier in TIERS:
    for _rule, _judge in JUDGES.items():
        _register(_tier, _rule, _judge)
