"""``sergio-kit``: serve the reference server, run the conformance checks.

User mistakes end with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from sergio_kit import __version__
from sergio_kit.config import GROUPS
from sergio_kit.errors import SergioKitError


def build_parser() -> argparse.ArgumentParser:
    """The ``sergio-kit`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="sergio-kit",
        description="Contract, auth and rate-limit testing for the Sergio API, with a reference server.",
    )
    parser.add_argument("--version", action="version", version=f"sergio-kit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    _add_serve(commands)
    _add_check(commands)
    _add_load(commands)
    _add_scan(commands)
    _add_record(commands)
    return parser


def _add_serve(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the reference Sergio server (HTTPS on loopback)",
        description="Run the reference Sergio server on loopback with a test CA. Ctrl-C stops it.",
    )
    serve.add_argument(
        "--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)"
    )
    serve.add_argument("--port", type=int, default=8443, help="HTTPS port; 0 picks a free one (default 8443)")
    serve.add_argument(
        "--http-port",
        type=int,
        default=None,
        help="also open a plain-HTTP port that answers every request 403 https_required (0: a free port)",
    )
    serve.add_argument(
        "--data",
        type=Path,
        default=Path(".sergio-data"),
        help="folder for the SQLite database, the test CA (ca.pem), the server certificate, the JWT "
        "secret and credentials.json; data survives restarts (default .sergio-data)",
    )
    serve.add_argument(
        "--test-clock",
        action="store_true",
        help="enable POST /_sergio/clock (guarded by a token printed at start-up) to advance time",
    )
    serve.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="break the rule that CHECK_ID checks (repeatable); see --list-faults",
    )
    serve.add_argument("--list-faults", action="store_true", help="list every fault and exit")
    serve.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="TIER=N",
        help="override a tier's requests per 60 s, e.g. read=1000000 for benchmarks (repeatable)",
    )
    serve.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write the server's URLs, CA path and test-clock token here (JSON) once it is listening",
    )


def _add_check(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    check = commands.add_parser(
        "check",
        help="run the conformance suite (against the embedded server unless --base-url is given)",
        description="Run the conformance suite. Without --base-url the embedded reference server is "
        "started on free loopback ports (TLS, test clock on) and stopped afterwards.",
    )
    check.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="TOML settings file (or SERGIO_CONFIG; default: sergio-kit.toml, else [tool.sergio-kit] in "
        "pyproject.toml). Precedence: options > SERGIO_* environment > file > defaults",
    )
    check.add_argument(
        "--base-url",
        default=None,
        help="HTTPS base URL of a live target, e.g. https://staging.example (or SERGIO_BASE_URL); "
        "without it the embedded server runs",
    )
    check.add_argument(
        "--ca-bundle",
        type=Path,
        default=None,
        help="PEM CA bundle that signed the target's certificate (or SERGIO_CA_BUNDLE)",
    )
    check.add_argument("--email", default=None, help="login email for a live target (or SERGIO_EMAIL)")
    check.add_argument(
        "--password",
        default=None,
        help="login password for a live target; prefer SERGIO_PASSWORD, the command line is visible to "
        "other users",
    )
    check.add_argument(
        "--other-email",
        default=None,
        help="admin email of a second tenant, for cross-tenant checks (or SERGIO_OTHER_EMAIL)",
    )
    check.add_argument(
        "--other-password",
        default=None,
        help="the second tenant's password; prefer SERGIO_OTHER_PASSWORD, the command line is visible "
        "to other users",
    )
    check.add_argument(
        "--receiver-cert",
        type=Path,
        default=None,
        metavar="PEM",
        help="key + certificate chain your target trusts, so its webhooks reach the kit's receiver on this "
        "machine (or SERGIO_RECEIVER_CERT; the embedded server needs none)",
    )
    check.add_argument(
        "--only",
        default=None,
        metavar="GROUP[,GROUP]",
        help=f"run only these check groups: {', '.join(GROUPS)} (or SERGIO_ONLY; default: all)",
    )
    check.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="start the embedded server with this fault (to see a check fail); repeatable",
    )
    check.add_argument(
        "--max-examples",
        default=None,
        help="Hypothesis examples per operation (or SERGIO_MAX_EXAMPLES; default 25)",
    )
    check.add_argument(
        "--tier-limits",
        default=None,
        metavar="TIER=N,...",
        help="the target's quota per 60 s for the tiers it sets differently from the published "
        "auth=10,read=120,write=60,webhook=10,bulk=10 (or SERGIO_TIER_LIMITS); the embedded server "
        "is started with them",
    )
    check.add_argument(
        "--cassettes",
        type=Path,
        default=None,
        metavar="FOLDER",
        help="recorded cassettes for the cassette group to replay against the contract and scan for "
        "secrets (or SERGIO_CASSETTES; default: fixtures/cassettes)",
    )
    check.add_argument(
        "--report",
        type=Path,
        default=None,
        help="folder for the reports (or SERGIO_REPORT_DIR; default: reports/)",
    )


def _add_load(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    load = commands.add_parser(
        "load",
        help="run the Locust load scenarios headless (against the embedded server unless --base-url)",
        description="Run the Locust scenarios of load/ headless in child processes, classify every "
        "response per rate-limit tier and exit 1 on any failure class. Passwords go to Locust through "
        "its environment (SERGIO_EMAIL/SERGIO_PASSWORD), never the command line.",
    )
    from sergio_kit.load_command import add_load_arguments

    add_load_arguments(load)


def _add_scan(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    scan = commands.add_parser(
        "scan-cassettes",
        help="fail if cassettes (or any file under PATH) hold a token, key, webhook secret or password",
        description="Scan PATH (a file, or every file under a folder) for secrets that must never be "
        "committed: JWTs, sk_live_/sk_test_ API keys, whsec_ webhook secrets, the seeded test accounts' "
        "passwords (plus SERGIO_PASSWORD / SERGIO_OTHER_PASSWORD when set), and in cassettes any "
        "Authorization, X-API-Key, Cookie, Set-Cookie, X-Sergio-Signature or X-Sergio-Clock-Token value "
        "and any password/token/refresh_token/key/secret/api_key JSON field (compressed bodies "
        "included) that is not a <redacted:KIND:N> placeholder. Prints one line per leak, file:line: "
        "kind: masked excerpt (never the secret). Exit 0: clean; 1: secrets found; 2: PATH missing.",
    )
    from sergio_kit.scan_command import add_scan_arguments

    add_scan_arguments(scan)


def _add_record(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    record = commands.add_parser(
        "record",
        help="record the scripted tour of every operation into redacted vcrpy cassettes, one per flow",
        description="Drive a scripted tour of every contract operation (auth, jobs, bulk, webhooks, "
        "api-keys, zapier, ratelimit, health, errors) through a TLS-verifying httpx client under vcrpy "
        "and write one cassette per flow, every secret replaced by a <redacted:KIND:N> placeholder. "
        "Without --base-url the embedded reference server is started (its seeded accounts, test clock "
        "and webhook receiver certificate). A live target takes its login from SERGIO_EMAIL and "
        "SERGIO_PASSWORD, an optional second tenant from SERGIO_OTHER_EMAIL and SERGIO_OTHER_PASSWORD "
        "(environment or config file, never the command line), SERGIO_RECEIVER_CERT to record a "
        "webhook delivery, SERGIO_CLOCK_URL and SERGIO_CLOCK_TOKEN to give the 429 a fresh window, and "
        "SERGIO_TIER_LIMITS when its bulk quota is not 10. Everything the tour creates is deleted again.",
    )
    from sergio_kit.record_command import add_record_arguments

    add_record_arguments(record)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sergio-kit`` console script."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "serve":
            from sergio_kit.serve_command import run_serve

            return run_serve(args)
        if args.command == "load":
            from sergio_kit.load_command import run_load

            return run_load(args)
        if args.command == "scan-cassettes":
            from sergio_kit.scan_command import run_scan

            return run_scan(args)
        if args.command == "record":
            from sergio_kit.record_command import run_record

            return run_record(args)
        from sergio_kit.check_command import run_check

        return run_check(args)
    except SergioKitError as error:
        print(f"sergio-kit: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
