"""Assemble the ASGI applications: the HTTPS API and the plain-HTTP refuser."""

from __future__ import annotations

from email.utils import formatdate
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sergio_kit.contract.document import JWKS_OPERATION, load_document, operations
from sergio_kit.server.clock_control import clock_route
from sergio_kit.server.http_errors import ApiError, error_response
from sergio_kit.server.routes import all_handlers
from sergio_kit.server.routing import build_routes
from sergio_kit.server.state import AppState

#: The declared operation the ``contract.declared`` fault leaves unrouted.
UNROUTED_BY_FAULT = frozenset({"GET /v1/webhooks"})


def build_api(state: AppState) -> ASGIApp:
    """The HTTPS API: every contract operation but those the variants in force drop (and the key set,
    when HS256 tokens leave no public key to publish), plus the test clock when enabled."""
    dropped = state.settings.variants.removed_operations()
    if not state.token_keys.asymmetric:
        dropped |= {JWKS_OPERATION}
    if "contract.declared" in state.settings.faults:
        dropped |= UNROUTED_BY_FAULT
    offered = [operation for operation in operations(load_document()) if operation.label not in dropped]
    routes = build_routes(offered, all_handlers(), state)
    if state.settings.test_clock:
        routes.append(clock_route(state))
    app = Starlette(routes=routes, exception_handlers={HTTPException: _http_exception})
    # An undeclared path is 404, never a redirect (Starlette's slash redirect echoes the Host header).
    app.router.redirect_slashes = False
    return ServerHeaders(app, state)


def build_plain_http(state: AppState) -> ASGIApp:
    """The plain-HTTP listener: 403 ``https_required`` for everything (the fault serves the API)."""
    if "transport.https_only" in state.settings.faults:
        return build_api(state)

    async def refuse(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        error = ApiError(403, "HTTPS is required: use the https:// URL", code="https_required")
        await error_response(error)(scope, receive, send)

    return ServerHeaders(refuse, state)


async def _http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    status = exc.status_code if exc.status_code in (400, 404, 405) else 400
    message = "no such endpoint" if status == 404 else str(exc.detail)
    return error_response(ApiError(status, message, headers=dict(exc.headers or {})))


class ServerHeaders:
    """Pure-ASGI middleware: ``Date`` from the server clock and, with faults on, ``X-Sergio-Faults``."""

    def __init__(self, app: ASGIApp, state: AppState) -> None:
        self._app = app
        self._state = state
        faults = state.settings.faults
        self._fault_header = faults.header_value().encode() if faults else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers: list[Any] = list(message.get("headers", []))
                headers.append((b"date", formatdate(self._state.clock.now(), usegmt=True).encode()))
                if self._fault_header is not None:
                    headers.append((b"x-sergio-faults", self._fault_header))
                message["headers"] = headers
            await send(message)

        await self._app(scope, receive, send_with_headers)
