"""``sergio-kit check --contract``: the whole suite against the embedded server, held to a contract
that declares only what the public documentation shows."""

from __future__ import annotations

import json
from pathlib import Path

from sergio_kit.contract.resources import example_contract_path
from tests.support.kit_process import run_kit

#: How a skip says the contract lacks something (an operation, or any link to follow).
MISSING = ("the contract does not declare", "the contract declares no")


def test_documented_only_contract_has_no_failure_and_every_skip_names_what_is_missing(
    tmp_path: Path,
) -> None:
    """The whole suite (measured: about a minute) with the documented-only contract: no failure, no
    error; what the contract lacks is skipped, naming it; nothing it lacks is sent by the checks'
    contract run (Schemathesis tests the declared operations only)."""
    contract = example_contract_path()
    result = run_kit(
        "check", "--contract", str(contract), "--max-examples", "5", "--report", str(tmp_path), cwd=tmp_path
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["summary"]["failed"] == 0 and report["summary"]["error"] == 0, report["summary"]
    skipped = [check for check in report["checks"] if check["status"] == "skipped"]
    assert skipped, "the documented-only contract lacks operations: some checks must skip"
    unexplained = [
        f"{check['id']} {check['subject']}: {check['detail']}"
        for check in skipped
        if not any(words in check["detail"] for words in MISSING) and "no cassettes" not in check["detail"]
    ]
    assert not unexplained, "skips that do not name what the contract lacks:\n" + "\n".join(unexplained)
    subjects = {check["subject"] for check in report["checks"] if check["id"] == "contract.schemathesis"}
    assert subjects == {
        "POST /v1/auth/login",
        "POST /v1/auth/refresh",
        "GET /v1/health",
        "GET /v1/jobs",
        "POST /v1/jobs",
        "POST /v1/webhooks",
        "GET /zapier/v1/triggers/new-job",
    }
    assert f"contract: {contract}" in result.stdout


def test_a_bad_contract_stops_the_run_in_one_line(tmp_path: Path) -> None:
    """A contract that is not OpenAPI: exit 2, one line naming it, before any server starts."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("just: a mapping\n")
    result = run_kit("check", "--contract", str(bad), "--report", str(tmp_path), timeout=60)
    assert result.returncode == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert f"the contract {bad} has no `openapi: 3.x` version" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
