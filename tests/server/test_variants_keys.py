"""The reference server's API-key and webhook variants: keys made in a dashboard (``no-key-management``),
rotation answered 201 Created (``rotation-201``), webhook secrets in standard base64
(``base64-webhook-secrets``); each an allowed choice, so everything the docs publish still holds."""

from __future__ import annotations

import base64
import re
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from sergio_kit.server.tls import issue_receiver_cert
from sergio_kit.target.embedded import RunningServer, start_server
from sergio_kit.webhooks.receiver import WebhookReceiver
from sergio_kit.webhooks.signatures import verify
from tests.support.api import JOB, bearer, client_for, login, seeded_accounts
from tests.support.clock import clock_of, start_fresh_windows

STANDARD_BASE64_SECRET = re.compile(r"whsec_[A-Za-z0-9+/]{43}=")


@pytest.fixture(scope="module")
def dashboard_server(
    tmp_path_factory: pytest.TempPathFactory, server_template: Path
) -> Iterator[RunningServer]:
    """A server whose keys are made in a dashboard and whose webhook secrets are standard base64."""
    running = start_server(
        tmp_path_factory.mktemp("dashboard"),
        variants=("no-key-management", "base64-webhook-secrets"),
        template=server_template,
        plain_http=False,
    )
    yield running
    running.stop()


@pytest.fixture(scope="module")
def created_rotation_server(
    tmp_path_factory: pytest.TempPathFactory, server_template: Path
) -> Iterator[RunningServer]:
    """A server whose key rotation answers 201 Created."""
    running = start_server(
        tmp_path_factory.mktemp("rotation-201"),
        variants=("rotation-201",),
        template=server_template,
        plain_http=False,
    )
    yield running
    running.stop()


@contextmanager
def fresh_client(server: RunningServer) -> Iterator[httpx.Client]:
    """An HTTPS client of ``server``, after moving its test clock past every rate-limit window."""
    with clock_of(server) as clock:
        start_fresh_windows(clock)
    with client_for(server) as client:
        yield client


def admin_of(client: httpx.Client, server: RunningServer, company: str = "acme") -> dict[str, str]:
    """A bearer header of ``company``'s admin on ``server``."""
    return bearer(login(client, seeded_accounts(server)[company]["admin"])["token"])


# -- no-key-management ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/api-keys"),
        ("POST", "/v1/api-keys"),
        ("POST", "/v1/api-keys/key_anything/rotate"),
        ("DELETE", "/v1/api-keys/key_anything"),
    ],
)
def test_no_key_management_has_no_key_endpoints(
    dashboard_server: RunningServer, method: str, path: str
) -> None:
    """Every key-management operation is gone (404), even for a company admin."""
    with fresh_client(dashboard_server) as client:
        admin = admin_of(client, dashboard_server)
        body = {"name": "k", "scopes": ["jobs:read"]} if method == "POST" else None
        response = client.request(method, path, headers=admin, json=body)
    assert response.status_code == 404, response.text


@pytest.mark.parametrize("company", ["acme", "brite"])
def test_no_key_management_seeds_a_full_and_a_read_only_key(
    dashboard_server: RunningServer, company: str
) -> None:
    """Each company has, in credentials.json, a full key that reads and writes on the Zapier surface
    and a read-only key that reads but cannot create a job."""
    keys: dict[str, Any] = seeded_accounts(dashboard_server)[company]["keys"]
    full, read_only = keys["jobs:read,jobs:write"], keys["jobs:read"]
    with fresh_client(dashboard_server) as client:
        me = client.get("/zapier/v1/me", headers={"X-API-Key": full})
        assert me.status_code == 200 and sorted(me.json()["scopes"]) == ["jobs:read", "jobs:write"]
        assert me.json()["company"]["id"] == f"cmp_{company}"
        created = client.post("/zapier/v1/actions/create-job", headers={"X-API-Key": full}, json=JOB)
        assert created.status_code == 201, created.text
        trigger = client.get("/zapier/v1/triggers/new-job", headers={"X-API-Key": read_only})
        assert trigger.status_code == 200
        assert created.json()["id"] in {job["id"] for job in trigger.json()}
        refused = client.post("/zapier/v1/actions/create-job", headers={"X-API-Key": read_only}, json=JOB)
        assert refused.status_code == 403, refused.text
        admin = admin_of(client, dashboard_server, company)
        assert client.delete(f"/v1/jobs/{created.json()['id']}", headers=admin).status_code == 204


