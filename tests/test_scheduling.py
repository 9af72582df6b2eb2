"""The hand-written lists of :mod:`tests.support.scheduling` name files that exist, and the fault-server
group holds every test file that asks for a fault's server (else its tests would start their own
servers on another worker)."""

from __future__ import annotations

import re
from pathlib import Path

from tests.support.fault_servers import FIXTURE
from tests.support.scheduling import FAULT_FILES, FAULT_GROUP, SLOWEST_FIRST

REPO = Path(__file__).resolve().parents[1]


def test_every_named_unit_is_a_test_file() -> None:
    """Each file of ``SLOWEST_FIRST`` and ``FAULT_FILES`` is there (a renamed file is no silent no-op)."""
    named = {unit for unit in SLOWEST_FIRST if unit != FAULT_GROUP} | FAULT_FILES
    assert sorted(unit for unit in named if not (REPO / unit).is_file()) == []
    assert FAULT_GROUP in SLOWEST_FIRST


def test_the_fault_group_holds_every_file_using_fault_servers() -> None:
    """The test files that use the fault-server fixture are exactly ``FAULT_FILES``."""
    users = {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "tests").rglob("test_*.py")
        if re.search(rf"\b{FIXTURE}\b", path.read_text(encoding="utf-8")) and path != Path(__file__).resolve()
    }
    assert users == FAULT_FILES
