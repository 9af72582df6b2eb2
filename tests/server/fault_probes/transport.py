"""Probe of the ``transport`` fault: nothing is served over plain HTTP."""

from __future__ import annotations

import httpx

from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.plumbing import Probe, expect_error, shown
from tests.support.api import seeded_accounts


def probe_transport_https_only(server: RunningServer, clock: TestClock) -> None:
    """Over plain HTTP nothing is served: 403 https_required, no token for a valid login, no data."""
    assert server.http_url, "the server has no plain-HTTP listener to probe"
    user = seeded_accounts(server)["acme"]["member"]
    with httpx.Client(base_url=server.http_url, verify=server.ssl_context(), timeout=15.0) as plain:
        responses = [
            plain.post("/v1/auth/login", json={"email": user["email"], "password": user["password"]}),
            plain.get("/v1/health"),
            plain.get("/v1/jobs"),
        ]
        for response in responses:
            expect_error(response, 403, "https_required", "plain HTTP")
            assert "token" not in response.text and "Location" not in response.headers, shown(response)


PROBES: dict[str, Probe] = {"transport.https_only": probe_transport_https_only}
