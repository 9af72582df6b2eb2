"""The server's clock: wall time, optionally moved by the test-clock endpoint."""

from __future__ import annotations

import time


class Clock:
    """Wall-clock seconds since the epoch, plus an offset the test clock can advance.

    ``freeze`` stops time at the current instant (until ``unfreeze``), so a test can make several
    requests at exactly the same server time.
    """

    def __init__(self) -> None:
        self._offset = 0.0
        self._frozen_at: float | None = None

    def now(self) -> float:
        """Current server time in seconds since the epoch."""
        if self._frozen_at is not None:
            return self._frozen_at
        return time.time() + self._offset

    def advance(self, seconds: float) -> float:
        """Move the clock forward by ``seconds`` (never backwards) and return the new time."""
        if seconds < 0:
            raise ValueError("the clock only moves forward")
        if self._frozen_at is not None:
            self._frozen_at += seconds
        else:
            self._offset += seconds
        return self.now()

    def freeze(self) -> float:
        """Stop the clock at the current instant; return that instant."""
        if self._frozen_at is None:
            self._frozen_at = self.now()
        return self._frozen_at

    def unfreeze(self) -> float:
        """Let the clock run again from where it was frozen."""
        if self._frozen_at is not None:
            self._offset = self._frozen_at - time.time()
            self._frozen_at = None
        return self.now()

    @property
    def frozen(self) -> bool:
        """Whether the clock is frozen."""
        return self._frozen_at is not None
