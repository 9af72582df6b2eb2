"""Judge a load run's figures against the thresholds in force (``--threshold``, ``[load.thresholds]``).

Each threshold names a scope (``*``, a tier, an operation) and a metric of its figure set (see
:mod:`sergio_kit.load.figures`); a scope without figures (no such request was sent) is not measured,
which fails: a threshold that cannot be checked must not pass. Throughput thresholds (``rps``) are lower
bounds that only a loaded service can meet, so the step load and ``--abort-on-fail`` never stop on them
(:data:`STOPPING`). Plain Python: the Locust master imports it too, to stop a run early.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sergio_kit.config import Threshold
from sergio_kit.load.figures import Span, scope_figures

#: The metrics that can only get worse as the load grows: a breach of one stops a step load or, with
#: ``--abort-on-fail``, a run.
STOPPING = frozenset({"p50", "p90", "p95", "p99", "max", "avg", "error_rate"})


@dataclass(frozen=True)
class ThresholdResult:
    """One threshold, what was measured for it (``None``: nothing to measure) and whether it held."""

    threshold: Threshold
    measured: float | None

    @property
    def passed(self) -> bool:
        """Whether it was measured and met."""
        return self.measured is not None and self.threshold.holds(self.measured)

    @property
    def shown_measured(self) -> str:
        """The measured value with its unit, or why there is none."""
        if self.measured is None:
            scope = "any request" if self.threshold.scope == "*" else f"a {self.threshold.scope} request"
            return f"not measured (no {self.threshold.metric} figure for {scope})"
        return self.threshold.shown_value(self.measured)

    def line(self) -> str:
        """``PASS read:p95<300ms: 182 ms`` (or ``FAIL ...``)."""
        return f"{'PASS' if self.passed else 'FAIL'} threshold {self.threshold.text}: {self.shown_measured}"

    def as_dict(self) -> dict[str, Any]:
        """The result as ``summary.json`` lists it."""
        return {
            "threshold": self.threshold.text,
            "scope": self.threshold.scope,
            "metric": self.threshold.metric,
            "limit": self.threshold.limit,
            "measured": self.measured,
            "shown": self.shown_measured,
            "passed": self.passed,
        }


def measured(span: Span, threshold: Threshold) -> float | None:
    """The value of ``threshold``'s metric for its scope in ``span`` (``None``: not measured)."""
    figures = scope_figures(span, threshold.scope)
    if not figures or not figures.get("requests"):
        return None
    value = figures.get(threshold.metric)
    return None if value is None else float(value)


def evaluate(thresholds: Iterable[Threshold], span: Span) -> list[ThresholdResult]:
    """Every threshold judged on ``span``."""
    return [ThresholdResult(threshold, measured(span, threshold)) for threshold in thresholds]


def breaches(results: Sequence[ThresholdResult], *, stopping_only: bool = False) -> list[ThresholdResult]:
    """The results that failed (only those on a :data:`STOPPING` metric with ``stopping_only``)."""
    return [
        result
        for result in results
        if not result.passed and (not stopping_only or result.threshold.metric in STOPPING)
    ]


def judges_errors(thresholds: Iterable[Threshold]) -> bool:
    """Whether an ``error_rate`` threshold decides how many errors are too many (else any error is)."""
    return any(threshold.metric == "error_rate" for threshold in thresholds)
