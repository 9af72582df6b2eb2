"""The test clock between tests: one jump that starts every rate-limit window afresh.

The jump is the kit's ``FRESH_WINDOW_SECONDS`` (one second past the server's window); tests that move
the clock by a fresh window use that constant, never a number of their own.
"""

from __future__ import annotations

from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS
from sergio_kit.target.clock import TestClock


def start_fresh_windows(clock: TestClock) -> None:
    """Unfreeze ``clock`` and move it past every rate-limit window: all quotas are full again."""
    clock.unfreeze()
    clock.advance(FRESH_WINDOW_SECONDS)
