"""``ratelimit.*`` across tiers and principals: isolation, re-login bypass, concurrent bursts and
the rolling window's edge. Probing requests go through ``ctx.client`` (never retried on 429). The
checks that spend a user's quota spend the scarcest tier the contract offers (bulk, else webhook
registration: :func:`scarce_tier`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager

import httpx

from sergio_kit.checks.context import OTHER, PRIMARY, CheckContext
from sergio_kit.checks.ratelimit.calls import (
    ADMITTED,
    ADMITTED_TEXT,
    KEY_SCOPES,
    TierCaller,
    fresh_window,
    key_caller,
    next_window,
    other_tiers,
    pause,
    scarce_tier,
    spending,
    tier_caller,
    tier_limit,
)
from sergio_kit.checks.ratelimit.live import live_plan
from sergio_kit.checks.ratelimit.probe import bursts, judge_bursts
from sergio_kit.checks.registry import check
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.reports.findings import CheckSkipped
from sergio_kit.target import throttling

CONCURRENCY_TIER = "read"
#: ``ratelimit.window``: how long before the end of a window the probe spends the rest of its quota.
TURN_SECONDS = 2


@check("ratelimit.isolation.keys", basis="documented")
def isolation_keys(ctx: CheckContext) -> None:
    """Exhausting one user's bulk quota (webhook registration without bulk) leaves another user's
    untouched; exhausting one API key's read quota leaves another key of the same company untouched."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.isolation.keys")
    tier = scarce_tier(ctx)
    second = tier_caller(ctx, tier, OTHER)  # logs the second user in before the window starts
    with spending(ctx, tier, PRIMARY) as first, _cleaned(second):
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


@check("ratelimit.isolation.tiers", basis="documented")
def isolation_tiers(ctx: CheckContext) -> None:
    """Exhausting a user's bulk quota (webhook registration without bulk) leaves the same user's other
    tiers untouched: the scarcest of them still admits its whole quota, the others a request."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.isolation.tiers")
    tier = scarce_tier(ctx)
    others = sorted(other_tiers(ctx, tier), key=lambda other: tier_limit(ctx, other))
    if "write" in others:
        ctx.resource("job_id")  # the job the write caller updates, made before the window
    callers = [tier_caller(ctx, other) for other in others]
    with spending(ctx, tier) as spent, _cleaned(*callers):
        spent.exhaust(tier_limit(ctx, tier))
        for index, other in enumerate(callers):
            refused = f"{other.label} was refused after the same user spent the {tier} tier"
            own = f"{ADMITTED_TEXT}: each tier has a quota of its own"
            if index:
                ctx.expect(other.call(), ADMITTED, refused, own)
                continue
            quota = tier_limit(ctx, other.tier)  # a bucket shared with a scarcer tier shows only here
            admitted, throttled = other.exhaust(quota)
            if len(admitted) < quota:
                ctx.fail(f"{refused} after {len(admitted)} of its quota {quota}", throttled, own)


@check("ratelimit.relogin_bypass", basis="recommended")
def relogin_bypass(ctx: CheckContext) -> None:
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


@check("ratelimit.concurrency", basis="documented")
def concurrency(ctx: CheckContext) -> None:
    """3N simultaneous reads at a fresh window admit exactly N (three rounds on warm connections)."""
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
    return None


@check("ratelimit.window", basis="recommended")
def window(ctx: CheckContext) -> None:
    """No 60-s span admits more than N: with 1 request at the start of a window and N-1 two seconds
    before its end, the window's turn admits 1 more, not N (a fixed window's 2N burst)."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.window")
    tier = scarce_tier(ctx)
    limit = tier_limit(ctx, tier)
    token = ctx.login()["token"]  # good for the whole probe (two windows), however old the session's is
    with spending(ctx, tier) as caller:
        caller.headers = {"Authorization": f"Bearer {token}"}
        _, throttled = caller.exhaust(limit)
        _room_again(ctx, caller, throttled)  # the first request of the target's next window
        pause(ctx, WINDOW_SECONDS - TURN_SECONDS)
        caller.exhaust(limit - 1)
        pause(ctx, TURN_SECONDS)
        admitted, _ = caller.exhaust(limit)
        if len(admitted) > 1:
            ctx.fail(
                f"{caller.label}: {limit - 1} admitted {WINDOW_SECONDS - TURN_SECONDS} s after one request, "
                f"and {len(admitted)} more {TURN_SECONDS} s later: a {TURN_SECONDS}-s span admitted "
                f"{limit - 1 + len(admitted)}, quota {limit}",
                admitted[1],
                f"1 admitted (the first one's place), then 429: at most {limit} in any {WINDOW_SECONDS} s",
            )


def _room_again(ctx: CheckContext, caller: TierCaller, throttled: httpx.Response) -> httpx.Response:
    """Wait until ``caller`` is admitted again, whatever window the target keeps: Retry-After less a
    second, then a second at a time (a window at most); returns the admitted response."""
    pause(ctx, throttling.retry_after_seconds(throttled.headers) - 1)
    for _ in range(WINDOW_SECONDS + 1):
        response = caller.call()
        if response.status_code != 429:
            ctx.expect(
                response,
                ADMITTED,
                f"{caller.label}: a request",
                "admitted or 429",
                basis="documented",
            )
            return response
        pause(ctx, 1)
    ctx.fail(
        f"{caller.label}: still refused a whole window after the quota was spent",
        response,
        f"{ADMITTED_TEXT} within {WINDOW_SECONDS} s",
        basis="documented",
    )


@contextmanager
def _cleaned(*callers: TierCaller) -> Iterator[None]:
    """What ``callers`` created in the block is removed when the block ends."""
    try:
        yield
    finally:
        for caller in callers:
            caller.cleanup()
