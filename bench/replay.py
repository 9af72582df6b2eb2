"""Benchmark: replaying every committed cassette offline, with contract validation.

Run: ``.venv/bin/python bench/replay.py [--folder fixtures/cassettes] [--runs 3]``. Each run builds
the validator afresh (the contract parsed and its schemas compiled as they are needed), replays every
interaction through vcrpy with the network blocked and validates it. Target (issue 5): under 5 s.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from sergio_kit.cassettes.replay import replay_folder
from sergio_kit.cassettes.validate import ContractValidator

DEFAULT_FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "cassettes"


def main() -> None:
    """Time the runs; print each, the median, and the interactions per second."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="cassette folder")
    parser.add_argument("--runs", type=int, default=3, help="runs (default 3)")
    args = parser.parse_args()
    times = []
    for number in range(1, args.runs + 1):
        started = time.perf_counter()
        results = replay_folder(args.folder, ContractValidator())
        seconds = time.perf_counter() - started
        times.append(seconds)
        interactions = sum(result.interactions for result in results)
        problems = sum(len(result.problems) for result in results)
        print(
            f"run {number}: {len(results)} cassettes, {interactions} interactions, {problems} problems, "
            f"{seconds:.2f} s ({interactions / seconds:.0f} interactions/s)"
        )
    print(f"median {statistics.median(times):.2f} s (target: under 5 s)")


if __name__ == "__main__":
    main()