# -- rotation-201 --------------------------------------------------------------------------------


def test_rotation_answers_201_with_a_new_key_and_the_old_one_dies(
    created_rotation_server: RunningServer,
) -> None:
    """Rotation answers 201 Created with a new key; the old key is refused at once, the new one works."""
    with fresh_client(created_rotation_server) as client:
        admin = admin_of(client, created_rotation_server)
        created = client.post(
            "/v1/api-keys", json={"name": "rotate me", "scopes": ["jobs:read"]}, headers=admin
        )
        assert created.status_code == 201, created.text
        old = created.json()["key"]
        rotated = client.post(f"/v1/api-keys/{created.json()['id']}/rotate", headers=admin)
        assert rotated.status_code == 201, rotated.text
        assert rotated.headers["Cache-Control"] == "no-store"
        new = rotated.json()["key"]
        assert new != old and rotated.json()["id"] == created.json()["id"]
        assert client.get("/zapier/v1/me", headers={"X-API-Key": old}).status_code == 401
        assert client.get("/zapier/v1/me", headers={"X-API-Key": new}).status_code == 200
        assert client.delete(f"/v1/api-keys/{created.json()['id']}", headers=admin).status_code == 204


def test_rotation_answers_200_without_the_variant(api: httpx.Client, admin_token: str) -> None:
    """On the clean server rotation stays 200 (the kit's assumed default)."""
    admin = bearer(admin_token)
    created = api.post("/v1/api-keys", json={"name": "rotate me", "scopes": ["jobs:read"]}, headers=admin)
    assert created.status_code == 201, created.text
    try:
        assert api.post(f"/v1/api-keys/{created.json()['id']}/rotate", headers=admin).status_code == 200
    finally:
        api.delete(f"/v1/api-keys/{created.json()['id']}", headers=admin)


# -- base64-webhook-secrets ----------------------------------------------------------------------


def test_webhook_secrets_are_standard_base64_and_sign_deliveries(
    dashboard_server: RunningServer, tmp_path: Path
) -> None:
    """A registration shows ``whsec_`` + the standard base64 of 32 bytes (``=``-padded); the
    delivery's signature, keyed with that whole string as published, passes the kit's verifier."""
    cert = issue_receiver_cert(dashboard_server.data_dir, tmp_path / "receiver.pem")
    with (
        WebhookReceiver(cert, path=f"/hooks/{secrets.token_hex(6)}") as receiver,
        fresh_client(dashboard_server) as client,
    ):
        admin = admin_of(client, dashboard_server)
        registered = client.post(
            "/v1/webhooks", json={"url": receiver.url, "events": ["job.created"]}, headers=admin
        )
        assert registered.status_code == 201, registered.text
        secret = registered.json()["secret"]
        assert STANDARD_BASE64_SECRET.fullmatch(secret), "not whsec_ + standard base64"
        assert len(base64.b64decode(secret.removeprefix("whsec_"), validate=True)) == 32
        job = client.post("/v1/jobs", json=JOB, headers=admin)
        assert job.status_code == 201, job.text
        try:
            (delivery,) = receiver.wait_for(1, timeout=10.0)
            with clock_of(dashboard_server) as clock:  # the server signs by its test clock
                verify(delivery.header("X-Sergio-Signature"), delivery.body, secret, now=clock.now())
        finally:
            client.delete(f"/v1/jobs/{job.json()['id']}", headers=admin)
            client.delete(f"/v1/webhooks/{registered.json()['id']}", headers=admin)
