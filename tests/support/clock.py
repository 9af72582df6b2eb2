"""The test clock between tests: one jump that starts every rate-limit window afresh.

The jump is the kit's ``FRESH_WINDOW_SECONDS`` (one second past the server's window); tests that move
the clock by a fresh window use that constant, never a number of their own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer


@contextmanager
def clock_of(server: RunningServer) -> Iterator[TestClock]:
    """A client of ``server``'s test clock for the block (the server runs with ``--test-clock``)."""
    assert server.clock_url and server.clock_token, "the server runs without --test-clock"
    clock = TestClock(server.clock_url, server.clock_token, server.ssl_context())
    try:
        yield clock
    finally:
        clock.close()


def start_fresh_windows(clock: TestClock) -> None:
    """Unfreeze ``clock`` and move it past every rate-limit window: all quotas are full again."""
    clock.unfreeze()
    clock.advance(FRESH_WINDOW_SECONDS)
