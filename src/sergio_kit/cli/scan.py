"""``sergio-kit scan-cassettes PATH``: fail when a cassette (or any file under PATH) holds a secret.

Exit 0 when clean, 1 with one line per leak (the secret itself is never printed), 2 when PATH does
not exist.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from sergio_kit.cli.settings import add_setting_options, resolve_settings
from sergio_kit.config import KitConfig
from sergio_kit.errors import SergioKitError

HELP = "fail if cassettes (or any file under PATH) hold a token, key, webhook secret or password"
DESCRIPTION = (
    "Scan PATH (a file, or every file under a folder) for secrets that must never be "
    "committed: JWTs, sk_live_/sk_test_ API keys, whsec_ webhook secrets, the seeded test accounts' "
    "passwords (plus the password and other_password settings when set: SERGIO_PASSWORD, "
    "SERGIO_OTHER_PASSWORD or the config file), and in cassettes any "
    "Authorization, X-API-Key, Cookie, Set-Cookie, X-Sergio-Signature or X-Sergio-Clock-Token value "
    "and any password/token/refresh_token/key/secret/api_key JSON field (compressed bodies "
    "included) that is not a <redacted:KIND:N> placeholder. Prints one line per leak, file:line: "
    "kind: masked excerpt (never the secret). Exit 0: clean; 1: secrets found; 2: PATH missing."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``scan-cassettes`` options: its settings (from the settings table) and PATH."""
    add_setting_options(parser, "scan-cassettes")
    parser.add_argument(
        "path",
        type=Path,
        metavar="PATH",
        help="a cassette file, or a folder whose files are all scanned (e.g. fixtures/)",
    )


def known_secrets(settings: KitConfig) -> list[str]:
    """What the scanner looks for besides the patterns: the seeded accounts' passwords, plus the
    ``password`` and ``other_password`` settings in force when set."""
    from sergio_kit.cassettes.scan import seeded_passwords

    return seeded_passwords() + [secret for secret in (settings.password, settings.other_password) if secret]


def run(args: argparse.Namespace) -> int:
    """Scan ``args.path``; print one line per leak; return 1 if there is any, else 0."""
    from sergio_kit.cassettes.scan import scan_path

    settings = resolve_settings(args, "scan-cassettes")
    path: Path = args.path
    if not path.exists():
        raise SergioKitError(
            f"scan-cassettes: {path} does not exist; give a cassette file or a folder, "
            "e.g. sergio-kit scan-cassettes fixtures/"
        )
    leaks = scan_path(path, known_secrets(settings))
    for leak in leaks:
        print(leak)
    files = len({leak.file for leak in leaks})
    if leaks:
        print(f"sergio-kit scan-cassettes: {len(leaks)} secret(s) in {files} file(s) under {path}")
        return 1
    print(f"sergio-kit scan-cassettes: no secrets in {path}")
    return 0
