"""``sergio-kit check --base-url`` against separately started servers with the documented tiers and no
test clock, as against a real deployment: the whole run, every group, paced to the quotas.

Two servers run side by side, each with one ``sergio-kit check`` of every group against it: the clean
one (no failure; only the clock-dependent check skipped; the plan in report.json; no 429 the kit's pacing
could have avoided; what the run sent stays within its plan), and one with a fault per group (each of
those checks fails live, for the reason the fault breaks). Both runs mostly wait for the quotas (about
three minutes); how long they take is measured in ``bench/live_run.py``, not asserted here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from sergio_kit.target.embedded import RunningServer, start_server
from tests.checks.fault_symptoms import symptom_of
from tests.support.kit_process import run_kit

CLOCK_DEPENDENT = {"auth.expiry.live"}
WINDOW_PROBE = "ratelimit.window"
#: The plan's principals compared with what was sent: this client's address, and both admins together.
USERS = {"client": "client", "primary": "admins", "other": "admins"}
#: One fault per group that talks to the target (the cassette group reads files), and a word of the
#: finding that shows the check failed for that fault's reason (besides the fault's symptom,
#: :mod:`tests.checks.fault_symptoms`).
LIVE_FAULTS = {
    "contract.declared": "GET /v1/webhooks",
    "auth.jwt.alg_none": "alg",
    "refresh.reuse": "spent refresh token",
    "apikey.scope": "jobs:write",
    "transport.https_only": "plain http",
    "webhook.signature": "signature",
    "ratelimit.read.body": "429",
}


@dataclass
class LiveRun:
    """One ``sergio-kit check`` against a live server: the process, its report and the settings."""

    result: CompletedProcess[str]
    report: dict[str, Any]
    environment: dict[str, str]

    def checks(self, status: str) -> dict[str, str]:
        """The checks of ``status``, with their details."""
        return {check["id"]: check["detail"] for check in self.report["checks"] if check["status"] == status}


def check_live(server: RunningServer, folder: Path) -> LiveRun:
    """The whole ``sergio-kit check`` (every group, the kit's own budgets) against ``server``."""
    folder.mkdir(parents=True)
    environment = server.deployment_settings(folder / "receiver.pem")
    assert environment.get("SERGIO_HTTP_URL") == server.http_url, "the server's real plain-HTTP listener"
    reports = folder / "reports"
    result = run_kit(
        "check", "--base-url", server.base_url, "--report", str(reports), env=environment, timeout=900
    )
    report = json.loads((reports / "report.json").read_text()) if (reports / "report.json").exists() else {}
    return LiveRun(result, report, environment)


@pytest.fixture(scope="module")
def live_runs(
    tmp_path_factory: pytest.TempPathFactory, server_template: Path
) -> Iterator[dict[str, LiveRun]]:
    """The clean and the faulty server (documented tiers, no test clock), each checked by a whole run;
    the two runs side by side."""
    folder = tmp_path_factory.mktemp("live")
    options: dict[str, Any] = {"test_clock": False, "template": server_template}
    with ThreadPoolExecutor(2) as pool:
        clean = pool.submit(start_server, folder / "clean-server", **options)
        faulty = pool.submit(start_server, folder / "faulty-server", faults=tuple(LIVE_FAULTS), **options)
        servers = {"clean": clean.result(), "faulty": faulty.result()}
    try:
        with ThreadPoolExecutor(2) as pool:
            runs = {name: pool.submit(check_live, server, folder / name) for name, server in servers.items()}
            yield {name: run.result() for name, run in runs.items()}
    finally:
        for server in servers.values():
            server.stop()


def test_clean_live_run_has_no_failure(live_runs: dict[str, LiveRun]) -> None:
    """Exit 0; nothing failed or errored; only the clock-dependent check skipped, saying so (and the
    live window probe when this machine, busy with the rest of the suite, was too slow for it: it then
    judges nothing rather than guess); the transport probe judged the server's real plain-HTTP
    listener (it refused every operation); no secret the user gave shows in the output."""
    run = live_runs["clean"]
    output = run.result.stdout + run.result.stderr
    assert run.result.returncode == 0, output[-4000:]
    assert run.checks("failed") == {} and run.checks("error") == {}
    skipped = run.checks("skipped")
    if "faster path" in skipped.get(WINDOW_PROBE, ""):
        del skipped[WINDOW_PROBE]
    assert set(skipped) == CLOCK_DEPENDENT, skipped
    assert all("clock" in reason for reason in skipped.values())
    plain_http = run.environment["SERGIO_HTTP_URL"]
    assert run.checks("passed")["transport.https_only"] == f"{plain_http} refused every operation"
    for name in ("SERGIO_PASSWORD", "SERGIO_OTHER_PASSWORD"):
        assert run.environment[name] not in output
    private_key = Path(run.environment["SERGIO_JWT_PRIVATE_KEY"]).read_text().splitlines()[1:-1]
    assert not [line for line in private_key if line in output], "a line of the signing key was shown"


def test_clean_live_run_follows_its_plan(live_runs: dict[str, LiveRun]) -> None:
    """The plan is printed and in report.json (live, a floor of whole windows); the target sent no 429
    the pacing had not made room for; each tier got no more than the plan counted from this client's
    address and from the two admins together (how the contract cases split between the admins depends
    on which has room when), give or take the randomness of the generated checks."""
    run = live_runs["clean"]
    plan = run.report["plan"]
    assert plan["live"] is True and plan["floor_seconds"] % plan["window_seconds"] == 0
    assert "plan (live: paced to the target's quotas" in run.result.stdout
    assert plan["early_429"] == {}, plan["early_429"]
    planned: dict[tuple[str, str], int] = {}
    for bucket in plan["buckets"]:
        if bucket["principal"] in USERS:
            key = (bucket["tier"], USERS[bucket["principal"]])
            planned[key] = planned.get(key, 0) + bucket["requests"]
    sent: dict[tuple[str, str], int] = {}
    for tiers in plan["sent"].values():
        for tier, principals in tiers.items():
            for principal, count in principals.items():
                if principal in USERS:
                    sent[(tier, USERS[principal])] = sent.get((tier, USERS[principal]), 0) + count
    over = {
        bucket: (count, planned.get(bucket, 0))
        for bucket, count in sent.items()
        if count > planned.get(bucket, 0) * 1.2 + 5
    }
    assert over == {}, f"sent (actual, planned) beyond the plan: {over}"


def test_a_fault_of_every_group_is_caught_live(live_runs: dict[str, LiveRun]) -> None:
    """Each group's fault is caught in the live run, with a finding about that fault (its symptom): its
    check fails, or warns where the broken rule is a recommended one (reuse detection, the 429 body's
    shape)."""
    run = live_runs["faulty"]
    assert run.result.returncode == 1, (run.result.stdout + run.result.stderr)[-4000:]
    caught = {**run.checks("warned"), **run.checks("failed")}
    for check_id, word in LIVE_FAULTS.items():
        assert check_id in caught, f"{check_id} was not caught live: {run.checks('passed').get(check_id)}"
        assert word.lower() in caught[check_id].lower(), (check_id, caught[check_id])
        assert symptom_of(check_id).search(caught[check_id]), (check_id, caught[check_id])
    documented = [check_id for check_id in LIVE_FAULTS if check_id in run.checks("failed")]
    assert len(documented) >= 5, f"only {documented} failed (the others warned)"
