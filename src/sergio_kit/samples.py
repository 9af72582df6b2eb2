"""Sample request bodies: the published create-job example, used by checks, tests and benchmarks."""

from __future__ import annotations

from typing import Any


def example_job(**changes: Any) -> dict[str, Any]:
    """A valid ``JobCreate`` body (the published example), with ``changes`` applied on top."""
    job: dict[str, Any] = {
        "customer_id": "cust_def456",
        "service_type": "exterior_windows",
        "scheduled_date": "2026-02-15",
        "scheduled_time": "09:00",
        "address": {"street": "123 Main St", "city": "Springfield", "state": "IL", "zip": "62701"},
    }
    job.update(changes)
    return job
