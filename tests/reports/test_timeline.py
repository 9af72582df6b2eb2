"""Per-tier rate-limit timeline charts: counts, scale, limit and rolling lines, sparse runs, escaping."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter

import pytest

from sergio_kit.reports._timeline_axis import MAX_BUCKETS, time_axis
from sergio_kit.reports.timeline import SVG_NS, TierTraffic, timeline_svg, timelines_html, traffic_totals

NS = {"s": SVG_NS}
HOVER = re.compile(r"(\d+)\N{EN DASH}(\d+) s: (\d+) admitted, (\d+) throttled, (\d+) failed")


def burst(
    start: float, admitted: int, throttled: int = 0, failed: int = 0, spacing: float = 0.01
) -> tuple[tuple[float, str], ...]:
    """Events from ``start``, ``spacing`` apart: the admitted first, then throttled, then failed."""
    outcomes = ["admitted"] * admitted + ["throttled"] * throttled + ["failed"] * failed
    return tuple((start + i * spacing, outcome) for i, outcome in enumerate(outcomes))


def parse(svg: str) -> ET.Element:
    """The chart as an element tree (it must be well-formed XML)."""
    root = ET.fromstring(svg)
    assert root.tag == f"{{{SVG_NS}}}svg"
    return root


def bars(root: ET.Element) -> list[tuple[int, int, int, int, int]]:
    """``(from s, to s, admitted, throttled, failed)`` read back from each bar's hover text."""
    found = []
    for bar in root.findall("s:g[@class='bar']", NS):
        title = bar.find("s:title", NS)
        assert title is not None and title.text is not None
        match = HOVER.search(title.text)
        assert match, title.text
        low, high, admitted, throttled, failed = (int(group) for group in match.groups())
        found.append((low, high, admitted, throttled, failed))
    return found


def y_scale(root: ET.Element) -> tuple[float, float]:
    """``(y of 0 req/s, pixels per req/s)`` from the labelled y-axis ticks."""
    ticks = {
        float(tick.get("data-value", "")): float(line.get("y1", ""))
        for tick in root.findall("s:g[@class='ytick']", NS)
        if (line := tick.find("s:line", NS)) is not None
    }
    assert len(ticks) >= 3 and 0.0 in ticks
    top = max(ticks)
    return ticks[0.0], (ticks[0.0] - ticks[top]) / top


def test_hover_counts_match_the_events_per_second() -> None:
    """Each bar's hover text counts exactly the events of its second; the bars add up to the totals."""
    events = burst(0.2, 5) + burst(1.1, 3, 4) + burst(3.5, 0, 2, 1)
    traffic = TierTraffic("read", 120, events=events)
    root = parse(timeline_svg(traffic))
    assert bars(root) == [(0, 1, 5, 0, 0), (1, 2, 3, 4, 0), (3, 4, 0, 2, 1)]
    assert traffic_totals(traffic) == {"admitted": 8, "throttled": 6, "failed": 1}
    title = root.find("s:title", NS)
    assert title is not None and "read tier: 8 admitted, 6 throttled, 1 failed" in (title.text or "")
    fills = Counter(rect.get("fill") for rect in root.iter(f"{{{SVG_NS}}}rect") if rect.get("class"))
    assert fills == {"#2e7d32": 2, "#f9a825": 2, "#c62828": 1}  # green, amber, red segments


def test_limit_line_sits_where_the_y_scale_puts_the_limit() -> None:
    """The dashed limit line is at limit * principals / window req/s on the chart's own y scale."""
    traffic = TierTraffic("write", 60, window=60.0, principals=3, events=burst(0.0, 20, 10, spacing=0.05))
    root = parse(timeline_svg(traffic))
    zero, per_rps = y_scale(root)
    line = root.find("s:line[@class='limit']", NS)
    assert line is not None and line.get("stroke-dasharray")
    assert float(line.get("y1", "")) == pytest.approx(zero - 3.0 * per_rps, abs=0.02)
    label = root.find("s:text[@class='limit-label']", NS)
    assert label is not None and label.text == "limit 60/60 s \N{MULTIPLICATION SIGN} 3 principals = 3 req/s"


