"""A fake monotonic clock for the pacer: time moves only when something sleeps on it."""

from __future__ import annotations

import threading


class FakeClock:
    """Call it for the time; :meth:`sleep` moves it forward at once. Safe to share between threads."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []  # every sleep, in order
        self._lock = threading.Lock()
        self._reads = threading.local()

    def __call__(self) -> float:
        """The time now (remembered as this thread's last reading)."""
        with self._lock:
            self._reads.last = self.now
            return self.now

    def sleep(self, seconds: float) -> None:
        """Sleep ``seconds``: the clock jumps forward by them."""
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def last_read(self) -> float:
        """The time this thread read last (the pacer reads the clock last when it counts a request)."""
        last: float = self._reads.last
        return last
