"""Benchmark: is the knee ``sergio-kit load --profile capacity`` finds the embedded server's real capacity?

First the capacity profile's step load (users 1, 2, 3, 5, 8, ... each step held ``--step-duration``
seconds) finds its knee on the embedded server (limits lifted): the highest step that kept up and met
the thresholds (none here but the default: no errors). Then a direct sweep: one fixed number of users
per run (a one-step capacity run, so the same mix, server and measurement), for user counts from half
the knee's to three times it, each on a fresh embedded server. Target (issue 13): the knee's
throughput within 15% of the best throughput the sweep measured. Every run is a real
``sergio-kit load`` process; the figures are read from its summary.json.
Run: ``.venv/bin/python bench/capacity_knee.py [--step-duration S] [--users N] [--rounds R]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

SWEEP = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0)  # multiples of the knee's users
TARGET = 0.15


def load(workdir: Path, name: str, *options: str) -> dict[str, Any]:
    """Run ``sergio-kit load --profile capacity`` with ``options``; its summary.json."""
    command = [
        sys.executable,
        "-m",
        "sergio_kit",
        "load",
        "--profile",
        "capacity",
        "--report",
        name,
        *options,
    ]
    started = time.monotonic()
    result = subprocess.run(command, cwd=workdir, capture_output=True, text=True, check=False)
    summary: dict[str, Any] = json.loads((workdir / name / "summary.json").read_text())
    if summary.get("figures") is None:
        sys.exit(
            f"{name}: no figures (exit {result.returncode}):\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        )
    summary["wall"] = time.monotonic() - started
    return summary


def knee_round(workdir: Path, round_number: int, step: str, users: int) -> tuple[dict[str, Any], float]:
    """One round: the step load's knee, then the sweep around it; the knee and the sweep's best req/s."""
    found = load(workdir, f"knee-{round_number}", "--users", str(users), "--step-duration", step)
    knee = found["knee"]
    for entry in found["figures"]["steps"]:
        total = entry["figures"]["total"]
        print(
            f"  step {entry['index'] + 1:>2}: {entry['users']:>4} users  "
            f"{total['admitted_rps']:7.1f} req/s  p95 {total['p95']} ms  failed {total['failed']}"
            + ("" if entry["complete"] else "  (cut short)"),
            flush=True,
        )
    print(f"knee: {knee['statement']} ({found['wall']:.0f} s); stopped at {knee['stopped']}", flush=True)
    if knee["users"] is None:
        sys.exit("no knee found")
    best = 0.0
    for factor in SWEEP:
        fixed_users = str(max(1, round(knee["users"] * factor)))
        options = ["--start-users", fixed_users, "--users", fixed_users, "--step-duration", step]
        fixed = load(workdir, f"fixed-{round_number}-{fixed_users}", *options)
        total = fixed["figures"]["steps"][0]["figures"]["total"]
        best = max(best, float(total["admitted_rps"]))
        print(
            f"fixed {fixed_users:>4} users: {total['admitted_rps']:7.1f} req/s  p95 {total['p95']} ms  "
            f"failed {total['failed']}",
            flush=True,
        )
    ratio = float(knee["rps"]) / best
    print(
        f"round {round_number}: knee {knee['rps']:.1f} req/s vs best fixed {best:.1f} req/s: {ratio:.2f}",
        flush=True,
    )
    return knee, best


def main() -> int:
    """Find the knee, sweep fixed user counts around it (``--rounds`` times); print the ratios."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--step-duration", type=float, default=15.0, help="seconds per step (default 15)")
    parser.add_argument("--users", type=int, default=2048, help="the step load's last step (default 2048)")
    parser.add_argument("--rounds", type=int, default=1, help="knee search + sweep, repeated (default 1)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; the server and Locust share them; load {os.getloadavg()}", flush=True)
    ratios = []
    with tempfile.TemporaryDirectory(prefix="sergio-bench-knee-") as work:
        for round_number in range(1, args.rounds + 1):
            knee, best = knee_round(Path(work), round_number, str(args.step_duration), args.users)
            ratios.append(float(knee["rps"]) / best)
    ratio = statistics.median(ratios)
    print(
        f"median knee / best fixed: {ratio:.2f} over {len(ratios)} round(s) "
        f"(target: within {TARGET:.0%}, {'met' if abs(1 - ratio) <= TARGET else 'NOT met'}); "
        f"load now {os.getloadavg()}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
