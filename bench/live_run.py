"""Benchmark: the whole ``sergio-kit check`` (every group) against a live target with the documented tiers.

Starts a reference server as a separate process without ``--test-clock`` (real time, the documented
tiers: auth 10, read 120, write 60, webhook 10, bulk 10 per minute), with two tenants, its plain-HTTP
listener and a receiver certificate it trusts, then runs ``sergio-kit check --base-url ...`` against it
as a user would (a separate process, every group). Prints the wall time, the plan's floor (the shortest
time the quotas allow, from ``report.json``'s ``plan``), their ratio, the checks by status and the
slowest checks. Targets (issue 11): at most 180 s, at most 1.3x the floor.

Run: ``.venv/bin/python bench/live_run.py [--runs N] [--max-examples N] [--keep DIR] [--write-costs FILE]``;
``--write-costs src/sergio_kit/checks/costs.json`` refreshes the plan's table of what each check sends.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sergio_kit.checks.plan import costs_table
from sergio_kit.target.embedded import clean_environment, start_server


def one_run(work: Path, extra: list[str], log: Path) -> tuple[float, dict[str, Any]]:
    """One live run: (wall time in s, report.json); the command's output goes to ``log`` as it runs."""
    server = start_server(work / "data", test_clock=False)
    try:
        command = [sys.executable, "-m", "sergio_kit", "check", "--base-url", server.base_url]
        command += ["--report", str(work / "reports"), *extra]
        started = time.perf_counter()
        with open(log, "w", encoding="utf-8") as output:
            subprocess.run(
                command,
                env={**clean_environment(), **server.deployment_settings(work / "receiver.pem")},
                stdout=output,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=3600,
                check=False,
            )
        wall = time.perf_counter() - started
    finally:
        server.stop()
    report = json.loads((work / "reports" / "report.json").read_text())
    return wall, report


def describe(number: int, wall: float, report: dict[str, Any]) -> list[str]:
    """The lines printed for one run."""
    statuses: dict[str, int] = {}
    for entry in report["checks"]:
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    floor = float(report.get("plan", {}).get("floor_seconds", 0.0))
    ratio = f"{wall / floor:.2f}x the floor" if floor else "no plan in report.json"
    lines = [f"run {number}: whole run {wall:.1f} s, plan floor {floor:.1f} s ({ratio}), checks {statuses}"]
    slowest = sorted(report["checks"], key=lambda entry: -float(entry.get("seconds", 0.0)))[:8]
    lines += [
        f"    {float(entry.get('seconds', 0.0)):6.1f} s  {entry['id']}  {entry['status']}"
        for entry in slowest
    ]
    lines += [
        f"    {entry['status']}: {entry['id']}: {entry.get('detail', '')[:160]}"
        for entry in report["checks"]
        if entry["status"] in ("failed", "error", "skipped")
    ]
    return lines


def main() -> None:
    """Run the benchmark and print each run's figures."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="live runs, one after another (default 1)")
    parser.add_argument("--max-examples", help="passed on to sergio-kit check (default: its own)")
    parser.add_argument(
        "--keep", type=Path, help="keep each run's output and report.json under this folder (default: /tmp)"
    )
    parser.add_argument(
        "--write-costs",
        type=Path,
        help="write what each check sent (report.json plan.sent) as the plan's costs table, e.g. "
        "src/sergio_kit/checks/costs.json",
    )
    args = parser.parse_args()
    extra = ["--max-examples", args.max_examples] if args.max_examples else []
    for number in range(1, args.runs + 1):
        kept = (args.keep or Path(tempfile.gettempdir())) / f"sergio-live-run-{number}"
        kept.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(prefix="sergio-bench-live-run-") as folder:
            wall, report = one_run(Path(folder), extra, kept / "output.txt")
            shutil.copytree(Path(folder) / "reports", kept / "reports", dirs_exist_ok=True)
        (kept / "report.json").write_text(json.dumps(report, indent=2))
        if args.write_costs is not None:
            table = costs_table(report["plan"]["sent"], "bench/live_run.py --write-costs")
            args.write_costs.write_text(json.dumps(table, indent=1, sort_keys=True) + "\n")
        print("\n".join(describe(number, wall, report)), f"(output and report.json: {kept})", flush=True)


if __name__ == "__main__":
    main()
