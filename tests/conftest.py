"""Shared fixtures: reference-server processes on loopback and HTTPS clients for them."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from sergio_kit.contract.samples import example_job
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, start_server

WINDOW = 61  # seconds the test clock moves to start every rate-limit window afresh


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
    assert server.clock_url and server.clock_token
    test_clock = TestClock(server.clock_url, server.clock_token, server.ssl_context())
    yield test_clock
    test_clock.close()


@pytest.fixture
def api(server: RunningServer, clock: TestClock) -> Iterator[httpx.Client]:
    """An HTTPS client for the clean server, after moving its clock past every rate-limit window.

    Every test therefore starts with full quotas; tokens from earlier tests may have expired.
    """
    clock.unfreeze()
    clock.advance(WINDOW)
    with httpx.Client(base_url=server.base_url, verify=server.ssl_context(), timeout=15.0) as client:
        yield client


@pytest.fixture(scope="session")
def accounts(server: RunningServer) -> dict[str, Any]:
    """Seeded credentials: ``accounts["acme"]["admin"]`` is ``{"email", "password", ...}``, and
    ``accounts["acme"]["keys"]["jobs:read"]`` is the key with exactly that scope set."""
    found: dict[str, Any] = {}
    for company in server.credentials()["companies"]:
        short = company["id"].removeprefix("cmp_")
        entry: dict[str, Any] = {"id": company["id"], "keys": {}}
        for user in company["users"]:
            entry[user["role"]] = user
        for key in company["api_keys"]:
            entry["keys"][",".join(key["scopes"])] = key["key"]
        found[short] = entry
    return found


def login(client: httpx.Client, user: dict[str, Any]) -> dict[str, Any]:
    """Log ``user`` in; assert success and return the token response."""
    response = client.post("/v1/auth/login", json={"email": user["email"], "password": user["password"]})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}


JOB = example_job(address={"street": "1 High St", "city": "Springfield", "state": "IL", "zip": "62701"})


@pytest.fixture
def admin_token(api: httpx.Client, accounts: dict[str, Any]) -> str:
    """A fresh access token of Acme's admin."""
    return str(login(api, accounts["acme"]["admin"])["token"])


class FaultServers:
    """Starts reference servers with faults; those a test names as coming next are started ahead, on a
    small thread pool, so their start-up overlaps the test running now. Every server is stopped at close."""

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, template: Path) -> None:
        self._tmp = tmp_path_factory
        self._template = template
        self._pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="fault-server")
        self._ahead: dict[tuple[str, ...], Future[RunningServer]] = {}
        self._started: list[RunningServer] = []

    def _submit(self, faults: tuple[str, ...], options: dict[str, Any]) -> Future[RunningServer]:
        data_dir = self._tmp.mktemp("fault")  # made here: tmp_path_factory is not thread-safe
        return self._pool.submit(start_server, data_dir, faults=faults, template=self._template, **options)

    def __call__(self, *faults: str, order: Sequence[str] = (), **options: Any) -> RunningServer:
        """A fresh server with ``faults``; ``order``: the single faults in the order the tests ask for
        them, so the two after this one start ahead."""
        future = self._ahead.pop(faults, None) if not options else None
        running = (future or self._submit(faults, options)).result()
        self._started.append(running)
        index = order.index(faults[0]) if len(faults) == 1 and faults[0] in order else len(order)
        for upcoming in order[index + 1 : index + 3]:
            if (upcoming,) not in self._ahead:
                self._ahead[(upcoming,)] = self._submit((upcoming,), {})
        return running

    def close(self) -> None:
        """Stop every server, including those started ahead and never used."""
        for future in self._ahead.values():
            if future.exception() is None:  # one that failed to start has nothing to stop
                self._started.append(future.result())
        self._pool.shutdown()
        for running in self._started:
            running.stop()


@pytest.fixture(scope="session")
def fault_server(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[FaultServers]:
    """Factory: ``fault_server("auth.jwt.alg_none", order=FAULT_IDS)`` gives a fresh server with that
    fault (started ahead when an earlier test's order named it). Call ``.stop()`` to free one sooner."""
    servers = FaultServers(tmp_path_factory, server_template)
    yield servers
    servers.close()
