"""Pace the kit's own requests to the target's quotas, so a live run spends no request on a 429 it
could have avoided.

The published rule (README, "What is checked"): buckets per (principal, tier), a rolling 60-second
window, principal = the user behind a bearer token, the key for ``X-API-Key``, the client address for
unauthenticated auth calls. The :class:`Pacer` keeps, per bucket, the times of the requests the kit
sent in the last window (its own and, through :meth:`Pacer.note`, the rate-limit probes'), and before
a request waits until the bucket has room. A rolling window is the strictest allowed choice: a fixed
window or a token bucket admits at least as much, so pacing by it never provokes a 429. A 429 that
comes anyway is the target's (:attr:`Pacer.early`): a finding for the report, not a reason to slow down.

Waits longer than :data:`VISIBLE_WAIT` seconds are announced (tier, principal, why, until when).
Past the run's deadline (``--max-duration``) a wait raises :class:`OutOfTime` instead.
"""

from __future__ import annotations

import hashlib
import sys
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from datetime import UTC, datetime
from functools import lru_cache

import jwt

from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.errors import OutOfTime

CLIENT = "this client's address"  # the principal of unauthenticated auth calls (login, refresh)
VISIBLE_WAIT = 5.0  # seconds: a longer wait gets a line of its own
MARGIN = 1.0  # seconds past the window's edge, for the request's travel time and clock skew


def principal_of(headers: Mapping[str, str] | None) -> str:
    """The principal a request's credentials name: ``user <sub>`` for a bearer JWT (read, not
    verified), ``key <digest>`` for an API key, else :data:`CLIENT`. Never the credential itself."""
    fields = {name.lower(): value for name, value in (headers or {}).items()}
    api_key = fields.get("x-api-key")
    if api_key:
        return "key " + hashlib.sha256(api_key.encode()).hexdigest()[:8]
    scheme, _, token = fields.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return _bearer_principal(token.strip())
    return CLIENT


@lru_cache(maxsize=256)
def _bearer_principal(token: str) -> str:
    """``user <sub>`` of a bearer JWT (read, not verified), else ``token <digest>``; cached, since every
    request of a session carries the same token."""
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return "token " + hashlib.sha256(token.encode()).hexdigest()[:8]
    return f"user {claims.get('sub', '?')}"


