"""Classify each response of a load run against the rate-limit contract.

Plain Python (no locust import), shared by every user class of ``locustfile.py``. The ledger keeps,
per (principal, tier), the times of the admissions this process saw and the requests still in
flight, so a 429 can be told apart as *throttled as contracted* (the quota was used up) or
*throttled early* (it was not), and a 2xx as *admitted* or *over quota*.

Each class that breaks a rule has the rule's basis (:data:`BASIS`). The docs publish "N requests per
minute", not which minute: a fixed per-minute window, at any alignment, is as correct as the kit's
rolling one, and lets a rolling 60-s span hold up to 2N admissions (N at the end of one window, N at
the start of the next). So an admission after N in the trailing 60 s breaks only the recommended
rolling-window rule (*over rolling quota*, a warning); one after 2N breaks every per-minute window
(*over quota*, a failure). Likewise a Retry-After outside 1..60 s breaks the kit's assumption, not
the docs (a warning, as the check command's ``ratelimit.<tier>.retry_after`` judges it); a missing or
unreadable one breaks the docs and RFC 9110 (a failure). A warning class counts as what it also is:
an admission or a throttle (:data:`WARNINGS`).

Client and server see an admission at slightly different instants; ``EDGE`` seconds of tolerance at
the window's edge keep that skew from being reported as a finding.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from sergio_kit.contract.ratelimit import WINDOW_SECONDS, retry_after_or_none

EDGE = 2.0

ADMITTED = "admitted"
THROTTLED = "throttled"
THROTTLED_EARLY = "throttled early"
OVER_ROLLING_QUOTA = "over rolling quota"
OVER_QUOTA = "over quota"
RETRY_AFTER_OUT_OF_RANGE = "Retry-After out of range"
BAD_RETRY_AFTER = "bad Retry-After"
SERVER_ERROR = "server error"
UNEXPECTED = "unexpected status"
PASSING = (ADMITTED, THROTTLED)
#: The warning classes, each with the passing class it also counts as.
WARNINGS = {OVER_ROLLING_QUOTA: ADMITTED, RETRY_AFTER_OUT_OF_RANGE: THROTTLED}
#: The basis of the rule each non-passing class breaks: ``recommended`` warns, the others fail.
BASIS = {
    OVER_ROLLING_QUOTA: "recommended",  # a rolling window: the kit's assumption
    RETRY_AFTER_OUT_OF_RANGE: "recommended",  # 1..60 s: the kit's assumption
    OVER_QUOTA: "documented",  # N per minute, whichever the minute
    THROTTLED_EARLY: "documented",
    BAD_RETRY_AFTER: "documented",  # "429 with Retry-After", in RFC 9110's syntax
    SERVER_ERROR: "documented",
    UNEXPECTED: "documented",
}


@dataclass
class Ledger:
    """Admission times and in-flight counts per (principal, tier), for one load process."""

    limits: dict[str, int]
    slack: dict[str, int] = field(default_factory=dict)
    clock: Callable[[], float] = time.monotonic
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
        """Record one response; return its class and, for a failure class, what was wrong (``None``
        for a passing or a warning class: Locust counts those as successes)."""
        key = (principal, tier)
        now = self.clock()
        self._in_flight[key] = max(self._in_flight.get(key, 1) - 1, 0)
        limit = self.limits[tier]
        if 200 <= status < 300:
            seen = self._count(key, WINDOW_SECONDS - EDGE, now)
            self._admitted[key].append(now)
            if seen >= 2 * limit:
                return (
                    OVER_QUOTA,
                    f"{tier}: admitted after {seen} admissions in {WINDOW_SECONDS} s (limit {limit}; "
                    f"no per-minute window, whatever its alignment, allows more than {2 * limit})",
                )
            return (OVER_ROLLING_QUOTA if seen >= limit else ADMITTED), None
        if status == 429:
            wait = retry_after_or_none(retry_after, date)
            if wait is None:
                return (
                    BAD_RETRY_AFTER,
                    f"{tier}: 429 with Retry-After {retry_after!r} (want delay-seconds or an HTTP-date)",
                )
            seen = self._count(key, WINDOW_SECONDS + EDGE, now) + self._in_flight.get(key, 0)
            if seen + self.slack.get(tier, 0) < limit:
                return (
                    THROTTLED_EARLY,
                    f"{tier}: 429 after only {seen} admissions in {WINDOW_SECONDS} s (limit {limit})",
                )
            return (THROTTLED if 1 <= math.ceil(wait) <= WINDOW_SECONDS else RETRY_AFTER_OUT_OF_RANGE), None
        if status >= 500 or status == 0:
            return SERVER_ERROR, f"{tier}: status {status}"
        return UNEXPECTED, f"{tier}: status {status}"
