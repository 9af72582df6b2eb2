"""The documents users read: docs/checks.md lists exactly the checks and faults of the code, and no
document or docstring points outside the repository."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

from sergio_kit.checks.registry import all_checks
from sergio_kit.reports.findings import BASES
from sergio_kit.server.faults import FAULTS, caught_by
from sergio_kit.server.variants import VARIANTS
from sergio_kit.suite.test_contract import BASIS as CONTRACT_BASIS

REPO = Path(__file__).resolve().parents[1]
CATALOGUE = REPO / "docs" / "checks.md"
SUITE = REPO / "src" / "sergio_kit" / "suite"


def _generator() -> ModuleType:
    """``docs/generate_checks.py``, imported from its path."""
    spec = importlib.util.spec_from_file_location("generate_checks", REPO / "docs" / "generate_checks.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks its module up there
    spec.loader.exec_module(module)
    return module


def _catalogue_table() -> list[tuple[str, str, str]]:
    """``(check id, basis column, fault column)`` of every row of docs/checks.md's tables."""
    row = re.compile(r"^\| `([^`]+)` \| ([a-z]+) \| .* \| (.*) \|$", re.MULTILINE)
    return row.findall(CATALOGUE.read_text(encoding="utf-8"))


def _catalogue_rows() -> dict[str, str]:
    """Check id -> the fault column of its row in docs/checks.md (each id listed once)."""
    table = _catalogue_table()
    rows = {check_id: fault for check_id, _, fault in table}
    assert len(rows) == len(table), "a check id is listed twice"
    return rows


def test_catalogue_is_up_to_date() -> None:
    """docs/checks.md is what ``docs/generate_checks.py`` writes from the code today."""
    assert CATALOGUE.read_text(encoding="utf-8") == _generator().render(), (
        "docs/checks.md is out of date: run .venv/bin/python docs/generate_checks.py"
    )


def test_catalogue_lists_every_check_and_fault() -> None:
    """One row per registered check and per contract check of the suite; every fault in the row of
    the check that catches it, each variant by its id; a row without a fault says how it is proven."""
    suite_ids = {
        check_id
        for module in SUITE.glob("test_*.py")
        for check_id in re.findall(r"sergio_check\(\"([^\"]+)\"\)", module.read_text(encoding="utf-8"))
    }
    rows = _catalogue_rows()
    assert set(rows) == {spec.check_id for spec in all_checks()} | suite_ids
    for fault_id, description in FAULTS.items():
        cell = rows[caught_by(fault_id)]
        assert description in cell, fault_id
        assert fault_id == caught_by(fault_id) or f"`{fault_id}`" in cell, fault_id
    without_fault = set(rows) - {caught_by(fault_id) for fault_id in FAULTS}
    assert all(rows[check_id].startswith("none: ") for check_id in without_fault), without_fault


def test_catalogue_shows_every_checks_basis() -> None:
    """Each registered check's row shows the basis it declares; each contract check's, ``contract``."""
    shown = {check_id: basis for check_id, basis, _ in _catalogue_table()}
    assert set(shown.values()) <= set(BASES)
    for spec in all_checks():
        assert shown[spec.check_id] == spec.basis, spec.check_id
    contract_ids = set(shown) - {spec.check_id for spec in all_checks()}
    assert contract_ids and all(shown[check_id] == CONTRACT_BASIS for check_id in contract_ids)


def test_nothing_points_outside_the_repository() -> None:
    """README, ARCHITECTURE, docs/ and the package's sources never send a reader to ``../shared/``,
    a folder outside the repository."""
    documents = [REPO / "README.md", REPO / "ARCHITECTURE.md", *sorted((REPO / "docs").glob("*.md"))]
    sources = sorted((REPO / "src").rglob("*.py"))
    pointing_out = [
        f"{path.relative_to(REPO)}:{number}"
        for path in documents + sources
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if "../shared" in line
    ]
    assert pointing_out == []


def test_readme_lists_every_variant() -> None:
    """ "Running against your deployment" has a row for each variant of the reference server."""
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Running against your deployment", 1)[1].split("\n## ", 1)[0]
    rows = {
        name
        for line in section.splitlines()
        if line.startswith("| `")
        for name in re.findall(r"`([a-z0-9-]+)`", line.split("|")[1])
    }
    assert rows == set(VARIANTS)
