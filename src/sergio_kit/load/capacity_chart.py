"""The step load's chart: throughput and p95 latency against offered load (users), the knee marked.

One point per step held to its end, evenly spaced and labelled with its users: admitted requests per
second (green, left axis) and p95 latency (purple, right axis), each point with hover text; a dashed
line marks the knee. Pure SVG (no script, no external asset), every text escaped. No I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

from sergio_kit.reports._timeline_axis import number, rate_scale
from sergio_kit.reports.chart import COLOURS, FONT, WIDTH
from sergio_kit.reports.timeline import SVG_NS

HEIGHT = 320
LEFT, RIGHT, TOP, BOTTOM = 64, 64, 58, 52
PLOT_WIDTH = WIDTH - LEFT - RIGHT
PLOT_HEIGHT = HEIGHT - TOP - BOTTOM
THROUGHPUT = COLOURS["passed"]
LATENCY = "#6a1b9a"
KNEE = "#37474f"


def capacity_svg(steps: Sequence[Mapping[str, Any]], knee_index: int | None) -> str:
    """The chart of ``steps`` (figures.json steps held to their end); ``knee_index`` is the knee's step."""
    points = [
        (int(step["index"]), int(step["users"]), _value(step, "admitted_rps"), _value(step, "p95"))
        for step in steps
    ]
    rps_step, rps_top = rate_scale(max((p[2] or 0.0 for p in points), default=0.0))
    ms_step, ms_top = rate_scale(max((p[3] or 0.0 for p in points), default=0.0))
    gap = PLOT_WIDTH / max(len(points), 1)

    def x(position: int) -> float:
        return LEFT + gap * (position + 0.5)

    def y(value: float, top: float) -> float:
        return TOP + PLOT_HEIGHT - value / top * PLOT_HEIGHT

    parts = [
        f'<svg xmlns="{SVG_NS}" class="chart capacity" role="img" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="{escape(FONT)}" font-size="12">',
        "<title>Throughput and p95 latency against offered load (users per step)</title>",
        f'<text x="{LEFT}" y="18" font-size="14" font-weight="700" fill="#1b1f23">Step load</text>',
        *_legend(),
        *_axes(rps_step, rps_top, ms_step, ms_top),
    ]
    for position, (index, users, _, _) in enumerate(points):
        parts.append(
            f'<text x="{x(position):.1f}" y="{TOP + PLOT_HEIGHT + 18}" text-anchor="middle" '
            f'fill="#57606a">{users}</text>'
        )
        if index == knee_index:
            parts.append(
                f'<g class="knee" data-step="{index}"><line x1="{x(position):.1f}" x2="{x(position):.1f}" '
                f'y1="{TOP}" y2="{TOP + PLOT_HEIGHT}" stroke="{KNEE}" stroke-dasharray="6 4"/>'
                f'<text x="{x(position) + 4:.1f}" y="{TOP + 12}" fill="{KNEE}">knee</text></g>'
            )
    for key, colour, top in (("rps", THROUGHPUT, rps_top), ("p95", LATENCY, ms_top)):
        values = [p[2] if key == "rps" else p[3] for p in points]
        drawn = [(position, value) for position, value in enumerate(values) if value is not None]
        coords = " ".join(f"{x(position):.1f},{y(value, top):.1f}" for position, value in drawn)
        parts.append(
            f'<polyline class="{key}" points="{coords}" fill="none" stroke="{colour}" stroke-width="2"/>'
        )
    for position, (index, users, rps, p95) in enumerate(points):
        hover = f"step {index + 1}: {users} users, {_shown(rps, 'req/s')} admitted, p95 {_shown(p95, 'ms')}"
        marks = "".join(
            f'<circle cx="{x(position):.1f}" cy="{y(value, top):.1f}" r="4" fill="{colour}"/>'
            for value, top, colour in ((rps, rps_top, THROUGHPUT), (p95, ms_top, LATENCY))
            if value is not None
        )
        parts.append(
            f'<g class="step" data-users="{users}" data-rps="{rps}" data-p95="{p95}">'
            f"<title>{escape(hover)}</title>{marks}</g>"
        )
    parts.append(
        f'<text x="{LEFT + PLOT_WIDTH / 2}" y="{HEIGHT - 10}" text-anchor="middle" fill="#57606a">'
        "users (offered load)</text></svg>"
    )
    return "\n".join(parts)


def _value(step: Mapping[str, Any], key: str) -> float | None:
    value = step["figures"]["total"].get(key)
    return None if value is None else float(value)


def _shown(value: float | None, unit: str) -> str:
    return "-" if value is None else f"{number(value)} {unit}"


def _legend() -> list[str]:
    return [
        f'<rect x="{LEFT}" y="30" width="12" height="12" rx="2" fill="{THROUGHPUT}"/>'
        f'<text x="{LEFT + 17}" y="40" fill="#333">admitted requests per second (left)</text>',
        f'<rect x="{LEFT + 250}" y="30" width="12" height="12" rx="2" fill="{LATENCY}"/>'
        f'<text x="{LEFT + 267}" y="40" fill="#333">p95 latency, ms (right)</text>',
    ]


def _axes(rps_step: float, rps_top: float, ms_step: float, ms_top: float) -> list[str]:
    parts = []
    for i in range(round(rps_top / rps_step) + 1):
        value = i * rps_step
        y = TOP + PLOT_HEIGHT - value / rps_top * PLOT_HEIGHT
        parts.append(
            f'<line x1="{LEFT}" x2="{LEFT + PLOT_WIDTH}" y1="{y:.1f}" y2="{y:.1f}" '
            f'stroke="{"#8c959f" if i == 0 else "#eaeef2"}"/>'
            f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" fill="{THROUGHPUT}">'
            f"{number(value)}</text>"
        )
    for i in range(round(ms_top / ms_step) + 1):
        value = i * ms_step
        y = TOP + PLOT_HEIGHT - value / ms_top * PLOT_HEIGHT
        parts.append(
            f'<text x="{LEFT + PLOT_WIDTH + 6}" y="{y + 4:.1f}" fill="{LATENCY}">{number(value)}</text>'
        )
    return parts
