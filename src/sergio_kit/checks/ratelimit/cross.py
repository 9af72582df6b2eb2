"""``ratelimit.*`` across tiers and principals: isolation, re-login bypass, concurrent bursts and
the rolling window's edge. Probing requests go through ``ctx.client`` (never retried on 429)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

from sergio_kit.checks.context import OTHER, PRIMARY, CheckContext
from sergio_kit.checks.ratelimit.calls import (
    KEY_SCOPES,
    TierCaller,
    fresh_window,
    key_caller,
    next_window,
    pause,
    spending,
    tier_caller,
    tier_limit,
)
from sergio_kit.checks.ratelimit.live import live_plan
from sergio_kit.checks.ratelimit.probe import bursts, judge_bursts
from sergio_kit.checks.registry import check
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.target.clock import TestClock

CONCURRENCY_TIER = "read"


@check("ratelimit.isolation.keys", basis="documented")
def isolation_keys(ctx: CheckContext) -> None:
    """Exhausting one user's bulk quota leaves another user's untouched; exhausting one API key's read
    quota leaves another key of the same company untouched."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.isolation.keys")
    limit = tier_limit(ctx, "bulk")
    ctx.token(OTHER)  # log the second user in before the window starts
    with spending(ctx, "bulk", PRIMARY) as first, _cleaned(tier_caller(ctx, "bulk", OTHER)) as second:
        first.exhaust(limit)
        response = second.call()
        ctx.expect(
            response,
            {second.expected},
            f"{second.label} as {ctx.account(OTHER).email}, after {ctx.account(PRIMARY).email} spent "
            "the tier's quota, was refused",
            f"{second.expected}: each user has a quota of their own",
        )
    _, first_key = ctx.api_key(("jobs:read",))
    _, second_key = ctx.api_key(KEY_SCOPES)
    with fresh_window(ctx, "ratelimit.isolation.keys: a fresh read window for two API keys"):
        key_caller(ctx, "read", first_key).exhaust(tier_limit(ctx, "read"))
        other = key_caller(ctx, "read", second_key)
        ctx.expect(
            other.call(),
            {other.expected},
            f"{other.label} with a second key of the same company, after the first key spent the tier's "
            "quota, was refused",
            f"{other.expected}: each API key has a quota of its own",
        )


@check("ratelimit.isolation.tiers", basis="documented")
def isolation_tiers(ctx: CheckContext) -> None:
    """Exhausting a user's bulk quota leaves the same user's webhook, write and read quotas untouched."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.isolation.tiers")
    with spending(ctx, "bulk") as bulk:
        bulk.exhaust(tier_limit(ctx, "bulk"))
        for tier in ("webhook", "write", "read"):
            with _cleaned(tier_caller(ctx, tier)) as other:
                ctx.expect(
                    other.call(),
                    {other.expected},
                    f"{other.label} was refused after the same user spent the bulk tier",
                    f"{other.expected}: each tier has a quota of its own",
                )


@check("ratelimit.relogin_bypass", basis="recommended")
def relogin_bypass(ctx: CheckContext) -> None:
    """A fresh login does not reset the user's quota: the new token is refused too."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.relogin_bypass")
    with spending(ctx, "bulk") as bulk:
        bulk.exhaust(tier_limit(ctx, "bulk"))
        fresh = ctx.login()["token"]
        bulk.headers = {"Authorization": f"Bearer {fresh}"}
        response = bulk.call()
        ctx.expect(
            response,
            {429},
            f"{bulk.label} with a fresh login's token, after the user spent the tier's quota, was admitted",
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
    """No 60-s span admits more than N: a bulk quota spent at :59 is still spent at :01."""
    if (plan := live_plan(ctx)) is not None:
        return plan.verdict("ratelimit.window")
    limit = tier_limit(ctx, "bulk")
    with spending(ctx, "bulk") as bulk:
        _to_second_59(ctx, ctx.target.clock)
        bulk.exhaust(limit)
        pause(ctx, 2)
        response = bulk.call()
        ctx.expect(
            response,
            {429},
            f"{bulk.label}: {limit} admitted at :59, and another admitted 2 s later, "
            f"so one {WINDOW_SECONDS}-s span admitted more than {limit}",
            f"429 until {WINDOW_SECONDS} s after the first of the {limit}",
        )


def _to_second_59(ctx: CheckContext, clock: TestClock | None) -> None:
    """Move to 59 s past a whole minute of the target's time (fixed windows turn over at :00)."""
    if clock is not None:
        now = clock.now()
        clock.advance((59 - now % WINDOW_SECONDS) % WINDOW_SECONDS)
        return
    served = ctx.client.get("/v1/health").headers.get("Date")  # live: the server's clock, to the second
    offset = datetime.strptime(served, "%a, %d %b %Y %H:%M:%S GMT").second if served else 0
    time.sleep((58.5 - offset) % WINDOW_SECONDS)


@contextmanager
def _cleaned(caller: TierCaller) -> Iterator[TierCaller]:
    """``caller`` for the block; what it created is removed when the block ends."""
    try:
        yield caller
    finally:
        caller.cleanup()
