"""``ratelimit.<tier>.*``: exact boundary, honest Retry-After, RateLimit headers and the 429 body,
for every tier (auth, read, write, webhook, bulk).

``ctx.send`` waits out 429s and retries, so the probing requests here go through ``ctx.client``
directly (with the credentials added by hand); ``ctx.send`` is only used for setup and cleanup.
Each check starts in a fresh window: on the embedded server the test clock is moved 61 s and frozen
(and unfrozen, then moved on again, when the check ends, so no other check inherits a spent quota);
on a live target the check waits a real window (slow: the issue's 75 s live target is not met yet).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.clock_client import TestClock
from sergio_kit.contract import TIERS, Operation
from sergio_kit.samples import WEBHOOK_SINK, example_job

#: Requests per window of each tier (the contract's published quotas).
DEFAULT_TIER_LIMITS: dict[str, int] = {"auth": 10, "read": 120, "write": 60, "webhook": 10, "bulk": 10}
WINDOW = 60
FRESH = WINDOW + 1  # seconds that start every window afresh
#: The operation each tier's checks spend their quota on, and the status that means "admitted".
TIER_OPERATIONS = {
    "auth": ("login", 200),
    "read": ("listJobs", 200),
    "write": ("createJob", 201),
    "webhook": ("createWebhook", 201),
    "bulk": ("bulkCreateJobs", 200),
}
_PARAM = re.compile(r"^\s*([A-Za-z0-9_-]+)\s*=\s*\"?([^\";]*)\"?\s*$")


def tier_limit(tier: str) -> int:
    """The quota of ``tier`` per window."""
    return DEFAULT_TIER_LIMITS[tier]


@contextmanager
def fresh_window(ctx: CheckContext, reason: str) -> Iterator[TestClock | None]:
    """Run the block at the start of a fresh window; with a test clock, frozen for the block."""
    clock = ctx.target.clock
    if clock is None:
        ctx.throttle.wait(FRESH, reason)
        yield None
        return
    clock.unfreeze()
    clock.advance(FRESH)
    clock.freeze()
    try:
        yield clock
    finally:
        clock.unfreeze()
        clock.advance(FRESH)  # whatever runs next finds every quota full


def next_window(ctx: CheckContext, reason: str) -> None:
    """Move on to a fresh window inside a check (clock frozen or not)."""
    ctx.throttle.wait(FRESH, reason)


def pause(ctx: CheckContext, seconds: float) -> None:
    """Let ``seconds`` pass: on the test clock, or (live target) for real."""
    if ctx.target.clock is not None:
        if seconds > 0:
            ctx.target.clock.advance(seconds)
    elif seconds > 0:
        time.sleep(seconds)


@dataclass
class TierCaller:
    """Sends one tier's representative request as one principal, through ``ctx.client``."""

    ctx: CheckContext
    tier: str
    operation: Operation
    expected: int
    headers: dict[str, str]
    body: Any
    created: list[str] = field(default_factory=list)

    def call(self) -> httpx.Response:
        """One request, not retried on 429."""
        op = self.operation
        params = {"limit": 1} if op.method == "GET" else None
        response = self.ctx.client.request(
            op.method, op.path, json=self.body, params=params, headers=self.headers
        )
        if response.status_code in (200, 201) and op.operation_id != "login":
            data = response.json()
            if op.operation_id == "bulkCreateJobs":
                self.created += [f"/v1/jobs/{job['id']}" for job in data.get("created", [])]
            elif op.operation_id in ("createJob", "createWebhook"):
                self.created.append(f"{op.path}/{data['id']}")
        return response

    @property
    def label(self) -> str:
        """``<tier> tier (METHOD /path)``."""
        return f"{self.tier} tier ({self.operation.label})"

    def exhaust(self, limit: int) -> tuple[list[httpx.Response], httpx.Response]:
        """Send until the first 429 (at most ``limit + 3``); return the admitted responses and the 429."""
        admitted: list[httpx.Response] = []
        for index in range(1, limit + 4):
            response = self.call()
            if response.status_code == 429:
                return admitted, response
            self.ctx.expect(
                response,
                {self.expected},
                f"{self.label}: request {index} of one window was neither admitted nor throttled",
                f"{self.expected}, or 429 once {limit} were admitted",
            )
            admitted.append(response)
        self.ctx.fail(
            f"{self.label}: {limit + 3} requests in one window and no 429 (quota {limit} per {WINDOW} s)",
            admitted[-1],
            f"429 after {limit} admitted",
        )

    def throttled(self, what: str) -> httpx.Response:
        """Another request, which must be a 429."""
        response = self.call()
        self.ctx.expect(response, {429}, f"{self.label}: {what}", "429")
        return response

    def cleanup(self) -> None:
        """Delete what the calls created (after the window, so the write tier has room)."""
        if not self.created:
            return
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        for path in self.created:
            self.ctx.send("DELETE", path, token=token or self.ctx.token())
        self.created.clear()


