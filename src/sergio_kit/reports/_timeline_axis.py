"""The time axis of a rate-limit timeline: bucket width, cut gaps, and a "nice" request-rate scale.

Pure arithmetic, no markup. A timeline gets at most :data:`MAX_BUCKETS` bars; the bucket width is
the smallest "nice" number of seconds (never below 1 s) that fits. Long stretches without any
request (a check suite that moves a test clock 61 s between bursts) are cut out of the axis and
drawn as a narrow gap marker, so sparse bursts keep a readable, per-second resolution.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

MAX_BUCKETS = 120
MAX_CUTS = 20
GAP_MIN_SECONDS = 10
NICE_SECONDS = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)


@dataclass(frozen=True)
class TimeAxis:
    """Bucket width in seconds, and the runs of buckets drawn (inclusive bucket indexes).

    ``leading_cut`` says the axis does not start at bucket 0: the time before the first run had no
    request and is drawn as a gap marker, as is the time between consecutive runs.
    """

    width: int
    runs: tuple[tuple[int, int], ...]
    leading_cut: bool = False

    @property
    def buckets(self) -> int:
        """How many buckets (bars) the axis holds."""
        return sum(last - first + 1 for first, last in self.runs)

    @property
    def cuts(self) -> int:
        """How many gaps are cut out of the axis."""
        return max(len(self.runs) - 1, 0) + int(self.leading_cut)


def time_axis(seconds: Iterable[float]) -> TimeAxis:
    """The axis for events at ``seconds`` (since the start): the finest width that fits the limits."""
    occupied = sorted({max(int(t), 0) for t in seconds})
    if not occupied:
        return TimeAxis(1, ((0, 0),))
    for width in _widths(occupied[-1] + 1):
        axis = _axis_for(occupied, width)
        if axis.buckets <= MAX_BUCKETS and axis.cuts <= MAX_CUTS:
            return axis
    raise AssertionError("unreachable: a width past the span yields one bucket")  # pragma: no cover


def _widths(span: int) -> Iterable[int]:
    yield from NICE_SECONDS
    width = NICE_SECONDS[-1]
    while width < span:
        width *= 2
        yield width


def _axis_for(occupied: list[int], width: int) -> TimeAxis:
    """Runs of buckets, cutting any empty stretch of at least ``max(10 s, 5 buckets)``."""
    min_gap = math.ceil(max(GAP_MIN_SECONDS, 5 * width) / width)
    indexes = sorted({second // width for second in occupied})
    first = indexes[0] if indexes[0] >= min_gap else 0
    runs: list[tuple[int, int]] = []
    previous = first
    for index in indexes:
        if index - previous - 1 >= min_gap:
            runs.append((first, previous))
            first = index
        previous = index
    runs.append((first, previous))
    return TimeAxis(width, tuple(runs), leading_cut=runs[0][0] > 0)


def rate_scale(largest: float) -> tuple[float, float]:
    """A ``(step, top)`` for a y axis showing 0..``largest`` in about four nice steps, with headroom."""
    if largest <= 0:
        return 1.0, 4.0
    wanted = largest * 1.08
    magnitude = 10.0 ** math.floor(math.log10(wanted / 4))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude * 4 >= wanted)
    return step, step * math.ceil(wanted / step - 1e-9)


def label_step(width: int, bucket_px: float, min_px: float = 64.0) -> int:
    """Seconds between x-axis labels: a nice multiple of ``width`` at least ``min_px`` apart."""
    for seconds in (*NICE_SECONDS, *(3600 << k for k in range(1, 40))):
        if seconds % width == 0 and seconds / width * bucket_px >= min_px:
            return seconds
    return width  # pragma: no cover


def number(value: float) -> str:
    """A rate or a time for a label: whole and large values as integers, others to 3 digits."""
    if abs(value - round(value)) < 1e-9 or abs(value) >= 100:
        return str(round(value))
    return f"{value:.3g}"
