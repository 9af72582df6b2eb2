"""The capacity profile's step load: the users of each step, each step's verdict, and the knee.

Offered load goes up in steps of users of the realistic mix, each :data:`STEP_FACTOR` times the last
(at least one more), from ``--start-users`` to ``--users``; each step is held ``--step-duration``
seconds and measured over its steady part (from :func:`settle_seconds` after it starts). After each
step the Locust master judges it (:func:`judge_step`) and stops the load at the first step that

- breaks a threshold on a latency or the error rate (a throughput threshold never stops it),
- has errors, when no ``error_rate`` threshold says how many are too many, or
- is the second in a row that does not keep up: its admitted throughput grew by less than
  :data:`KEEP_UP` of the users' growth over the step before (a closed loop of users that the service
  keeps up with grows in proportion). One such step alone may be a noisy measurement (another process
  taking the cores for a while), so the next step confirms it.

The knee (:func:`knee`) is the highest step that kept up and met every threshold (throughput ones
too): the summary says "sustains N req/s ... with U users" of it. Plain Python: the Locust master and
the kit judge steps with the same functions.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sergio_kit.config import Threshold
from sergio_kit.load.figures import complete_steps
from sergio_kit.load.thresholds import ThresholdResult, breaches, evaluate, judges_errors

STEP_FACTOR = 1.5
KEEP_UP = 0.25
DEFAULT_START_USERS = 1
DEFAULT_TOP_USERS = 256
DEFAULT_STEP_SECONDS = 10.0
MIX = "the realistic mix"


def step_users(start: int, top: int, factor: float = STEP_FACTOR) -> list[int]:
    """The users of each step: ``start``, then ``factor`` times the last (at least one more), to ``top``."""
    users = [max(start, 1)]
    while users[-1] < top:
        users.append(min(top, max(users[-1] + 1, math.ceil(users[-1] * factor))))
    return users


def settle_seconds(step_seconds: float) -> float:
    """How long a step runs before it is measured: a quarter of it, at most 5 s."""
    return min(5.0, step_seconds / 4)


def run_length(start: int, top: int, step_seconds: float) -> float:
    """Seconds the whole step load takes when no step stops it."""
    return len(step_users(start, top)) * step_seconds


@dataclass(frozen=True)
class StepVerdict:
    """One step judged: its threshold results, its errors, and its throughput growth against what the
    users' growth asked for (``None`` for the first step)."""

    results: tuple[ThresholdResult, ...]
    errors: int
    errors_count: bool  # no error_rate threshold: any error fails the step
    growth: float | None = None
    needed: float | None = None
    stops_on: tuple[ThresholdResult, ...] = field(default=())
    lagging: bool = False  # the step before did not keep up either

    @property
    def kept_up(self) -> bool:
        """Whether throughput grew with the offered load (the first step always did)."""
        return self.growth is None or self.needed is None or self.growth >= self.needed

    @property
    def met(self) -> bool:
        """Whether every threshold held and, without an error-rate threshold, nothing failed."""
        return all(result.passed for result in self.results) and not (self.errors_count and self.errors)

    @property
    def stops(self) -> bool:
        """Whether the step load ends here."""
        return (
            bool(self.stops_on)
            or (self.errors_count and self.errors > 0)
            or (self.lagging and not self.kept_up)
        )

    def reason(self) -> str:
        """What is wrong with this step: why the step load ends here, or a first step that did not keep
        up (``""``: nothing)."""
        if self.stops_on:
            return "threshold broken: " + "; ".join(
                f"{result.threshold.text} measured {result.shown_measured}" for result in self.stops_on
            )
        if self.errors_count and self.errors:
            return f"{self.errors} request(s) failed"
        if not self.kept_up and self.growth is not None and self.needed is not None:
            users = self.needed / KEEP_UP
            again = ", the second step in a row" if self.lagging else ""
            return (
                f"throughput stopped growing with the load: {self.growth:+.1%} for {users:+.0%} users "
                f"(keeping up is {self.needed:+.1%} or more){again}"
            )
        return ""


