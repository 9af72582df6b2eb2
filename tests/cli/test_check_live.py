"""``sergio-kit check --base-url`` against a separately started server, as against a real deployment.

The server runs without ``--test-clock``, so the kit has to live with real time: only the checks
that need the clock may be skipped, and each says why. The rate limits are lifted on this server
so the test does not spend minutes in real ``Retry-After`` waits (what a live run against the
documented tiers does; the waiting itself is tested in ``tests/target/test_throttling.py``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from sergio_kit.config import DEFAULT_TIER_LIMITS
from sergio_kit.server.tls import issue_receiver_cert
from sergio_kit.target.embedded import RunningServer, start_server
from tests.support.kit_process import run_kit

CLOCK_DEPENDENT = {"auth.expiry.live"}
# The ratelimit group needs the documented tiers (lifted here): it runs live against its own servers
# in tests/checks/ratelimit/test_live.py.
NOT_RATELIMIT = "contract,auth,refresh,apikey,transport,webhook"
LIFTED = dict.fromkeys(DEFAULT_TIER_LIMITS, 10_000)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[RunningServer]:
    """A reference server without the test clock, standing in for a real deployment."""
    running = start_server(
        tmp_path_factory.mktemp("live"), test_clock=False, template=server_template, limits=LIFTED
    )
    yield running
    running.stop()


def test_live_run_passes_with_only_clock_checks_skipped(live_server: RunningServer, tmp_path: Path) -> None:
    """Every check passes; the skipped ones are exactly the clock-dependent ones, with a reason."""
    companies = live_server.credentials()["companies"]
    admins = [next(u for u in company["users"] if u["role"] == "admin") for company in companies]
    secret_file = Path(live_server.info["jwt_secret_file"])
    environment = {
        "SERGIO_EMAIL": admins[0]["email"],
        "SERGIO_PASSWORD": admins[0]["password"],
        "SERGIO_OTHER_EMAIL": admins[1]["email"],
        "SERGIO_OTHER_PASSWORD": admins[1]["password"],
        "SERGIO_JWT_SECRET": secret_file.read_text().strip(),
        "SERGIO_CA_BUNDLE": str(live_server.ca_cert),
        "SERGIO_HTTP_URL": "http://127.0.0.1:9",
        "SERGIO_RECEIVER_CERT": str(issue_receiver_cert(live_server.data_dir, tmp_path / "receiver.pem")),
    }
    result = run_kit(
        "check",
        "--base-url",
        live_server.base_url,
        "--only",
        NOT_RATELIMIT,
        "--max-examples",
        "5",
        "--report",
        str(tmp_path / "reports"),
        env=environment,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    checks = json.loads((tmp_path / "reports" / "report.json").read_text())["checks"]
    skipped = {check["id"]: check["detail"] for check in checks if check["status"] == "skipped"}
    assert set(skipped) == CLOCK_DEPENDENT & {check["id"] for check in checks}
    assert all("clock" in reason for reason in skipped.values()), skipped
    for secret in (admins[0]["password"], environment["SERGIO_JWT_SECRET"]):
        assert secret not in result.stdout + result.stderr
