"""Handle 429s the kit provokes itself, and count them per operation.

Schemathesis accepts documented 429s silently, so a fuzzing run against a rate-limited target can
end up testing nothing but the 429 path. Every request the contract suite sends goes through
:class:`Throttle`: a 429 is counted for its operation, then the kit waits (on the embedded server it
advances the test clock by Retry-After; on a live target it sleeps Retry-After) and retries, so the
case is still tested. The counts feed the ``contract.coverage`` check.
"""

from __future__ import annotations

import math
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping
from typing import TypeVar

from sergio_kit.contract.ratelimit import WINDOW_SECONDS, retry_after_or_none
from sergio_kit.target.clock import TestClock

R = TypeVar("R")
MAX_RETRIES = 3


class Throttle:
    """Retry-on-429 with honest waiting, and per-operation throttled/attempted counts."""

    def __init__(self, clock: TestClock | None, *, announce: Callable[[str], None] | None = None) -> None:
        self._clock = clock
        self._announce = announce or (lambda message: print(message, file=sys.stderr))
        self.sent: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.unresolved: Counter[str] = Counter()

    def send(
        self,
        operation: str,
        request: Callable[[], R],
        status_and_headers: Callable[[R], tuple[int, Mapping[str, str]]],
    ) -> R:
        """Send ``request``; on 429 wait Retry-After and send again (up to 3 times)."""
        response = request()
        self.sent[operation] += 1
        status, headers = status_and_headers(response)
        if status == 429:
            self.throttled[operation] += 1
        for _ in range(MAX_RETRIES):
            if status != 429:
                break
            self.wait(retry_after_seconds(headers), operation)
            response = request()
            status, headers = status_and_headers(response)
        if status == 429:
            self.unresolved[operation] += 1
        return response

    def wait(self, seconds: int, reason: str) -> None:
        """Wait ``seconds``: move the test clock, or sleep (and say so) on a live target."""
        if self._clock is not None:
            self._clock.advance(seconds)
            return
        self._announce(f"sergio-kit: {reason} was rate limited; waiting Retry-After {seconds} s")
        time.sleep(seconds)

    def untested_share(self, operation: str) -> float:
        """The fraction of ``operation``'s cases still answered 429 after waiting: never tested."""
        sent = self.sent[operation]
        return self.unresolved[operation] / sent if sent else 0.0


def retry_after_seconds(headers: Mapping[str, str]) -> int:
    """Retry-After (delay-seconds or HTTP-date) as whole seconds in 1..60; a missing or malformed
    value counts as the full window, a date already past as 1 s."""
    field = {name.lower(): value for name, value in headers.items()}
    seconds = retry_after_or_none(field.get("retry-after"), field.get("date"))
    if seconds is None:
        return WINDOW_SECONDS
    return min(max(math.ceil(seconds), 1), WINDOW_SECONDS)
