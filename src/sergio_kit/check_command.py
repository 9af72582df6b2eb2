"""``sergio-kit check``: run the conformance suite with pytest and summarise it by check id."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from sergio_kit.errors import SergioKitError
from sergio_kit.reports import write_reports
from sergio_kit.results import ResultCollector, print_table

SUITE_DIR = Path(__file__).resolve().parent / "suite"


def pytest_arguments(args: argparse.Namespace, report_dir: Path) -> list[str]:
    """The pytest command line for the suite, from ``check``'s options."""
    arguments = [str(SUITE_DIR), "-c", str(SUITE_DIR / "pytest.ini"), "--rootdir", str(SUITE_DIR)]
    arguments += ["-p", "no:terminal"]
    if args.base_url:
        arguments += ["--sergio-base-url", args.base_url]
    if args.ca_bundle:
        arguments += ["--sergio-ca-bundle", str(args.ca_bundle)]
    if args.email:
        arguments += ["--sergio-email", args.email]
    if args.password:
        arguments += ["--sergio-password", args.password]
    if args.max_examples is not None:
        if args.max_examples < 1:
            raise SergioKitError(f"--max-examples {args.max_examples}: give a positive number")
        arguments += ["--sergio-max-examples", str(args.max_examples)]
    for fault in args.fault:
        arguments += ["--sergio-embedded-fault", fault]
    return arguments


def run_check(args: argparse.Namespace) -> int:
    """Run the suite; exit 0 when every check passed (skips allowed), 1 on a failure, 2 on misuse."""
    if args.base_url and args.fault:
        raise SergioKitError("--fault only applies to the embedded server; drop --base-url or --fault")
    if args.base_url and not args.base_url.startswith("https://"):
        raise SergioKitError(f"--base-url {args.base_url!r} is not https://: the Sergio API is HTTPS only")
    if args.fault:
        from sergio_kit.server.faults import Faults, UnknownFaultError

        try:
            Faults(args.fault)
        except UnknownFaultError as error:
            raise SergioKitError(str(error)) from None
    report_dir = args.report or Path("reports")
    report_dir.mkdir(parents=True, exist_ok=True)
    target = args.base_url or os.environ.get("SERGIO_BASE_URL") or "the embedded reference server"
    print(
        f"sergio-kit check: target {target}" + (f" (faults: {', '.join(args.fault)})" if args.fault else "")
    )
    collector = ResultCollector()
    started_at = datetime.now(UTC)
    exit_code = pytest.main(pytest_arguments(args, report_dir), plugins=[collector])
    if collector.usage_error is not None:
        raise collector.usage_error
    print_table(collector.results, sys.stdout)
    paths = write_reports(report_dir, target, collector.results, started_at, datetime.now(UTC))
    counts = collector.counts()
    print(
        f"\n{len(collector.results)} checks: {counts['passed']} passed, {counts['failed']} failed, "
        f"{counts['error']} errors, {counts['skipped']} skipped  (reports: {', '.join(map(str, paths))})"
    )
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        raise SergioKitError(f"the suite could not run (pytest exit code {int(exit_code)})")
    return 0 if counts["failed"] == counts["error"] == 0 else 1
