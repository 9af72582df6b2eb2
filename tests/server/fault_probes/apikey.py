"""Probes of the ``apikey`` faults: the Zapier surface's X-API-Key, its scopes, tenants and life cycle."""

from __future__ import annotations

from typing import Any

import httpx

from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.plumbing import (
    Probe,
    expect,
    expect_error,
    json_of,
    refused,
    token_of,
)
from tests.support.api import JOB, bearer, client_for, seeded_accounts


def _me(client: httpx.Client, key: str | None) -> httpx.Response:
    return client.get("/zapier/v1/me", headers={} if key is None else {"X-API-Key": key})


def probe_apikey_missing(server: RunningServer, clock: TestClock) -> None:
    """A Zapier request without X-API-Key is 401."""
    with client_for(server) as client:
        expect_error(_me(client, None), 401, "unauthorized", "GET /zapier/v1/me without X-API-Key")


def probe_apikey_unknown(server: RunningServer, clock: TestClock) -> None:
    """A key with a real prefix but a wrong secret, or a made-up key, is 401."""
    with client_for(server) as client:
        real = seeded_accounts(server)["acme"]["keys"]["jobs:read"]
        expect(_me(client, real), 200, "control: the real key")
        secret_part = real[-32:]
        forged_secret = "0" * 32 if secret_part != "0" * 32 else "1" * 32
        expect_error(
            _me(client, real[:-32] + forged_secret), 401, "unauthorized", "real prefix, wrong secret"
        )
        made_up = "sk_live_" + "Zz9" * 13 + "Z"
        expect_error(_me(client, made_up), 401, "unauthorized", "a well-formed made-up key")


def probe_apikey_malformed(server: RunningServer, clock: TestClock) -> None:
    """Malformed keys (too short, wrong prefix, wrong alphabet) are 401, never 5xx."""
    with client_for(server) as client:
        for key in (
            "abc",
            "sk",
            "sk_live",
            "sk_live_",
            "sk_live_short",
            "pk_live_" + "a" * 40,
            "sk_live_" + "!" * 40,
        ):
            expect_error(_me(client, key), 401, "unauthorized", f"X-API-Key {key!r}")


def probe_apikey_surface_separation(server: RunningServer, clock: TestClock) -> None:
    """A JWT is no API key on /zapier/v1, and an API key is no bearer token on /v1."""
    with client_for(server) as client:
        accounts = seeded_accounts(server)
        token = token_of(client, accounts["acme"]["admin"], "setup")
        expect_error(_me(client, token), 401, "unauthorized", "a JWT in X-API-Key")
        refused(client, accounts["acme"]["keys"]["jobs:read,jobs:write"], "an API key as a bearer token")


def probe_apikey_surface_separation_x_api_key(server: RunningServer, clock: TestClock) -> None:
    """X-API-Key alone is no credential on /v1: 401."""
    with client_for(server) as client:
        key = seeded_accounts(server)["acme"]["keys"]["jobs:read,jobs:write"]
        response = client.get("/v1/jobs", headers={"X-API-Key": key})
        expect_error(response, 401, "unauthorized", "GET /v1/jobs with X-API-Key alone")


def probe_apikey_surface_separation_beside_bad_bearer(server: RunningServer, clock: TestClock) -> None:
    """X-API-Key beside an invalid bearer token is no credential on /v1: 401."""
    with client_for(server) as client:
        key = seeded_accounts(server)["acme"]["keys"]["jobs:read,jobs:write"]
        headers = {"Authorization": "Bearer eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl", "X-API-Key": key}
        response = client.get("/v1/jobs", headers=headers)
        expect_error(response, 401, "unauthorized", "GET /v1/jobs with X-API-Key beside an invalid token")


def probe_apikey_scope(server: RunningServer, clock: TestClock) -> None:
    """A jobs:read key cannot create a job (403); a jobs:write key can."""
    with client_for(server) as client:
        keys = seeded_accounts(server)["acme"]["keys"]
        path = "/zapier/v1/actions/create-job"
        expect(client.post(path, json=JOB, headers={"X-API-Key": keys["jobs:write"]}), 201, "jobs:write key")
        refused_create = client.post(path, json=JOB, headers={"X-API-Key": keys["jobs:read"]})
        expect_error(refused_create, 403, "forbidden", "create-job with a jobs:read key")


def probe_apikey_scope_trigger(server: RunningServer, clock: TestClock) -> None:
    """A jobs:write-only key cannot read the new-job trigger (403); a jobs:read key can."""
    with client_for(server) as client:
        keys = seeded_accounts(server)["acme"]["keys"]
        path = "/zapier/v1/triggers/new-job"
        expect(client.get(path, headers={"X-API-Key": keys["jobs:read"]}), 200, "jobs:read key")
        refused_read = client.get(path, headers={"X-API-Key": keys["jobs:write"]})
        expect_error(refused_read, 403, "forbidden", "the trigger with a jobs:write-only key")


