"""Check levels and ``--strict`` end to end: a real ``sergio-kit check`` process against the embedded
server with a fault, its verdict set by the rule's basis or by the level the user gave."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tests.support.kit_process import run_kit

AUTH_RUN = ("check", "--only", "auth", "--max-examples", "2")


def row(result: subprocess.CompletedProcess[str], check_id: str) -> tuple[str, str]:
    """The status and detail of ``check_id``'s row in the summary table."""
    found = re.search(
        rf"^{re.escape(check_id)}\s+(passed|warned|failed|skipped|error)\b *(.*)$",
        result.stdout,
        re.MULTILINE,
    )
    assert found, f"no row for {check_id}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
    return found.group(1), found.group(2)


def test_levels_turn_a_failure_into_a_warning_and_ignore_a_check(tmp_path: Path) -> None:
    """``--check-level ID=warn`` makes a broken documented rule a warning (exit 0); ``ID=ignore`` skips
    the check with a reason naming the level and where it was set; the header lists both."""
    result = run_kit(
        *AUTH_RUN,
        "--fault",
        "auth.jwt.alg_none",
        "--check-level",
        "auth.jwt.alg_none=warn",
        "--check-level",
        "auth.login.shape=ignore",
        "--report",
        str(tmp_path),
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert row(result, "auth.jwt.alg_none")[0] == "warned"
    status, reason = row(result, "auth.login.shape")
    assert status == "skipped" and "'ignore'" in reason and "--check-level" in reason
    assert "check levels changed: auth.jwt.alg_none warn, auth.login.shape ignore" in result.stdout
    assert "0 failed" in result.stdout


@pytest.mark.parametrize(
    ("extra", "config", "exit_code", "status"),
    [
        ([], "", 0, "warned"),
        (["--strict"], "", 1, "warned"),
        ([], '[checks]\n"auth.login.enumeration" = "fail"\n', 1, "failed"),
    ],
    ids=["recommended-rule-warns", "strict-exits-1", "level-fail-in-sergio-kit-toml"],
)
def test_a_recommended_rule_warns_unless_strict_or_raised(
    tmp_path: Path, extra: list[str], config: str, exit_code: int, status: str
) -> None:
    """A broken recommended rule warns and exits 0; ``--strict`` exits 1 on the warning; a ``fail``
    level in the working folder's sergio-kit.toml makes it a failure."""
    if config:
        (tmp_path / "sergio-kit.toml").write_text(config)
    result = run_kit(
        *AUTH_RUN,
        "--fault",
        "auth.login.enumeration",
        "--report",
        str(tmp_path / "reports"),
        *extra,
        cwd=tmp_path,
    )
    assert result.returncode == exit_code, result.stdout[-3000:] + result.stderr[-2000:]
    assert row(result, "auth.login.enumeration")[0] == status


def test_an_unknown_check_id_is_one_line_and_exit_2(tmp_path: Path) -> None:
    """A level for a check that does not exist stops the run before it starts: exit 2, one line with a
    did-you-mean, no traceback."""
    result = run_kit(
        *AUTH_RUN, "--check-level", "auth.jwt.alg_nun=warn", "--report", str(tmp_path), timeout=60
    )
    assert result.returncode == 2, result.stdout[-3000:] + result.stderr[-2000:]
    assert result.stderr == (
        "sergio-kit: error: --check-level has unknown check 'auth.jwt.alg_nun': did you mean "
        "'auth.jwt.alg_none'? see sergio-kit check --list-checks\n"
    )
    assert not (tmp_path / "junit.xml").exists()
