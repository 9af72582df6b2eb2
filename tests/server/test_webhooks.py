"""Webhook endpoints: registration, signed deliveries to a real HTTPS receiver, retries, deletion."""

from __future__ import annotations

import itertools
import json
import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sergio_kit.server.tls import issue_receiver_cert
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from sergio_kit.webhooks.receiver import Delivery, WebhookReceiver
from sergio_kit.webhooks.signatures import verify
from tests.support.api import JOB, bearer, login

ALL_EVENTS = ["job.created", "job.updated", "job.deleted"]
DELIVERY_TIMEOUT = 10.0  # generous for loaded machines; waits return as soon as requests arrive
QUIET_PERIOD = 0.3  # how long to watch for a delivery that must not come, after one that must


@pytest.fixture(scope="module")
def receiver_cert(server: RunningServer, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A loopback certificate from the server's test CA, which the server trusts for deliveries."""
    return issue_receiver_cert(server.data_dir, tmp_path_factory.mktemp("receiver") / "receiver.pem")


@pytest.fixture
def receiver(receiver_cert: Path) -> Iterator[WebhookReceiver]:
    """A running HTTPS receiver on a per-test path, so stray deliveries of other tests cannot match."""
    with WebhookReceiver(receiver_cert, path=f"/hooks/{secrets.token_hex(6)}") as running:
        yield running


Register = Callable[..., dict[str, Any]]


@pytest.fixture
def register(api: httpx.Client, admin_token: str) -> Iterator[Register]:
    """Factory registering Acme webhooks (asserting 201); every one left is deleted afterwards."""
    created: list[str] = []

    def make(url: str, events: list[str] | None = None) -> dict[str, Any]:
        response = api.post(
            "/v1/webhooks", json={"url": url, "events": events or ALL_EVENTS}, headers=bearer(admin_token)
        )
        assert response.status_code == 201, response.text
        body: dict[str, Any] = response.json()
        created.append(body["id"])
        return body

    yield make
    for webhook_id in created:
        response = api.delete(f"/v1/webhooks/{webhook_id}", headers=bearer(admin_token))
        assert response.status_code in (204, 404), response.text


def create_job(api: httpx.Client, token: str) -> dict[str, Any]:
    """Create a job as the holder of ``token``; assert 201 and return it."""
    response = api.post("/v1/jobs", json=JOB, headers=bearer(token))
    assert response.status_code == 201, response.text
    job: dict[str, Any] = response.json()
    return job


def event_of(delivery: Delivery) -> dict[str, Any]:
    """The event a delivery carries."""
    event: dict[str, Any] = json.loads(delivery.body)
    return event


def assert_signed(delivery: Delivery, secret: str, clock: TestClock) -> None:
    """The delivery's signature verifies over its raw body at the server's current time."""
    verify(delivery.header("X-Sergio-Signature"), delivery.body, secret, now=clock.now())


def test_registration_returns_the_secret_only_once(
    api: httpx.Client, admin_token: str, receiver: WebhookReceiver, register: Register
) -> None:
    """Registering an https URL gives 201 with a whsec_ secret; listing never shows a secret."""
    webhook = register(receiver.url, ["job.created"])
    assert webhook["id"].startswith("whk_")
    assert webhook["url"] == receiver.url
    assert webhook["events"] == ["job.created"]
    assert webhook["secret"].startswith("whsec_") and len(webhook["secret"]) > len("whsec_") + 16

    listed = api.get("/v1/webhooks", headers=bearer(admin_token))
    assert listed.status_code == 200
    mine = [item for item in listed.json()["data"] if item["id"] == webhook["id"]]
    assert mine == [{key: value for key, value in webhook.items() if key != "secret"}]
    assert all("secret" not in item for item in listed.json()["data"])
    assert webhook["secret"] not in listed.text


def test_job_created_is_delivered_signed_over_the_raw_body(
    api: httpx.Client, admin_token: str, clock: TestClock, receiver: WebhookReceiver, register: Register
) -> None:
    """Creating a job POSTs a signed job.created event with the documented headers and body."""
    webhook = register(receiver.url, ["job.created"])
    job = create_job(api, admin_token)

    [delivery] = receiver.wait_for(1, DELIVERY_TIMEOUT)
    assert delivery.method == "POST"
    assert delivery.path == urlsplit(receiver.url).path
    assert delivery.header("X-Sergio-Event") == "job.created"
    assert (delivery.header("X-Sergio-Delivery") or "").strip()
    assert delivery.header("Content-Type") == "application/json"
    assert_signed(delivery, webhook["secret"], clock)
    event = event_of(delivery)
    assert set(event) == {"id", "type", "created_at", "data"}
    assert event["id"].startswith("evt_")
    assert event["type"] == "job.created"
    assert event["created_at"].endswith("Z")
    assert event["data"] == {"object": job}


def test_update_and_delete_are_delivered_when_subscribed(
    api: httpx.Client, admin_token: str, clock: TestClock, receiver: WebhookReceiver, register: Register
) -> None:
    """A subscription to every event gets job.created, job.updated and job.deleted in turn."""
    webhook = register(receiver.url, ALL_EVENTS)
    job = create_job(api, admin_token)
    receiver.wait_for(1, DELIVERY_TIMEOUT)
    updated = api.patch(f"/v1/jobs/{job['id']}", json={"status": "completed"}, headers=bearer(admin_token))
    assert updated.status_code == 200, updated.text
    receiver.wait_for(2, DELIVERY_TIMEOUT)
    deleted = api.delete(f"/v1/jobs/{job['id']}", headers=bearer(admin_token))
    assert deleted.status_code == 204

    deliveries = receiver.wait_for(3, DELIVERY_TIMEOUT)
    assert [d.header("X-Sergio-Event") for d in deliveries] == ALL_EVENTS
    assert [event_of(d)["type"] for d in deliveries] == ALL_EVENTS
    assert event_of(deliveries[1])["data"]["object"] == updated.json()
    assert event_of(deliveries[1])["data"]["object"]["status"] == "completed"
    assert event_of(deliveries[2])["data"]["object"]["id"] == job["id"]
    assert len({d.header("X-Sergio-Delivery") for d in deliveries}) == 3
    assert len({event_of(d)["id"] for d in deliveries}) == 3
    for delivery in deliveries:
        assert_signed(delivery, webhook["secret"], clock)


def test_unsubscribed_events_are_not_delivered(
    api: httpx.Client, admin_token: str, receiver: WebhookReceiver, register: Register
) -> None:
    """An endpoint subscribed to job.created only gets no job.updated or job.deleted."""
    register(receiver.url + "?sub=created", ["job.created"])
    register(receiver.url + "?sub=all", ALL_EVENTS)  # sentinel: shows when the events went out
    job = create_job(api, admin_token)
    receiver.wait_for(2, DELIVERY_TIMEOUT)
    assert api.patch(f"/v1/jobs/{job['id']}", json={"notes": "x"}, headers=bearer(admin_token)).is_success
    assert api.delete(f"/v1/jobs/{job['id']}", headers=bearer(admin_token)).status_code == 204

    receiver.wait_for(4, DELIVERY_TIMEOUT)
    time.sleep(QUIET_PERIOD)
    got = sorted((d.path.split("?")[1], d.header("X-Sergio-Event")) for d in receiver.deliveries)
    assert got == [
        ("sub=all", "job.created"),
        ("sub=all", "job.deleted"),
        ("sub=all", "job.updated"),
        ("sub=created", "job.created"),
    ]


def test_a_failing_receiver_gets_the_delivery_on_a_retry(
    api: httpx.Client, admin_token: str, clock: TestClock, receiver: WebhookReceiver, register: Register
) -> None:
    """After two 500s the same delivery (same X-Sergio-Delivery, same body) is retried and lands."""
    webhook = register(receiver.url, ["job.created"])
    receiver.fail_next(2)
    create_job(api, admin_token)

    attempts = receiver.wait_for(3, DELIVERY_TIMEOUT)
    assert [a.status for a in attempts] == [500, 500, 200]
    assert len({a.header("X-Sergio-Delivery") for a in attempts}) == 1
    assert len({a.body for a in attempts}) == 1
    gaps = [later.received_at - earlier.received_at for earlier, later in itertools.pairwise(attempts)]
    assert gaps[0] >= 0.4 and gaps[1] >= 1.8, gaps  # retries after 0.5 s, then 2 s
    assert_signed(attempts[-1], webhook["secret"], clock)
    time.sleep(QUIET_PERIOD)
    assert len(receiver.deliveries) == 3  # no retry after the success


def test_plain_http_urls_are_rejected(api: httpx.Client, admin_token: str) -> None:
    """Registering an http:// URL is a 422 validation error and stores nothing."""
    url = f"http://127.0.0.1:9/{secrets.token_hex(4)}"
    response = api.post(
        "/v1/webhooks", json={"url": url, "events": ["job.created"]}, headers=bearer(admin_token)
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_error"
    listed = api.get("/v1/webhooks", headers=bearer(admin_token))
    assert url not in listed.text


def test_deleted_webhook_gets_no_more_deliveries(
    api: httpx.Client, admin_token: str, receiver: WebhookReceiver, register: Register
) -> None:
    """Deleting an endpoint gives 204, it leaves the list, and later events are not sent to it."""
    gone = register(receiver.url + "?sub=gone", ["job.created"])
    register(receiver.url + "?sub=kept", ["job.created"])  # sentinel
    response = api.delete(f"/v1/webhooks/{gone['id']}", headers=bearer(admin_token))
    assert response.status_code == 204
    assert response.content == b""
    listed = api.get("/v1/webhooks", headers=bearer(admin_token)).json()["data"]
    assert gone["id"] not in {item["id"] for item in listed}
    again = api.delete(f"/v1/webhooks/{gone['id']}", headers=bearer(admin_token))
    assert again.status_code == 404

    create_job(api, admin_token)
    receiver.wait_for(1, DELIVERY_TIMEOUT)
    time.sleep(QUIET_PERIOD)
    assert [d.path.split("?")[1] for d in receiver.deliveries] == ["sub=kept"]


def test_another_companys_webhook_is_not_found(
    api: httpx.Client,
    accounts: dict[str, Any],
    admin_token: str,
    receiver: WebhookReceiver,
    register: Register,
) -> None:
    """Brite's admin cannot see or delete Acme's webhook: 404, and it stays registered."""
    webhook = register(receiver.url, ["job.created"])
    brite = bearer(login(api, accounts["brite"]["admin"])["token"])
    response = api.delete(f"/v1/webhooks/{webhook['id']}", headers=brite)
    assert response.status_code == 404, response.text
    assert response.json()["error"]["code"] == "not_found"
    assert webhook["id"] not in api.get("/v1/webhooks", headers=brite).text
    listed = api.get("/v1/webhooks", headers=bearer(admin_token)).json()["data"]
    assert webhook["id"] in {item["id"] for item in listed}
