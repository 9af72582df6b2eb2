"""``transport.https_only``'s probe: no live credential over plaintext, and a verdict only on an answer
it could judge (a refused connection passes with that detail; a DNS failure, a timeout or connections
all closed without an HTTP answer, as the HTTPS port closes them, are an error)."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.transport import https_only
from sergio_kit.reports.findings import CheckSkipped, CheckUndecided
from sergio_kit.target.target import Account, Target

PASSWORD = "the-real-password-1"


def context_probing(http_url: str) -> CheckContext:
    """A check context whose target's plain-HTTP address is ``http_url`` (its HTTPS side is never used)."""
    target = Target(
        base_url="https://127.0.0.1:9", account=Account("admin@acme.test", PASSWORD), http_url=http_url
    )
    return CheckContext(target)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def refusing_server(seen: list[dict[str, Any]], closing: frozenset[str] = frozenset()) -> Iterator[str]:
    """A plain-HTTP server answering everything 403 (closing the connection without an answer for the
    methods in ``closing``), recording each request's headers and body."""

    class Refuse(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            seen.append({"headers": dict(self.headers), "body": body.decode()})
            if self.command in closing:
                self.close_connection = True
                return
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_PATCH = do_DELETE = _answer

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_refused_connection_passes_with_that_detail() -> None:
    """Nothing listens on the plain-HTTP port: a pass, and the detail says so."""
    url = f"http://127.0.0.1:{closed_port()}"
    ctx = context_probing(url)
    try:
        assert https_only(ctx) == f"connection refused at {url}: nothing listens on plain HTTP"
    finally:
        ctx.close()


def test_a_name_that_does_not_resolve_is_an_error() -> None:
    """A DNS failure is no answer to judge: CheckUndecided (an ``error`` result), saying so."""
    ctx = context_probing("http://sergio-kit-probe.invalid")
    try:
        with pytest.raises(CheckUndecided, match="could not connect: its host name does not resolve"):
            https_only(ctx)
    finally:
        ctx.close()


def test_a_timeout_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A server that never answers: CheckUndecided naming the timeout."""
    monkeypatch.setattr("sergio_kit.checks.transport.PROBE_TIMEOUT", 0.3)
    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        ctx = context_probing(f"http://127.0.0.1:{silent.getsockname()[1]}")
        try:
            with pytest.raises(CheckUndecided, match="timed out"):
                https_only(ctx)
        finally:
            ctx.close()


def test_the_probe_sends_no_live_credential() -> None:
    """Every operation is probed with a forged bearer token and no real password; refusals pass."""
    seen: list[dict[str, Any]] = []
    with refusing_server(seen) as url:
        ctx = context_probing(url)
        try:
            assert https_only(ctx) == f"{url} refused every operation"
        finally:
            ctx.close()
    assert len(seen) == len(ctx.operations)
    assert not any(PASSWORD in json.dumps(request) for request in seen)
    tokens = {request["headers"]["Authorization"] for request in seen}
    assert len(tokens) == 1 and next(iter(tokens)).startswith("Bearer ey")  # one forged JWT


def test_the_embedded_plain_listener_is_judged(server: Any) -> None:
    """The reference server's plain-HTTP listener answers 403 https_required: the probe passes."""
    from sergio_kit.target.embedded import embedded_target

    ctx = CheckContext(embedded_target(server))
    try:
        assert https_only(ctx) == f"{server.http_url} refused every operation"
    finally:
        ctx.close()
        ctx.target.close()


def test_connections_all_closed_without_an_answer_are_an_error() -> None:
    """A listener that closes every connection without an HTTP answer was never judged: CheckUndecided,
    not a pass."""
    seen: list[dict[str, Any]] = []
    methods = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE"})
    with refusing_server(seen, closing=methods) as url:
        ctx = context_probing(url)
        try:
            with pytest.raises(CheckUndecided, match=r"got no HTTP answer: all .* closed without one"):
                https_only(ctx)
        finally:
            ctx.close()
    assert seen  # the probe did reach the listener


def test_some_closed_connections_among_refusals_pass_with_that_detail() -> None:
    """Connections closed without an answer beside 403 refusals: nothing was served, a pass saying so."""
    seen: list[dict[str, Any]] = []
    with refusing_server(seen, closing=frozenset({"DELETE"})) as url:
        ctx = context_probing(url)
        try:
            detail = https_only(ctx)
        finally:
            ctx.close()
    closed = sum(operation.method == "DELETE" for operation in ctx.operations)
    assert closed and detail == (
        f"{url} closed {closed} connection(s) without an answer and refused the other requests"
    )


def test_the_https_port_probed_over_plain_http_is_an_error(server: Any) -> None:
    """The base URL with http:// and the same port (the default of SERGIO_HTTP_URL for a base URL with
    a port) reaches the HTTPS listener, which closes plain-HTTP connections: an error naming that, never
    a pass."""
    from sergio_kit.target.embedded import embedded_target

    target = embedded_target(server)
    target.http_url = server.base_url.replace("https://", "http://", 1)
    ctx = CheckContext(target)
    try:
        with pytest.raises(CheckUndecided, match="is the HTTPS listener's own address"):
            https_only(ctx)
    finally:
        ctx.close()
        ctx.target.close()


def test_a_contract_without_operations_is_skipped() -> None:
    """Nothing to probe is no pass: the check skips, saying why."""
    ctx = context_probing(f"http://127.0.0.1:{closed_port()}")
    ctx.operations = []
    try:
        with pytest.raises(CheckSkipped, match="no operation to probe"):
            https_only(ctx)
    finally:
        ctx.close()
