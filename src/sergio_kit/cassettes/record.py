"""Record the tour: each flow of :data:`~sergio_kit.cassettes.tour.FLOWS` under vcrpy into ``<flow>.yaml``.

Every cassette gets a new :class:`~sergio_kit.cassettes.redact.CassetteRedactor`, so placeholders are
numbered per cassette. Around it, the recorder drops the test-clock calls (they are not part of the
API) and writes ephemeral loopback ports as fixed ones (the embedded server as ``127.0.0.1:8443``,
the default of ``sergio-kit serve``; the kit's webhook receiver as ``127.0.0.1:8444``), so that
recording again gives a small diff. The webhook delivery the receiver got is appended to its flow's
cassette as one more interaction (``POST <receiver URL>`` and the receiver's answer).

The cassettes are written to a scratch folder inside ``out`` and moved into place only when every
flow succeeded: a failed recording leaves the existing cassettes untouched.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import vcr
from vcr.request import Request as VcrRequest

from sergio_kit.cassettes.redact import CassetteRedactor, set_length
from sergio_kit.cassettes.tour import FLOWS, Flow, Tour, TourError
from sergio_kit.target.session import unreachable
from sergio_kit.target.target import Account, Target
from sergio_kit.webhooks.receiver import Delivery, WebhookReceiver, answer

__all__ = ["STABLE_RECEIVER", "STABLE_SERVER", "Recorded", "record_tour"]

STABLE_SERVER = "127.0.0.1:8443"  # where the embedded server is said to listen (sergio-kit serve's default)
STABLE_RECEIVER = "127.0.0.1:8444"  # where the kit's webhook receiver is said to listen


@dataclass(frozen=True)
class Recorded:
    """One written cassette."""

    flow: str
    path: Path
    interactions: int


class _Hooks:
    """vcrpy hooks for one cassette: skip some URLs, write fixed ports, then redact."""

    def __init__(self, redactor: CassetteRedactor, skip: Sequence[str], netlocs: Mapping[str, str]) -> None:
        self._redactor = redactor
        self._skip = tuple(skip)
        self._netlocs = dict(netlocs)
        alternatives = "|".join(re.escape(netloc) for netloc in sorted(netlocs, key=len, reverse=True))
        self._pattern = re.compile(f"(?:{alternatives})(?!\\d)") if netlocs else None

    def stable(self, text: str) -> str:
        """``text`` with every ephemeral ``host:port`` replaced by its fixed stand-in."""
        if self._pattern is None:
            return text
        return self._pattern.sub(lambda match: self._netlocs[match.group(0)], text)

    def _stable_body(self, body: Any) -> Any:
        if isinstance(body, bytes):
            return self.stable(body.decode("latin-1")).encode("latin-1")
        if isinstance(body, str):
            return self.stable(body)
        return body

    def request(self, request: Any) -> Any:
        """``before_record_request``: ``None`` (not recorded) for skipped URLs, else the scrubbed request."""
        if self._skip and str(request.uri).startswith(self._skip):
            return None
        request.uri = self.stable(request.uri)
        for name, value in list(request.headers.items()):
            request.headers[name] = self.stable(str(value))
        body = request.body
        if isinstance(body, bytes | str):
            changed = self._stable_body(body)
            if changed != body:
                request.body = changed
                set_length(request.headers, request.body)
        return self._redactor.before_record_request(request)

    def response(self, response: dict[str, Any]) -> dict[str, Any]:
        """``before_record_response``: the scrubbed response, with fixed ports."""
        headers = response.get("headers") or {}
        for name, values in headers.items():
            headers[name] = [self.stable(str(value)) for value in values]
        body = response.get("body") or {}
        if "string" in body:
            changed = self._stable_body(body["string"])
            if changed != body["string"]:
                body["string"] = changed
                set_length(headers, changed)
        scrubbed: dict[str, Any] = self._redactor.before_record_response(response)
        return scrubbed


def delivery_interaction(delivery: Delivery, receiver_url: str) -> tuple[Any, dict[str, Any]]:
    """A vcrpy request and response for a delivery the receiver got: what was sent, what it answered."""
    parts = urlsplit(receiver_url)
    request = VcrRequest(
        delivery.method,
        f"{parts.scheme}://{parts.netloc}{delivery.path}",
        delivery.body,
        dict(delivery.headers),
    )
    headers, text = answer(delivery.status)
    response = {
        "status": {"code": delivery.status, "message": HTTPStatus(delivery.status).phrase},
        "headers": {name: [value] for name, value in headers.items()},
        "body": {"string": text},
    }
    return request, response


def login(client: httpx.Client, account: Account) -> str:
    """A bearer token for ``account`` (a login made outside any cassette)."""
    try:
        response = client.post("/v1/auth/login", json={"email": account.email, "password": account.password})
    except httpx.ConnectError as error:
        raise unreachable(str(client.base_url), error) from None
    if response.status_code != 200:
        raise TourError(
            f"could not log in as {account.email} to record: POST /v1/auth/login answered "
            f"{response.status_code}; check the email and password (SERGIO_EMAIL, SERGIO_PASSWORD)"
        )
    return str(response.json()["token"])


def record_tour(
    target: Target,
    out: Path,
    *,
    known_secrets: Iterable[str],
    stable_server: bool = False,
    unrecorded: Sequence[str] = (),
    flows: Sequence[tuple[str, Flow]] = FLOWS,
    progress: Callable[[str], None] = lambda _line: None,
) -> list[Recorded]:
    """Record every flow against ``target`` into ``out/<flow>.yaml`` (replacing those files).

    ``known_secrets``: literal secrets to scrub (the passwords in use). ``stable_server``: write the
    target's address as :data:`STABLE_SERVER` (for the embedded server's ephemeral port).
    ``unrecorded``: URL prefixes the tour calls but the cassettes leave out (the test clock).
    """
    secrets = list(known_secrets)
    out.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".recording-", dir=out))
    certificates = tempfile.TemporaryDirectory(prefix="sergio-record-")
    receiver = None
    client = httpx.Client(base_url=target.base_url, verify=target.ssl_context(), timeout=30.0)
    try:
        receiver = _receiver(target, Path(certificates.name))
        tour = Tour(
            client=client,
            account=target.account,
            token=login(client, target.account),
            other_token=login(client, target.other_account) if target.other_account else None,
            clock=target.clock,
            bulk_limit=target.tier_limits["bulk"],
            receiver=receiver,
            samples=target.samples,
            complete_contract=target.contract.complete,
        )
        netlocs = {}
        if stable_server:
            netlocs[urlsplit(target.base_url).netloc] = STABLE_SERVER
        if receiver is not None:
            netlocs[urlsplit(receiver.url).netloc] = STABLE_RECEIVER
        recorded = []
        for name, flow in flows:
            path = scratch / f"{name}.yaml"
            count = _record_flow(
                tour, name, flow, path, _Hooks(CassetteRedactor(secrets), unrecorded, netlocs)
            )
            recorded.append(Recorded(name, out / path.name, count))
            progress(f"  {name}: {count} interactions")
        for item in recorded:
            os.replace(scratch / item.path.name, item.path)
        return recorded
    finally:
        client.close()
        if receiver is not None:
            receiver.stop()
        certificates.cleanup()
        shutil.rmtree(scratch, ignore_errors=True)


def _record_flow(tour: Tour, name: str, flow: Flow, path: Path, hooks: _Hooks) -> int:
    """Run one flow under a fresh cassette at ``path``; return how many interactions it holds."""
    recorder = vcr.VCR(
        record_mode="all",
        drop_unused_requests=True,
        decode_compressed_response=True,
        before_record_request=hooks.request,
        before_record_response=hooks.response,
    )
    tour.flow = name
    with recorder.use_cassette(str(path)) as cassette:
        receiver = tour.receiver

        def record_delivery(delivery: Delivery) -> None:
            assert receiver is not None
            cassette.append(*delivery_interaction(delivery, receiver.url))

        tour.record_delivery = record_delivery
        try:
            flow(tour)
        finally:
            tour.cleanup()
            tour.record_delivery = lambda _delivery: None
        return len(cassette)


def _receiver(target: Target, folder: Path) -> WebhookReceiver | None:
    """A started webhook receiver the target trusts, or ``None`` when the kit cannot issue one."""
    if target.receiver_cert is None:
        return None
    return WebhookReceiver(target.receiver_cert(folder / "receiver.pem")).start()
