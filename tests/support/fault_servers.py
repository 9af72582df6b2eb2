"""Reference servers with one fault each (or with variants), shared by every test that names them.

A test asks for a fault's server through the ``fault_server`` fixture and is parametrised by
``fault_id``; a test of the variants asks through ``variant_server`` and is parametrised by
``server_key`` (:func:`server_key`: faults and variants in one string). The session plans from its
collected tests which servers come when, runs the tests of one server one after the other
(:func:`grouped_by_fault`), starts each server ahead of its first test and stops it after its last
one (or, on an xdist worker that runs only part of the plan, once the worker has moved past it).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from sergio_kit.target.embedded import RunningServer, start_server
from tests.support.clock import clock_of, start_fresh_windows

FIXTURE = "fault_server"
VARIANT_FIXTURE = "variant_server"
#: The fixtures that hand out shared servers, and the parameter naming each test's server.
_SERVER_PARAMETERS = {FIXTURE: "fault_id", VARIANT_FIXTURE: "server_key"}
AHEAD = 2  # servers started while the current one is in use


def server_key(faults: Sequence[str] = (), variants: Sequence[str] = ()) -> str:
    """One string naming a server by its faults and variants: ``"fault,fault|variant,variant"``."""
    return ",".join(faults) + "|" + ",".join(variants)


def server_options(key: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(faults, variants)`` of a :func:`server_key`; a bare fault id is that one fault."""
    faults, _, variants = key.partition("|")
    return tuple(filter(None, faults.split(","))), tuple(filter(None, variants.split(",")))


def fault_of(item: pytest.Item, fixture: str = FIXTURE) -> str | None:
    """The key (a fault id, or a :func:`server_key`) of the shared server ``item`` gets from
    ``fixture``, or ``None`` when it uses none."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or fixture not in getattr(item, "fixturenames", ()):
        return None
    key = callspec.params.get(_SERVER_PARAMETERS[fixture])
    return key if isinstance(key, str) else None


def shared_server_of(item: pytest.Item) -> str | None:
    """The key of the shared server ``item`` uses, from either fixture (the two never share keys:
    a variant key always holds a ``|``)."""
    for fixture in _SERVER_PARAMETERS:
        key = fault_of(item, fixture)
        if key is not None:
            return key
    return None


def grouped_by_fault(items: Sequence[pytest.Item]) -> list[pytest.Item]:
    """``items`` with every test of a fault moved right after the first test of that fault, so one
    server serves them all; every other test keeps its place."""
    by_fault: dict[str, list[pytest.Item]] = {}
    for item in items:
        fault_id = shared_server_of(item)
        if fault_id is not None:
            by_fault.setdefault(fault_id, []).append(item)
    ordered: list[pytest.Item] = []
    for item in items:
        fault_id = shared_server_of(item)
        if fault_id is None:
            ordered.append(item)
        elif fault_id in by_fault:
            ordered += by_fault.pop(fault_id)
    return ordered


class FaultServers:
    """One server per fault id for the session. ``plan``: the fault ids in the order the tests will ask
    for them, once per test. The next servers of the plan start ahead on a small thread pool, so their
    start-up overlaps the test running now; between two tests of a fault its clock moves past every
    rate-limit window. A server stops after the last test of the plan that uses it, or as soon as a
    test of a later fault starts: under ``-n`` without ``--dist loadscope`` a worker runs only some of
    the plan, so a fault it left behind (or one started ahead for another worker) is not needed again.
    """

    def __init__(self, tmp_path_factory: pytest.TempPathFactory, template: Path, plan: Sequence[str]) -> None:
        self._tmp = tmp_path_factory
        self._template = template
        self._uses_left = Counter(plan)
        self._order = {fault_id: index for index, fault_id in enumerate(dict.fromkeys(plan))}
        self._pool = ThreadPoolExecutor(max_workers=AHEAD, thread_name_prefix="fault-server")
        self._servers: dict[str, Future[RunningServer]] = {}

    def _start(self, fault_id: str) -> Future[RunningServer]:
        if fault_id not in self._servers:
            data_dir = self._tmp.mktemp("fault")  # made here: tmp_path_factory is not thread-safe
            faults, variants = server_options(fault_id)
            self._servers[fault_id] = self._pool.submit(
                start_server, data_dir, faults=faults, variants=variants, template=self._template
            )
        return self._servers[fault_id]

    def _stop(self, fault_id: str) -> None:
        future = self._servers.pop(fault_id)
        if not future.cancel() and future.exception() is None:  # one that failed has nothing to stop
            future.result().stop()

    def _move_to(self, fault_id: str) -> None:
        """Stop the servers of the faults before ``fault_id`` in the plan; start the next ones ahead."""
        position = self._order.get(fault_id)
        if position is None:  # a fault the plan does not know: leave the plan's servers alone
            return
        for passed in [other for other in self._servers if self._order.get(other, position) < position]:
            self._stop(passed)
        for upcoming in list(self._order)[position + 1 : position + 1 + AHEAD]:
            self._start(upcoming)

    def last_use(self, fault_id: str) -> bool:
        """Whether the test using ``fault_id``'s server now is the last of the plan to use it."""
        return self._uses_left[fault_id] <= 1

    @contextmanager
    def use(self, fault_id: str) -> Iterator[RunningServer]:
        """The server with ``fault_id`` switched on, for the block; stopped after the block when no
        later test of the plan needs it, else left with fresh rate-limit windows for the next one."""
        future = self._start(fault_id)
        self._move_to(fault_id)
        running = future.result()
        try:
            yield running
        finally:
            self._uses_left[fault_id] -= 1
            if self._uses_left[fault_id] > 0:
                with clock_of(running) as clock:
                    start_fresh_windows(clock)
            else:
                self._stop(fault_id)

    def close(self) -> None:
        """Stop every server still running, including those started ahead and never used."""
        for fault_id in list(self._servers):
            self._stop(fault_id)
        self._pool.shutdown()
