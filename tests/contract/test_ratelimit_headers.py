"""The one reader of the rate-limit fields, in every published form (``read_rate_limits``)."""

from __future__ import annotations

import pytest

from sergio_kit.contract.ratelimit import RATE_LIMIT_FORMS, read_rate_limit, read_rate_limits

DATE = "Wed, 21 Oct 2015 07:28:00 GMT"
DATE_TIME = 1445412480  # DATE as POSIX time


def test_the_structured_fields_of_the_later_drafts() -> None:
    """``RateLimit: "read";r=5;t=30`` with ``RateLimit-Policy: "read";q=120;w=60``: one reading, named
    after the policy, quoting the fields as sent."""
    headers = {"RateLimit": '"read";r=5;t=30', "RateLimit-Policy": '"read";q=120;w=60'}
    (reading,) = read_rate_limits(headers)
    assert (
        reading.form,
        reading.policy,
        reading.limit,
        reading.remaining,
        reading.reset,
        reading.window,
    ) == (
        "structured",
        "read",
        120,
        5,
        30,
        60,
    )
    assert reading.fields == headers
    assert reading.malformed == ()


def test_the_combined_dictionary_of_the_middle_drafts() -> None:
    """``RateLimit: limit=10, remaining=4, reset=12`` with ``RateLimit-Policy: 10;w=60``."""
    headers = {"ratelimit": "limit=10, remaining=4, reset=12", "ratelimit-policy": "10;w=60"}
    (reading,) = read_rate_limits(headers)
    assert (
        reading.form,
        reading.policy,
        reading.limit,
        reading.remaining,
        reading.reset,
        reading.window,
    ) == (
        "combined",
        None,
        10,
        4,
        12,
        60,
    )


def test_draft_03_separate_fields() -> None:
    """``RateLimit-Limit`` (which may go on with its policies), ``-Remaining`` and ``-Reset``."""
    headers = {"RateLimit-Limit": "10, 10;w=60", "RateLimit-Remaining": "3", "RateLimit-Reset": "41"}
    (reading,) = read_rate_limits(headers)
    assert (reading.form, reading.limit, reading.remaining, reading.reset) == ("draft-03", 10, 3, 41)
    assert reading.policy is None


def test_x_ratelimit_fields_with_delta_seconds() -> None:
    """``X-RateLimit-*``, the reset in seconds."""
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "17"}
    (reading,) = read_rate_limits(headers)
    assert (reading.form, reading.limit, reading.remaining, reading.reset) == ("x-ratelimit", 60, 0, 17)


def test_an_x_ratelimit_reset_as_a_posix_time_counts_from_the_date_header() -> None:
    """A reset that is a POSIX time (as GitHub sends it) is measured from ``Date``, else from ``now``."""
    headers = {"X-RateLimit-Remaining": "2", "X-RateLimit-Reset": str(DATE_TIME + 25), "Date": DATE}
    assert read_rate_limits(headers, now=0.0)[0].reset == 25
    del headers["Date"]
    assert read_rate_limits(headers, now=DATE_TIME + 5.0)[0].reset == 20


def test_every_form_sent_is_read_in_order() -> None:
    """A response carrying several forms gives one reading per form, in the catalogue's order."""
    headers = {
        "X-RateLimit-Remaining": "7",
        "RateLimit-Remaining": "7",
        "RateLimit": '"write";r=7;t=9',
    }
    readings = read_rate_limits(headers)
    assert [reading.form for reading in readings] == ["structured", "draft-03", "x-ratelimit"]
    assert [reading.form for reading in readings] == [form for form in RATE_LIMIT_FORMS if form != "combined"]
    assert {reading.remaining for reading in readings} == {7}


def test_no_fields_no_reading() -> None:
    """Without any rate-limit field there is nothing to read."""
    assert read_rate_limits({"Retry-After": "5", "Content-Type": "application/json"}) == []
    assert read_rate_limit({}) is None


@pytest.mark.parametrize(
    ("headers", "malformed"),
    [
        ({"RateLimit": "r=5;t=="}, ("RateLimit",)),
        ({"RateLimit": '"read";r=1;t=2', "RateLimit-Policy": "(((", "X": "1"}, ("RateLimit-Policy",)),
        ({"RateLimit-Remaining": "five"}, ("RateLimit-Remaining",)),
        ({"X-RateLimit-Limit": "-1", "X-RateLimit-Remaining": "0"}, ("X-RateLimit-Limit",)),
    ],
)
def test_unreadable_fields_are_named(headers: dict[str, str], malformed: tuple[str, ...]) -> None:
    """A field sent but unreadable is named in ``malformed`` (and read as ``None``)."""
    (reading,) = read_rate_limits(headers)
    assert reading.malformed == malformed


def test_the_first_reading_that_says_what_remains() -> None:
    """``read_rate_limit`` (the kit's pacing) takes the first form that says what remains."""
    headers = {"RateLimit-Policy": '"auth";q=10;w=60', "X-RateLimit-Remaining": "4", "X-RateLimit-Reset": "8"}
    reading = read_rate_limit(headers)
    assert reading is not None
    assert (reading.form, reading.remaining, reading.reset) == ("x-ratelimit", 4, 8)
