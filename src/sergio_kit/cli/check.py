"""``sergio-kit check``: resolve the settings, then run the conformance suite
(:mod:`sergio_kit.suite.runner`)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from sergio_kit.config import GROUPS, load_config
from sergio_kit.errors import SergioKitError

HELP = "run the conformance suite (against the embedded server unless --base-url is given)"
DESCRIPTION = (
    "Run the conformance suite. Without --base-url the embedded reference server is started on free "
    "loopback ports (TLS, test clock on) and stopped afterwards."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sergio-kit check``."""
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML settings file (or SERGIO_CONFIG; default: sergio-kit.toml, else [tool.sergio-kit] in "
        "pyproject.toml). Precedence: options > SERGIO_* environment > file > defaults",
    )
    parser.add_argument(
        "--base-url",
        default=None,
        help="HTTPS base URL of a live target, e.g. https://staging.example (or SERGIO_BASE_URL); "
        "without it the embedded server runs",
    )
    parser.add_argument(
        "--ca-bundle",
        type=Path,
        default=None,
        help="PEM CA bundle that signed the target's certificate (or SERGIO_CA_BUNDLE)",
    )
    parser.add_argument("--email", default=None, help="login email for a live target (or SERGIO_EMAIL)")
    parser.add_argument(
        "--password",
        default=None,
        help="login password for a live target; prefer SERGIO_PASSWORD, the command line is visible to "
        "other users",
    )
    parser.add_argument(
        "--other-email",
        default=None,
        help="admin email of a second tenant, for cross-tenant checks (or SERGIO_OTHER_EMAIL)",
    )
    parser.add_argument(
        "--other-password",
        default=None,
        help="the second tenant's password; prefer SERGIO_OTHER_PASSWORD, the command line is visible "
        "to other users",
    )
    parser.add_argument(
        "--receiver-cert",
        type=Path,
        default=None,
        metavar="PEM",
        help="key + certificate chain your target trusts, so its webhooks reach the kit's receiver on this "
        "machine (or SERGIO_RECEIVER_CERT; the embedded server needs none)",
    )
    parser.add_argument(
        "--only",
        default=None,
        metavar="GROUP[,GROUP]",
        help=f"run only these check groups: {', '.join(GROUPS)} (or SERGIO_ONLY; default: all)",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="start the embedded server with this fault (to see a check fail); repeatable",
    )
    parser.add_argument(
        "--max-examples",
        default=None,
        help="Hypothesis examples per operation (or SERGIO_MAX_EXAMPLES; default 25)",
    )
    parser.add_argument(
        "--tier-limits",
        default=None,
        metavar="TIER=N,...",
        help="the target's quota per 60 s for the tiers it sets differently from the published "
        "auth=10,read=120,write=60,webhook=10,bulk=10 (or SERGIO_TIER_LIMITS); the embedded server "
        "is started with them",
    )
    parser.add_argument(
        "--cassettes",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="recorded cassettes for the cassette group to replay against the contract and scan for "
        "secrets (or SERGIO_CASSETTES; default: fixtures/cassettes)",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=None,
        help="folder for the reports (or SERGIO_REPORT_DIR; default: reports/)",
    )


def run(args: argparse.Namespace) -> int:
    """Run the suite; exit 0 when every check passed (skips allowed), 1 on a failure, 2 on misuse."""
    settings = load_config({**vars(args), "report_dir": args.report}, os.environ, Path.cwd())
    if settings.base_url is not None and args.fault:
        raise SergioKitError(
            f"--fault only applies to the embedded server, but {settings.sources['base_url']} sets a live "
            "target: drop one of them"
        )
    if args.fault:
        from sergio_kit.server.faults import Faults, UnknownFaultError

        try:
            Faults(args.fault)
        except UnknownFaultError as error:
            raise SergioKitError(str(error)) from None
    from sergio_kit.suite.runner import run_suite

    return run_suite(settings, args.fault)
