"""Everything a request handler can reach: settings, storage, clock, limiter, webhooks."""

from __future__ import annotations

from dataclasses import dataclass

from sergio_kit.server.clock import Clock
from sergio_kit.server.ratelimit import RateLimiter
from sergio_kit.server.security.keys import TokenKeys
from sergio_kit.server.settings import Settings
from sergio_kit.server.storage import Database
from sergio_kit.server.validation import BodyValidators
from sergio_kit.server.webhooks import WebhookDispatcher


@dataclass
class AppState:
    """The per-process state shared by every request."""

    settings: Settings
    db: Database
    clock: Clock
    limiter: RateLimiter
    token_keys: TokenKeys  # the algorithm and keys of every token the server issues
    validators: BodyValidators
    webhooks: WebhookDispatcher
    clock_token: str | None
