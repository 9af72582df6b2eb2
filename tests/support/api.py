"""Talking to a reference server as its seeded users: a client, logins, bearer headers, a sample job."""

from __future__ import annotations

from typing import Any

import httpx

from sergio_kit.contract.samples import example_job
from sergio_kit.target.embedded import RunningServer

JOB = example_job(address={"street": "1 High St", "city": "Springfield", "state": "IL", "zip": "62701"})


def client_for(server: RunningServer) -> httpx.Client:
    """A keep-alive HTTPS client for ``server`` that trusts only its test CA."""
    return httpx.Client(base_url=server.base_url, verify=server.ssl_context(), timeout=15.0)


def seeded_accounts(server: RunningServer) -> dict[str, Any]:
    """The server's seeded credentials by company: ``["acme"]["admin"]`` is ``{"email", "password",
    ...}``, ``["acme"]["keys"]["jobs:read"]`` the key with exactly that scope set."""
    found: dict[str, Any] = {}
    for company in server.credentials()["companies"]:
        entry: dict[str, Any] = {"id": company["id"], "keys": {}}
        for user in company["users"]:
            entry[user["role"]] = user
        for key in company["api_keys"]:
            entry["keys"][",".join(key["scopes"])] = key["key"]
        found[company["id"].removeprefix("cmp_")] = entry
    return found


def login(client: httpx.Client, user: dict[str, Any]) -> dict[str, Any]:
    """Log ``user`` in; assert success and return the token response."""
    response = client.post("/v1/auth/login", json={"email": user["email"], "password": user["password"]})
    assert response.status_code == 200, response.text
    data: dict[str, Any] = response.json()
    return data


def bearer(token: str) -> dict[str, str]:
    """An Authorization header for ``token``."""
    return {"Authorization": f"Bearer {token}"}
