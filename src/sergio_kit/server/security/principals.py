"""Who is calling: bearer-token users, Zapier API keys, or an anonymous client address.

Each ``authenticate_*`` function returns a :class:`Principal` or raises a 401 :class:`ApiError`.
"""

from __future__ import annotations

import hmac
import re
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request

from sergio_kit.server.http_errors import ApiError, bearer_error
from sergio_kit.server.security.passwords import hash_key
from sergio_kit.server.security.tokens import InvalidTokenError, verify_access_token
from sergio_kit.server.state import AppState

# RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token (the scheme is case-insensitive, RFC 9110 §11.1)
_BEARER = re.compile(r"^Bearer +([A-Za-z0-9\-._~+/]+=*)$", re.IGNORECASE)
# The auth.bearer.malformed@tab bug: any whitespace after the scheme, a tab too (not 1*SP)
_LENIENT_BEARER = re.compile(r"^Bearer\s+([A-Za-z0-9\-._~+/]+=*)$", re.IGNORECASE)
API_KEY_PATTERN = re.compile(r"^sk_(live|test)_([A-Za-z0-9]{8})([A-Za-z0-9]{32})$")


@dataclass(frozen=True)
class Principal:
    """The caller of one request."""

    kind: str  # "user", "key" or "client"
    id: str
    company_id: str = ""
    role: str = ""
    scopes: tuple[str, ...] = ()
    token_id: str = ""
    presented_key: str = ""

    @property
    def bucket(self) -> str:
        """The rate-limit principal: the user, the key, or the client address."""
        return f"{self.kind}:{self.id}"


def anonymous(request: Request) -> Principal:
    """An unauthenticated caller, identified by its address."""
    host = request.client.host if request.client else "unknown"
    return Principal(kind="client", id=host)


def authenticate_bearer(request: Request, state: AppState) -> Principal:
    """Resolve ``Authorization: Bearer <JWT>`` to a user, or raise 401."""
    faults = state.settings.faults
    header = request.headers.get("authorization")
    if header is None:
        if "apikey.surface_separation@x-api-key" in faults and "x-api-key" in request.headers:
            return _key_principal(request.headers["x-api-key"], state)  # the bug: any credential will do
        if "auth.bearer.missing" in faults:
            admin = state.db.first_admin()
            return Principal("user", admin.id, admin.company_id, admin.role)
        raise bearer_error("missing bearer token: send Authorization: Bearer <token>", missing=True)
    if "auth.bearer.malformed" in faults:
        token = header.split()[-1] if header.split() else ""
    else:
        match = (_LENIENT_BEARER if "auth.bearer.malformed@tab" in faults else _BEARER).match(header)
        if match is None:
            raise bearer_error("malformed Authorization header: expected 'Bearer <token>'")
        token = match.group(1)
    if "apikey.surface_separation" in faults and API_KEY_PATTERN.match(token):
        return _key_principal(token, state)
    from_database = "company-from-database" in state.settings.variants  # cid is not used at all
    try:
        claims = verify_access_token(
            token,
            keys=state.token_keys,
            now=state.clock.now(),
            faults=faults,
            company_claim=not from_database,
        )
    except InvalidTokenError as error:
        if "apikey.surface_separation@beside-bad-bearer" in faults and "x-api-key" in request.headers:
            return _key_principal(request.headers["x-api-key"], state)  # the bug: a fallback credential
        raise bearer_error(f"invalid token: {error}") from None
    user = state.db.user_by_id(str(claims["sub"]))
    company_claim: Any = claims.get("cid")
    if "auth.jwt.claim_fuzz" in faults:
        company_claim = company_claim.strip()  # the bug: assumes a string, so 5xx on anything else
    if "auth.jwt.claim_fuzz@cid-trusted" in faults and user is not None and isinstance(company_claim, str):
        return Principal("user", user.id, company_claim, user.role, token_id=str(claims.get("jti", "")))
    if user is None or (not from_database and user.company_id != company_claim):
        raise bearer_error("invalid token: unknown user")
    return Principal("user", user.id, user.company_id, user.role, token_id=str(claims.get("jti", "")))


def authenticate_api_key(request: Request, state: AppState) -> Principal:
    """Resolve ``X-API-Key`` to a key of one company, or raise 401."""
    key = request.headers.get("x-api-key")
    if key is None:
        if "apikey.missing" in state.settings.faults:
            record = state.db.first_api_key()
            return Principal("key", record.id, record.company_id, scopes=record.scopes)
        raise ApiError(401, "missing API key: send X-API-Key: sk_live_...")
    return _key_principal(key, state)


def _key_principal(key: str, state: AppState) -> Principal:
    faults = state.settings.faults
    if "apikey.malformed" in faults:
        lookup_id = key.split("_")[2][:8]  # the bug: IndexError (a 500) on a key without two '_'
    else:
        match = API_KEY_PATTERN.match(key)
        if match is None:
            raise ApiError(
                401, "malformed API key: expected sk_live_ or sk_test_ followed by 40 letters/digits"
            )
        lookup_id = match.group(2)
    secret = state.db.key_secret(lookup_id)
    if secret is None:
        raise ApiError(401, "unknown API key")
    if "apikey.unknown" not in faults and not hmac.compare_digest(secret.key_hash, hash_key(key)):
        raise ApiError(401, "unknown API key")
    if not secret.active and "apikey.rotated" not in faults:
        raise ApiError(401, "API key was rotated; use the new key")
    record = state.db.api_key(secret.key_id)
    if record is None or (record.revoked and "apikey.revoked" not in faults):
        raise ApiError(401, "API key was revoked")
    return Principal("key", record.id, record.company_id, scopes=record.scopes, presented_key=key)
