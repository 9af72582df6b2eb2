"""``sergio-kit load``: the options; :mod:`sergio_kit.load.run` runs Locust and judges the run."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sergio_kit.cli.settings import (
    add_setting_options,
    refuse_faults_on_a_live_target,
    refuse_unknown_faults_and_variants,
    resolve_settings,
)
from sergio_kit.config import KitConfig
from sergio_kit.contract.delays import parse_delay
from sergio_kit.errors import SergioKitError
from sergio_kit.load.baseline import DEFAULT_TOLERANCE, parse_tolerance

PROFILES = ("conformance", "capacity")
ACCOUNTS_VARIABLE = "SERGIO_LOAD_ACCOUNTS"  # JSON list of {"email", "password"}: the load's logins
#: The operations the packaged scenarios (load/locustfile.py) send: a variant removing one is refused.
SCENARIO_OPERATIONS = (
    "POST /v1/auth/login",
    "POST /v1/auth/refresh",
    "GET /v1/jobs",
    "POST /v1/jobs",
    "POST /v1/webhooks",
    "POST /v1/jobs/bulk",
)

HELP = "run the Locust load scenarios headless (against the embedded server unless --base-url)"
DESCRIPTION = (
    "Run the Locust scenarios of load/ headless in child processes, classify every "
    "response per rate-limit tier and exit 1 on any failure (a breach of a recommended rule, such as "
    "the kit's rolling window, only warns; --strict fails warnings too). A live target's login comes from "
    "SERGIO_EMAIL/SERGIO_PASSWORD (and SERGIO_OTHER_EMAIL/SERGIO_OTHER_PASSWORD) or the config file, "
    "or from SERGIO_LOAD_ACCOUNTS (a JSON list of {email, password}); "
    "passwords reach Locust through its environment, never a command line."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sergio-kit load``."""
    parser.add_argument(
        "--profile", choices=PROFILES, default="conformance", help="load profile (default conformance)"
    )
    add_setting_options(parser, "load")
    parser.add_argument(
        "--users",
        type=int,
        default=None,
        help="capacity: users of the last step (default 256); conformance: users per tier",
    )
    parser.add_argument(
        "--duration",
        type=float,
        default=None,
        help="run length in seconds (default: two windows; capacity: until the step load stops)",
    )
    parser.add_argument(
        "--start-users",
        type=int,
        default=None,
        metavar="N",
        help="capacity: users of the first step (default 1); each next step has 1.5x as many",
    )
    parser.add_argument(
        "--step-duration",
        type=float,
        default=None,
        metavar="SECONDS",
        help="capacity: seconds each step is held (default 10), measured after its first quarter",
    )
    parser.add_argument(
        "--abort-on-fail",
        action="store_true",
        help="stop the run as soon as its figures so far break a threshold on a latency or the error rate",
    )
    parser.add_argument(
        "--save-baseline",
        type=Path,
        default=None,
        metavar="FILE",
        help="write this run's figures (with the kit version, target, profile and machine) for --baseline",
    )
    parser.add_argument(
        "--baseline",
        type=Path,
        default=None,
        metavar="FILE",
        help="compare with a --save-baseline file of an earlier run; fail on a worse p95/p99 or a lower "
        "knee beyond --tolerance",
    )
    parser.add_argument(
        "--tolerance",
        type=_tolerance,
        default=DEFAULT_TOLERANCE,
        metavar="PERCENT",
        help="with --baseline: how much worse a figure may be (default 10%%)",
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
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="start the embedded server taking this allowed choice, e.g. fixed-window "
        "(sergio-kit serve --list-variants); repeatable",
    )
    parser.add_argument(
        "--delay",
        action="append",
        default=[],
        metavar="TIER=DURATION",
        help="start the embedded server adding this latency to a tier's requests, e.g. read=50ms "
        "(sergio-kit serve --delay); repeatable",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="folder for this run's reports (default: load/ in the report folder, which is SERGIO_REPORT_DIR "
        "or the config file's report_dir, else reports/)",
    )
    parser.add_argument(
        "--locustfile",
        type=Path,
        default=None,
        metavar="FILE",
        help="your own Locust scenarios to run instead of the packaged ones (their users set the "
        "request names the per-tier summary reads: '<tier> [<class>]')",
    )


def _tolerance(text: str) -> float:
    """``--tolerance``: a percentage; a bad one is argparse's one-line usage error (exit 2)."""
    try:
        return parse_tolerance(text)
    except SergioKitError as error:
        raise argparse.ArgumentTypeError(str(error).removeprefix("--tolerance has value ")) from None


def load_settings(args: argparse.Namespace) -> KitConfig:
    """The settings in force for ``load``. A live target's logins are SERGIO_EMAIL/SERGIO_PASSWORD (and
    the other tenant's), or the ``SERGIO_LOAD_ACCOUNTS`` list the Locust processes read themselves."""
    return resolve_settings(args, "load", require_login=not os.environ.get(ACCOUNTS_VARIABLE))


def run(args: argparse.Namespace) -> int:
    """Run the load scenarios (see :func:`sergio_kit.load.run.run_load`); a ``--worker`` takes its
    settings from its environment only (:func:`sergio_kit.load.run.run_worker`)."""
    from sergio_kit.load.run import run_load, run_worker

    if args.worker:
        return run_worker(args)
    settings = load_settings(args)
    refuse_faults_on_a_live_target(settings, args.fault, args.variant)
    if args.delay and settings.base_url is not None:
        raise SergioKitError(
            f"--delay only applies to the embedded server, but {settings.sources['base_url']} sets a live "
            "target: drop one of them"
        )
    for delay in args.delay:
        check_delay(delay)
    for name in ("users", "start_users"):
        value = getattr(args, name)
        if value is not None and value < 1:
            raise SergioKitError(f"--{name.replace('_', '-')} has value {value}: expected 1 or more")
    if args.step_duration is not None and args.step_duration <= 0:
        raise SergioKitError(f"--step-duration has value {args.step_duration:g}: expected seconds above 0")
    refuse_unknown_faults_and_variants(args.fault, args.variant)
    if args.locustfile is None:
        refuse_variants_without_scenario_operations(args.variant)
    return run_load(args, settings)


def check_delay(text: str) -> None:
    """Stop with one line on a ``--delay`` the embedded server would refuse, before it starts (the
    server's own parser, :func:`sergio_kit.contract.delays.parse_delay`)."""
    try:
        parse_delay(text)
    except ValueError as error:
        raise SergioKitError(str(error)) from None


def refuse_variants_without_scenario_operations(variants: list[str]) -> None:
    """Stop with one line when a ``--variant`` removes an operation the packaged scenarios send (its
    404s would be counted as failures of a correct deployment)."""
    from sergio_kit.server.variants import VARIANTS

    for name in variants:
        used = [label for label in VARIANTS[name].removes if label in SCENARIO_OPERATIONS]
        if used:
            raise SergioKitError(
                f"--variant {name} removes {', '.join(used)}, which the load scenarios use: drop the "
                "variant, or run scenarios of your own without it (--locustfile FILE)"
            )
