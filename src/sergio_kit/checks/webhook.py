"""``webhook.*``: the signing secret is shown once, deliveries arrive signed over the raw body,
the kit's own verifier rejects every forgery, and only HTTPS endpoints can be registered.

Deliveries go to the kit's loopback receiver (``ctx.receiver()``), which the embedded reference
server trusts; against a live target without a receiver the delivery checks are skipped, and
``webhook.verifier`` (a property of the kit) runs on a locally signed sample instead. The checks that
need no delivery register the sample webhook sink (``webhook.secret_once``) or a host under the
reserved ``.invalid`` top-level domain (``webhook.https_only``), and delete what they register.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any, NoReturn
from unittest import mock

import httpx
import jsonschema_rs

from sergio_kit.checks.context import SUCCESS, CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.contract.document import components
from sergio_kit.contract.samples import DEFAULT_SAMPLES, local_today
from sergio_kit.reports.findings import CheckFailed, CheckSkipped, CheckUndecided, Finding
from sergio_kit.reports.redaction import WEBHOOK_SECRET, mask_headers, mask_text
from sergio_kit.webhooks import signatures
from sergio_kit.webhooks.receiver import Delivery, WebhookReceiver

DELIVERY_TIMEOUT = 10.0  # seconds to wait for a delivery at the receiver
TOLERANCE = 300  # seconds a signature's timestamp may lie from the receiver's clock
EVENT = "job.created"
#: A host under .invalid (RFC 6761 §6.4: it resolves nowhere, so no delivery can reach anyone) that
#: looks public: an SSRF filter refuses loopback and private hosts for another reason than the scheme.
HOOK_HOST = "hooks.sergio-kit.invalid"
PLAIN_HTTP_HOOK = f"http://{HOOK_HOST}/sergio-kit"
HTTPS_TWIN = f"https://{HOOK_HOST}/sergio-kit"
SIGNATURE = "X-Sergio-Signature"
REGISTER, CREATE_JOB = "POST /v1/webhooks", "POST /v1/jobs"  # what a delivery needs
LIST_WEBHOOKS, DELETE_WEBHOOK = "GET /v1/webhooks", "DELETE /v1/webhooks/{webhook_id}"  # not published
READ_WEBHOOK = "GET /v1/webhooks/{webhook_id}"  # not in the packaged contract: judged when declared
_REFERENCE_HEADER = re.compile(r"^t=([0-9]+),v1=([0-9a-f]{64})$")


# -- plumbing ------------------------------------------------------------------------------------


class _Webhook:
    """A webhook this check registered: its 201 response, removed once (``delete``)."""

    def __init__(self, ctx: CheckContext, response: httpx.Response) -> None:
        self._ctx = ctx
        self.response = response
        self.body: dict[str, Any] = response.json()
        self.id = str(self.body.get("id", ""))
        self._deleted: httpx.Response | None = None

    @property
    def secret(self) -> str:
        """The signing secret from the registration response (fails the check when absent)."""
        secret = self.body.get("secret")
        if not isinstance(secret, str) or not secret:
            self._ctx.fail(
                "registering a webhook did not show a signing secret",
                self.response,
                "a whsec_ secret",
                basis="documented",  # receivers must verify the HMAC, so they need the secret
            )
        return secret

    def expect_secret_form(self) -> None:
        """The signing secret has the kit's assumed form, ``whsec_`` + base64 or base64url characters
        (a recommended rule: checked after the published ones, since a breach ends the check)."""
        if not WEBHOOK_SECRET.fullmatch(self.secret):
            self._ctx.fail(
                "registering a webhook did not show a whsec_ signing secret",
                self.response,
                "whsec_ + base64 or base64url characters",
                basis="recommended",
            )

    def delete(self) -> httpx.Response:
        """``DELETE /v1/webhooks/{id}`` (once; later calls return the first answer)."""
        if self._deleted is None:
            self._deleted = self._ctx.send("DELETE", f"/v1/webhooks/{self.id}", token=self._ctx.token())
        return self._deleted


@contextmanager
def _registered(ctx: CheckContext, url: str, what: str = "the kit's webhook receiver") -> Iterator[_Webhook]:
    """Register ``url`` (``what`` names it) for ``job.created`` (any 2xx: no status is published);
    delete it afterwards when the contract declares deleting a webhook."""
    response = ctx.send("POST", "/v1/webhooks", token=ctx.token(), json={"url": url, "events": [EVENT]})
    ctx.expect(response, SUCCESS, f"registering {what} failed", "2xx with the secret")
    webhook = _Webhook(ctx, response)
    try:
        yield webhook
    finally:
        if ctx.offers(DELETE_WEBHOOK):
            with suppress(httpx.HTTPError):
                webhook.delete()


@contextmanager
def _created_job(ctx: CheckContext) -> Iterator[httpx.Response]:
    """Create a job (the event a delivery is about) and delete it afterwards."""
    response = ctx.send("POST", "/v1/jobs", token=ctx.token(), json=ctx.job(notes="sergio-kit webhook"))
    ctx.setup_step(response, SUCCESS, "creating a job to trigger a delivery failed")
    try:
        yield response
    finally:
        with suppress(httpx.HTTPError):
            ctx.send("DELETE", f"/v1/jobs/{response.json()['id']}", token=ctx.token())


@contextmanager
def _receiver(ctx: CheckContext) -> Iterator[WebhookReceiver]:
    """A started receiver the target trusts, stopped afterwards (skips when there is none)."""
    receiver = ctx.receiver()
    try:
        yield receiver
    finally:
        receiver.stop()


def _delivery_about(
    receiver: WebhookReceiver, job_id: str, timeout: float = DELIVERY_TIMEOUT
) -> Delivery | None:
    """The first delivery whose body names ``job_id``, waiting at most ``timeout`` s; else ``None``."""
    deadline = time.monotonic() + timeout
    seen = 0
    while True:
        try:
            deliveries = receiver.wait_for(seen + 1, timeout=max(deadline - time.monotonic(), 0.0))
        except TimeoutError:
            return None
        for delivery in deliveries[seen:]:
            if job_id.encode() in delivery.body:
                return delivery
        seen = len(deliveries)


def _await_delivery(ctx: CheckContext, receiver: WebhookReceiver, job: httpx.Response) -> Delivery:
    """The delivery about the job ``job`` created, or fail the check."""
    delivery = _delivery_about(receiver, str(job.json()["id"]))
    if delivery is None:
        ctx.fail(
            f"no {EVENT} delivery reached the registered receiver within {DELIVERY_TIMEOUT:.0f} s",
            job,
            f"a signed POST to {receiver.url}",
        )
    return delivery


def _fail_delivery(message: str, delivery: Delivery, expected: str, *, basis: str | None = None) -> NoReturn:
    """Fail with a finding that shows the delivery (masked), as what the target sent (``basis``: the
    rule's, when it is not the check's own)."""
    body = " ".join(mask_text(delivery.body.decode("utf-8", errors="replace")).split())
    headers = mask_headers({k: v for k, v in delivery.headers.items() if k.startswith("x-sergio-")})
    received = f"{delivery.method} {delivery.path} {headers} {body[:300]}"
    raise CheckFailed(Finding(message=mask_text(message), expected=expected, received=received), basis=basis)


def _shows(secret: str, text: str, headers: Mapping[str, str]) -> bool:
    """Whether ``secret`` appears in ``text`` or any header value."""
    return secret in text or any(secret in value for value in headers.values())


def _event_validator() -> Any:
    """A validator for the contract's ``WebhookEvent`` schema (formats checked)."""
    root = {"$ref": "#/components/schemas/WebhookEvent", "components": {"schemas": components()}}
    return jsonschema_rs.validator_for(root, validate_formats=True)


