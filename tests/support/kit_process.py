"""Run the ``sergio-kit`` command as a real process, as a user would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sergio_kit.target.embedded import clean_environment

LIVE_LOGIN = {"SERGIO_EMAIL": "qa@example.com", "SERGIO_PASSWORD": "not-a-real-password"}


def run_kit(
    *arguments: str, env: dict[str, str] | None = None, timeout: float = 300, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m sergio_kit ARGS`` with ``env`` on top of a clean environment, in ``cwd`` (default:
    this process's working folder); capture output."""
    return subprocess.run(
        [sys.executable, "-m", "sergio_kit", *arguments],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**clean_environment(), **(env or {})},
        cwd=cwd,
        check=False,
    )
