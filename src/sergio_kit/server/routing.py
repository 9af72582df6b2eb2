"""Turn the contract's operations into routes: authentication, rate limiting, then the handler.

Paths, methods, security and tiers all come from the contract; route modules only supply a handler
per operationId. Every path answers undeclared methods with 405 and an ``Allow`` header that lists
exactly the declared methods.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import BaseRoute, Route

from sergio_kit.contract.document import Operation
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.server.http_errors import ApiError, error_response
from sergio_kit.server.ratelimit import Decision, rate_limit_headers
from sergio_kit.server.security.principals import (
    Principal,
    anonymous,
    authenticate_api_key,
    authenticate_bearer,
)
from sergio_kit.server.security.token_sources import with_relocated_token
from sergio_kit.server.state import AppState
from sergio_kit.server.validation import parse_json


@dataclass
class Call:
    """One request as a handler sees it."""

    request: Request
    state: AppState
    operation: Operation
    principal: Principal

    @property
    def faults(self) -> Any:
        """The faults in force."""
        return self.state.settings.faults

    async def raw_json(self) -> Any:
        """The parsed JSON body (400 if it is not JSON), not yet validated."""
        chunks = bytearray()
        async for chunk in self.request.stream():
            chunks.extend(chunk)
            if len(chunks) > 1024 * 1024:
                break
        return parse_json(bytes(chunks))

    async def body(self) -> Any:
        """The JSON body, validated against the operation's request schema (400 / 422)."""
        data = await self.raw_json()
        self.state.validators.validate(self.operation.operation_id, data)
        return data

    def path(self, name: str) -> str:
        """A path parameter."""
        return str(self.request.path_params[name])


Handler = Callable[[Call], Awaitable[Response]]


def build_routes(
    operations: list[Operation], handlers: dict[str, Handler], state: AppState
) -> list[BaseRoute]:
    """One route per contract path; raises if an operation has no handler."""
    missing = sorted({op.operation_id for op in operations} - set(handlers))
    if missing:
        raise RuntimeError(f"no handler for contract operations: {', '.join(missing)}")
    by_path: dict[str, dict[str, Operation]] = {}
    for op in operations:
        by_path.setdefault(op.path, {})[op.method] = op
    return [
        Route(path, _PathEndpoint(methods, handlers, state), methods=None)
        for path, methods in by_path.items()
    ]


class _PathEndpoint:
    """The ASGI endpoint of one path: method dispatch with exact 405 / Allow."""

    def __init__(self, methods: dict[str, Operation], handlers: dict[str, Handler], state: AppState) -> None:
        self._methods = methods
        self._handlers = handlers
        self._state = state
        self._allow = ", ".join(methods)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        scope, receive = await with_relocated_token(scope, receive, self._state.settings.faults)
        request = Request(scope, receive)
        response = await self._respond(request)
        await response(scope, receive, send)

    async def _respond(self, request: Request) -> Response:
        operation = self._methods.get(request.method)
        if operation is None:
            error = ApiError(405, f"{request.method} is not allowed here; allowed: {self._allow}")
            error.headers["Allow"] = self._allow
            return error_response(error)
        delay = self._state.settings.delays.get(operation.tier)
        if delay:  # --delay: a slow tier, for checking the load figures against a known latency
            await asyncio.sleep(delay)
        decision: Decision | None = None
        try:
            principal = self._authenticate(request, operation)
            decision = await self._state.limiter.acquire(self._bucket(principal), operation.tier)
            if not decision.admitted:
                return _throttled(decision, self._state)
            call = Call(request, self._state, operation, principal)
            response = await self._handlers[operation.operation_id](call)
        except ApiError as error:
            response = error_response(error)
        if decision is not None:
            _add_rate_headers(response, decision, self._state)
        return response

    def _authenticate(self, request: Request, operation: Operation) -> Principal:
        if "bearerAuth" in operation.security:
            return authenticate_bearer(request, self._state)
        if "apiKeyAuth" in operation.security:
            return authenticate_api_key(request, self._state)
        return anonymous(request)

    def _bucket(self, principal: Principal) -> str:
        faults = self._state.settings.faults
        if "ratelimit.isolation.users" in faults and principal.kind == "user":  # the bug: one per company
            return f"company-users:{principal.company_id}"
        per_token = "ratelimit.relogin_bypass" in faults or "token-buckets" in self._state.settings.variants
        if per_token and principal.token_id:
            return f"token:{principal.token_id}"
        if "ratelimit.isolation.keys@apikey" in faults and principal.kind == "key":
            return f"company-keys:{principal.company_id}"
        return principal.bucket


def _add_rate_headers(response: Response, decision: Decision, state: AppState) -> None:
    response.headers.update(rate_limit_headers(decision, state.settings.variants, state.settings.faults))


def _throttled(decision: Decision, state: AppState) -> Response:
    faults = state.settings.faults
    tier = decision.tier
    message = f"rate limit of {decision.limit} {tier} requests per {WINDOW_SECONDS} s exceeded"
    response: Response
    if f"ratelimit.{tier}.body" in faults:
        response = PlainTextResponse("Too Many Requests", status_code=429)
    else:
        body = {"error": {"code": "rate_limited", "message": message}}
        response = JSONResponse(body, status_code=429, headers={"Cache-Control": "no-store"})
    if decision.retry_after is not None and f"ratelimit.{tier}.retry_after" not in faults:
        response.headers["Retry-After"] = str(decision.retry_after)
    _add_rate_headers(response, decision, state)
    return response