class Pacer:
    """Per (tier, principal) rolling-window ledger of the kit's requests; waits for room."""

    def __init__(
        self,
        limits: Mapping[str, int],
        *,
        window: float = WINDOW_SECONDS,
        announce: Callable[[str], None] | None = None,
        deadline: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.limits = dict(limits)
        self.window = window
        self.deadline = deadline  # clock() value past which no wait may end
        # sys.__stderr__: pytest captures sys.stderr while a check runs, and a wait must be seen then
        self._announce = announce or (lambda message: print(message, file=sys.__stderr__, flush=True))
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[tuple[str, str], deque[float]] = {}
        self.totals: Counter[tuple[str, str]] = Counter()  # (tier, principal) -> requests over the run
        self._lock = threading.Lock()
        self.early: Counter[str] = Counter()  # 429s the target sent before its quota was spent
        self.waited: dict[str, float] = {}  # seconds waited per tier
        self.remaining: Callable[[], float | None] = lambda: None  # the plan's estimate of time left
        self.name_of: Callable[[str], str] = lambda principal: principal  # how a wait line names it
        #: wraps every wait: what a thread holds that another may use meanwhile (a lock) is let go
        self.pausing: Callable[[], AbstractContextManager[None]] = nullcontext

    def admit(self, tier: str, principal: str, why: str, *, keep: int = 0) -> None:
        """Wait until a request of ``tier`` as ``principal`` fits the window with ``keep`` requests of
        room left over (kept for another thread's checks), then count it as sent. Raises
        :class:`OutOfTime` when that moment is past the deadline."""
        quota = self.limits.get(tier)
        if quota is None:
            return
        limit = quota - min(max(keep, 0), quota - 1)
        while True:
            with self._lock:
                sent = self._bucket(tier, principal)
                now = self._clock()
                if len(sent) < limit:
                    sent.append(now)
                    self.totals[(tier, principal)] += 1
                    return
                ready_at = self._next_slot(sent, limit, now)
            self._wait_until(ready_at, tier, principal, why, quota)

    def seconds_left(self) -> float | None:
        """Seconds until the deadline (negative past it), or ``None`` without one."""
        return None if self.deadline is None else self.deadline - self._clock()

    def room(self, tier: str, principal: str) -> int:
        """How many more requests of ``tier`` as ``principal`` the window admits now."""
        limit = self.limits.get(tier)
        if limit is None:
            return 1 << 30
        with self._lock:
            return limit - len(self._bucket(tier, principal))

    def seconds_to_send(self, tier: str, principal: str, count: int) -> float:
        """Seconds from now until ``count`` more requests of ``tier`` as ``principal`` could all have
        been admitted, sent as soon as the rolling window allows (0 when they fit now)."""
        limit = self.limits.get(tier)
        if limit is None or count <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            times = list(self._bucket(tier, principal))
        last = now
        for _ in range(count):
            last = self._next_slot(times, limit, now)
            times.append(last)
        return last - now

    def _next_slot(self, sent: Sequence[float], limit: int, now: float) -> float:
        """When one more request fits a window holding ``sent`` (in order): now if fewer than
        ``limit``, else when the one ``limit`` before it ages out (plus the margin)."""
        oldest = len(sent) - limit
        return now if oldest < 0 else max(now, sent[oldest] + self.window + MARGIN)

    @contextmanager
    def without_deadline(self) -> Iterator[None]:
        """Within the block, waits may pass the deadline (clean-up: nothing is left behind)."""
        saved, self.deadline = self.deadline, None
        try:
            yield
        finally:
            self.deadline = saved

    def release(self, tier: str, principal: str) -> None:
        """Take back the latest request counted for the bucket: the target refused its credentials
        (401), so no principal was charged."""
        with self._lock:
            sent = self._sent.get((tier, principal))
            if sent:
                sent.pop()
                self.totals[(tier, principal)] -= 1

    def note(self, tier: str, principal: str) -> None:
        """Count a request sent without pacing (a rate-limit probe's), so later ones wait for it."""
        if tier in self.limits:
            with self._lock:
                self._bucket(tier, principal).append(self._clock())
                self.totals[(tier, principal)] += 1

    def note_early(self, label: str) -> None:
        """A paced request of ``label`` was answered 429: the target throttled before its quota."""
        self.early[label] += 1

    def _bucket(self, tier: str, principal: str) -> deque[float]:
        sent = self._sent.setdefault((tier, principal), deque())
        now = self._clock()  # a request ages out at the moment admit() waits for: sent + window + MARGIN
        while sent and sent[0] + self.window + MARGIN <= now:
            sent.popleft()
        return sent

    def _wait_until(self, ready_at: float, tier: str, principal: str, why: str, limit: int) -> None:
        seconds = ready_at - self._clock()
        if seconds <= 0:
            return
        if self.deadline is not None and ready_at > self.deadline:
            raise OutOfTime(
                f"out of time: {why} needs the {tier} tier's quota ({principal}), free again in "
                f"{seconds:.0f} s, after the run's --max-duration"
            )
        if seconds > VISIBLE_WAIT:
            until = datetime.fromtimestamp(time.time() + seconds, UTC).strftime("%H:%M:%S UTC")
            left = self.remaining()
            estimate = f"; about {left:.0f} s of the plan left" if left is not None else ""
            self._announce(
                f"sergio-kit: waiting {seconds:.0f} s for the {tier} tier ({limit} per "
                f"{self.window:.0f} s, spent by {self.name_of(principal)}) before {why}, "
                f"until {until}{estimate}"
            )
        self.waited[tier] = self.waited.get(tier, 0.0) + seconds
        with self.pausing():
            self._sleep(seconds)
