"""``sergio-kit load``: the options; :mod:`sergio_kit.load.run` runs Locust and judges the run."""

from __future__ import annotations

import argparse
from pathlib import Path

PROFILES = ("conformance", "capacity")

HELP = "run the Locust load scenarios headless (against the embedded server unless --base-url)"
DESCRIPTION = (
    "Run the Locust scenarios of load/ headless in child processes, classify every "
    "response per rate-limit tier and exit 1 on any failure class. Passwords go to Locust through "
    "its environment (SERGIO_EMAIL/SERGIO_PASSWORD), never the command line."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sergio-kit load``."""
    parser.add_argument(
        "--profile", choices=PROFILES, default="conformance", help="load profile (default conformance)"
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="HTTPS base URL of a live target (or SERGIO_BASE_URL); default: embedded server",
    )
    parser.add_argument(
        "--ca-bundle", type=Path, default=None, help="PEM CA bundle of the target (or SERGIO_CA_BUNDLE)"
    )
    parser.add_argument(
        "--users",
        type=int,
        default=None,
        help="capacity: simulated users (default 20); conformance: users per tier",
    )
    parser.add_argument(
        "--duration", type=float, default=None, help="run length in seconds (default: two windows)"
    )
    parser.add_argument(
        "--window",
        type=float,
        default=None,
        help="conformance: seconds over which each tier gets 1.5x its limit (default 60)",
    )
    parser.add_argument("--processes", type=int, default=None, help="fork this many local Locust workers")
    parser.add_argument("--master", action="store_true", help="run as a Locust master (distributed mode)")
    parser.add_argument("--expect-workers", type=int, default=1, help="with --master: workers to wait for")
    parser.add_argument("--worker", action="store_true", help="run as a Locust worker of --master-host")
    parser.add_argument("--master-host", default="127.0.0.1", help="with --worker: the master's address")
    parser.add_argument(
        "--fault", action="append", default=[], metavar="CHECK_ID", help="embedded server fault (repeatable)"
    )
    parser.add_argument("--report", type=Path, default=None, help="report folder (default reports/load)")
    parser.add_argument(
        "--locustfile",
        type=Path,
        default=None,
        metavar="FILE",
        help="your own Locust scenarios to run instead of the packaged ones (their users set the "
        "request names the per-tier summary reads: '<tier> [<class>]')",
    )


def run(args: argparse.Namespace) -> int:
    """Run the load scenarios (see :func:`sergio_kit.load.run.run_load`)."""
    from sergio_kit.load.run import run_load

    return run_load(args)
