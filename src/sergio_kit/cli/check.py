"""``sergio-kit check``: resolve the settings, then run the conformance suite
(:mod:`sergio_kit.suite.runner`)."""

from __future__ import annotations

import argparse
import sys

from sergio_kit.cli.settings import (
    add_setting_options,
    refuse_faults_on_a_live_target,
    refuse_unknown_faults_and_variants,
    resolve_settings,
)

HELP = "run the conformance suite (against the embedded server unless --base-url is given)"
DESCRIPTION = (
    "Run the conformance suite. Without --base-url the embedded reference server is started on free "
    "loopback ports (TLS, test clock on) and stopped afterwards."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sergio-kit check``: its settings (from the settings table), ``--fault``,
    ``--variant`` and ``--list-checks``."""
    add_setting_options(parser, "check")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="start the embedded server with this fault (to see a check fail); repeatable",
    )
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="start the embedded server taking this allowed choice, e.g. refresh-without-rotation "
        "(sergio-kit serve --list-variants); repeatable",
    )
    parser.add_argument(
        "--list-checks",
        action="store_true",
        help="list every check with its rule's basis and the level in force, and exit (starts no server)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the suite; exit 0 when every check passed (skips allowed), 1 on a failure, 2 on misuse.
    With ``--list-checks``, list the checks instead (exit 0)."""
    if args.list_checks:
        return list_checks(args)
    settings = resolve_settings(args, "check")
    refuse_faults_on_a_live_target(settings, args.fault, args.variant)
    refuse_unknown_faults_and_variants(args.fault, args.variant)
    from sergio_kit.suite.runner import run_suite

    return run_suite(settings, args.fault, args.variant)


def list_checks(args: argparse.Namespace) -> int:
    """Print the check catalogue with the levels of the resolved settings; 0."""
    from sergio_kit.checks.catalogue import print_catalogue
    from sergio_kit.checks.registry import refuse_unknown_check_levels

    settings = resolve_settings(args, "check", require_login=False)
    refuse_unknown_check_levels(settings)
    print_catalogue(settings.check_levels, sys.stdout, levels_source=settings.sources.get("check_levels", ""))
    return 0
