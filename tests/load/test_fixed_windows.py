"""``sergio-kit load`` judges a fixed per-minute window, at any alignment, as the docs allow it.

The docs publish "N requests per minute", not a rolling window. A steady conformance stream (1.5x the
limit) is simulated against a fixed-window server whose windows start at several offsets from the
run's first request, and every response goes through the ledger (the per-response classes) and the
run's total through the totals rule: nothing fails, and where a rolling 60-s span saw more than N
the run warns (the recommended rolling-window rule). More than 2N in 60 s, which no per-minute window
allows whatever its alignment, still fails. No Locust run, no server: the ledger's clock is the
simulation's.
"""

from __future__ import annotations

import io
import math
from collections import Counter

import pytest

from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.load.findings import LoadFinding, load_failed, load_verdict
from sergio_kit.load.ledger import (
    ADMITTED,
    BAD_RETRY_AFTER,
    BASIS,
    OVER_QUOTA,
    OVER_ROLLING_QUOTA,
    RETRY_AFTER_OUT_OF_RANGE,
    THROTTLED,
    THROTTLED_EARLY,
    WARNINGS,
    Ledger,
)
from sergio_kit.load.run import TierSummary, judge, print_summary
from sergio_kit.load.summary import render_summary_html
from sergio_kit.load.totals import LoadPlan, totals_findings

#: Offsets (s) of the fixed windows' edges after the run's first request: 0 is a window opened by the
#: first request (the reference server's ``fixed-window`` variant), the others a window already
#: under way when the run starts (aligned to the wall clock's minute, say).
ALIGNMENTS = (0.0, 0.5, 5.0, 15.0, 30.0, 40.0, 45.0, 59.5)


class Stream:
    """A steady conformance stream of one principal on one tier, classified by a :class:`Ledger`."""

    def __init__(self, limit: int, seconds: float) -> None:
        self.limit = limit
        self.rate = 1.5 * limit / WINDOW_SECONDS
        self.times = [k / self.rate for k in range(math.floor(seconds * self.rate) + 1)]
        self.now = 0.0
        self.ledger = Ledger({"read": limit}, clock=lambda: self.now)
        self.classes: Counter[str] = Counter()
        self.problems: list[str] = []

    def send(self, at: float, admitted: bool, retry_after: str | None = None) -> str:
        """One response at ``at`` s; its class."""
        self.now = at
        self.ledger.begin("alice", "read")
        kind, problem = self.ledger.classify("alice", "read", 200 if admitted else 429, retry_after)
        self.classes[kind] += 1
        if problem:
            self.problems.append(problem)
        return kind

    def against_fixed_windows(self, edge: float) -> Stream:
        """Run the stream against windows of 60 s with an edge at ``edge`` s; each 429's Retry-After is
        the time until its window closes."""
        counts: Counter[float] = Counter()
        for at in self.times:
            start = edge + math.floor((at - edge) / WINDOW_SECONDS) * WINDOW_SECONDS
            admitted = counts[start] < self.limit
            counts[start] += admitted
            wait = max(math.ceil(start + WINDOW_SECONDS - at), 1)
            self.send(at, admitted, None if admitted else str(wait))
        return self

    def against_a_rolling_window(self) -> Stream:
        """Run the stream against the kit's rolling window (each 429 honest to the second)."""
        admissions: list[float] = []
        for at in self.times:
            recent = [a for a in admissions if a > at - WINDOW_SECONDS]
            admitted = len(recent) < self.limit
            if admitted:
                admissions.append(at)
            wait = max(math.ceil(recent[0] + WINDOW_SECONDS - at), 1) if recent else 1
            self.send(at, admitted, None if admitted else str(wait))
        return self

    def totals(self) -> list[LoadFinding]:
        """The totals rule on this stream's admissions (warned ones included) over its span."""
        admitted = self.classes[ADMITTED] + self.classes[OVER_ROLLING_QUOTA]
        plan = LoadPlan(
            limits={"read": self.limit}, duration=self.times[-1], principal_rates={"read": [self.rate]}
        )
        return totals_findings(plan, {"read": (admitted, self.times[-1])})


