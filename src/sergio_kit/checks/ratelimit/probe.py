"""One tier probed once, judged five ways: the ``ratelimit.<tier>.*`` rules read one recording.

A probe spends one principal's quota of one tier in a fresh window (every request until the first
429), sends one more request, then waits until 1 s before the first 429's Retry-After elapses (one
more request: still 429) and until just after (one more: admitted). The five rules (boundary,
retry_after, retry_after_honest, headers, body) are judged from that recording, so a live target
needs one window per principal instead of one per rule. Bursts of simultaneous requests (for
``ratelimit.concurrency``) are sent and judged here too.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field

import httpx

from sergio_kit.checks.connections import open_clients
from sergio_kit.checks.context import MEMBER, PRIMARY, CheckContext
from sergio_kit.checks.ratelimit.calls import (
    ADMITTED,
    ADMITTED_TEXT,
    TierCaller,
    expect_retry_after_range,
    is_admitted,
    pause,
    retry_after,
    retry_after_seconds,
)
from sergio_kit.contract.ratelimit import RATE_LIMIT_FORMS, WINDOW_SECONDS, RateLimitReading, read_rate_limits
from sergio_kit.reports.findings import CheckFailed, CheckSkipped

#: Live targets: how far before Retry-After elapses the "still refused" request goes, and how long
#: after it the "admitted again" request waits (margins for network time and whole-second clocks).
LIVE_EARLY, LIVE_LATE = 1.5, 2.0


@dataclass
class TierRun:
    """What one probe of one tier on one principal saw."""

    caller: TierCaller
    quota: int  # the tier's limit per window
    spent_before: int = 0  # requests of this principal and tier the kit sent in the window before
    admitted: list[httpx.Response] = field(default_factory=list)
    first_429: httpx.Response | None = None
    second_429: httpx.Response | None = None
    wait: int | None = None  # the first 429's Retry-After, in seconds
    before_room: httpx.Response | None = None  # sent 1 s before Retry-After elapsed
    after_room: httpx.Response | None = None  # sent once it had
    problem: CheckFailed | None = None  # the probe could not go on: every rule reports it
    wait_problem: CheckFailed | None = None  # no usable Retry-After: the honesty probe could not run
    #: this machine's monotonic clock once the first 429 had come (every admission of the quota was
    #: served by then), and about when the request that got it was sent (served after that)
    spent_at: float | None = None
    refused_from: float | None = None

    @property
    def room(self) -> int:
        """How many requests the window still had when the probe began."""
        return self.quota - self.spent_before


def probe_tier(
    ctx: CheckContext,
    caller: TierCaller,
    quota: int,
    spent_before: int = 0,
    admitted_before: Sequence[httpx.Response] = (),
    while_waiting: Callable[[], None] | None = None,
) -> TierRun:
    """Spend the tier's quota with ``caller``, then probe the Retry-After; never raises a finding.

    ``spent_before``: requests the kit sent earlier in this window that the probe does not own;
    ``admitted_before``: requests of the probe's own already sent and admitted (counted as its first);
    ``while_waiting``: runs once the quota is spent, before the wait for Retry-After.
    """
    run = TierRun(caller, quota, spent_before, admitted=list(admitted_before))
    try:
        more, run.first_429 = caller.exhaust(run.room - len(run.admitted))
    except CheckFailed as failure:
        run.problem = failure
        return run
    run.admitted += more
    throttled_at = run.spent_at = time.monotonic()
    run.refused_from = throttled_at - run.first_429.elapsed.total_seconds()
    run.second_429 = caller.call()
    if while_waiting is not None:
        while_waiting()
    try:
        run.wait = retry_after(ctx, run.first_429, caller.label)
    except CheckFailed as failure:
        run.wait_problem = failure
        return run
    if ctx.target.clock is None:  # real time, counted from the first 429 (while_waiting took some)
        # "before" counts from when the first 429's request was sent: the target decided no earlier,
        # so its room comes no earlier than that plus the Retry-After less a second, however long the
        # answer took to come back (a busy target, a far one)
        time.sleep(max(run.refused_from + run.wait - LIVE_EARLY - time.monotonic(), 0))
        run.before_room = caller.call()
        time.sleep(max(throttled_at + run.wait - LIVE_EARLY + LIVE_LATE - time.monotonic(), 0))
    else:
        pause(ctx, run.wait - 1)
        run.before_room = caller.call()
        pause(ctx, 1)
    run.after_room = caller.call()
    return run


def _probed(run: TierRun) -> tuple[list[httpx.Response], httpx.Response]:
    """The admitted responses and the first 429, or the probe's own failure."""
    if run.problem is not None:
        raise run.problem
    assert run.first_429 is not None  # set whenever there is no problem
    return run.admitted, run.first_429


