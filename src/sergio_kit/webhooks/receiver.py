"""A real webhook receiver that records every delivery it gets: HTTPS on loopback, or behind a proxy.

The receiver is a small :class:`http.server.ThreadingHTTPServer` whose connections are wrapped in
TLS with a certificate you pass in (a PEM with the private key and the certificate chain, or two
PEMs). Against the embedded reference server, issue one from the server's test CA with
``sergio_kit.server.tls.issue_receiver_cert(server.data_dir, path)``: the server trusts that CA
for its deliveries. The receiver does not verify signatures itself; it keeps the raw body so the
caller can (see :mod:`sergio_kit.webhooks.signatures`).

A remote target cannot reach loopback: bind the receiver where a tunnel or reverse proxy forwards
to (``host``, ``port``) and pass the https URL the target should deliver to as ``public_url``,
which is then the :attr:`~WebhookReceiver.url` to register. Without a certificate the receiver
speaks plain HTTP, for a proxy that terminates TLS in front of it.

Example::

    with WebhookReceiver(cert_pem) as receiver:
        register(receiver.url)
        delivery = receiver.wait_for(1, timeout=5)[0]
        verify(delivery.header("X-Sergio-Signature"), delivery.body, secret, now=time.time())
"""

from __future__ import annotations

import http.server
import logging
import socket
import ssl
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["Delivery", "WebhookReceiver", "answer"]

log = logging.getLogger("sergio_kit.webhooks.receiver")

MAX_BODY_BYTES = 1024 * 1024
HANDSHAKE_TIMEOUT = 10.0


@dataclass(frozen=True)
class Delivery:
    """One request the receiver got: what was sent, when it arrived and what it was answered."""

    method: str
    path: str
    headers: Mapping[str, str] = field(repr=False)  # keys lower-cased
    body: bytes = field(repr=False)
    received_at: float  # receiver wall-clock time (unix seconds)
    status: int  # the status the receiver answered with

    def header(self, name: str) -> str | None:
        """A request header by case-insensitive name, or ``None``."""
        return self.headers.get(name.lower())

    @property
    def accepted(self) -> bool:
        """Whether the receiver answered with a 2xx status."""
        return 200 <= self.status < 300


def answer(status: int) -> tuple[dict[str, str], bytes]:
    """The headers and body the receiver answers a request it recorded with ``status``."""
    text = b"ok" if status < 300 else b"receiver told to fail"
    return _answer_headers(text), text


def _answer_headers(text: bytes) -> dict[str, str]:
    return {"Content-Type": "text/plain", "Content-Length": str(len(text))}


