"""``sergio-kit scan-cassettes PATH...``: fail when a cassette (or any file under a PATH) holds a secret.

Exit 0 when clean, 1 with one line per leak (the secret itself is never printed), 2 when a PATH does
not exist. Several PATHs, as a pre-commit hook passes the files a commit changes, are scanned alike.
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
    "SERGIO_OTHER_PASSWORD or the config file, also URL- or JSON-encoded), and in cassettes any "
    "Authorization (a Basic credential's password), X-API-Key, Cookie, Set-Cookie, X-Sergio-Signature "
    "or X-Sergio-Clock-Token value, any URL password, and any query parameter, JSON field (at any "
    "depth), URL-encoded form field or multipart part named password, token, refresh_token, "
    "access_token, id_token, key, secret, api_key or client_secret (gzip/deflate/brotli bodies and "
    "values YAML folds across lines included) that is not a <redacted:KIND:N> placeholder. Prints one "
    "line per leak, file:line: kind: masked excerpt (never the secret nor a piece of it). Exit 0: "
    "clean; 1: secrets found; 2: PATH missing."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``scan-cassettes`` options: its settings (from the settings table) and PATH."""
    add_setting_options(parser, "scan-cassettes")
    parser.add_argument(
        "paths",
        type=Path,
        nargs="+",
        metavar="PATH",
        help="a cassette file, or a folder whose files are all scanned (e.g. fixtures/); repeatable",
    )


def known_secrets(settings: KitConfig) -> list[str]:
    """What the scanner looks for besides the patterns: the seeded accounts' passwords, plus the
    ``password`` and ``other_password`` settings in force when set."""
    from sergio_kit.cassettes.scan import seeded_passwords

    return seeded_passwords() + [secret for secret in (settings.password, settings.other_password) if secret]


def run(args: argparse.Namespace) -> int:
    """Scan ``args.paths``; print one line per leak; return 1 if there is any, else 0."""
    from sergio_kit.cassettes.scan import scan_path

    settings = resolve_settings(args, "scan-cassettes")
    paths: list[Path] = args.paths
    for path in paths:
        if not path.exists():
            raise SergioKitError(
                f"scan-cassettes: {path} does not exist; give a cassette file or a folder, "
                "e.g. sergio-kit scan-cassettes fixtures/"
            )
    secrets = known_secrets(settings)
    leaks = [leak for path in dict.fromkeys(paths) for leak in scan_path(path, secrets)]
    where = str(paths[0]) if len(paths) == 1 else f"{len(paths)} paths"
    for leak in leaks:
        print(leak)
    files = len({leak.file for leak in leaks})
    if leaks:
        print(f"sergio-kit scan-cassettes: {len(leaks)} secret(s) in {files} file(s) under {where}")
        return 1
    print(f"sergio-kit scan-cassettes: no secrets in {where}")
    return 0
