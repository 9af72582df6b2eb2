"""Rate limits: exact per-(principal, tier) quotas over a rolling 60-second window.

Every test starts from fresh windows (the ``api`` fixture moves the clock 61 s) and freezes the
server clock, so all requests of a burst happen at one known instant. Login is bucketed by client
address, so these tests log in before exhausting anything and no more often than needed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from sergio_kit.contract.document import TIERS, operations
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.support.api import JOB, bearer, login

# The published limits per rolling minute (the Sergio developer documentation), written out here on
# purpose rather than read from sergio_kit.contract.ratelimit: the server is checked against the docs.
DOCUMENTED_LIMITS = {"auth": 10, "read": 120, "write": 60, "webhook": 10, "bulk": 10}
TIER_OF = {op.operation_id: op.tier for op in operations()}
READ = DOCUMENTED_LIMITS["read"]
# Concurrent requests in flight: far more than the server needs to show a race (the
# ratelimit.concurrency fault already overshoots with 20), while httpcore's pool bookkeeping,
# quadratic in the pool size, stays cheap.
CONNECTIONS = 64
PROBE_URL = "https://127.0.0.1:9/rate-limit-probe"  # nothing listens; the probes are deleted afterwards


@pytest.fixture
def frozen(api: httpx.Client, clock: TestClock) -> Iterator[TestClock]:
    """The server clock, frozen at the start of fresh rate-limit windows (unfrozen afterwards)."""
    clock.freeze()
    yield clock
    clock.unfreeze()


Send = Callable[[httpx.Client, dict[str, str], dict[str, Any]], httpx.Response]


@dataclass(frozen=True)
class Probe:
    """One operation used to spend its tier, and the status it answers when admitted."""

    operation_id: str
    admitted: int
    send: Send  # (client, bearer headers, accounts) -> response

    @property
    def tier(self) -> str:
        """The operation's tier, as the contract gives it."""
        return TIER_OF[self.operation_id]


def _login(client: httpx.Client, headers: dict[str, str], accounts: dict[str, Any]) -> httpx.Response:
    admin = accounts["acme"]["admin"]
    return client.post("/v1/auth/login", json={"email": admin["email"], "password": admin["password"]})


PROBES = [
    Probe("login", 200, _login),
    Probe("listJobs", 200, lambda c, h, acc: c.get("/v1/jobs", headers=h)),
    Probe("createJob", 201, lambda c, h, acc: c.post("/v1/jobs", json=JOB, headers=h)),
    Probe(
        "createWebhook",
        201,
        lambda c, h, acc: c.post(
            "/v1/webhooks", json={"url": PROBE_URL, "events": ["job.deleted"]}, headers=h
        ),
    ),
    Probe("bulkCreateJobs", 200, lambda c, h, acc: c.post("/v1/jobs/bulk", json={"jobs": [JOB]}, headers=h)),
]


def policy(tier: str) -> str:
    """The expected ``RateLimit-Policy`` of ``tier``."""
    return f'"{tier}";q={DOCUMENTED_LIMITS[tier]};w=60'


def remaining(response: httpx.Response) -> int:
    """The ``r=`` of a response's ``RateLimit`` field."""
    fields = dict(part.split("=", 1) for part in response.headers["RateLimit"].split(";")[1:])
    return int(fields["r"])


def assert_throttled(response: httpx.Response, tier: str, retry_after: int) -> None:
    """A complete 429: Retry-After, no-store, rate_limited body and the tier's RateLimit fields."""
    assert response.status_code == 429, response.text
    assert response.headers["Retry-After"] == str(retry_after)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.json()["error"]["code"] == "rate_limited"
    assert response.headers["RateLimit-Policy"] == policy(tier)
    assert response.headers["RateLimit"] == f'"{tier}";r=0;t={retry_after}'


def spend(client: httpx.Client, count: int, path: str, headers: dict[str, str]) -> list[int]:
    """Send ``count`` GETs to ``path`` and return their statuses."""
    return [client.get(path, headers=headers).status_code for _ in range(count)]


