"""Classify each response of a load run against the rate-limit contract.

Plain Python (no locust import), shared by every user class of ``locustfile.py``. The ledger keeps,
per (principal, tier), the times of the admissions this process saw and the requests still in
flight, so a 429 can be told apart as *throttled as contracted* (the quota was used up) or
*throttled early* (it was not), and a 2xx as *admitted* or *over quota*.

Client and server see an admission at slightly different instants; ``EDGE`` seconds of tolerance at
the window's edge keep that skew from being reported as a finding.
"""

from __future__ import annotations

import bisect
import time
from dataclasses import dataclass, field

from sergio_kit.contract.ratelimit import WINDOW_SECONDS, retry_after_or_none

EDGE = 2.0

ADMITTED = "admitted"
THROTTLED = "throttled"
THROTTLED_EARLY = "throttled early"
OVER_QUOTA = "over quota"
BAD_RETRY_AFTER = "bad Retry-After"
SERVER_ERROR = "server error"
UNEXPECTED = "unexpected status"
PASSING = (ADMITTED, THROTTLED)


@dataclass
class Ledger:
    """Admission times and in-flight counts per (principal, tier), for one load process."""

    limits: dict[str, int]
    slack: dict[str, int] = field(default_factory=dict)
    _admitted: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    _in_flight: dict[tuple[str, str], int] = field(default_factory=dict)

    def begin(self, principal: str, tier: str) -> None:
        """A request of ``tier`` for ``principal`` is about to be sent."""
        key = (principal, tier)
        self._in_flight[key] = self._in_flight.get(key, 0) + 1

    def _count(self, key: tuple[str, str], span: float, now: float) -> int:
        """Admissions of ``key`` in the last ``span`` seconds: O(log n), so fast tiers stay cheap."""
        log = self._admitted.setdefault(key, [])  # ascending: appended at monotonic times
        stale = bisect.bisect_right(log, now - WINDOW_SECONDS - EDGE)
        if stale > len(log) // 2:  # drop old entries in bulk: amortised O(1) per admission
            del log[:stale]
        return len(log) - bisect.bisect_right(log, now - span)

    def classify(
        self, principal: str, tier: str, status: int, retry_after: str | None, date: str | None = None
    ) -> tuple[str, str | None]:
        """Record one response; return its class and, for a failure class, what was wrong."""
        key = (principal, tier)
        now = time.monotonic()
        self._in_flight[key] = max(self._in_flight.get(key, 1) - 1, 0)
        limit = self.limits[tier]
        if 200 <= status < 300:
            seen = self._count(key, WINDOW_SECONDS - EDGE, now)
            self._admitted[key].append(now)
            if seen >= limit:
                return (
                    OVER_QUOTA,
                    f"{tier}: admitted after {seen} admissions in {WINDOW_SECONDS} s (limit {limit})",
                )
            return ADMITTED, None
        if status == 429:
            wait = retry_after_or_none(retry_after, date)
            if wait is None or not 1 <= wait <= WINDOW_SECONDS:
                want = f"want 1..{WINDOW_SECONDS} s"
                return BAD_RETRY_AFTER, f"{tier}: 429 with Retry-After {retry_after!r} ({want})"
            seen = self._count(key, WINDOW_SECONDS + EDGE, now) + self._in_flight.get(key, 0)
            if seen + self.slack.get(tier, 0) < limit:
                return (
                    THROTTLED_EARLY,
                    f"{tier}: 429 after only {seen} admissions in {WINDOW_SECONDS} s (limit {limit})",
                )
            return THROTTLED, None
        if status >= 500 or status == 0:
            return SERVER_ERROR, f"{tier}: status {status}"
        return UNEXPECTED, f"{tier}: status {status}"
