"""``contract.coverage`` fails when too many of an operation's cases stayed throttled."""

from __future__ import annotations

from typing import Any

import pytest

from sergio_kit.suite.test_contract import test_contract_coverage as contract_coverage
from sergio_kit.target.throttling import Throttle


class Answer:
    """A response with only a status."""

    def __init__(self, status: int) -> None:
        self.status = status


def _throttle_with(cases: int, throttled: int, monkeypatch: pytest.MonkeyPatch) -> Throttle:
    monkeypatch.setattr("sergio_kit.target.throttling.time.sleep", lambda seconds: None)
    throttle = Throttle(None, announce=lambda message: None)
    for index in range(cases):
        status = 429 if index < throttled else 200
        throttle.send(
            "POST /v1/webhooks", lambda s=status: Answer(s), lambda r: (r.status, {"Retry-After": "1"})
        )
    return throttle


def test_coverage_fails_when_an_operation_stayed_throttled(monkeypatch: pytest.MonkeyPatch) -> None:
    """3 of 20 cases never got past 429 (15% > 10%): the check fails and names the operation."""
    properties: list[Any] = []
    throttle = _throttle_with(20, 3, monkeypatch)
    with pytest.raises(AssertionError, match=r"POST /v1/webhooks 15%"):
        contract_coverage(throttle, lambda *item: properties.append(item))


def test_coverage_passes_when_throttling_was_waited_out(monkeypatch: pytest.MonkeyPatch) -> None:
    """1 of 20 (5%) is within the limit; the detail reports what was waited out."""
    properties: list[Any] = []
    throttle = _throttle_with(20, 1, monkeypatch)
    contract_coverage(throttle, lambda *item: properties.append(item))
    assert properties and "20 cases" in properties[0][1]
