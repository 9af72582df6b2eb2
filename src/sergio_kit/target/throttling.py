"""Handle 429s the kit provokes itself, and count them per operation.

Schemathesis accepts documented 429s silently, so a fuzzing run against a rate-limited target can
end up testing nothing but the 429 path. Every request the kit sends (contract cases, the checks' own
calls, logins and refreshes) goes through :class:`Throttle`. Against a live target its
:class:`~sergio_kit.target.pacing.Pacer` first waits until the request's (tier, principal) bucket has
room, so the kit provokes no 429 of its own. A 429 that comes anyway is counted for its operation (and,
when paced, as the target's early 429), then the kit waits (on the embedded server it advances the test
clock by Retry-After; on a live target it sleeps Retry-After) and retries, so the case is still tested.
The counts feed the ``contract.coverage`` check.
"""

from __future__ import annotations

import math
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import NamedTuple, TypeVar

import httpx

from sergio_kit.contract.document import Contract
from sergio_kit.contract.ratelimit import WINDOW_SECONDS, retry_after_or_none
from sergio_kit.target.clock import TestClock
from sergio_kit.target.pacing import CLIENT, Pacer, principal_of

R = TypeVar("R")


class Charge(NamedTuple):
    """The bucket a request is charged to, and how."""

    tier: str
    principal: str
    anonymous: bool  # the operation takes no credentials: even a 401 is charged (to the client)
    operation: str  # the contract operation (``METHOD /template``), "" when it is not one


MAX_RETRIES = 3


