"""``ratelimit.*`` across tiers and principals: isolation (users, keys, tiers), re-login bypass,
concurrent bursts and the rolling window's edge. Probing requests go through ``ctx.client`` (never
retried on 429). The checks that spend a user's quota spend the scarcest tier the contract offers
(bulk, else webhook registration: :func:`scarce_tier`); every ordered pair of tiers is in
``crosstalk.py``, the window's offset probes in ``window.py``. Against a live target each check reads
its verdict from the live plan (``live.py``)."""

from __future__ import annotations

import asyncio

from sergio_kit.checks.context import MEMBER, OTHER, PRIMARY, CheckContext
from sergio_kit.checks.ratelimit.calls import (
    ADMITTED,
    ADMITTED_TEXT,
    KEY_SCOPES,
    cleaned,
    fresh_window,
    key_caller,
    member_tier,
    next_window,
    scarce_tier,
    spending,
    tier_caller,
    tier_limit,
    unprobed,
)
from sergio_kit.checks.ratelimit.crosstalk import probe_crosstalk
from sergio_kit.checks.ratelimit.live import live_plan
from sergio_kit.checks.ratelimit.probe import burst_size, bursts, judge_bursts, judge_member
from sergio_kit.checks.ratelimit.window import judge_window, probe_window
from sergio_kit.checks.registry import check
from sergio_kit.reports.findings import CheckSkipped

CONCURRENCY_TIER = "read"
#: The tiers ``ratelimit.concurrency`` bursts besides reads (one round each).
BURST_TIERS = ("write", "webhook", "bulk")


@check("ratelimit.isolation.keys", basis="documented")
def isolation_keys(ctx: CheckContext) -> str | None:
    """Exhausting one user's bulk quota (webhook registration without bulk) leaves another user's
    untouched; exhausting one API key's read quota leaves another key of the same company untouched."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.isolation.keys")
    tier = scarce_tier(ctx)
    second = tier_caller(ctx, tier, OTHER)  # logs the second user in before the window starts
    with spending(ctx, tier, PRIMARY) as first, cleaned(second):
        first.exhaust(tier_limit(ctx, tier))
        response = second.call()
        ctx.expect(
            response,
            ADMITTED,
            f"{second.label} as {ctx.account(OTHER).email}, after {ctx.account(PRIMARY).email} spent "
            "the tier's quota, was refused",
            f"{ADMITTED_TEXT}: each user has a quota of their own",
        )
    try:  # two keys of one company: made through key management, or the two the user supplied
        _, first_key = ctx.api_key(("jobs:read",))
        _, second_key = ctx.api_key(KEY_SCOPES)
    except CheckSkipped as reason:
        raise CheckSkipped(f"each user has a quota of their own; no API keys were probed: {reason}") from None
    with fresh_window(ctx, "ratelimit.isolation.keys: a fresh read window for two API keys"):
        key_caller(ctx, "read", first_key).exhaust(tier_limit(ctx, "read"))
        other = key_caller(ctx, "read", second_key)
        ctx.expect(
            other.call(),
            ADMITTED,
            f"{other.label} with a second key of the same company, after the first key spent the tier's "
            "quota, was refused",
            f"{ADMITTED_TEXT}: each API key has a quota of its own",
        )
    return None


@check("ratelimit.isolation.users", basis="documented")
def isolation_users(ctx: CheckContext) -> str | None:
    """Two users of one company have quotas of their own (the docs' "per API key / token"): after the
    company's admin spends the bulk quota (webhook registration without bulk), a member of the same
    company is still admitted on that tier."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.isolation.users")
    tier = member_tier(ctx)
    member = tier_caller(ctx, tier, MEMBER)  # logs the member in before the window (skips without one)
    with spending(ctx, tier, PRIMARY) as admin:
        admin.exhaust(tier_limit(ctx, tier))
        response = member.call()
    for path in member.created:  # the admin removes it: a member may not delete on every deployment
        ctx.remove_later(PRIMARY, path)
    judge_member(ctx, member, response)
    return None


@check("ratelimit.isolation.tiers", basis="documented")
def isolation_tiers(ctx: CheckContext) -> str | None:
    """Spending one tier of a user never debits another, for every ordered pair of the bearer
    surface's tiers (logout, bulk, webhook registration, writes, reads): spent in turn to their quotas,
    scarcest first in one window and in reverse in another, each still admits its whole quota."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.isolation.tiers")
    return probe_crosstalk(ctx)


@check("ratelimit.relogin_bypass", basis="recommended")
def relogin_bypass(ctx: CheckContext) -> str | None:
    """A fresh login does not reset the user's quota: the new token is refused too."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.relogin_bypass")
    tier = scarce_tier(ctx)
    with spending(ctx, tier) as spent:
        spent.exhaust(tier_limit(ctx, tier))
        fresh = ctx.login()["token"]
        spent.headers = {"Authorization": f"Bearer {fresh}"}
        response = spent.call()
        ctx.expect(
            response,
            {429},
            f"{spent.label} with a fresh login's token, after the user spent the tier's quota, was admitted",
            "429: the quota belongs to the user, not to the token",
        )
    return None


@check("ratelimit.concurrency", basis="documented")
def concurrency(ctx: CheckContext) -> str | None:
    """Simultaneous requests at a fresh window admit exactly N: 3N reads (three rounds on warm
    connections); N + N/2 (at least N + 5) writes, webhook registrations and bulk requests."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.concurrency")
    limit = tier_limit(ctx, CONCURRENCY_TIER)
    with fresh_window(ctx, "ratelimit.concurrency: a fresh read window"):
        caller = tier_caller(ctx, CONCURRENCY_TIER)
        rounds = [caller.headers] * 3

        def between(number: int) -> None:
            next_window(ctx, f"ratelimit.concurrency round {number + 1}: a fresh read window")

        results = asyncio.run(bursts(ctx, caller, rounds, 3 * limit, between))
    judge_bursts(ctx, caller, limit, results)
    unprobed_tiers = []
    for tier in BURST_TIERS:
        if (missing := unprobed(ctx, tier, 0)) is not None:
            unprobed_tiers.append(f"{tier}: {missing}")
            continue
        with spending(ctx, tier) as burst_caller:
            quota = tier_limit(ctx, tier)
            results = asyncio.run(
                bursts(ctx, burst_caller, [burst_caller.headers], burst_size(quota), _no_pause)
            )
            judge_bursts(ctx, burst_caller, quota, results)
    return f"not probed: {'; '.join(unprobed_tiers)}" if unprobed_tiers else None


def _no_pause(_number: int) -> None:
    """One round only: nothing runs between rounds."""


@check("ratelimit.window", basis="recommended")
def window(ctx: CheckContext) -> str | None:
    """No 60-s span admits more than N, whatever second a fixed window would open at: two API keys,
    2.5 s apart, each send 1 read, N - 1 three seconds later, and 61 s after the first are admitted only
    that first read's place again."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.window")
    try:  # two keys of one company: made through key management, or the two the user supplied
        _, first_key = ctx.api_key(("jobs:read",))
        _, second_key = ctx.api_key(KEY_SCOPES)
    except CheckSkipped as reason:
        raise CheckSkipped(f"the window probes read as two API keys: {reason}") from None
    callers = (key_caller(ctx, "read", first_key), key_caller(ctx, "read", second_key))
    with fresh_window(ctx, "ratelimit.window: a fresh read window for two API keys"):
        probes = probe_window(ctx, callers)
    return judge_window(probes)
