"""The capacity step load, judged on synthetic figures: the steps, when it stops, the knee, the chart."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from sergio_kit.config import parse_threshold
from sergio_kit.load.capacity_chart import capacity_svg
from sergio_kit.load.gates import judge_figures
from sergio_kit.load.steps import judge_step, knee, run_length, step_users
from tests.support.load_figures import figures, run


def test_steps_grow_by_half_up_to_the_last() -> None:
    assert step_users(1, 20) == [1, 2, 3, 5, 8, 12, 18, 20]
    assert step_users(4, 4) == [4]
    assert run_length(1, 20, 10.0) == 80.0


def test_two_steps_in_a_row_that_do_not_keep_up_stop_the_load() -> None:
    """From 8 to 12 users (+50%) throughput must grow by at least a quarter of that (+12.5%); one step
    that does not may be noise, the next one confirms it."""
    before = (8, figures(100.0, 20.0))
    kept = judge_step(figures(113.0, 25.0), [], before, 12)
    stalled = judge_step(figures(112.0, 60.0), [], before, 12)
    assert kept.kept_up and not kept.stops and kept.reason() == ""
    assert not stalled.kept_up and not stalled.stops
    assert stalled.reason() == (
        "throughput stopped growing with the load: +12.0% for +50% users (keeping up is +12.5% or more)"
    )
    again = judge_step(figures(112.0, 60.0), [], before, 12, lagging=True)
    assert again.stops and again.reason().endswith("or more), the second step in a row")


def test_errors_stop_the_load_unless_an_error_rate_threshold_judges_them() -> None:
    span = figures(100.0, 20.0, failed=2)
    assert judge_step(span, [], None, 4).reason() == "2 request(s) failed"
    tolerant = judge_step(span, [parse_threshold("*:error_rate<5%")], None, 4)
    assert tolerant.met and not tolerant.stops


def test_a_broken_latency_threshold_stops_the_load_but_a_throughput_floor_does_not() -> None:
    thresholds = [parse_threshold("read:rps>500"), parse_threshold("read:p95<100ms")]
    low_load = judge_step(figures(50.0, 20.0), thresholds, None, 2)
    assert not low_load.met and not low_load.stops  # rps>500 unmet at 2 users: no reason to stop
    slow = judge_step(figures(600.0, 20.0, read_p95=140.0), thresholds, (40, figures(400.0, 20.0)), 60)
    assert slow.stops and slow.reason() == "threshold broken: read:p95<100ms measured 140 ms"


def test_the_knee_is_the_highest_step_that_kept_up_and_met_every_threshold() -> None:
    data = run(
        (8, figures(100.0, 20.0)),
        (12, figures(148.0, 30.0)),
        (18, figures(205.0, 45.0)),
        (27, figures(212.0, 90.0)),  # +3% for +50% users: past the knee
        (41, figures(214.0, 140.0)),  # and again: the load stops
        stopped="step 5 (41 users): throughput stopped growing",
    )
    found = knee(data, [parse_threshold("*:p95<200ms")])
    assert found.step is not None and found.step["users"] == 18
    assert found.statement() == "sustains 205 req/s of the realistic mix at p95 45 ms with 18 users"
    assert [(v.met, v.kept_up, v.stops) for v in found.verdicts] == [(True, True, False)] * 3 + [
        (True, False, False),
        (True, False, True),
    ]
    summary = found.as_dict()
    assert (summary["rps"], summary["users"], summary["stopped"]) == (205.0, 18, data["stopped"])


def test_a_noisy_step_does_not_end_the_load_or_hide_a_later_knee() -> None:
    """One step measured low (another process took the cores) and the next catching up: the load goes
    on, and the knee is the later step."""
    data = run((8, figures(100.0, 20.0)), (12, figures(90.0, 30.0)), (18, figures(160.0, 35.0)))
    found = knee(data, [])
    assert [v.kept_up for v in found.verdicts] == [True, False, True]
    assert found.step is not None and found.step["users"] == 18


def test_without_a_step_meeting_every_threshold_there_is_no_knee_and_the_run_fails() -> None:
    data = run((4, figures(40.0, 120.0)), stopped="step 1 (4 users): threshold broken")
    gates = judge_figures(data, [parse_threshold("*:p95<100ms")], profile="capacity")
    assert gates.knee is not None and gates.knee.step is None and gates.failed
    assert "FAIL knee: no step kept up and met every threshold" in gates.lines()
    assert [r.line() for r in gates.results] == ["FAIL threshold *:p95<100ms: 120 ms"]


def test_capacity_thresholds_are_judged_on_the_knee_step() -> None:
    """The run as a whole contains the step that broke the latency threshold; the knee's figures meet it."""
    data = run((8, figures(100.0, 20.0)), (12, figures(150.0, 300.0)), stopped="step 2: threshold broken")
    gates = judge_figures(data, [parse_threshold("*:p95<100ms")], profile="capacity")
    assert not gates.failed
    assert [r.line() for r in gates.results] == ["PASS threshold *:p95<100ms: 20 ms"]
    assert gates.as_dict()["knee"]["users"] == 8


def test_the_chart_draws_throughput_and_p95_against_users_and_marks_the_knee() -> None:
    data = run((2, figures(20.0, 10.0)), (3, figures(30.0, 12.0)), (5, figures(31.0, 40.0)))
    svg = capacity_svg(data["steps"], knee_index=1)
    root = ET.fromstring(svg)
    steps = root.findall("{*}g[@class='step']")
    assert [(g.get("data-users"), g.get("data-rps"), g.get("data-p95")) for g in steps] == [
        ("2", "20.0", "10.0"),
        ("3", "30.0", "12.0"),
        ("5", "31.0", "40.0"),
    ]
    assert root.find("{*}g[@class='knee']").get("data-step") == "1"  # type: ignore[union-attr]
    assert len(re.findall(r"\d+\.\d,\d+\.\d", root.find("{*}polyline[@class='rps']").get("points"))) == 3  # type: ignore[arg-type,union-attr]
    assert "step 3: 5 users, 31 req/s admitted, p95 40 ms" in svg
