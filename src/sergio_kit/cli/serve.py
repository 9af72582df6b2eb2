"""``sergio-kit serve``: validate the options, then hand over to the server runner."""

from __future__ import annotations

import argparse
from pathlib import Path

from sergio_kit.errors import SergioKitError

HELP = "run the reference Sergio server (HTTPS on loopback)"
DESCRIPTION = "Run the reference Sergio server on loopback with a test CA. Ctrl-C stops it."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``sergio-kit serve``."""
    parser.add_argument(
        "--host", default="127.0.0.1", help="loopback address to listen on (default 127.0.0.1)"
    )
    parser.add_argument(
        "--port", type=int, default=8443, help="HTTPS port; 0 picks a free one (default 8443)"
    )
    parser.add_argument(
        "--http-port",
        type=int,
        default=None,
        help="also open a plain-HTTP port that answers every request 403 https_required (0: a free port)",
    )
    parser.add_argument(
        "--data",
        type=Path,
        default=Path(".sergio-data"),
        help="folder for the SQLite database, the test CA (ca.pem), the server certificate, the JWT "
        "signing key and credentials.json; data survives restarts (default .sergio-data)",
    )
    parser.add_argument(
        "--jwt-alg",
        choices=("RS256", "ES256", "HS256"),
        default="RS256",
        help="the one algorithm tokens are signed and verified with: RS256 or ES256 (a private key in "
        "the data folder, public keys at /.well-known/jwks.json) or HS256 (a shared secret, no public "
        "keys); default RS256",
    )
    parser.add_argument(
        "--test-clock",
        action="store_true",
        help="enable POST /_sergio/clock (guarded by a token printed at start-up) to advance time",
    )
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="CHECK_ID",
        help="break the rule that CHECK_ID checks (repeatable); see --list-faults",
    )
    parser.add_argument("--list-faults", action="store_true", help="list every fault and exit")
    parser.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME",
        help="take another choice the published docs allow (not a fault; repeatable); see --list-variants",
    )
    parser.add_argument("--list-variants", action="store_true", help="list every variant and exit")
    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="TIER=N",
        help="override a tier's requests per 60 s, e.g. read=1000000 for benchmarks (repeatable)",
    )
    parser.add_argument(
        "--delay",
        action="append",
        default=[],
        metavar="TIER=DURATION",
        help="add this latency to every request of a tier, e.g. read=50ms (repeatable): a known delay "
        "to check load figures and thresholds against",
    )
    parser.add_argument(
        "--ready-file",
        type=Path,
        default=None,
        help="write the server's URLs, CA path and test-clock token here (JSON) once it is listening",
    )


def run(args: argparse.Namespace) -> int:
    """Run the reference server until Ctrl-C; return the exit code."""
    from sergio_kit.contract.delays import parse_delay
    from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS
    from sergio_kit.server.faults import FAULTS, Faults, UnknownFaultError
    from sergio_kit.server.settings import Settings, parse_limit
    from sergio_kit.server.variants import VARIANTS, UnknownVariantError, Variants

    if args.list_faults:
        width = max(map(len, FAULTS))
        for fault_id, description in FAULTS.items():
            print(f"{fault_id:<{width}}  {description}")
        return 0
    if args.list_variants:
        width = max(map(len, VARIANTS))
        for name, variant in VARIANTS.items():
            print(f"{name:<{width}}  {variant.description}")
        return 0
    try:
        limits = dict(DEFAULT_TIER_LIMITS)
        limits.update(parse_limit(text) for text in args.limit)
        for name, port in (("--port", args.port), ("--http-port", args.http_port)):
            if port is not None and not 0 <= port <= 65535:
                raise ValueError(f"{name} {port} is not a port number (0..65535)")
        settings = Settings(
            data_dir=args.data.resolve(),
            host=args.host,
            port=args.port,
            http_port=args.http_port,
            test_clock=args.test_clock,
            faults=Faults(args.fault),
            variants=Variants(args.variant),
            limits=limits,
            ready_file=args.ready_file.resolve() if args.ready_file else None,
            jwt_alg=args.jwt_alg,
            delays=dict(parse_delay(text) for text in args.delay),
        )
    except (ValueError, UnknownFaultError, UnknownVariantError) as error:
        raise SergioKitError(str(error)) from None
    from sergio_kit.server.runner import serve

    try:
        serve(settings)
    except OSError as error:
        raise SergioKitError(str(error)) from None
    return 0
