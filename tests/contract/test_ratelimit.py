"""The published rate-limit facts and the one reader of Retry-After, RateLimit and RateLimit-Policy."""

from __future__ import annotations

import pytest

from sergio_kit.contract.document import TIERS
from sergio_kit.contract.ratelimit import (
    DEFAULT_TIER_LIMITS,
    FRESH_WINDOW_SECONDS,
    WINDOW_SECONDS,
    RateLimitItem,
    parse_http_date,
    parse_rate_limit,
    parse_retry_after,
    retry_after_or_none,
)

DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
DATE_TIME = 1445412480.0  # DATE as POSIX time


def test_every_contract_tier_has_a_published_limit() -> None:
    """The quota table covers exactly the contract's tiers; a fresh window is one past the window."""
    assert set(DEFAULT_TIER_LIMITS) == set(TIERS)
    assert FRESH_WINDOW_SECONDS == WINDOW_SECONDS + 1


@pytest.mark.parametrize(("value", "seconds"), [("5", 5.0), (" 60 ", 60.0), ("0", 0.0), ("600", 600.0)])
def test_delay_seconds_count_as_they_are(value: str, seconds: float) -> None:
    """delay-seconds are returned as given, whatever Date says (range checks are the callers')."""
    assert parse_retry_after(value, DATE) == seconds
    assert retry_after_or_none(value) == seconds


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("Wed, 21 Oct 2015 07:28:30 GMT", 30.0),
        ("Wednesday, 21-Oct-15 07:29:00 GMT", 60.0),  # the obsolete RFC 850 form
        ("Wed, 21 Oct 2015 07:27:58 GMT", -2.0),  # already past
    ],
)
def test_an_http_date_counts_from_the_date_header(value: str, seconds: float) -> None:
    """An HTTP-date is measured on the server's clock: from the response's Date header."""
    assert parse_retry_after(value, DATE, now=0.0) == seconds


def test_an_http_date_without_a_date_header_counts_from_now() -> None:
    """Without a (valid) Date header the HTTP-date is measured from ``now``."""
    value = "Wed, 21 Oct 2015 07:28:10 GMT"
    assert parse_retry_after(value, None, now=DATE_TIME) == 10.0
    assert parse_retry_after(value, "yesterday", now=DATE_TIME) == 10.0
    assert retry_after_or_none(value, now=DATE_TIME - 5) == 15.0


def test_an_http_date_without_now_counts_from_this_machine() -> None:
    """The default ``now`` is the local clock: a date long past is a large negative wait."""
    assert parse_retry_after(DATE) < -1e8


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("soon", "neither delta-seconds nor an HTTP-date"),
        ("", "neither delta-seconds nor an HTTP-date"),
        ("-3", "neither delta-seconds nor an HTTP-date"),
        ("1.5", "neither delta-seconds nor an HTTP-date"),
        ("\u0663", "neither delta-seconds nor an HTTP-date"),  # a non-ASCII digit
        ("Wed, 21 Oct 2015 07:28:00 -0000", "not in GMT"),
        ("Wed, 21 Oct 2015 07:28:00", "not in GMT"),
    ],
)
def test_a_malformed_retry_after_says_what_is_wrong(value: str, problem: str) -> None:
    """The strict parser raises ValueError naming the problem; the lenient one gives None."""
    with pytest.raises(ValueError, match=problem):
        parse_retry_after(value, DATE)
    assert retry_after_or_none(value, DATE) is None


def test_a_missing_retry_after_is_none() -> None:
    """No header, no wait."""
    assert retry_after_or_none(None, DATE) is None


def test_http_dates_parse_to_posix_time() -> None:
    """An HTTP-date with a zone is a POSIX time; other zones than GMT are converted."""
    assert parse_http_date(DATE) == DATE_TIME
    assert parse_http_date("Wed, 21 Oct 2015 09:28:00 +0200") == DATE_TIME


@pytest.mark.parametrize(
    ("value", "problem"), [("yesterday", "not an HTTP-date"), ("Wed, 21 Oct 2015 07:28:00", "not in GMT")]
)
def test_a_malformed_http_date_says_what_is_wrong(value: str, problem: str) -> None:
    """Not a date, or a date without a zone, is a ValueError naming the problem."""
    with pytest.raises(ValueError, match=problem):
        parse_http_date(value)


@pytest.mark.parametrize(
    ("value", "item"),
    [
        ('"read";r=5;t=30', RateLimitItem("read", {"r": 5, "t": 30})),
        ('"read";q=120;w=60', RateLimitItem("read", {"q": 120, "w": 60})),
        ("bulk;r=0;t=12", RateLimitItem("bulk", {"r": 0, "t": 12})),  # a token name
        ('"write";r=3;t=9, "read";r=1;t=2', RateLimitItem("write", {"r": 3, "t": 9})),  # the first policy
        (' "auth" ; r=1;t=2 ', None),  # spaces before a parameter: not a structured field
    ],
)
def test_rate_limit_fields_parse_to_their_first_policy(value: str, item: RateLimitItem | None) -> None:
    """RateLimit and RateLimit-Policy are RFC 9651 lists; the first member is the policy."""
    assert parse_rate_limit(value) == item


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "garbage ;;",
        '"read";R=5',
        "read=5",
        '"read";r=5;;t=1',
        "(read write);r=1",
        "7;r=1",
        "\u00e9",
    ],
)
def test_a_malformed_rate_limit_field_is_none(value: str | None) -> None:
    """Missing, empty, invalid or nameless fields give None: the callers turn that into a finding."""
    assert parse_rate_limit(value) is None


def test_only_integer_parameters_count_as_integers() -> None:
    """``integer`` is None for a missing, token, decimal or boolean parameter."""
    item = parse_rate_limit('"read";r=x;t=1.5;q;w=60')
    assert item is not None
    assert [item.integer(key) for key in ("r", "t", "q", "w", "missing")] == [None, None, None, 60, None]
