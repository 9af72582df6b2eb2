"""``ratelimit.window``'s offset probes against simulated limiters: a fixed window opening at any
second of the minute is caught (a warning), whichever second the probes start at; a rolling window
passes, also one that keeps a quota larger than the configured one.

Each target is an ``httpx.MockTransport`` deciding by a simulated clock the probes move (as they move
a test clock), so every phase of the minute is tried in a moment; the proofs against the reference
server's faults (``ratelimit.window``, ``@first-request``, ``@offset``) are in ``test_check_proofs.py``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.ratelimit.calls import TierCaller
from sergio_kit.checks.ratelimit.window import SECOND_PROBE_AFTER, judge_window, probe_window
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.target.target import Account, Target

BASE_URL = "https://sergio.test"
QUOTA = 6
TRIGGER = "GET /zapier/v1/triggers/new-job"
#: decides whether a request of ``key`` at time ``now`` is admitted (and counts it if so)
Limiter = Callable[[str, float], bool]


class SimulatedClock:
    """A test clock that stands still until the probes move it."""

    def __init__(self, start: float) -> None:
        self.time = start

    def now(self) -> float:
        """The simulated time."""
        return self.time

    estimated_now = now

    def advance(self, seconds: float) -> float:
        """Move on by ``seconds``."""
        self.time += seconds
        return self.time


def fixed_windows(phase: float, quota: int = QUOTA) -> Limiter:
    """Fixed 60-s windows per key, opening at ``phase`` seconds past each minute."""
    counts: dict[tuple[str, int], int] = {}

    def admit(key: str, now: float) -> bool:
        window = (key, math.floor((now - phase) / WINDOW_SECONDS))
        if counts.get(window, 0) >= quota:
            return False
        counts[window] = counts.get(window, 0) + 1
        return True

    return admit


def rolling_window(quota: int = QUOTA) -> Limiter:
    """An exact rolling 60-s window per key."""
    log: dict[str, list[float]] = {}

    def admit(key: str, now: float) -> bool:
        kept = [moment for moment in log.get(key, []) if moment > now - WINDOW_SECONDS]
        log[key] = kept
        if len(kept) >= quota:
            return False
        kept.append(now)
        return True

    return admit


@pytest.fixture
def simulated() -> Iterator[Callable[[Limiter, float], CheckContext]]:
    """Sets up the simulated target: ``limiter`` decides, the clock starts at ``start``; one context
    for the test (made once: a context's TLS set-up is the slow part)."""
    clock = SimulatedClock(0.0)
    deciding: list[Limiter] = []
    target = Target(BASE_URL, Account("qa@sergio.test", "not-a-real-password"))
    target.clock = clock  # type: ignore[assignment]  # the probes need now() and advance() only
    target.tier_limits = {**target.tier_limits, "read": QUOTA}
    context = CheckContext(target)

    def answer(request: httpx.Request) -> httpx.Response:
        if deciding[-1](request.headers["X-API-Key"], clock.now()):
            return httpx.Response(200, json=[])
        return httpx.Response(429, headers={"Retry-After": "1"}, json={"error": {"code": "rate_limited"}})

    context.client.close()
    context.client = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(answer))

    def make(limiter: Limiter, start: float) -> CheckContext:
        deciding.append(limiter)
        clock.time = start
        return context

    yield make
    context.client.close()


def _callers(context: CheckContext) -> tuple[TierCaller, TierCaller]:
    operation = context.require(TRIGGER)
    return (
        TierCaller(context, "read", operation, {"X-API-Key": "key-1"}, None),
        TierCaller(context, "read", operation, {"X-API-Key": "key-2"}, None),
    )


def _judged(context: CheckContext, kept: int | None = None) -> Any:
    return judge_window(probe_window(context, _callers(context)), kept)


#: Where in the minute the probes start, and the seconds fixed windows open at (every half second).
STARTS = (0.0, 2.5, 17.25, 59.5)
PHASES = tuple(half / 2 for half in range(2 * WINDOW_SECONDS))  # every half second


def test_a_fixed_window_at_any_second_is_caught(simulated: Callable[[Limiter, float], CheckContext]) -> None:
    """Whatever second the fixed windows open at, and wherever in the minute the probes start, one
    of the two probes sees more admitted than a rolling window allows."""
    missed = []
    for start in STARTS:
        for phase in PHASES:
            try:
                _judged(simulated(fixed_windows(phase), 1_000_020.0 + start))
            except CheckFailed as failure:
                assert re.search(r"a \d+-s span admitted \d+, quota 6", failure.finding.message)
            else:
                missed.append((start, phase))
    assert not missed, f"(start, window phase) pairs the probes missed: {missed}"


def test_a_window_opened_by_the_first_request_is_caught(
    simulated: Callable[[Limiter, float], CheckContext],
) -> None:
    """A fixed window that opens at a key's first request (here: the probes' own first) is caught."""
    opened: dict[str, float] = {}
    counts: dict[str, int] = {}

    def first_request_windows(key: str, now: float) -> bool:
        if key not in opened or now >= opened[key] + WINDOW_SECONDS:
            opened[key], counts[key] = now, 0
        if counts[key] >= QUOTA:
            return False
        counts[key] += 1
        return True

    with pytest.raises(CheckFailed, match="span admitted"):
        _judged(simulated(first_request_windows, 1_000_007.0))


@pytest.mark.parametrize("start", [0.0, 1.5, 30.0, 59.0])
def test_a_rolling_window_passes(simulated: Callable[[Limiter, float], CheckContext], start: float) -> None:
    """A rolling window admits only the first request's place again: a pass, saying what was probed."""
    detail = _judged(simulated(rolling_window(), 1_000_000.0 + start))
    assert f"{SECOND_PROBE_AFTER} s apart" in detail


def test_a_rolling_window_of_a_larger_quota_passes_against_the_quota_it_keeps(
    simulated: Callable[[Limiter, float], CheckContext],
) -> None:
    """A target that keeps one more than configured (its boundary check fails for that) gives the late
    requests a second place: judged against the quota it keeps, the window passes."""
    context = simulated(rolling_window(QUOTA + 1), 1_000_000.0)
    assert _judged(context, kept=QUOTA + 1)
    context = simulated(rolling_window(QUOTA + 1), 1_000_000.0)
    with pytest.raises(CheckFailed, match="span admitted"):
        _judged(context)  # against the configured quota, the extra place looks like a new window


def test_a_short_quota_skips_naming_the_boundary(simulated: Callable[[Limiter, float], CheckContext]) -> None:
    """A tier that refuses before the window holds N cannot show its edge: a skip, not a pass."""
    with pytest.raises(CheckSkipped, match="boundary check judges that"):
        _judged(simulated(rolling_window(QUOTA - 1), 1_000_000.0))
