"""The server's token keys: one fixed algorithm (``--jwt-alg``), its key, and the public key set.

RS256 (the default) and ES256 sign with a private key kept in the data folder and publish the public
half as a JSON Web Key Set (``GET /.well-known/jwks.json``), each key named by its RFC 7638 thumbprint
(``kid``); HS256 signs with a shared secret and publishes no keys. Keys survive restarts.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

ALGORITHMS = ("RS256", "ES256", "HS256")
DEFAULT_ALGORITHM = "RS256"
SECRET_FILE = "jwt-secret"
#: The private key of each asymmetric algorithm, PKCS#8 PEM in the data folder (mode 0600).
PRIVATE_KEY_FILES = {"RS256": "jwt-rs256-key.pem", "ES256": "jwt-es256-key.pem"}
#: RFC 7638: the members of each key type that make its thumbprint, in lexicographic order.
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y")}


@dataclass(frozen=True, eq=False)  # hashed by identity: verification caches by (token, keys)
class TokenKeys:
    """What signs and verifies the server's tokens.

    ``signing_key`` and ``verification_key`` are the HMAC secret (bytes) for HS256, else the private
    and public key objects. ``public_pem`` and ``public_jwk`` are the public key as PEM
    (SubjectPublicKeyInfo) and as the JWK the key set publishes (``None`` for HS256).
    ``folder`` is where the keys are kept and ``fetch_ca`` the CA bundle the server trusts for
    outgoing HTTPS: only faults use them (a ``kid`` read as a file name, key URLs fetched).
    """

    algorithm: str
    signing_key: Any = field(repr=False)
    verification_key: Any = field(repr=False)
    kid: str | None = None
    public_pem: bytes | None = None
    public_jwk: dict[str, str] | None = None
    folder: Path | None = None
    fetch_ca: Path | None = None

    @property
    def asymmetric(self) -> bool:
        """Whether the tokens are signed with a private key (a public key set exists)."""
        return self.public_jwk is not None

    def jwks(self) -> dict[str, list[dict[str, str]]]:
        """The JSON Web Key Set the server publishes (no keys for HS256)."""
        return {"keys": [dict(self.public_jwk)] if self.public_jwk is not None else []}

    def headers(self) -> dict[str, str] | None:
        """The JOSE header parameters a token carries beyond ``alg`` and ``typ``: its key's ``kid``."""
        return {"kid": self.kid} if self.kid is not None else None


def load_token_keys(data_dir: Path, algorithm: str, *, fetch_ca: Path | None = None) -> TokenKeys:
    """The keys of ``algorithm`` kept in ``data_dir`` (made on first use)."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"--jwt-alg {algorithm!r}: expected one of {', '.join(ALGORITHMS)}")
    if algorithm == "HS256":
        secret = _secret(data_dir / SECRET_FILE)
        return TokenKeys(algorithm, secret, secret, folder=data_dir, fetch_ca=fetch_ca)
    private = _private_key(data_dir / PRIVATE_KEY_FILES[algorithm], algorithm)
    public = private.public_key()
    jwk = public_jwk(public)
    kid = thumbprint(jwk)
    published = {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}
    pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return TokenKeys(algorithm, private, public, kid, pem, published, data_dir, fetch_ca)


def public_jwk(public: Any) -> dict[str, str]:
    """The JWK members of an RSA or EC public key (``kty`` and its parameters, nothing else)."""
    if isinstance(public, rsa.RSAPublicKey):
        jwk = RSAAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(public, as_dict=True)
    return {name: str(jwk[name]) for name in _THUMBPRINT_MEMBERS[str(jwk["kty"])]}


def thumbprint(jwk: dict[str, str]) -> str:
    """The RFC 7638 SHA-256 thumbprint of a public JWK, base64url without padding."""
    members = {name: jwk[name] for name in _THUMBPRINT_MEMBERS[jwk["kty"]]}
    canonical = json.dumps(members, separators=(",", ":"), sort_keys=True).encode()
    return base64.urlsafe_b64encode(hashlib.sha256(canonical).digest()).decode().rstrip("=")


def _secret(path: Path) -> bytes:
    if not path.is_file():
        _write_private(path, secrets.token_urlsafe(48).encode())
    return path.read_text().strip().encode()


def _private_key(path: Path, algorithm: str) -> Any:
    if not path.is_file():
        key: Any = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        _write_private(path, pem)
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def _write_private(path: Path, content: bytes) -> None:
    """Write a key readable by its owner only (created 0600, never world-readable in between)."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
