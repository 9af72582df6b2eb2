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
import contextlib
import email.utils
import time
from dataclasses import dataclass, field

WINDOW_SECONDS = 60.0
EDGE = 2.0

ADMITTED = "admitted"
THROTTLED = "throttled"
THROTTLED_EARLY = "throttled early"
OVER_QUOTA = "over quota"
BAD_RETRY_AFTER = "bad Retry-After"
SERVER_ERROR = "server error"
UNEXPECTED = "unexpected status"
PASSING = (ADMITTED, THROTTLED)


def parse_retry_after(value: str | None, date_header: str | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value (delay-seconds or HTTP-date), or ``None``."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = time.time()
    if date_header:
        with contextlib.suppress(TypeError, ValueError):
            now = email.utils.parsedate_to_datetime(date_header).timestamp()
    return when.timestamp() - now


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
                return OVER_QUOTA, f"{tier}: admitted after {seen} admissions in 60 s (limit {limit})"
            return ADMITTED, None
        if status == 429:
            wait = parse_retry_after(retry_after, date)
            if wait is None or not 1 <= wait <= WINDOW_SECONDS:
                return BAD_RETRY_AFTER, f"{tier}: 429 with Retry-After {retry_after!r} (want 1..60 s)"
            seen = self._count(key, WINDOW_SECONDS + EDGE, now) + self._in_flight.get(key, 0)
            if seen + self.slack.get(tier, 0) < limit:
                return THROTTLED_EARLY, f"{tier}: 429 after only {seen} admissions in 60 s (limit {limit})"
            return THROTTLED, None
        if status >= 500 or status == 0:
            return SERVER_ERROR, f"{tier}: status {status}"
        return UNEXPECTED, f"{tier}: status {status}"