def judge_boundary(ctx: CheckContext, run: TierRun) -> None:
    """exactly the tier's quota is admitted in one window; the next request is 429."""
    admitted, throttled = _probed(run)
    if len(admitted) != run.room:
        spent = f" after the kit's own {run.spent_before}" if run.spent_before else ""
        ctx.fail(
            f"{run.caller.label}: {len(admitted)} requests admitted in one window{spent}, quota {run.quota}",
            admitted[-1] if len(admitted) > run.room else throttled,
            f"exactly {run.room} admitted, then 429",
        )


def judge_retry_after(ctx: CheckContext, run: TierRun) -> None:
    """every 429 has a valid Retry-After (delta-seconds or HTTP-date) of 1..60 s."""
    _, first = _probed(run)
    label = run.caller.label
    second = run.second_429
    assert second is not None
    # the published rules (a 429, with a Retry-After) on both before the kit's assumed range
    first_wait = retry_after_seconds(ctx, first, f"{label}, the first 429")
    ctx.expect(second, {429}, f"{label}: another request after the first 429", "429")
    second_wait = retry_after_seconds(ctx, second, f"{label}, the second 429")
    expect_retry_after_range(ctx, first, first_wait, f"{label}, the first 429")
    expect_retry_after_range(ctx, second, second_wait, f"{label}, the second 429")


def judge_retry_after_honest(ctx: CheckContext, run: TierRun) -> None:
    """1 s before Retry-After elapses the tier still says 429; once it has, it admits again."""
    _probed(run)
    if run.wait_problem is not None:
        raise run.wait_problem
    assert run.wait is not None and run.before_room is not None and run.after_room is not None
    label, wait = run.caller.label, run.wait
    ctx.expect(
        run.after_room,
        ADMITTED,
        f"{label}: still refused once the Retry-After of {wait} s had elapsed",
        f"{ADMITTED_TEXT}: the Retry-After promised room by then",
    )
    ctx.expect(  # a Retry-After longer than needed is cautious, not wrong: the kit prefers it exact
        run.before_room,
        {429},
        f"{label}: {wait - 1} s into a Retry-After of {wait} s",
        "429",
        basis="recommended",
    )


def judge_headers(ctx: CheckContext, run: TierRun) -> None:
    """the rate-limit fields sent (RateLimit / RateLimit-Policy, RateLimit-Limit/-Remaining/-Reset or
    X-RateLimit-*, every form, all of its fields or some) agree with the tier: the quota and window they
    name, what remains counting down to 0."""
    admitted, throttled = _probed(run)
    for index, response in enumerate([*admitted, throttled], start=1):
        _check_fields(ctx, run, response, max(run.room - index, 0), f"request {index}")


#: The field of each form (:data:`RATE_LIMIT_FORMS`) that says what remains: a deployment may send a
#: form's quota without it (``RateLimit-Policy`` alone), and what it leaves out is not judged.
REMAINING_FIELD = {
    "structured": "RateLimit",
    "combined": "RateLimit",
    "draft-03": "RateLimit-Remaining",
    "x-ratelimit": "X-RateLimit-Remaining",
}


def _check_fields(
    ctx: CheckContext, run: TierRun, response: httpx.Response, remaining: int, what: str
) -> None:
    """Every form of the rate-limit fields ``response`` carries says the tier's quota and that
    ``remaining`` requests remain, with a reset within the window."""
    tier, label = run.caller.tier, f"{run.caller.label}, {what}"
    readings = read_rate_limits(response.headers, ctx.target.now())
    if not readings:
        ctx.fail(
            f"{label}: no rate-limit headers were sent (no RateLimit, RateLimit-Policy, "
            "RateLimit-Limit/-Remaining/-Reset or X-RateLimit-*)",
            response,
            f'RateLimit: "{tier}";r={remaining};t=1..{WINDOW_SECONDS} (or another published form)',
        )
    for reading in readings:
        _check_reading(ctx, run, response, reading, remaining, label)


def _check_reading(
    ctx: CheckContext,
    run: TierRun,
    response: httpx.Response,
    reading: RateLimitReading,
    remaining: int,
    label: str,
) -> None:
    """One form of the rate-limit fields against what the kit observed."""
    sent = ", ".join(f"{name}: {value}" for name, value in reading.fields.items())
    shown = f"{label}: {sent} ({reading.form} form)"
    expected = RATE_LIMIT_FORMS[reading.form]
    if reading.malformed:
        ctx.fail(f"{shown}: {', '.join(reading.malformed)} unreadable", response, expected)
    if reading.limit is None and reading.remaining is None:
        ctx.fail(f"{shown}: says neither the quota nor what remains", response, expected)
    if reading.form == "structured" and reading.policy != run.caller.tier:
        ctx.fail(f"{shown}: the policy is not named after the tier", response, f'"{run.caller.tier}"')
    if reading.limit is not None and reading.limit != run.quota:
        ctx.fail(f"{shown}: says a quota of {reading.limit}", response, f"a quota of {run.quota}")
    if reading.window is not None and reading.window != WINDOW_SECONDS:
        ctx.fail(f"{shown}: says a window of {reading.window} s", response, f"w={WINDOW_SECONDS}")
    counts = REMAINING_FIELD[reading.form] in reading.fields  # the form's field of what remains was sent
    if counts and reading.remaining != remaining:
        said = "nothing of what remains" if reading.remaining is None else f"{reading.remaining} remain"
        ctx.fail(f"{shown}: says {said}", response, f"{remaining} remaining (the kit's count)")
    if counts and reading.reset is None and reading.form in ("structured", "combined"):
        ctx.fail(
            f"{shown}: says nothing of when the quota resets", response, f"a reset of 0..{WINDOW_SECONDS} s"
        )
    if reading.reset is not None and not 0 <= reading.reset <= WINDOW_SECONDS:
        ctx.fail(f"{shown}: says the quota resets in {reading.reset} s", response, f"0..{WINDOW_SECONDS} s")


