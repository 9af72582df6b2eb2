"""Probes of the tenancy and role faults: another company's admin on Acme's objects and lists, and
Acme's member on the admin-only key management."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.plumbing import UNREACHABLE_HOOK, Probe, expect, json_of, token_of
from tests.support.api import JOB, bearer, client_for, seeded_accounts


@contextmanager
def companies(server: RunningServer) -> Iterator[tuple[httpx.Client, dict[str, str]]]:
    """A client and the tokens of Acme's admin (``acme``), Acme's member (``crew``) and Brite's
    admin (``brite``)."""
    accounts = seeded_accounts(server)
    with client_for(server) as client:
        yield (
            client,
            {
                "acme": token_of(client, accounts["acme"]["admin"], "Acme's admin"),
                "crew": token_of(client, accounts["acme"]["member"], "Acme's member"),
                "brite": token_of(client, accounts["brite"]["admin"], "Brite's admin"),
            },
        )


def _made(client: httpx.Client, token: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post(path, json=body, headers=bearer(token))
    expect(response, 201, f"POST {path} as Acme's admin")
    made: dict[str, Any] = json_of(response, f"POST {path}")
    return made


def _job(client: httpx.Client, token: str) -> dict[str, Any]:
    return _made(client, token, "/v1/jobs", JOB)


def _webhook(client: httpx.Client, token: str) -> dict[str, Any]:
    return _made(client, token, "/v1/webhooks", {"url": UNREACHABLE_HOOK, "events": ["job.created"]})


def _key(client: httpx.Client, token: str) -> dict[str, Any]:
    return _made(client, token, "/v1/api-keys", {"name": "tenancy-probe", "scopes": ["jobs:read"]})


def _key_works(client: httpx.Client, key: str, what: str) -> None:
    expect(client.get("/zapier/v1/me", headers={"X-API-Key": key}), 200, what)


def probe_objects(server: RunningServer, clock: TestClock) -> None:
    """Brite's admin cannot change Acme's job: 404, and the job reads back unchanged."""
    with companies(server) as (client, tokens):
        job = _job(client, tokens["acme"])
        before = client.get(f"/v1/jobs/{job['id']}", headers=bearer(tokens["acme"])).json()
        patched = client.patch(
            f"/v1/jobs/{job['id']}", json={"notes": "Brite"}, headers=bearer(tokens["brite"])
        )
        expect(patched, 404, "PATCH Acme's job as Brite's admin")
        after = client.get(f"/v1/jobs/{job['id']}", headers=bearer(tokens["acme"])).json()
        assert after == before, f"Brite's admin changed Acme's job: {before} -> {after}"


def probe_objects_read(server: RunningServer, clock: TestClock) -> None:
    """Brite's admin cannot read Acme's job: 404."""
    with companies(server) as (client, tokens):
        job = _job(client, tokens["acme"])
        expect(
            client.get(f"/v1/jobs/{job['id']}", headers=bearer(tokens["brite"])), 404, "Acme's job as Brite"
        )


def probe_objects_webhook_delete(server: RunningServer, clock: TestClock) -> None:
    """Brite's admin cannot delete Acme's webhook: 404, and Acme still lists it."""
    with companies(server) as (client, tokens):
        webhook = _webhook(client, tokens["acme"])
        try:
            deleted = client.delete(f"/v1/webhooks/{webhook['id']}", headers=bearer(tokens["brite"]))
            expect(deleted, 404, "DELETE Acme's webhook as Brite's admin")
            listed = json_of(client.get("/v1/webhooks", headers=bearer(tokens["acme"])), "Acme's webhooks")
            assert webhook["id"] in {entry["id"] for entry in listed["data"]}, "Acme's webhook is gone"
        finally:
            client.delete(f"/v1/webhooks/{webhook['id']}", headers=bearer(tokens["acme"]))


def probe_objects_rotate(server: RunningServer, clock: TestClock) -> None:
    """Brite's admin cannot rotate Acme's key: 404, and the key still works."""
    with companies(server) as (client, tokens):
        key = _key(client, tokens["acme"])
        try:
            rotated = client.post(f"/v1/api-keys/{key['id']}/rotate", headers=bearer(tokens["brite"]))
            expect(rotated, 404, "rotate Acme's key as Brite's admin")
            _key_works(client, key["key"], "Acme's key after Brite's attempt")
        finally:
            client.delete(f"/v1/api-keys/{key['id']}", headers=bearer(tokens["acme"]))


def _brite_lists_none_of(client: httpx.Client, tokens: dict[str, str], path: str, object_id: str) -> None:
    listed = client.get(path, headers=bearer(tokens["brite"]))
    expect(listed, 200, f"GET {path} as Brite's admin")
    assert object_id not in listed.text, f"GET {path} shows Brite's admin Acme's {object_id}"


def probe_lists(server: RunningServer, clock: TestClock) -> None:
    """Brite's job list holds no Acme job."""
    with companies(server) as (client, tokens):
        job = _job(client, tokens["acme"])
        _brite_lists_none_of(client, tokens, "/v1/jobs?limit=100", job["id"])


