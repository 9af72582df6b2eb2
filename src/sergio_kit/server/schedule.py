"""The ``future-dates-only`` variant: a job may not be scheduled before the server's today.

The published documentation does not say whether a visit may be booked in the past; a deployment
that refuses it makes an allowed choice. The server's today is the UTC date of its clock, which the
test clock moves.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.state import AppState

VARIANT = "future-dates-only"


def past_date_problems(state: AppState, fields: Any) -> list[dict[str, Any]]:
    """The ``{"field", "rule"}`` problem of a ``scheduled_date`` before the server's today, when the
    variant is on (empty otherwise, and for fields that hold no date: the schema judged them)."""
    if VARIANT not in state.settings.variants or not isinstance(fields, dict):
        return []
    raw = fields.get("scheduled_date")
    if not isinstance(raw, str):
        return []
    try:
        scheduled = date.fromisoformat(raw)
    except ValueError:
        return []
    if scheduled >= server_today(state):
        return []
    return [{"field": "body.scheduled_date", "rule": "not_before_today"}]


def refuse_past_date(state: AppState, fields: Any) -> None:
    """Answer 422 ``validation_error`` when ``fields`` schedule a job before the server's today."""
    problems = past_date_problems(state, fields)
    if problems:
        message = f"scheduled_date must not be before today ({server_today(state).isoformat()})"
        raise ApiError(422, message, details=problems)


def server_today(state: AppState) -> date:
    """The UTC date of the server's clock."""
    return datetime.fromtimestamp(state.clock.now(), UTC).date()
