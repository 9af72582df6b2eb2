"""The auth lane (:class:`sergio_kit.checks.lanes.Lane`): its checks run in order in one background
thread, each outcome (a detail, a finding, a skip, an error, out of time) reaches the caller's thread,
and the throttle names the lane's running check in that thread only."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any, cast

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.lanes import GENERATING, Lane, generating, paused_generating
from sergio_kit.checks.registry import CheckSpec
from sergio_kit.errors import OutOfTime
from sergio_kit.reports.findings import CheckFailed, CheckSkipped, Finding
from sergio_kit.target.pacing import Pacer
from sergio_kit.target.throttling import Throttle


class StandInContext:
    """What the lane uses of a :class:`CheckContext`: its throttle (whose pacer holds the deadline)."""

    def __init__(self, pacer: Pacer | None = None) -> None:
        self.throttle = Throttle(None, pacer=pacer, announce=lambda line: None)


class Recorder:
    """Check functions that note, when they run, their id, their thread and the throttle's check."""

    def __init__(self) -> None:
        self.runs: list[tuple[str, threading.Thread, str]] = []

    def spec(self, check_id: str, outcome: Callable[[], str | None] = lambda: None) -> CheckSpec:
        """A check ``check_id`` that records its run, then returns (or raises) what ``outcome`` does."""

        def function(ctx: Any) -> str | None:
            self.runs.append((check_id, threading.current_thread(), ctx.throttle.current))
            return outcome()

        return CheckSpec(check_id, function, f"stands in for {check_id}", "documented")

    def order(self) -> list[str]:
        """The ids of the checks that ran, in the order they ran."""
        return [check_id for check_id, _, _ in self.runs]


@pytest.fixture
def lane_threads(monkeypatch: pytest.MonkeyPatch) -> list[threading.Thread]:
    """Every thread started while the test runs (the lane's are the only ones a test here starts)."""
    started: list[threading.Thread] = []

    class CountedThread(threading.Thread):
        """A thread that notes its start."""

        def start(self) -> None:
            """Note the thread, then start it."""
            started.append(self)
            super().start()

    monkeypatch.setattr(threading, "Thread", CountedThread)
    return started


def lane_of(ctx: StandInContext, specs: list[CheckSpec]) -> Lane:
    """A lane over ``specs`` sharing the stand-in context."""
    return Lane(cast(CheckContext, ctx), specs)


def raising(error: BaseException) -> Callable[[], str | None]:
    """An outcome that raises ``error``."""

    def outcome() -> str | None:
        raise error

    return outcome


def test_the_checks_run_in_order_in_one_background_thread() -> None:
    """Every check runs, in the order given, in one thread that is not the caller's."""
    recorder = Recorder()
    lane = lane_of(StandInContext(), [recorder.spec(f"auth.step{n}") for n in range(3)])
    lane.start()
    assert lane.outcome("auth.step2") is None
    assert recorder.order() == ["auth.step0", "auth.step1", "auth.step2"]
    threads = {thread for _, thread, _ in recorder.runs}
    assert len(threads) == 1
    assert threads != {threading.main_thread()} and threads != {threading.current_thread()}


def test_outcome_returns_the_checks_detail() -> None:
    """A check that passes with a detail gives that detail to whoever asks for its outcome."""
    recorder = Recorder()
    lane = lane_of(
        StandInContext(),
        [recorder.spec("auth.login.ok", lambda: "logged in twice"), recorder.spec("refresh.rotate")],
    )
    lane.start()
    assert lane.outcome("auth.login.ok") == "logged in twice"
    assert lane.outcome("refresh.rotate") is None


def test_outcome_reraises_the_checks_finding_skip_or_error() -> None:
    """A finding, a skip and a plain error raised in the lane are raised again by ``outcome``, in the
    caller's thread; a check that raised does not stop the ones after it."""
    finding = Finding("a token signed with alg none was accepted", expected="401", received="200")
    failed = CheckFailed(finding)
    skipped = CheckSkipped("needs a second company")
    broken = RuntimeError("the check itself broke")
    recorder = Recorder()
    lane = lane_of(
        StandInContext(),
        [
            recorder.spec("auth.jwt.alg_none", raising(failed)),
            recorder.spec("auth.tenancy", raising(skipped)),
            recorder.spec("refresh.reuse", raising(broken)),
            recorder.spec("refresh.expiry", lambda: "still runs"),
        ],
    )
    with pytest.raises(CheckFailed) as raised_failure:
        lane.outcome("auth.jwt.alg_none")
    assert raised_failure.value is failed
    with pytest.raises(CheckSkipped, match="needs a second company"):
        lane.outcome("auth.tenancy")
    with pytest.raises(RuntimeError, match="the check itself broke"):
        lane.outcome("refresh.reuse")
    assert lane.outcome("refresh.expiry") == "still runs"


