"""``sergio-kit serve``: validate the options, then hand over to the server runner."""

from __future__ import annotations

import argparse

from sergio_kit.errors import SergioKitError


def run_serve(args: argparse.Namespace) -> int:
    """Run the reference server until Ctrl-C; return the exit code."""
    from sergio_kit.server.faults import FAULTS, Faults, UnknownFaultError
    from sergio_kit.server.settings import DEFAULT_LIMITS, Settings, parse_limit

    if args.list_faults:
        width = max(map(len, FAULTS))
        for fault_id, description in FAULTS.items():
            print(f"{fault_id:<{width}}  {description}")
        return 0
    try:
        limits = dict(DEFAULT_LIMITS)
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
            limits=limits,
            ready_file=args.ready_file.resolve() if args.ready_file else None,
        )
    except (ValueError, UnknownFaultError) as error:
        raise SergioKitError(str(error)) from None
    from sergio_kit.server.runner import serve

    try:
        serve(settings)
    except OSError as error:
        raise SergioKitError(str(error)) from None
    return 0
