"""Access and refresh tokens: HS256 JWTs issued and verified with PyJWT.

Verification uses a fixed algorithm allow-list and required claims; time claims are checked here
against the server clock (PyJWT reads the wall clock, which the test clock cannot move). The fault
branches are the classic verification bugs, each switched on by the check id that catches it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import jwt

from sergio_kit.server.faults import Faults
from sergio_kit.server.settings import (
    ACCESS_TOKEN_SECONDS,
    AUDIENCE,
    ISSUER,
    REFRESH_TOKEN_SECONDS,
)

ALGORITHM = "HS256"
_COMMON_SECRETS = ("", "secret", "changeme", "password", "sergio", "your-256-bit-secret", "jwt-secret")
_REQUIRED_ACCESS = ("exp", "iat", "sub", "aud", "iss")
_REQUIRED_REFRESH = ("exp", "iat", "sub", "aud", "iss", "jti", "fam")


class InvalidTokenError(Exception):
    """The token must be refused; the message says why (it never contains the token)."""


@dataclass(frozen=True)
class IssuedToken:
    """A freshly signed token and its claims."""

    token: str
    claims: dict[str, Any]


def issue_access_token(
    secret: bytes, *, user_id: str, company_id: str, now: float, audience: str = AUDIENCE
) -> IssuedToken:
    """Sign an access token valid for exactly one hour from ``now``."""
    issued_at = int(now)
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "sub": user_id,
        "cid": company_id,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + ACCESS_TOKEN_SECONDS,
        "jti": secrets.token_hex(12),
        "typ": "access",
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), claims)


def issue_refresh_token(
    secret: bytes, *, user_id: str, company_id: str, family_id: str, now: float
) -> IssuedToken:
    """Sign a refresh token of ``family_id``; its ``jti`` is recorded for rotation."""
    issued_at = int(now)
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": user_id,
        "cid": company_id,
        "iat": issued_at,
        "exp": issued_at + REFRESH_TOKEN_SECONDS,
        "jti": secrets.token_hex(12),
        "fam": family_id,
        "typ": "refresh",
    }
    return IssuedToken(jwt.encode(claims, secret, algorithm=ALGORITHM), claims)


def verify_access_token(
    token: str, *, secret: bytes, now: float, faults: Faults, company_claim: bool = True
) -> Mapping[str, Any]:
    """Return the claims of a valid access token or raise :class:`InvalidTokenError`.

    ``company_claim``: the server takes the company from the ``cid`` claim, which must then be a
    string (``False`` when it takes the company from the user's record and ignores ``cid``).
    """
    allowed_kinds = {"access", "refresh"} if "auth.token_kind" in faults else {"access"}
    required = [c for c in _REQUIRED_ACCESS if not (c == "exp" and "auth.jwt.missing_exp" in faults)]
    claims: Mapping[str, Any]
    if faults:
        claims = _decode(token, secret=secret, faults=faults, required=required)
    else:
        claims = _decode_correctly(token, secret, tuple(required))
    if claims.get("typ") not in allowed_kinds:
        raise InvalidTokenError("not an access token")
    _check_times(claims, now=now, faults=faults)
    if company_claim and "auth.jwt.claim_fuzz" not in faults and not isinstance(claims.get("cid"), str):
        raise InvalidTokenError("cid claim missing or not a string")
    return claims


def verify_refresh_token(token: str, *, secret: bytes, now: float, faults: Faults) -> dict[str, Any]:
    """Return the claims of a validly signed, unexpired refresh token (its family state is separate)."""
    claims = _decode(token, secret=secret, faults=Faults(), required=list(_REQUIRED_REFRESH))
    if claims.get("typ") != "refresh":
        raise InvalidTokenError("not a refresh token")
    _check_times(claims, now=now, faults=Faults())
    return claims


@lru_cache(maxsize=4096)
def _decode_correctly(token: str, secret: bytes, required: tuple[str, ...]) -> MappingProxyType[str, Any]:
    """Signature, algorithm, audience, issuer and required claims, for a server without faults.

    Cached by the exact token string: a token whose signature verified once verifies again, and any
    changed byte is a different key. Time claims are not part of this and are checked on every use.
    Failures raise, so they are never cached.
    """
    return MappingProxyType(_decode(token, secret=secret, faults=Faults(), required=list(required)))


def _decode(token: str, *, secret: bytes, faults: Faults, required: list[str]) -> dict[str, Any]:
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise InvalidTokenError("malformed token") from None
    options: Any = {
        "require": required,
        "verify_exp": False,  # checked against the server clock in _check_times
        "verify_nbf": False,
        "verify_iat": False,
        "verify_aud": "auth.jwt.wrong_audience" not in faults,
        "verify_iss": "auth.jwt.wrong_issuer" not in faults,
        "verify_sub": True,
        "verify_jti": True,
    }
    try:
        if _faulty_signature_accepted(token, header, secret, faults):
            options["verify_signature"] = False
            claims = jwt.decode(token, options=options, audience=AUDIENCE, issuer=ISSUER)
        else:
            claims = jwt.decode(
                token, secret, algorithms=[ALGORITHM], options=options, audience=AUDIENCE, issuer=ISSUER
            )
    except jwt.PyJWTError as error:
        raise InvalidTokenError(type(error).__name__) from None
    if not isinstance(claims, dict):
        raise InvalidTokenError("claims are not an object")
    if "auth.jwt.tampered_claims" in faults:
        _SEEN_SIGNATURES.add((claims.get("jti"), token.rpartition(".")[2]))
    return claims


def _check_times(claims: Mapping[str, Any], *, now: float, faults: Faults) -> None:
    for name in ("exp", "nbf", "iat"):
        if name in claims and (isinstance(claims[name], bool) or not isinstance(claims[name], int | float)):
            raise InvalidTokenError(f"{name} is not a number")
    leeway = 120 if "auth.expiry.live" in faults else 0
    if "exp" in claims and "auth.jwt.expired" not in faults and now >= claims["exp"] + leeway:
        raise InvalidTokenError("token expired")
    if "auth.jwt.not_yet_valid" not in faults:
        for name in ("nbf", "iat"):
            if name in claims and claims[name] > now:
                raise InvalidTokenError(f"{name} is in the future")


def _faulty_signature_accepted(token: str, header: dict[str, Any], secret: bytes, faults: Faults) -> bool:
    """The verification bugs a fault can switch on; ``False`` on a correct server."""
    if not faults:
        return False
    signing_input, _, signature = token.rpartition(".")
    alg = header.get("alg")
    if "auth.jwt.alg_none" in faults and isinstance(alg, str) and alg.lower() == "none":
        return True
    if alg != ALGORITHM:
        return False
    expected = _hs256(secret, signing_input)
    if "auth.jwt.null_signature" in faults and signature == "":
        return True
    if "auth.jwt.truncated_signature" in faults and signature and expected.startswith(signature):
        return True
    if "auth.jwt.tampered_claims" in faults and (_unverified_jti(token), signature) in _SEEN_SIGNATURES:
        return True
    if "auth.jwt.alg_confusion" in faults and any(
        hmac.compare_digest(_hs256(weak.encode(), signing_input), signature) for weak in _COMMON_SECRETS
    ):
        return True
    jwk = header.get("jwk")
    if "auth.jwt.header_injection" in faults and isinstance(jwk, dict) and isinstance(jwk.get("k"), str):
        embedded = base64.urlsafe_b64decode(jwk["k"] + "=" * (-len(jwk["k"]) % 4))
        return hmac.compare_digest(_hs256(embedded, signing_input), signature)
    return False


# The auth.jwt.tampered_claims bug: a "fast path" that remembers (jti, signature) pairs it verified
# and skips verification when it sees them again, whatever the payload now says.
_SEEN_SIGNATURES: set[tuple[Any, str]] = set()


def _unverified_jti(token: str) -> Any:
    try:
        return unverified_claims(token).get("jti")
    except (ValueError, IndexError, AttributeError):
        return None


def _hs256(key: bytes, signing_input: str) -> str:
    digest = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def unverified_claims(token: str) -> dict[str, Any]:
    """The payload of a token without any verification (for diagnostics only)."""
    payload = token.split(".")[1]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return decoded
