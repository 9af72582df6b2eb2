"""What the ``ratelimit`` checks send: one tier's representative request as one principal, fresh
windows, pauses, and the Retry-After finding (parsed by ``sergio_kit.contract.ratelimit``).

``ctx.send`` waits out 429s and retries, so probing requests go through ``ctx.client`` directly
(with the credentials added by hand); ``ctx.send`` is only used for setup and cleanup. On the
embedded server a fresh window is the test clock moved a window and a second and frozen (and
unfrozen, then moved on again, when the block ends, so nothing inherits a spent quota); on a live
target it is a real wait, which the live plan (``live.py``) avoids by giving every probe a principal
of its own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

from sergio_kit.checks.context import CheckContext
from sergio_kit.contract.document import Operation
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS, WINDOW_SECONDS, parse_retry_after
from sergio_kit.reports.findings import CheckSkipped
from sergio_kit.target.clock import TestClock
from sergio_kit.target.pacing import principal_of

LOGIN, BULK, WEBHOOKS = "POST /v1/auth/login", "POST /v1/jobs/bulk", "POST /v1/webhooks"
CREATE_JOB = ("POST /v1/jobs", "POST /zapier/v1/actions/create-job")
#: The operations (``METHOD /path``) each tier's checks spend their quota on, one per surface (bearer,
#: then the Zapier surface's API key where the tier has one).
TIER_OPERATIONS: dict[str, tuple[str, ...]] = {
    "auth": (LOGIN,),
    "read": ("GET /v1/jobs", "GET /zapier/v1/triggers/new-job"),
    "write": ("PATCH /v1/jobs/{job_id}", CREATE_JOB[1]),
    "webhook": (WEBHOOKS,),
    "bulk": (BULK,),
}
#: The statuses that mean a tier's request was admitted: any 2xx. Several of the operations' success
#: statuses are the kit's assumption (``x-sergio-assumed`` in the packaged contract: 201 on webhook
#: registration, ...); the operations' own checks judge the status, the rate-limit checks only whether
#: the request got through or was throttled (429).
ADMITTED = range(200, 300)
#: :data:`ADMITTED` in a finding's "expected" text.
ADMITTED_TEXT = "2xx"
#: The tiers the cross-tier checks may spend on the bearer surface, in order of preference.
SPENDABLE_TIERS = ("bulk", "webhook", "write", "read")
#: Scopes of the API key the Zapier-surface probes use.
KEY_SCOPES = ("jobs:read", "jobs:write")
_RETRY_AFTER = f"Retry-After: delta-seconds or an HTTP-date, 1..{WINDOW_SECONDS} s away"


def tier_limit(ctx: CheckContext, tier: str) -> int:
    """The target's quota of ``tier`` per window (the published one unless configured otherwise)."""
    return ctx.target.tier_limits[tier]


@contextmanager
def fresh_window(ctx: CheckContext, reason: str) -> Iterator[TestClock | None]:
    """Run the block at the start of a fresh window; with a test clock, frozen for the block."""
    clock = ctx.target.clock
    if clock is None:
        if "reachable" not in ctx.memo:  # fail at once, not after a window, when nothing answers
            ctx.memo["reachable"] = ctx.send("GET", "/v1/health").status_code
        ctx.throttle.wait(FRESH_WINDOW_SECONDS, reason)
        yield None
        return
    clock.unfreeze()
    clock.advance(FRESH_WINDOW_SECONDS)
    clock.freeze()
    try:
        yield clock
    finally:
        clock.unfreeze()
        clock.advance(FRESH_WINDOW_SECONDS)  # whatever runs next finds every quota full


