"""The keys the asymmetric-token checks work with: the target's public keys, the kit's own keys, and
the target's signing key for re-signing claims.

The target's public keys come from ``SERGIO_JWT_PUBLIC_KEY`` (a PEM file), else from its JSON Web Key
Set: ``SERGIO_JWKS_URL``, else the contract's ``GET /.well-known/jwks.json`` on the base URL. The
kit's own keys (:func:`kit_key`) are made per run and are what an attacker signs with: never a key
of the target's, never a secret of anyone's.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from sergio_kit.checks.context import CheckContext
from sergio_kit.contract.document import JWKS_OPERATION
from sergio_kit.reports.findings import CheckSkipped, CheckUndecided

#: The JWS algorithms signed with a private key (RFC 7518 §3.1, RFC 8037): the key family of each.
ASYMMETRIC = {
    **{f"RS{bits}": "RSA" for bits in (256, 384, 512)},
    **{f"PS{bits}": "RSA" for bits in (256, 384, 512)},
    "ES256": "P-256",
    "ES384": "P-384",
    "ES512": "P-521",
    "EdDSA": "Ed25519",
}
_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}
_MEMO = "auth.jwt.public_keys"
_THUMBPRINT_MEMBERS = {"RSA": ("e", "kty", "n"), "EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x")}


@dataclass(frozen=True)
class PublicKey:
    """One public key of the target: its ``kid`` (if named), its JWK as published (member order
    kept), its PEM (SubjectPublicKeyInfo) and where the kit found it."""

    kid: str | None
    jwk: dict[str, Any]
    pem: bytes
    source: str
    key: Any = field(repr=False)


@dataclass(frozen=True)
class KitKey:
    """A key pair of the kit's, of one key family: the private key as PEM (for signing), the public
    JWK with its RFC 7638 ``kid``, and a self-signed certificate (for ``x5u``)."""

    family: str
    private_pem: bytes = field(repr=False)
    jwk: dict[str, str]
    certificate_pem: bytes

    @property
    def kid(self) -> str:
        """The key's RFC 7638 thumbprint."""
        return self.jwk["kid"]


def asymmetric(algorithm: object) -> bool:
    """Whether ``algorithm`` (a token header's ``alg``) is signed with a private key."""
    return isinstance(algorithm, str) and algorithm in ASYMMETRIC


def require_asymmetric(algorithm: object, what: str) -> str:
    """``algorithm`` when it is asymmetric; else skip, saying the target signs with a shared secret
    (``what``: the check that then has nothing to test, and what covers that target instead)."""
    if not asymmetric(algorithm):
        raise CheckSkipped(
            f"the target signs its tokens {algorithm}, with a shared secret: it has no public key, {what}"
        )
    return str(algorithm)


def signing_key(ctx: CheckContext, algorithm: str) -> bytes:
    """The target's own key for ``algorithm``, to re-sign claims: the HS* secret or the RS/ES/PS/EdDSA
    private key (PEM); skips, naming the setting, when it is not configured."""
    if not asymmetric(algorithm):
        return ctx.jwt_secret()
    if ctx.target.jwt_private_key is None:
        raise CheckSkipped(
            f"needs the signing key to forge valid tokens: the target signs {algorithm}; set "
            "SERGIO_JWT_PRIVATE_KEY to its private key's PEM file"
        )
    return ctx.target.jwt_private_key


# -- the target's public keys -----------------------------------------------------------------------


def public_keys(ctx: CheckContext) -> list[PublicKey]:
    """The target's public keys (fetched once per run); skips when the kit has no way to get them,
    and is undecided when the key set it was pointed at cannot be read."""
    if _MEMO not in ctx.memo:
        ctx.memo[_MEMO] = _find_public_keys(ctx)
    keys: list[PublicKey] = ctx.memo[_MEMO]
    return keys


def _find_public_keys(ctx: CheckContext) -> list[PublicKey]:
    target = ctx.target
    if target.jwt_public_key is not None:
        return [_from_pem(target.jwt_public_key, "SERGIO_JWT_PUBLIC_KEY")]
    if target.jwks_url is not None:
        return read_key_set(_fetch(ctx, target.jwks_url), f"the key set at {target.jwks_url}")
    if ctx.offers(JWKS_OPERATION):
        url = target.base_url + JWKS_OPERATION.split(" ", 1)[1]
        return read_key_set(_fetch(ctx, url), f"the key set at {url}")
    raise CheckSkipped(
        f"needs the target's public key: the contract declares no {JWKS_OPERATION}; set SERGIO_JWKS_URL "
        "to its key set or SERGIO_JWT_PUBLIC_KEY to a PEM file of its public key"
    )


def _fetch(ctx: CheckContext, url: str) -> httpx.Response:
    """``url``: through the run's throttled client when it is on the target, else on its own."""
    base = ctx.target.base_url
    if url.startswith(base + "/"):
        return ctx.send("GET", url[len(base) :])
    try:
        return httpx.get(url, verify=ctx.target.ssl_context(), timeout=30.0)
    except httpx.HTTPError as error:
        raise CheckUndecided(f"the key set at {url} could not be fetched: {error}") from None


