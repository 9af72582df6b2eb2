"""Live runs: the checks that spend the auth tier run in a lane of their own, beside the others.

Against a live target the run's pace is set by two kinds of buckets: the auth tier of the client's
address (10 per minute: logins, refreshes, bad logins) and the write tier of the users (the contract
cases, the checks' own objects). Run one after the other, each waits out its windows while the other's
quota sits idle. So in live mode the ``auth`` and ``refresh`` checks run, in order, in a background
thread (the lane) that starts when the first check outside the ``ratelimit`` group does (the rate-limit
plan owns the auth tier's first window and leaves its spare logins); every other check runs in the
main thread meanwhile. Both share the context, the pacer and the sessions. Each lane check's own test
waits for its outcome and reports it as if it had run there. The contract cases leave each user the
room the lane's checks still need of it (``Throttle.lane_owed``), and the two threads' Hypothesis runs
take turns, except while one waits for a quota.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from concurrent.futures import Future
from contextlib import contextmanager

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import CheckSpec
from sergio_kit.errors import OutOfTime, SergioKitError

#: The groups whose checks run in the lane (they spend the auth tier; nothing else they do is scarce).
LANE_GROUPS = ("auth", "refresh")
#: Held while Hypothesis generates, in the lane or in the main thread's contract tests: Schemathesis's
#: Hypothesis runs and the lane's are kept apart (a contract run's first case once failed and then
#: passed on replay while the lane's forgeries were generating beside it; with the lock released, a
#: contract case once failed with a KeyError from inside Hypothesis). A thread waiting for a quota
#: lets it go meanwhile (:func:`paused_generating`), so neither thread's waits hold up the other.
GENERATING = threading.Lock()
_HOLDS = threading.local()  # .held: this thread holds GENERATING


@contextmanager
def generating() -> Iterator[None]:
    """Run the block (a Hypothesis run) alone among the run's Hypothesis runs."""
    with GENERATING:
        _HOLDS.held = True
        try:
            yield
        finally:
            _HOLDS.held = False


@contextmanager
def paused_generating() -> Iterator[None]:
    """Within the block (a wait for a quota: this thread runs no Hypothesis code meanwhile), another
    thread's Hypothesis run may go on; the lock is taken back after."""
    if not getattr(_HOLDS, "held", False):
        yield
        return
    _HOLDS.held = False
    GENERATING.release()
    try:
        yield
    finally:
        GENERATING.acquire()
        _HOLDS.held = True


class Lane:
    """The lane's checks, run in order in one background thread once :meth:`start` is called."""

    def __init__(self, ctx: CheckContext, specs: Sequence[CheckSpec]) -> None:
        self._ctx = ctx
        self._specs = list(specs)
        self._outcomes: dict[str, Future[str | None]] = {spec.check_id: Future() for spec in self._specs}
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def runs(self, check_id: str) -> bool:
        """Whether ``check_id`` runs in this lane."""
        return check_id in self._outcomes

    def start(self) -> None:
        """Start the lane (once; later calls do nothing)."""
        with self._lock:
            if self._thread is None and self._specs:
                self._thread = threading.Thread(target=self._run, name="sergio-kit auth lane", daemon=True)
                self._thread.start()

    def outcome(self, check_id: str) -> str | None:
        """The detail of ``check_id``'s pass, once the lane ran it (starting the lane if it has not
        started); raises what the check raised (a finding, a skip, out of time, an error)."""
        self.start()
        return self._outcomes[check_id].result()

    def _run(self) -> None:
        stop: SergioKitError | None = None  # a user mistake (a bad login, an untrusted certificate)
        for spec in self._specs:
            future = self._outcomes[spec.check_id]
            if stop is not None:  # every other check would meet it the same way
                future.set_exception(stop)
                continue
            self._ctx.throttle.current = spec.check_id
            pacer = self._ctx.throttle.pacer
            left = pacer.seconds_left() if pacer is not None else None
            try:
                if left is not None and left <= 0:
                    raise OutOfTime("out of time: max_duration ran out before this check ran")
                future.set_result(spec.run(self._ctx))
            except BaseException as error:  # the check's own test re-raises it
                future.set_exception(error)
                if isinstance(error, SergioKitError):
                    stop = error
