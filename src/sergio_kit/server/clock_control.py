"""The test-clock endpoint (``--test-clock`` only): read, advance, freeze the server's time.

``GET /_sergio/clock`` and ``POST /_sergio/clock {"advance": seconds, "freeze": bool}``, both guarded
by ``X-Sergio-Clock-Token`` (printed at start-up and written to the ready file). Without the flag
the route does not exist.
"""

from __future__ import annotations

import hmac
import json
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sergio_kit.server.http_errors import ApiError, error_response
from sergio_kit.server.state import AppState
from sergio_kit.server.timefmt import rfc3339

CLOCK_PATH = "/_sergio/clock"
TOKEN_HEADER = "X-Sergio-Clock-Token"
MAX_ADVANCE = 10 * 365 * 24 * 3600


def clock_route(state: AppState) -> Route:
    """The route serving the test clock."""

    async def endpoint(request: Request) -> Response:
        try:
            _check_token(request, state)
            if request.method == "POST":
                _apply(await _json(request), state)
        except ApiError as error:
            return error_response(error)
        return JSONResponse(_describe(state))

    return Route(CLOCK_PATH, endpoint, methods=["GET", "POST"])


def _check_token(request: Request, state: AppState) -> None:
    given = request.headers.get(TOKEN_HEADER, "")
    if state.clock_token is None or not hmac.compare_digest(given.encode(), state.clock_token.encode()):
        raise ApiError(401, f"missing or wrong {TOKEN_HEADER}")


async def _json(request: Request) -> dict[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except ValueError:
        raise ApiError(400, "body is not JSON") from None
    if not isinstance(data, dict):
        raise ApiError(400, 'expected {"advance": seconds, "freeze": true|false}')
    return data


def _apply(data: dict[str, Any], state: AppState) -> None:
    advance = data.get("advance", 0)
    freeze = data.get("freeze")
    if isinstance(advance, bool) or not isinstance(advance, int | float) or not 0 <= advance <= MAX_ADVANCE:
        raise ApiError(422, f"advance must be a number of seconds from 0 to {MAX_ADVANCE}")
    if freeze is not None and not isinstance(freeze, bool):
        raise ApiError(422, "freeze must be true or false")
    if freeze is True:
        state.clock.freeze()
    elif freeze is False:
        state.clock.unfreeze()
    state.clock.advance(float(advance))


def _describe(state: AppState) -> dict[str, Any]:
    now = state.clock.now()
    return {"now": now, "iso": rfc3339(now), "frozen": state.clock.frozen}
