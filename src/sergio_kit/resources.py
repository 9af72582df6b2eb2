"""Locate the files that ship with the kit: the contract and the seeded test accounts.

The contract is packaged under ``sergio_kit/contracts/`` in a wheel and lives at the repository root
(``contracts/``) in a source checkout. The seeded accounts live with the reference server
(``sergio_kit/server/accounts.toml``) in both, so ``fixtures/`` holds no password.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent
_REPO_ROOT = _PACKAGE_DIR.parents[1]


def _locate(relative: str) -> Path:
    for base in (_PACKAGE_DIR, _REPO_ROOT):
        candidate = base / relative
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"sergio-kit resource {relative!r} is missing from the installation")


def contract_path() -> Path:
    """Path of ``sergio.openapi.yaml``, the contract every check and the reference server read."""
    return _locate("contracts/sergio.openapi.yaml")


def accounts_path() -> Path:
    """Path of ``server/accounts.toml``, the test-only accounts seeded into the reference server."""
    return _locate("server/accounts.toml")
