"""Fault branches that verify a token with a key the token itself names (never on a correct server).

Each is a classic bug of servers that let the JOSE header choose the key (RFC 8725 §2.9, §3.10):

- ``auth.jwt.kid``: a ``kid`` naming no published key is read as a file under the server's key folder
  and used as the HMAC key of an HS256 token (``../../../dev/null``: the empty key);
- ``auth.jwt.kid@unknown``: a ``kid`` naming no published key turns signature verification off;
- ``auth.jwt.jku`` / ``auth.jwt.jku@x5u``: the key set a ``jku`` URL serves, or the certificate an
  ``x5u`` URL serves, is fetched and trusted;
- ``auth.jwt.jku@fetch``: those URLs are fetched (a server-side request wherever a token points) but
  their keys are not trusted;
- ``auth.jwt.header_injection@asymmetric-jwk``: an RSA or EC ``jwk`` embedded in the header is trusted.
"""

from __future__ import annotations

import hashlib
import hmac
import ssl
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography import x509

from sergio_kit.server.faults import Faults
from sergio_kit.server.security.keys import TokenKeys

FETCH_TIMEOUT = 3.0  # seconds: the kit's key server answers at once; an unreachable one is abandoned
MAX_KEY_FILE = 64 * 1024
_ASYMMETRIC = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")


def key_named_by_token(token: str, header: dict[str, Any], keys: TokenKeys, faults: Faults) -> bool:
    """Whether a fault in force accepts ``token`` on the strength of a key its header names."""
    alg = header.get("alg")
    kid = header.get("kid")
    unknown_kid = isinstance(kid, str) and kid != keys.kid
    if "auth.jwt.kid@unknown" in faults and unknown_kid:
        return True
    if "auth.jwt.kid" in faults and unknown_kid and alg == "HS256" and keys.folder is not None:
        return _hmac_matches(token, _key_file(keys.folder, str(kid)))
    if "auth.jwt.header_injection@asymmetric-jwk" in faults and alg in _ASYMMETRIC:
        jwk = header.get("jwk")
        if isinstance(jwk, dict):
            return _verifies(token, str(alg), _jwk_key(jwk))
    url_faults = {"auth.jwt.jku", "auth.jwt.jku@x5u", "auth.jwt.jku@fetch"} & faults.enabled
    if url_faults and alg in _ASYMMETRIC:
        for name, fetch in (("jku", _key_from_jwks), ("x5u", _key_from_certificate)):
            url = header.get(name)
            if not isinstance(url, str):
                continue
            key = fetch(url, kid, keys.fetch_ca)  # the SSRF: a request to wherever the token points
            trusted = "auth.jwt.jku" if name == "jku" else "auth.jwt.jku@x5u"
            if trusted in faults and _verifies(token, str(alg), key):
                return True
    return False


def _key_file(folder: Path, kid: str) -> bytes | None:
    """The bug: the ``kid`` is a file name under the key folder, traversals and all."""
    try:
        with open(folder / kid, "rb") as file:
            return file.read(MAX_KEY_FILE)
    except (OSError, ValueError):
        return None


def _hmac_matches(token: str, key: bytes | None) -> bool:
    if key is None:
        return False
    signing_input, _, signature = token.rpartition(".")
    expected = jwt.utils.base64url_encode(hmac.new(key, signing_input.encode(), hashlib.sha256).digest())
    return hmac.compare_digest(expected.decode(), signature)


def _jwk_key(jwk: dict[str, Any]) -> Any:
    try:
        return jwt.PyJWK(jwk).key
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        return None


def _verifies(token: str, alg: str, key: Any) -> bool:
    if key is None:
        return False
    try:
        jwt.api_jws.PyJWS().decode(token, key, algorithms=[alg])
    except (jwt.PyJWTError, TypeError, ValueError):
        return False
    return True


def _fetch(url: str, ca: Path | None) -> bytes | None:
    context = ssl.create_default_context(cafile=str(ca)) if ca is not None else ssl.create_default_context()
    try:
        response = httpx.get(url, verify=context, timeout=FETCH_TIMEOUT, follow_redirects=False)
    except (httpx.HTTPError, ValueError):
        return None
    return response.content if response.status_code == 200 else None


def _key_from_jwks(url: str, kid: Any, ca: Path | None) -> Any:
    body = _fetch(url, ca)
    if body is None:
        return None
    try:
        found = jwt.PyJWKSet.from_json(body.decode()).keys
    except (jwt.PyJWTError, UnicodeDecodeError, ValueError, TypeError):
        return None
    chosen = next((key for key in found if key.key_id == kid), found[0] if found else None)
    return chosen.key if chosen is not None else None


def _key_from_certificate(url: str, kid: Any, ca: Path | None) -> Any:
    body = _fetch(url, ca)
    if body is None:
        return None
    try:
        return x509.load_pem_x509_certificate(body).public_key()
    except ValueError:
        return None