class _TlsServer(http.server.ThreadingHTTPServer):
    """A threading HTTP server that does the TLS handshake in each request's own thread (plain HTTP
    when it has no TLS context)."""

    daemon_threads = True
    owner: WebhookReceiver

    def __init__(
        self, address: tuple[str, int], context: ssl.SSLContext | None, owner: WebhookReceiver
    ) -> None:
        self.owner = owner
        self._context = context
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def get_request(self) -> tuple[Any, Any]:
        """Accept a connection and wrap it in TLS, deferring the handshake to the worker thread."""
        sock, address = self.socket.accept()
        if self._context is None:
            return sock, address
        wrapped = self._context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return wrapped, address

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Complete the TLS handshake (bounded in time), then serve the request."""
        request.settimeout(HANDSHAKE_TIMEOUT)
        if self._context is not None:
            request.do_handshake()
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Log failed connections (bad handshakes, resets) quietly instead of printing tracebacks."""
        log.debug("webhook receiver: connection from %s failed", client_address, exc_info=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    """Reads one request, records it, answers per the receiver's failure plan."""

    server: _TlsServer
    protocol_version = "HTTP/1.0"  # one request per connection: simple and leak-free
    disable_nagle_algorithm = True  # headers and body go out at once, not 40 ms apart

    def do_POST(self) -> None:
        """Record a POST (the only method Sergio delivers with)."""
        self._record()

    do_PUT = do_POST
    do_PATCH = do_POST
    do_DELETE = do_POST
    do_GET = do_POST

    def _record(self) -> None:
        received_at = time.time()
        try:
            body = self._read_body()
        except ValueError as error:
            self._answer(400, str(error).encode())
            return
        headers = {name.lower(): value for name, value in self.headers.items()}
        status = self.server.owner._record(self.command, self.path, headers, body, received_at)
        self._answer(status, answer(status)[1])

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        length_text = self.headers.get("Content-Length", "0")
        if not length_text.isdigit() or int(length_text) > MAX_BODY_BYTES:
            raise ValueError(f"bad Content-Length {length_text!r}")
        return self.rfile.read(int(length_text))

    def _read_chunked(self) -> bytes:
        body = bytearray()
        while True:
            size_line = self.rfile.readline(100).split(b";")[0].strip()
            try:
                size = int(size_line, 16)
            except ValueError:
                raise ValueError("bad chunk size") from None
            if size == 0:
                while self.rfile.readline(1000).strip():  # trailers
                    pass
                return bytes(body)
            body.extend(self.rfile.read(size))
            self.rfile.readline(10)
            if len(body) > MAX_BODY_BYTES:
                raise ValueError("body too large")

    def _answer(self, status: int, text: bytes) -> None:
        self.send_response(status)
        for name, value in _answer_headers(text).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the access log out of test output."""
        log.debug("webhook receiver: " + format, *args)


class WebhookReceiver:
    """An HTTPS endpoint (on loopback by default) that records deliveries and can be told to fail first.

    ``cert_pem`` holds the certificate chain, and the private key too unless ``key_pem`` is given;
    ``None`` serves plain HTTP, for a TLS-terminating proxy in front (then give ``public_url``).
    ``host`` and ``port`` are where it listens (port 0: a free one). ``public_url`` is the https URL
    the target delivers to when that is not the listening address (a tunnel, a reverse proxy).
    ``failures`` is how many requests to answer with ``failure_status`` (500) before answering
    200, e.g. to watch a sender retry. Use it as a context manager, or call :meth:`start` and
    :meth:`stop`.
    """

    def __init__(
        self,
        cert_pem: Path | None,
        key_pem: Path | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        path: str = "/hooks/sergio",
        public_url: str | None = None,
        failures: int = 0,
        failure_status: int = 500,
    ) -> None:
        if not path.startswith("/"):
            raise ValueError(f"path {path!r} must start with '/'")
        self._context: ssl.SSLContext | None = None
        if cert_pem is not None:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.minimum_version = ssl.TLSVersion.TLSv1_2
            self._context.load_cert_chain(str(cert_pem), str(key_pem) if key_pem else None)
        self._host = host
        self._port = port
        self._public_url = public_url
        self._path = path
        self._failures = failures
        self._failure_status = failure_status
        self._deliveries: list[Delivery] = []
        self._changed = threading.Condition()
        self._server: _TlsServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> WebhookReceiver:
        """Listen on ``host``:``port`` (a free port when 0) and serve in a background thread."""
        if self._server is not None:
            raise RuntimeError("the webhook receiver is already running")
        self._server = _TlsServer((self._host, self._port), self._context, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and close the listening socket (idempotent)."""
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = None
        self._thread = None

    def __enter__(self) -> WebhookReceiver:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what callers use --------------------------------------------------------------------
    @property
    def url(self) -> str:
        """The URL to register: the public URL when one was given, else :attr:`listening_url`."""
        return self._public_url or self.listening_url

    @property
    def listening_url(self) -> str:
        """Where the receiver listens, e.g. ``https://127.0.0.1:41234/hooks/sergio`` (``http://``
        without a certificate)."""
        if self._server is None:
            raise RuntimeError("the webhook receiver is not running: call start() first")
        port = self._server.server_address[1]
        host = f"[{self._host}]" if ":" in self._host else self._host
        scheme = "https" if self._context is not None else "http"
        return f"{scheme}://{host}:{port}{self._path}"

    @property
    def deliveries(self) -> list[Delivery]:
        """A snapshot of every request received so far (failed attempts included), oldest first."""
        with self._changed:
            return list(self._deliveries)

    @property
    def accepted(self) -> list[Delivery]:
        """The requests answered with 2xx, oldest first."""
        return [delivery for delivery in self.deliveries if delivery.accepted]

    def fail_next(self, count: int, status: int = 500) -> None:
        """Answer the next ``count`` requests with ``status`` before succeeding again."""
        with self._changed:
            self._failures = count
            self._failure_status = status

    def clear(self) -> None:
        """Forget the requests recorded so far."""
        with self._changed:
            self._deliveries.clear()

    def wait_for(self, count: int, timeout: float = 5.0) -> list[Delivery]:
        """Block until at least ``count`` requests arrived; return them all (``TimeoutError`` if not)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while len(self._deliveries) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(
                        f"webhook receiver got {len(self._deliveries)} request(s) in {timeout} s, "
                        f"expected at least {count}"
                    )
                self._changed.wait(left)
            return list(self._deliveries)

    def _record(
        self, method: str, path: str, headers: dict[str, str], body: bytes, received_at: float
    ) -> int:
        """Store one request and choose its answer (called from handler threads)."""
        with self._changed:
            status = 200
            if self._failures > 0:
                self._failures -= 1
                status = self._failure_status
            self._deliveries.append(Delivery(method, path, headers, body, received_at, status))
            self._changed.notify_all()
            return status
