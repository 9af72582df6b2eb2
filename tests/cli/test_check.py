"""``sergio-kit check`` end to end: a real CLI process against a real embedded server."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from sergio_kit.contract.resources import accounts_path
from sergio_kit.target.embedded import RunningServer
from tests.support.kit_process import LIVE_LOGIN, run_kit


def test_clean_embedded_server_passes_every_contract_check(tmp_path: Path) -> None:
    """On the clean embedded server every contract check passes, exit 0, with a table and JUnit XML."""
    result = run_kit("check", "--max-examples", "5", "--report", str(tmp_path))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 failed, 0 errors" in result.stdout
    for check_id in ("contract.schemathesis", "contract.stateful", "contract.health", "contract.coverage"):
        assert f"\n{check_id}" in result.stdout, f"{check_id} missing from the summary table"
    junit = (tmp_path / "junit.xml").read_text()
    assert 'name="check_id" value="contract.schemathesis"' in junit


#: Each contract fault, and what its check's failed row must say: the fault's own symptom, so one run
#: with the three faults on still shows each check catching its own.
CONTRACT_FAULTS = {
    "contract.schemathesis": ("GET /v1/jobs", "Server error"),
    "contract.stateful": ("links_job_lifecycle", "a deleted job answered 200"),
    "contract.health": ("", "is not of the form"),
}


def test_each_contract_fault_fails_its_check(tmp_path: Path) -> None:
    """With the contract faults switched on, each check of the same id fails on its own fault's
    symptom, and the run exits 1."""
    faults = [option for fault in CONTRACT_FAULTS for option in ("--fault", fault)]
    result = run_kit("check", "--only", "contract", "--max-examples", "5", *faults, "--report", str(tmp_path))
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    for fault, (subject, symptom) in CONTRACT_FAULTS.items():
        rows = [
            line
            for line in result.stdout.splitlines()
            if line.startswith(fault) and " failed " in line and subject in line and symptom in line
        ]
        assert rows, f"no failed row for {fault} showing {symptom!r}:\n{result.stdout[-3000:]}"


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        (["check", "--base-url", "http://127.0.0.1:9"], "expected an https:// URL"),
        (["check", "--fault", "auth.jwt.alg_nne"], "did you mean 'auth.jwt.alg_none'"),
        (["check", "--max-examples", "0"], "--max-examples has value '0'"),
        (["serve", "--host", "10.1.2.3"], "not a loopback address"),
        (["serve", "--limit", "reads=5"], "expected TIER=N"),
        (["serve", "--fault", "nope"], "unknown fault 'nope'"),
    ],
)
def test_user_mistakes_give_one_line_and_exit_2(arguments: list[str], expected: str) -> None:
    """Bad options: exit 2, one line on stderr naming the problem, no traceback."""
    result = run_kit(*arguments, timeout=60)
    assert result.returncode == 2
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_unreachable_live_target_is_a_clear_error(tmp_path: Path) -> None:
    """A live base URL where nothing listens: exit 2 and a line saying it cannot be reached."""
    env_run = run_kit(
        "check", "--base-url", "https://127.0.0.1:9", "--report", str(tmp_path), env=LIVE_LOGIN, timeout=120
    )
    assert env_run.returncode == 2, env_run.stdout[-2000:] + env_run.stderr[-2000:]
    assert "cannot reach https://127.0.0.1:9" in env_run.stderr
    assert "Traceback" not in env_run.stderr
    assert "not-a-real-password" not in env_run.stdout + env_run.stderr


def test_list_faults_names_every_fault() -> None:
    """``serve --list-faults`` prints each fault id with its description."""
    from sergio_kit.server.faults import FAULTS

    result = run_kit("serve", "--list-faults", timeout=60)
    assert result.returncode == 0
    listed = {line.split()[0] for line in result.stdout.splitlines() if line.strip()}
    assert listed == set(FAULTS)


def test_help_explains_every_option() -> None:
    """Every option of every subcommand has help text, and ``--help`` shows it."""
    import argparse

    from sergio_kit.cli.main import build_parser

    parser = build_parser()
    subcommands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    for name, subparser in subcommands.choices.items():
        for action in subparser._actions:
            assert action.help, f"sergio-kit {name} {action.option_strings} has no help"
    result = run_kit("check", "--help", timeout=60)
    assert result.returncode == 0 and "--base-url" in result.stdout and "--fault" in result.stdout


JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


def test_failure_shows_the_finding_and_never_a_token(tmp_path: Path) -> None:
    """A failed auth check (a standard rule: RFC 8725) prints what was sent, what came back, what was
    expected and a curl line; neither the output nor any report holds a JWT or a seeded password."""
    result = run_kit("check", "--only", "auth", "--fault", "auth.jwt.alg_none", "--report", str(tmp_path))
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    block = result.stdout[result.stdout.index("\nauth.jwt.alg_none (failed, standard rule):") :]
    for label in ("expected:", "sent:", "received:", "curl:"):
        assert label in block, block
    written = result.stdout + result.stderr
    written += "".join(path.read_text() for path in tmp_path.iterdir() if path.is_file())
    assert not JWT.search(written), JWT.search(written)
    passwords = re.findall(r'password = "([^"]+)"', accounts_path().read_text())
    assert passwords and not any(password in written for password in passwords)


def test_recommended_rule_broken_warns_and_exits_0(tmp_path: Path) -> None:
    """A fault of a recommended rule (login enumeration, an OWASP practice the documentation does not
    ask for): the run exits 0, counts one warning and prints the finding with the rule's basis."""
    fault = "auth.login.enumeration"
    result = run_kit(
        "check", "--only", "auth", "--max-examples", "5", "--fault", fault, "--report", str(tmp_path)
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert " 1 warned, 0 failed, 0 errors" in result.stdout, result.stdout[-3000:]
    block = result.stdout[result.stdout.index("\nauth.login.enumeration (warned, recommended rule):") :]
    for label in ("expected:", "sent:", "received:", "curl:"):
        assert label in block, block


def test_untrusted_certificate_is_one_line_with_the_fix(server: RunningServer, tmp_path: Path) -> None:
    """A target whose certificate the trust store does not vouch for: exit 2, one line naming the
    fix (--ca-bundle), and the run stops instead of failing every check the same way."""
    result = run_kit(
        "check",
        "--base-url",
        server.base_url,
        "--only",
        "auth",
        "--report",
        str(tmp_path),
        env=LIVE_LOGIN,
        timeout=120,
    )
    assert result.returncode == 2
    assert "CERTIFICATE_VERIFY_FAILED" in result.stderr and "--ca-bundle" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert result.stdout.count(" failed (") <= 1