def next_window(ctx: CheckContext, reason: str) -> None:
    """Move on to a fresh window inside a check (clock frozen or not)."""
    ctx.throttle.wait(FRESH_WINDOW_SECONDS, reason)


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
    headers: dict[str, str]
    body: Any
    params: dict[str, int] | None = None
    path: str = ""  # the operation's path with its ids filled in (default: the path as is)
    client: httpx.Client | None = None  # default: the context's (a thread of the live plan has its own)
    created: list[str] = field(default_factory=list)
    bodies: Iterator[Any] | None = None  # a body per request (logouts: a family each), else ``body``

    def call(self) -> httpx.Response:
        """One request, not retried on 429; recorded in the context's traffic log."""
        op = self.operation
        if self.bodies is not None:
            self.body = next(self.bodies)
        response = (self.client or self.ctx.client).request(
            op.method, self.path or op.path, json=self.body, params=self.params, headers=self.headers
        )
        self.note(response)
        return response

    def note(self, response: httpx.Response) -> None:
        """Account for one response to this caller's request, however it was sent: the traffic log, the
        run's ledger and pacer, and what an admitted request created (for :meth:`cleanup`)."""
        op = self.operation
        self.ctx.traffic.record(self.tier, self.ctx.target.now(), response.status_code, ADMITTED)
        self.ctx.throttle.answered.setdefault(op.label, set()).add(response.status_code)
        note_sent(self.ctx, self.tier, self.headers, response.status_code)
        if is_admitted(response) and op.label in (BULK, *CREATE_JOB, WEBHOOKS):  # they make objects
            data = response.json()
            if op.label == BULK:
                self.created += [f"/v1/jobs/{job['id']}" for job in data.get("created", [])]
            elif op.label in CREATE_JOB:
                self.created.append(f"/v1/jobs/{data['id']}")
            elif op.label == WEBHOOKS:
                self.created.append(f"/v1/webhooks/{data['id']}")

    @property
    def label(self) -> str:
        """``<tier> tier (METHOD /path)``, naming the API key for the Zapier surface."""
        surface = ", per API key" if "X-API-Key" in self.headers else ""
        return f"{self.tier} tier ({self.operation.label}{surface})"

    def exhaust(self, limit: int) -> tuple[list[httpx.Response], httpx.Response]:
        """Send until the first 429 (at most ``limit + 3``); return the admitted responses and the 429."""
        admitted: list[httpx.Response] = []
        for index in range(1, limit + 4):
            response = self.call()
            if response.status_code == 429:
                return admitted, response
            self.ctx.expect(
                response,
                ADMITTED,
                f"{self.label}: request {index} of one window was neither admitted nor throttled",
                f"{ADMITTED_TEXT}, or 429 once {limit} were admitted",
                basis="documented",  # every rule of the tier reports it: the published quota is broken
            )
            admitted.append(response)
        quota = f"quota {limit} per {WINDOW_SECONDS} s"
        self.ctx.fail(
            f"{self.label}: {limit + 3} requests in one window and no 429 ({quota})",
            admitted[-1],
            f"429 after {limit} admitted",
            basis="documented",
        )

    def cleanup(self) -> None:
        """Delete what the calls created (after the window, so the write tier has room)."""
        if not self.created:
            return
        token = self.headers.get("Authorization", "").removeprefix("Bearer ")
        for path in self.created:
            self.ctx.send("DELETE", path, token=token or self.ctx.token())
        self.created.clear()


def note_sent(ctx: CheckContext, tier: str, headers: dict[str, str], status: int) -> None:
    """Count a request the rate-limit checks sent past the throttle (they must see the 429s) in the
    run's ledger and its pacer, so later requests of the same bucket wait for it: unless it was not
    charged (429, or 401: refused credentials)."""
    if status in (401, 429):
        return
    principal = principal_of(headers)
    ctx.throttle.count(tier, principal)
    if ctx.throttle.pacer is not None:
        ctx.throttle.pacer.note(tier, principal)


def is_admitted(response: httpx.Response) -> bool:
    """Whether a tier's request was admitted (any 2xx; see :data:`ADMITTED`)."""
    return response.status_code in ADMITTED


