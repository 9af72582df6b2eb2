"""Exact per-(principal, tier) rate limiting over a rolling 60-second window, and the rate-limit
header fields of a response.

Each bucket is a log of admission times. A request is admitted when fewer than ``limit``
admissions happened in the last 60 seconds, so no 60-second span ever admits more than the limit.
Deciding and recording happen in one synchronous step on the event loop: concurrent requests cannot
overshoot. ``Retry-After`` is the whole number of seconds (rounded up, at least 1) until the oldest
admission leaves the window, which is exactly when the next request will be admitted.

With the ``fixed-window`` variant a bucket's window is fixed instead: it opens at the bucket's first
request (at whatever second that falls) and, 60 s later, closes with every admission in it, as an
``INCR`` + ``EXPIRE 60`` counter does; the next request opens the next window. ``Retry-After`` is
then the time until the window closes. The header variants choose which fields carry the quota
(:func:`rate_limit_headers`).

Faults: ``ratelimit.window`` (and ``@offset``) align fixed windows to a second of the clock's minute
(:00, :17), ``@first-request`` opens them at a bucket's first request; ``ratelimit.concurrency`` (every
tier, or ``@<tier>``) decides across an await; ``ratelimit.isolation.tiers@<a>-<b>`` charges tier b
for each admission of tier a.
"""

from __future__ import annotations

import asyncio
import math
from collections import deque
from dataclasses import dataclass

from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.server.clock import Clock
from sergio_kit.server.faults import Faults
from sergio_kit.server.variants import Variants

#: ``ratelimit.window@offset``: the second of every minute at which its fixed windows open.
OFFSET_SECOND = 17


@dataclass(frozen=True)
class Decision:
    """The outcome of one admission decision, with what the response headers need."""

    admitted: bool
    tier: str
    limit: int
    remaining: int
    reset_seconds: int
    retry_after: int | None


