"""The published rate-limit facts and the header fields that carry them.

The one place for the rolling window and each tier's quota: the reference server, the checks, the
load scenarios and the reports all read these (a target's own quotas come from the ``tier_limits``
setting, on top of these defaults). Also the one reader of the fields a rate-limited response
carries: ``Retry-After`` (RFC 9110: delay-seconds or an HTTP-date) and ``RateLimit`` /
``RateLimit-Policy`` (RFC 9651 structured-field lists, parsed by ``http-sf``), so the checks, the
kit's own throttling, the cassette tour and the Locust scenarios cannot disagree on them. Light on
purpose: the Locust processes import this module.
"""

from __future__ import annotations

import contextlib
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import http_sf

__all__ = [
    "DEFAULT_TIER_LIMITS",
    "FRESH_WINDOW_SECONDS",
    "WINDOW_SECONDS",
    "RateLimitItem",
    "parse_http_date",
    "parse_rate_limit",
    "parse_retry_after",
    "retry_after_or_none",
]

#: Length of the rolling rate-limit window, in seconds.
WINDOW_SECONDS = 60
#: How far a test clock moves so that every window starts afresh (one second past a whole window).
FRESH_WINDOW_SECONDS = WINDOW_SECONDS + 1
#: Requests per window of each rate-limit tier, as published.
DEFAULT_TIER_LIMITS: Mapping[str, int] = types.MappingProxyType(
    {"auth": 10, "read": 120, "write": 60, "webhook": 10, "bulk": 10}
)


def parse_http_date(text: str) -> float:
    """The POSIX time of an HTTP-date with a zone (``Sun, 06 Nov 1994 08:49:37 GMT``).

    Raises :class:`ValueError` saying what is wrong: not a date at all, or a date without a zone.
    """
    return _http_date(text, "not an HTTP-date")


def _http_date(text: str, not_a_date: str) -> float:
    """:func:`parse_http_date`, saying ``not_a_date`` when ``text`` is no date at all."""
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        raise ValueError(not_a_date) from None
    if when.tzinfo is None:
        raise ValueError("not in GMT")
    return when.timestamp()


def parse_retry_after(value: str, date: str | None = None, now: float | None = None) -> float:
    """Seconds a ``Retry-After`` value asks the client to wait (RFC 9110, section 10.2.3).

    delay-seconds (ASCII digits) count as they are. An HTTP-date counts from the response's ``Date``
    header when it has a valid one, else from ``now`` (default: this machine's clock); the result
    may be fractional, or negative for a date in the past. Raises :class:`ValueError` with what is
    wrong (``"neither delta-seconds nor an HTTP-date"`` or ``"not in GMT"``).
    """
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(text)
    when = _http_date(text, "neither delta-seconds nor an HTTP-date")
    base = time.time() if now is None else now
    if date:
        with contextlib.suppress(ValueError):  # a broken Date header: measure from ``now`` instead
            base = parse_http_date(date)
    return when - base


def retry_after_or_none(value: str | None, date: str | None = None, now: float | None = None) -> float | None:
    """:func:`parse_retry_after`, or ``None`` when the value is missing or malformed."""
    if value is None:
        return None
    try:
        return parse_retry_after(value, date, now)
    except ValueError:
        return None


@dataclass(frozen=True)
class RateLimitItem:
    """One policy of a ``RateLimit`` or ``RateLimit-Policy`` field: its name and its parameters.

    ``RateLimit: "read";r=5;t=30`` is ``RateLimitItem("read", {"r": 5, "t": 30})``;
    ``RateLimit-Policy: "read";q=120;w=60`` is ``RateLimitItem("read", {"q": 120, "w": 60})``.
    """

    name: str
    params: Mapping[str, object]

    def integer(self, key: str) -> int | None:
        """Parameter ``key`` when it is an integer (``r``, ``t``, ``q``, ``w``), else ``None``."""
        value = self.params.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None


def parse_rate_limit(value: str | None) -> RateLimitItem | None:
    """The first policy of a ``RateLimit`` or ``RateLimit-Policy`` field value.

    ``None`` when the field is missing, empty or not a valid structured-field list (the callers
    report that as they see fit). The name may be a string or a token; parameter keys are as sent.
    """
    if value is None:
        return None
    try:
        members = http_sf.parse(value.encode(), tltype="list")
    except (http_sf.StructuredFieldError, UnicodeError):
        return None
    if not isinstance(members, list) or not members or not isinstance(members[0], tuple):
        return None
    name, params = members[0]
    if not isinstance(name, (str, http_sf.Token)):
        return None  # an inner list, a number, ...: no policy name
    return RateLimitItem(str(name), dict(params))