@pytest.fixture
def probe_webhooks(api: httpx.Client, clock: TestClock, accounts: dict[str, Any]) -> Iterator[dict[str, str]]:
    """Acme admin's bearer header; the probe webhooks it registers are deleted afterwards."""
    headers = bearer(login(api, accounts["acme"]["admin"])["token"])
    yield headers
    clock.advance(FRESH_WINDOW_SECONDS)  # the test may have left the read or write tier spent
    listed = api.get("/v1/webhooks", headers=headers)
    assert listed.status_code == 200, listed.text
    for webhook in listed.json()["data"]:
        if webhook["url"] == PROBE_URL:
            assert api.delete(f"/v1/webhooks/{webhook['id']}", headers=headers).status_code == 204


def test_the_probes_cover_every_tier_of_the_contract() -> None:
    """Between them the probe operations spend every tier the contract uses, one tier each."""
    assert sorted(probe.tier for probe in PROBES) == sorted(TIERS) == sorted(DOCUMENTED_LIMITS)
    assert set(TIER_OF.values()) == set(TIERS)


@pytest.mark.parametrize("probe", PROBES, ids=[probe.tier for probe in PROBES])
def test_each_tier_admits_exactly_its_limit_then_429(
    probe_webhooks: dict[str, str],
    frozen: TestClock,
    api: httpx.Client,
    accounts: dict[str, Any],
    probe: Probe,
) -> None:
    """N requests are admitted with r counting N-1..0, then 429 until the window rolls on 60 s later."""
    tier, limit = probe.tier, DOCUMENTED_LIMITS[probe.tier]
    if tier == "auth":  # the fixture's login spent one: start the auth window afresh
        frozen.advance(FRESH_WINDOW_SECONDS)
    for spent in range(limit):
        response = probe.send(api, probe_webhooks, accounts)
        assert response.status_code == probe.admitted, (spent, response.text)
        assert response.headers["RateLimit-Policy"] == policy(tier)
        assert response.headers["RateLimit"] == f'"{tier}";r={limit - 1 - spent};t=60'
    assert_throttled(probe.send(api, probe_webhooks, accounts), tier, retry_after=60)

    frozen.advance(59)
    assert_throttled(probe.send(api, probe_webhooks, accounts), tier, retry_after=1)

    frozen.advance(1)
    response = probe.send(api, probe_webhooks, accounts)
    assert response.status_code == probe.admitted, response.text
    assert response.headers["RateLimit"] == f'"{tier}";r={limit - 1};t=60'


def test_exhausting_one_bucket_leaves_other_users_and_tiers_alone(
    api: httpx.Client, frozen: TestClock, accounts: dict[str, Any]
) -> None:
    """Acme admin's spent read tier does not touch Brite admin's read tier or Acme admin's write tier."""
    acme = bearer(login(api, accounts["acme"]["admin"])["token"])
    brite = bearer(login(api, accounts["brite"]["admin"])["token"])
    assert spend(api, READ, "/v1/jobs", acme) == [200] * READ
    assert_throttled(api.get("/v1/jobs", headers=acme), "read", retry_after=60)

    other_user = api.get("/v1/jobs", headers=brite)
    assert other_user.status_code == 200
    assert other_user.headers["RateLimit"] == f'"read";r={READ - 1};t=60'
    other_tier = api.post("/v1/jobs", json=JOB, headers=acme)
    assert other_tier.status_code == 201, other_tier.text
    assert other_tier.headers["RateLimit-Policy"] == policy("write")
    assert other_tier.headers["RateLimit"] == f'"write";r={DOCUMENTED_LIMITS["write"] - 1};t=60'
    assert_throttled(api.get("/v1/jobs", headers=acme), "read", retry_after=60)


def test_a_fresh_login_does_not_reset_the_quota(
    api: httpx.Client, frozen: TestClock, accounts: dict[str, Any]
) -> None:
    """The read bucket belongs to the user, not the token: logging in again still gets 429."""
    first = login(api, accounts["acme"]["member"])["token"]
    assert spend(api, READ, "/v1/jobs", bearer(first)) == [200] * READ
    assert_throttled(api.get("/v1/jobs", headers=bearer(first)), "read", retry_after=60)

    second = login(api, accounts["acme"]["member"])["token"]
    assert second != first
    assert_throttled(api.get("/v1/jobs", headers=bearer(second)), "read", retry_after=60)


