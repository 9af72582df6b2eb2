"""Run a test with exactly the ``SERGIO_*`` environment and working folder it names."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def isolate_settings(monkeypatch: pytest.MonkeyPatch, cwd: Path, environ: dict[str, str]) -> None:
    """Run in ``cwd`` with exactly ``environ`` as the ``SERGIO_*`` environment (the rest untouched)."""
    for key in [key for key in os.environ if key.startswith("SERGIO_")]:
        monkeypatch.delenv(key)
    for key, value in environ.items():
        monkeypatch.setenv(key, value)
    monkeypatch.chdir(cwd)
