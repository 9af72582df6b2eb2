"""``transport.*``: HTTPS only, and the kit itself verifies certificates."""

from __future__ import annotations

import re
import secrets
import socket
import ssl
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import jwt
import trustme

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.contract.samples import sample_body
from sergio_kit.reports.findings import CheckSkipped, CheckUndecided

LOGIN = "POST /v1/auth/login"
PROBE_TIMEOUT = 10.0  # seconds to connect and to wait for each plain-HTTP answer
#: How the resolver's errors read (glibc, macOS, Windows): the probe's host name does not resolve.
DNS_FAILURES = ("name or service not known", "nodename nor servname", "getaddrinfo", "name resolution")
PATH_PARAMETER = re.compile(r"\{([^}]+)\}")
PLACEHOLDER_IDS = {  # ids the probe puts in paths: nothing real is needed where nothing may be served
    "job_id": "job_sergiokitprobe",
    "webhook_id": "wh_sergiokitprobe",
    "key_id": "key_sergiokitprobe",
}


def plain_http_url(ctx: CheckContext) -> str:
    """Where to probe plain HTTP: the configured URL (``SERGIO_HTTP_URL``, which the settings derive from
    a live target's base URL; the embedded server's plain listener), else the base URL with ``http://``."""
    if ctx.target.http_url:
        return ctx.target.http_url
    parts = urlsplit(ctx.target.base_url)
    return urlunsplit(("http", parts.netloc, parts.path, "", ""))


def forged_token() -> str:
    """A well-formed bearer token no target issued (signed with a throwaway key): what the plain-HTTP
    probe sends instead of a live one, which plaintext would expose."""
    claims = {"sub": "sergio-kit-plain-http-probe", "iat": int(time.time()), "exp": int(time.time()) + 3600}
    return jwt.encode(claims, secrets.token_bytes(32), algorithm="HS256")


@check("transport.https_only", basis="documented")
def https_only(ctx: CheckContext) -> str | None:
    """Every operation over plain HTTP: no 2xx, no redirect. The probe sends no live credential (a wrong
    password, a forged token); a refused connection passes (nothing listens on plain HTTP), a DNS
    failure, a timeout or connections all closed without an HTTP answer (as the HTTPS port does) are an
    error: the probe got no answer to judge."""
    url = plain_http_url(ctx)
    if not ctx.operations:
        raise CheckSkipped("the contract declares no operation to probe over plain HTTP")
    headers = {"Authorization": f"Bearer {forged_token()}"}
    redirected: list[tuple[str, httpx.Response]] = []
    closed = answered = 0
    with httpx.Client(base_url=url, timeout=PROBE_TIMEOUT, follow_redirects=False) as plain:
        for operation in ctx.operations:
            path = PATH_PARAMETER.sub(
                lambda m: PLACEHOLDER_IDS.get(m.group(1), "sergiokitprobe"), operation.path
            )
            try:
                body = sample_body(operation.operation_id)  # no real credential, no live token
                response = plain.request(operation.method, path, json=body, headers=headers)
            except httpx.ConnectError as error:
                if _refused(error):
                    return f"connection refused at {url}: nothing listens on plain HTTP"
                raise CheckUndecided(
                    f"the plain-HTTP probe of {url} could not connect: {_reason(error)}"
                ) from None
            except httpx.TimeoutException:
                raise CheckUndecided(
                    f"the plain-HTTP probe of {url} timed out after {PROBE_TIMEOUT:.0f} s "
                    f"({operation.label}): no answer to judge, as when a firewall drops the port; set "
                    "SERGIO_HTTP_URL to where plain HTTP would be served, or check that address"
                ) from None
            except httpx.TransportError:
                closed += 1  # connected, then closed or reset without an answer: nothing was served
                continue
            answered += 1
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
    if not answered:
        raise CheckUndecided(no_http_answer(ctx, url, closed))
    if closed:
        return f"{url} closed {closed} connection(s) without an answer and refused the other requests"
    return f"{url} refused every operation"


def no_http_answer(ctx: CheckContext, url: str, closed: int) -> str:
    """Why a probe whose every connection was closed without an HTTP answer judged nothing: something
    listens there that does not speak plain HTTP (the HTTPS listener, when ``url`` is its address)."""
    reason = (
        f"the plain-HTTP probe of {url} got no HTTP answer: all {closed} connection(s) were closed "
        "without one, so it cannot tell whether plain HTTP is refused"
    )
    if _listener(url) == _listener(ctx.target.base_url):
        reason += (
            f"; {url} is the HTTPS listener's own address ({ctx.target.base_url} with http://), which "
            "closes plain-HTTP connections"
        )
    return reason + "; set SERGIO_HTTP_URL to where plain HTTP would be served, or check that address"


def _listener(url: str) -> tuple[str, int | None]:
    """The host and port ``url`` connects to (the scheme's default port when it names none)."""
    parts = urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    return (parts.hostname or "").lower(), parts.port or default


def _refused(error: httpx.ConnectError) -> bool:
    """Whether the connection was refused (the host answered: nothing listens on that port)."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return True
        cause = cause.__cause__ or cause.__context__
    return "refused" in str(error).lower()


def _reason(error: httpx.ConnectError) -> str:
    """What went wrong in words: a host name that does not resolve, or the error itself."""
    text = str(error) or type(error).__name__
    if any(sign in text.lower() for sign in DNS_FAILURES):
        return f"its host name does not resolve ({text}); set SERGIO_HTTP_URL to an address that does"
    return text


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
