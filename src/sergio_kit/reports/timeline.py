"""Per-tier rate-limit timelines: requests per second over time, admitted vs throttled, the limit as a line.

One chart per tier: stacked bars per time bucket (admitted green, throttled amber, failed red), the
contract's limit as a dashed line at ``limit * principals / window`` req/s, and a thin line for the
admitted requests of the trailing window divided by the window (the rolling average the limit
bounds). Every bar has hover text with its counts. Pure SVG markup (no script, no external asset),
every text escaped, so it can sit inside a self-contained page. No I/O.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.reports._timeline_axis import TimeAxis, label_step, number, rate_scale, time_axis
from sergio_kit.reports.chart import COLOURS as CHECK_COLOURS
from sergio_kit.reports.chart import FONT, WIDTH

SVG_NS = "http://www.w3.org/2000/svg"
OUTCOMES = ("admitted", "throttled", "failed")
COLOURS = {"admitted": CHECK_COLOURS["passed"], "throttled": "#f9a825", "failed": CHECK_COLOURS["failed"]}
LIMIT_COLOUR = "#37474f"
ROLLING_COLOUR = "#1565c0"

HEIGHT = 300
LEFT = 58
RIGHT = 18
TOP = 58
BOTTOM = 46
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
CUT_PX = 14.0
OFF_SCALE = 3.0  # a limit more than 3x above the traffic is written, not drawn (lifted limits)


@dataclass(frozen=True)
class TierTraffic:
    """One tier's requests over a run, as ``(seconds since the start, outcome)`` events."""

    tier: str
    limit: int  # requests per window per principal (the contract's quota)
    window: float = WINDOW_SECONDS  # seconds
    principals: int = 1  # how many principals shared the traffic (the limit line scales with it)
    events: tuple[tuple[float, str], ...] = ()  # outcome: "admitted", "throttled" or "failed"

    def __post_init__(self) -> None:
        """Refuse a limit, window or principal count the chart cannot draw."""
        if self.limit < 0 or self.window <= 0 or self.principals < 1:
            raise ValueError(
                f"TierTraffic({self.tier!r}): limit {self.limit}, window {self.window}, principals "
                f"{self.principals}: expected limit >= 0, window > 0 and principals >= 1"
            )

    @property
    def limit_rate(self) -> float:
        """The limit in requests per second: ``limit * principals / window``."""
        return self.limit * self.principals / self.window


def traffic_totals(traffic: TierTraffic) -> dict[str, int]:
    """How many events had each outcome (every outcome present, zero when absent)."""
    totals = dict.fromkeys(OUTCOMES, 0)
    for _, outcome in traffic.events:
        totals[_outcome(outcome)] += 1
    return totals


def timelines_html(traffics: Sequence[TierTraffic]) -> str:
    """A ``<section>`` with a heading and one chart per tier that has events; ``""`` if none has."""
    charts = [traffic for traffic in traffics if traffic.events]
    if not charts:
        return ""
    boxes = "".join(f'<div class="chart-box">{timeline_svg(traffic)}</div>' for traffic in charts)
    return (
        '<section class="timelines" aria-label="rate limits over time">'
        "<h2>Rate limits over time</h2>"
        '<p class="note">Requests per second, admitted (green), throttled (amber) and failed (red); the '
        "dashed line is the contract's limit for the principals that carried the traffic, the thin "
        "blue line the admitted requests of the trailing window divided by the window, which stays "
        "on or under it with a rolling window (a fixed window may take it up to twice the limit at "
        "its edge: a warning, not a failure). Hover a bar for its counts.</p>"
        f"{boxes}</section>"
    )


