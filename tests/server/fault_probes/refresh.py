"""Probes of the ``refresh`` faults: rotation, reuse detection, races, logout and session isolation."""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack

import httpx

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


PROBES: dict[str, Probe] = {
    "refresh.rotation": probe_refresh_rotation,
    "refresh.reuse": probe_refresh_reuse,
    "refresh.race": probe_refresh_race,
    "refresh.logout": probe_refresh_logout,
    "refresh.property": probe_refresh_property,
}
