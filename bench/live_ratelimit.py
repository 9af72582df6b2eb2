"""Benchmark: the ``ratelimit`` group's wall time against a live target (no test clock, documented tiers).

Starts a reference server without ``--test-clock`` on loopback, runs ``sergio-kit check --base-url
... --only ratelimit`` against it as a user would, and prints the whole run's wall time and the time
the live plan took (the first ratelimit check's duration: it runs every probe at once). Target
(issue 4): the group in at most 75 s. Run: ``.venv/bin/python bench/live_ratelimit.py [--runs N]``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from sergio_kit.target.embedded import clean_environment, start_server


def one_run(work: Path) -> tuple[float, float, dict[str, int]]:
    """One live run: (whole run in s, live plan in s, checks by status)."""
    server = start_server(work / "data", test_clock=False, plain_http=False)
    try:
        companies = server.credentials()["companies"]
        admins = [next(u for u in company["users"] if u["role"] == "admin") for company in companies]
        env = {
            **clean_environment(),
            "SERGIO_EMAIL": admins[0]["email"],
            "SERGIO_PASSWORD": admins[0]["password"],
            "SERGIO_OTHER_EMAIL": admins[1]["email"],
            "SERGIO_OTHER_PASSWORD": admins[1]["password"],
            "SERGIO_CA_BUNDLE": str(server.ca_cert),
        }
        member = next((u for u in companies[0]["users"] if u["role"] != "admin"), None)
        if member is not None:  # the first company's member: ratelimit.isolation.users, the bulk burst
            env |= {"SERGIO_MEMBER_EMAIL": member["email"], "SERGIO_MEMBER_PASSWORD": member["password"]}
        command = [sys.executable, "-m", "sergio_kit", "check", "--base-url", server.base_url]
        command += ["--only", "ratelimit", "--report", str(work / "reports")]
        started = time.perf_counter()
        subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
        wall = time.perf_counter() - started
    finally:
        server.stop()
    checks = json.loads((work / "reports" / "report.json").read_text())["checks"]
    statuses: dict[str, int] = {}
    for entry in checks:
        statuses[entry["status"]] = statuses.get(entry["status"], 0) + 1
    plan = max(float(entry.get("seconds", 0.0)) for entry in checks)
    return wall, plan, statuses


def main() -> None:
    """Run the benchmark and print one line per run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="live runs, one after another (default 1)")
    args = parser.parse_args()
    for number in range(1, args.runs + 1):
        with tempfile.TemporaryDirectory(prefix="sergio-bench-live-") as work:
            wall, plan, statuses = one_run(Path(work))
        print(
            f"run {number}: whole run {wall:.1f} s, live plan (every probe) {plan:.1f} s, checks {statuses}"
        )


if __name__ == "__main__":
    main()