# -- registration and delivery -----------------------------------------------------------------


@check("webhook.registration", basis="documented")
def registration(ctx: CheckContext) -> None:
    """Registering shows a whsec_ signing secret, and a delivery reaches the receiver without the
    secret in it (that the secret never shows again is webhook.secret_once's)."""
    ctx.require(REGISTER, "to register the kit's receiver")
    ctx.require(CREATE_JOB, "to make the event a delivery is about")
    with _receiver(ctx) as receiver, _registered(ctx, receiver.url) as webhook:
        secret = webhook.secret
        with _created_job(ctx) as job:  # the published part first: a delivery, signed, not the secret
            delivery = _await_delivery(ctx, receiver, job)
            if _shows(secret, delivery.body.decode("utf-8", "replace"), delivery.headers):
                _fail_delivery("the delivery carries the signing secret itself", delivery, "only a MAC")
        if _shows(secret, job.text, job.headers):  # the secret shown only once is the kit's assumption
            what = "POST /v1/jobs shows the webhook's signing secret again"
            ctx.fail(what, job, "the secret shown once", basis="recommended")
        webhook.expect_secret_form()


@check("webhook.secret_once", basis="recommended")
def secret_once(ctx: CheckContext) -> None:
    """The signing secret shows only when an endpoint is registered: listing webhooks (and reading one,
    when the contract declares it) never shows it again, nor does deleting it. Needs no receiver: the
    webhook registered is the sample webhook sink (no delivery needs to arrive).

    The secret shown once, listing, reading and deleting webhooks are the kit's assumptions (the
    published documentation shows only the registration's request), hence a recommended rule; without
    a listing or a read of one webhook in the contract it skips, naming both.
    """
    ctx.require(REGISTER, "to register a webhook whose secret must not show again")
    if not (ctx.offers(LIST_WEBHOOKS) or ctx.offers(READ_WEBHOOK)):
        raise CheckSkipped(
            f"the contract does not declare {LIST_WEBHOOKS} or {READ_WEBHOOK} (where the signing "
            "secret must not show again)"
        )
    with _registered(ctx, ctx.target.samples.webhook_sink, "the sample webhook sink") as webhook:
        secret = webhook.secret
        later: list[tuple[str, httpx.Response]] = []
        if ctx.offers(LIST_WEBHOOKS):
            later.append((LIST_WEBHOOKS, _listed_without_secret(ctx, webhook)))
        if ctx.offers(READ_WEBHOOK):
            later.append((f"GET /v1/webhooks/{webhook.id}", _read_without_secret(ctx, webhook)))
        if ctx.offers(DELETE_WEBHOOK):
            deleted = webhook.delete()
            ctx.expect(deleted, SUCCESS, f"deleting webhook {webhook.id} failed", "2xx")
            later.append((f"DELETE /v1/webhooks/{webhook.id}", deleted))
        for what, response in later:
            if _shows(secret, response.text, response.headers):
                ctx.fail(
                    f"{what} shows the webhook's signing secret again",
                    response,
                    "the secret shown only at registration",
                )


