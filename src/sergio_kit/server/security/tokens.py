"""Access and refresh tokens: JWTs issued and verified with PyJWT, under the server's one algorithm.

The algorithm and its keys are :class:`~sergio_kit.server.security.keys.TokenKeys` (RS256 by default,
ES256 or HS256 with ``--jwt-alg``). Verification uses that algorithm alone as the allow-list, the key
its ``kid`` names (a token naming another key is refused) and required claims; time claims are
checked here against the server clock (PyJWT reads the wall clock, which the test clock cannot move).
The fault branches are the classic verification bugs, each switched on by the check id that catches
it (:mod:`~sergio_kit.server.security.forged_keys` holds those that trust a key the token names).
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
from sergio_kit.server.security.forged_keys import key_named_by_token
from sergio_kit.server.security.keys import TokenKeys
from sergio_kit.server.settings import (
    ACCESS_TOKEN_SECONDS,
    AUDIENCE,
    ISSUER,
    REFRESH_TOKEN_SECONDS,
)

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
    keys: TokenKeys,
    *,
    user_id: str,
    company_id: str,
    now: float,
    audience: str = AUDIENCE,
    lifetime: int = ACCESS_TOKEN_SECONDS,
) -> IssuedToken:
    """Sign an access token valid for exactly one hour from ``now`` (``lifetime``: only a fault's)."""
    issued_at = int(now)
    claims = {
        "iss": ISSUER,
        "aud": audience,
        "sub": user_id,
        "cid": company_id,
        "iat": issued_at,
        "nbf": issued_at,
        "exp": issued_at + lifetime,
        "jti": secrets.token_hex(12),
        "typ": "access",
    }
    return IssuedToken(_sign(keys, claims), claims)


def issue_refresh_token(
    keys: TokenKeys, *, user_id: str, company_id: str, family_id: str, now: float
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
    return IssuedToken(_sign(keys, claims), claims)


def _sign(keys: TokenKeys, claims: dict[str, Any]) -> str:
    return jwt.encode(claims, keys.signing_key, algorithm=keys.algorithm, headers=keys.headers())


def verify_access_token(
    token: str, *, keys: TokenKeys, now: float, faults: Faults, company_claim: bool = True
) -> Mapping[str, Any]:
    """Return the claims of a valid access token or raise :class:`InvalidTokenError`.

    ``company_claim``: the server takes the company from the ``cid`` claim, which must then be a
    string (``False`` when it takes the company from the user's record and ignores ``cid``).
    """
    allowed_kinds = {"access", "refresh"} if "auth.token_kind" in faults else {"access"}
    required = [c for c in _REQUIRED_ACCESS if not (c == "exp" and "auth.jwt.missing_exp" in faults)]
    claims: Mapping[str, Any]
    if faults:
        claims = _decode(token, keys=keys, faults=faults, required=required)
    else:
        claims = _decode_correctly(token, keys, tuple(required))
    if claims.get("typ") not in allowed_kinds:
        raise InvalidTokenError("not an access token")
    _check_times(claims, now=now, faults=faults)
    if company_claim and "auth.jwt.claim_fuzz" not in faults and not isinstance(claims.get("cid"), str):
        raise InvalidTokenError("cid claim missing or not a string")
    return claims


def verify_refresh_token(token: str, *, keys: TokenKeys, now: float, faults: Faults) -> dict[str, Any]:
    """Return the claims of a validly signed, unexpired refresh token (its family state is separate)."""
    claims = _decode(token, keys=keys, faults=Faults(), required=list(_REQUIRED_REFRESH))
    if claims.get("typ") != "refresh":
        raise InvalidTokenError("not a refresh token")
    _check_times(claims, now=now, faults=Faults())
    return claims


@lru_cache(maxsize=4096)
def _decode_correctly(token: str, keys: TokenKeys, required: tuple[str, ...]) -> MappingProxyType[str, Any]:
    """Signature, algorithm, audience, issuer and required claims, for a server without faults.

    Cached by the exact token string: a token whose signature verified once verifies again, and any
    changed byte is a different key. Time claims are not part of this and are checked on every use.
    Failures raise, so they are never cached.
    """
    return MappingProxyType(_decode(token, keys=keys, faults=Faults(), required=list(required)))


def _decode(token: str, *, keys: TokenKeys, faults: Faults, required: list[str]) -> dict[str, Any]:
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
        if _faulty_signature_accepted(token, header, keys, faults):
            options["verify_signature"] = False
            claims = jwt.decode(token, options=options, audience=AUDIENCE, issuer=ISSUER)
        else:
            if keys.kid is not None and header.get("kid", keys.kid) != keys.kid:
                raise InvalidTokenError("kid names no key of this server")
            claims = jwt.decode(
                token,
                keys.verification_key,
                algorithms=[keys.algorithm],
                options=options,
                audience=AUDIENCE,
                issuer=ISSUER,
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


def _faulty_signature_accepted(token: str, header: dict[str, Any], keys: TokenKeys, faults: Faults) -> bool:
    """The verification bugs a fault can switch on; ``False`` on a correct server."""
    if not faults:
        return False
    signing_input, _, signature = token.rpartition(".")
    alg = header.get("alg")
    if "auth.jwt.alg_none" in faults and isinstance(alg, str) and alg.lower() == "none":
        return True
    if alg == "HS256" and _hmac_key_accepted(signing_input, signature, header, keys, faults):
        return True
    if key_named_by_token(token, header, keys, faults):
        return True
    if alg != keys.algorithm:
        return False
    if "auth.jwt.null_signature" in faults and signature == "":
        return True
    if "auth.jwt.truncated_signature" in faults and signature:
        expected = _deterministic_signature(keys, signing_input)
        if expected is not None and expected.startswith(signature):
            return True
    return "auth.jwt.tampered_claims" in faults and (_unverified_jti(token), signature) in _SEEN_SIGNATURES


def _hmac_key_accepted(
    signing_input: str, signature: str, header: dict[str, Any], keys: TokenKeys, faults: Faults
) -> bool:
    """The faults that verify an HS256 token with a key other than the server's: whatever the server's
    own algorithm, its verifier still takes HMAC tokens (the algorithm comes from the token)."""
    candidates: list[bytes] = []
    if "auth.jwt.alg_confusion" in faults:
        candidates += [weak.encode() for weak in _COMMON_SECRETS]
    jwk = header.get("jwk")
    if "auth.jwt.header_injection" in faults and isinstance(jwk, dict) and isinstance(jwk.get("k"), str):
        candidates.append(base64.urlsafe_b64decode(jwk["k"] + "=" * (-len(jwk["k"]) % 4)))
    if "auth.jwt.key_confusion" in faults and keys.public_pem is not None:
        candidates.append(keys.public_pem)
    if "auth.jwt.key_confusion@jwk" in faults and keys.public_jwk is not None:
        candidates.append(json.dumps(keys.public_jwk, separators=(",", ":")).encode())
    return any(hmac.compare_digest(_hs256(key, signing_input), signature) for key in candidates)


def _deterministic_signature(keys: TokenKeys, signing_input: str) -> str | None:
    """The signature the server would make over ``signing_input``: HS256 and RS256 (PKCS#1 v1.5) are
    deterministic; ES256 is not (``None``: the prefix-match fault cannot apply to it)."""
    if keys.algorithm == "HS256":
        return _hs256(keys.signing_key, signing_input)
    if keys.algorithm == "RS256":
        raw = jwt.get_algorithm_by_name("RS256").sign(signing_input.encode(), keys.signing_key)
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")
    return None


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
