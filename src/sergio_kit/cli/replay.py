"""``sergio-kit replay-cassettes PATH...``: replay recorded cassettes offline and check every recorded
exchange against the contract. No target, no server, no login, and the network blocked: what
``cassette.replay`` checks in ``sergio-kit check``, for a pre-commit hook or any CI step.

Exit 0 when every cassette replays and conforms, 1 with one line per problem (masked), 2 when a PATH
does not exist or a setting is wrong.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sergio_kit.cli.settings import add_setting_options, resolve_settings
from sergio_kit.errors import SergioKitError
from sergio_kit.reports.redaction import mask_text

HELP = "replay cassettes offline (no target, network blocked) and check them against the contract"
DESCRIPTION = (
    "Replay every interaction of the cassettes under each PATH offline (sockets refused: vcrpy must "
    "answer it from the cassette, with the recorded status and body) and check each recorded response "
    "against the contract in force (--contract, SERGIO_CONTRACT or the config file, else the packaged "
    "one): a documented status, a body matching its schema, the required headers. Operations a given "
    "contract does not declare are not judged. Prints one line per problem, secrets masked. "
    "Exit 0: every cassette replays and conforms; 1: problems found; 2: a PATH is missing."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``replay-cassettes`` options: its settings (from the settings table) and the PATHs."""
    add_setting_options(parser, "replay-cassettes")
    parser.add_argument(
        "paths",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="a cassette file, or a folder whose *.yaml / *.yml cassettes are all replayed",
    )


def cassettes_under(paths: list[Path]) -> list[Path]:
    """The cassette files ``paths`` name: a file as given, a folder's ``*.yaml`` / ``*.yml`` files."""
    from sergio_kit.cassettes.replay import cassette_files

    missing = [str(path) for path in paths if not path.exists()]
    if missing:
        raise SergioKitError(
            f"replay-cassettes: {', '.join(missing)} does not exist; give cassette files or folders, "
            "e.g. sergio-kit replay-cassettes fixtures/cassettes"
        )
    found = [file for path in paths for file in ([path] if path.is_file() else cassette_files(path))]
    return list(dict.fromkeys(found))


def run(args: argparse.Namespace) -> int:
    """Replay the cassettes under ``args.paths``; print one line per problem; 1 if any, else 0."""
    from sergio_kit.cassettes.replay import replay_cassette
    from sergio_kit.cassettes.validate import ContractValidator
    from sergio_kit.contract.document import packaged_contract
    from sergio_kit.target.contract import contract_in_force

    settings = resolve_settings(args, "replay-cassettes")
    files = cassettes_under(args.paths)
    contract = contract_in_force(settings)
    validator = ContractValidator(contract, only_declared=contract is not packaged_contract())
    problems: list[str] = []
    interactions = 0
    failing = 0
    for path in files:
        try:
            result = replay_cassette(path, validator)
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            found = [f"{path.name}: not a vcrpy cassette ({type(error).__name__}: {error})"]
        else:
            found, interactions = result.problems, interactions + result.interactions
        problems += [f"{path.parent / line}" if path.parent != Path() else line for line in found]
        failing += bool(found)
    for line in problems:
        print(mask_text(" ".join(line.split())))  # one line each, even a YAML parser's message
    where = f"{len(files)} cassette(s), {interactions} interactions, against {contract.source}"
    if problems:
        print(f"sergio-kit replay-cassettes: {len(problems)} problem(s) in {failing} of {where}")
        return 1
    print(f"sergio-kit replay-cassettes: {where}: every exchange replays offline and conforms")
    return 0
