"""``sergio-kit check --max-duration`` against a live target (a reference server without the test
clock): the rate-limit plan, which needs about a window, does not start when less is left, so its
checks end as errors, "out of time"; so does every check once the time is up; the others run to a
verdict; the run fails with exit code 1, with no traceback. Its length is not asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

from sergio_kit.target.embedded import start_server
from tests.support.kit_process import run_kit

MAX_DURATION = 5  # seconds: less than the rate-limit plan takes


def test_checks_past_max_duration_end_out_of_time_and_fail_the_run(
    tmp_path: Path, server_template: Path
) -> None:
    """Exit 1; every rate-limit check is an error "out of time" (the plan does not fit); every other
    check is out of time or ran to a verdict, never an error of another kind; no traceback and no secret
    in the output."""
    server = start_server(tmp_path / "server", test_clock=False, template=server_template)
    try:
        environment = server.deployment_settings()
        reports = tmp_path / "reports"
        result = run_kit(
            "check",
            "--base-url",
            server.base_url,
            "--only",
            "ratelimit,auth",
            "--max-duration",
            str(MAX_DURATION),
            "--report",
            str(reports),
            env=environment,
            timeout=600,
        )
    finally:
        server.stop()
    output = result.stdout + result.stderr
    assert result.returncode == 1, output[-4000:]
    checks = json.loads((reports / "report.json").read_text())["checks"]
    out_of_time = [
        index
        for index, check in enumerate(checks)
        if check["status"] == "error" and "out of time" in check["detail"]
    ]
    shown = [(check["id"], check["status"], check["detail"]) for check in checks]
    ratelimit = [index for index, check in enumerate(checks) if check["group"] == "ratelimit"]
    assert ratelimit and set(ratelimit) <= set(out_of_time), shown
    others = [check for index, check in enumerate(checks) if index not in out_of_time]
    assert all(check["status"] in ("passed", "warned", "failed", "skipped") for check in others), shown
    assert "Traceback" not in output, output[-4000:]
    for name in ("SERGIO_PASSWORD", "SERGIO_OTHER_PASSWORD"):
        assert environment[name] not in output
    private_key = Path(environment["SERGIO_JWT_PRIVATE_KEY"]).read_text().splitlines()[1:-1]
    assert not [line for line in private_key if line in output], "a line of the signing key was shown"
