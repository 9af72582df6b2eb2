"""RFC 3339 timestamps as the API writes them: UTC, whole seconds, trailing ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime


def rfc3339(seconds: float) -> str:
    """Format epoch seconds as ``2026-01-30T12:00:00Z``."""
    return datetime.fromtimestamp(int(seconds), tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
