"""``ratelimit.isolation.tiers`` for a user: spending one tier never debits another, for every ordered
pair of the tiers the bearer surface has (the contract's tiers with a bearer operation the kit can
spend as a user: logout for auth, bulk, webhook registration, job updates, job reads).

With a test clock two fresh windows cover every ordered pair. In one the user spends each tier in
turn, scarcest first, to its full quota; in the other, in the reverse order. Each tier must still admit
its whole quota after those spent before it in its window: a debit from any of them shows as a short
quota. A short tier is then pinned on the tier that debits it, a pair per fresh window, after a window
of its own shows its quota whole (else the short quota is its own, which its boundary check reports).

Live, the plan's parallel probes of the primary user judge the pairs their timing allows
(:func:`judge_parallel_probes`): a pair (A, B) when A's quota was all spent before B met its first
429. The auth tier is not among them: the plan's auth probe is the client address's logins.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.ratelimit.calls import (
    ADMITTED_TEXT,
    LOGIN,
    SPENDABLE_TIERS,
    TIER_OPERATIONS,
    TierCaller,
    cleaned,
    fresh_window,
    tier_caller,
    tier_limit,
)
from sergio_kit.checks.ratelimit.probe import TierRun
from sergio_kit.reports.findings import CheckSkipped

LOGOUT = "POST /v1/auth/logout"


@dataclass(frozen=True)
class Shortfall:
    """A tier that admitted less than its quota after the same user spent other tiers."""

    tier: str
    label: str  # the tier's caller, as findings name it
    admitted: int
    refused: httpx.Response
    after: tuple[str, ...]  # the tiers spent before it in the window


def bearer_tiers(ctx: CheckContext) -> list[str]:
    """The bearer surface's tiers the kit can spend as one user, scarcest first (ties: auth, bulk,
    webhook, write, read): each has a bearer operation in the contract, and the kit's operation for it
    is offered (logout for the auth tier, with login to make its families)."""
    bearer = {operation.tier for operation in ctx.contract.operations if "bearerAuth" in operation.security}
    tiers = ["auth"] if "auth" in bearer and ctx.offers(LOGOUT) and ctx.offers(LOGIN) else []
    tiers += [tier for tier in SPENDABLE_TIERS if tier in bearer and ctx.offers(TIER_OPERATIONS[tier][0])]
    return sorted(tiers, key=lambda tier: tier_limit(ctx, tier))


def probe_crosstalk(ctx: CheckContext) -> str:
    """Judge every ordered pair of :func:`bearer_tiers` on the test clock (see the module); returns
    the detail of a pass."""
    tiers, left_out = bearer_tiers(ctx), ""
    if ctx.target.clock is None and "auth" in tiers:  # live, each logout costs a login of the address
        tiers.remove("auth")
        left_out = "; the auth tier left out live (each logout ends a family: a login of the client's"
        left_out += " address, its scarcest quota)"
    if len(tiers) < 2:
        raise CheckSkipped(f"the contract's bearer surface has fewer than two tiers to spend: {tiers}")
    if "write" in tiers:
        ctx.resource("job_id")  # the job the write caller updates, made before any window
    for order in (tiers, tiers[::-1]):
        shortfall = _spend_in_turn(ctx, order)
        if shortfall is not None:
            _pin(ctx, shortfall)
    pairs = len(tiers) * (len(tiers) - 1)
    judged = f"{pairs} ordered pairs of the {', '.join(tiers)} tiers"
    return f"{judged}: each admitted its quota after the others{left_out}"


def _spend_in_turn(ctx: CheckContext, order: list[str]) -> Shortfall | None:
    """In one fresh window spend each tier of ``order`` to its quota; the first tier after another that
    admitted less than its quota, or ``None``."""
    callers = [_caller(ctx, tier) for tier in order]
    with cleaned(*callers), fresh_window(ctx, f"ratelimit.isolation.tiers: {', '.join(order)} in turn"):
        for index, caller in enumerate(callers):
            quota = tier_limit(ctx, caller.tier)
            admitted, refused = caller.exhaust(quota)
            if index and len(admitted) < quota:
                return Shortfall(caller.tier, caller.label, len(admitted), refused, tuple(order[:index]))
    return None


def _pin(ctx: CheckContext, shortfall: Shortfall) -> None:
    """Fail naming the tier whose spending debits ``shortfall.tier`` (each of those spent before it, in
    a fresh window of their own), or all of them together; return when the tier is short on its own."""
    if _short_after(ctx, (), shortfall.tier) is not None:
        return  # its own quota is short: ratelimit.<tier>.boundary reports it
    for spent in shortfall.after:
        alone = _short_after(ctx, (spent,), shortfall.tier)
        if alone is not None:
            _fail(ctx, alone)
    _fail(ctx, shortfall)


def _short_after(ctx: CheckContext, spent: tuple[str, ...], tier: str) -> Shortfall | None:
    """Spend ``spent`` to their quotas in a fresh window, then ``tier``: its shortfall, or ``None``."""
    callers = [_caller(ctx, name) for name in (*spent, tier)]
    with cleaned(*callers), fresh_window(ctx, f"ratelimit.isolation.tiers: {tier} after {spent}"):
        for caller in callers[:-1]:
            caller.exhaust(tier_limit(ctx, caller.tier))
        quota = tier_limit(ctx, tier)
        admitted, refused = callers[-1].exhaust(quota)
    if len(admitted) < quota:
        return Shortfall(tier, callers[-1].label, len(admitted), refused, spent)
    return None


def _fail(ctx: CheckContext, shortfall: Shortfall) -> None:
    after = shortfall.after
    spent = (
        f"the {after[0]} tier" if len(after) == 1 else f"the {', '.join(after)} tiers (each alone did not)"
    )
    quota = tier_limit(ctx, shortfall.tier)
    ctx.fail(
        f"{shortfall.label} was refused after the same user spent {spent}: "
        f"{shortfall.admitted} of its quota {quota} admitted",
        shortfall.refused,
        f"{ADMITTED_TEXT} for all {quota}: each tier has a quota of its own",
    )


def _caller(ctx: CheckContext, tier: str) -> TierCaller:
    """The primary user's caller for ``tier``; for the auth tier, logouts, each of a family of its own
    (the quota and one more, logged in now: before the window the caller spends in)."""
    if tier != "auth":
        return tier_caller(ctx, tier)
    families = [ctx.login()["refresh_token"] for _ in range(tier_limit(ctx, tier) + 1)]
    headers = {"Authorization": f"Bearer {ctx.token()}"}
    bodies = iter([{"refresh_token": family} for family in families])
    return TierCaller(ctx, tier, ctx.require(LOGOUT), headers, None, bodies=bodies)


def judge_parallel_probes(ctx: CheckContext, runs: dict[str, TierRun]) -> list[str]:
    """Live: judge the pairs (A, B) of one user's tier probes, run at once, where A's quota was all
    spent before B's probe met its first 429: B must have admitted its whole room. Returns the pairs
    judged (``A->B``); fails on the first B that fell short."""
    spent_at = {tier: run.spent_at for tier, run in runs.items() if run.problem is None and run.spent_at}
    judged: list[str] = []
    for tier, run in runs.items():
        if tier not in spent_at or run.refused_from is None:
            continue
        before = [other for other, moment in spent_at.items() if other != tier and moment <= run.refused_from]
        if not before:
            continue
        if len(run.admitted) < run.room:
            assert run.first_429 is not None
            others = [other for other in spent_at if other != tier]
            ctx.fail(
                f"{run.caller.label} was refused after {len(run.admitted)} of its {run.room} while the "
                f"same user's {', '.join(others)} probes spent those tiers in the same window "
                f"({', '.join(before)} all before it ran out): a bucket shared or debited across tiers, "
                f"unless the tier's own quota is short (ratelimit.{tier}.boundary tells)",
                run.first_429,
                f"{ADMITTED_TEXT} for all {run.room}: each tier has a quota of its own",
            )
        judged += [f"{other}->{tier}" for other in before]
    return judged
