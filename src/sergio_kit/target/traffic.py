"""What the rate-limit checks sent, per tier: when (on the target's clock) and how it was answered.

Kept by the check context and drawn as the per-tier timelines of ``report.html``.
"""

from __future__ import annotations

from collections.abc import Container
from dataclasses import dataclass, field

ADMITTED = "admitted"
THROTTLED = "throttled"
FAILED = "failed"


def outcome(status: int, admitted_statuses: Container[int]) -> str:
    """``admitted`` for a status that means admitted, ``throttled`` for 429, else ``failed``."""
    if status in admitted_statuses:
        return ADMITTED
    return THROTTLED if status == 429 else FAILED


@dataclass
class TrafficLog:
    """Requests by tier as ``(target time in seconds, outcome)``, in the order they were answered."""

    events: dict[str, list[tuple[float, str]]] = field(default_factory=dict)

    def record(self, tier: str, when: float, status: int, admitted_statuses: Container[int]) -> None:
        """Note one answered request of ``tier`` (admitted when its status is in ``admitted_statuses``)."""
        self.events.setdefault(tier, []).append((when, outcome(status, admitted_statuses)))

    def since_start(self) -> dict[str, tuple[tuple[float, str], ...]]:
        """Every tier's events with times counted from the first event of the whole log."""
        starts = [events[0][0] for events in self.events.values() if events]
        if not starts:
            return {}
        start = min(starts)
        return {
            tier: tuple((when - start, kind) for when, kind in events) for tier, events in self.events.items()
        }
