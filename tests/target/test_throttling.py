"""The kit's own 429 handling: wait Retry-After (sleep on a live target), retry, count."""

from __future__ import annotations

import pytest

from sergio_kit.target import throttling
from sergio_kit.target.throttling import Throttle, retry_after_seconds


class FakeResponse:
    """Just a status and headers."""

    def __init__(self, status: int, retry_after: str | None = None) -> None:
        self.status = status
        self.headers = {"Retry-After": retry_after} if retry_after is not None else {}


def test_live_target_sleeps_retry_after_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """Without a test clock a 429 is waited out in real time, announced, then retried."""
    slept: list[float] = []
    said: list[str] = []
    monkeypatch.setattr(throttling.time, "sleep", slept.append)
    responses = iter([FakeResponse(429, "7"), FakeResponse(200)])
    throttle = Throttle(None, announce=said.append)
    result = throttle.send("GET /v1/jobs", lambda: next(responses), lambda r: (r.status, r.headers))
    assert result.status == 200
    assert slept == [7]
    assert said and "Retry-After 7 s" in said[0]
    assert throttle.throttled["GET /v1/jobs"] == 1
    assert throttle.untested_share("GET /v1/jobs") == 0.0


def test_a_case_still_throttled_after_retries_counts_as_untested(monkeypatch: pytest.MonkeyPatch) -> None:
    """A case answered 429 every time is counted as never tested."""
    monkeypatch.setattr(throttling.time, "sleep", lambda seconds: None)
    throttle = Throttle(None, announce=lambda message: None)
    throttle.send("POST /v1/webhooks", lambda: FakeResponse(429, "1"), lambda r: (r.status, r.headers))
    throttle.send("POST /v1/webhooks", lambda: FakeResponse(201), lambda r: (r.status, r.headers))
    assert throttle.untested_share("POST /v1/webhooks") == 0.5


@pytest.mark.parametrize(
    ("value", "expected"),
    [("5", 5), ("0", 1), ("600", 60), (None, 60), ("soon", 60), ("-3", 60), ("1.5", 60)],
)
def test_retry_after_is_clamped_to_the_window(value: str | None, expected: int) -> None:
    """Retry-After becomes whole seconds in 1..60; missing or malformed values wait a whole window."""
    headers = {"Retry-After": value} if value is not None else {}
    assert retry_after_seconds(headers) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Wed, 21 Oct 2015 07:28:07 GMT", 7),
        ("Wed, 21 Oct 2015 07:28:06 GMT", 6),
        ("Wed, 21 Oct 2015 07:27:00 GMT", 1),  # already past: retry at once, after the 1-s minimum
        ("Wed, 21 Oct 2015 07:38:00 GMT", 60),
        ("Wed, 21 Oct 2015 07:28:07", 60),  # no zone: malformed
    ],
)
def test_an_http_date_retry_after_counts_from_the_date_header(value: str, expected: int) -> None:
    """An HTTP-date Retry-After is measured from the response's Date (headers in any case)."""
    headers = {"retry-after": value, "DATE": "Wed, 21 Oct 2015 07:28:00 GMT"}
    assert retry_after_seconds(headers) == expected