def test_outcome_starts_a_lane_that_has_not_started(lane_threads: list[threading.Thread]) -> None:
    """No thread starts and nothing runs before the lane starts; asking for an outcome starts it."""
    recorder = Recorder()
    lane = lane_of(StandInContext(), [recorder.spec("auth.login.ok", lambda: "fine")])
    assert lane_threads == [] and recorder.runs == []
    assert lane.outcome("auth.login.ok") == "fine"
    assert len(lane_threads) == 1
    assert recorder.order() == ["auth.login.ok"]


def test_starting_twice_starts_one_thread(lane_threads: list[threading.Thread]) -> None:
    """A second ``start`` (each check outside the lane starts it) starts no second thread, during the
    lane's run or after it: each check runs once."""
    recorder = Recorder()
    gate = threading.Event()
    lane = lane_of(
        StandInContext(),
        [recorder.spec("auth.first", lambda: str(gate.wait(30))), recorder.spec("auth.second")],
    )
    lane.start()
    lane.start()  # while the first check holds the lane's thread
    gate.set()
    assert lane.outcome("auth.first") == "True"
    assert lane.outcome("auth.second") is None
    lane.start()
    assert len(lane_threads) == 1
    assert recorder.order() == ["auth.first", "auth.second"]


def test_runs_names_only_the_lanes_checks() -> None:
    """``runs`` says which checks are the lane's to run."""
    recorder = Recorder()
    lane = lane_of(StandInContext(), [recorder.spec("auth.login.ok"), recorder.spec("refresh.reuse")])
    assert lane.runs("auth.login.ok") and lane.runs("refresh.reuse")
    assert not lane.runs("apikey.scope")
    assert recorder.runs == []


def test_past_the_deadline_each_check_ends_out_of_time() -> None:
    """Once the pacer's deadline (``--max-duration``) has passed, no lane check runs: each ends with
    :class:`OutOfTime` (a ``BaseException``, so no ``except Exception`` hides it), saying so."""
    recorder = Recorder()
    pacer = Pacer({"auth": 10}, deadline=time.monotonic() - 1, announce=lambda line: None)
    lane = lane_of(StandInContext(pacer), [recorder.spec("auth.login.ok"), recorder.spec("refresh.reuse")])
    for check_id in ("auth.login.ok", "refresh.reuse"):
        with pytest.raises(OutOfTime, match="out of time") as raised:
            lane.outcome(check_id)
        assert not isinstance(raised.value, Exception)
    assert recorder.runs == []


def test_a_deadline_still_ahead_lets_the_checks_run() -> None:
    """A pacer whose deadline is still ahead stops nothing."""
    recorder = Recorder()
    pacer = Pacer({"auth": 10}, deadline=time.monotonic() + 600, announce=lambda line: None)
    lane = lane_of(StandInContext(pacer), [recorder.spec("auth.login.ok", lambda: "in time")])
    assert lane.outcome("auth.login.ok") == "in time"


def test_the_throttle_names_the_running_check_in_the_lane_only() -> None:
    """While a lane check runs, the throttle's ``current`` (per thread, for the ledger) is its id; the
    caller's thread keeps its own check."""
    ctx = StandInContext()
    ctx.throttle.current = "contract.cases"
    recorder = Recorder()
    lane = lane_of(ctx, [recorder.spec("auth.login.ok"), recorder.spec("refresh.reuse")])
    lane.start()
    lane.outcome("refresh.reuse")
    assert [(check_id, current) for check_id, _, current in recorder.runs] == [
        ("auth.login.ok", "auth.login.ok"),
        ("refresh.reuse", "refresh.reuse"),
    ]
    assert ctx.throttle.current == "contract.cases"


def test_the_cassette_checks_run_after_every_lane_check_in_a_live_run() -> None:
    """Replaying a cassette patches httpx for the whole process, so in a live run the cassette group
    comes after the lane's groups: the main thread has then waited for every lane outcome, and no lane
    request can meet a cassette instead of the target."""
    from sergio_kit.checks.lanes import LANE_GROUPS
    from sergio_kit.plugin import LIVE_ORDER

    assert LIVE_ORDER.index("cassette") > max(LIVE_ORDER.index(group) for group in LANE_GROUPS)


def test_a_thread_waiting_for_a_quota_lets_the_other_generate() -> None:
    """The main thread holds the generating lock (a contract test) and waits for a quota inside
    ``paused_generating``: the lane's Hypothesis run takes the lock meanwhile; when the wait ends the
    main thread has it back, and outside any run the pause changes nothing."""
    waiting, lane_ran = threading.Event(), threading.Event()

    def lane() -> None:
        waiting.wait(timeout=5)
        with generating():
            lane_ran.set()

    thread = threading.Thread(target=lane)
    thread.start()
    with generating():
        with paused_generating():  # the pacer's sleep
            waiting.set()
            assert lane_ran.wait(timeout=5)
        assert GENERATING.locked()
        assert not GENERATING.acquire(blocking=False)  # held again, by this thread
    thread.join(timeout=5)
    assert not GENERATING.locked()
    with paused_generating():  # not generating: nothing to let go
        assert not GENERATING.locked()