def test_rolling_line_reaches_the_limit_and_never_passes_it() -> None:
    """Admitting exactly the quota then throttling: the trailing-window average tops out at the limit."""
    events = burst(0.1, 120, spacing=0.02) + burst(3.0, 0, 200, spacing=0.05)
    root = parse(timeline_svg(TierTraffic("read", 120, events=events)))
    zero, per_rps = y_scale(root)
    limit_y = zero - 2.0 * per_rps
    line = root.find("s:polyline[@class='rolling']", NS)
    assert line is not None
    ys = [float(point.split(",")[1]) for point in line.get("points", "").split()]
    assert min(ys) == pytest.approx(limit_y, abs=0.02)  # smallest y = highest rate = exactly the limit
    assert ys[0] == pytest.approx(zero)  # nothing admitted before the start


def test_bucket_width_keeps_at_most_120_bars_and_never_below_one_second() -> None:
    """A 30-s run gets 1-s bars; a 1000-s run gets 10-s bars; every event is still counted."""
    short = parse(timeline_svg(TierTraffic("bulk", 10, events=burst(0.0, 0, 60, spacing=0.5))))
    assert {high - low for low, high, *_ in bars(short)} == {1}
    long_events = tuple((second + 0.5, "admitted") for second in range(1000))
    root = parse(timeline_svg(TierTraffic("bulk", 10, events=long_events)))
    found = bars(root)
    assert {high - low for low, high, *_ in found} == {10}
    assert len(found) <= MAX_BUCKETS and sum(b[2] for b in found) == 1000
    assert not root.findall("s:g[@class='cut']", NS)


def test_sparse_bursts_keep_one_second_bars_with_the_gaps_cut() -> None:
    """Bursts 61 s apart (a test clock moved between checks) keep 1-s bars; each gap is a cut marker."""
    events = tuple(event for k in range(10) for event in burst(5 + 61 * k, 120, 1))
    root = parse(timeline_svg(TierTraffic("read", 120, events=events)))
    found = bars(root)
    assert {high - low for low, high, *_ in found} == {1}
    assert sum(b[2] for b in found) == 1200 and sum(b[3] for b in found) == 10
    assert len(root.findall("s:g[@class='cut']", NS)) == 9
    labels = {text.text for text in root.findall("s:text[@class='xtick']", NS)}
    assert {str(5 + 61 * k) for k in range(1, 10)} <= labels  # every burst is labelled with its time
    assert time_axis(t for t, _ in events).buckets <= MAX_BUCKETS


def test_a_limit_far_above_the_traffic_is_written_not_drawn() -> None:
    """Lifted limits (capacity runs) do not squash the bars: the limit is stated above the plot."""
    root = parse(timeline_svg(TierTraffic("read", 1_000_000, principals=4, events=burst(0.0, 50))))
    assert root.find("s:line[@class='limit']", NS) is None
    note = root.find("s:text[@class='limit-off-scale']", NS)
    assert note is not None and "limit 1000000/60 s" in (note.text or "")


def test_every_text_is_escaped_and_the_chart_is_self_contained() -> None:
    """A tier name with markup comes out as text; no script, link or external reference."""
    svg = timeline_svg(TierTraffic('<b>"x"&', 10, events=burst(0.0, 3)))
    root = parse(svg)
    assert root.get("data-tier") == '<b>"x"&'
    assert "<b>" not in svg and "&lt;b&gt;" in svg
    assert not re.search(r"<script|<image|<foreignObject|href=|url\(", svg, re.IGNORECASE)


def test_empty_input_gives_no_section_and_an_empty_chart_says_so() -> None:
    """No tier with events: ``""``; tiers without events are left out; an empty chart reads 'no requests'."""
    assert timelines_html([]) == ""
    assert timelines_html([TierTraffic("read", 120), TierTraffic("write", 60)]) == ""
    section = timelines_html([TierTraffic("read", 120), TierTraffic("bulk", 10, events=burst(0.0, 2))])
    assert section.startswith("<section") and "Rate limits over time" in section
    assert section.count("<svg") == 1 and 'data-tier="bulk"' in section
    assert "no requests" in timeline_svg(TierTraffic("auth", 10))
    parse(timeline_svg(TierTraffic("auth", 10)))


def test_bad_traffic_is_refused() -> None:
    """An unknown outcome, a zero window or no principal is a ValueError naming what was given."""
    with pytest.raises(ValueError, match="'denied'"):
        timeline_svg(TierTraffic("read", 120, events=((0.0, "denied"),)))
    with pytest.raises(ValueError, match="window 0"):
        TierTraffic("read", 120, window=0)
    with pytest.raises(ValueError, match="principals 0"):
        TierTraffic("read", 120, principals=0)
