"""The published rate-limit facts and the header fields that carry them.

The one place for the rolling window and each tier's quota: the reference server, the checks, the
load scenarios and the reports all read these (a target's own quotas come from the ``tier_limits``
setting, on top of these defaults). Also the one reader of the fields a rate-limited response
carries: ``Retry-After`` (RFC 9110: delay-seconds or an HTTP-date) and the rate-limit fields in every
published form (:func:`read_rate_limits`: the structured ``RateLimit`` / ``RateLimit-Policy`` of the
later IETF drafts, RFC 9651 lists parsed by ``http-sf``; the combined ``RateLimit: limit=, remaining=,
reset=`` dictionary of the middle drafts; draft 03's separate ``RateLimit-Limit`` / ``-Remaining`` /
``-Reset``; the older ``X-RateLimit-*``), so the checks, the kit's own throttling, the cassette tour
and the Locust scenarios cannot disagree on them. Light on purpose: the Locust processes import this
module.
"""

from __future__ import annotations

import contextlib
import math
import time
import types
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import http_sf

__all__ = [
    "DEFAULT_TIER_LIMITS",
    "FRESH_WINDOW_SECONDS",
    "RATE_LIMIT_FORMS",
    "WINDOW_SECONDS",
    "RateLimitItem",
    "RateLimitReading",
    "parse_http_date",
    "parse_rate_limit",
    "parse_retry_after",
    "read_rate_limit",
    "read_rate_limits",
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
    first = _first_member(value)
    if first is None:
        return None
    name, params = first
    if not isinstance(name, (str, http_sf.Token)):
        return None  # an inner list, a number, ...: no policy name
    return RateLimitItem(str(name), dict(params))


def _first_member(value: str | None) -> tuple[object, Mapping[str, object]] | None:
    """The first member of a structured-field list (RFC 9651) and its parameters; ``None`` when the
    field is missing, empty or not a valid list."""
    if value is None:
        return None
    try:
        members = http_sf.parse(value.encode(), tltype="list")
    except (http_sf.StructuredFieldError, UnicodeError):
        return None
    if not isinstance(members, list) or not members or not isinstance(members[0], tuple):
        return None
    member, params = members[0]
    return member, params


#: The published forms of the rate-limit fields, as :attr:`RateLimitReading.form` names them.
RATE_LIMIT_FORMS = {
    "structured": 'RateLimit: "<tier>";r=<remaining>;t=<reset>, RateLimit-Policy: "<tier>";q=<limit>;w=60',
    "combined": "RateLimit: limit=<limit>, remaining=<left>, reset=<reset>, RateLimit-Policy: <limit>;w=60",
    "draft-03": "RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset",
    "x-ratelimit": "X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset",
}
#: An ``X-RateLimit-Reset`` at least this large is a POSIX time (as GitHub sends it), not seconds.
_EPOCH_FROM = 1_000_000_000


@dataclass(frozen=True)
class RateLimitReading:
    """What one form of the rate-limit fields says: the quota, what remains of it, and the seconds
    until it is full again; ``None`` where the form sent nothing readable.

    ``fields`` holds the header fields read, as sent; ``malformed`` names those sent but unreadable
    (not an integer, not a structured field), so a check can quote them.
    """

    form: str  # a key of RATE_LIMIT_FORMS
    limit: int | None
    remaining: int | None
    reset: int | None
    fields: Mapping[str, str]
    policy: str | None = None  # the policy's name (the structured form names the tier)
    window: int | None = None  # the policy's window in seconds (w), when sent
    malformed: tuple[str, ...] = ()


def read_rate_limits(headers: Mapping[str, str], now: float | None = None) -> list[RateLimitReading]:
    """One reading per published form of the rate-limit fields ``headers`` carry, in the order of
    :data:`RATE_LIMIT_FORMS`; an empty list when none is sent.

    ``now`` (default: this machine's clock) measures an ``X-RateLimit-Reset`` sent as a POSIX time,
    from the response's ``Date`` when it has a valid one.
    """
    sent = {name.lower(): value for name, value in headers.items()}
    readings = [_structured_or_combined(sent), _separate(sent, "draft-03", "ratelimit-")]
    readings.append(_separate(sent, "x-ratelimit", "x-ratelimit-", _epoch_base(sent, now)))
    return [reading for reading in readings if reading is not None]


def read_rate_limit(headers: Mapping[str, str], now: float | None = None) -> RateLimitReading | None:
    """The first reading of :func:`read_rate_limits` that says what remains, or ``None``."""
    return next((r for r in read_rate_limits(headers, now) if r.remaining is not None), None)


def _structured_or_combined(sent: Mapping[str, str]) -> RateLimitReading | None:
    """``RateLimit`` (and ``RateLimit-Policy``): the later drafts' lists or the middle drafts' dictionary."""
    value, policy_value = sent.get("ratelimit"), sent.get("ratelimit-policy")
    if value is None and policy_value is None:
        return None
    fields = {name: text for name, text in (("RateLimit", value), ("RateLimit-Policy", policy_value)) if text}
    combined = _combined(value) if value is not None else None
    policy = _policy(policy_value)
    malformed = [] if policy_value is None or policy is not None else ["RateLimit-Policy"]
    limit, window = (policy[1], policy[2]) if policy else (None, None)
    if combined is not None:
        return RateLimitReading(
            "combined",
            combined.get("limit", limit),
            combined.get("remaining"),
            combined.get("reset"),
            fields,
            policy[0] if policy else None,
            window,
            tuple(malformed),
        )
    item = parse_rate_limit(value)
    if value is not None and item is None:
        malformed.insert(0, "RateLimit")
    return RateLimitReading(
        "structured",
        limit,
        item.integer("r") if item else None,
        item.integer("t") if item else None,
        fields,
        item.name if item else (policy[0] if policy else None),
        window,
        tuple(malformed),
    )


def _combined(value: str) -> dict[str, int] | None:
    """``limit=10, remaining=5, reset=30`` as integers, or ``None`` when ``value`` is not that form."""
    try:
        members = http_sf.parse(value.encode(), tltype="dictionary")
    except (http_sf.StructuredFieldError, UnicodeError):
        return None
    if not isinstance(members, dict) or not {"limit", "remaining", "reset"} & set(members):
        return None
    found = {key: _int(item[0] if isinstance(item, tuple) else None) for key, item in members.items()}
    return {key: number for key, number in found.items() if number is not None}


def _policy(value: str | None) -> tuple[str | None, int | None, int | None] | None:
    """``RateLimit-Policy``'s first policy as (name, quota, window): ``"read";q=120;w=60`` (later
    drafts) or ``120;w=60`` (middle drafts); ``None`` when missing or unreadable."""
    first = _first_member(value)
    if first is None:
        return None
    head, params = first
    window = _int(params.get("w"))
    if _int(head) is not None:
        return None, _int(head), window
    if isinstance(head, (str, http_sf.Token)):
        return str(head), _int(params.get("q")), window
    return None


def _separate(
    sent: Mapping[str, str], form: str, prefix: str, epoch_base: float | None = None
) -> RateLimitReading | None:
    """``<prefix>Limit`` / ``-Remaining`` / ``-Reset``: plain integers (a limit may go on with its
    policies, ``10, 10;w=60``; a reset at least :data:`_EPOCH_FROM` is a POSIX time)."""
    names = {part: prefix + part for part in ("limit", "remaining", "reset")}
    if not any(name in sent for name in names.values()):
        return None
    shown = "X-RateLimit-" if prefix.startswith("x-") else "RateLimit-"
    fields: dict[str, str] = {}
    values: dict[str, int | None] = {}
    malformed: list[str] = []
    for part, name in names.items():
        text = sent.get(name)
        values[part] = None
        if text is None:
            continue
        label = shown + part.capitalize()
        fields[label] = text
        head = text.split(",", 1)[0].split(";", 1)[0].strip() if part == "limit" else text.strip()
        if not (head.isascii() and head.isdigit()):
            malformed.append(label)
            continue
        values[part] = int(head)
    reset = values["reset"]
    if reset is not None and reset >= _EPOCH_FROM and epoch_base is not None:
        reset = max(math.ceil(reset - epoch_base), 0)
    return RateLimitReading(
        form, values["limit"], values["remaining"], reset, fields, malformed=tuple(malformed)
    )


def _epoch_base(sent: Mapping[str, str], now: float | None) -> float:
    """The target's time: its ``Date`` header when valid, else ``now`` (default: this machine's clock)."""
    date = sent.get("date")
    if date:
        with contextlib.suppress(ValueError):
            return parse_http_date(date)
    return time.time() if now is None else now


def _int(value: object) -> int | None:
    """``value`` when it is an integer (not a boolean), else ``None``."""
    return value if isinstance(value, int) and not isinstance(value, bool) else None