def test_zapier_keys_are_bucketed_per_key(
    api: httpx.Client, frozen: TestClock, accounts: dict[str, Any]
) -> None:
    """Spending one key's read tier leaves another key of the same company, and its users, untouched."""
    assert TIER_OF["zapierMe"] == "read"
    admin = bearer(login(api, accounts["acme"]["admin"])["token"])
    spent_key = {"X-API-Key": accounts["acme"]["keys"]["jobs:read"]}
    other_key = {"X-API-Key": accounts["acme"]["keys"]["jobs:read,jobs:write"]}
    assert spend(api, READ, "/zapier/v1/me", spent_key) == [200] * READ
    assert_throttled(api.get("/zapier/v1/me", headers=spent_key), "read", retry_after=60)

    for headers, path in ((other_key, "/zapier/v1/me"), (admin, "/v1/jobs")):
        response = api.get(path, headers=headers)
        assert response.status_code == 200, response.text
        assert response.headers["RateLimit"] == f'"read";r={READ - 1};t=60'


async def _bursts(server: RunningServer, clock: TestClock, headers: dict[str, str], rounds: int) -> None:
    """``rounds`` times: move to a fresh window, fire 3N concurrent reads, expect exactly N admitted."""
    limit = READ
    pool = httpx.Limits(max_connections=CONNECTIONS, max_keepalive_connections=CONNECTIONS)
    async with httpx.AsyncClient(
        base_url=server.base_url, verify=server.ssl_context(), limits=pool, timeout=30.0
    ) as client:
        in_flight = asyncio.Semaphore(CONNECTIONS)

        async def read() -> httpx.Response:
            async with in_flight:
                return await client.get("/v1/jobs", headers=headers)

        for _ in range(rounds):
            clock.advance(FRESH_WINDOW_SECONDS)
            responses = await asyncio.gather(*(read() for _ in range(3 * limit)))
            statuses = [response.status_code for response in responses]
            assert (statuses.count(200), statuses.count(429)) == (limit, 2 * limit)
            assert {response.headers["RateLimit-Policy"] for response in responses} == {policy("read")}
            admitted = sorted(remaining(r) for r in responses if r.status_code == 200)
            assert admitted == list(range(limit)), "each remaining value is handed out exactly once"


def test_concurrent_requests_never_overshoot(
    api: httpx.Client, frozen: TestClock, server: RunningServer, accounts: dict[str, Any]
) -> None:
    """3N concurrent reads (CONNECTIONS in flight at once) at a fresh window admit exactly N, 3 times."""
    headers = bearer(login(api, accounts["brite"]["admin"])["token"])
    asyncio.run(_bursts(server, frozen, headers, rounds=3))


def test_the_window_rolls_rather_than_resets(
    api: httpx.Client, frozen: TestClock, accounts: dict[str, Any]
) -> None:
    """Quota spent at t returns at t+60, not earlier; spending N/2 at t and t+30 leaves N/2 at t+61."""
    limit = READ
    half = limit // 2
    headers = bearer(login(api, accounts["brite"]["member"])["token"])

    assert spend(api, limit, "/v1/jobs", headers) == [200] * limit
    frozen.advance(30)
    assert_throttled(api.get("/v1/jobs", headers=headers), "read", retry_after=30)
    frozen.advance(30)
    back = api.get("/v1/jobs", headers=headers)
    assert back.status_code == 200
    assert remaining(back) == limit - 1

    frozen.advance(FRESH_WINDOW_SECONDS)  # a fresh window: nothing counts any more
    assert spend(api, half, "/v1/jobs", headers) == [200] * half
    frozen.advance(30)
    assert spend(api, half, "/v1/jobs", headers) == [200] * half
    assert_throttled(api.get("/v1/jobs", headers=headers), "read", retry_after=30)
    frozen.advance(31)  # t+61: the first half has left the window, the second has not
    assert spend(api, half, "/v1/jobs", headers) == [200] * half
    assert_throttled(api.get("/v1/jobs", headers=headers), "read", retry_after=29)
