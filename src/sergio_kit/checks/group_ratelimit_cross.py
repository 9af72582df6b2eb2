"""``ratelimit.*`` across tiers and principals: isolation, re-login bypass, concurrent bursts and
the rolling window's edge. Probing requests go through ``ctx.client`` (never retried on 429)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from datetime import datetime

import httpx

from sergio_kit.checks.connections import open_clients
from sergio_kit.checks.context import OTHER, PRIMARY, CheckContext
from sergio_kit.checks.group_ratelimit_tiers import (
    WINDOW,
    TierCaller,
    fresh_window,
    next_window,
    pause,
    spending,
    tier_caller,
    tier_limit,
)
from sergio_kit.checks.registry import check
from sergio_kit.clock_client import TestClock

CONCURRENCY_TIER = "read"


@check("ratelimit.isolation.keys")
def isolation_keys(ctx: CheckContext) -> None:
    """Exhausting one user's bulk quota leaves another user's bulk quota untouched."""
    limit = tier_limit("bulk")
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


@check("ratelimit.isolation.tiers")
def isolation_tiers(ctx: CheckContext) -> None:
    """Exhausting a user's bulk quota leaves the same user's webhook, write and read quotas untouched."""
    with spending(ctx, "bulk") as bulk:
        bulk.exhaust(tier_limit("bulk"))
        for tier in ("webhook", "write", "read"):
            with _cleaned(tier_caller(ctx, tier)) as other:
                ctx.expect(
                    other.call(),
                    {other.expected},
                    f"{other.label} was refused after the same user spent the bulk tier",
                    f"{other.expected}: each tier has a quota of its own",
                )


@check("ratelimit.relogin_bypass")
def relogin_bypass(ctx: CheckContext) -> None:
    """A fresh login does not reset the user's quota: the new token is refused too."""
    with spending(ctx, "bulk") as bulk:
        bulk.exhaust(tier_limit("bulk"))
        fresh = ctx.login()["token"]
        bulk.headers = {"Authorization": f"Bearer {fresh}"}
        response = bulk.call()
        ctx.expect(
            response,
            {429},
            f"{bulk.label} with a fresh login's token, after the user spent the tier's quota, was admitted",
            "429: the quota belongs to the user, not to the token",
        )


@check("ratelimit.concurrency")
def concurrency(ctx: CheckContext) -> None:
    """3N simultaneous reads at a fresh window admit exactly N (three rounds on warm connections)."""
    limit = tier_limit(CONCURRENCY_TIER)
    rounds = 3 if ctx.target.clock is not None else 2
    with fresh_window(ctx, "ratelimit.concurrency: a fresh read window"):
        caller = tier_caller(ctx, CONCURRENCY_TIER)
        results = asyncio.run(_bursts(ctx, caller.operation.path, caller.headers, 3 * limit, rounds))
    for number, responses in enumerate(results, start=1):
        statuses = [response.status_code for response in responses]
        admitted = statuses.count(caller.expected)
        if admitted != limit or statuses.count(429) != 2 * limit:
            shown = next((r for r in responses if r.status_code not in (caller.expected, 429)), responses[-1])
            ctx.fail(
                f"round {number}: {3 * limit} simultaneous {caller.label} requests at a fresh window: "
                f"{admitted} admitted, {statuses.count(429)} refused, "
                f"{len(statuses) - admitted - statuses.count(429)} other",
                shown,
                f"exactly {limit} admitted and {2 * limit} refused with 429",
            )


async def _bursts(
    ctx: CheckContext, path: str, headers: dict[str, str], count: int, rounds: int
) -> list[list[httpx.Response]]:
    """``rounds`` times: a fresh window, then ``count`` GETs at once, each on its own open connection."""
    async with AsyncExitStack() as stack:
        clients = await open_clients(stack, ctx, count)
        results = []
        for number in range(rounds):
            if number:
                next_window(ctx, f"ratelimit.concurrency round {number + 1}: a fresh read window")
            burst = (client.get(path, params={"limit": 1}, headers=headers) for client in clients)
            results.append(list(await asyncio.gather(*burst)))
    return results


@check("ratelimit.window")
def window(ctx: CheckContext) -> None:
    """No 60-s span admits more than N: a bulk quota spent at :59 is still spent at :01."""
    limit = tier_limit("bulk")
    with spending(ctx, "bulk") as bulk:
        _to_second_59(ctx, ctx.target.clock)
        bulk.exhaust(limit)
        pause(ctx, 2)
        response = bulk.call()
        ctx.expect(
            response,
            {429},
            f"{bulk.label}: {limit} admitted at :59, and another admitted 2 s later, "
            f"so one {WINDOW}-s span admitted more than {limit}",
            f"429 until {WINDOW} s after the first of the {limit}",
        )


def _to_second_59(ctx: CheckContext, clock: TestClock | None) -> None:
    """Move to 59 s past a whole minute of the target's time (fixed windows turn over at :00)."""
    if clock is not None:
        now = clock.now()
        clock.advance((59 - now % WINDOW) % WINDOW)
        return
    served = ctx.client.get("/v1/health").headers.get("Date")  # live: the server's clock, to the second
    offset = datetime.strptime(served, "%a, %d %b %Y %H:%M:%S GMT").second if served else 0
    time.sleep((58.5 - offset) % WINDOW)


@contextmanager
def _cleaned(caller: TierCaller) -> Iterator[TierCaller]:
    """``caller`` for the block; what it created is removed when the block ends."""
    try:
        yield caller
    finally:
        caller.cleanup()
