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
        "a fixed 60-s window per principal and tier, starting at an arbitrary second of the minute "
        "(not aligned to :00), instead of a rolling window"
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
        "RateLimit-Reset (draft 03) and X-RateLimit-*, instead of the structured RateLimit fields"
    ),
    "cross-tenant-403": Variant(
        "another company's object is answered 403 forbidden instead of 404 not_found"
    ),
    "no-key-management": Variant(
        "API keys are made in the dashboard: no /v1/api-keys endpoints; each company has a seeded "
        "full key and a read-only key (in credentials.json)",
        removes=_KEY_MANAGEMENT,
    ),
    "no-logout": Variant("no logout endpoint (not in the published docs)", removes=("POST /v1/auth/logout",)),
    "no-bulk": Variant("no bulk endpoint (only its tier is published)", removes=("POST /v1/jobs/bulk",)),
    "future-dates-only": Variant(
        "a job scheduled before the server's today is refused with 422 validation_error"
    ),
    "rotation-201": Variant("key rotation answers 201 Created (a new key) instead of 200"),
    "base64-webhook-secrets": Variant(
        "webhook signing secrets are whsec_ + standard base64 (with +, / and =), as Standard Webhooks "
        "makes them"
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