def probe_apikey_tenant(server: RunningServer, clock: TestClock) -> None:
    """The new-job trigger lists the key's own company's jobs only."""
    with client_for(server) as client:
        accounts = seeded_accounts(server)
        ids = {}
        for company in ("acme", "brite"):
            key = accounts[company]["keys"]["jobs:read,jobs:write"]
            created = client.post("/zapier/v1/actions/create-job", json=JOB, headers={"X-API-Key": key})
            expect(created, 201, f"create a {company} job")
            ids[company] = json_of(created, "create")["id"]
        listed = client.get(
            "/zapier/v1/triggers/new-job", headers={"X-API-Key": accounts["acme"]["keys"]["jobs:read"]}
        )
        expect(listed, 200, "Acme's new-job trigger")
        seen = {job["id"] for job in json_of(listed, "trigger")}
        assert ids["acme"] in seen, f"Acme's own new job {ids['acme']} is missing from its trigger"
        assert ids["brite"] not in seen, f"Acme's trigger lists Brite's job {ids['brite']}"


def _new_key(client: httpx.Client, admin_token: str) -> dict[str, Any]:
    response = client.post(
        "/v1/api-keys", json={"name": "fault-probe", "scopes": ["jobs:read"]}, headers=bearer(admin_token)
    )
    expect(response, 201, "create an API key")
    created: dict[str, Any] = json_of(response, "create an API key")
    expect(_me(client, created["key"]), 200, "the new key")
    return created


def probe_apikey_revoked(server: RunningServer, clock: TestClock) -> None:
    """A revoked key is 401 at once."""
    with client_for(server) as client:
        admin_token = token_of(client, seeded_accounts(server)["acme"]["admin"], "setup")
        created = _new_key(client, admin_token)
        revoked = client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(admin_token))
        expect(revoked, 204, "revoke the key")
        expect_error(_me(client, created["key"]), 401, "unauthorized", "the revoked key")


def probe_apikey_rotated(server: RunningServer, clock: TestClock) -> None:
    """After rotation the old key is 401 and the new key works."""
    with client_for(server) as client:
        admin_token = token_of(client, seeded_accounts(server)["acme"]["admin"], "setup")
        created = _new_key(client, admin_token)
        try:
            rotated = client.post(f"/v1/api-keys/{created['id']}/rotate", headers=bearer(admin_token))
            expect(rotated, 200, "rotate the key")
            new_key = json_of(rotated, "rotate")["key"]
            expect_error(_me(client, created["key"]), 401, "unauthorized", "the old key after rotation")
            expect(_me(client, new_key), 200, "the new key after rotation")
        finally:
            client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(admin_token))


def probe_apikey_no_echo(server: RunningServer, clock: TestClock) -> None:
    """GET /zapier/v1/me never shows the presented key, in its body or its headers."""
    with client_for(server) as client:
        key = seeded_accounts(server)["acme"]["keys"]["jobs:read"]
        response = _me(client, key)
        expect(response, 200, "GET /zapier/v1/me")
        for secret in (key, key[-32:]):
            assert secret not in response.text, "GET /zapier/v1/me echoes the API key in its body"
            assert not any(secret in value for value in response.headers.values()), "key echoed in a header"


def probe_apikey_hint(server: RunningServer, clock: TestClock) -> None:
    """The key listing shows no run of five characters of a new key's secret part (its last 32)."""
    with client_for(server) as client:
        admin_token = token_of(client, seeded_accounts(server)["acme"]["admin"], "setup")
        created = _new_key(client, admin_token)
        try:
            listed = client.get("/v1/api-keys", headers=bearer(admin_token))
            expect(listed, 200, "list the keys")
            secret = created["key"][-32:]
            shown = [secret[i : i + 5] for i in range(len(secret) - 4) if secret[i : i + 5] in listed.text]
            assert not shown, f"the key listing shows {len(shown) + 4} characters of a key's secret part"
        finally:
            client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(admin_token))


PROBES: dict[str, Probe] = {
    "apikey.missing": probe_apikey_missing,
    "apikey.unknown": probe_apikey_unknown,
    "apikey.malformed": probe_apikey_malformed,
    "apikey.surface_separation": probe_apikey_surface_separation,
    "apikey.surface_separation@x-api-key": probe_apikey_surface_separation_x_api_key,
    "apikey.surface_separation@beside-bad-bearer": probe_apikey_surface_separation_beside_bad_bearer,
    "apikey.scope": probe_apikey_scope,
    "apikey.scope@trigger": probe_apikey_scope_trigger,
    "apikey.tenant": probe_apikey_tenant,
    "apikey.revoked": probe_apikey_revoked,
    "apikey.rotated": probe_apikey_rotated,
    "apikey.no_echo": probe_apikey_no_echo,
    "apikey.hint": probe_apikey_hint,
}