def _listed_without_secret(ctx: CheckContext, webhook: _Webhook) -> httpx.Response:
    """``GET /v1/webhooks``: lists ``webhook`` without a secret field (the kit's assumptions)."""
    listed = ctx.send("GET", "/v1/webhooks", token=ctx.token())
    ctx.expect(listed, {200}, "listing webhooks failed", "200", basis="recommended")
    entries = [entry for entry in listed.json().get("data", []) if entry.get("id") == webhook.id]
    if not entries:
        ctx.fail(
            f"the new webhook {webhook.id} is not listed",
            listed,
            "the registered endpoint",
            basis="recommended",
        )
    if "secret" in entries[0]:
        ctx.fail(
            "GET /v1/webhooks shows a secret field again",
            listed,
            "no secret after registration",
            basis="recommended",
        )
    return listed


def _read_without_secret(ctx: CheckContext, webhook: _Webhook) -> httpx.Response:
    """``GET /v1/webhooks/{id}`` (when declared): ``webhook`` without a secret field."""
    read = ctx.send("GET", f"/v1/webhooks/{webhook.id}", token=ctx.token())
    ctx.expect(read, {200}, f"reading webhook {webhook.id} failed", "200", basis="recommended")
    try:
        body = read.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and "secret" in body:
        ctx.fail(
            f"GET /v1/webhooks/{webhook.id} shows a secret field again",
            read,
            "no secret after registration",
            basis="recommended",
        )
    return read


