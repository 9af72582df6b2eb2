"""``GET /v1/health``."""

from __future__ import annotations

from datetime import UTC, datetime

from starlette.responses import JSONResponse, Response

from sergio_kit.server.routing import Call, Handler
from sergio_kit.server.settings import VERSION
from sergio_kit.server.timefmt import rfc3339


async def health(call: Call) -> Response:
    """Report status, version and the server's time."""
    now = call.state.clock.now()
    timestamp = rfc3339(now)
    if "contract.health" in call.faults:
        timestamp = datetime.fromtimestamp(int(now), tz=UTC).isoformat()  # "+00:00", not "Z"
    return JSONResponse({"status": "ok", "version": VERSION, "timestamp": timestamp})


HANDLERS: dict[str, Handler] = {"getHealth": health}
