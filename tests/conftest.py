"""Shared fixtures: reference-server processes on loopback and HTTPS clients for them.

Plain helpers live in ``tests/support/`` and are imported from there, never from this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, start_server
from tests.support.api import client_for, login, seeded_accounts
from tests.support.clock import clock_of, start_fresh_windows
from tests.support.fault_servers import VARIANT_FIXTURE, FaultServers, fault_of, grouped_by_fault
from tests.support.scheduling import FileOrFaultScheduling, slowest_first


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the tests of one fault one after the other, so that they share its server, and the slowest
    units of work first (see :mod:`tests.support.scheduling`)."""
    items[:] = slowest_first(grouped_by_fault(items))


def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> FileOrFaultScheduling | None:
    """With ``--dist loadscope``: one unit of work per test file, the fault-server files together."""
    return FileOrFaultScheduling(config, log) if config.getvalue("dist") == "loadscope" else None


@pytest.fixture(scope="session")
def server_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A seeded data folder (CA, database, credentials) that fault servers copy to start fast."""
    data_dir = tmp_path_factory.mktemp("template")
    server = start_server(data_dir, plain_http=False)
    server.stop()
    return data_dir


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[RunningServer]:
    """The clean reference server (test clock on, plain-HTTP listener open) for the whole session."""
    running = start_server(tmp_path_factory.mktemp("server"), template=server_template)
    yield running
    running.stop()


@pytest.fixture(scope="session")
def clock(server: RunningServer) -> Iterator[TestClock]:
    """The clean server's test clock."""
    with clock_of(server) as test_clock:
        yield test_clock


@pytest.fixture
def api(server: RunningServer, clock: TestClock) -> Iterator[httpx.Client]:
    """An HTTPS client for the clean server, after moving its clock past every rate-limit window.

    Every test therefore starts with full quotas; tokens from earlier tests may have expired.
    """
    start_fresh_windows(clock)
    with client_for(server) as client:
        yield client


@pytest.fixture(scope="session")
def accounts(server: RunningServer) -> dict[str, Any]:
    """Seeded credentials: ``accounts["acme"]["admin"]`` is ``{"email", "password", ...}``, and
    ``accounts["acme"]["keys"]["jobs:read"]`` is the key with exactly that scope set."""
    return seeded_accounts(server)


@pytest.fixture
def admin_token(api: httpx.Client, accounts: dict[str, Any]) -> str:
    """A fresh access token of Acme's admin."""
    return str(login(api, accounts["acme"]["admin"])["token"])


@pytest.fixture(scope="session")
def fault_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_template: Path
) -> Iterator[FaultServers]:
    """Servers with one fault each: ``with fault_server.use(fault_id) as running:``. A test using it is
    parametrised by ``fault_id``; the tests of one fault share its server, started ahead of them."""
    plan = [fault_id for item in request.session.items if (fault_id := fault_of(item)) is not None]
    servers = FaultServers(tmp_path_factory, server_template, plan)
    yield servers
    servers.close()


@pytest.fixture(scope="session")
def variant_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_template: Path
) -> Iterator[FaultServers]:
    """Servers with variants (and faults), one per ``server_key`` (``tests.support.fault_servers``):
    ``with variant_server.use(server_key) as running:``; the tests of one key share its server."""
    plan = [key for item in request.session.items if (key := fault_of(item, VARIANT_FIXTURE)) is not None]
    servers = FaultServers(tmp_path_factory, server_template, plan)
    yield servers
    servers.close()