def judge_step(
    span: Mapping[str, Any],
    thresholds: Sequence[Threshold],
    previous: tuple[int, Mapping[str, Any]] | None,
    users: int,
    *,
    lagging: bool = False,
) -> StepVerdict:
    """Judge a step of ``users`` users measured as ``span``; ``previous`` is the step before's users and
    span (``None`` for the first); ``lagging``: that step did not keep up."""
    results = tuple(evaluate(thresholds, span))
    total = span.get("total") or {}
    growth = needed = None
    if previous is not None:
        before_users, before = previous
        before_rps = float((before.get("total") or {}).get("admitted_rps") or 0.0)
        now_rps = float(total.get("admitted_rps") or 0.0)
        if before_rps > 0 and before_users > 0:
            growth = now_rps / before_rps - 1
            needed = KEEP_UP * (users / before_users - 1)
    return StepVerdict(
        results,
        int(total.get("failed") or 0),
        not judges_errors(thresholds),
        growth,
        needed,
        tuple(result for result in breaches(results, stopping_only=True) if result.measured is not None),
        lagging,
    )


@dataclass(frozen=True)
class Knee:
    """The highest step that kept up and met every threshold, and why the step load stopped."""

    step: Mapping[str, Any] | None
    stopped: str
    verdicts: tuple[StepVerdict, ...]

    @property
    def capped(self) -> bool:
        """Whether the step load ran out of steps (``--users``, ``--duration``) before anything stopped it:
        the service may take more than the knee says."""
        return not any(verdict.stops for verdict in self.verdicts)

    def statement(self) -> str:
        """``sustains 410 req/s of the realistic mix at p95 182 ms with 64 users``, or why there is none;
        a knee that is only the last step says so."""
        if self.step is None:
            return "no step kept up and met every threshold"
        total = self.step["figures"]["total"]
        p95 = total.get("p95")
        shown_p95 = f" at p95 {p95:.0f} ms" if p95 is not None else ""
        least = "at least " if self.capped else ""
        text = (
            f"sustains {least}{float(total.get('admitted_rps') or 0):.0f} req/s of {MIX}{shown_p95} with "
            f"{self.step['users']} users"
        )
        if self.capped:
            text += " (the steps ran out before the service stopped keeping up: raise --users or --duration)"
        return text

    def as_dict(self) -> dict[str, Any]:
        """The knee as ``summary.json`` and a baseline file hold it."""
        total = self.step["figures"]["total"] if self.step is not None else {}
        return {
            "statement": self.statement(),
            "step": self.step["index"] if self.step is not None else None,
            "users": self.step["users"] if self.step is not None else None,
            "rps": total.get("admitted_rps"),
            "p95": total.get("p95"),
            "p99": total.get("p99"),
            "stopped": self.stopped,
            "capped": self.capped,
            "steps": [
                {"met": verdict.met, "kept_up": verdict.kept_up, "reason": verdict.reason()}
                for verdict in self.verdicts
            ],
        }


def knee(data: Mapping[str, Any], thresholds: Sequence[Threshold]) -> Knee:
    """The knee of a step load's ``figures.json`` data, judged again with :func:`judge_step`."""
    verdicts: list[StepVerdict] = []
    best: Mapping[str, Any] | None = None
    previous: tuple[int, Mapping[str, Any]] | None = None
    for step in complete_steps(data):
        lagging = bool(verdicts) and not verdicts[-1].kept_up
        verdict = judge_step(step["figures"], thresholds, previous, int(step["users"]), lagging=lagging)
        verdicts.append(verdict)
        if verdict.met and verdict.kept_up:
            best = step
        previous = (int(step["users"]), step["figures"])
        if verdict.stops:
            break
    stopped = str(data.get("stopped") or "")
    return Knee(best, stopped, tuple(verdicts))
