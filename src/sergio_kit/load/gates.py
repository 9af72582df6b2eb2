"""What a load run's figures came to: the thresholds, the knee, the baseline comparison, an abort.

The thresholds are judged on the figures of the load that was asked for: a fixed load's whole run; a
step load's knee (the highest step that kept up and met every threshold, see
:mod:`sergio_kit.load.steps`), or, when no step did, the last step judged. Any failed threshold, a
step load without a knee, a run stopped by ``--abort-on-fail`` or a figure worse than the baseline
beyond the tolerance fails the run (exit 1). Plain Python.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sergio_kit.config import Threshold
from sergio_kit.load.baseline import Comparison, compare
from sergio_kit.load.figures import complete_steps, figures_table, steps_table
from sergio_kit.load.steps import Knee, knee
from sergio_kit.load.thresholds import ThresholdResult, evaluate


@dataclass(frozen=True)
class Gates:
    """The figures of a run (``None``: the scenarios wrote none) and every judgement made on them."""

    data: Mapping[str, Any] | None
    thresholds: tuple[Threshold, ...]
    results: tuple[ThresholdResult, ...]
    knee: Knee | None
    comparison: Comparison | None

    @property
    def aborted(self) -> str:
        """Why ``--abort-on-fail`` stopped the run (``""``: it did not)."""
        return str((self.data or {}).get("aborted") or "")

    @property
    def failed(self) -> bool:
        """Whether a threshold, the knee search, an abort or the baseline failed the run."""
        return (
            any(not result.passed for result in self.results)
            or bool(self.aborted)
            or (self.knee is not None and self.knee.step is None)
            or (self.comparison is not None and self.comparison.failed)
        )

    def lines(self) -> list[str]:
        """The terminal's lines: figures, steps and knee, thresholds, baseline table."""
        if self.data is None:
            return ["figures: none (the scenarios wrote no figures.json)"] + [r.line() for r in self.results]
        run = self.data["run"]
        lines = [f"figures over the whole run ({run['seconds']:.0f} s):", *figures_table(run)]
        if self.knee is not None:
            lines += ["steps (each measured over its steady part):", *steps_table(self.data.get("steps", []))]
            if self.knee.stopped:
                lines.append(f"step load stopped at {self.knee.stopped}")
            lines.append(f"{'knee' if self.knee.step is not None else 'FAIL knee'}: {self.knee.statement()}")
        if self.aborted:
            lines.append(f"FAIL aborted (--abort-on-fail) {self.aborted}")
        lines += [result.line() for result in self.results]
        if self.comparison is not None:
            lines += self.comparison.lines()
        return lines

    def as_dict(self) -> dict[str, Any]:
        """What ``summary.json`` holds of them."""
        return {
            "figures": None
            if self.data is None
            else {"run": self.data["run"], "steps": self.data.get("steps", [])},
            "thresholds": [result.as_dict() for result in self.results],
            "knee": None if self.knee is None else self.knee.as_dict(),
            "aborted": self.aborted or None,
            "baseline": None if self.comparison is None else self.comparison.as_dict(),
        }


def judged_span(data: Mapping[str, Any], found: Knee | None) -> Mapping[str, Any]:
    """The figures the thresholds are judged on: the knee's, else the last judged step's, else the run's."""
    span: Mapping[str, Any] = data["run"]
    if found is not None and found.step is not None:
        span = found.step["figures"]
    elif found is not None:
        judged = complete_steps(data)[: len(found.verdicts)]
        span = judged[-1]["figures"] if judged else span
    return span


def judge_figures(
    data: Mapping[str, Any] | None,
    thresholds: Sequence[Threshold],
    *,
    profile: str,
    baseline: Mapping[str, Any] | None = None,
    tolerance: float = 0.1,
) -> Gates:
    """Judge a run's figures (``figures.json`` data, ``None`` when missing)."""
    if data is None:
        results = tuple(evaluate(thresholds, {}))
        return Gates(None, tuple(thresholds), results, None, None)
    found = knee(data, thresholds) if profile == "capacity" else None
    results = tuple(evaluate(thresholds, judged_span(data, found)))
    comparison = None
    if baseline is not None:
        comparison = compare(baseline, data, None if found is None else found.as_dict(), tolerance)
    return Gates(data, tuple(thresholds), results, found, comparison)
