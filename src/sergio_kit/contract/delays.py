"""``--delay TIER=DURATION``: a latency the reference server adds to one tier's answers.

Parsed here, in the layer both sides may import, so ``sergio-kit serve`` and ``sergio-kit load`` (which
refuses a bad value before it starts a server) accept exactly the same values.
"""

from __future__ import annotations

import re

from sergio_kit.contract.document import TIERS

MAX_DELAY_SECONDS = 60.0
_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|s)")


def parse_delay(text: str) -> tuple[str, float]:
    """Parse ``TIER=DURATION`` (``read=50ms``, ``write=0.2s``, at most 60 s) into a tier and seconds;
    :class:`ValueError` with one line saying what is expected otherwise."""
    tier, sep, value = text.partition("=")
    match = _DURATION.fullmatch(value.strip())
    seconds = float(match[1]) / (1000 if match[2] == "ms" else 1) if match else None
    if not sep or tier not in TIERS or seconds is None or seconds > MAX_DELAY_SECONDS:
        raise ValueError(
            f"--delay {text!r}: expected TIER=DURATION with TIER in {', '.join(TIERS)} and DURATION such as "
            "50ms or 0.2s (at most 60s)"
        )
    return tier, seconds
