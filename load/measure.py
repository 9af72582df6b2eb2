"""Figures of a load run from Locust's own statistics: per tier, per operation and in total.

Imported only by the Locust processes (it imports ``locust.stats``). A :class:`Snapshot` copies what
each of Locust's ``StatsEntry`` objects holds (counts, the total and largest response time and the
``response_times`` histogram Locust keeps for its percentiles); :func:`figures` turns a snapshot, or
what happened between two of them, into the figures ``figures.json`` carries, using Locust's own
``diff_response_time_dicts`` and ``calculate_response_time_percentile``: the same percentiles Locust
prints, not a histogram of the kit's.

- ``requests``: responses; ``failed``: Locust's failures (a failure class of the ledger);
  ``throttled``: the 429s the contract allows; ``admitted``: the rest.
- ``rps`` / ``admitted_rps``: responses / admitted responses per second of the span measured.
- ``error_rate``: ``failed / requests``.
- ``p50`` .. ``p99``, ``avg``, ``max`` (ms): over every response but the contracted 429s. ``max`` is
  Locust's exact largest time for a whole run; over a span between two snapshots it is the largest
  bucket of Locust's histogram (2 significant digits above 100 ms).
On a Locust master the workers' statistics arrive every few seconds, so a snapshot there lags the
requests by up to Locust's worker report interval (3 s).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from locust.stats import RequestStats, calculate_response_time_percentile, diff_response_time_dicts

from sergio_kit.config import Threshold
from sergio_kit.load.names import entry_kind
from sergio_kit.load.steps import StepVerdict, judge_step, settle_seconds
from sergio_kit.load.thresholds import breaches, evaluate

PERCENTILES = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}


@dataclass(frozen=True)
class EntryState:
    """One statistics entry at one instant (or what changed between two)."""

    requests: int
    timed: int  # requests with a response time
    failures: int
    total_time: float
    max_time: int | None  # None: not known exactly (a span between snapshots)
    response_times: Mapping[int, int]


@dataclass(frozen=True)
class Snapshot:
    """Every statistics entry of a run at ``at`` (epoch seconds), keyed by (name, request type)."""

    at: float
    entries: Mapping[tuple[str, str], EntryState]


def take(stats: RequestStats) -> Snapshot:
    """A copy of ``stats`` as it is now."""
    return Snapshot(
        time.time(),
        {
            key: EntryState(
                entry.num_requests,
                entry.num_requests - entry.num_none_requests,
                entry.num_failures,
                float(entry.total_response_time),
                round(entry.max_response_time),
                dict(entry.response_times),
            )
            for key, entry in list(stats.entries.items())
        },
    )


def _between(after: EntryState, before: EntryState | None) -> EntryState:
    if before is None:
        return after
    return EntryState(
        after.requests - before.requests,
        after.timed - before.timed,
        after.failures - before.failures,
        after.total_time - before.total_time,
        None,
        diff_response_time_dicts(dict(after.response_times), dict(before.response_times)),
    )


@dataclass
class _Group:
    """The entries of one scope (a tier, an operation, everything) added up."""

    requests: int = 0
    failed: int = 0
    throttled: int = 0
    timed: int = 0
    total_time: float = 0.0
    max_time: int | None = 0
    times: dict[int, int] = field(default_factory=dict)

    def add(self, state: EntryState, throttles: bool) -> None:
        self.requests += state.requests
        self.failed += state.failures
        if throttles:
            self.throttled += state.requests - state.failures
            return
        self.timed += state.timed
        self.total_time += state.total_time
        for bucket, count in state.response_times.items():
            self.times[bucket] = self.times.get(bucket, 0) + count
        if state.max_time is None or self.max_time is None:
            self.max_time = None
        else:
            self.max_time = max(self.max_time, state.max_time)

    def figures(self, seconds: float) -> dict[str, Any]:
        admitted = self.requests - self.failed - self.throttled
        result: dict[str, Any] = {
            "requests": self.requests,
            "admitted": admitted,
            "throttled": self.throttled,
            "failed": self.failed,
            "rps": round(self.requests / seconds, 2) if seconds > 0 else None,
            "admitted_rps": round(admitted / seconds, 2) if seconds > 0 else None,
            "error_rate": round(self.failed / self.requests, 6) if self.requests else 0.0,
        }
        timed = self.timed if self.timed > 0 and self.times else 0
        for name, percent in PERCENTILES.items():
            value = calculate_response_time_percentile(self.times, timed, percent) if timed else None
            # Locust's buckets round up to 2 digits: never above the exact largest time, when known
            result[name] = min(value, self.max_time) if value is not None and self.max_time else value
        if not timed:
            result["max"] = result["avg"] = None
        else:
            exact = self.max_time
            result["max"] = (
                exact if exact is not None else calculate_response_time_percentile(self.times, timed, 1.0)
            )
            result["avg"] = round(self.total_time / timed, 1)
        return result


def figures(after: Snapshot, before: Snapshot | None = None, *, start: float | None = None) -> dict[str, Any]:
    """The figures of what happened up to ``after`` (since ``before``, else since ``start``): the span
    measured in seconds, then ``total``, ``tiers`` and ``operations``, each a figure set."""
    since = before.at if before is not None else start if start is not None else after.at
    seconds = max(after.at - since, 0.0)
    total, tiers, operations = _Group(), {}, {}
    for key, state in after.entries.items():
        previous = before.entries.get(key) if before is not None else None
        change = _between(state, previous)
        if change.requests <= 0 and change.failures <= 0:
            continue
        kind = entry_kind(*key)
        total.add(change, kind.throttles)
        if kind.tier is not None:
            tiers.setdefault(kind.tier, _Group()).add(change, kind.throttles)
        if kind.operation is not None:
            operations.setdefault(kind.operation, _Group()).add(change, kind.throttles)
    return {
        "seconds": round(seconds, 2),
        "total": total.figures(seconds),
        "tiers": {tier: group.figures(seconds) for tier, group in sorted(tiers.items())},
        "operations": {name: group.figures(seconds) for name, group in sorted(operations.items())},
    }


@dataclass
class _Step:
    index: int
    users: int
    begin: float  # run seconds when it started
    first: Snapshot  # when it started
    steady: Snapshot | None = None  # once it settled: what it is measured from
    record: dict[str, Any] | None = None  # once complete: its figures.json entry


class Recorder:
    """What the Locust master (or the only Locust process) records of a run: its start, its steps each
    measured over its steady part and judged as it ends (:func:`sergio_kit.load.steps.judge_step`),
    and why it stopped; :meth:`write` makes ``figures.json`` of it."""

    def __init__(
        self,
        stats: RequestStats,
        thresholds: Sequence[Threshold],
        users: Sequence[int],
        step_seconds: float,
    ) -> None:
        self.stats = stats
        self.thresholds = tuple(thresholds)
        self.users = list(users)
        self.step_seconds = step_seconds
        self.settle = settle_seconds(step_seconds)
        self.start: Snapshot | None = None
        self.steps: list[_Step] = []
        self.verdicts: list[StepVerdict] = []
        self.stopped = ""
        self.aborted = ""

    def begin(self) -> None:
        """The run starts now."""
        self.start = take(self.stats)

    def step_users(self, elapsed: float) -> int | None:
        """The users the step load wants ``elapsed`` seconds into the run, or ``None`` to stop (the
        step that just ended broke a threshold, failed or did not keep up, or was the last)."""
        if not self.steps:
            self.steps.append(_Step(0, self.users[0], elapsed, take(self.stats)))
            return self.users[0]
        step = self.steps[-1]
        if step.steady is None and elapsed >= step.begin + self.settle:
            step.steady = take(self.stats)
        if elapsed < step.begin + self.step_seconds:
            return step.users
        end = take(self.stats)
        span = figures(end, step.steady or step.first)
        previous = next((s for s in reversed(self.steps[:-1]) if s.record is not None), None)
        before = (previous.users, previous.record["figures"]) if previous and previous.record else None
        lagging = bool(self.verdicts) and not self.verdicts[-1].kept_up
        verdict = judge_step(span, self.thresholds, before, step.users, lagging=lagging)
        self.verdicts.append(verdict)
        step.record = self._entry(step, elapsed, span, complete=True)
        if verdict.stops:
            self.stopped = f"step {step.index + 1} ({step.users} users): {verdict.reason()}"
            return None
        if step.index + 1 >= len(self.users):
            self.stopped = f"step {step.index + 1} ({step.users} users) was the last (--users)"
            return None
        self.steps.append(_Step(step.index + 1, self.users[step.index + 1], elapsed, end))
        return self.users[step.index + 1]

    def breach(self, elapsed: float) -> str:
        """With ``--abort-on-fail``: the thresholds on a latency or the error rate that the run's
        figures so far break (measured ones only), as one line; ``""`` while none does."""
        if self.start is None:
            return ""
        span = figures(take(self.stats), self.start)
        broken = [
            r for r in breaches(evaluate(self.thresholds, span), stopping_only=True) if r.measured is not None
        ]
        if not broken:
            return ""
        self.aborted = f"after {elapsed:.0f} s: " + "; ".join(
            f"{result.threshold.text} measured {result.shown_measured}" for result in broken
        )
        return self.aborted

    def _entry(self, step: _Step, elapsed: float, span: dict[str, Any], *, complete: bool) -> dict[str, Any]:
        return {
            "index": step.index,
            "users": step.users,
            "start": round(step.begin, 2),
            "end": round(elapsed, 2),
            "complete": complete,
            "figures": span,
        }

    def write(self, path: Path, *, profile: str, users: int) -> None:
        """Write ``figures.json``: the whole run and its steps (a fixed load is one step of ``users``)."""
        end = take(self.stats)
        start = self.start or end
        run = figures(end, start)
        seconds = run["seconds"]
        if not self.steps:
            steps = [
                {"index": 0, "users": users, "start": 0.0, "end": seconds, "complete": True, "figures": run}
            ]
        else:
            steps = [step.record for step in self.steps if step.record is not None]
            last = self.steps[-1]
            if last.record is None:  # cut short: the run ended (Ctrl-C, --duration, an abort) mid-step
                cut = figures(end, last.steady or last.first)
                steps.append(self._entry(last, last.begin + cut["seconds"], cut, complete=False))
        data = {
            "profile": profile,
            "start": start.at,
            "run": run,
            "steps": steps,
            "stopped": self.stopped,
            "aborted": self.aborted,
            "thresholds": [threshold.text for threshold in self.thresholds],
        }
        path.write_text(json.dumps(data, indent=2))
