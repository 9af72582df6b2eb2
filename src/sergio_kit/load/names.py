"""What a Locust statistics entry of the load scenarios stands for: its tier, its class, its operation.

The scenarios (``load/locustfile.py``) report each response under the name ``"<tier> [<class>]"``
(see :mod:`sergio_kit.load.ledger`) and the request type ``"<METHOD> <path>"`` (``GET /v1/jobs``), so
Locust keeps one entry per (class, operation); the token pool's logins are named
``"token pool <login|refresh> [<worker>]"`` (auth tier). Locust counts a failure class as failed;
the other responses of an entry are admitted, or throttled as contracted for the throttle classes.
Plain Python (no locust import): the Locust processes and the kit both read names through it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS
from sergio_kit.load.ledger import RETRY_AFTER_OUT_OF_RANGE, THROTTLED

#: The classes of a 429 the contract allows (a throttle, maybe with a warning): not errors, and left out
#: of the latency figures (a refusal is quick and would flatter them).
THROTTLE_CLASSES = frozenset({THROTTLED, RETRY_AFTER_OUT_OF_RANGE})
TOKEN_POOL = "token pool "


@dataclass(frozen=True)
class EntryKind:
    """A statistics entry's tier (``None``: not a tier's), operation (``None``: unknown) and whether its
    successes are contracted throttles."""

    tier: str | None
    operation: str | None
    throttles: bool


def entry_kind(name: str, request_type: str) -> EntryKind:
    """Read the entry ``name`` / ``request_type`` of a Locust statistics entry.

    The operation is the request type when it names a path (``GET /v1/jobs``); else, for a request
    named other than ``"<tier> [<class>]"``, the method and name together (``GET /health``), as a
    custom locustfile names its requests.
    """
    operation = request_type if " /" in request_type else None
    if name.startswith(TOKEN_POOL):
        return EntryKind("auth", operation, throttles=False)
    tier, bracket, rest = name.partition(" [")
    if bracket and rest.endswith("]") and tier in DEFAULT_TIER_LIMITS:
        return EntryKind(tier, operation, throttles=rest[:-1] in THROTTLE_CLASSES)
    return EntryKind(None, operation or f"{request_type} {name}".strip(), throttles=False)