def tier_operation(ctx: CheckContext, tier: str, surface: int = 0) -> Operation:
    """The contract operation ``tier``'s checks use on ``surface`` (0 bearer, 1 API key), its tier
    checked against the contract; skips, naming it, when the contract in force lacks it."""
    label = TIER_OPERATIONS[tier][surface]
    surface_name = "the Zapier surface's" if surface else "the"
    operation = ctx.require(label, f"{surface_name} {tier} tier's probe spends its quota there")
    if operation.tier != tier:
        ctx.fail(
            f"the contract puts {operation.label} in the {operation.tier} tier, not {tier}: "
            "the kit's representative operation for the tier is wrong",
            expected=f"x-sergio-rate-tier: {tier}",
        )
    return operation


def unprobed(ctx: CheckContext, tier: str, surface: int) -> CheckSkipped | None:
    """Why ``tier`` cannot be probed on ``surface`` (the contract lacks its operation), or ``None``."""
    try:
        tier_operation(ctx, tier, surface)
    except CheckSkipped as reason:
        return reason
    return None


def scarce_tier(ctx: CheckContext) -> str:
    """The tier the cross-tier checks spend on the bearer surface: the one with the smallest quota
    among those whose operation the contract offers (bulk; webhook registration without bulk)."""
    offered = [tier for tier in SPENDABLE_TIERS if ctx.offers(TIER_OPERATIONS[tier][0])]
    if not offered:
        wanted = ", ".join(TIER_OPERATIONS[tier][0] for tier in SPENDABLE_TIERS)
        raise CheckSkipped(
            f"the contract declares none of the operations the kit spends a quota on ({wanted})"
        )
    return min(offered, key=lambda tier: tier_limit(ctx, tier))  # the first of equals: bulk, then webhook


def member_tier(ctx: CheckContext) -> str:
    """The scarcest tier a member of the first company may spend on the bearer surface (bulk, else
    webhook registration, ...): its operation offered and not an admin's only (``x-sergio-admin-only``);
    skips when there is none."""
    offered = [
        tier
        for tier in SPENDABLE_TIERS
        if ctx.offers(TIER_OPERATIONS[tier][0]) and not ctx.require(TIER_OPERATIONS[tier][0]).admin_only
    ]
    if not offered:
        raise CheckSkipped("the contract offers a member none of the operations the kit spends a quota on")
    return min(offered, key=lambda tier: tier_limit(ctx, tier))


def _body(ctx: CheckContext, label: str, tenant: str) -> Any:
    if label == LOGIN:
        account = ctx.account(tenant)
        return {"email": account.email, "password": account.password}
    if label == TIER_OPERATIONS["write"][0]:
        return {"notes": "sergio-kit ratelimit"}
    if label == WEBHOOKS:
        return ctx.target.samples.webhook(["job.updated"])
    if label == BULK:
        return {"jobs": [ctx.job(notes="sergio-kit ratelimit")]}
    if label in CREATE_JOB:
        return ctx.job(notes="sergio-kit ratelimit")
    return None


def tier_caller(ctx: CheckContext, tier: str, tenant: str = "primary") -> TierCaller:
    """A bearer-surface caller for ``tier`` as ``tenant`` (login: the client address; otherwise the
    tenant's user)."""
    return bearer_caller(ctx, tier, None if tier == "auth" else ctx.token(tenant), tenant)


def bearer_caller(
    ctx: CheckContext, tier: str, token: str | None, tenant: str = "primary", path: str | None = None
) -> TierCaller:
    """A bearer-surface caller for ``tier`` with ``token`` (``None`` for the auth tier's logins as
    ``tenant``); the write tier's job to update is ``path``, else one of ``tenant``'s made for the run."""
    operation = tier_operation(ctx, tier)
    headers = {} if token is None else {"Authorization": f"Bearer {token}"}
    params = {"limit": 1} if operation.label == TIER_OPERATIONS["read"][0] else None
    body = _body(ctx, operation.label, tenant)
    if path is None:
        path = ctx.request_for(operation, tenant)[1] if "{" in operation.path else operation.path
    return TierCaller(ctx, tier, operation, headers, body, params, path)


def key_caller(ctx: CheckContext, tier: str, key: str) -> TierCaller:
    """A Zapier-surface caller for ``tier``, as the API key ``key`` (its own bucket)."""
    operation = tier_operation(ctx, tier, surface=1)
    body = _body(ctx, operation.label, "primary")
    return TierCaller(ctx, tier, operation, {"X-API-Key": key}, body)


