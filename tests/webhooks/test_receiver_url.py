"""The webhook receiver for a remote target: it listens where a tunnel or proxy forwards to, and the
target is given the public URL; without a receiver, the delivery checks skip and say what to set."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.reports.findings import CheckSkipped
from sergio_kit.target.embedded import RunningServer, embedded_target
from sergio_kit.target.target import Account, Target
from sergio_kit.webhooks.receiver import WebhookReceiver

PUBLIC_PATH = "/tunnel/sergio-hooks"


def free_port() -> int:
    """A loopback port free right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def advertised(server: RunningServer) -> Iterator[CheckContext]:
    """A context on the clean server whose receiver listens on 127.0.0.1:<port> and is advertised as
    https://localhost:<port>/tunnel/... (a certificate from the server's CA covers localhost)."""
    port = free_port()
    target = embedded_target(server)
    target.receiver_bind = ("127.0.0.1", port)
    target.receiver_url = f"https://localhost:{port}{PUBLIC_PATH}"
    context = CheckContext(target)
    yield context
    context.close()
    target.close()


def test_the_advertised_url_is_the_one_registered_and_delivered_to(advertised: CheckContext) -> None:
    """The target is given the receiver URL, and its delivery arrives at the bound receiver there."""
    receiver = advertised.receiver()
    try:
        assert receiver.url == advertised.target.receiver_url
        assert receiver.listening_url.startswith("https://127.0.0.1:")
        token = advertised.token()
        hook = advertised.send(
            "POST", "/v1/webhooks", token=token, json={"url": receiver.url, "events": ["job.created"]}
        )
        assert hook.status_code == 201, hook.text
        job = advertised.send("POST", "/v1/jobs", token=token, json=advertised.job(notes="receiver url"))
        delivery = receiver.wait_for(1, timeout=10)[0]
        assert delivery.path == PUBLIC_PATH
        assert job.json()["id"] in delivery.body.decode()
        advertised.send("DELETE", f"/v1/webhooks/{hook.json()['id']}", token=token)
        advertised.send("DELETE", f"/v1/jobs/{job.json()['id']}", token=token)
    finally:
        receiver.stop()


def test_the_delivery_checks_pass_through_the_advertised_url(advertised: CheckContext) -> None:
    """``webhook.registration`` (a real delivery) passes with the receiver reached at its public URL."""
    get_check("webhook.registration").run(advertised)


def test_without_a_certificate_the_receiver_speaks_plain_http() -> None:
    """Behind a TLS-terminating proxy: plain HTTP on the bound port, the public https URL advertised."""
    port = free_port()
    public = "https://hooks.example.com/sergio"
    with WebhookReceiver(None, port=port, public_url=public) as receiver:
        assert (receiver.url, receiver.listening_url) == (public, f"http://127.0.0.1:{port}/hooks/sergio")
        answer = httpx.post(f"http://127.0.0.1:{port}/forwarded", content=b'{"type":"job.created"}')
        assert answer.status_code == 200
        assert receiver.wait_for(1)[0].path == "/forwarded"


def test_a_live_target_without_a_receiver_skips_saying_what_to_set() -> None:
    """No receiver URL and no certificate: the delivery checks skip, naming SERGIO_RECEIVER_URL."""
    context = CheckContext(Target(base_url="https://sergio.test", account=Account("a@b.test", "pw")))
    try:
        with pytest.raises(CheckSkipped, match="set SERGIO_RECEIVER_URL"):
            context.receiver()
        with pytest.raises(CheckSkipped, match="SERGIO_RECEIVER_URL"):
            get_check("webhook.registration").run(context)
    finally:
        context.close()


def test_a_busy_bind_address_is_one_line(tmp_path: Path) -> None:
    """A receiver port already taken stops with one line naming the setting to change."""
    from sergio_kit.errors import SergioKitError

    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        target = Target(base_url="https://sergio.test", account=Account("a@b.test", "pw"))
        target.receiver_url = "https://hooks.example.com/x"
        target.receiver_bind = ("127.0.0.1", busy.getsockname()[1])
        context = CheckContext(target)
        try:
            with pytest.raises(SergioKitError, match="set SERGIO_RECEIVER_BIND"):
                context.receiver()
        finally:
            context.close()
