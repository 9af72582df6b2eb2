"""``ratelimit.window``: no 60-s span admits more than the quota, whatever second a fixed window would
open at (the minute's :00, the bucket's first request, any other second).

One offset probe, as one principal of a tier with quota N:

1. at s, one request;
2. at s + 3 s, N - 1 more (all admitted: the window holds N);
3. 61 s after the first (the first has left a rolling window, the N - 1 have not), requests until the
   first 429. A rolling window has room for exactly what left it: Q - (N - 1) with the quota Q the
   tier really keeps (1 when Q = N). More is a window that opened in between: a fixed one.

A fixed window opens once a minute, at some second B of it. The probe catches every B but those in
(s + 1 s, s + 3 s], or up to when the N - 1 really began (then they and the late requests share one
fixed window, as in a rolling one). So two probes run, the second :data:`SECOND_PROBE_AFTER` seconds
after the first, as two principals, one after the other in one thread: the seconds one of them misses
the other catches. On a target with a test clock the
probes take no real time; against a live target they take about 64 s, inside the live plan's window.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import httpx

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.ratelimit.calls import ADMITTED_TEXT, TierCaller, is_admitted, pause
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.reports.findings import CheckSkipped

#: When the N - 1 requests go, after the first one (s); a fixed window opening in (s + 1, s + this]
#: looks like a rolling one to this probe.
SPEND_AFTER = 3.0
#: When the second probe starts after the first: past the first's blind seconds, with room to spare.
SECOND_PROBE_AFTER = 2.5
#: When the late requests go, after the first request was answered: 1 s past a rolling window's end.
LATE_AFTER = WINDOW_SECONDS + 1.0
#: The late requests must go this long before the N - 1 leave a rolling window, or they prove nothing.
MARGIN = 1.0
#: What the skip of a probe that could not keep its schedule says (a busy machine, a slow target).
TOO_SLOW = "the window probe needs a faster path to the target"


class Timeline:
    """The probes' time: the target's test clock (frozen, moved by the probes), or this machine's."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx

    def now(self) -> float:
        """Seconds on the probes' time line."""
        clock = self.ctx.target.clock
        return clock.now() if clock is not None else time.monotonic()

    def wait_until(self, moment: float) -> None:
        """Let time pass until ``moment`` (at once when it has passed)."""
        pause(self.ctx, moment - self.now())


@dataclass
class OffsetProbe:
    """One principal's offset probe, step by step (:meth:`start`, :meth:`spend`, :meth:`test`)."""

    caller: TierCaller
    quota: int  # N, the tier's quota as configured
    started: float = 0.0  # when the first request went
    first_done: float = 0.0  # when its answer came
    spent_from: float = 0.0  # when the N - 1 began
    spent: list[httpx.Response] = field(default_factory=list)  # the N - 1 (admitted)
    late: list[httpx.Response] = field(default_factory=list)  # the late requests admitted
    tested_at: float = 0.0

    def start(self, timeline: Timeline) -> None:
        """Step 1: one request, which must be admitted."""
        self.started = timeline.now()
        self._admitted(self.caller.call(), "the first request of a fresh window")
        self.first_done = timeline.now()

    def spend(self, timeline: Timeline) -> None:
        """Step 2, :data:`SPEND_AFTER` seconds after the first: N - 1 requests, each admitted."""
        timeline.wait_until(self.started + SPEND_AFTER)
        self.spent_from = timeline.now()
        for index in range(2, self.quota + 1):
            self.spent.append(self._admitted(self.caller.call(), f"request {index} of {self.quota}"))

    def test(self, timeline: Timeline) -> None:
        """Step 3, :data:`LATE_AFTER` seconds after the first was answered: requests until the first
        429; skips when the schedule slipped so far that the N - 1 may have left a rolling window."""
        timeline.wait_until(self.first_done + LATE_AFTER)
        self.tested_at = timeline.now()
        if self.tested_at > self.spent_from + WINDOW_SECONDS - MARGIN:
            raise CheckSkipped(
                f"{TOO_SLOW}: {self.caller.label}'s late requests went "
                f"{self.tested_at - self.spent_from:.1f} s after the window's other {self.quota - 1}, not "
                f"under {WINDOW_SECONDS - MARGIN:.0f} s"
            )
        for _ in range(2 * self.quota + 3):
            response = self.caller.call()
            if not is_admitted(response):
                self.caller.ctx.expect(
                    response,
                    {429},
                    f"{self.caller.label}: a request {LATE_AFTER:.0f} s after the first of its window",
                    f"{ADMITTED_TEXT} or 429",
                    basis="documented",
                )
                return
            self.late.append(response)

    def judge(self, kept: int) -> None:
        """Fail when more late requests were admitted than a rolling window of ``kept`` (the quota the
        tier really keeps) has room for: ``kept`` less the N - 1, still in the window."""
        room = max(kept - len(self.spent), 0)
        if len(self.late) <= room:
            return
        span = self.tested_at - self.spent_from
        self.caller.ctx.fail(
            f"{self.caller.label}: 1 request, {len(self.spent)} more {SPEND_AFTER:.0f} s later, then "
            f"{len(self.late)} admitted {LATE_AFTER:.0f} s after the first: a {span:.0f}-s span admitted "
            f"{len(self.spent) + len(self.late)}, quota {kept} (a window opened in between)",
            self.late[room],
            f"{room} admitted (the first request's place), then 429: at most {kept} in any "
            f"{WINDOW_SECONDS} s, whatever second a window would open at",
        )

    def _admitted(self, response: httpx.Response, what: str) -> httpx.Response:
        if not is_admitted(response):
            raise CheckSkipped(
                f"{self.caller.label}: {what} of one window was refused ({response.status_code}) before "
                f"the window held {self.quota}: the tier's boundary check judges that; the window's edge "
                "was not probed"
            )
        return response


def probe_window(ctx: CheckContext, callers: tuple[TierCaller, TierCaller]) -> tuple[OffsetProbe, ...]:
    """Run the two offset probes (``callers``: two principals of one tier, each at a fresh window),
    the second :data:`SECOND_PROBE_AFTER` seconds after the first; returns them when both kept their
    schedule (skips otherwise, naming what slipped)."""
    timeline = Timeline(ctx)
    quota = ctx.target.tier_limits[callers[0].tier]
    first, second = (OffsetProbe(caller, quota) for caller in callers)
    first.start(timeline)
    timeline.wait_until(first.started + SECOND_PROBE_AFTER)
    second.start(timeline)
    first.spend(timeline)
    second.spend(timeline)
    first.test(timeline)
    second.test(timeline)
    return first, second


def judge_window(probes: tuple[OffsetProbe, ...], kept: int | None = None) -> str:
    """Judge each probe against a rolling window of ``kept`` (default: the configured quota); the
    detail of a pass."""
    for probe in probes:
        probe.judge(kept if kept is not None else probe.quota)
    first = probes[0]
    return (
        f"{len(probes)} offset probes ({first.caller.label}, {SECOND_PROBE_AFTER} s apart): "
        f"{LATE_AFTER:.0f} s after a window's first request, each admitted only that request's place"
    )