@check("webhook.signature", basis="documented")
def signature(ctx: CheckContext) -> None:
    """A delivery's X-Sergio-Signature verifies over the raw body; body and headers are as documented."""
    ctx.require(REGISTER, "to register the kit's receiver")
    ctx.require(CREATE_JOB, "to make the event a delivery is about")
    with _receiver(ctx) as receiver, _registered(ctx, receiver.url) as webhook, _created_job(ctx) as job:
        secret = webhook.secret
        delivery = _await_delivery(ctx, receiver, job)
        header = delivery.header(SIGNATURE)
        try:
            signatures.verify(header, delivery.body, secret, now=ctx.now())
        except signatures.SignatureError as error:
            # A MAC in the kit's own header form that does not verify is a broken signature; another
            # header, form or clock tolerance is a signing scheme the documentation leaves open.
            broken = (
                _REFERENCE_HEADER.match(header or "") is not None and error.reason == "signature mismatch"
            )
            _fail_delivery(
                f"the {EVENT} delivery's {SIGNATURE} does not verify over the raw body: {error.reason}",
                delivery,
                'v1 = HMAC-SHA256(secret, "<t>.<raw body>") with t within 300 s',
                basis="documented" if broken else "recommended",
            )
        # The event's body and headers are the kit's assumptions.
        try:
            event = json.loads(delivery.body)
        except ValueError:
            _fail_delivery(
                "the delivery body is not JSON", delivery, "a WebhookEvent JSON body", basis="recommended"
            )
        problems = [
            f"{'/'.join(map(str, e.instance_path)) or 'body'}: {e.message}"
            for e in _event_validator().iter_errors(event)
        ]
        if problems:
            _fail_delivery(
                f"the delivery body breaks the WebhookEvent schema: {problems[:3]}",
                delivery,
                "{id: evt_..., type, created_at, data: {object: Job}}",
                basis="recommended",
            )
        if event["type"] != EVENT or event["data"]["object"].get("id") != job.json()["id"]:
            what = f"the delivery is not the {EVENT} event of the job just created"
            _fail_delivery(what, delivery, EVENT, basis="recommended")
        if delivery.header("X-Sergio-Event") != event["type"]:
            what = "X-Sergio-Event is missing or differs from the body's type"
            _fail_delivery(what, delivery, EVENT, basis="recommended")
        if not (delivery.header("X-Sergio-Delivery") or "").strip():
            what = "the delivery has no X-Sergio-Delivery id"
            _fail_delivery(what, delivery, "a delivery id header", basis="recommended")
        if "application/json" not in (delivery.header("Content-Type") or ""):
            what = "the delivery is not sent as application/json"
            _fail_delivery(what, delivery, "application/json", basis="recommended")
        webhook.expect_secret_form()


@check("webhook.https_only", basis="recommended")
def https_only(ctx: CheckContext) -> str:
    """Registering an http:// webhook URL is refused with a 4xx, while its https:// twin is accepted
    (the host is a public-looking name under .invalid, so a refusal of loopback or private hosts, as
    an SSRF filter gives, cannot pass for the HTTPS rule).

    When the https:// twin is refused too, the target refuses the host rather than the scheme, and the
    check cannot judge: undecided (an error), never a pass. Whatever was registered is deleted.
    """
    ctx.require(REGISTER, "to register an http:// URL")
    plain = _register_and_remove(ctx, PLAIN_HTTP_HOOK)
    if not 400 <= plain.status_code < 500:
        ctx.fail(
            f"registering the plain-HTTP URL {PLAIN_HTTP_HOOK} answered {plain.status_code}",
            plain,
            "a 4xx refusal (deliveries must go over HTTPS)",
        )
    twin = _register_and_remove(ctx, HTTPS_TWIN)
    if not 200 <= twin.status_code < 300:
        raise CheckUndecided(
            f"{PLAIN_HTTP_HOOK} was refused ({plain.status_code}), but so was its https:// twin "
            f"{HTTPS_TWIN} ({twin.status_code}): the target refuses the host, so whether it refuses "
            "plain HTTP cannot be told"
        )
    return f"{PLAIN_HTTP_HOOK} refused ({plain.status_code}), its https:// twin accepted"


