"""Check results collected from a pytest run, and the summary table printed at the end."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Generator, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TextIO

import pytest

from sergio_kit.errors import OutOfTime, SergioKitError
from sergio_kit.reports.findings import CheckFailed, CheckUndecided, Finding
from sergio_kit.reports.redaction import mask_text

STATUSES = ("passed", "warned", "failed", "skipped", "error")
#: The order the reports list results in: what needs attention first.
ATTENTION_ORDER = ("failed", "error", "warned", "skipped", "passed")


@dataclass
class CheckResult:
    """The outcome of one check (on one operation, for parametrised checks)."""

    check_id: str
    subject: str
    status: str  # passed | warned | failed | skipped | error
    detail: str
    seconds: float
    finding: dict[str, Any] | None = None  # Finding.as_dict() of a failed or warned check
    basis: str = ""  # the broken (or checked) rule's basis: documented, standard, contract, recommended
    level: str = ""  # the level the user set for the check, when they set one

    @property
    def group(self) -> str:
        """The check group: the first part of the id (``auth`` for ``auth.jwt.alg_none``)."""
        return self.check_id.split(".", 1)[0]


def attention_rank(status: str) -> int:
    """Where a result with ``status`` goes in a report (:data:`ATTENTION_ORDER`): failed first."""
    return ATTENTION_ORDER.index(status) if status in ATTENTION_ORDER else len(ATTENTION_ORDER)


def tally(results: Iterable[CheckResult]) -> dict[str, int]:
    """How many results have each status (every status present, zero when absent)."""
    counts = dict.fromkeys(STATUSES, 0)
    for result in results:
        counts[result.status] = counts.get(result.status, 0) + 1
    return counts


def run_failed(counts: Mapping[str, int], *, strict: bool) -> bool:
    """Whether a run with these :func:`tally` counts failed: a check failed or could not run, or
    (``strict``, ``--strict``) warned. The exit code and ``report.html``'s verdict both say this."""
    return bool(counts["failed"] or counts["error"] or (strict and counts["warned"]))


@dataclass
class ResultCollector:
    """A pytest plugin object: prints a line per finished check, under its group, and keeps the results."""

    stream: TextIO = field(default_factory=lambda: sys.stdout)
    results: list[CheckResult] = field(default_factory=list)
    usage_error: SergioKitError | None = None
    _findings: dict[str, Finding] = field(default_factory=dict, init=False, repr=False)
    _undecided: dict[str, str] = field(default_factory=dict, init=False, repr=False)  # nodeid -> why
    _group: str | None = field(default=None, init=False, repr=False)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        """Keep the finding of a check that failed with :class:`CheckFailed`, for its result."""
        report = yield
        failed = _check_failed(call.excinfo.value) if call.excinfo is not None else None
        if failed is not None:
            self._findings[item.nodeid] = failed.finding
        if call.excinfo is not None and isinstance(call.excinfo.value, CheckUndecided | OutOfTime):
            self._undecided[item.nodeid] = str(call.excinfo.value)
        return report

    def pytest_exception_interact(self, node: Any, call: pytest.CallInfo[Any], report: Any) -> None:
        """Remember a user mistake (bad config, unreachable target) raised inside a fixture, and stop
        the run: every other check would fail the same way."""
        if call.excinfo is not None and isinstance(call.excinfo.value, SergioKitError):
            self.usage_error = self.usage_error or call.excinfo.value
            node.session.shouldstop = str(call.excinfo.value)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Record a test's outcome once (its call phase, or the phase that failed or skipped)."""
        if report.when != "call" and not (report.failed or report.skipped):
            return
        properties = dict(report.user_properties)
        check_id = str(properties.get("check_id", report.nodeid.split("::")[-1]))
        status: str = "error" if report.failed and report.when != "call" else report.outcome
        finding = self._findings.pop(report.nodeid, None) if report.failed else None
        if report.passed and properties.get("verdict") == "warned":
            status, finding = "warned", Finding(**json.loads(str(properties["finding"])))
        detail = finding.one_line() if finding else _detail(report) or str(properties.get("detail", ""))
        undecided = self._undecided.pop(report.nodeid, None)
        if undecided is not None:  # no answer the check could judge: neither passed nor failed
            status, detail = "error", undecided
        result = CheckResult(
            check_id,
            mask_text(_subject(report, check_id)),
            status,
            mask_text(detail),
            report.duration,
            finding.as_dict() if finding else None,
            basis=str(properties.get("basis", "")),
            level=str(properties.get("level", "")),
        )
        self.results.append(result)
        if result.group != self._group:
            self._group = result.group
            self.stream.write(f"== {result.group} ==\n")
        label = f"{result.check_id} {result.subject}".strip()
        self.stream.write(f"  {label:<60} {result.status} ({result.seconds:.1f} s)\n")
        self.stream.flush()

    def counts(self) -> dict[str, int]:
        """How many results have each status."""
        return tally(self.results)


