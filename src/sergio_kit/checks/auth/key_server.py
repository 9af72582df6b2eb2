"""The kit's key server: an attacker's key set and certificate on loopback, and who fetched them.

``auth.jwt.jku`` points ``jku`` and ``x5u`` headers here. A target that fetches such a URL makes a
server-side request wherever a token says (RFC 8725 §3.10); one that also trusts what it got accepts
a token the kit signed. The server answers ``GET`` of the documents it was given and records every
request's path, so the check judges by what was fetched, not by timing. HTTPS with a certificate the
target trusts (the embedded server's test CA, or ``SERGIO_RECEIVER_CERT``), else plain HTTP.
"""

from __future__ import annotations

import http.server
import logging
import socket
import ssl
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

__all__ = ["KeyServer"]

log = logging.getLogger("sergio_kit.checks.auth.key_server")
HANDSHAKE_TIMEOUT = 5.0


class _Server(http.server.ThreadingHTTPServer):
    """A threading HTTP server that wraps each connection in TLS (when it has a context) in the
    connection's own thread, so a client that never completes a handshake blocks nobody."""

    daemon_threads = True
    owner: KeyServer

    def __init__(self, address: tuple[str, int], context: ssl.SSLContext | None, owner: KeyServer) -> None:
        self.owner = owner
        self._context = context
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Complete the TLS handshake (bounded in time), then serve the request."""
        request.settimeout(HANDSHAKE_TIMEOUT)
        if self._context is None:
            super().finish_request(request, client_address)
            return
        wrapped = self._context.wrap_socket(request, server_side=True)
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Failed connections (bad handshakes, resets) are logged quietly, not printed."""
        log.debug("key server: connection from %s failed", client_address, exc_info=True)


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.0"

    def do_GET(self) -> None:
        """Record the request; answer the document published at its path, else 404."""
        found = self.server.owner._record(self.path)
        status, body, content_type = (200, *found) if found else (404, b"not found", "text/plain")
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the access log out of the output."""
        log.debug("key server: " + format, *args)


class KeyServer:
    """Serves documents (a JWK Set, a certificate) on ``host`` and records each request's path.

    ``cert_pem``: key and certificate chain for HTTPS (``None``: plain HTTP). Use it as a context
    manager.
    """

    def __init__(self, cert_pem: Path | None, host: str = "127.0.0.1") -> None:
        self._context: ssl.SSLContext | None = None
        if cert_pem is not None:
            self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self._context.minimum_version = ssl.TLSVersion.TLSv1_2
            self._context.load_cert_chain(str(cert_pem))
        self._host = host
        self._documents: dict[str, tuple[bytes, str]] = {}
        self._requests: list[str] = []
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def publish(self, path: str, body: bytes, content_type: str) -> str:
        """Serve ``body`` at ``path``; the URL to name it by."""
        with self._lock:
            self._documents[path] = (body, content_type)
        return self.url(path)

    def url(self, path: str) -> str:
        """The URL of ``path`` on this server (``https://`` with a certificate)."""
        if self._server is None:
            raise RuntimeError("the key server is not running")
        scheme = "https" if self._context is not None else "http"
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"{scheme}://{host}:{self._server.server_address[1]}{path}"

    @property
    def requests(self) -> list[str]:
        """The paths requested so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def _record(self, path: str) -> tuple[bytes, str] | None:
        with self._lock:
            self._requests.append(path)
            return self._documents.get(path.split("?", 1)[0])

    def __enter__(self) -> KeyServer:
        self._server = _Server((self._host, 0), self._context, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(5)
        self._server = self._thread = None