def _register_and_remove(ctx: CheckContext, url: str) -> httpx.Response:
    """``POST /v1/webhooks`` for ``url``; an endpoint it registered is deleted at once."""
    response = ctx.send("POST", "/v1/webhooks", token=ctx.token(), json={"url": url, "events": [EVENT]})
    if 200 <= response.status_code < 300:
        try:
            webhook_id = response.json().get("id")
        except (ValueError, AttributeError):
            webhook_id = None
        if isinstance(webhook_id, str) and webhook_id:
            with suppress(httpx.HTTPError):
                ctx.send("DELETE", f"/v1/webhooks/{webhook_id}", token=ctx.token())
    return response


# -- the kit's own verifier --------------------------------------------------------------------


@dataclass(frozen=True)
class _Sample:
    """A correctly signed delivery to attack: what came, under which secret, stamped when."""

    label: str
    header: str
    body: bytes
    secret: str
    timestamp: int


def _mac(secret: str, timestamp: int, body: bytes) -> str:
    """The reference v1 MAC, computed here so the verifier is never checked against itself."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _local_secrets() -> dict[str, str]:
    """Fresh secrets in each form a target may issue: hex, and standard base64 (``+``, ``/``, ``=``)
    as Standard Webhooks makes them; either way the whole string is the HMAC key, as published."""
    standard = "whsec_" + base64.b64encode(b"\xfb\xff" + secrets.token_bytes(30)).decode()  # +/ and =
    return {"hex": "whsec_" + secrets.token_hex(24), "standard base64": standard}


def _local_sample(form: str, secret: str) -> _Sample:
    """A job.created event signed here with ``secret`` (a fresh one in ``form``)."""
    now = int(time.time())
    job = {**DEFAULT_SAMPLES.job(local_today()), "id": "job_" + secrets.token_hex(6), "status": "scheduled"}
    event = {
        "id": "evt_" + secrets.token_hex(10),
        "type": EVENT,
        "created_at": "2026-01-30T12:00:00Z",
        "data": {"object": job},
    }
    body = json.dumps(event, separators=(",", ":")).encode()
    label = f"a locally signed sample, {form} secret"
    return _Sample(label, f"t={now},v1={_mac(secret, now, body)}", body, secret, now)


def _real_sample(ctx: CheckContext) -> _Sample | None:
    """A real delivery, if the target can reach the kit's receiver and signed it correctly.

    Whatever the target gets wrong here is reported by ``webhook.registration`` and
    ``webhook.signature``; this check then attacks the locally signed sample only (so too when the
    contract lacks the operations that make a delivery).
    """
    if not (ctx.offers(REGISTER) and ctx.offers(CREATE_JOB)):
        return None
    try:
        receiver = ctx.receiver()
    except CheckSkipped:
        return None
    try:
        with _registered(ctx, receiver.url) as webhook, _created_job(ctx) as job:
            secret = webhook.secret
            delivery = _delivery_about(receiver, str(job.json()["id"]))
    except CheckFailed:
        return None
    finally:
        receiver.stop()
    header = delivery.header(SIGNATURE) if delivery is not None else None
    match = _REFERENCE_HEADER.match(header or "")
    if delivery is None or header is None or match is None:
        return None
    timestamp = int(match.group(1))
    if not hmac.compare_digest(match.group(2), _mac(secret, timestamp, delivery.body)):
        return None
    return _Sample("a real delivery", header, delivery.body, secret, timestamp)


def _reserialized(body: bytes) -> list[bytes]:
    """The same JSON document in other bytes: what a receiver that parses first would verify."""
    document = json.loads(body)
    variants = [
        json.dumps(document).encode(),
        json.dumps(document, sort_keys=True, separators=(",", ":")).encode(),
        json.dumps(document, indent=2).encode(),
        body + b"\n",
    ]
    return [variant for variant in variants if variant != body]


def _attack(ctx: CheckContext, sample: _Sample) -> None:
    """Run every forgery of ``sample`` through the kit's verifier; fail on the first it accepts."""
    t, body, secret, header = sample.timestamp, sample.body, sample.secret, sample.header

    def resigned(timestamp: int) -> str:
        return f"t={timestamp},v1={_mac(secret, timestamp, body)}"

    def accepts(case: str, now: int) -> None:
        try:
            signatures.verify(header, body, secret, now=now)
        except signatures.SignatureError as error:
            ctx.fail(
                f"the kit's verifier rejected {case} ({sample.label}): {error.reason}", expected="accepted"
            )

    def rejects(case: str, forged_header: str | None, forged_body: bytes, key: str, now: int) -> None:
        try:
            signatures.verify(forged_header, forged_body, key, now=now)
        except signatures.SignatureError:
            return
        except Exception as error:
            ctx.fail(
                f"the kit's verifier crashed on {case} ({sample.label}): {type(error).__name__}",
                expected="a SignatureError",
            )
        ctx.fail(f"the kit's verifier accepted {case} ({sample.label})", expected="a SignatureError")

    accepts("the genuine signature", t)
    accepts(f"a signature {TOLERANCE} s old", t + TOLERANCE)
    accepts(f"a signature {TOLERANCE} s ahead", t - TOLERANCE)
    for position in (0, len(body) // 2, len(body) - 1):
        changed = bytearray(body)
        changed[position] ^= 0x01
        rejects(f"the body with byte {position} changed", header, bytes(changed), secret, t)
    for number, variant in enumerate(_reserialized(body), 1):
        rejects(f"the body re-serialized (variant {number})", header, variant, secret, t)
    rejects("a different secret", header, body, "whsec_" + secrets.token_hex(24), t)
    rejects("a truncated secret", header, body, secret[:-1], t)
    for missing in (None, "", "   "):
        rejects(f"a missing signature header ({missing!r})", missing, body, secret, t)
    rejects(f"a timestamp {TOLERANCE + 1} s old", header, body, secret, t + TOLERANCE + 1)
    rejects(f"a timestamp {TOLERANCE + 1} s ahead", header, body, secret, t - TOLERANCE - 1)
    rejects("a re-signed stale timestamp", resigned(t - TOLERANCE - 1), body, secret, t)
    rejects("a re-signed future timestamp", resigned(t + TOLERANCE + 1), body, secret, t)
    rejects("a re-signed timestamp in milliseconds", resigned(t * 1000), body, secret, t)
    for scheme in ("v0", "v2", "sha256"):
        rejects(
            f"the MAC under the unknown scheme {scheme}=",
            header.replace("v1=", f"{scheme}="),
            body,
            secret,
            t,
        )
    rejects("a header with no signature", f"t={t}", body, secret, t)
    rejects("a header with no timestamp", f"v1={_mac(secret, t, body)}", body, secret, t)

    def spied(case: str, run: Callable[[], None]) -> None:
        with mock.patch("hmac.compare_digest", wraps=hmac.compare_digest) as compare:
            run()
        if not compare.called:
            ctx.fail(
                f"the kit's verifier decided {case} ({sample.label}) without hmac.compare_digest",
                expected="a constant-time comparison",
                basis="recommended",
            )

    spied("the genuine signature", lambda: accepts("the genuine signature", t))
    other = "whsec_" + secrets.token_hex(24)
    spied("a different secret", lambda: rejects("a different secret", header, body, other, t))


@check("webhook.verifier", basis="documented")
def verifier(ctx: CheckContext) -> None:
    """The kit's verifier rejects changed bytes, re-serialized JSON, wrong secrets, bad times and schemes."""
    samples = [_local_sample(form, secret) for form, secret in _local_secrets().items()]
    real = _real_sample(ctx)
    if real is not None:
        samples.append(real)
    for sample in samples:
        _attack(ctx, sample)