@pytest.mark.parametrize("seconds", [12.0, 65.0, 120.0, 200.0])
@pytest.mark.parametrize("limit", [10, 60, 120])
@pytest.mark.parametrize("edge", ALIGNMENTS)
def test_a_fixed_window_at_any_alignment_never_fails(edge: float, limit: int, seconds: float) -> None:
    """Per response and in total, a fixed window is at worst a warning (its 429s are never early, and
    its total never short of the rolling window's)."""
    stream = Stream(limit, seconds).against_fixed_windows(edge)
    assert set(stream.classes) <= {ADMITTED, THROTTLED, OVER_ROLLING_QUOTA}, stream.problems
    assert [finding for finding in stream.totals() if not finding.warned] == []


@pytest.mark.parametrize("limit", [10, 120])
def test_a_window_opened_by_the_first_request_looks_rolling(limit: int) -> None:
    """The reference server's ``fixed-window`` variant under a steady stream: no warning at all."""
    stream = Stream(limit, 120.0).against_fixed_windows(0.0)
    assert set(stream.classes) == {ADMITTED, THROTTLED}
    assert stream.totals() == []


def test_a_window_under_way_when_the_run_starts_warns() -> None:
    """Edge 40 s into the run: the first window's N and the next one's N fall in one rolling 60-s
    span, so those admissions and the run's total warn, with the recommended basis."""
    stream = Stream(120, 120.0).against_fixed_windows(40.0)
    assert stream.classes[OVER_ROLLING_QUOTA] == 120 and stream.problems == []
    (total,) = stream.totals()
    assert total.warned and total.basis == "recommended"
    assert "more than a rolling window allows (234..253" in total.message
    assert total.message.endswith("a fixed per-minute window allows up to 373")


@pytest.mark.parametrize("limit", [10, 120])
def test_the_rolling_window_passes_clean(limit: int) -> None:
    """The kit's own rolling window (the clean reference server): neither warning nor failure."""
    stream = Stream(limit, 120.0).against_a_rolling_window()
    assert set(stream.classes) == {ADMITTED, THROTTLED}
    assert stream.totals() == []


def test_more_than_twice_the_limit_in_60_s_fails() -> None:
    """Admissions N+1..2N in 60 s warn (a fixed window's edge allows them); the 2N+1st fails, as no
    per-minute window of any alignment admits it."""
    stream = Stream(10, 60.0)
    kinds = [stream.send(float(at), admitted=True) for at in range(21)]  # one a second: all in 21 s
    assert kinds == [ADMITTED] * 10 + [OVER_ROLLING_QUOTA] * 10 + [OVER_QUOTA]
    assert stream.problems == [
        "read: admitted after 20 admissions in 60 s (limit 10; no per-minute window, whatever its "
        "alignment, allows more than 20)"
    ]


def test_more_than_the_fixed_window_bound_in_total_fails() -> None:
    """A total past the rolling bound plus one window per principal fails (the documented quota)."""
    stream = Stream(120, 120.0).against_fixed_windows(40.0)
    plan = LoadPlan(limits={"read": 120}, duration=120.0, principal_rates={"read": [stream.rate]})
    (finding,) = totals_findings(plan, {"read": (374, 120.0)})
    assert not finding.warned and finding.basis == "documented"
    assert "more than the contract allows (234..373 for any per-minute window" in finding.message


@pytest.mark.parametrize(
    ("retry_after", "date", "kind"),
    [
        ("30", None, THROTTLED),
        ("60", None, THROTTLED),
        ("Thu, 01 Jan 2026 00:00:30 GMT", "Thu, 01 Jan 2026 00:00:00 GMT", THROTTLED),
        ("61", None, RETRY_AFTER_OUT_OF_RANGE),  # longer than the window: the kit's assumption
        ("3600", None, RETRY_AFTER_OUT_OF_RANGE),
        ("0", None, RETRY_AFTER_OUT_OF_RANGE),
        ("Thu, 01 Jan 2026 00:00:00 GMT", "Thu, 01 Jan 2026 00:00:30 GMT", RETRY_AFTER_OUT_OF_RANGE),
        (None, None, BAD_RETRY_AFTER),  # documented: a 429 carries Retry-After
        ("soon", None, BAD_RETRY_AFTER),  # RFC 9110: delay-seconds or an HTTP-date
    ],
)
def test_retry_after_is_judged_as_the_check_command_judges_it(
    retry_after: str | None, date: str | None, kind: str
) -> None:
    """Missing or unreadable fails; readable but outside 1..60 s warns (``ratelimit.<tier>.retry_after``
    makes the range a recommended rule too); 1..60 s is throttled as contracted."""
    stream = Stream(10, 10.0)
    for at in range(10):
        stream.send(float(at), admitted=True)
    stream.now = 11.0
    stream.ledger.begin("alice", "read")
    got, problem = stream.ledger.classify("alice", "read", 429, retry_after, date)
    assert got == kind
    assert (problem is not None) == (kind == BAD_RETRY_AFTER)
    assert BASIS.get(got, "none") == {
        BAD_RETRY_AFTER: "documented",
        RETRY_AFTER_OUT_OF_RANGE: "recommended",
    }.get(got, "none")


