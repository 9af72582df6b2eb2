"""``sergio-kit``: one subcommand per module of this package, listed in :data:`COMMANDS`.

User mistakes end with one line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from types import ModuleType

from sergio_kit import __version__
from sergio_kit.cli import check, load, record, replay, scan, serve
from sergio_kit.errors import SergioKitError

#: Every command, in ``--help`` order: its name and the module with ``HELP``, ``DESCRIPTION``,
#: ``add_arguments(parser)`` and ``run(args) -> exit code``.
COMMANDS: dict[str, ModuleType] = {
    "serve": serve,
    "check": check,
    "load": load,
    "scan-cassettes": scan,
    "replay-cassettes": replay,
    "record": record,
}


def build_parser() -> argparse.ArgumentParser:
    """The ``sergio-kit`` argument parser with its subcommands."""
    parser = argparse.ArgumentParser(
        prog="sergio-kit",
        description="Contract, auth and rate-limit testing for the Sergio API, with a reference server.",
    )
    parser.add_argument("--version", action="version", version=f"sergio-kit {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        command = commands.add_parser(name, help=module.HELP, description=module.DESCRIPTION)
        module.add_arguments(command)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``sergio-kit`` console script."""
    args = build_parser().parse_args(argv)
    try:
        exit_code: int = COMMANDS[args.command].run(args)
    except SergioKitError as error:
        print(f"sergio-kit: error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        return 130
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
