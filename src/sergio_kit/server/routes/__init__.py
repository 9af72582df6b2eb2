"""Route handlers, one module per group, each exporting ``HANDLERS`` keyed by operationId."""

from __future__ import annotations

from sergio_kit.server.routes import api_keys, auth, health, jobs, keys, webhook_endpoints, zapier
from sergio_kit.server.routing import Handler


def all_handlers() -> dict[str, Handler]:
    """Every contract operation's handler."""
    handlers: dict[str, Handler] = {}
    for module in (auth, keys, health, jobs, webhook_endpoints, api_keys, zapier):
        handlers.update(module.HANDLERS)
    return handlers