def judge_body(ctx: CheckContext, run: TierRun) -> None:
    """the 429 body is the JSON error shape with code rate_limited, sent with Cache-Control: no-store."""
    _, response = _probed(run)
    label = run.caller.label
    shape = '{"error": {"code": "rate_limited", "message": "..."}}'
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        ctx.fail(f"{label}: the 429 body is not the error shape", response, shape)
    if not isinstance(error, dict) or error.get("code") != "rate_limited" or not error.get("message"):
        ctx.fail(f"{label}: the 429 error is {error!r}", response, shape)
    if "no-store" not in response.headers.get("Cache-Control", "").lower():
        ctx.fail(f"{label}: the 429 may be cached", response, "Cache-Control: no-store")


#: The per-tier rules, by the last part of their check id.
JUDGES: dict[str, Callable[[CheckContext, TierRun], None]] = {
    "boundary": judge_boundary,
    "retry_after": judge_retry_after,
    "retry_after_honest": judge_retry_after_honest,
    "headers": judge_headers,
    "body": judge_body,
}


def judge_bursts(
    ctx: CheckContext, caller: TierCaller, limit: int, results: list[list[httpx.Response]]
) -> None:
    """Each round of simultaneous requests admitted exactly ``limit`` and refused the rest with 429."""
    for number, responses in enumerate(results, start=1):
        statuses = [response.status_code for response in responses]
        admitted = sum(map(is_admitted, responses))
        if admitted != limit or statuses.count(429) != len(statuses) - limit:
            shown = next((r for r in responses if not is_admitted(r) and r.status_code != 429), responses[-1])
            ctx.fail(
                f"round {number}: {len(statuses)} simultaneous {caller.label} requests at a fresh window: "
                f"{admitted} admitted, {statuses.count(429)} refused, "
                f"{len(statuses) - admitted - statuses.count(429)} other",
                shown,
                f"exactly {limit} admitted and {len(statuses) - limit} refused with 429",
            )


def burst_size(quota: int) -> int:
    """The simultaneous requests of a write, webhook or bulk burst: the quota and half as many again
    (at least 5 more), the fewest that show an overshoot whatever order they are served in."""
    return quota + max(quota // 2, 5)


def judge_member(ctx: CheckContext, member: TierCaller, response: httpx.Response) -> None:
    """The member's request, sent once the admin of its company had spent the tier's quota, was
    admitted; a 401/403 (the member may not call the operation) is a skip naming it."""
    if response.status_code in (401, 403):
        raise CheckSkipped(
            f"the member {ctx.account(MEMBER).email} may not call {member.operation.label} "
            f"({response.status_code}): no tier to compare two users of one company on"
        )
    ctx.expect(
        response,
        ADMITTED,
        f"{member.label} as {ctx.account(MEMBER).email}, a user of the same company, after "
        f"{ctx.account(PRIMARY).email} spent the tier's quota, was refused",
        f"{ADMITTED_TEXT}: each user (each token) has a quota of its own, not one per company",
    )


async def bursts(
    ctx: CheckContext,
    caller: TierCaller,
    rounds: list[dict[str, str]],
    count: int,
    between: Callable[[int], None],
) -> list[list[httpx.Response]]:
    """A round per entry of ``rounds`` (the credentials it uses): ``count`` copies of ``caller``'s
    request at once, each on its own already-open connection; ``between(n)`` runs before round n.
    Each response is accounted for as the caller's (:meth:`TierCaller.note`: what it created is
    removed by the caller's clean-up)."""
    operation = caller.operation
    path = caller.path or operation.path
    async with AsyncExitStack() as stack:
        clients = await open_clients(stack, ctx, count)
        results = []
        for number, headers in enumerate(rounds):
            if number:
                between(number)
            burst = (
                client.request(
                    operation.method, path, params=caller.params, json=caller.body, headers=headers
                )
                for client in clients
            )
            responses = list(await asyncio.gather(*burst))
            caller.headers = headers
            for response in responses:
                caller.note(response)
            results.append(responses)
    return results