def read_key_set(response: httpx.Response, source: str) -> list[PublicKey]:
    """The public signing keys of a JSON Web Key Set ``response`` (``source``: where it came from, for
    messages); undecided when the answer is not 200, not a key set, or holds no usable key."""
    if response.status_code != 200:
        raise CheckUndecided(
            f"{source} answered {response.status_code}, so the target's public keys are unknown; set "
            "SERGIO_JWKS_URL or SERGIO_JWT_PUBLIC_KEY"
        )
    try:
        members = response.json().get("keys")
    except (ValueError, AttributeError):
        members = None
    if not isinstance(members, list):
        raise CheckUndecided(f"{source} is not a JSON Web Key Set (no 'keys' array)")
    keys = []
    for jwk in members:
        if not isinstance(jwk, dict) or jwk.get("use", "sig") != "sig":
            continue
        try:
            public = jwt.PyJWK(jwk).key
        except (jwt.PyJWTError, KeyError, TypeError, ValueError):
            continue  # a key type PyJWT does not know, or a symmetric one: nothing public to use
        if not hasattr(public, "public_bytes"):
            continue
        kid = jwk.get("kid")
        keys.append(PublicKey(kid if isinstance(kid, str) else None, jwk, _spki_pem(public), source, public))
    if not keys:
        raise CheckUndecided(f"{source} holds no public signing key the kit can read")
    return keys


def _from_pem(pem: bytes, source: str) -> PublicKey:
    try:
        public: Any = serialization.load_pem_public_key(pem)
    except ValueError:
        try:
            public = x509.load_pem_x509_certificate(pem).public_key()
        except ValueError:
            raise CheckUndecided(f"{source} holds no public key the kit can read") from None
    jwk = _public_jwk(public)
    return PublicKey(None, jwk, _spki_pem(public), source, public)


def _spki_pem(public: Any) -> bytes:
    pem: bytes = public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return pem


def _public_jwk(public: Any) -> dict[str, str]:
    """The JWK members of a public key (``kty`` and its parameters), as PyJWT writes them."""
    if isinstance(public, rsa.RSAPublicKey):
        jwk = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
    elif isinstance(public, ec.EllipticCurvePublicKey):
        jwk = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
    else:
        jwk = jwt.algorithms.OKPAlgorithm.to_jwk(public, as_dict=True)
    return {name: str(jwk[name]) for name in _THUMBPRINT_MEMBERS[str(jwk["kty"])]}


def hmac_secrets(key: PublicKey) -> list[tuple[str, bytes]]:
    """The byte strings a server that lets the token pick HS256 may take as the HMAC secret of
    ``key``: its PEM (as written, without the last newline, PKCS#1 for RSA) and its JWK's JSON (as
    published, with sorted members, spaced, and the RFC 7638 members only)."""
    forms = [("its PEM", key.pem), ("its PEM without the final newline", key.pem.rstrip(b"\n"))]
    if isinstance(key.key, rsa.RSAPublicKey):
        pkcs1 = key.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
        forms.append(("its PKCS#1 PEM", pkcs1))
    members = {
        name: key.jwk[name]
        for name in _THUMBPRINT_MEMBERS.get(str(key.jwk.get("kty")), ())
        if name in key.jwk
    }
    forms += [
        ("its JWK's JSON as published", json.dumps(key.jwk, separators=(",", ":")).encode()),
        (
            "its JWK's JSON with sorted members",
            json.dumps(key.jwk, separators=(",", ":"), sort_keys=True).encode(),
        ),
        ("its JWK's JSON, spaced", json.dumps(key.jwk).encode()),
        (
            "its JWK's RFC 7638 members as JSON",
            json.dumps(members, separators=(",", ":"), sort_keys=True).encode(),
        ),
    ]
    unique: dict[bytes, str] = {}
    for name, secret in forms:
        unique.setdefault(secret, name)
    return [(name, secret) for secret, name in unique.items()]


# -- the kit's own keys -------------------------------------------------------------------------------


def kit_key(algorithm: str) -> KitKey:
    """The kit's key pair for ``algorithm``'s key family (made once per process)."""
    return _kit_key(ASYMMETRIC[algorithm])


@cache
def _kit_key(family: str) -> KitKey:
    private: Any
    if family == "RSA":
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif family == "Ed25519":
        private = ed25519.Ed25519PrivateKey.generate()
    else:
        private = ec.generate_private_key(_CURVES[family])
    public_jwk = _public_jwk(private.public_key())
    canonical = json.dumps(public_jwk, separators=(",", ":"), sort_keys=True).encode()
    kid = jwt.utils.base64url_encode(hashlib.sha256(canonical).digest()).decode()  # RFC 7638
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return KitKey(family, pem, {**public_jwk, "kid": kid, "use": "sig"}, _self_signed(private))


def _self_signed(private: Any) -> bytes:
    """A self-signed certificate of ``private``'s public key, for ``x5u`` (valid for a day)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "sergio-kit attacker key")])
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
    )
    algorithm = None if isinstance(private, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(private, algorithm).public_bytes(serialization.Encoding.PEM)
