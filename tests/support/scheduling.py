"""How ``make test`` spreads the tests over pytest-xdist workers (``-n 4 --dist loadscope
--no-loadscope-reorder``).

Most of the suite waits (live rate-limit windows, paced Locust runs, servers starting), so several
workers share the two cores well. A test file is one unit of work, so its module fixtures (a live
server, a built wheel) are made once; the tests of the fault-server files form one unit, so each
fault's server is started once (see :mod:`tests.support.fault_servers`). The slowest units go out
first (the collection order, which ``--no-loadscope-reorder`` keeps). Both lists name files by hand:
``tests/test_scheduling.py`` fails when one is renamed or a new file uses the fault servers.
"""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from xdist.scheduler import LoadScopeScheduling

FAULT_GROUP = "fault-servers"
#: The test files whose tests share the fault servers: one unit of work.
FAULT_FILES = frozenset({"tests/server/test_faults.py", "tests/checks/test_check_proofs.py"})
#: Units that take the longest, first: they start before the quick ones fill the workers.
SLOWEST_FIRST = (
    "tests/cli/test_check_live.py",
    "tests/checks/ratelimit/test_live.py",
    "tests/cli/test_check.py",
    FAULT_GROUP,
    "tests/checks/test_faults_with_variants.py",
    "tests/checks/test_variant_proofs.py",
    "tests/cli/test_check_live_variants.py",
    "tests/cli/test_check_variants.py",
    "tests/cli/test_check_contract.py",
    "tests/checks/ratelimit/test_variants.py",
    "tests/load/test_run.py",
    "tests/test_wheel.py",
    "tests/ci/test_pre_commit.py",
    "tests/reports/test_writer.py",
    "tests/load/test_distributed.py",
    "tests/load/test_delay.py",
    "tests/load/test_capacity.py",
)


def unit_of(nodeid: str) -> str:
    """The unit of work of a test: the fault-server group, else its file."""
    path = nodeid.split("::", 1)[0]
    return FAULT_GROUP if path in FAULT_FILES else path


def slowest_first(items: Sequence[pytest.Item]) -> list[pytest.Item]:
    """``items`` with the slowest units first; a stable sort, so each unit keeps its tests' order."""
    rank = {unit: index for index, unit in enumerate(SLOWEST_FIRST)}
    return sorted(items, key=lambda item: rank.get(unit_of(item.nodeid), len(rank)))


class FileOrFaultScheduling(LoadScopeScheduling):
    """``--dist loadscope`` with :func:`unit_of` as the scope: a file, or all the fault-server tests."""

    def _split_scope(self, nodeid: str) -> str:
        return unit_of(nodeid)