def timeline_svg(traffic: TierTraffic) -> str:
    """One self-contained inline ``<svg>`` chart of ``traffic`` (see the module docstring)."""
    axis = time_axis(t for t, _ in traffic.events)
    counts = _bucket_counts(traffic, axis.width)
    totals = {o: sum(c[i] for c in counts.values()) for i, o in enumerate(OUTCOMES)}
    admitted = sorted(max(t, 0.0) for t, outcome in traffic.events if outcome == "admitted")
    rolling = _rolling(axis, admitted, traffic.window)
    busiest = max((sum(c) / axis.width for c in counts.values()), default=0.0)
    largest = max(busiest, max((rate for run in rolling for _, rate in run), default=0.0))
    limit_drawn = traffic.limit_rate <= OFF_SCALE * largest or largest == 0
    step, top = rate_scale(max(largest, traffic.limit_rate if limit_drawn else 0.0))
    plot = _Plot(axis, top)
    last_second = max((t for t, _ in traffic.events), default=0.0)
    summary = (
        f"{traffic.tier} tier: {totals['admitted']} admitted, {totals['throttled']} throttled, "
        f"{totals['failed']} failed over {number(round(last_second, 1))} s; {_limit_text(traffic)}"
    )
    parts = [
        f'<svg xmlns="{SVG_NS}" class="chart timeline" role="img" data-tier="{escape(traffic.tier)}" '
        f'width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'font-family="{escape(FONT)}" font-size="12">',
        f"<title>{escape(summary)}</title>",
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="700" fill="#1b1f23">'
        f"{escape(traffic.tier + ' tier')}</text>",
        f'<text x="{WIDTH - RIGHT}" y="18" text-anchor="end" fill="#57606a">'
        f"{escape(' · '.join(f'{totals[o]} {o}' for o in OUTCOMES))}</text>",
        *_legend(traffic.window),
        *_y_axis(step, top),
        *plot.cuts(),
    ]
    if not traffic.events:
        parts.append(f'<text x="{LEFT + 12}" y="{TOP + PLOT_HEIGHT / 2}" fill="#57606a">no requests</text>')
    parts += [plot.bar(traffic.tier, index, counts[index]) for index in sorted(counts)]
    parts += plot.x_labels()
    parts += _rolling_lines(plot, rolling, traffic.window)
    parts += _limit_line(traffic, plot, drawn=limit_drawn)
    parts.append("</svg>")
    return "\n".join(parts)


def _outcome(outcome: str) -> str:
    if outcome not in COLOURS:
        raise ValueError(f"event outcome {outcome!r}: expected one of {', '.join(OUTCOMES)}")
    return outcome