def test_throttled_early_fails_before_a_long_retry_after_warns() -> None:
    """A 429 before the quota is spent fails (documented quota) whatever its Retry-After says."""
    stream = Stream(10, 10.0)
    stream.send(0.0, admitted=True)
    assert stream.send(1.0, admitted=False, retry_after="3600") == THROTTLED_EARLY


def test_warning_classes_count_as_what_they_also_are() -> None:
    """Each warning class is an admission or a throttle too, with the recommended basis."""
    assert WARNINGS == {OVER_ROLLING_QUOTA: ADMITTED, RETRY_AFTER_OUT_OF_RANGE: THROTTLED}
    assert {BASIS[kind] for kind in WARNINGS} == {"recommended"}
    assert {basis for kind, basis in BASIS.items() if kind not in WARNINGS} == {"documented"}


def _summaries() -> dict[str, TierSummary]:
    read = TierSummary("read", admitted=301, throttled=60, warnings={OVER_ROLLING_QUOTA: 120})
    return {"read": read, "bulk": TierSummary("bulk", admitted=20, throttled=10)}


def test_warnings_alone_pass_and_strict_fails_them() -> None:
    """The summary lists each warning with its basis apart from failures; warnings alone pass."""
    findings = judge(_summaries(), "capacity")
    assert findings == [LoadFinding("read: 120 request(s) over rolling quota", "recommended")]
    out = io.StringIO()
    print_summary(_summaries(), findings, out)
    text = out.getvalue()
    assert "WARN read: 120 request(s) over rolling quota (recommended rule)\n" in text
    assert "FAIL" not in text and text.endswith("load: passed with 1 warning\n")
    assert not load_failed(findings, 0)
    out = io.StringIO()
    print_summary(_summaries(), findings, out, strict=True)
    assert out.getvalue().endswith("strict: a warning fails the run\nload: FAILED\n")
    assert load_failed(findings, 0, strict=True)


def test_failures_and_warnings_are_listed_apart() -> None:
    """A failure fails the run whatever the warnings; both are listed, each with its basis."""
    summaries = _summaries()
    summaries["bulk"].failures[THROTTLED_EARLY] = 2
    findings = judge(summaries, "capacity")
    assert load_verdict(findings, 0) == "FAILED"
    out = io.StringIO()
    print_summary(summaries, findings, out)
    lines = out.getvalue().splitlines()
    assert lines[-3:] == [
        "FAIL bulk: 2 request(s) throttled early (documented rule)",
        "WARN read: 120 request(s) over rolling quota (recommended rule)",
        "load: FAILED",
    ]
    assert load_verdict([finding for finding in findings if finding.warned], 0) == "passed with 1 warning"


def test_summary_page_lists_warnings_apart() -> None:
    """summary.html: the verdict, the warnings in their own list with their basis, a warned row."""
    tiers = [
        {
            "tier": "read",
            "admitted": 301,
            "throttled": 60,
            "warned": 120,
            "failed": 0,
            "warnings": {OVER_ROLLING_QUOTA: 120},
            "failures": {},
        }
    ]
    findings = [LoadFinding("read: 120 request(s) over rolling quota", "recommended")]
    page = render_summary_html(
        profile="conformance",
        target="https://sergio.test",
        tiers=tiers,
        findings=findings,
        locust_exit_code=0,
    )
    assert "load: passed with 1 warning" in page
    assert (
        '<ul class="warnings"><li>read: 120 request(s) over rolling quota (recommended rule)</li></ul>'
        in page
    )
    assert '<ul class="findings">' not in page and '<tr class="warned">' in page
    strict = render_summary_html(
        profile="conformance",
        target="https://sergio.test",
        tiers=tiers,
        findings=findings,
        locust_exit_code=0,
        strict=True,
    )
    assert "load: FAILED" in strict
