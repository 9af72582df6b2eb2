"""The judgements of issue 12's rules that the reference server alone cannot show: a target that
refuses a webhook host for another reason than its scheme, a webhook read that shows the secret, a
server that answers a token outside the header as it answers a wrong one, and a token in a URL kept
out of the finding's curl line.

Each target here is an ``httpx.MockTransport`` behind a real :class:`CheckContext`; the checks'
proofs against the reference server (pass when clean, fail on each fault) are in
``test_check_proofs.py``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest

from sergio_kit.checks.auth.bearer import bearer_placement
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.webhook import HTTPS_TWIN, PLAIN_HTTP_HOOK, READ_WEBHOOK, https_only, secret_once
from sergio_kit.contract.document import Operation
from sergio_kit.contract.samples import WEBHOOK_SINK
from sergio_kit.reports.findings import CheckFailed, CheckSkipped, CheckUndecided, curl_command
from sergio_kit.target.target import Account, Target

BASE_URL = "https://sergio.test"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1c3JfMSJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"
SECRET = "whsec_" + "ab" * 24
SINK_ID = f"whk_{len(WEBHOOK_SINK)}"  # the id :func:`registering` gives the sample sink
Handler = Callable[[httpx.Request], httpx.Response]


@contextmanager
def mocked(handler: Handler, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[CheckContext, list[str]]]:
    """A context whose target is ``handler`` and whose bearer token is :data:`TOKEN`; yields it and
    the list of ``METHOD path`` it was sent (the context's clean-up included)."""
    seen: list[str] = []

    def recording(request: httpx.Request) -> httpx.Response:
        seen.append(f"{request.method} {request.url.path}")
        return handler(request)

    target = Target(base_url=BASE_URL, account=Account("qa@example.com", "unused"))
    context = CheckContext(target)
    context.client.close()
    context.client = httpx.Client(base_url=BASE_URL, transport=httpx.MockTransport(recording))
    monkeypatch.setattr(context, "token", lambda tenant="primary": TOKEN)
    try:
        yield context, seen
    finally:
        context.close()


def registering(statuses: dict[str, int], extra: Handler | None = None) -> Handler:
    """A webhook API: POST /v1/webhooks answers ``statuses[url]`` (201 with an id and a secret);
    DELETE answers 204; anything else goes to ``extra`` (404 without it)."""

    def handle(request: httpx.Request) -> httpx.Response:
        if request.method == "POST" and request.url.path == "/v1/webhooks":
            url = json.loads(request.content)["url"]
            status = statuses.get(url, 201)
            if status != 201:
                return httpx.Response(status, json={"error": {"code": "validation_error", "message": "no"}})
            body = {"id": "whk_" + str(len(url)), "url": url, "events": ["job.created"]}
            return httpx.Response(201, json={**body, "created_at": "2026-01-30T12:00:00Z", "secret": SECRET})
        if request.method == "DELETE" and request.url.path.startswith("/v1/webhooks/"):
            return httpx.Response(204)
        return extra(request) if extra is not None else httpx.Response(404)

    return handle


# -- webhook.https_only --------------------------------------------------------------------------


def test_https_only_is_undecided_when_the_https_twin_is_refused_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """A target that refuses the host (both schemes) gives no verdict on plain HTTP: undecided."""
    refusing = registering({PLAIN_HTTP_HOOK: 422, HTTPS_TWIN: 422})
    with mocked(refusing, monkeypatch) as (context, _), pytest.raises(CheckUndecided, match="https:// twin"):
        https_only(context)


def test_https_only_passes_when_only_plain_http_is_refused_and_deletes_the_twin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """http:// refused and the https:// twin accepted: a pass, and the twin is deleted at once."""
    with mocked(registering({PLAIN_HTTP_HOOK: 422}), monkeypatch) as (context, seen):
        assert https_only(context) == f"{PLAIN_HTTP_HOOK} refused (422), its https:// twin accepted"
        assert seen == [
            "POST /v1/webhooks",
            "POST /v1/webhooks",
            f"DELETE /v1/webhooks/whk_{len(HTTPS_TWIN)}",
        ]


def test_https_only_fails_on_an_accepted_http_url_and_deletes_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """An accepted http:// URL fails the check, whatever the twin, and is deleted."""
    with mocked(registering({}), monkeypatch) as (context, seen):
        with pytest.raises(CheckFailed, match=re.escape(f"plain-HTTP URL {PLAIN_HTTP_HOOK} ")):
            https_only(context)
        assert seen == ["POST /v1/webhooks", f"DELETE /v1/webhooks/whk_{len(PLAIN_HTTP_HOOK)}"]


def test_the_https_only_hosts_resolve_nowhere() -> None:
    """Both URLs name a host under .invalid (RFC 6761): no delivery can ever reach anyone."""
    for url in (PLAIN_HTTP_HOOK, HTTPS_TWIN):
        assert (httpx.URL(url).host or "").endswith(".invalid")


# -- webhook.secret_once -------------------------------------------------------------------------


def listing(secret_in_read: bool) -> Handler:
    """GET /v1/webhooks lists the endpoint without its secret; GET /v1/webhooks/{id} reads it, with
    the secret when ``secret_in_read``."""

    def handle(request: httpx.Request) -> httpx.Response:
        entry: dict[str, Any] = {"id": SINK_ID, "url": WEBHOOK_SINK, "events": ["job.created"]}
        if request.url.path == "/v1/webhooks":
            return httpx.Response(200, json={"data": [entry]})
        return httpx.Response(200, json={**entry, "secret": SECRET} if secret_in_read else entry)

    return handle


def declaring_read(context: CheckContext) -> None:
    """Make the contract in force declare reading one webhook (the packaged one does not)."""
    read = Operation("getWebhook", "GET", "/v1/webhooks/{webhook_id}", "read", ("bearerAuth",), None)
    assert read.label == READ_WEBHOOK
    context.operations.append(read)


@pytest.mark.parametrize("secret_in_read", [False, True])
def test_secret_once_reads_one_webhook_when_the_contract_declares_it(
    secret_in_read: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With GET /v1/webhooks/{webhook_id} declared, the read must not show the secret either (a
    recommended rule: a warning), and the endpoint is deleted afterwards."""
    with mocked(registering({}, listing(secret_in_read)), monkeypatch) as (context, seen):
        declaring_read(context)
        if secret_in_read:
            with pytest.raises(
                CheckFailed, match=r"GET /v1/webhooks/whk_\d+ shows a secret field"
            ) as failure:
                secret_once(context)
            assert failure.value.basis == "recommended"
            assert SECRET not in json.dumps(failure.value.finding.as_dict())
        else:
            secret_once(context)
        assert any(line.startswith("GET /v1/webhooks/whk_") for line in seen)
        assert any(line.startswith("DELETE /v1/webhooks/whk_") for line in seen)


def test_secret_once_skips_without_a_listing_or_a_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nowhere to look for the secret again: a skip naming both operations, before any request."""
    with mocked(registering({}), monkeypatch) as (context, seen):
        context.operations = [op for op in context.operations if op.label != "GET /v1/webhooks"]
        with pytest.raises(
            CheckSkipped, match=r"does not declare GET /v1/webhooks or GET /v1/webhooks/\{webhook_id\}"
        ):
            secret_once(context)
        assert seen == []


# -- auth.bearer.placement -----------------------------------------------------------------------


def answering(with_token: int, with_wrong_token: int) -> Handler:
    """A server that answers a request carrying :data:`TOKEN` outside the header ``with_token`` and
    one carrying any other token there ``with_wrong_token``."""

    def handle(request: httpx.Request) -> httpx.Response:
        assert "authorization" not in request.headers
        carried = request.url.params.get("access_token") or request.content.decode()
        return httpx.Response(with_token if TOKEN in carried else with_wrong_token, json={})

    return handle


def test_placement_passes_when_the_token_makes_no_difference(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that refuses both requests alike (400 for an unknown parameter, before any
    authentication) did not take the token: a pass."""
    with mocked(answering(400, 400), monkeypatch) as (context, seen):
        bearer_placement(context)
    assert seen == ["GET /v1/jobs", "GET /v1/jobs", "POST /v1/jobs", "POST /v1/jobs"]


def test_placement_warns_when_the_token_authenticates(monkeypatch: pytest.MonkeyPatch) -> None:
    """200 for the real token where a wrong one gets 401: the token in the query string authenticated;
    the finding's curl masks it."""
    authenticated = pytest.raises(CheckFailed, match="query string")
    with mocked(answering(200, 401), monkeypatch) as (context, _), authenticated as failure:
        bearer_placement(context)
    finding = json.dumps(failure.value.finding.as_dict())
    assert TOKEN not in finding and "access_token=[jwt " in failure.value.finding.curl


def test_a_token_in_the_url_is_masked_in_the_curl_line() -> None:
    """A finding's curl line never shows a token carried in the query string."""
    request = httpx.Request("GET", f"{BASE_URL}/v1/jobs", params={"access_token": TOKEN, "limit": 1})
    line = curl_command(request)
    assert TOKEN not in line and "limit=1" in line
