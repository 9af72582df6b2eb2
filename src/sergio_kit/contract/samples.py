"""Sample request bodies a real deployment accepts: the published create-job example, scheduled a few
days after the target's own today, with the customer, service type, address and webhook sink the user
may set (``[sample]`` in sergio-kit.toml, ``SERGIO_SAMPLE_*``).

A deployment may refuse a visit booked in the past, so every job body the kit sends is dated
:data:`LEAD_DAYS` after the target's today (read from its ``Date`` header or its test clock), and a
generated body whose date is not safely ahead is moved forward by :func:`schedule_ahead`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from types import MappingProxyType
from typing import Any

PUBLISHED_ADDRESS: Mapping[str, str] = MappingProxyType(
    {"street": "123 Main St", "city": "Springfield", "state": "IL", "zip": "62701"}
)
LEAD_DAYS = 7  # a sample job is scheduled this many days after the target's today
#: A date at least this many days after the target's (UTC) today is safely ahead wherever the target's
#: own midnight falls; an earlier one is moved by :func:`schedule_ahead`.
SAFE_LEAD_DAYS = 2
SPREAD_DAYS = 90  # moved dates keep some variety: LEAD_DAYS plus up to this many days
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Samples:
    """The test data of the jobs and webhooks the kit creates (the published example by default)."""

    customer_id: str = "cust_def456"
    service_type: str = "exterior_windows"
    address: Mapping[str, str] = field(default_factory=lambda: PUBLISHED_ADDRESS)
    webhook_sink: str = "https://127.0.0.1:9/sergio-kit"  # nothing listens: deliveries just fail

    def job(self, today: date, **changes: Any) -> dict[str, Any]:
        """A valid ``JobCreate`` body scheduled :data:`LEAD_DAYS` after ``today`` (the target's), with
        ``changes`` applied on top."""
        job: dict[str, Any] = {
            "customer_id": self.customer_id,
            "service_type": self.service_type,
            "scheduled_date": scheduled_date(today),
            "scheduled_time": "09:00",
            "address": dict(self.address),
        }
        job.update(changes)
        return job

    def body(self, operation_id: str, today: date) -> Any:
        """A valid request body for ``operation_id`` (``None`` for operations without one).

        Checks that probe authentication send these, so that a refusal can only be about the
        credentials, never about the body. The login and refresh bodies hold no real credential.
        """
        bodies: dict[str, Any] = {
            "login": {"email": "nobody@example.com", "password": "not-a-password"},
            "refreshToken": {"refresh_token": "sergio-kit-placeholder"},
            "logout": {"refresh_token": "sergio-kit-placeholder"},
            "createJob": self.job(today),
            "bulkCreateJobs": {"jobs": [self.job(today)]},
            "updateJob": {"notes": "updated by sergio-kit"},
            "createWebhook": self.webhook(["job.created"]),
            "createApiKey": {"name": "sergio-kit probe", "scopes": ["jobs:read"]},
            "zapierCreateJob": self.job(today),
        }
        return bodies.get(operation_id)

    def webhook(self, events: list[str]) -> dict[str, Any]:
        """A ``WebhookCreate`` body for the sink (a URL that needs no receiver) and ``events``."""
        return {"url": self.webhook_sink, "events": list(events)}


DEFAULT_SAMPLES = Samples()
WEBHOOK_SINK = DEFAULT_SAMPLES.webhook_sink


def scheduled_date(today: date) -> str:
    """The ``scheduled_date`` of a sample job: :data:`LEAD_DAYS` after ``today``."""
    return (today + timedelta(days=LEAD_DAYS)).isoformat()


def local_today() -> date:
    """The UTC date of this machine's clock: the target's today when nothing better is known."""
    return datetime.fromtimestamp(time.time(), UTC).date()


def example_job(today: date | None = None, **changes: Any) -> dict[str, Any]:
    """The published example as a ``JobCreate`` body, scheduled after ``today`` (the target's; this
    machine's UTC date when not given), with ``changes`` applied on top."""
    return DEFAULT_SAMPLES.job(today or local_today(), **changes)


def sample_body(operation_id: str, today: date | None = None) -> Any:
    """:meth:`Samples.body` of the published example (``today``: as for :func:`example_job`)."""
    return DEFAULT_SAMPLES.body(operation_id, today or local_today())


def schedule_ahead(body: Any, today: date) -> Any:
    """Move, in place, every ``scheduled_date`` of a job body (``JobCreate``, ``JobUpdate`` or a bulk
    request's ``jobs``) that is a valid date less than :data:`SAFE_LEAD_DAYS` after ``today`` to a
    date after it; return ``body``. Anything else (a missing field, a string that is no date) is left
    as it is, so a body meant to be invalid stays invalid. The new date depends on the old one, so a
    generated example keeps its variety and replays the same."""
    jobs = body.get("jobs") if isinstance(body, dict) else None
    for job in [body, *(jobs if isinstance(jobs, list) else [])]:
        if not isinstance(job, dict):
            continue
        value = job.get("scheduled_date")
        if not isinstance(value, str) or not _ISO_DATE.match(value):
            continue
        try:
            when = date.fromisoformat(value)
        except ValueError:
            continue
        if when < today + timedelta(days=SAFE_LEAD_DAYS):
            ahead = today + timedelta(days=LEAD_DAYS + when.toordinal() % SPREAD_DAYS)
            job["scheduled_date"] = ahead.isoformat()
    return body


def today_from_http_date(header: str | None) -> date | None:
    """The UTC date of an HTTP ``Date`` header, or ``None`` when it is missing or malformed."""
    instant = timestamp_from_http_date(header)
    return None if instant is None else datetime.fromtimestamp(instant, UTC).date()


def timestamp_from_http_date(header: str | None) -> float | None:
    """An HTTP ``Date`` header as epoch seconds, or ``None`` when it is missing or malformed."""
    if not header:
        return None
    try:
        parsed = parsedate_to_datetime(header.strip())
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
