"""Inside a check, each rule is judged on its own basis, and a published one first.

A check stops at its first breach, so a check that judges rules of several bases judges the
documented and standard ones before the recommended ones; and what a correct deployment may choose
instead of the kit's assumption (a 400 for a malformed key, a redirect away from plain HTTP, a secret
without the whsec_ prefix, no key-management endpoints) warns or skips, never fails. A scripted
context (no server) answers as such a deployment, and the breach reported must have that basis.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from sergio_kit.checks import apikey, refresh
from sergio_kit.checks.auth.login import login_enumeration
from sergio_kit.checks.context import PRIMARY, CheckContext
from sergio_kit.checks.ratelimit.probe import TierRun, judge_retry_after
from sergio_kit.checks.transport import https_only
from sergio_kit.checks.webhook import _Webhook
from sergio_kit.contract.document import Operation, operations
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.target.target import Account
from sergio_kit.target.throttling import Throttle

BASE = "https://sergio.test"
Answer = Callable[[str, str, dict[str, Any]], httpx.Response]


def response(
    status: int, method: str = "GET", path: str = "/", body: Any = None, **headers: str
) -> httpx.Response:
    """A response to ``method path`` with a JSON ``body``."""
    content = b"" if body is None else json.dumps(body).encode()
    return httpx.Response(
        status, headers=headers, content=content, request=httpx.Request(method, BASE + path)
    )


class ScriptedContext(CheckContext):
    """A check context whose requests ``answer`` answers: no target, no network."""

    def __init__(self, answer: Answer) -> None:  # no super().__init__: nothing to connect to
        self.answer = answer
        self.target = SimpleNamespace(account=Account("admin@acme.test", "pw"), now=lambda: 0.0)
        self.operations = operations()
        self.throttle = Throttle(None)
        self._keys, self._cleanup = {}, []
        self.memo: dict[str, Any] = {}  # what checks of a run share (refresh.rotation's refresh)

        def raw(request: httpx.Request) -> httpx.Response:  # what checks send past ``send``
            options = {"headers": request.headers}
            return answer(request.method, request.url.path, options)

        self.client = httpx.Client(base_url=BASE, transport=httpx.MockTransport(raw))

    def send(self, method: str, path: str, **options: Any) -> httpx.Response:
        return self.answer(method, path, options)

    def token(self, tenant: str = PRIMARY) -> str:
        return "access-token"

    def request_for(self, operation: Operation, tenant: str = PRIMARY) -> tuple[str, str, Any]:
        return operation.method, re.sub(r"\{[a-z_]+\}", "x_1", operation.path), None

    def login(self, tenant: str = PRIMARY) -> dict[str, Any]:
        return {"token": "a.b.c", "refresh_token": "refresh-1"}


def breach(run: Callable[[], object], about: str) -> CheckFailed:
    """The breach ``run`` reports, whose message says ``about`` (a regular expression: the rule it
    judged, so a breach of another rule or of a setup step is not taken for it)."""
    with pytest.raises(CheckFailed) as failure:
        run()
    assert re.search(about, failure.value.finding.message), failure.value.finding.message
    return failure.value


def test_refresh_rotation_judges_the_refreshed_token_before_rotation() -> None:
    """No rotated refresh token (recommended) and a refreshed token that is refused (documented):
    the refused token is the breach."""

    def answer(method: str, path: str, options: dict[str, Any]) -> httpx.Response:
        if path == refresh.REFRESH:
            return response(200, method, path, {"token": "d.e.f", "expires_at": "2026-01-30T13:00:00Z"})
        return response(401, method, path, {"error": {"code": "unauthorized"}})

    failure = breach(lambda: refresh.rotation(ScriptedContext(answer)), "issued by refresh was refused")
    assert failure.basis == "documented"


def test_retry_after_judges_the_second_429_before_the_range() -> None:
    """A first 429 with a Retry-After beyond the window (recommended) and a second request admitted
    (the published 429): the admitted request is the breach."""
    ctx = ScriptedContext(lambda method, path, options: response(500))
    run = TierRun(SimpleNamespace(label="read tier"), quota=120)  # type: ignore[arg-type]
    run.first_429 = response(429, **{"Retry-After": "120"})
    run.second_429 = response(200)
    failure = breach(lambda: judge_retry_after(ctx, run), "another request after the first 429: got 200")
    assert failure.basis is None  # the check's own rule: retry_after is documented
    run.second_429 = response(429, **{"Retry-After": "120"})
    assert breach(lambda: judge_retry_after(ctx, run), "Retry-After '120' means 120 s").basis == "recommended"


def test_a_webhook_secret_of_another_form_is_only_a_warning() -> None:
    """A signing secret without the assumed whsec_ prefix is usable; its form is judged on its own,
    as a recommended rule, and a missing secret is a documented breach."""
    ctx = ScriptedContext(lambda method, path, options: response(500))
    webhook = _Webhook(ctx, response(201, "POST", "/v1/webhooks", {"id": "wh_1", "secret": "s3cr3t"}))
    assert webhook.secret == "s3cr3t"
    assert breach(webhook.expect_secret_form, "did not show a whsec_ signing secret").basis == "recommended"
    missing = _Webhook(ctx, response(201, "POST", "/v1/webhooks", {"id": "wh_2"}))
    assert breach(lambda: missing.secret, "did not show a signing secret").basis == "documented"


def test_a_login_that_accepts_a_wrong_password_fails() -> None:
    """auth.login.enumeration is recommended, but a login that lets a wrong password in breaks the
    published login, and fails."""

    def answer(method: str, path: str, options: dict[str, Any]) -> httpx.Response:
        return response(200, method, path, {"token": "a.b.c"})

    failure = breach(
        lambda: login_enumeration(ScriptedContext(answer)), "login with .* was not refused: got 200"
    )
    assert failure.basis == "documented"


def test_a_check_of_its_own_keys_skips_without_key_management() -> None:
    """apikey.revoked and apikey.rotated create keys of their own: without the (assumed) key
    endpoints they are skipped, as every other check needing keys is, not failed."""

    def answer(method: str, path: str, options: dict[str, Any]) -> httpx.Response:
        return response(404, method, path, {"error": {"code": "not_found"}})

    with pytest.raises(CheckSkipped, match="API-key management"):
        apikey.create_key(ScriptedContext(answer), ["jobs:read"], "sergio-kit test")


def test_a_malformed_key_refused_with_400_is_only_a_warning() -> None:
    """A malformed X-API-Key answered 400 (the HTTP layer's refusal) rather than the assumed 401 is
    refused all the same: a recommended breach; a malformed key that is served is a documented one."""
    real = "sk_live_" + "a1" * 20

    def answer(method: str, path: str, options: dict[str, Any]) -> httpx.Response:
        if path == "/v1/api-keys":
            return response(201, method, path, {"id": "key_1", "key": real})
        key = options.get("headers", {}).get("X-API-Key")
        return response(200 if key == real else 400, method, path, {"error": {"code": "invalid_request"}})

    failure = breach(lambda: apikey.malformed(ScriptedContext(answer)), "malformed key .*: 400, not 401")
    assert failure.basis == "recommended"

    def serves(method: str, path: str, options: dict[str, Any]) -> httpx.Response:
        if path == "/v1/api-keys":
            return response(201, method, path, {"id": "key_1", "key": real})
        return response(200, method, path, [])

    failure = breach(
        lambda: apikey.malformed(ScriptedContext(serves)), "malformed key .* was not refused: got 200"
    )
    assert failure.basis is None  # the check's: documented


@contextmanager
def plain_http_server(status: int) -> Iterator[str]:
    """A plain-HTTP listener answering every request with ``status`` (a redirect to HTTPS for 3xx)."""

    class Answer(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(status)
            self.send_header("Location", "https://sergio.test" + self.path)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(("status", "basis"), [(308, "recommended"), (200, None)])
def test_plain_http_redirected_is_only_a_warning(status: int, basis: str | None) -> None:
    """Plain HTTP redirected to HTTPS serves nothing (the published rule holds; refusing outright is
    the kit's assumption); plain HTTP served is the check's documented breach."""
    ctx = ScriptedContext(lambda method, path, options: response(500))
    with plain_http_server(status) as url:
        ctx.target.http_url = url
        about = "was redirected" if basis == "recommended" else "was served over plain HTTP"
        assert breach(lambda: https_only(ctx), about).basis == basis
