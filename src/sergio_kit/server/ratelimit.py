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
        if "ratelimit.concurrency" in self._faults:
            # The bug: read the count, yield to other requests, then record.
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

    def _bucket(self, principal: str, tier: str) -> deque[float]:
        if "ratelimit.isolation.keys" in self._faults:
            principal = "*"
        if "ratelimit.isolation.tiers" in self._faults:
            tier = "*"
        return self._buckets.setdefault((principal, tier), deque())

    def _expire(self, bucket: deque[float], now: float) -> None:
        """Drop the admissions that no longer count."""
        if "ratelimit.window" in self._faults:
            window_start = math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS
            while bucket and bucket[0] < window_start:
                bucket.popleft()
            return
        if self._fixed:  # the window opened by the bucket's first admission has closed: all go at once
            if bucket and bucket[0] <= now - WINDOW_SECONDS:
                bucket.clear()
            return
        while bucket and bucket[0] <= now - WINDOW_SECONDS:
            bucket.popleft()

    def _room_at(self, bucket: deque[float], now: float) -> float:
        """When the oldest admission stops counting (a fixed window: when it closes, which is 60 s
        after its first admission; the fault: at the next whole minute)."""
        if "ratelimit.window" in self._faults:
            return math.floor(now / WINDOW_SECONDS) * WINDOW_SECONDS + WINDOW_SECONDS
        return bucket[0] + WINDOW_SECONDS if bucket else now + WINDOW_SECONDS

    def reset(self) -> None:
        """Forget every bucket."""
        self._buckets.clear()


def rate_limit_headers(decision: Decision, variants: Variants) -> dict[str, str]:
    """The rate-limit fields of a tiered response: the structured ``RateLimit-Policy`` and
    ``RateLimit`` of the later IETF drafts, or (``legacy-ratelimit-headers``) draft 03's separate
    ``RateLimit-Limit`` / ``-Remaining`` / ``-Reset`` and ``X-RateLimit-*``, or
    (``no-ratelimit-headers``) none."""
    if "no-ratelimit-headers" in variants:
        return {}
    if "legacy-ratelimit-headers" in variants:
        legacy = {"Limit": decision.limit, "Remaining": decision.remaining, "Reset": decision.reset_seconds}
        return {
            f"{prefix}RateLimit-{name}": str(value) for prefix in ("", "X-") for name, value in legacy.items()
        }
    return {
        "RateLimit-Policy": f'"{decision.tier}";q={decision.limit};w={WINDOW_SECONDS}',
        "RateLimit": f'"{decision.tier}";r={decision.remaining};t={decision.reset_seconds}',
    }