def tier_operation(ctx: CheckContext, tier: str) -> tuple[Operation, int]:
    """The contract operation ``tier``'s checks use (its tier checked against the contract)."""
    operation_id, expected = TIER_OPERATIONS[tier]
    operation = next(op for op in ctx.operations if op.operation_id == operation_id)
    if operation.tier != tier:
        ctx.fail(
            f"the contract puts {operation.label} in the {operation.tier} tier, not {tier}: "
            "the kit's representative operation for the tier is wrong",
            expected=f"x-sergio-rate-tier: {tier}",
        )
    return operation, expected


def tier_caller(ctx: CheckContext, tier: str, tenant: str = "primary") -> TierCaller:
    """A caller for ``tier`` as ``tenant`` (login: the client address; otherwise the tenant's user)."""
    operation, expected = tier_operation(ctx, tier)
    account = ctx.account(tenant)
    bodies: dict[str, Any] = {
        "login": {"email": account.email, "password": account.password},
        "createJob": example_job(notes="sergio-kit ratelimit"),
        "createWebhook": {"url": WEBHOOK_SINK, "events": ["job.updated"]},
        "bulkCreateJobs": {"jobs": [example_job(notes="sergio-kit ratelimit")]},
    }
    headers = {} if tier == "auth" else {"Authorization": f"Bearer {ctx.token(tenant)}"}
    return TierCaller(ctx, tier, operation, expected, headers, bodies.get(operation.operation_id))


@contextmanager
def spending(ctx: CheckContext, tier: str, tenant: str = "primary") -> Iterator[TierCaller]:
    """A fresh, frozen window and a caller for ``tier``; afterwards its creations are removed."""
    caller: TierCaller | None = None
    try:
        with fresh_window(ctx, f"ratelimit: a fresh {tier}-tier window"):
            caller = tier_caller(ctx, tier, tenant)
            yield caller
    finally:
        if caller is not None:
            caller.cleanup()


def retry_after(ctx: CheckContext, response: httpx.Response, what: str) -> int:
    """The 429's Retry-After in seconds (delta-seconds or HTTP-date); fails unless valid and 1..60."""
    value = response.headers.get("Retry-After")
    expected = "Retry-After: delta-seconds or an HTTP-date, 1..60 s away"
    if value is None:
        ctx.fail(f"{what}: a 429 without Retry-After", response, expected)
    text = value.strip()
    if text.isascii() and text.isdigit():
        seconds = int(text)
    else:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError):
            ctx.fail(
                f"{what}: Retry-After {value!r} is neither delta-seconds nor an HTTP-date", response, expected
            )
        if when.tzinfo is None:
            ctx.fail(f"{what}: Retry-After {value!r} is not in GMT", response, expected)
        base = ctx.target.now()
        if "Date" in response.headers:
            base = parsedate_to_datetime(response.headers["Date"]).timestamp()
        seconds = math.ceil(when.timestamp() - base)
    if not 1 <= seconds <= WINDOW:
        ctx.fail(f"{what}: Retry-After {value!r} means {seconds} s, not 1..{WINDOW}", response, expected)
    return seconds


def structured(value: str) -> tuple[str, dict[str, str]]:
    """``"name";a=1;b=2`` → ``("name", {"a": "1", "b": "2"})`` (the RateLimit fields' shape)."""
    item, *params = value.split(";")
    found: dict[str, str] = {}
    for param in params:
        match = _PARAM.match(param)
        if match:
            found[match.group(1).lower()] = match.group(2)
    return item.strip().strip('"'), found


# -- the rules ------------------------------------------------------------------------------------


def boundary(ctx: CheckContext, tier: str) -> None:
    """exactly the tier's quota is admitted in one window; the next request is 429."""
    limit = tier_limit(tier)
    with spending(ctx, tier) as caller:
        admitted, throttled = caller.exhaust(limit)
        if len(admitted) != limit:
            ctx.fail(
                f"{caller.label}: {len(admitted)} requests admitted in one window, quota {limit}",
                admitted[-1] if len(admitted) > limit else throttled,
                f"exactly {limit} admitted, then 429",
            )


def retry_after_valid(ctx: CheckContext, tier: str) -> None:
    """every 429 has a valid Retry-After (delta-seconds or HTTP-date) of 1..60 s."""
    with spending(ctx, tier) as caller:
        _, first = caller.exhaust(tier_limit(tier))
        retry_after(ctx, first, f"{caller.label}, the first 429")
        retry_after(
            ctx, caller.throttled("another request after the first 429"), f"{caller.label}, the second 429"
        )