class RateLimiter:
    """Rolling-window buckets keyed by principal and tier (fixed windows with ``fixed-window``)."""

    def __init__(
        self, limits: dict[str, int], clock: Clock, faults: Faults, variants: Variants | None = None
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._faults = faults
        self._fixed = "fixed-window" in (variants or Variants())
        self._buckets: dict[tuple[str, str], deque[float]] = {}

    async def acquire(self, principal: str, tier: str) -> Decision:
        """Decide whether ``principal`` may make one more ``tier`` request now, and record it."""
        if "ratelimit.concurrency" in self._faults or f"ratelimit.concurrency@{tier}" in self._faults:
            # The bug (every tier, or one tier's own code path): read the count, yield, then record.
            peek = self._decide(principal, tier, record=False)
            await asyncio.sleep(0.02)
            if peek.admitted:
                return self._decide(principal, tier, record=True, force=True)
            return peek
        return self._decide(principal, tier, record=True)

    def _decide(self, principal: str, tier: str, *, record: bool, force: bool = False) -> Decision:
        limit = self._limits[tier]
        over = f"ratelimit.{tier}.boundary" in self._faults or (
            principal.startswith("key:") and f"ratelimit.{tier}.boundary@apikey" in self._faults
        )
        effective_limit = limit + 1 if over else limit
        now = self._clock.now()
        bucket = self._bucket(principal, tier)
        self._expire(bucket, now)
        admitted = force or len(bucket) < effective_limit
        if admitted and record:
            bucket.append(now)
            for debited in self._debited_with(tier):  # the crosstalk faults: another tier pays too
                charged = self._bucket(principal, debited)
                self._expire(charged, now)  # in that tier's current window (a fixed one may have closed)
                charged.append(now)
        remaining = max(effective_limit - len(bucket), 0)
        if f"ratelimit.{tier}.headers" in self._faults:
            remaining = limit
        until_room = max(math.ceil(self._room_at(bucket, now) - now), 1)
        retry_after = None
        if not admitted:
            retry_after = 1 if f"ratelimit.{tier}.retry_after_honest" in self._faults else until_room
        return Decision(
            admitted=admitted,
            tier=tier,
            limit=limit,
            remaining=min(remaining, limit),
            reset_seconds=until_room if bucket else WINDOW_SECONDS,
            retry_after=retry_after,
        )

    def _debited_with(self, tier: str) -> list[str]:
        """The tiers an admission of ``tier`` is also charged to (``ratelimit.isolation.tiers@<a>-<b>``)."""
        prefix = f"ratelimit.isolation.tiers@{tier}-"
        return [fault.removeprefix(prefix) for fault in self._faults.enabled if fault.startswith(prefix)]

    def _bucket(self, principal: str, tier: str) -> deque[float]:
        if "ratelimit.isolation.keys" in self._faults:
            principal = "*"
        if "ratelimit.isolation.tiers" in self._faults:
            tier = "*"
        return self._buckets.setdefault((principal, tier), deque())

    def _expire(self, bucket: deque[float], now: float) -> None:
        """Drop the admissions that no longer count."""
        if (aligned := self._aligned_at()) is not None:  # the faults: windows aligned to a clock second
            window_start = self._window_start(now, aligned)
            while bucket and bucket[0] < window_start:
                bucket.popleft()
            return
        if self._fixed or "ratelimit.window@first-request" in self._faults:
            # the window opened by the bucket's first admission has closed: all go at once
            if bucket and bucket[0] <= now - WINDOW_SECONDS:
                bucket.clear()
            return
        while bucket and bucket[0] <= now - WINDOW_SECONDS:
            bucket.popleft()

    def _room_at(self, bucket: deque[float], now: float) -> float:
        """When the oldest admission stops counting (a fixed window: when it closes, which is 60 s
        after its first admission; the fault: at the next whole minute)."""
        if (aligned := self._aligned_at()) is not None:
            return self._window_start(now, aligned) + WINDOW_SECONDS
        return bucket[0] + WINDOW_SECONDS if bucket else now + WINDOW_SECONDS

    def _aligned_at(self) -> int | None:
        """The second of the minute fixed windows open at under the window faults (``ratelimit.window``:
        :00; ``@offset``: :17), or ``None``."""
        if "ratelimit.window" in self._faults:
            return 0
        return OFFSET_SECOND if "ratelimit.window@offset" in self._faults else None

    @staticmethod
    def _window_start(now: float, second: int) -> float:
        """When the fixed window holding ``now`` opened, windows opening at ``second`` of each minute."""
        return math.floor((now - second) / WINDOW_SECONDS) * WINDOW_SECONDS + second

    def reset(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()


def rate_limit_headers(
    decision: Decision, variants: Variants, faults: Faults | None = None
) -> dict[str, str]:
    """The rate-limit fields of a tiered response: the structured ``RateLimit-Policy`` and
    ``RateLimit`` of the later IETF drafts (only ``RateLimit-Policy`` with ``ratelimit-policy-only``),
    or (``legacy-ratelimit-headers``) draft 03's separate ``RateLimit-Limit`` / ``-Remaining`` /
    ``-Reset`` and ``X-RateLimit-*``, or (``no-ratelimit-headers``) none.

    The partial-header faults send only some fields, in whichever form, and get them wrong:
    ``ratelimit.<tier>.headers@quota-only`` only the quota's (twice the quota),
    ``@remaining-only`` only those of what remains (stuck at the limit)."""
    if "no-ratelimit-headers" in variants:
        return {}
    tier, limit, remaining = decision.tier, decision.limit, decision.remaining
    sent = {"quota", "remaining"}
    if "ratelimit-policy-only" in variants and "legacy-ratelimit-headers" not in variants:
        sent = {"quota"}
    if f"ratelimit.{tier}.headers@quota-only" in (faults or ()):
        sent, limit = {"quota"}, 2 * limit
    if f"ratelimit.{tier}.headers@remaining-only" in (faults or ()):
        sent, remaining = {"remaining"}, limit
    if "legacy-ratelimit-headers" in variants:
        legacy = {"Limit": limit, "Remaining": remaining, "Reset": decision.reset_seconds}
        if "quota" not in sent:
            del legacy["Limit"]
        if "remaining" not in sent:
            del legacy["Remaining"], legacy["Reset"]
        return {
            f"{prefix}RateLimit-{name}": str(value) for prefix in ("", "X-") for name, value in legacy.items()
        }
    fields = {}
    if "quota" in sent:
        fields["RateLimit-Policy"] = f'"{tier}";q={limit};w={WINDOW_SECONDS}'
    if "remaining" in sent:
        fields["RateLimit"] = f'"{tier}";r={remaining};t={decision.reset_seconds}'
    return fields
