"""Allowed choices: switches of the reference server that are not faults.

The published Sergio documentation leaves some choices to a deployment (rotate refresh tokens or
not, a rolling or a fixed window, buckets per token or per user, RateLimit headers or only
Retry-After, 403 or 404 across tenants, key management in the dashboard or as endpoints...). Each
variant makes the reference server take the other allowed choice, so the kit can prove it reports no
failure on a correct deployment that chose differently (``sergio-kit serve --variant NAME``,
``--list-variants``). A variant that removes operations names them: a deployment without them
publishes a contract without them, and the embedded target hands the kit that contract.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Variant:
    """One allowed choice: what the server does instead, and the operations it no longer offers."""

    description: str
    removes: tuple[str, ...] = ()  # "METHOD /path" of the contract operations the server drops


_KEY_MANAGEMENT = (
    "GET /v1/api-keys",
    "POST /v1/api-keys",
    "POST /v1/api-keys/{key_id}/rotate",
    "DELETE /v1/api-keys/{key_id}",
)

VARIANTS: dict[str, Variant] = {
    "refresh-without-rotation": Variant(
        "refresh answers {token, expires_at} only (the published snippet); the refresh token stays "
        "valid until it expires or the user logs out"
    ),
    "fixed-window": Variant(
        "a fixed 60-s window per principal and tier instead of a rolling window: it opens at the "
        "bucket's first request (any second of the minute, not aligned to :00) and closes 60 s later "
        "with every admission in it; Retry-After is the time until it closes"
    ),
    "token-buckets": Variant(
        "rate-limit buckets per token (per access token or API key, as the docs' 'per API key/token' "
        "reads), so a fresh login starts with a fresh quota"
    ),
    "no-ratelimit-headers": Variant(
        "no RateLimit, RateLimit-Policy or X-RateLimit-* headers: only Retry-After on 429"
    ),
    "legacy-ratelimit-headers": Variant(
        "rate-limit headers in the older published forms: RateLimit-Limit, RateLimit-Remaining, "
        "RateLimit-Reset (draft 03) and X-RateLimit-Limit/-Remaining/-Reset (reset in seconds), "
        "instead of the structured RateLimit fields"
    ),
    "ratelimit-policy-only": Variant(
        "of the structured rate-limit fields only RateLimit-Policy (the tier's quota and window): no "
        "RateLimit field of what remains, which clients count for themselves"
    ),
    "cross-tenant-403": Variant(
        "another company's job, webhook or API key is answered 403 forbidden instead of 404 not_found "
        "(an id no company holds is still 404)"
    ),
    "no-key-management": Variant(
        "API keys are made in the dashboard: no /v1/api-keys endpoints; each company has seeded keys "
        "in credentials.json, a full one (jobs:read + jobs:write) and a read-only one (jobs:read), "
        "which the embedded target supplies as SERGIO_API_KEY and SERGIO_READ_ONLY_API_KEY would",
        removes=_KEY_MANAGEMENT,
    ),
    "no-logout": Variant("no logout endpoint (not in the published docs)", removes=("POST /v1/auth/logout",)),
    "no-bulk": Variant("no bulk endpoint (only its tier is published)", removes=("POST /v1/jobs/bulk",)),
    "future-dates-only": Variant(
        "a job scheduled before the server's today (the UTC date of its clock) is refused with 422 "
        "validation_error: create, each bulk item, patch and the Zapier action"
    ),
    "rotation-201": Variant(
        "key rotation answers 201 Created (the new key) instead of 200; the old key dies at once as before"
    ),
    "base64-webhook-secrets": Variant(
        "webhook signing secrets are whsec_ + the standard base64 of 32 random bytes (with +, / and a "
        "closing =), as Standard Webhooks makes them; the whole string stays the HMAC key, as published"
    ),
    "cacheable-login": Variant(
        "token responses carry no Cache-Control: no-store (nothing published asks for it)"
    ),
    "company-from-database": Variant(
        "the company of a request comes from the user's database record, not from the token's cid claim"
    ),
}


class UnknownVariantError(ValueError):
    """A variant name that is not in the catalogue."""


class Variants:
    """The set of variants in force for one server run."""

    def __init__(self, enabled: Iterable[str] = ()) -> None:
        enabled = frozenset(enabled)
        for name in enabled:
            if name not in VARIANTS:
                raise UnknownVariantError(_unknown_message(name))
        self.enabled = enabled

    def __contains__(self, name: object) -> bool:
        return name in self.enabled

    def __bool__(self) -> bool:
        return bool(self.enabled)

    def removed_operations(self) -> frozenset[str]:
        """``METHOD /path`` of every contract operation the enabled variants drop."""
        return frozenset(label for name in self.enabled for label in VARIANTS[name].removes)


def _unknown_message(name: str) -> str:
    message = f"unknown variant {name!r}"
    close = difflib.get_close_matches(name, VARIANTS, n=1)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return message + " (sergio-kit serve --list-variants shows them all)"