def probe_lists_webhooks(server: RunningServer, clock: TestClock) -> None:
    """Brite's webhook list holds no Acme webhook."""
    with companies(server) as (client, tokens):
        webhook = _webhook(client, tokens["acme"])
        try:
            _brite_lists_none_of(client, tokens, "/v1/webhooks", webhook["id"])
        finally:
            client.delete(f"/v1/webhooks/{webhook['id']}", headers=bearer(tokens["acme"]))


def probe_lists_api_keys(server: RunningServer, clock: TestClock) -> None:
    """Brite's key list holds no Acme key."""
    with companies(server) as (client, tokens):
        key = _key(client, tokens["acme"])
        try:
            _brite_lists_none_of(client, tokens, "/v1/api-keys", key["id"])
        finally:
            client.delete(f"/v1/api-keys/{key['id']}", headers=bearer(tokens["acme"]))


def probe_member(server: RunningServer, clock: TestClock) -> None:
    """Acme's member can neither list nor create Acme's API keys: 403."""
    with companies(server) as (client, tokens):
        member = bearer(tokens["crew"])
        expect(client.get("/v1/api-keys", headers=member), 403, "GET /v1/api-keys as Acme's member")
        created = client.post("/v1/api-keys", json={"name": "crew", "scopes": ["jobs:read"]}, headers=member)
        if created.status_code == 201:
            client.delete(f"/v1/api-keys/{created.json()['id']}", headers=bearer(tokens["acme"]))
        expect(created, 403, "POST /v1/api-keys as Acme's member")


def probe_member_rotate(server: RunningServer, clock: TestClock) -> None:
    """Acme's member cannot rotate Acme's key: 403, and the key still works."""
    with companies(server) as (client, tokens):
        key = _key(client, tokens["acme"])
        try:
            rotated = client.post(f"/v1/api-keys/{key['id']}/rotate", headers=bearer(tokens["crew"]))
            expect(rotated, 403, "rotate Acme's key as Acme's member")
            _key_works(client, key["key"], "Acme's key after the member's attempt")
        finally:
            client.delete(f"/v1/api-keys/{key['id']}", headers=bearer(tokens["acme"]))


PROBES: dict[str, Probe] = {
    "auth.tenant.objects": probe_objects,
    "auth.tenant.objects@read": probe_objects_read,
    "auth.tenant.objects@webhook-delete": probe_objects_webhook_delete,
    "auth.tenant.objects@rotate": probe_objects_rotate,
    "auth.tenant.lists": probe_lists,
    "auth.tenant.lists@webhooks": probe_lists_webhooks,
    "auth.tenant.lists@api-keys": probe_lists_api_keys,
    "auth.member.admin_only": probe_member,
    "auth.member.admin_only@rotate": probe_member_rotate,
}
