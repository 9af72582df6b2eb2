"""Benchmark: does the kit's load scale with Locust worker processes (``--processes 2`` vs 1)?

The kit's unpaced users (``bench/locust_users.py``) run against one embedded server (limits
lifted) with the same total number of users, forked into 1 or 2 Locust worker processes, in
alternating rounds: the read user on ``GET /v1/jobs?limit=5`` (token pool, ledger) and the same call
path on ``GET /v1/health``, the cheapest endpoint the server has. Each run also reports the cores
the server and the Locust processes used, because on a small machine the server, not Locust, sets
the ceiling. Target (issue 4): >= 1.6x where the server is not the bottleneck.
Run: ``.venv/bin/python bench/locust_scaling.py [--seconds S] [--rounds R] [--users U]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locust_runs import Measurement, bench_server, run_locust

SCENARIOS = {"GET /v1/jobs?limit=5": "KitReadUser", "GET /v1/health": "KitHealthUser"}
PROCESSES = (1, 2)


def main() -> int:
    """Run the rounds; print each run, the medians, the 2/1 ratio and who used the cores."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=8.0, help="length of one Locust run (default 8)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--users", type=int, default=16, help="Locust users in total (default 16)")
    args = parser.parse_args()
    print(f"{os.cpu_count()} cores; server and Locust share them", flush=True)
    results: dict[tuple[str, int], list[Measurement]] = {}
    with tempfile.TemporaryDirectory(prefix="sergio-bench-scaling-") as work:
        server, env = bench_server(Path(work))
        try:
            for round_number in range(args.rounds):
                order = PROCESSES if round_number % 2 == 0 else tuple(reversed(PROCESSES))
                for scenario, user_class in SCENARIOS.items():
                    for processes in order:
                        result = run_locust(
                            server,
                            env,
                            user_class,
                            users=args.users,
                            seconds=args.seconds,
                            processes=processes,
                        )
                        results.setdefault((scenario, processes), []).append(result)
                        print(
                            f"round {round_number + 1}: {scenario:<22} --processes {processes}: "
                            f"{result.rate:6.0f} req/s ({result.failures} failed)  cores: server "
                            f"{result.server_cores:.2f}, locust {result.locust_cores:.2f} "
                            f"({result.locust_us_per_request:.0f} us/request), "
                            f"others {result.other_cores:.2f}",
                            flush=True,
                        )
        finally:
            server.stop()
    for scenario in SCENARIOS:
        rates, costs = {}, {}
        for processes in PROCESSES:
            runs = results[(scenario, processes)]
            rates[processes] = statistics.median(r.rate for r in runs)
            server_cores = statistics.median(r.server_cores for r in runs)
            locust_cores = statistics.median(r.locust_cores for r in runs)
            costs[processes] = statistics.median(r.locust_us_per_request for r in runs)
            print(
                f"median {scenario:<22} --processes {processes}: {rates[processes]:6.0f} req/s  "
                f"cores: server {server_cores:.2f}, locust {locust_cores:.2f} "
                f"({costs[processes]:.0f} us of Locust CPU per request)"
            )
        print(f"ratio {scenario}: 2 processes / 1 = {rates[2] / rates[1]:.2f} (target >= 1.6 off-bottleneck)")
        # Not measured: what two Locust cores would send if the server kept up, from the CPU cost.
        print(f"  projection with a core per worker: {2 * costs[1] / costs[2]:.2f}x (2 x cost@1 / cost@2)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
