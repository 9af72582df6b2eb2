"""The load figures are right: the reference server adds a known delay to the read tier (``--delay
read=50ms``) and the measured p50 moves by that much; thresholds and the baseline see it.

Short step loads of one step (6 users of the realistic mix, 8 s, limits lifted) run as ``sergio-kit
load`` processes: first an undelayed one (saving a baseline) and a delayed one side by side, so both
see the same machine (a busy machine slows both alike); then a delayed one judged by two thresholds
placed from the undelayed figures (just below and just above the 20% band around delay + undelayed
p50) and by the undelayed baseline. Locust is never imported here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sergio_kit.cli.main import main
from sergio_kit.target.embedded import clean_environment
from tests.support.environment import isolate_settings

DELAY_MS = 50.0
BAND = 0.20
STEP = ["--profile", "capacity", "--start-users", "6", "--users", "6", "--step-duration", "8"]


@dataclass(frozen=True)
class Run:
    """One ``sergio-kit load`` process: its exit code, output and summary.json."""

    code: int
    out: str
    summary: dict[str, Any]

    def step_figures(self, scope: str) -> dict[str, Any]:
        """The steady part's figures of the one step, for a tier or an operation."""
        span = self.summary["figures"]["steps"][0]["figures"]
        return dict(span["tiers"].get(scope) or span["operations"][scope])


def _start(workdir: Path, name: str, *options: str) -> tuple[Path, subprocess.Popen[str]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "sergio_kit", "load", *STEP, "--report", name, *options],
        cwd=workdir,
        env=clean_environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return workdir / name, process


def _finish(started: tuple[Path, subprocess.Popen[str]]) -> Run:
    report, process = started
    out, _ = process.communicate(timeout=180)
    return Run(process.returncode, out, json.loads((report / "summary.json").read_text()))


@dataclass(frozen=True)
class Runs:
    undelayed: Run
    delayed: Run  # side by side with the undelayed one
    judged: Run  # delayed again, with thresholds and the baseline
    expected_p50: float  # the delay plus the undelayed read p50
    below: str  # a threshold just below the band: must fail
    above: str  # just above it: must pass
    baseline: Path


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Runs:
    workdir = tmp_path_factory.mktemp("delay")
    side_by_side = [
        _start(workdir, "undelayed", "--save-baseline", "baseline.json"),
        _start(workdir, "delayed", "--delay", "read=50ms"),
    ]
    undelayed, delayed = (_finish(started) for started in side_by_side)
    assert undelayed.code == 0, undelayed.out[-3000:]
    expected = DELAY_MS + float(undelayed.step_figures("read")["p50"])
    below = f"read:p50<{expected * (1 - BAND):.0f}ms"
    above = f"read:p50<{expected * (1 + BAND):.0f}ms"
    options = [
        "--delay",
        "read=50ms",
        "--threshold",
        below,
        "--threshold",
        above,
        "--baseline",
        "baseline.json",
    ]
    judged = _finish(_start(workdir, "judged", *options))
    return Runs(undelayed, delayed, judged, expected, below, above, workdir / "baseline.json")


@pytest.mark.parametrize("scope", ["read", "GET /v1/jobs"])
def test_a_known_delay_moves_the_measured_p50_by_that_much(runs: Runs, scope: str) -> None:
    """p50 of the delayed reads within 20% of 50 ms plus the undelayed p50; other tiers stay fast."""
    measured = float(runs.delayed.step_figures(scope)["p50"])
    assert abs(measured - runs.expected_p50) <= BAND * runs.expected_p50, (measured, runs.expected_p50)
    assert runs.delayed.code == 0, runs.delayed.out[-3000:]
    assert runs.delayed.step_figures("read")["requests"] >= 50  # enough samples for a median
    assert float(runs.delayed.step_figures("write")["p50"]) < DELAY_MS / 2


def test_a_threshold_just_below_fails_and_just_above_passes(runs: Runs) -> None:
    results = {result["threshold"]: result for result in runs.judged.summary["thresholds"]}
    assert (results[runs.below]["passed"], results[runs.above]["passed"]) == (False, True), results
    assert f"FAIL threshold {runs.below}: " in runs.judged.out
    assert f"PASS threshold {runs.above}: " in runs.judged.out
    assert runs.judged.code == 1 and "load: FAILED" in runs.judged.out
    # the broken latency threshold stopped the step load at its (only) step: no knee
    assert "threshold broken: " + runs.below in runs.judged.summary["knee"]["stopped"]


def test_a_baseline_from_the_undelayed_run_fails_the_delayed_one(runs: Runs) -> None:
    baseline = json.loads(runs.baseline.read_text())
    assert (baseline["profile"], baseline["knee"]["users"]) == ("capacity", 6)
    assert {"kit_version", "target", "machine", "created"} <= set(baseline)
    comparison = runs.judged.summary["baseline"]
    assert comparison["failed"] and comparison["tolerance"] == pytest.approx(0.10)
    regressed = {row["figure"] for row in comparison["rows"] if row["regressed"]}
    assert {"p95 at 6 users", "knee throughput"} <= regressed, comparison["rows"]
    assert "FAIL baseline: " in runs.judged.out and "REGRESSED" in runs.judged.out
    assert (
        runs.undelayed.summary["baseline"] is None and "baseline saved: baseline.json" in runs.undelayed.out
    )


def test_serve_refuses_a_malformed_delay(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["serve", "--delay", "read=50", "--data", str(tmp_path / "d")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--delay 'read=50': expected TIER=DURATION" in err
    assert not (tmp_path / "d").exists()


def test_load_refuses_a_delay_on_a_live_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    environ = {
        "SERGIO_BASE_URL": "https://s.example",
        "SERGIO_LOAD_ACCOUNTS": '[{"email": "a@b.c", "password": "p"}]',
    }
    isolate_settings(monkeypatch, tmp_path, environ)
    assert main(["load", "--delay", "read=50ms"]) == 2
    assert "--delay only applies to the embedded server, but SERGIO_BASE_URL sets a live target" in (
        capsys.readouterr().err
    )
