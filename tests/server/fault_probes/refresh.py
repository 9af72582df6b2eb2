"""Probes of the ``refresh`` faults: rotation, reuse detection, races, logout and session isolation."""

from __future__ import annotations

import asyncio
from calendar import timegm
from contextlib import AsyncExitStack
from time import strptime
from typing import Any

import httpx

from sergio_kit.checks.auth.strategies import unverified_claims
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.plumbing import (
    Probe,
    accepted,
    expect,
    expect_error,
    frozen,
    json_of,
    session_of,
    warm_clients,
)
from tests.support.api import bearer, client_for, seeded_accounts

ACCESS_LIFETIME = 3600  # seconds an access token lives, refreshed or not


def _refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def probe_refresh_rotation(server: RunningServer, clock: TestClock) -> None:
    """Refresh returns a new token and a new refresh token, and the new token works."""
    with client_for(server) as client:
        first = session_of(client, seeded_accounts(server)["acme"]["member"], "login")
        response = _refresh(client, first["refresh_token"])
        expect(response, 200, "refresh")
        second = json_of(response, "refresh")
        assert isinstance(second.get("token"), str) and isinstance(second.get("refresh_token"), str), second
        assert second["refresh_token"] != first["refresh_token"], "refresh did not rotate the refresh token"
        accepted(client, second["token"], "the access token issued by refresh")


def probe_refresh_reuse(server: RunningServer, clock: TestClock) -> None:
    """Reusing a spent refresh token is 401 and kills the newest token of its family too."""
    with client_for(server) as client:
        first = session_of(client, seeded_accounts(server)["acme"]["member"], "login")
        rotated = _refresh(client, first["refresh_token"])
        expect(rotated, 200, "first refresh")
        newest = json_of(rotated, "first refresh")["refresh_token"]
        expect_error(
            _refresh(client, first["refresh_token"]), 401, "unauthorized", "reuse of the spent token"
        )
        expect_error(_refresh(client, newest), 401, "unauthorized", "the family's newest token after reuse")


async def _simultaneous_refreshes(server: RunningServer, refresh_token: str, count: int) -> list[int]:
    """``count`` refreshes of one token, each on its own already-open connection, sent at once."""
    async with AsyncExitStack() as stack:
        clients = await warm_clients(server, stack, count)
        body = {"refresh_token": refresh_token}
        responses = await asyncio.gather(*(c.post("/v1/auth/refresh", json=body) for c in clients))
    return [response.status_code for response in responses]


def probe_refresh_race(server: RunningServer, clock: TestClock) -> None:
    """Ten simultaneous refreshes of one refresh token: at most one succeeds, the rest are 401."""
    with client_for(server) as client, frozen(clock):
        refresh_token = session_of(client, seeded_accounts(server)["acme"]["member"], "login")[
            "refresh_token"
        ]
        clock.advance(FRESH_WINDOW_SECONDS)  # a fresh auth window for the ten refreshes
        statuses = asyncio.run(_simultaneous_refreshes(server, refresh_token, 10))
    assert set(statuses) <= {200, 401}, f"simultaneous refreshes answered {statuses}"
    assert statuses.count(200) <= 1, (
        f"{statuses.count(200)} of 10 simultaneous refreshes succeeded: {statuses}"
    )


def probe_refresh_logout(server: RunningServer, clock: TestClock) -> None:
    """After logout (204) the logged-out refresh token is 401."""
    with client_for(server) as client:
        data = session_of(client, seeded_accounts(server)["acme"]["member"], "login")
        logout = client.post(
            "/v1/auth/logout", json={"refresh_token": data["refresh_token"]}, headers=bearer(data["token"])
        )
        expect(logout, 204, "logout")
        expect_error(_refresh(client, data["refresh_token"]), 401, "unauthorized", "refresh after logout")


def probe_refresh_property(server: RunningServer, clock: TestClock) -> None:
    """Logging out one session leaves the user's other session alive.

    That the logged-out session itself dies is ``refresh.logout``'s rule, so it is not asserted here.
    """
    with client_for(server) as client:
        user = seeded_accounts(server)["acme"]["member"]
        first = session_of(client, user, "first login")
        second = session_of(client, user, "second login")
        logout = client.post(
            "/v1/auth/logout", json={"refresh_token": first["refresh_token"]}, headers=bearer(first["token"])
        )
        expect(logout, 204, "logout of the first session")
        expect(_refresh(client, second["refresh_token"]), 200, "refresh of the other, still open session")


def _login_and_refresh(server: RunningServer) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """A member's login, the response of its refresh, and the refreshed token's claims."""
    with client_for(server) as client:
        first = session_of(client, seeded_accounts(server)["acme"]["member"], "login")
        response = _refresh(client, first["refresh_token"])
        expect(response, 200, "refresh")
        second = json_of(response, "refresh")
    assert isinstance(second.get("token"), str) and isinstance(second.get("expires_at"), str), second
    return first, second, unverified_claims(second["token"])


def probe_refresh_claims(server: RunningServer, clock: TestClock) -> None:
    """The refreshed access token lives exactly 3600 s from the server's now."""
    with frozen(clock) as now:
        _, _, claims = _login_and_refresh(server)
    assert claims["exp"] - claims["iat"] == ACCESS_LIFETIME, f"exp - iat = {claims['exp'] - claims['iat']}"
    assert abs(claims["exp"] - (now + ACCESS_LIFETIME)) <= 2, f"exp {claims['exp']}, server now {now}"


def probe_refresh_claims_identity(server: RunningServer, clock: TestClock) -> None:
    """The refreshed access token names the login's user and company (sub, cid)."""
    first, _, claims = _login_and_refresh(server)
    before = unverified_claims(first["token"])
    for name in ("sub", "cid"):
        assert claims[name] == before[name], f"the refreshed token's {name} is not the login's"


def probe_refresh_claims_expires_at(server: RunningServer, clock: TestClock) -> None:
    """The refresh's expires_at equals its token's exp."""
    _, second, claims = _login_and_refresh(server)
    expires_at = timegm(strptime(second["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
    assert expires_at == claims["exp"], f"expires_at {second['expires_at']} != exp {claims['exp']}"


PROBES: dict[str, Probe] = {
    "refresh.rotation": probe_refresh_rotation,
    "refresh.reuse": probe_refresh_reuse,
    "refresh.race": probe_refresh_race,
    "refresh.logout": probe_refresh_logout,
    "refresh.property": probe_refresh_property,
    "refresh.claims": probe_refresh_claims,
    "refresh.claims@identity": probe_refresh_claims_identity,
    "refresh.claims@expires_at": probe_refresh_claims_expires_at,
}
