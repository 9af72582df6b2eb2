"""The auth, refresh and tenancy variants of the reference server (allowed choices, not faults):
refresh-without-rotation, cacheable-login, company-from-database and cross-tenant-403, all on one
server; and the RFC 6750 bearer grammar on the clean server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer, start_server
from tests.support.api import JOB, bearer, client_for, login, seeded_accounts
from tests.support.clock import clock_of, start_fresh_windows

VARIANTS = ("refresh-without-rotation", "cacheable-login", "company-from-database", "cross-tenant-403")


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory: pytest.TempPathFactory, server_template: Path) -> Iterator[RunningServer]:
    """A reference server with this module's variants on."""
    running = start_server(
        tmp_path_factory.mktemp("auth-variants"), variants=VARIANTS, template=server_template
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def auth_clock(auth_server: RunningServer) -> Iterator[TestClock]:
    """The variant server's test clock."""
    with clock_of(auth_server) as clock:
        yield clock


@pytest.fixture
def client(auth_server: RunningServer, auth_clock: TestClock) -> Iterator[httpx.Client]:
    """An HTTPS client of the variant server, every rate-limit window fresh."""
    start_fresh_windows(auth_clock)
    with client_for(auth_server) as http:
        yield http


@pytest.fixture(scope="module")
def people(auth_server: RunningServer) -> dict[str, Any]:
    """The variant server's seeded credentials by company."""
    return seeded_accounts(auth_server)


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    """POST /v1/auth/refresh."""
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


# -- refresh-without-rotation ----------------------------------------------------------------------


def test_refresh_answers_the_published_shape_and_keeps_the_refresh_token(
    client: httpx.Client, people: dict[str, Any]
) -> None:
    """Refresh answers exactly {token, expires_at}; the new token works; the same refresh token works
    again (no rotation, no reuse detection)."""
    first = login(client, people["acme"]["admin"])
    for _ in range(3):
        response = refresh(client, first["refresh_token"])
        assert response.status_code == 200, response.text
        assert set(response.json()) == {"token", "expires_at"}
        assert client.get("/v1/jobs", headers=bearer(response.json()["token"])).status_code == 200


def test_logout_still_kills_a_non_rotating_refresh_token(
    client: httpx.Client, people: dict[str, Any]
) -> None:
    """The refresh token stays valid until its family is logged out."""
    first = login(client, people["acme"]["admin"])
    body = {"refresh_token": first["refresh_token"]}
    assert client.post("/v1/auth/logout", json=body, headers=bearer(first["token"])).status_code == 204
    assert refresh(client, first["refresh_token"]).status_code == 401


# -- cacheable-login -------------------------------------------------------------------------------


def test_token_responses_carry_no_cache_control(client: httpx.Client, people: dict[str, Any]) -> None:
    """Login and refresh answer without Cache-Control: no-store."""
    response = client.post(
        "/v1/auth/login", json={k: people["acme"]["admin"][k] for k in ("email", "password")}
    )
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")
    refreshed = refresh(client, response.json()["refresh_token"])
    assert "no-store" not in refreshed.headers.get("Cache-Control", "")


# -- company-from-database -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "cid",
    [
        pytest.param("other", id="other-company"),
        pytest.param(123, id="number"),
        pytest.param(None, id="null"),
    ],
)
def test_the_company_comes_from_the_user_record(
    client: httpx.Client, people: dict[str, Any], auth_server: RunningServer, cid: Any
) -> None:
    """A validly signed token whose cid names another company (or is no string) is served as the user's
    own company: it sees the user's jobs, never the other company's."""
    acme, brite = login(client, people["acme"]["admin"]), login(client, people["brite"]["admin"])
    ours = client.post("/v1/jobs", json=JOB, headers=bearer(acme["token"])).json()["id"]
    theirs = client.post("/v1/jobs", json=JOB, headers=bearer(brite["token"])).json()["id"]
    claims = jwt.decode(acme["token"], options={"verify_signature": False})
    claims["cid"] = people["brite"]["id"] if cid == "other" else cid
    forged = _resigned(auth_server, acme["token"], claims)
    listed = client.get("/v1/jobs", params={"limit": "100"}, headers=bearer(forged))
    assert listed.status_code == 200, listed.text
    ids = {job["id"] for job in listed.json()["data"]}
    assert ours in ids and theirs not in ids
    assert client.get(f"/v1/jobs/{theirs}", headers=bearer(forged)).status_code in (403, 404)


