"""What every report shares: the status vocabulary, grouping, totals, changed levels and the last
masking pass."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from datetime import UTC, datetime

from sergio_kit.reports.redaction import mask_text
from sergio_kit.reports.results import STATUSES, CheckResult, attention_rank, tally

__all__ = ["STATUSES", "tally"]  # re-exported for the report writers

GROUP_ORDER = ("contract", "auth", "refresh", "apikey", "transport", "webhook", "ratelimit", "cassette")
FINDING_FIELDS = ("expected", "sent", "received", "curl")
FINDING_LABELS = {"expected": "expected", "sent": "sent", "received": "received", "curl": "reproduce"}

# Characters XML 1.0 cannot carry (and HTML should not): C0 controls other than tab/newline/CR.
_UNPRINTABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


class ReportError(Exception):
    """A report came out inconsistent with the results it was built from (a kit bug)."""


def masked(result: CheckResult) -> CheckResult:
    """A copy of ``result`` whose every text field has passed through :func:`mask_text` again."""
    finding = None
    if result.finding is not None:
        finding = {str(key): mask_text(str(value)) for key, value in result.finding.items()}
    return dataclasses.replace(
        result,
        check_id=mask_text(result.check_id),
        subject=mask_text(result.subject),
        detail=mask_text(result.detail),
        finding=finding,
    )


def printable(text: str) -> str:
    """``text`` without the control characters XML 1.0 forbids."""
    return _UNPRINTABLE.sub("\N{REPLACEMENT CHARACTER}", text)


def grouped(results: Iterable[CheckResult]) -> dict[str, list[CheckResult]]:
    """Results by check group: the documented groups in their order, then any other in run order."""
    groups: dict[str, list[CheckResult]] = {}
    for result in results:
        groups.setdefault(result.group, []).append(result)
    known = [name for name in GROUP_ORDER if name in groups]
    return {name: groups[name] for name in [*known, *(g for g in groups if g not in GROUP_ORDER)]}


def failures_first(results: Iterable[CheckResult]) -> list[CheckResult]:
    """Results ordered failed, error, warned, skipped, passed; in run order within a status."""
    return sorted(results, key=lambda r: attention_rank(r.status))


def changed_levels(results: Iterable[CheckResult]) -> dict[str, str]:
    """The levels the user set, as the results recorded them: check id -> level, in run order."""
    levels: dict[str, str] = {}
    for result in results:
        if result.level:
            levels.setdefault(result.check_id, result.level)
    return levels


def iso_utc(moment: datetime) -> str:
    """``moment`` as RFC 3339 UTC with a ``Z`` (naive datetimes are taken to be UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
