"""The Zapier surface and API-key management: key checks, scopes, tenancy, create/revoke/rotate, no echo."""

from __future__ import annotations

import re
import secrets
import string
from typing import Any

import httpx
import pytest

from sergio_kit.target.embedded import RunningServer
from tests.support.api import JOB, bearer, login

KEY_PATTERN = re.compile(r"^sk_(live|test)_[A-Za-z0-9]{40}$")
SCOPE_SETS = ("jobs:read", "jobs:write", "jobs:read,jobs:write")


def key_header(key: str) -> dict[str, str]:
    """An X-API-Key header for ``key``."""
    return {"X-API-Key": key}


def assert_no_key(response: httpx.Response, *keys: str) -> None:
    """Neither the body nor any header of ``response`` contains one of ``keys``."""
    for key in keys:
        assert key not in response.text, f"{response.request.method} {response.request.url.path} echoes a key"
        for name, value in response.headers.items():
            assert key not in value, f"header {name} echoes a key"


def assert_unauthorized(response: httpx.Response) -> None:
    """A 401 with the error shape."""
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.fixture
def acme_admin(api: httpx.Client, accounts: dict[str, Any]) -> dict[str, str]:
    """A bearer header of Acme's admin."""
    return bearer(login(api, accounts["acme"]["admin"])["token"])


def create_key(api: httpx.Client, admin: dict[str, str], scopes: list[str]) -> dict[str, Any]:
    """Create an API key with ``scopes``; assert 201 and return the response body."""
    response = api.post("/v1/api-keys", json={"name": "test key", "scopes": scopes}, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


# -- authentication of the Zapier surface --------------------------------------------------------


@pytest.mark.parametrize("company", ["acme", "brite"])
@pytest.mark.parametrize("scopes", SCOPE_SETS)
def test_me_identifies_each_seeded_key(
    api: httpx.Client, accounts: dict[str, Any], company: str, scopes: str
) -> None:
    """GET /zapier/v1/me with a seeded key names the key's company and scopes, and never echoes the key."""
    key = accounts[company]["keys"][scopes]
    response = api.get("/zapier/v1/me", headers=key_header(key))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["company"]["id"] == accounts[company]["id"]
    assert body["company"]["name"]
    assert body["key_id"].startswith("key_")
    assert body["scopes"] == scopes.split(",")
    assert_no_key(response, key)


def _changed_tail(key: str) -> str:
    alphabet = string.ascii_letters + string.digits
    tail = key[-32:]
    while tail == key[-32:]:
        tail = "".join(secrets.choice(alphabet) for _ in range(32))
    return key[:-32] + tail


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(_changed_tail, id="real-lookup-id-wrong-secret"),
        pytest.param(lambda key: key[:8] + "A" * 40, id="unknown-lookup-id"),
        pytest.param(lambda key: "", id="empty"),
        pytest.param(lambda key: "sk_live_", id="prefix-only"),
        pytest.param(lambda key: key[:20], id="truncated"),
        pytest.param(lambda key: key + "x", id="one-char-too-long"),
        pytest.param(lambda key: key.upper(), id="upper-case"),
        pytest.param(lambda key: "pk" + key[2:], id="wrong-prefix"),
        pytest.param(lambda key: key[:-1] + "-", id="bad-character"),
        pytest.param(lambda key: f"Bearer {key}", id="with-scheme"),
        pytest.param(lambda key: "not-a-key", id="no-underscores"),
    ],
)
def test_unknown_or_malformed_key_gets_401(api: httpx.Client, accounts: dict[str, Any], make: Any) -> None:
    """An unknown or malformed X-API-Key → 401 with the error shape, never the presented key echoed."""
    key = accounts["acme"]["keys"]["jobs:read,jobs:write"]
    presented = make(key)
    for path in ("/zapier/v1/me", "/zapier/v1/triggers/new-job"):
        response = api.get(path, headers=key_header(presented))
        assert_unauthorized(response)
        assert_no_key(response, key)
        if len(presented) >= 16:  # a short fragment like "sk_live_" may be named in the message
            assert_no_key(response, presented)


def test_missing_key_gets_401(api: httpx.Client) -> None:
    """No X-API-Key on each Zapier operation → 401."""
    assert_unauthorized(api.get("/zapier/v1/me"))
    assert_unauthorized(api.get("/zapier/v1/triggers/new-job"))
    assert_unauthorized(api.post("/zapier/v1/actions/create-job", json=JOB))


