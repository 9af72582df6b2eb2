"""Refresh-token rotation, reuse detection, concurrent refreshes and logout on the reference server."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.support.api import bearer, login


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    """POST /v1/auth/refresh with ``refresh_token``."""
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def assert_refused(response: httpx.Response) -> None:
    """A refused refresh: 401 with the error shape and no tokens."""
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert "token" not in response.json() and "refresh_token" not in response.json()


def test_refresh_rotates_the_refresh_token_and_the_new_token_works(
    api: httpx.Client, accounts: dict[str, Any]
) -> None:
    """Refresh returns a new access token that works and a refresh_token different from the presented one."""
    first = login(api, accounts["acme"]["admin"])
    response = refresh(api, first["refresh_token"])
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    second = response.json()
    assert set(second) == {"token", "refresh_token", "expires_at"}
    assert second["refresh_token"] != first["refresh_token"]
    assert second["token"] != first["token"]
    assert api.get("/v1/jobs", headers=bearer(second["token"])).status_code == 200
    third = refresh(api, second["refresh_token"])
    assert third.status_code == 200, third.text


def test_reusing_a_refresh_token_kills_its_whole_family(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """An already-used refresh token → 401, and then the newest token of that family is dead too."""
    first = login(api, accounts["acme"]["admin"])
    second = refresh(api, first["refresh_token"]).json()
    third = refresh(api, second["refresh_token"]).json()
    assert_refused(refresh(api, first["refresh_token"]))
    assert_refused(refresh(api, third["refresh_token"]))
    assert_refused(refresh(api, second["refresh_token"]))


def test_ten_concurrent_refreshes_of_one_token_succeed_at_most_once(
    api: httpx.Client, accounts: dict[str, Any], server: RunningServer, clock: TestClock
) -> None:
    """The same refresh token sent 10 times at once: at most one 200, every other answer a 401."""
    token = login(api, accounts["acme"]["admin"])["refresh_token"]
    clock.advance(FRESH_WINDOW_SECONDS)  # the 10 refreshes get a whole auth window, so no answer is a 429

    async def race() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=server.base_url, verify=server.ssl_context(), timeout=15.0
        ) as client:
            calls = [client.post("/v1/auth/refresh", json={"refresh_token": token}) for _ in range(10)]
            return list(await asyncio.gather(*calls))

    statuses = sorted(response.status_code for response in asyncio.run(race()))
    assert statuses.count(200) <= 1, statuses
    assert set(statuses) <= {200, 401}, statuses


def test_logout_kills_the_family(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """Logout → 204; afterwards every refresh token of that login, current or already used, is refused."""
    first = login(api, accounts["acme"]["admin"])
    second = refresh(api, first["refresh_token"]).json()
    response = api.post(
        "/v1/auth/logout", json={"refresh_token": second["refresh_token"]}, headers=bearer(second["token"])
    )
    assert response.status_code == 204
    assert response.content == b""
    assert_refused(refresh(api, second["refresh_token"]))
    assert_refused(refresh(api, first["refresh_token"]))


def test_logout_of_one_session_leaves_another_session_alive(
    api: httpx.Client, accounts: dict[str, Any]
) -> None:
    """Two logins of one user are two families: logging out one leaves the other's refresh token working."""
    one = login(api, accounts["acme"]["admin"])
    two = login(api, accounts["acme"]["admin"])
    response = api.post(
        "/v1/auth/logout", json={"refresh_token": one["refresh_token"]}, headers=bearer(one["token"])
    )
    assert response.status_code == 204
    assert_refused(refresh(api, one["refresh_token"]))
    survivor = refresh(api, two["refresh_token"])
    assert survivor.status_code == 200, survivor.text
    assert api.get("/v1/jobs", headers=bearer(survivor.json()["token"])).status_code == 200


def test_logout_requires_a_bearer_token(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """Logout without a bearer token → 401, and the family stays alive."""
    session = login(api, accounts["acme"]["admin"])
    response = api.post("/v1/auth/logout", json={"refresh_token": session["refresh_token"]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert refresh(api, session["refresh_token"]).status_code == 200


def test_another_users_logout_cannot_kill_a_session(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """A user who presents someone else's refresh token at logout gets 204 but the victim's family lives."""
    victim = login(api, accounts["acme"]["admin"])
    other = login(api, accounts["brite"]["admin"])
    response = api.post(
        "/v1/auth/logout", json={"refresh_token": victim["refresh_token"]}, headers=bearer(other["token"])
    )
    assert response.status_code == 204
    assert refresh(api, victim["refresh_token"]).status_code == 200
