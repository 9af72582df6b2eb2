"""The reference server's rate-limit variants: a fixed window, buckets per token, the older header
forms, no rate-limit headers at all.

Two servers for the module: one with ``fixed-window``, ``token-buckets`` and
``legacy-ratelimit-headers`` (three independent choices), one with ``no-ratelimit-headers``. Each
test starts at fresh windows with the server clock frozen, and spends the bulk tier (10 a minute).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, start_server
from tests.support.api import JOB, bearer, client_for, login, seeded_accounts
from tests.support.clock import clock_of, start_fresh_windows

BULK = 10  # the published bulk quota per minute
LEGACY = ("fixed-window", "token-buckets", "legacy-ratelimit-headers")
STRUCTURED_FIELDS = ("RateLimit", "RateLimit-Policy")
LEGACY_FIELDS = tuple(
    f"{prefix}RateLimit-{name}" for prefix in ("", "X-") for name in ("Limit", "Remaining", "Reset")
)


@pytest.fixture(scope="module")
def legacy_server(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[RunningServer]:
    """A server with a fixed window, buckets per token and the older header forms."""
    running = start_server(tmp_path_factory.mktemp("legacy"), variants=LEGACY, template=server_template)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[RunningServer]:
    """A server that sends no rate-limit headers (only Retry-After on 429)."""
    running = start_server(
        tmp_path_factory.mktemp("bare"), variants=("no-ratelimit-headers",), template=server_template
    )
    yield running
    running.stop()


class Frozen:
    """A client of one server, its test clock frozen at fresh windows, and a way to spend bulk."""

    def __init__(self, server: RunningServer, client: httpx.Client, clock: TestClock) -> None:
        self.client = client
        self.clock = clock
        self.admin = seeded_accounts(server)["acme"]["admin"]

    def token(self) -> str:
        """A fresh login's access token."""
        return str(login(self.client, self.admin)["token"])

    def bulk(self, token: str) -> httpx.Response:
        """One bulk request with ``token``."""
        return self.client.post("/v1/jobs/bulk", json={"jobs": [JOB]}, headers=bearer(token))

    def statuses(self, token: str, count: int) -> list[int]:
        """The statuses of ``count`` bulk requests with ``token``."""
        return [self.bulk(token).status_code for _ in range(count)]


def _frozen(server: RunningServer) -> Iterator[Frozen]:
    with clock_of(server) as clock, client_for(server) as client:
        start_fresh_windows(clock)
        clock.freeze()
        try:
            yield Frozen(server, client, clock)
        finally:
            clock.unfreeze()


@pytest.fixture
def legacy(legacy_server: RunningServer) -> Iterator[Frozen]:
    """The legacy server at fresh, frozen windows."""
    yield from _frozen(legacy_server)


@pytest.fixture
def bare(bare_server: RunningServer) -> Iterator[Frozen]:
    """The header-less server at fresh, frozen windows."""
    yield from _frozen(bare_server)


def _retry_after(response: httpx.Response) -> int:
    assert response.status_code == 429, response.text
    return int(response.headers["Retry-After"])


def test_a_fixed_window_opens_at_the_first_request_and_closes_60_s_later(legacy: Frozen) -> None:
    """One request opens the window; the quota spent at its end comes back whole when it closes (the
    2N burst a fixed window allows), and Retry-After is the time until it closes."""
    token = legacy.token()
    assert legacy.statuses(token, 1) == [200]
    legacy.clock.advance(WINDOW_SECONDS - 2)
    assert legacy.statuses(token, BULK - 1) == [200] * (BULK - 1)
    assert _retry_after(legacy.bulk(token)) == 2
    legacy.clock.advance(1)
    assert _retry_after(legacy.bulk(token)) == 1
    legacy.clock.advance(1)
    assert legacy.statuses(token, BULK) == [200] * BULK  # a rolling window would admit 1
    assert _retry_after(legacy.bulk(token)) == WINDOW_SECONDS


def test_buckets_per_token_give_a_fresh_login_a_fresh_quota(legacy: Frozen) -> None:
    """A second login's token has a bulk quota of its own; the first token's stays spent."""
    first, second = legacy.token(), legacy.token()
    assert legacy.statuses(first, BULK + 1) == [200] * BULK + [429]
    assert legacy.statuses(second, 1) == [200]
    assert legacy.statuses(first, 1) == [429]


def test_the_older_header_forms_count_down(legacy: Frozen) -> None:
    """Draft 03's RateLimit-Limit/-Remaining/-Reset and X-RateLimit-* instead of the structured fields;
    the 429 says 0 remain and carries Retry-After."""
    token = legacy.token()
    for spent in range(1, BULK + 2):
        response = legacy.bulk(token)
        remaining = max(BULK - spent, 0)
        assert not set(STRUCTURED_FIELDS) & set(response.headers)
        for prefix in ("", "X-"):
            assert response.headers[f"{prefix}RateLimit-Limit"] == str(BULK)
            assert response.headers[f"{prefix}RateLimit-Remaining"] == str(remaining)
            assert response.headers[f"{prefix}RateLimit-Reset"] == str(WINDOW_SECONDS)
    assert _retry_after(response) == WINDOW_SECONDS


@pytest.mark.parametrize("admitted", [True, False])
def test_no_rate_limit_headers_only_retry_after(bare: Frozen, admitted: bool) -> None:
    """Neither an admitted response nor a 429 carries any rate-limit field; the 429 has Retry-After."""
    token = bare.token()
    responses = [bare.bulk(token) for _ in range(BULK + 1)]
    response = responses[0] if admitted else responses[-1]
    assert response.status_code == (200 if admitted else 429)
    assert not {name.lower() for name in (*STRUCTURED_FIELDS, *LEGACY_FIELDS)} & set(response.headers.keys())
    if not admitted:
        assert _retry_after(response) == WINDOW_SECONDS