def _bucket_counts(traffic: TierTraffic, width: int) -> dict[int, list[int]]:
    """``{bucket index: [admitted, throttled, failed]}`` for the buckets that hold any event."""
    position = {outcome: i for i, outcome in enumerate(OUTCOMES)}
    counts: dict[int, list[int]] = {}
    for second, outcome in traffic.events:
        bucket = counts.setdefault(int(max(second, 0.0) // width), [0, 0, 0])
        bucket[position[_outcome(outcome)]] += 1
    return counts


def _rolling(axis: TimeAxis, admitted: list[float], window: float) -> list[list[tuple[float, float]]]:
    """Per run of the axis, ``(time, admitted in (time - window, time] / window)`` at every bucket edge."""
    runs = []
    for first, last in axis.runs:
        points = []
        for edge in range(first, last + 2):
            moment = float(edge * axis.width)
            inside = bisect_right(admitted, moment) - bisect_right(admitted, moment - window)
            points.append((moment, inside / window))
        runs.append(points)
    return runs


def _limit_text(traffic: TierTraffic) -> str:
    text = f"limit {traffic.limit}/{number(traffic.window)} s"
    if traffic.principals > 1:
        text += f" \N{MULTIPLICATION SIGN} {traffic.principals} principals"
    return f"{text} = {number(traffic.limit_rate)} req/s"


class _Plot:
    """Maps times and rates to coordinates for one axis and scale."""

    def __init__(self, axis: TimeAxis, top: float) -> None:
        self.axis = axis
        self.top = top
        self.bucket_px = (PLOT_WIDTH - CUT_PX * axis.cuts) / axis.buckets
        self.run_x: list[float] = []
        x = LEFT + (CUT_PX if axis.leading_cut else 0.0)
        for first, last in axis.runs:
            self.run_x.append(x)
            x += (last - first + 1) * self.bucket_px + CUT_PX

    def y(self, rate: float) -> float:
        """The y coordinate of ``rate`` req/s."""
        return TOP + PLOT_HEIGHT - rate / self.top * PLOT_HEIGHT

    def x(self, seconds: float, run: int) -> float:
        """The x coordinate of ``seconds`` inside run number ``run`` of the axis."""
        first = self.axis.runs[run][0]
        return self.run_x[run] + (seconds / self.axis.width - first) * self.bucket_px

    def run_of(self, index: int) -> int:
        """The run holding bucket ``index``."""
        return next(i for i, (first, last) in enumerate(self.axis.runs) if first <= index <= last)

    def bar(self, tier: str, index: int, counts: list[int]) -> str:
        """A stacked bar for bucket ``index``, with hover text of its counts."""
        width = self.axis.width
        left = self.x(index * width, self.run_of(index))
        gap = 1.0 if self.bucket_px >= 4 else 0.0
        hover = (
            f"{tier}, {index * width}\N{EN DASH}{(index + 1) * width} s: "
            + ", ".join(f"{count} {outcome}" for count, outcome in zip(counts, OUTCOMES, strict=True))
            + f" ({number(round(sum(counts) / width, 2))} req/s)"
        )
        parts = [
            f'<g class="bar"><title>{escape(hover)}</title>',
            f'<rect x="{left:.2f}" y="{TOP}" width="{self.bucket_px:.2f}" height="{PLOT_HEIGHT}" '
            'fill="#000000" fill-opacity="0"/>',
        ]
        base = 0.0
        for count, outcome in zip(counts, OUTCOMES, strict=True):
            if not count:
                continue
            height = max(count / width / self.top * PLOT_HEIGHT, 1.0)
            parts.append(
                f'<rect class="{outcome}" x="{left + gap / 2:.2f}" y="{self.y(0) - base - height:.2f}" '
                f'width="{max(self.bucket_px - gap, 0.5):.2f}" height="{height:.2f}" '
                f'fill="{COLOURS[outcome]}"/>'
            )
            base += height
        parts.append("</g>")
        return "".join(parts)

    def cuts(self) -> list[str]:
        """A shaded marker where a stretch without requests is cut out of the axis."""
        marks = []
        width = self.axis.width
        gaps: list[tuple[int, int, float]] = []
        if self.axis.leading_cut:
            gaps.append((0, self.axis.runs[0][0] * width, float(LEFT)))
        for run, ((_, last), (first, _)) in enumerate(zip(self.axis.runs, self.axis.runs[1:], strict=False)):
            gaps.append(((last + 1) * width, first * width, self.x((last + 1) * width, run)))
        for start, end, x in gaps:
            hover = f"{start}\N{EN DASH}{end} s: no requests (cut from the axis)"
            marks.append(
                f'<g class="cut"><title>{escape(hover)}</title>'
                f'<rect x="{x + 2:.2f}" y="{TOP}" width="{CUT_PX - 4:.2f}" height="{PLOT_HEIGHT}" '
                f'fill="#eaeef2"/><text x="{x + CUT_PX / 2:.2f}" y="{TOP + PLOT_HEIGHT + 5}" '
                f'text-anchor="middle" fill="#57606a" font-size="14">≈</text></g>'
            )
        return marks

    def x_labels(self) -> list[str]:
        """Seconds under the axis: each run's start first, then every nice step where there is room."""
        width = self.axis.width
        step = label_step(width, self.bucket_px)
        runs = self.axis.runs
        starts = [(self.x(first * width, run), first * width) for run, (first, _) in enumerate(runs)]
        steps = [
            (self.x(second, run), second)
            for run, (first, last) in enumerate(self.axis.runs)
            for second in range((first * width // step + 1) * step, (last + 1) * width + 1, step)
        ]
        kept: list[tuple[float, int]] = []
        for x, second in [*starts, *steps]:
            if all(abs(x - other) >= 40 for other, _ in kept):
                kept.append((x, second))
        parts = [
            f'<line x1="{x:.2f}" x2="{x:.2f}" y1="{TOP + PLOT_HEIGHT}" y2="{TOP + PLOT_HEIGHT + 4}" '
            f'stroke="#8c959f"/><text class="xtick" x="{x:.2f}" y="{TOP + PLOT_HEIGHT + 16}" '
            f'text-anchor="middle" fill="#57606a">{second}</text>'
            for x, second in sorted(kept)
        ]
        title = f"seconds since the start ({width} s per bar"
        title += "; ≈ marks a stretch without requests, cut out)" if self.axis.cuts else ")"
        parts.append(
            f'<text x="{LEFT + PLOT_WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle" '
            f'fill="#57606a">{escape(title)}</text>'
        )
        return parts


def _legend(window: float) -> list[str]:
    parts = []
    x = float(LEFT)
    for outcome in OUTCOMES:
        parts.append(
            f'<rect x="{x}" y="30" width="12" height="12" rx="2" fill="{COLOURS[outcome]}"/>'
            f'<text x="{x + 17}" y="40" fill="#333">{outcome}</text>'
        )
        x += 30 + 7 * len(outcome)
    parts.append(
        f'<line x1="{x}" x2="{x + 24}" y1="36" y2="36" stroke="{LIMIT_COLOUR}" stroke-width="1.5" '
        f'stroke-dasharray="6 4"/><text x="{x + 30}" y="40" fill="#333">limit</text>'
    )
    x += 76
    rolling = f"admitted in the trailing {number(window)} s ÷ {number(window)} s"
    parts.append(
        f'<line x1="{x}" x2="{x + 24}" y1="36" y2="36" stroke="{ROLLING_COLOUR}" stroke-width="1.5"/>'
        f'<text x="{x + 30}" y="40" fill="#333">{escape(rolling)}</text>'
    )
    return parts


def _y_axis(step: float, top: float) -> list[str]:
    parts = []
    ticks = round(top / step)
    for i in range(ticks + 1):
        value = i * step
        y = TOP + PLOT_HEIGHT - value / top * PLOT_HEIGHT
        parts.append(
            f'<g class="ytick" data-value="{number(value)}"><line x1="{LEFT}" x2="{LEFT + PLOT_WIDTH}" '
            f'y1="{y:.2f}" y2="{y:.2f}" stroke="{"#8c959f" if i == 0 else "#eaeef2"}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.2f}" text-anchor="end" fill="#57606a">{number(value)}</text>'
            "</g>"
        )
    middle = TOP + PLOT_HEIGHT / 2
    parts.append(
        f'<text x="14" y="{middle}" text-anchor="middle" fill="#57606a" '
        f'transform="rotate(-90 14 {middle})">requests per second</text>'
    )
    return parts


def _rolling_lines(plot: _Plot, rolling: list[list[tuple[float, float]]], window: float) -> list[str]:
    hover = f"admitted requests in the trailing {number(window)} s ÷ {number(window)} s"
    parts = []
    for run, points in enumerate(rolling):
        coords = " ".join(f"{plot.x(t, run):.2f},{plot.y(rate):.2f}" for t, rate in points)
        parts.append(
            f'<polyline class="rolling" points="{coords}" fill="none" stroke="{ROLLING_COLOUR}" '
            f'stroke-width="1.5" stroke-linejoin="round"><title>{escape(hover)}</title></polyline>'
        )
    return parts


def _limit_line(traffic: TierTraffic, plot: _Plot, *, drawn: bool) -> list[str]:
    text = _limit_text(traffic)
    halo = 'stroke="#ffffff" stroke-width="3" paint-order="stroke"'
    if not drawn:
        return [
            f'<text class="limit-off-scale" x="{WIDTH - RIGHT}" y="{TOP - 4}" text-anchor="end" '
            f'fill="{LIMIT_COLOUR}" {halo}>{escape(text + " (far above the traffic, not drawn)")}</text>'
        ]
    y = plot.y(traffic.limit_rate)
    return [
        f'<line class="limit" x1="{LEFT}" x2="{LEFT + PLOT_WIDTH}" y1="{y:.2f}" y2="{y:.2f}" '
        f'stroke="{LIMIT_COLOUR}" stroke-width="1.5" stroke-dasharray="6 4">'
        f"<title>{escape(text)}</title></line>",
        f'<text class="limit-label" x="{WIDTH - RIGHT - 4}" y="{y - 5:.2f}" text-anchor="end" '
        f'fill="{LIMIT_COLOUR}" {halo}>{escape(text)}</text>',
    ]