def surfaces(tier: str) -> range:
    """The surfaces ``tier`` is probed on: 0 bearer (or the client address), 1 the API key."""
    return range(len(TIER_OPERATIONS[tier]))


def surface_caller(ctx: CheckContext, tier: str, surface: int) -> TierCaller:
    """The caller for ``tier`` on ``surface``; the API key is one the kit creates (or the configured
    ``SERGIO_API_KEY``), else the Zapier surface is skipped with the reason."""
    if surface == 0:
        return tier_caller(ctx, tier)
    try:
        _, key = ctx.api_key(KEY_SCOPES)
    except CheckSkipped as reason:
        if ctx.target.api_key is None:
            raise CheckSkipped(
                f"the bearer surface passed; the Zapier surface was not probed: {reason} "
                "(or set SERGIO_API_KEY to a key with jobs:read and jobs:write)"
            ) from None
        key = ctx.target.api_key
    return key_caller(ctx, tier, key)


@contextmanager
def spending(
    ctx: CheckContext, tier: str, tenant: str = "primary", surface: int | None = None
) -> Iterator[TierCaller]:
    """A fresh, frozen window and a caller for ``tier`` (as ``tenant``, or on ``surface``); what the
    caller needs that spends quota (an API key, a job to update) is made before the window starts,
    and what it created is removed after the window. Skips, naming it, when the contract lacks the
    tier's operation."""
    tier_operation(ctx, tier, surface or 0)
    if surface == 1:
        surface_caller(ctx, tier, surface)  # creates the key (write quota), or skips
    elif tier == "write":
        ctx.resource("job_id", tenant)
    caller: TierCaller | None = None
    try:
        with fresh_window(ctx, f"ratelimit: a fresh {tier}-tier window"):
            caller = tier_caller(ctx, tier, tenant) if surface is None else surface_caller(ctx, tier, surface)
            yield caller
    finally:
        if caller is not None:
            caller.cleanup()


def retry_after(ctx: CheckContext, response: httpx.Response, what: str) -> int:
    """The 429's Retry-After in seconds (delta-seconds or HTTP-date); fails unless valid and 1..60.

    Its presence is published, its syntax is RFC 9110's (:func:`retry_after_seconds`), its range is
    the kit's assumption (:func:`expect_retry_after_range`)."""
    seconds = retry_after_seconds(ctx, response, what)
    expect_retry_after_range(ctx, response, seconds, what)
    return seconds


def retry_after_seconds(ctx: CheckContext, response: httpx.Response, what: str) -> int:
    """The 429's Retry-After in whole seconds; fails when it is missing (documented) or is neither
    delta-seconds nor an HTTP-date (RFC 9110)."""
    value = response.headers.get("Retry-After")
    if value is None:
        ctx.fail(f"{what}: a 429 without Retry-After", response, _RETRY_AFTER, basis="documented")
    try:
        return math.ceil(parse_retry_after(value, response.headers.get("Date"), ctx.target.now()))
    except ValueError as problem:
        ctx.fail(f"{what}: Retry-After {value!r} is {problem}", response, _RETRY_AFTER, basis="standard")


def expect_retry_after_range(ctx: CheckContext, response: httpx.Response, seconds: int, what: str) -> None:
    """A Retry-After of ``seconds`` lies in 1..60 (the kit's assumption: a recommended rule)."""
    if not 1 <= seconds <= WINDOW_SECONDS:
        value = response.headers.get("Retry-After")
        ctx.fail(
            f"{what}: Retry-After {value!r} means {seconds} s, not 1..{WINDOW_SECONDS}",
            response,
            _RETRY_AFTER,
            basis="recommended",
        )


@contextmanager
def cleaned(*callers: TierCaller) -> Iterator[None]:
    """What ``callers`` created in the block is removed when the block ends."""
    try:
        yield
    finally:
        for caller in callers:
            caller.cleanup()
