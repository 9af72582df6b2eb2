"""Probes of the ``webhook`` faults: the signing secret shown at registration and never again, HTTPS
only, signed deliveries."""

from __future__ import annotations

import secrets
import tempfile
from pathlib import Path

from sergio_kit.server.tls import issue_receiver_cert
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from sergio_kit.webhooks.receiver import Delivery, WebhookReceiver
from sergio_kit.webhooks.signatures import SignatureError, verify
from tests.server.fault_probes.plumbing import (
    UNREACHABLE_HOOK,
    Probe,
    expect,
    expect_error,
    json_of,
    token_of,
)
from tests.support.api import JOB, bearer, client_for, seeded_accounts

DELIVERY_TIMEOUT = 5.0


def probe_webhook_registration(server: RunningServer, clock: TestClock) -> None:
    """Registration shows the endpoint's whsec_ signing secret, in a response that is not cached."""
    with client_for(server) as client:
        headers = bearer(token_of(client, seeded_accounts(server)["brite"]["admin"], "setup"))
        created = client.post(
            "/v1/webhooks", json={"url": UNREACHABLE_HOOK, "events": ["job.deleted"]}, headers=headers
        )
        expect(created, 201, "register a webhook")
        hook = json_of(created, "register")
        try:
            assert str(hook.get("secret", "")).startswith("whsec_"), f"registration shows no secret: {hook}"
            assert "no-store" in created.headers.get("Cache-Control", ""), (
                "the secret's response may be cached"
            )
        finally:
            client.delete(f"/v1/webhooks/{hook['id']}", headers=headers)


def probe_webhook_secret_once(server: RunningServer, clock: TestClock) -> None:
    """Listing the endpoints never shows a signing secret again."""
    with client_for(server) as client:
        headers = bearer(token_of(client, seeded_accounts(server)["brite"]["admin"], "setup"))
        created = client.post(
            "/v1/webhooks", json={"url": UNREACHABLE_HOOK, "events": ["job.deleted"]}, headers=headers
        )
        expect(created, 201, "register a webhook")
        hook = json_of(created, "register")
        try:
            listed = client.get("/v1/webhooks", headers=headers)
            expect(listed, 200, "list webhooks")
            entries = [entry for entry in json_of(listed, "list")["data"] if entry["id"] == hook["id"]]
            assert entries, f"the new webhook {hook['id']} is not listed"
            assert "secret" not in entries[0], f"the listing shows a secret field: {entries[0]}"
            assert hook["secret"] not in listed.text, "the listing shows the signing secret again"
        finally:
            client.delete(f"/v1/webhooks/{hook['id']}", headers=headers)


def probe_webhook_https_only(server: RunningServer, clock: TestClock) -> None:
    """Registering an http:// webhook URL is refused with 422."""
    with client_for(server) as client:
        headers = bearer(token_of(client, seeded_accounts(server)["brite"]["admin"], "setup"))
        body = {"url": "http://127.0.0.1:9/sergio-kit-probe", "events": ["job.deleted"]}
        response = client.post("/v1/webhooks", json=body, headers=headers)
        if response.status_code == 201:
            client.delete(f"/v1/webhooks/{response.json()['id']}", headers=headers)
        expect_error(response, 422, "validation_error", "register an http:// webhook URL")


def probe_webhook_https_only_public_host(server: RunningServer, clock: TestClock) -> None:
    """An http:// URL of a public-looking host (under .invalid: it resolves nowhere) is refused with
    422, while its https:// twin is accepted."""
    with client_for(server) as client:
        headers = bearer(token_of(client, seeded_accounts(server)["brite"]["admin"], "setup"))
        made: list[str] = []
        try:
            for scheme, status in (("http", 422), ("https", 201)):
                body = {"url": f"{scheme}://hooks.sergio-kit-probe.invalid/hook", "events": ["job.deleted"]}
                response = client.post("/v1/webhooks", json=body, headers=headers)
                if response.status_code == 201:
                    made.append(response.json()["id"])
                expect(response, status, f"register a {scheme}:// webhook URL of a public-looking host")
        finally:
            for webhook_id in made:
                client.delete(f"/v1/webhooks/{webhook_id}", headers=headers)


def _delivery_about(receiver: WebhookReceiver, job_id: str) -> Delivery:
    try:
        deliveries = receiver.wait_for(1, timeout=DELIVERY_TIMEOUT)
    except TimeoutError as error:
        raise AssertionError(f"no webhook delivery arrived: {error}") from None
    for delivery in deliveries:
        if job_id.encode() in delivery.body:
            return delivery
    raise AssertionError(f"the deliveries that arrived are not about job {job_id}")


def probe_webhook_signature(server: RunningServer, clock: TestClock) -> None:
    """A delivery's X-Sergio-Signature verifies over the raw body it came with."""
    with tempfile.TemporaryDirectory() as folder, client_for(server) as client:
        cert = issue_receiver_cert(server.data_dir, Path(folder) / "receiver.pem")
        with WebhookReceiver(cert, path=f"/hooks/{secrets.token_hex(6)}") as receiver:
            headers = bearer(token_of(client, seeded_accounts(server)["brite"]["admin"], "setup"))
            created = client.post(
                "/v1/webhooks", json={"url": receiver.url, "events": ["job.created"]}, headers=headers
            )
            expect(created, 201, "register the receiver")
            hook = json_of(created, "register")
            try:
                job = client.post("/v1/jobs", json=JOB, headers=headers)
                expect(job, 201, "create a job")
                delivery = _delivery_about(receiver, json_of(job, "create")["id"])
                try:
                    verify(
                        delivery.header("X-Sergio-Signature"), delivery.body, hook["secret"], now=clock.now()
                    )
                except SignatureError as error:
                    raise AssertionError(
                        f"the job.created delivery does not verify: {error.reason}"
                    ) from None
            finally:
                client.delete(f"/v1/webhooks/{hook['id']}", headers=headers)


PROBES: dict[str, Probe] = {
    "webhook.registration": probe_webhook_registration,
    "webhook.secret_once": probe_webhook_secret_once,
    "webhook.signature": probe_webhook_signature,
    "webhook.https_only": probe_webhook_https_only,
    "webhook.https_only@public-host": probe_webhook_https_only_public_host,
}
