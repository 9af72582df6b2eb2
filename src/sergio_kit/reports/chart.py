"""An inline SVG chart: one horizontal stacked bar per check group, so red groups stand out.

Each bar is the group's checks as 100 %, split into passed / warned / failed / skipped / error
segments with their counts; a group with any failure or error gets a red label and a cross, a group
with warnings (and no failure) an amber label and an exclamation mark. Pure SVG
markup: no script, no external font or stylesheet, so it can sit inside a self-contained page.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from sergio_kit.reports._common import STATUSES

COLOURS = {
    "passed": "#2e7d32",
    "warned": "#f9a825",
    "failed": "#c62828",
    "skipped": "#b0bec5",
    "error": "#ef6c00",
}
#: Amber dark enough to read as text on white (``COLOURS["warned"]`` is for fills).
WARNED_INK = "#8a6300"
TEXT_ON = {
    "passed": "#ffffff",
    "warned": "#263238",
    "failed": "#ffffff",
    "skipped": "#263238",
    "error": "#ffffff",
}
FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"

WIDTH = 800
LABEL_WIDTH = 150
RIGHT_WIDTH = 170
BAR_WIDTH = WIDTH - LABEL_WIDTH - RIGHT_WIDTH
LEGEND_HEIGHT = 34
ROW_HEIGHT = 34
BAR_HEIGHT = 22
MIN_SEGMENT = 8


def segment_widths(counts: Mapping[str, int], width: float = BAR_WIDTH) -> dict[str, float]:
    """Segment widths that fill ``width`` in proportion to ``counts``; a non-zero count stays visible."""
    total = sum(counts.get(status, 0) for status in STATUSES)
    if total == 0:
        return dict.fromkeys(STATUSES, 0.0)
    widths = {s: width * counts.get(s, 0) / total for s in STATUSES}
    for status, value in widths.items():
        if 0 < value < MIN_SEGMENT:
            widths[status] = MIN_SEGMENT
    excess = sum(widths.values()) - width
    if excess > 0:
        widest = max(widths, key=lambda s: widths[s])
        widths[widest] -= excess
    return widths


def group_chart(groups: Mapping[str, Mapping[str, int]]) -> str:
    """SVG markup for ``{group: {status: count}}``: a legend, then a stacked bar per group."""
    height = LEGEND_HEIGHT + ROW_HEIGHT * max(len(groups), 1) + 6
    summary = "; ".join(
        f"{group}: " + ", ".join(f"{counts.get(s, 0)} {s}" for s in STATUSES if counts.get(s, 0))
        for group, counts in groups.items()
    )
    parts = [
        f'<svg class="chart" role="img" width="{WIDTH}" '
        f'height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="{escape(FONT)}" font-size="13">',
        f"<title>{escape('Checks by group: ' + (summary or 'no checks ran'))}</title>",
        *_legend(),
    ]
    if not groups:
        parts.append(f'<text x="{LABEL_WIDTH}" y="{LEGEND_HEIGHT + 20}" fill="#555">no checks ran</text>')
    for row, (group, counts) in enumerate(groups.items()):
        parts += _bar(row, group, counts)
    parts.append("</svg>")
    return "\n".join(parts)


def _legend() -> list[str]:
    parts = []
    x = LABEL_WIDTH
    for status in STATUSES:
        parts.append(
            f'<rect x="{x}" y="8" width="14" height="14" rx="2" fill="{COLOURS[status]}"/>'
            f'<text x="{x + 20}" y="20" fill="#333">{status}</text>'
        )
        x += 32 + 8 * len(status)
    return parts


def _bar(row: int, group: str, counts: Mapping[str, int]) -> list[str]:
    top = LEGEND_HEIGHT + row * ROW_HEIGHT
    middle = top + BAR_HEIGHT / 2 + 4.5
    total = sum(counts.get(s, 0) for s in STATUSES)
    passed, skipped = counts.get("passed", 0), counts.get("skipped", 0)
    broken = counts.get("failed", 0) + counts.get("error", 0)
    warned = counts.get("warned", 0)
    if broken:
        mark, colour, verdict = "\N{BALLOT X} ", "#c62828", f"{broken} of {total} failing"
    elif warned:
        mark, colour, verdict = "! ", WARNED_INK, f"{warned} warned, {passed} passed"
    elif skipped:
        mark, colour, verdict = "\N{EN DASH} ", "#546e7a", f"{passed} passed, {skipped} skipped"
    else:
        mark, colour, verdict = "\N{CHECK MARK} ", "#2e7d32", f"all {passed} passed"
    weight = "700" if broken or warned else "400"
    parts = [
        f'<a href="#group-{escape(group)}">',
        f'<text x="{LABEL_WIDTH - 10}" y="{middle}" text-anchor="end" fill="{colour}" '
        f'font-weight="{weight}">{escape(mark + group)}</text>',
        f'<rect x="{LABEL_WIDTH}" y="{top}" width="{BAR_WIDTH}" height="{BAR_HEIGHT}" fill="#eceff1"/>',
    ]
    x = float(LABEL_WIDTH)
    for status, width in segment_widths(counts).items():
        count = counts.get(status, 0)
        if not count:
            continue
        parts.append(
            f'<rect x="{x:.1f}" y="{top}" width="{width:.1f}" height="{BAR_HEIGHT}" '
            f'fill="{COLOURS[status]}"><title>{escape(f"{group}: {count} {status}")}</title></rect>'
        )
        if width >= 9 * len(str(count)) + 8:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{middle}" text-anchor="middle" '
                f'fill="{TEXT_ON[status]}" font-weight="600">{count}</text>'
            )
        x += width
    parts.append(
        f'<text x="{LABEL_WIDTH + BAR_WIDTH + 10}" y="{middle}" fill="{colour}" '
        f'font-weight="{weight}">{escape(verdict)}</text>'
    )
    parts.append("</a>")
    return parts
