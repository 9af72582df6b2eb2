"""What a load run found, each with the basis of the rule it breaks, and the run's verdict.

As for the checks (:mod:`sergio_kit.checks.verdict`), a breach of a ``recommended`` rule (the kit's
assumption of a rolling window, of a Retry-After within the window) warns and any other fails;
warnings alone pass unless ``strict`` is in force.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sergio_kit.checks.verdict import verdict


@dataclass(frozen=True)
class LoadFinding:
    """One finding of a load run: what was wrong and the basis of the rule it breaks."""

    message: str
    basis: str

    @property
    def warned(self) -> bool:
        """Whether the finding is a warning (a recommended rule) rather than a failure."""
        return verdict(self.basis, None) == "warned"

    def as_dict(self) -> dict[str, Any]:
        """The finding as ``summary.json`` lists it."""
        return {"message": self.message, "basis": self.basis}


def failures(findings: Sequence[LoadFinding]) -> list[LoadFinding]:
    """The findings that fail the run."""
    return [finding for finding in findings if not finding.warned]


def warnings(findings: Sequence[LoadFinding]) -> list[LoadFinding]:
    """The findings that only warn."""
    return [finding for finding in findings if finding.warned]


def load_failed(
    findings: Sequence[LoadFinding],
    locust_exit_code: int,
    *,
    strict: bool = False,
    gates_failed: bool = False,
) -> bool:
    """Whether a load run failed: a failure, a warning under ``strict``, Locust itself exiting non-zero,
    or a threshold, the knee or the baseline (``gates_failed``, see :mod:`sergio_kit.load.gates`); the
    exit code, the terminal's last line and ``summary.html`` all say this."""
    return bool(failures(findings)) or (strict and bool(findings)) or locust_exit_code != 0 or gates_failed


def load_verdict(
    findings: Sequence[LoadFinding],
    locust_exit_code: int,
    *,
    strict: bool = False,
    gates_failed: bool = False,
) -> str:
    """``"FAILED"``, ``"passed with N warning(s)"`` or ``"passed"``: the run's last line after ``load: ``."""
    if load_failed(findings, locust_exit_code, strict=strict, gates_failed=gates_failed):
        return "FAILED"
    count = len(warnings(findings))
    return f"passed with {count} warning{'s' if count != 1 else ''}" if count else "passed"
