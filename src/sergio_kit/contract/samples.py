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


WEBHOOK_SINK = "https://127.0.0.1:9/sergio-kit"  # a URL nothing listens on: deliveries just fail


def sample_body(operation_id: str) -> Any:
    """A valid request body for ``operation_id`` (``None`` for operations without one).

    Checks that probe authentication send these, so that a refusal can only be about the
    credentials, never about the body.
    """
    bodies: dict[str, Any] = {
        "login": {"email": "nobody@example.com", "password": "not-a-password"},
        "refreshToken": {"refresh_token": "sergio-kit-placeholder"},
        "logout": {"refresh_token": "sergio-kit-placeholder"},
        "createJob": example_job(),
        "bulkCreateJobs": {"jobs": [example_job()]},
        "updateJob": {"notes": "updated by sergio-kit"},
        "createWebhook": {"url": WEBHOOK_SINK, "events": ["job.created"]},
        "createApiKey": {"name": "sergio-kit probe", "scopes": ["jobs:read"]},
        "zapierCreateJob": example_job(),
    }
    return bodies.get(operation_id)
