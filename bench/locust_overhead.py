"""Benchmark: the kit's Locust read user against a bare FastHttpUser, same server, same request.

The kit's read-tier user (``load/locustfile.py``: token pool, ledger classification of every
response, per-class request names) and a bare ``FastHttpUser`` sending ``GET /v1/jobs?limit=5``
with a fixed bearer token run against the same embedded server (every limit lifted), with the
same number of users and no wait time, one Locust process each, in alternating rounds. The ratio
of medians kit/bare is the cost of the kit's bookkeeping. Target (issue 4): >= 0.9.
Run: ``.venv/bin/python bench/locust_overhead.py [--seconds S] [--rounds R] [--users U]``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from locust_runs import Measurement, bench_server, run_locust

CLASSES = {"kit": "KitReadUser", "bare": "BareReadUser"}


def main() -> int:
    """Run the rounds; print each run, the medians and the ratio."""
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=12.0, help="length of one Locust run (default 12)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds (default 3)")
    parser.add_argument("--users", type=int, default=16, help="Locust users per run (default 16)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="sergio-bench-overhead-") as work:
        server, env = bench_server(Path(work))
        try:
            results: dict[str, list[Measurement]] = {name: [] for name in CLASSES}
            for round_number in range(args.rounds):
                order = list(CLASSES) if round_number % 2 == 0 else list(reversed(CLASSES))
                for name in order:
                    result = run_locust(server, env, CLASSES[name], users=args.users, seconds=args.seconds)
                    results[name].append(result)
                    print(
                        f"round {round_number + 1}: {name:<4} {result.rate:7.0f} req/s "
                        f"({result.requests} in {result.seconds:.1f} s, {result.failures} failed)  "
                        f"cores: server {result.server_cores:.2f}, locust {result.locust_cores:.2f} "
                        f"({result.locust_us_per_request:.0f} us/request), others {result.other_cores:.2f}",
                        flush=True,
                    )
        finally:
            server.stop()
    medians = {name: statistics.median(r.rate for r in runs) for name, runs in results.items()}
    cost: dict[str, float] = {}
    for name, runs in results.items():
        server_cores = statistics.median(r.server_cores for r in runs)
        locust_cores = statistics.median(r.locust_cores for r in runs)
        cost[name] = statistics.median(r.locust_us_per_request for r in runs)
        print(
            f"median {name:<4} {medians[name]:7.0f} req/s  cores: server {server_cores:.2f}, "
            f"locust {locust_cores:.2f} ({cost[name]:.0f} us of Locust CPU per request)"
        )
    print(f"ratio kit/bare: {medians['kit'] / medians['bare']:.2f} (target >= 0.9)")
    pairs = [kit.rate / bare.rate for kit, bare in zip(results["kit"], results["bare"], strict=True)]
    listed = ", ".join(f"{r:.2f}" for r in pairs)
    print(f"median of the per-round ratios: {statistics.median(pairs):.2f} ({listed})")
    print(f"Locust CPU per request kit/bare: {cost['kit'] / cost['bare']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
