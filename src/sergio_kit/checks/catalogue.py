"""``sergio-kit check --list-checks``: every registered check with its rule's basis and the level in force."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO

from sergio_kit.checks.registry import CheckSpec, all_checks
from sergio_kit.checks.verdict import level_of, verdict
from sergio_kit.reports.findings import BASIS_MEANINGS

HEADINGS = ("CHECK", "GROUP", "BASIS", "LEVEL", "SUMMARY")
CHANGED_MARK = "*"


def level_in_force(spec: CheckSpec, levels: Mapping[str, str]) -> str:
    """The level ``spec`` runs at: the one the user set, else the one its basis implies (fail or warn),
    marked with :data:`CHANGED_MARK` when the user set it."""
    chosen = level_of(spec.check_id, levels)
    if chosen is not None:
        return chosen + CHANGED_MARK
    return "fail" if verdict(spec.basis, None) == "failed" else "warn"


def catalogue_rows(levels: Mapping[str, str]) -> list[tuple[str, str, str, str, str]]:
    """One row per registered check, in catalogue order: id, group, basis, level in force, summary."""
    return [
        (spec.check_id, spec.group, spec.basis, level_in_force(spec, levels), spec.summary)
        for spec in all_checks()
    ]


def print_catalogue(levels: Mapping[str, str], stream: TextIO, *, levels_source: str = "") -> None:
    """Write the checks as an aligned table to ``stream``, then what the bases and levels mean.

    ``levels`` maps a check id to the level the user set; ``levels_source`` says where they were set.
    """
    rows = [HEADINGS, *catalogue_rows(levels)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(HEADINGS) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        stream.write("  ".join([*cells, row[-1]]).rstrip() + "\n")
    stream.write(
        "\nA breach of a documented, standard or contract rule fails; of a recommended rule, warns.\n"
    )
    for basis, meaning in BASIS_MEANINGS.items():
        stream.write(f"  {basis + ':':<13}{meaning}\n")
    if any(level_of(row[0], levels) is not None for row in rows[1:]):
        stream.write(
            f"{CHANGED_MARK} level changed" + (f" by {levels_source}" if levels_source else "") + "\n"
        )
    stream.write(
        "Change a check's level with [checks] in sergio-kit.toml or --check-level ID=fail|warn|ignore.\n"
        "The contract group's checks (Schemathesis over the contract) are listed in docs/checks.md.\n"
    )
