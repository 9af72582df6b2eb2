"""Every switchable fault really changes behaviour: its probe passes on the clean server and fails on
a server with that fault switched on (and on that server only the fault named in X-Sergio-Faults)."""

from __future__ import annotations

import pytest

from sergio_kit.server.faults import FAULTS
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.registry import PROBES
from tests.support.api import client_for
from tests.support.clock import clock_of, start_fresh_windows
from tests.support.fault_servers import FaultServers

FAULT_IDS = sorted(FAULTS)


@pytest.mark.parametrize("fault_id", FAULT_IDS)
def test_probe_passes_on_clean_server(fault_id: str, server: RunningServer, clock: TestClock) -> None:
    """The clean reference server keeps the rule the fault's probe exercises."""
    start_fresh_windows(clock)
    PROBES[fault_id](server, clock)


@pytest.mark.parametrize("fault_id", FAULT_IDS)
def test_fault_breaks_its_rule(fault_id: str, fault_server: FaultServers) -> None:
    """With the fault switched on, its probe fails, and the server says which fault is on."""
    with fault_server.use(fault_id) as running:
        with clock_of(running) as clock, pytest.raises(AssertionError):
            PROBES[fault_id](running, clock)
        with client_for(running) as client:
            response = client.get("/v1/health")
        assert response.headers.get("X-Sergio-Faults", "").split(",") == [fault_id], response.headers


def test_every_fault_has_a_probe() -> None:
    """The probe table covers exactly the server's fault catalogue."""
    assert set(PROBES) == set(FAULTS)