def _check_failed(error: BaseException) -> CheckFailed | None:
    """The :class:`CheckFailed` behind ``error``: itself, or the first one inside an exception group."""
    if isinstance(error, CheckFailed):
        return error
    if isinstance(error, BaseExceptionGroup):
        for inner in error.exceptions:
            found = _check_failed(inner)
            if found is not None:
                return found
    return None


def _subject(report: pytest.TestReport, check_id: str) -> str:
    """The operation of a parametrised check, or the test's name when several tests share an id."""
    domain = report.location[2]
    match = re.search(r"\[(.*)\]$", domain)
    if match:
        return "" if match.group(1) == check_id else match.group(1)
    name = domain.rsplit(".", 1)[-1].removeprefix("test_")
    return "" if name == check_id.replace(".", "_") else name


def _detail(report: pytest.TestReport) -> str:
    if report.passed:
        return ""
    if report.skipped and isinstance(report.longrepr, tuple):
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    text = str(report.longrepr)
    findings = re.findall(r"^\s*\|?\s*- (ST\d+ .+)$", text, flags=re.MULTILINE)
    curl = re.search(r"(curl -X .+)$", text, flags=re.MULTILINE)
    if findings:
        detail = "; ".join(dict.fromkeys(findings))
        return detail + (f" | reproduce: {curl.group(1).strip()}" if curl else "")
    assertion = re.search(r"^E\s+(?:AssertionError: )?(.+)$", text, flags=re.MULTILINE)
    if assertion:
        return assertion.group(1).strip()
    # an exception group (Hypothesis, Schemathesis) ends in its frame's border: name the first error
    # inside it (a flaky test's own cause first), else the group's own line
    pattern = r"^[\s|+]*((?:\w+\.)*\w*(?:Error|Exception|Failure|Failed)\w*: .+)$"
    raised = [line.strip() for line in re.findall(pattern, text, re.MULTILINE)]
    inner = [line for line in raised if not re.match(r"(?:\w+\.)*(?:\w*Group|FlakyFailure):", line)]
    found = inner or raised
    return found[0] if found else text.strip().splitlines()[-1]


def print_table(results: list[CheckResult], stream: TextIO) -> None:
    """The summary: one row per check, failures first, details masked and cut to fit a terminal (a
    warned row's detail starts with its rule's basis)."""
    rows = sorted(results, key=lambda r: (attention_rank(r.status), r.check_id, r.subject))
    width = max([len("CHECK"), *(len(r.check_id) for r in rows)])
    subject_width = max([len("OPERATION"), *(len(r.subject) for r in rows)])
    stream.write(f"\n{'CHECK':<{width}}  {'OPERATION':<{subject_width}}  {'STATUS':<7}  DETAIL\n")
    for row in rows:
        detail = mask_text(row.detail)
        detail = f"{row.basis} rule: {detail}" if row.status == "warned" and row.basis else detail
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        stream.write(f"{row.check_id:<{width}}  {row.subject:<{subject_width}}  {row.status:<7}  {detail}\n")
    print_findings(rows, stream)


def print_findings(results: list[CheckResult], stream: TextIO) -> None:
    """Under the table, each failure's and warning's finding: what was sent, what came back, what was
    expected, and a curl line to reproduce it (all masked)."""
    for result in results:
        finding = result.finding
        if result.status not in ("failed", "warned") or not finding:
            continue
        label = (
            f"{result.check_id} ({result.status}, {result.basis} rule)" if result.basis else result.check_id
        )
        stream.write(f"\n{label}: {mask_text(str(finding.get('message', '')))}\n")
        for label in ("expected", "sent", "received", "curl"):
            if finding.get(label):
                stream.write(f"  {label + ':':<10}{mask_text(str(finding[label]))}\n")
