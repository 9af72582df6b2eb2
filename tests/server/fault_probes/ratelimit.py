"""Probes of the ``ratelimit`` faults: five rules per tier, per-key boundaries, and the cross-tier rules.

The requests that spend a tier's quota are sent by the kit's tier callers
(:mod:`sergio_kit.checks.ratelimit.calls`: the tier's representative operation, a fresh frozen window,
cleanup afterwards) in a kit check context on the probed server; a verdict of those helpers is the
probe's ``AssertionError``. What is asserted about the answers is the probes' own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager

import httpx

from sergio_kit.checks.context import MEMBER, OTHER, PRIMARY, CheckContext
from sergio_kit.checks.ratelimit.calls import (
    TierCaller,
    bearer_caller,
    fresh_window,
    is_admitted,
    key_caller,
    spending,
    tier_caller,
    tier_limit,
)
from sergio_kit.checks.ratelimit.probe import bursts
from sergio_kit.contract.document import TIERS
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS, WINDOW_SECONDS, parse_rate_limit
from sergio_kit.reports.findings import CheckFailed
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, embedded_target
from tests.server.fault_probes.plumbing import (
    Probe,
    expect,
    expect_error,
    frozen,
    shown,
    token_of,
    warm_clients,
)
from tests.support.api import bearer, client_for, seeded_accounts

TierRule = Callable[[RunningServer, TestClock, str], None]


@contextmanager
def kit_context(server: RunningServer) -> Iterator[CheckContext]:
    """A kit check context on ``server``; a ``CheckFailed`` of the kit's helpers becomes an
    ``AssertionError`` saying what went wrong."""
    target = embedded_target(server)
    context = CheckContext(target)
    try:
        yield context
    except CheckFailed as failure:
        raise AssertionError(failure.finding.message) from None
    finally:
        context.close()
        target.close()


def call_once(ctx: CheckContext, caller: TierCaller, tenant: str = PRIMARY) -> httpx.Response:
    """One request of ``caller``; what it created is removed (as ``tenant``) when the context closes."""
    response = caller.call()
    for path in caller.created:
        ctx.remove_later(tenant, path)
    caller.created.clear()
    return response


def expect_admitted(response: httpx.Response, what: str) -> None:
    """Assert that ``response`` was admitted (a 2xx, as the kit's tier callers count it)."""
    assert is_admitted(response), f"{what}: expected 2xx, got {shown(response)}"


# -- the five rules of every tier ------------------------------------------------------------------


def probe_tier_boundary(server: RunningServer, clock: TestClock, tier: str) -> None:
    """Exactly the tier's limit is admitted in one window; the next request is 429."""
    with kit_context(server) as ctx, spending(ctx, tier) as caller:
        limit = tier_limit(ctx, tier)
        admitted, _ = caller.exhaust(limit)
        assert len(admitted) == limit, f"{tier} tier admitted {len(admitted)} in one window, not {limit}"


def _retry_after(response: httpx.Response, what: str) -> int:
    value = response.headers.get("Retry-After")
    assert value is not None, f"{what}: 429 without Retry-After"
    assert value.isascii() and value.isdigit() and 1 <= int(value) <= WINDOW_SECONDS, (
        f"{what}: Retry-After {value!r}"
    )
    return int(value)


def _throttled(caller: TierCaller, tier: str) -> httpx.Response:
    response = caller.call()
    expect(response, 429, f"{tier} tier: another request after the first 429 of the window")
    return response


def probe_tier_retry_after(server: RunningServer, clock: TestClock, tier: str) -> None:
    """Every 429 carries Retry-After in whole seconds, from 1 to 60."""
    with kit_context(server) as ctx, spending(ctx, tier) as caller:
        _, first = caller.exhaust(tier_limit(ctx, tier))
        _retry_after(first, f"{tier} tier, the first 429")
        _retry_after(_throttled(caller, tier), f"{tier} tier, the second 429")


def probe_tier_retry_after_honest(server: RunningServer, clock: TestClock, tier: str) -> None:
    """Just before Retry-After elapses the tier still answers 429; once it has, it admits again."""
    with kit_context(server) as ctx, spending(ctx, tier) as caller:
        _, throttled = caller.exhaust(tier_limit(ctx, tier))
        wait = _retry_after(throttled, f"{tier} tier")
        clock.advance(wait - 1)
        expect(caller.call(), 429, f"{tier} tier: {wait - 1} s into a Retry-After of {wait} s")
        clock.advance(1)
        expect_admitted(caller.call(), f"{tier} tier: once the Retry-After of {wait} s elapsed")


def _remaining(response: httpx.Response, tier: str, limit: int, what: str) -> int:
    """The ``r`` of the RateLimit field, after asserting both fields name the tier and its quota."""
    policy = response.headers.get("RateLimit-Policy")
    assert policy == f'"{tier}";q={limit};w={WINDOW_SECONDS}', f"{what}: RateLimit-Policy {policy!r}"
    field = parse_rate_limit(response.headers.get("RateLimit"))
    remaining, reset = (field.integer("r"), field.integer("t")) if field else (None, None)
    assert field and field.name == tier and remaining is not None and reset is not None, (
        f"{what}: RateLimit {response.headers.get('RateLimit')!r}"
    )
    assert 1 <= reset <= WINDOW_SECONDS, f"{what}: RateLimit t={reset} is not 1..{WINDOW_SECONDS}"
    return remaining


def probe_tier_headers(server: RunningServer, clock: TestClock, tier: str) -> None:
    """RateLimit-Policy names the tier's quota and RateLimit's remaining counts down to 0."""
    with kit_context(server) as ctx, spending(ctx, tier) as caller:
        limit = tier_limit(ctx, tier)
        admitted, throttled = caller.exhaust(limit)
        for index, response in enumerate(admitted, start=1):
            remaining = _remaining(response, tier, limit, f"{tier} tier, request {index}")
            assert remaining == limit - index, (
                f"{tier} tier: after {index} requests r={remaining}, not {limit - index}"
            )
        remaining = _remaining(throttled, tier, limit, f"{tier} tier, the 429")
        assert remaining == 0, f"{tier} tier: the 429 says r={remaining}, not 0"


def probe_tier_body(server: RunningServer, clock: TestClock, tier: str) -> None:
    """A 429 has the JSON error shape with code rate_limited and Cache-Control: no-store."""
    with kit_context(server) as ctx, spending(ctx, tier) as caller:
        _, response = caller.exhaust(tier_limit(ctx, tier))
        expect_error(response, 429, "rate_limited", f"{tier} tier 429")
        assert response.headers.get("Content-Type", "").startswith("application/json"), shown(response)
        assert "no-store" in response.headers.get("Cache-Control", ""), f"{tier} tier 429 may be cached"


TIER_RULES: dict[str, TierRule] = {
    "boundary": probe_tier_boundary,
    "retry_after": probe_tier_retry_after,
    "retry_after_honest": probe_tier_retry_after_honest,
    "headers": probe_tier_headers,
    "body": probe_tier_body,
}


def for_tier(rule: TierRule, tier: str) -> Probe:
    """The probe of one tier's rule."""

    def probe(server: RunningServer, clock: TestClock) -> None:
        rule(server, clock, tier)

    probe.__doc__ = f"{tier} tier: {rule.__doc__}"
    return probe


# -- per API key -----------------------------------------------------------------------------------


def key_boundary(tier: str) -> Probe:
    """The probe that ``tier``'s quota holds per API key on the Zapier surface."""

    def probe(server: RunningServer, clock: TestClock) -> None:
        with kit_context(server) as ctx, spending(ctx, tier, surface=1) as caller:
            limit = tier_limit(ctx, tier)
            admitted, _ = caller.exhaust(limit)
            assert len(admitted) == limit, (
                f"{caller.label} admitted {len(admitted)} in one window, not {limit}"
            )

    probe.__doc__ = f"{tier} tier per API key: exactly the quota is admitted on the Zapier surface, then 429."
    return probe


def probe_ratelimit_isolation_keys_apikey(server: RunningServer, clock: TestClock) -> None:
    """Exhausting one API key's read quota leaves another key of the same company untouched."""
    with kit_context(server) as ctx:
        _, first_key = ctx.api_key(["jobs:read"])
        _, second_key = ctx.api_key(["jobs:read", "jobs:write"])
        with fresh_window(ctx, "a fresh read window"):
            first = key_caller(ctx, "read", first_key)
            first.exhaust(tier_limit(ctx, "read"))
            other = key_caller(ctx, "read", second_key)
            expect_admitted(call_once(ctx, other), "another key's first call after the first key ran out")


# -- across principals and tiers -------------------------------------------------------------------


def probe_ratelimit_isolation_keys(server: RunningServer, clock: TestClock) -> None:
    """Exhausting one user's bulk quota leaves another user's bulk quota untouched."""
    with kit_context(server) as ctx:
        other = bearer_caller(ctx, "bulk", ctx.token(OTHER), OTHER)
        with spending(ctx, "bulk") as first:
            first.exhaust(tier_limit(ctx, "bulk"))
            response = call_once(ctx, other, OTHER)
            expect_admitted(response, "another user's first bulk request after the first user ran out")


def probe_ratelimit_isolation_tiers(server: RunningServer, clock: TestClock) -> None:
    """Exhausting a user's bulk quota leaves the user's webhook, write and read quotas untouched."""
    with kit_context(server) as ctx:
        others = [bearer_caller(ctx, tier, ctx.token()) for tier in ("webhook", "write", "read")]
        with spending(ctx, "bulk") as bulk:
            bulk.exhaust(tier_limit(ctx, "bulk"))
            for other in others:
                expect_admitted(call_once(ctx, other), f"the {other.label} after the bulk tier ran out")


def probe_ratelimit_relogin_bypass(server: RunningServer, clock: TestClock) -> None:
    """A fresh login does not reset the user's quota: the new token is still 429."""
    with kit_context(server) as ctx, spending(ctx, "bulk") as bulk:
        bulk.exhaust(tier_limit(ctx, "bulk"))
        fresh = bearer_caller(ctx, "bulk", str(ctx.login()["token"]))
        expect(call_once(ctx, fresh), 429, "bulk request with a fresh login's token after the quota ran out")


async def _bursts(
    server: RunningServer, clock: TestClock, token: str, count: int, rounds: int
) -> list[list[int]]:
    """``rounds`` times: a fresh window, then ``count`` GET /v1/jobs sent at once on warm connections."""
    async with AsyncExitStack() as stack:
        clients = await warm_clients(server, stack, count)
        results = []
        for _ in range(rounds):
            clock.advance(FRESH_WINDOW_SECONDS)
            requests = (c.get("/v1/jobs", params={"limit": 1}, headers=bearer(token)) for c in clients)
            results.append([response.status_code for response in await asyncio.gather(*requests)])
    return results


def probe_ratelimit_concurrency(server: RunningServer, clock: TestClock) -> None:
    """3N simultaneous reads at a fresh window admit exactly N, twice in a row."""
    limit = int(server.info["limits"]["read"])
    with client_for(server) as client, frozen(clock):
        token = token_of(client, seeded_accounts(server)["brite"]["member"], "login")
        results = asyncio.run(_bursts(server, clock, token, 3 * limit, rounds=2))
    for round_number, statuses in enumerate(results, start=1):
        admitted, refused = statuses.count(200), statuses.count(429)
        assert (admitted, refused) == (limit, 2 * limit), (
            f"round {round_number}: {3 * limit} simultaneous reads at a fresh window: "
            f"{admitted} admitted, {refused} refused, {len(statuses) - admitted - refused} other; "
            f"expected exactly {limit} admitted"
        )


def probe_ratelimit_window(server: RunningServer, clock: TestClock) -> None:
    """No 60-second span admits more than N: a burst at :59 and another at :01 is refused."""
    with kit_context(server) as ctx, spending(ctx, "bulk") as bulk:
        now = clock.now()
        clock.advance((59 - now % 60) % 60)  # 59 s past a whole minute of server time
        bulk.exhaust(tier_limit(ctx, "bulk"))
        clock.advance(2)
        expect(
            bulk.call(), 429, "a bulk request 2 s after the quota ran out at :59 (1 s into the next minute)"
        )


def probe_ratelimit_isolation_users(server: RunningServer, clock: TestClock) -> None:
    """Exhausting a company admin's bulk quota leaves a member's of the same company untouched."""
    with kit_context(server) as ctx:
        member = bearer_caller(ctx, "bulk", ctx.token(MEMBER), MEMBER)
        with spending(ctx, "bulk") as admin:
            admin.exhaust(tier_limit(ctx, "bulk"))
            response = call_once(ctx, member, PRIMARY)
            expect_admitted(response, "a member's first bulk request after the company's admin ran out")


def debit(spent: str, other: str) -> Probe:
    """The probe that spending a user's ``spent`` quota leaves the user's whole ``other`` quota."""

    def probe(server: RunningServer, clock: TestClock) -> None:
        with kit_context(server) as ctx:
            second = tier_caller(ctx, other)  # what it needs (a job to update) is made before the window
            with spending(ctx, spent) as first:
                first.exhaust(tier_limit(ctx, spent))
                limit = tier_limit(ctx, other)
                admitted, _ = second.exhaust(limit)
            for path in second.created:
                ctx.remove_later(PRIMARY, path)
            assert len(admitted) == limit, (
                f"the {other} tier admitted {len(admitted)} of {limit} after the {spent} tier was spent"
            )

    probe.__doc__ = f"Spending a user's {spent} quota leaves the whole {other} quota."
    return probe


def burst(tier: str) -> Probe:
    """The probe that N + N/2 simultaneous requests of ``tier`` at a fresh window admit exactly N."""

    def probe(server: RunningServer, clock: TestClock) -> None:
        with kit_context(server) as ctx, spending(ctx, tier) as caller:
            limit = tier_limit(ctx, tier)
            count = limit + max(limit // 2, 5)
            results = asyncio.run(bursts(ctx, caller, [caller.headers], count, lambda _number: None))
            admitted = sum(map(is_admitted, results[0]))
            assert admitted == limit, (
                f"{count} simultaneous {tier} requests: {admitted} admitted, not {limit}"
            )

    probe.__doc__ = f"N + N/2 simultaneous {tier} requests at a fresh window admit exactly N."
    return probe


def probe_ratelimit_window_offset(server: RunningServer, clock: TestClock) -> None:
    """No 60-second span admits more than N: a burst at :16 and another at :18 is refused."""
    with kit_context(server) as ctx, spending(ctx, "bulk") as bulk:
        clock.advance((16 - clock.now() % 60) % 60)  # 16 s past a whole minute of server time
        bulk.exhaust(tier_limit(ctx, "bulk"))
        clock.advance(2)
        expect(bulk.call(), 429, "a bulk request 2 s after the quota ran out at :16 (1 s past :17)")


def probe_ratelimit_window_first_request(server: RunningServer, clock: TestClock) -> None:
    """One request, N - 1 three seconds later: 61 s after the first, one is admitted, the next is 429."""
    with kit_context(server) as ctx, spending(ctx, "bulk") as bulk:
        limit = tier_limit(ctx, "bulk")
        expect_admitted(bulk.call(), "the first bulk request of a fresh window")
        clock.advance(3)
        admitted, _ = bulk.exhaust(limit - 1)
        assert len(admitted) == limit - 1, f"{len(admitted)} admitted after the first, not {limit - 1}"
        clock.advance(WINDOW_SECONDS - 2)
        expect_admitted(bulk.call(), "61 s after the first request (its place is free again)")
        expect(bulk.call(), 429, "a second bulk request 61 s after the first (the others are 58 s old)")


PROBES: dict[str, Probe] = {
    **{
        f"ratelimit.{tier}.{name}": for_tier(rule, tier)
        for tier in TIERS
        for name, rule in TIER_RULES.items()
    },
    "ratelimit.isolation.keys": probe_ratelimit_isolation_keys,
    "ratelimit.isolation.tiers": probe_ratelimit_isolation_tiers,
    "ratelimit.relogin_bypass": probe_ratelimit_relogin_bypass,
    "ratelimit.concurrency": probe_ratelimit_concurrency,
    "ratelimit.window": probe_ratelimit_window,
    "ratelimit.isolation.keys@apikey": probe_ratelimit_isolation_keys_apikey,
    "ratelimit.read.boundary@apikey": key_boundary("read"),
    "ratelimit.write.boundary@apikey": key_boundary("write"),
    "ratelimit.isolation.users": probe_ratelimit_isolation_users,
    "ratelimit.isolation.tiers@write-read": debit("write", "read"),
    "ratelimit.isolation.tiers@bulk-write": debit("bulk", "write"),
    "ratelimit.isolation.tiers@webhook-bulk": debit("webhook", "bulk"),
    **{f"ratelimit.concurrency@{tier}": burst(tier) for tier in ("write", "webhook", "bulk")},
    "ratelimit.window@offset": probe_ratelimit_window_offset,
    "ratelimit.window@first-request": probe_ratelimit_window_first_request,
    "ratelimit.read.headers@quota-only": for_tier(probe_tier_headers, "read"),
    "ratelimit.webhook.headers@remaining-only": for_tier(probe_tier_headers, "webhook"),
}
