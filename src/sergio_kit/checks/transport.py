"""``transport.*``: HTTPS only, and the kit itself verifies certificates."""

from __future__ import annotations

import socket
import ssl
import tempfile
import threading
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import trustme

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check


def plain_http_url(ctx: CheckContext) -> str:
    """Where to probe plain HTTP: the configured URL, else the base URL with ``http://``."""
    if ctx.target.http_url:
        return ctx.target.http_url
    parts = urlsplit(ctx.target.base_url)
    return urlunsplit(("http", parts.netloc, parts.path, "", ""))


@check("transport.https_only", basis="documented")
def https_only(ctx: CheckContext) -> None:
    """Every operation over plain HTTP: no 2xx, no redirect, and a valid login issues no token."""
    token = ctx.token()
    account = ctx.account()
    redirected: list[tuple[str, httpx.Response]] = []
    with httpx.Client(base_url=plain_http_url(ctx), timeout=10.0, follow_redirects=False) as plain:
        for operation in ctx.operations:
            method, path, body = ctx.request_for(operation)
            if operation.operation_id == "login":
                body = {"email": account.email, "password": account.password}
            headers = {"Authorization": f"Bearer {token}"}
            try:
                response = plain.request(method, path, json=body, headers=headers)
            except httpx.TransportError:
                continue  # refused or reset: nothing was served over plain HTTP
            if "token" in response.text and operation.operation_id == "login":
                ctx.fail("a login over plain HTTP returned a token", response, "no token")
            if response.status_code < 300:
                ctx.fail(
                    f"{operation.label} was served over plain HTTP", response, "a 4xx refusal or no answer"
                )
            if response.status_code < 400:
                redirected.append((operation.label, response))
    if redirected:  # not served, so the published rule holds; refusing outright is the kit's assumption
        label, response = redirected[0]
        ctx.fail(
            f"{label} over plain HTTP was redirected ({response.status_code}), not refused"
            + (f", like {len(redirected) - 1} other operation(s)" if len(redirected) > 1 else ""),
            response,
            "a 4xx refusal or no answer (a redirect lets clients send credentials in clear first)",
            basis="recommended",
        )


@check("transport.tls_verified", basis="standard")
def tls_verified(ctx: CheckContext) -> None:
    """The kit's client refuses a server whose certificate its CA bundle does not vouch for."""
    context = ctx.target.ssl_context()
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        ctx.fail(
            "the kit's TLS context does not verify certificates and host names", expected="CERT_REQUIRED"
        )
    with _untrusted_tls_server() as url, httpx.Client(verify=context, timeout=10.0) as client:
        try:
            client.get(url)
        except httpx.ConnectError as error:
            if "CERTIFICATE_VERIFY_FAILED" in str(error) or "certificate" in str(error).lower():
                return
            ctx.fail(f"connecting to an untrusted server failed for another reason: {error}")
        ctx.fail(
            f"the kit accepted a certificate from an unknown CA at {url}", expected="a TLS verification error"
        )


class _untrusted_tls_server:
    """A loopback TLS listener whose certificate comes from a throwaway CA nobody trusts."""

    def __enter__(self) -> str:
        ca = trustme.CA()
        self._dir = tempfile.TemporaryDirectory()
        pem = Path(self._dir.name) / "rogue.pem"
        ca.issue_cert("127.0.0.1", "localhost").private_key_and_cert_chain_pem.write_to_path(str(pem))
        server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        server_context.load_cert_chain(str(pem))
        self._socket = socket.create_server(("127.0.0.1", 0))
        self._socket.settimeout(10)
        port = self._socket.getsockname()[1]
        self._thread = threading.Thread(target=self._serve_once, args=(server_context,), daemon=True)
        self._thread.start()
        return f"https://127.0.0.1:{port}/"

    def _serve_once(self, context: ssl.SSLContext) -> None:
        try:
            connection, _ = self._socket.accept()
            with context.wrap_socket(connection, server_side=True) as tls:
                tls.recv(1024)
                tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")
        except (OSError, ssl.SSLError):
            pass

    def __exit__(self, *exc: object) -> None:
        self._socket.close()
        self._thread.join(timeout=5)
        self._dir.cleanup()
