"""Locate the files that ship with the kit: the contract, the seeded accounts, the Locust scenarios.

In a wheel they are package data: the contract under ``sergio_kit/contracts/``, the scenarios under
``sergio_kit/load/scenarios/``. In a source checkout they live at the repository root, where users
look for them (``contracts/``, ``load/``). The seeded accounts live with the reference server
(``sergio_kit/server/accounts.toml``) in both, so ``fixtures/`` holds no password.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parents[1]
_REPO_ROOT = _PACKAGE_DIR.parents[1]


def _locate(packaged: str, checkout: str | None = None) -> Path:
    for candidate in (_PACKAGE_DIR / packaged, _REPO_ROOT / (checkout or packaged)):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"sergio-kit resource {packaged!r} is missing from the installation")


def contract_path() -> Path:
    """Path of ``sergio.openapi.yaml``, the contract every check and the reference server read."""
    return _locate("contracts/sergio.openapi.yaml")


def example_contract_path(name: str = "documented-only") -> Path:
    """Path of an example contract (``contracts/examples/<name>.openapi.yaml``), e.g. the one that
    declares only what the public documentation shows."""
    return _locate(f"contracts/examples/{name}.openapi.yaml")


def accounts_path() -> Path:
    """Path of ``server/accounts.toml``, the test-only accounts seeded into the reference server."""
    return _locate("server/accounts.toml")


def locustfile_path() -> Path:
    """Path of the packaged ``locustfile.py`` (``load/`` in a checkout), run by ``sergio-kit load``."""
    return _locate("load/scenarios/locustfile.py", "load/locustfile.py")