def test_jwt_is_not_an_api_key(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """A valid access token sent as X-API-Key → 401."""
    token = login(api, accounts["acme"]["admin"])["token"]
    assert_unauthorized(api.get("/zapier/v1/me", headers=key_header(token)))
    assert_unauthorized(api.get("/zapier/v1/me", headers=key_header(f"Bearer {token}")))


def test_api_key_is_not_a_bearer_token(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """A valid API key sent as a bearer token on /v1/jobs → 401 with the invalid_token challenge."""
    key = accounts["acme"]["keys"]["jobs:read,jobs:write"]
    for response in (
        api.get("/v1/jobs", headers=bearer(key)),
        api.post("/v1/jobs", json=JOB, headers=bearer(key)),
    ):
        assert_unauthorized(response)
        assert 'error="invalid_token"' in response.headers["www-authenticate"]
        assert_no_key(response, key)


# -- scopes and tenancy ------------------------------------------------------------------------


def test_read_key_cannot_create_and_write_key_can(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """The create-job action: a jobs:read key → 403, a jobs:write key → 201 with the job."""
    keys = accounts["acme"]["keys"]
    denied = api.post("/zapier/v1/actions/create-job", json=JOB, headers=key_header(keys["jobs:read"]))
    assert denied.status_code == 403, denied.text
    assert denied.json()["error"]["code"] == "forbidden"
    created = api.post("/zapier/v1/actions/create-job", json=JOB, headers=key_header(keys["jobs:write"]))
    assert created.status_code == 201, created.text
    assert created.json()["id"].startswith("job_")
    assert created.json()["customer_id"] == JOB["customer_id"]


def test_write_only_key_cannot_read_the_trigger(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """The new-job trigger with a jobs:write-only key → 403."""
    response = api.get(
        "/zapier/v1/triggers/new-job", headers=key_header(accounts["acme"]["keys"]["jobs:write"])
    )
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_a_company_never_sees_another_companys_jobs(
    api: httpx.Client, accounts: dict[str, Any], acme_admin: dict[str, str]
) -> None:
    """Brite's key does not list Acme's new job in the trigger, and Brite's admin gets 404 for its id
    on GET, PATCH and DELETE, while the job stays intact for Acme."""
    acme_job = api.post("/v1/jobs", json=JOB, headers=acme_admin).json()
    brite_job = api.post(
        "/zapier/v1/actions/create-job",
        json=JOB,
        headers=key_header(accounts["brite"]["keys"]["jobs:read,jobs:write"]),
    ).json()
    brite_feed = api.get(
        "/zapier/v1/triggers/new-job", headers=key_header(accounts["brite"]["keys"]["jobs:read"])
    )
    assert brite_feed.status_code == 200
    brite_ids = [job["id"] for job in brite_feed.json()]
    assert brite_ids[0] == brite_job["id"]  # newest first
    assert acme_job["id"] not in brite_ids
    acme_feed = api.get(
        "/zapier/v1/triggers/new-job", headers=key_header(accounts["acme"]["keys"]["jobs:read"])
    )
    acme_ids = [job["id"] for job in acme_feed.json()]
    assert acme_job["id"] in acme_ids and brite_job["id"] not in acme_ids
    assert not set(acme_ids) & set(brite_ids)

    brite_admin = bearer(login(api, accounts["brite"]["admin"])["token"])
    path = f"/v1/jobs/{acme_job['id']}"
    for response in (
        api.get(path, headers=brite_admin),
        api.patch(path, json={"status": "cancelled"}, headers=brite_admin),
        api.delete(path, headers=brite_admin),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert api.get(path, headers=acme_admin).json() == acme_job


def test_admin_cannot_manage_another_companys_keys(
    api: httpx.Client, accounts: dict[str, Any], acme_admin: dict[str, str]
) -> None:
    """Brite's admin gets 404 rotating or revoking an Acme key, which keeps working."""
    created = create_key(api, acme_admin, ["jobs:read"])
    brite_admin = bearer(login(api, accounts["brite"]["admin"])["token"])
    assert api.post(f"/v1/api-keys/{created['id']}/rotate", headers=brite_admin).status_code == 404
    assert api.delete(f"/v1/api-keys/{created['id']}", headers=brite_admin).status_code == 404
    assert created["id"] not in {k["id"] for k in api.get("/v1/api-keys", headers=brite_admin).json()["data"]}
    assert api.get("/zapier/v1/me", headers=key_header(created["key"])).status_code == 200


# -- key lifecycle -----------------------------------------------------------------------------


def test_created_key_is_shown_once(
    api: httpx.Client, accounts: dict[str, Any], acme_admin: dict[str, str]
) -> None:
    """A new key is in its 201 response only: it works, and the key list shows id and prefix but no key
    (neither as a member nor anywhere in the body), for it or any seeded key."""
    response = api.post("/v1/api-keys", json={"name": "zap", "scopes": ["jobs:read"]}, headers=acme_admin)
    assert response.status_code == 201
    assert response.headers["cache-control"] == "no-store"
    created = response.json()
    assert KEY_PATTERN.match(created["key"])
    assert created["id"].startswith("key_")
    assert created["scopes"] == ["jobs:read"] and created["name"] == "zap"
    assert created["prefix"] == created["key"][:12]
    assert api.get("/zapier/v1/me", headers=key_header(created["key"])).json()["key_id"] == created["id"]

    listing = api.get("/v1/api-keys", headers=acme_admin)
    assert listing.status_code == 200
    entries = {entry["id"]: entry for entry in listing.json()["data"]}
    assert entries[created["id"]] == {k: v for k, v in created.items() if k != "key"}
    assert all("key" not in entry for entry in entries.values())
    assert_no_key(listing, created["key"], *accounts["acme"]["keys"].values())


def test_revoked_key_is_refused_at_once(api: httpx.Client, acme_admin: dict[str, str]) -> None:
    """After DELETE /v1/api-keys/{id} (204) the key gets 401 on the very next request and leaves the list."""
    created = create_key(api, acme_admin, ["jobs:read", "jobs:write"])
    assert api.get("/zapier/v1/me", headers=key_header(created["key"])).status_code == 200
    revoked = api.delete(f"/v1/api-keys/{created['id']}", headers=acme_admin)
    assert revoked.status_code == 204
    assert_unauthorized(api.get("/zapier/v1/me", headers=key_header(created["key"])))
    assert_unauthorized(
        api.post("/zapier/v1/actions/create-job", json=JOB, headers=key_header(created["key"]))
    )
    listed = {entry["id"] for entry in api.get("/v1/api-keys", headers=acme_admin).json()["data"]}
    assert created["id"] not in listed
    assert api.delete(f"/v1/api-keys/{created['id']}", headers=acme_admin).status_code == 404
    assert api.post(f"/v1/api-keys/{created['id']}/rotate", headers=acme_admin).status_code == 404


def test_rotation_kills_the_old_key_and_the_new_one_works(
    api: httpx.Client, acme_admin: dict[str, str]
) -> None:
    """Rotate → 200 with a new key for the same id, name and scopes; the old key → 401, the new one → 200."""
    created = create_key(api, acme_admin, ["jobs:read"])
    response = api.post(f"/v1/api-keys/{created['id']}/rotate", headers=acme_admin)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    rotated = response.json()
    assert KEY_PATTERN.match(rotated["key"]) and rotated["key"] != created["key"]
    assert (rotated["id"], rotated["name"], rotated["scopes"]) == (
        created["id"],
        created["name"],
        created["scopes"],
    )
    assert rotated["prefix"] == rotated["key"][:12]
    assert_no_key(response, created["key"])
    assert_unauthorized(api.get("/zapier/v1/me", headers=key_header(created["key"])))
    me = api.get("/zapier/v1/me", headers=key_header(rotated["key"]))
    assert me.status_code == 200 and me.json()["key_id"] == created["id"]
    twice = api.post(f"/v1/api-keys/{created['id']}/rotate", headers=acme_admin).json()
    assert_unauthorized(api.get("/zapier/v1/me", headers=key_header(rotated["key"])))
    assert api.get("/zapier/v1/me", headers=key_header(twice["key"])).status_code == 200


def test_no_response_echoes_a_key_after_creation(
    api: httpx.Client, accounts: dict[str, Any], acme_admin: dict[str, str], server: RunningServer
) -> None:
    """After its 201, no body or header of any response (list, me, trigger, action, errors, rotate)
    contains the full key."""
    created = create_key(api, acme_admin, ["jobs:read", "jobs:write"])
    key = created["key"]
    responses = [
        api.get("/v1/api-keys", headers=acme_admin),
        api.get("/zapier/v1/me", headers=key_header(key)),
        api.get("/zapier/v1/triggers/new-job", headers=key_header(key)),
        api.post("/zapier/v1/actions/create-job", json=JOB, headers=key_header(key)),
        api.post("/zapier/v1/actions/create-job", json={"bad": key}, headers=key_header(key)),
        api.get("/v1/jobs", headers=bearer(key)),
        api.get("/v1/jobs", headers={**acme_admin, "X-API-Key": key}),
        api.get("/v1/health", headers=key_header(key)),
    ]
    assert [r.status_code for r in responses] == [200, 200, 200, 201, 422, 401, 200, 200]
    rotate = api.post(f"/v1/api-keys/{created['id']}/rotate", headers=acme_admin)
    new_key = rotate.json()["key"]
    responses += [
        rotate,
        api.get("/zapier/v1/me", headers=key_header(key)),
        api.get("/zapier/v1/me", headers=key_header(new_key)),
        api.get("/v1/api-keys", headers=acme_admin),
    ]
    for response in responses:
        assert_no_key(response, key)
    for response in responses[-2:]:
        assert_no_key(response, new_key)
    assert key not in server.log() and new_key not in server.log()
