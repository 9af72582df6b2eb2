"""The regression gate on synthetic figures: what a baseline file holds and when a run is worse."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from sergio_kit import __version__
from sergio_kit.cli.main import main
from sergio_kit.errors import SergioKitError
from sergio_kit.load.baseline import baseline_document, compare, parse_tolerance, read_baseline, save_baseline
from tests.support.environment import isolate_settings
from tests.support.load_figures import figures, run


def fixed(read_p95: float, read_p99: float) -> dict[str, Any]:
    """figures.json data of a fixed load whose read tier has these latencies."""
    span = figures(100.0, 20.0)
    span["tiers"]["read"] = {**span["tiers"]["read"], "p95": read_p95, "p99": read_p99}
    return {"profile": "conformance", "run": span, "steps": []}


def test_a_baseline_file_holds_the_figures_version_target_profile_and_machine(tmp_path: Path) -> None:
    data = fixed(40.0, 60.0)
    document = baseline_document(data, None, target="https://127.0.0.1:1", profile="conformance")
    save_baseline(tmp_path / "b" / "base.json", document)
    read = read_baseline(tmp_path / "b" / "base.json", "conformance")
    assert read["figures"] == data and read["kit_version"] == __version__
    assert (read["target"], read["profile"]) == ("https://127.0.0.1:1", "conformance")
    assert {"host", "platform", "processor", "cpus", "python"} <= set(read["machine"])


def test_worse_p95_or_p99_beyond_the_tolerance_fails() -> None:
    """10% tolerance: 40 -> 43 ms passes, 40 -> 50 ms fails; under 5 ms of difference never fails."""
    base = baseline_document(fixed(40.0, 60.0), None, target="t", profile="conformance")
    assert not compare(base, fixed(43.0, 64.0), None, 0.10).failed
    worse = compare(base, fixed(50.0, 60.0), None, 0.10)
    assert worse.failed
    assert [(r.figure, r.change) for r in worse.rows if r.regressed] == [("p95 read", "+25%")]
    small = baseline_document(fixed(2.0, 3.0), None, target="t", profile="conformance")
    assert not compare(small, fixed(6.0, 7.0), None, 0.10).failed  # +4 ms: timer noise
    table = worse.lines()
    assert table[1].split() == ["figure", "baseline", "this", "run", "change"]
    assert [line for line in table if "REGRESSED" in line] == [
        f"{'p95 read':<34} {'40':>10} {'50':>10} {'+25%':>7}  REGRESSED"
    ]
    assert table[-1] == "FAIL baseline: 1 of 6 figure(s) worse than the baseline beyond 10%"


def test_a_lower_knee_or_slower_steps_fail_a_step_load() -> None:
    before = run((4, figures(40.0, 10.0)), (6, figures(60.0, 12.0)))
    base = baseline_document(before, {"rps": 60.0, "users": 6}, target="t", profile="capacity")
    same = compare(base, before, {"rps": 57.0, "users": 6}, 0.10)
    assert not same.failed and [r.figure for r in same.rows][:3] == [
        "knee throughput",
        "p95 at 4 users",
        "p99 at 4 users",
    ]
    lower = compare(base, before, {"rps": 50.0, "users": 6}, 0.10)
    assert [r.figure for r in lower.rows if r.regressed] == ["knee throughput"]
    slower = run((4, figures(40.0, 30.0)), (6, figures(60.0, 12.0)))
    assert [r.figure for r in compare(base, slower, {"rps": 60.0}, 0.10).rows if r.regressed] == [
        "p95 at 4 users",
        "p99 at 4 users",
    ]
    assert compare(base, before, None, 0.10).failed  # no knee at all


def test_tolerance_is_a_percentage() -> None:
    assert parse_tolerance("10%") == pytest.approx(0.10)
    assert parse_tolerance("2.5") == pytest.approx(0.025)
    with pytest.raises(SergioKitError, match="expected a percentage such as 10%"):
        parse_tolerance("ten")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            None,
            "--baseline has value '{path}': no such file; give a file written by sergio-kit load "
            "--save-baseline",
        ),
        ("{", "--baseline has value '{path}': not readable JSON"),
        ('{"kind": "other"}', "--baseline has value '{path}': not a load baseline"),
        (
            json.dumps({"kind": "sergio-kit load baseline", "figures": {}, "profile": "capacity"}),
            "--baseline {path} was saved by a capacity run, this is a conformance run",
        ),
    ],
)
def test_a_bad_baseline_stops_the_run_before_it_starts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    isolate_settings(monkeypatch, tmp_path, {})
    path = tmp_path / "base.json"
    if content is not None:
        path.write_text(content)
    assert main(["load", "--baseline", str(path), "--report", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert message.format(path=path) in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()


def test_a_bad_tolerance_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["load", "--tolerance", "lots"])
    assert stopped.value.code == 2
    assert "argument --tolerance: 'lots': expected a percentage such as 10%" in capsys.readouterr().err
