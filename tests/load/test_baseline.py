"""The regression gate on synthetic figures: what a baseline file holds and when a run is worse."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest

from sergio_kit import __version__
from sergio_kit.cli.main import main
from sergio_kit.errors import SergioKitError
from sergio_kit.load.baseline import (
    baseline_document,
    check_baseline_path,
    compare,
    parse_tolerance,
    read_baseline,
    save_baseline,
)
from tests.support.environment import isolate_settings
from tests.support.kit_process import LIVE_LOGIN, run_kit
from tests.support.load_figures import figures, run

FIX = "(give --save-baseline a file in a folder you can write to)"


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


def _unwritable_paths(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    """Baseline paths that cannot be written, each with the reason its one line gives."""
    (tmp_path / "plain").write_text("a file, not a folder\n")
    (tmp_path / "folder").mkdir()
    return {
        "missing folder": (
            tmp_path / "plain" / "runs" / "base.json",
            f"Not a directory ({tmp_path / 'plain'} is a file)",
        ),
        "directory": (tmp_path / "folder", "Is a directory"),
    }


@pytest.mark.parametrize("case", ["missing folder", "directory"])
def test_an_unwritable_save_baseline_path_is_one_line_before_the_run(tmp_path: Path, case: str) -> None:
    path, reason = _unwritable_paths(tmp_path)[case]
    before = sorted(tmp_path.rglob("*"))
    with pytest.raises(SergioKitError) as refused:
        check_baseline_path(path)
    assert str(refused.value) == f"cannot write the baseline to {path}: {reason} {FIX}"
    assert sorted(tmp_path.rglob("*")) == before  # nothing left behind


def test_a_save_baseline_path_in_a_folder_still_to_make_passes_and_leaves_nothing(tmp_path: Path) -> None:
    check_baseline_path(tmp_path / "new" / "deeper" / "base.json")
    check_baseline_path(tmp_path / "base.json")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_is_one_line_and_keeps_the_earlier_baseline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = baseline_document(fixed(40.0, 60.0), None, target="t", profile="conformance")
    (tmp_path / "folder").mkdir()
    with pytest.raises(
        SergioKitError, match=r"^cannot write the baseline to .*folder: Is a directory \(give"
    ):
        save_baseline(tmp_path / "folder", document)
    assert list((tmp_path / "folder").iterdir()) == []
    path = tmp_path / "base.json"
    save_baseline(path, document)
    earlier = path.read_text()

    def no_space(source: object, destination: object) -> None:
        raise OSError(28, os.strerror(28))

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(SergioKitError) as refused:
        save_baseline(path, baseline_document(fixed(50.0, 70.0), None, target="t", profile="conformance"))
    assert str(refused.value) == f"cannot write the baseline to {path}: {os.strerror(28)} {FIX}"
    assert path.read_text() == earlier and sorted(tmp_path.iterdir()) == [path, tmp_path / "folder"]


@pytest.mark.parametrize("case", ["missing folder", "directory"])
def test_sergio_kit_load_refuses_an_unwritable_save_baseline_before_the_run(
    tmp_path: Path, case: str
) -> None:
    """Exit 2 with one line and no traceback, before any server or Locust process starts (the live
    target is a closed port: a started run would say it cannot reach it)."""
    path, reason = _unwritable_paths(tmp_path)[case]
    started = time.monotonic()
    result = run_kit(
        "load",
        "--base-url",
        "https://127.0.0.1:9",
        "--save-baseline",
        str(path),
        "--report",
        str(tmp_path / "r"),
        env=LIVE_LOGIN,
        timeout=60,
    )
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stderr == f"sergio-kit: error: cannot write the baseline to {path}: {reason} {FIX}\n"
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "r").exists()
    assert time.monotonic() - started < 30
