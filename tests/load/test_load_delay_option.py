"""``sergio-kit load --delay``: a value the embedded server would refuse is refused by the load command
itself, in one line, before any server or Locust process starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from sergio_kit.cli.load import check_delay
from sergio_kit.contract.delays import parse_delay
from sergio_kit.errors import SergioKitError
from tests.support.kit_process import run_kit

SAMPLES = [
    "read=50ms",
    "write=0.2s",
    "bulk=60s",
    "auth=0ms",
    "webhook= 5ms",
    "read=61s",
    "read=60001ms",
    "read=fast",
    "read=50",
    "read=-5ms",
    "reads=50ms",
    "read",
    "=50ms",
    "",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_the_load_side_accepts_exactly_what_the_server_accepts(text: str) -> None:
    """``check_delay`` refuses what the server's parser (``parse_delay``, shared) refuses, in its words."""
    try:
        parse_delay(text)
    except ValueError as error:
        with pytest.raises(SergioKitError) as refused:
            check_delay(text)
        assert str(refused.value) == str(error)
    else:
        check_delay(text)


def test_a_bad_delay_is_one_line_and_exit_2_before_the_server_starts(tmp_path: Path) -> None:
    result = run_kit("load", "--delay", "read=fast", "--report", str(tmp_path / "r"), timeout=60)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert result.stderr == (
        "sergio-kit: error: --delay 'read=fast': expected TIER=DURATION with TIER in auth, read, write, "
        "webhook, bulk and DURATION such as 50ms or 0.2s (at most 60s)\n"
    )
    assert "Traceback" not in result.stderr and result.stdout == ""
    assert not (tmp_path / "r").exists()  # the run never began: no report folder