def test_a_token_without_cid_is_served_as_the_users_company(
    client: httpx.Client, people: dict[str, Any], auth_server: RunningServer
) -> None:
    """cid is not used at all: a token without it works for its user."""
    acme = login(client, people["acme"]["admin"])
    claims = jwt.decode(acme["token"], options={"verify_signature": False})
    del claims["cid"]
    forged = _resigned(auth_server, acme["token"], claims)
    assert client.get("/v1/jobs", headers=bearer(forged)).status_code == 200


def _resigned(server: RunningServer, token: str, claims: dict[str, Any]) -> str:
    """``claims`` signed with the server's own key and algorithm, under ``token``'s key id."""
    kid = jwt.get_unverified_header(token).get("kid")
    headers = {"kid": kid} if kid else None
    return jwt.encode(claims, server.signing_key(), algorithm=server.jwt_algorithm, headers=headers)


# -- cross-tenant-403 --------------------------------------------------------------------------------


def test_another_companys_job_is_403_and_unchanged(client: httpx.Client, people: dict[str, Any]) -> None:
    """GET, PATCH and DELETE of another company's job are 403 forbidden and change nothing; a job that
    does not exist is still 404."""
    acme = bearer(login(client, people["acme"]["admin"])["token"])
    brite = bearer(login(client, people["brite"]["admin"])["token"])
    job = client.post("/v1/jobs", json=JOB, headers=acme).json()
    path = f"/v1/jobs/{job['id']}"
    for response in (
        client.get(path, headers=brite),
        client.patch(path, json={"status": "completed"}, headers=brite),
        client.delete(path, headers=brite),
    ):
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
    assert client.get(path, headers=acme).json() == job
    assert client.get("/v1/jobs/job_doesnotexist0", headers=brite).status_code == 404
    assert client.delete(path, headers=acme).status_code == 204
    assert client.get(path, headers=acme).status_code == 404  # a deleted job of one's own: not found


def test_another_companys_webhook_and_key_are_403(client: httpx.Client, people: dict[str, Any]) -> None:
    """Deleting another company's webhook, rotating or revoking its API key: 403, and both still exist."""
    acme = bearer(login(client, people["acme"]["admin"])["token"])
    brite = bearer(login(client, people["brite"]["admin"])["token"])
    webhook = client.post(
        "/v1/webhooks", json={"url": "https://127.0.0.1:9/hook", "events": ["job.created"]}, headers=acme
    ).json()
    key = client.post("/v1/api-keys", json={"name": "tenancy", "scopes": ["jobs:read"]}, headers=acme).json()
    assert client.delete(f"/v1/webhooks/{webhook['id']}", headers=brite).status_code == 403
    assert client.post(f"/v1/api-keys/{key['id']}/rotate", headers=brite).status_code == 403
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=brite).status_code == 403
    assert client.get("/zapier/v1/me", headers={"X-API-Key": key["key"]}).status_code == 200
    assert client.delete(f"/v1/webhooks/{webhook['id']}", headers=acme).status_code == 204
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=acme).status_code == 204
    assert client.delete(f"/v1/api-keys/{key['id']}", headers=brite).status_code == 404  # revoked: gone


# -- RFC 6750 §2.1 on the clean server ---------------------------------------------------------------


def test_more_than_one_space_after_bearer_is_accepted(api: httpx.Client, admin_token: str) -> None:
    """``credentials = "Bearer" 1*SP b64token``: two spaces are valid, a tab is not."""
    assert api.get("/v1/jobs", headers={"Authorization": f"Bearer  {admin_token}"}).status_code == 200
    assert api.get("/v1/jobs", headers={"Authorization": f"bearer   {admin_token}"}).status_code == 200
    assert api.get("/v1/jobs", headers={"Authorization": f"Bearer\t{admin_token}"}).status_code == 401