class Throttle:
    """Retry-on-429 with honest waiting, and per-operation throttled/attempted counts."""

    def __init__(
        self,
        clock: TestClock | None,
        *,
        announce: Callable[[str], None] | None = None,
        pacer: Pacer | None = None,
        contract: Contract | None = None,
    ) -> None:
        self._clock = clock
        # sys.__stderr__: pytest captures sys.stderr while a check runs, and a wait must be seen then
        self._announce = announce or (lambda message: print(message, file=sys.__stderr__, flush=True))
        self.pacer = pacer  # live targets: wait for room in the request's bucket before sending
        self._contract = contract  # where a label's tier is looked up (``METHOD /path``)
        self.sent: Counter[str] = Counter()
        self.throttled: Counter[str] = Counter()
        self.unresolved: Counter[str] = Counter()
        self.case_prints: dict[str, set[str]] = {}  # operation -> the contract cases sent (live budgets)
        self.unsent: Counter[str] = Counter()  # generated cases left unsent: the operation's live budget
        self.repeated: Counter[str] = Counter()  # live: cases equal to one sent and passed, not sent again
        # (operation, case fingerprint) of the contract cases whose checks failed (sent again on replay)
        self.failed_prints: set[tuple[str, str]] = set()
        self.answered: dict[str, set[int]] = {}  # contract operation (METHOD /template) -> statuses seen
        self._running = threading.local()  # per thread: the check it runs (set by the plugin, a lane)
        self.ledger: Counter[tuple[str, str, str]] = Counter()  # (check, tier, principal) -> requests
        self._ledger_lock = threading.Lock()  # the auth lane counts while the main thread reads
        self.roles: dict[str, str] = {}  # principal -> "primary" / "other" (the sessions' users)
        # (tier, role) -> requests the plan expects from the checks besides the contract cases
        self.expected: dict[tuple[str, str], int] = {}
        # (tier, role) -> of those, what the auth lane's checks send (they run beside the contract)
        self.lane_expected: dict[tuple[str, str], int] = {}
        self.lane_groups: tuple[str, ...] = ()  # the check groups the lane runs
        if pacer is not None:
            pacer.name_of = self._named

    def send(
        self,
        operation: str,
        request: Callable[[], R],
        status_and_headers: Callable[[R], tuple[int, Mapping[str, str]]],
        *,
        headers: Mapping[str, str] | None = None,
        tier: str | None = None,
        keep: int = 0,
    ) -> R:
        """Send ``request`` (paced to the bucket of ``tier``, default the tier of the contract
        operation ``operation`` names, and of the principal ``headers`` carry, leaving ``keep``
        requests of its room to another thread's checks); on 429 wait Retry-After and send again (up
        to 3 times)."""
        bucket = self._bucket(operation, headers, tier)
        response = self._paced(request, operation, bucket, keep)
        self.sent[operation] += 1
        status, answer = status_and_headers(response)
        self._settle(bucket, status)
        if bucket is not None and bucket.operation:
            self.answered.setdefault(bucket.operation, set()).add(status)
        if status == 429:
            self.throttled[operation] += 1
        for _ in range(MAX_RETRIES):
            if status != 429:
                break
            if bucket is not None and self.pacer is not None:
                self.note_early(operation)
            self.wait(retry_after_seconds(answer), operation)
            response = self._paced(request, operation, bucket, keep)
            status, answer = status_and_headers(response)
            self._settle(bucket, status)
        if status == 429:
            self.unresolved[operation] += 1
        return response

    def _bucket(self, operation: str, headers: Mapping[str, str] | None, tier: str | None) -> Charge | None:
        """What a request is charged to, if its tier is known (``tier``, else its operation's)."""
        method, _, path = operation.partition(" ")
        found = self._contract.operation_for(method, path) if self._contract is not None else None
        tier = tier or (found.tier if found is not None else None)
        if tier is None:
            return None
        principal = principal_of(headers)
        if principal == CLIENT and found is not None and found.security:
            return None  # no credentials for a secured operation: no principal to charge (a 401)
        anonymous = not found.security if found is not None else principal == CLIENT
        return Charge(tier, principal, anonymous, found.label if found is not None else "")

    def _paced(self, request: Callable[[], R], operation: str, bucket: Charge | None, keep: int = 0) -> R:
        """``request()``, after the pacer made room for it; counted in the ledger (and uncounted when
        it never reached the target: a connection or TLS error)."""
        if bucket is None:
            return request()
        if self.pacer is not None:
            self.pacer.admit(bucket.tier, bucket.principal, operation, keep=keep)
        self.count(bucket.tier, bucket.principal)
        try:
            return request()
        except (httpx.TransportError, OSError):  # OSError: requests' (Schemathesis's) connection errors
            self._uncount(bucket)
            raise

    def still_expected(self, tier: str, principal: str, besides: str) -> int:
        """Of the requests the plan expects of ``principal``'s checks in ``tier`` (``expected``, by its
        role), those not sent yet: what its checks other than ``besides`` (the contract cases) and the
        rate-limit plan (ledger names ``ratelimit.*``) will still need."""
        return self._owed(
            self.expected,
            tier,
            principal,
            lambda check: check != besides and not check.startswith("ratelimit."),
        )

    def lane_owed(self, tier: str, principal: str) -> int:
        """Of the requests the plan expects of the auth lane's checks (``lane_expected``) in ``tier`` as
        ``principal``'s role, those not sent yet: the room the main thread leaves them, since they run
        beside it (:mod:`sergio_kit.checks.lanes`)."""
        return self._owed(
            self.lane_expected, tier, principal, lambda check: check.split(".")[0] in self.lane_groups
        )

    def _owed(
        self,
        expected: Mapping[tuple[str, str], int],
        tier: str,
        principal: str,
        counts: Callable[[str], bool],
    ) -> int:
        """``expected``'s requests of ``tier`` for ``principal``'s role less what the checks ``counts``
        accepts have sent of them so far (the ledger), never below 0."""
        role = self.roles.get(principal, role_of(principal))
        spent = sum(
            count
            for (check, charged_tier, charged_role), count in self._ledger_items()
            if (charged_tier, charged_role) == (tier, role) and counts(check)
        )
        return max(0, expected.get((tier, role), 0) - spent)

    def _named(self, principal: str) -> str:
        """A principal as a wait line names it: the session's role first (``the primary user``)."""
        role = self.roles.get(principal)
        return f"the {role} user ({principal})" if role else principal

    @property
    def current(self) -> str:
        """The check this thread is running, for the ledger ("" before the first)."""
        return str(getattr(self._running, "check", ""))

    @current.setter
    def current(self, check_id: str) -> None:
        self._running.check = check_id

    def count(self, tier: str, principal: str, requests: int = 1) -> None:
        """Count ``requests`` of ``tier`` as ``principal`` for the running check in the ledger."""
        key = (self.current, tier, self.roles.get(principal, role_of(principal)))
        with self._ledger_lock:
            self.ledger[key] += requests

    def _ledger_items(self) -> list[tuple[tuple[str, str, str], int]]:
        """The ledger's entries as they stand (another thread may be counting)."""
        with self._ledger_lock:
            return list(self.ledger.items())

    def _settle(self, bucket: Charge | None, status: int) -> None:
        """A request to a secured operation whose credentials were refused (401) charged no principal
        (the published rule charges the principal the credentials name): uncount it. An anonymous
        operation's 401, a login with a wrong password say, is charged to the client's address."""
        if bucket is None or status != 401 or bucket.anonymous:
            return
        self._uncount(bucket)

    def _uncount(self, bucket: Charge) -> None:
        """Take a request back from the ledger and the pacer: it charged no principal."""
        self.count(bucket.tier, bucket.principal, -1)
        if self.pacer is not None:
            self.pacer.release(bucket.tier, bucket.principal)

    @contextmanager
    def cleaning_up(self) -> Iterator[None]:
        """Within the block the run's deadline does not stop a wait (see :meth:`Pacer.without_deadline`)."""
        if self.pacer is None:
            yield
            return
        with self.pacer.without_deadline():
            yield

    def note_early(self, operation: str) -> None:
        """Count a 429 that came although the pacer made room (a finding about the target)."""
        if self.pacer is not None:
            self.pacer.note_early(operation)

    def wait(self, seconds: int, reason: str) -> None:
        """Wait ``seconds``: move the test clock, or sleep (and say so) on a live target."""
        if self._clock is not None:
            self._clock.advance(seconds)
            return
        self._announce(f"sergio-kit: {reason} was rate limited; waiting Retry-After {seconds} s")
        time.sleep(seconds)

    def untested_share(self, operation: str) -> float:
        """The fraction of ``operation``'s cases still answered 429 after waiting: never tested."""
        sent = self.sent[operation]
        return self.unresolved[operation] / sent if sent else 0.0


def retry_after_seconds(headers: Mapping[str, str]) -> int:
    """Retry-After (delay-seconds or HTTP-date) as whole seconds in 1..60; a missing or malformed
    value counts as the full window, a date already past as 1 s."""
    field = {name.lower(): value for name, value in headers.items()}
    seconds = retry_after_or_none(field.get("retry-after"), field.get("date"))
    if seconds is None:
        return WINDOW_SECONDS
    return min(max(math.ceil(seconds), 1), WINDOW_SECONDS)


def role_of(principal: str) -> str:
    """A principal's name in the ledger when no session named it (``primary``, ``other``): ``client``
    for this client's address, ``user`` for any other user; anything else (an API key, ``key <digest>``:
    each key is a bucket of its own) as itself."""
    if principal == CLIENT:
        return "client"
    return "user" if principal.startswith(("user ", "token ")) else principal
