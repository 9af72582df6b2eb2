"""``sergio-kit load --profile capacity``: the step load on the embedded server, its knee and its chart;
``--abort-on-fail`` stopping a fixed load at a broken threshold; and the error rate, which counts the
429s the contract does not allow, not the ones it does.

The runs start together (one fixture, three ``sergio-kit load`` processes) and take seconds each.
Locust is never imported here.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from sergio_kit.target.embedded import clean_environment

CAPACITY = ["--profile", "capacity", "--start-users", "2", "--users", "8", "--step-duration", "3"]
CAPACITY += ["--threshold", "read:p95<500ms", "--threshold", "*:error_rate<1%"]
ABORT = ["--profile", "conformance", "--window", "8", "--duration", "40", "--delay", "read=30ms"]
ABORT += ["--threshold", "read:p50<10ms", "--abort-on-fail"]
ERRORS = [
    "--profile",
    "conformance",
    "--window",
    "6",
    "--duration",
    "8",
    "--fault",
    "ratelimit.bulk.retry_after",
]
ERRORS += ["--threshold", "read:error_rate<1%", "--threshold", "bulk:error_rate<1%"]
KNEE = re.compile(
    r"^knee: sustains (?:at least )?(\d+) req/s of the realistic mix at p95 (\d+) ms with (\d+) users", re.M
)


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    report: Path
    seconds: float  # wall time of the whole command

    @property
    def summary(self) -> dict[str, Any]:
        return dict(json.loads((self.report / "summary.json").read_text()))


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Run]:
    """The capacity run and the aborted run, started together."""
    workdir = tmp_path_factory.mktemp("capacity")
    started = {}
    for name, options in (("capacity", CAPACITY), ("abort", ABORT), ("errors", ERRORS)):
        command = [sys.executable, "-m", "sergio_kit", "load", *options, "--report", name]
        process = subprocess.Popen(
            command,
            cwd=workdir,
            env=clean_environment(),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        started[name] = (process, time.monotonic())
    done = {}
    for name, (process, start) in started.items():
        out, _ = process.communicate(timeout=240)
        done[name] = Run(process.returncode, out, workdir / name, time.monotonic() - start)
    return done


def test_the_step_load_states_its_knee(runs: dict[str, Run]) -> None:
    """Users 2, 3, 5, 8, each step measured over its steady part; the knee is a complete step that met the
    thresholds, stated in the terminal and in summary.json with its throughput, p95 and users."""
    run = runs["capacity"]
    assert run.code == 0, run.out[-4000:]
    summary = run.summary
    steps = [step for step in summary["figures"]["steps"] if step["complete"]]
    assert [step["users"] for step in steps] == [2, 3, 5, 8][: len(steps)] and steps
    knee = summary["knee"]
    step = next(step for step in steps if step["index"] == knee["step"])
    total = step["figures"]["total"]
    assert (knee["users"], knee["rps"], knee["p95"]) == (step["users"], total["admitted_rps"], total["p95"])
    match = KNEE.search(run.out)
    assert match is not None, run.out[-3000:]
    assert [int(value) for value in match.groups()] == [
        round(total["admitted_rps"]),
        round(total["p95"]),
        step["users"],
    ]
    assert knee["statement"].startswith(match.group(0).removeprefix("knee: "))
    if knee["capped"]:  # 8 users never stall the embedded server: the knee is only a lower bound
        assert knee["statement"].endswith("raise --users or --duration)") and "at least" in knee["statement"]
    assert [result["passed"] for result in summary["thresholds"]] == [True, True]


def test_figures_per_tier_and_operation_whole_run_and_per_step(runs: dict[str, Run]) -> None:
    """summary.json: counts, throughput and p50..max per tier and per operation, for the run and each
    step; the run's counts are Locust's (the per-tier table counts the same requests)."""
    summary = runs["capacity"].summary
    run = summary["figures"]["run"]
    keys = {"requests", "admitted", "throttled", "failed", "rps", "admitted_rps", "error_rate"}
    keys |= {"p50", "p90", "p95", "p99", "max", "avg"}
    assert set(run["total"]) == keys
    assert {"read", "write", "bulk"} <= set(run["tiers"])
    assert {"GET /v1/jobs", "POST /v1/jobs", "POST /v1/jobs/bulk"} <= set(run["operations"])
    read = run["tiers"]["read"]
    assert read == run["operations"]["GET /v1/jobs"]  # the mix reads through one operation
    assert read["p50"] <= read["p90"] <= read["p95"] <= read["p99"] <= read["max"]
    assert run["total"]["requests"] == sum(
        t["admitted"] + t["throttled"] + t["failed"] for t in summary["tiers"]
    )
    assert run["total"]["throttled"] == run["total"]["failed"] == 0  # limits lifted, nothing wrong
    for step in summary["figures"]["steps"]:
        assert "read" in step["figures"]["tiers"] and "GET /v1/jobs" in step["figures"]["operations"]
        assert 0 < step["figures"]["total"]["requests"] < run["total"]["requests"]


def test_summary_html_draws_throughput_and_p95_against_users(runs: dict[str, Run]) -> None:
    page = (runs["capacity"].report / "summary.html").read_text()
    summary = runs["capacity"].summary
    svg = re.search(r'<svg[^>]*class="chart capacity".*?</svg>', page, re.S)
    assert svg is not None
    root = ET.fromstring(svg.group(0))
    points = [
        (int(g.get("data-users", 0)), float(g.get("data-rps", 0)))
        for g in root.iterfind("{*}g[@class='step']")
    ]
    steps = [step for step in summary["figures"]["steps"] if step["complete"]]
    assert points == [(s["users"], s["figures"]["total"]["admitted_rps"]) for s in steps]
    assert root.find("{*}g[@class='knee']").get("data-step") == str(summary["knee"]["step"])  # type: ignore[union-attr]
    assert summary["knee"]["statement"] in page
    assert 'data-scope="GET /v1/jobs"' in page and "PASS threshold read:p95&lt;500ms" in page


def test_abort_on_fail_stops_a_run_at_a_broken_threshold(runs: dict[str, Run]) -> None:
    """30 ms on every read against read:p50<10ms: the run stops after the grace period instead of 40 s."""
    run = runs["abort"]
    assert run.code == 1, run.out[-3000:]
    summary = run.summary
    assert summary["aborted"].startswith("after ") and "read:p50<10ms measured " in summary["aborted"]
    assert summary["figures"]["run"]["seconds"] < 20
    assert "FAIL aborted (--abort-on-fail) after " in run.out and "load: FAILED" in run.out
    assert [(r["threshold"], r["passed"]) for r in summary["thresholds"]] == [("read:p50<10ms", False)]


def test_contracted_429s_are_no_errors_but_malformed_ones_are(runs: dict[str, Run]) -> None:
    """Each tier at 1.5x its limit: throttled reads (as contracted) keep the read error rate at 0; the
    bulk 429s without Retry-After (the fault) are errors, and break bulk:error_rate<1%."""
    run = runs["errors"]
    summary = run.summary
    tiers = summary["figures"]["run"]["tiers"]
    assert (
        tiers["read"]["throttled"] > 0 and tiers["read"]["failed"] == 0 and tiers["read"]["error_rate"] == 0
    )
    assert tiers["bulk"]["failed"] > 0 and tiers["bulk"]["error_rate"] > 0.01
    assert [(r["threshold"], r["passed"]) for r in summary["thresholds"]] == [
        ("read:error_rate<1%", True),
        ("bulk:error_rate<1%", False),
    ]
    assert "PASS threshold read:error_rate<1%: 0%" in run.out and run.code == 1
