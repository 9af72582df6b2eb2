"""Benchmark: wall time of ``sergio-kit check`` against the embedded server, median of N runs.

Run: ``.venv/bin/python bench/check_time.py [--runs 3] [-- extra check options]``.
Target (issue 3): every group passes, none skipped, in under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    """Time the runs, print each and the median, and the per-status counts of the last run."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="how many runs (default 3)")
    parser.add_argument("extra", nargs="*", help="options passed to sergio-kit check (after --)")
    args = parser.parse_args()
    durations = []
    summary: dict[str, int] = {}
    for run in range(args.runs):
        report = Path(tempfile.mkdtemp(prefix="sergio-check-time-"))
        started = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "sergio_kit", "check", "--report", str(report), *args.extra],
            capture_output=True,
            text=True,
            check=False,
        )
        durations.append(time.perf_counter() - started)
        report_file = report / "report.json"
        if report_file.exists():
            summary = json.loads(report_file.read_text()).get("summary", {})
        print(f"run {run + 1}: {durations[-1]:.1f} s, exit {result.returncode}, {summary}")
    print(f"median of {args.runs}: {statistics.median(durations):.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
