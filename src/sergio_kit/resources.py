"""Locate the files that ship with the kit: the contract and the seeded test accounts.

In a wheel they are packaged under ``sergio_kit/``; in a source checkout (editable install) they
live at the repository root (``contracts/``, ``fixtures/``).
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
    """Path of ``accounts.toml``, the test-only accounts seeded into the reference server."""
    return _locate("fixtures/accounts.toml")
