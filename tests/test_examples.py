"""Every file in examples/ runs green, as a user would run it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from sergio_kit.target.embedded import clean_environment

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("test_*.py")), ids=lambda p: p.name)
def test_example_runs(example: Path, tmp_path: Path) -> None:
    """The example's tests pass against the embedded server, run by pytest in a fresh process; none is
    skipped (the embedded server offers everything the plugin's fixtures need)."""
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(example),
            "-q",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        env=clean_environment(),
        cwd=tmp_path,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " passed" in result.stdout and "skipped" not in result.stdout, result.stdout[-3000:]