def retry_after_honest(ctx: CheckContext, tier: str) -> None:
    """1 s before Retry-After elapses the tier still says 429; once it has, it admits again."""
    with spending(ctx, tier) as caller:
        _, throttled = caller.exhaust(tier_limit(tier))
        wait = retry_after(ctx, throttled, caller.label)
        live = ctx.target.clock is None
        pause(ctx, wait - 1.5 if live else wait - 1)  # live: a margin for network time
        caller.throttled(f"{wait - 1} s into a Retry-After of {wait} s")
        pause(ctx, 2.0 if live else 1)
        again = caller.call()
        ctx.expect(
            again,
            {caller.expected},
            f"{caller.label}: still refused once the Retry-After of {wait} s had elapsed",
            f"{caller.expected}: the Retry-After promised room by then",
        )


def rate_headers(ctx: CheckContext, tier: str) -> None:
    """RateLimit-Policy (and X-RateLimit-*) agree with the tier; RateLimit's remaining counts down to 0."""
    limit = tier_limit(tier)
    with spending(ctx, tier) as caller:
        admitted, throttled = caller.exhaust(limit)
        for index, response in enumerate([*admitted, throttled], start=1):
            expected_remaining = max(limit - index, 0)
            _check_fields(ctx, caller, response, expected_remaining, f"request {index}")


def _check_fields(
    ctx: CheckContext, caller: TierCaller, response: httpx.Response, remaining: int, what: str
) -> None:
    limit, tier, label = tier_limit(caller.tier), caller.tier, f"{caller.label}, {what}"
    policy, ratelimit = response.headers.get("RateLimit-Policy"), response.headers.get("RateLimit")
    legacy = response.headers.get("X-RateLimit-Remaining")
    if policy is None and ratelimit is None and legacy is None:
        ctx.fail(
            f"{label}: no RateLimit or X-RateLimit-* headers", response, f'RateLimit: "{tier}";r={remaining}'
        )
    if policy is not None:
        name, params = structured(policy)
        if (name, params.get("q"), params.get("w")) != (tier, str(limit), str(WINDOW)):
            ctx.fail(f"{label}: RateLimit-Policy {policy!r}", response, f'"{tier}";q={limit};w={WINDOW}')
    if ratelimit is not None:
        name, params = structured(ratelimit)
        if name != tier or params.get("r") != str(remaining):
            ctx.fail(f"{label}: RateLimit {ratelimit!r}", response, f'"{tier}";r={remaining};t=1..{WINDOW}')
        reset = params.get("t", "")
        if not (reset.isdigit() and 0 <= int(reset) <= WINDOW):
            ctx.fail(f"{label}: RateLimit reset t={reset!r}", response, f"t=0..{WINDOW}")
    legacy_limit = response.headers.get("X-RateLimit-Limit")
    if legacy_limit is not None and legacy_limit.strip() != str(limit):
        ctx.fail(f"{label}: X-RateLimit-Limit {legacy_limit!r}", response, str(limit))
    if legacy is not None and legacy.strip() != str(remaining):
        ctx.fail(f"{label}: X-RateLimit-Remaining {legacy!r}", response, str(remaining))


def error_body(ctx: CheckContext, tier: str) -> None:
    """the 429 body is the JSON error shape with code rate_limited, sent with Cache-Control: no-store."""
    with spending(ctx, tier) as caller:
        _, response = caller.exhaust(tier_limit(tier))
        shape = '{"error": {"code": "rate_limited", "message": "..."}}'
        try:
            error = response.json()["error"]
        except (ValueError, KeyError, TypeError):
            ctx.fail(f"{caller.label}: the 429 body is not the error shape", response, shape)
        if not isinstance(error, dict) or error.get("code") != "rate_limited" or not error.get("message"):
            ctx.fail(f"{caller.label}: the 429 error is {error!r}", response, shape)
        if "no-store" not in response.headers.get("Cache-Control", "").lower():
            ctx.fail(f"{caller.label}: the 429 may be cached", response, "Cache-Control: no-store")


RULES: dict[str, Callable[[CheckContext, str], None]] = {
    "boundary": boundary,
    "retry_after": retry_after_valid,
    "retry_after_honest": retry_after_honest,
    "headers": rate_headers,
    "body": error_body,
}


def _register(tier: str, rule: str, probe: Callable[[CheckContext, str], None]) -> None:
    def run(ctx: CheckContext) -> None:
        probe(ctx, tier)

    run.__name__ = run.__qualname__ = f"{tier}_{rule}"
    run.__doc__ = f"{tier} tier: {probe.__doc__}"
    check(f"ratelimit.{tier}.{rule}")(run)


for _tier in TIERS:
    for _rule, _probe in RULES.items():
        _register(_tier, _rule, _probe)
