"""Probes of the faults that let a token choose its verifying key: the public key as an HMAC secret, a
``kid`` naming no key, ``jku``/``x5u`` URLs, an embedded asymmetric ``jwk`` (servers with asymmetric
tokens, the reference server's default RS256).

The attacker's key pair is made here with ``cryptography``; tokens are signed with PyJWT (HMAC over
PEM bytes by hand, which PyJWT refuses to do).
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import json
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from sergio_kit.checks.auth.key_server import KeyServer
from sergio_kit.server.tls import issue_receiver_cert
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.plumbing import Probe, accepted, expect, json_of, refused, token_of
from tests.support.api import client_for, seeded_accounts


@dataclass
class RealToken:
    """A member's real token on an RS256 server, its header and claims."""

    client: httpx.Client
    token: str
    header: dict[str, Any]
    claims: dict[str, Any]


@contextmanager
def real_token_on(server: RunningServer) -> Iterator[RealToken]:
    """Acme's member's token (the server must sign RS256, its default)."""
    assert server.jwt_algorithm == "RS256", f"these probes need an RS256 server, not {server.jwt_algorithm}"
    with client_for(server) as client:
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "setup")
        yield RealToken(
            client,
            token,
            jwt.get_unverified_header(token),
            jwt.decode(token, options={"verify_signature": False}),
        )


@cache
def attacker_key() -> rsa.RSAPrivateKey:
    """An RSA key that is not the server's."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def attacker_jwk(kid: str) -> dict[str, Any]:
    """The attacker key's public JWK, named ``kid``."""
    jwk = jwt.algorithms.RSAAlgorithm.to_jwk(attacker_key().public_key(), as_dict=True)
    return {"kty": "RSA", "n": jwk["n"], "e": jwk["e"], "kid": kid}


def attacker_certificate() -> bytes:
    """A self-signed certificate of the attacker key (PEM)."""
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "attacker")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(attacker_key().public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .sign(attacker_key(), hashes.SHA256())
    )
    return certificate.public_bytes(serialization.Encoding.PEM)


def hmac_token(claims: dict[str, Any], key: bytes, header: dict[str, Any]) -> str:
    """An HS256 token keyed with any bytes (PEM included)."""

    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    signing_input = f"{part({'alg': 'HS256', 'typ': 'JWT', **header})}.{part(claims)}"
    mac = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{base64.urlsafe_b64encode(mac).decode().rstrip('=')}"


def published_jwk(client: httpx.Client) -> dict[str, Any]:
    """The first key of the server's key set."""
    response = client.get("/.well-known/jwks.json")
    expect(response, 200, "GET /.well-known/jwks.json")
    keys = json_of(response, "the key set")["keys"]
    assert keys and isinstance(keys[0], dict), f"the key set has no key: {keys}"
    return dict(keys[0])


def probe_key_confusion(server: RunningServer, clock: TestClock) -> None:
    """HS256 with the published public key's PEM as the HMAC secret is 401."""
    with real_token_on(server) as real:
        public = jwt.PyJWK(published_jwk(real.client)).key
        pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        refused(real.client, hmac_token(real.claims, pem, {}), "HS256 keyed with the public key's PEM")
        accepted(real.client, real.token, "the real token after the forged one")


def probe_key_confusion_jwk(server: RunningServer, clock: TestClock) -> None:
    """HS256 with the published JWK's compact JSON as the HMAC secret is 401."""
    with real_token_on(server) as real:
        secret = json.dumps(published_jwk(real.client), separators=(",", ":")).encode()
        refused(real.client, hmac_token(real.claims, secret, {}), "HS256 keyed with the JWK's JSON")


def probe_kid(server: RunningServer, clock: TestClock) -> None:
    """An HS256 token whose kid traverses to /dev/null, keyed with the empty key, is 401."""
    with real_token_on(server) as real:
        forged = hmac_token(real.claims, b"", {"kid": "../" * 16 + "dev/null"})
        refused(real.client, forged, "kid ../../dev/null, HS256 keyed with nothing")


def probe_kid_unknown(server: RunningServer, clock: TestClock) -> None:
    """An RS256 token signed by another key, naming a kid the server does not have, is 401."""
    with real_token_on(server) as real:
        forged = jwt.encode(real.claims, attacker_key(), algorithm="RS256", headers={"kid": "no-such-key"})
        refused(real.client, forged, "an unknown kid, signed by another key")


def probe_asymmetric_jwk(server: RunningServer, clock: TestClock) -> None:
    """An RS256 token signed by the RSA key its own 'jwk' header carries is 401."""
    with real_token_on(server) as real:
        jwk = {k: v for k, v in attacker_jwk("x").items() if k != "kid"}
        forged = jwt.encode(real.claims, attacker_key(), algorithm="RS256", headers={"jwk": jwk})
        refused(real.client, forged, "signed by the RSA key in its own jwk header")


@contextmanager
def attacker_server(server: RunningServer) -> Iterator[KeyServer]:
    """A loopback key server the reference server trusts (a certificate of its test CA)."""
    with tempfile.TemporaryDirectory() as scratch:
        cert = issue_receiver_cert(server.data_dir, Path(scratch) / "keys.pem")
        with KeyServer(cert) as keys:
            yield keys


def _url_token(real: RealToken, keys: KeyServer, name: str) -> str:
    if name == "jku":
        url = keys.publish(
            "/jwks.json", json.dumps({"keys": [attacker_jwk("evil")]}).encode(), "application/json"
        )
        return jwt.encode(real.claims, attacker_key(), algorithm="RS256", headers={"jku": url, "kid": "evil"})
    url = keys.publish("/cert.pem", attacker_certificate(), "application/x-pem-file")
    return jwt.encode(real.claims, attacker_key(), algorithm="RS256", headers={"x5u": url})


def probe_jku(server: RunningServer, clock: TestClock) -> None:
    """An RS256 token signed by another key, pointing at that key by jku, is 401."""
    with real_token_on(server) as real, attacker_server(server) as keys:
        refused(real.client, _url_token(real, keys, "jku"), "a jku URL of the signing key")


def probe_x5u(server: RunningServer, clock: TestClock) -> None:
    """An RS256 token signed by another key, pointing at its certificate by x5u, is 401."""
    with real_token_on(server) as real, attacker_server(server) as keys:
        refused(real.client, _url_token(real, keys, "x5u"), "an x5u URL of the signing key's certificate")


def probe_jku_fetch(server: RunningServer, clock: TestClock) -> None:
    """No request reaches the URLs a token's jku and x5u headers name (and the tokens are 401)."""
    with real_token_on(server) as real, attacker_server(server) as keys:
        for name in ("jku", "x5u"):
            refused(real.client, _url_token(real, keys, name), f"a {name} URL")
        time.sleep(0.3)
        assert not keys.requests, f"the server fetched URLs named by tokens: {keys.requests}"


PROBES: dict[str, Probe] = {
    "auth.jwt.header_injection@asymmetric-jwk": probe_asymmetric_jwk,
    "auth.jwt.key_confusion": probe_key_confusion,
    "auth.jwt.key_confusion@jwk": probe_key_confusion_jwk,
    "auth.jwt.kid": probe_kid,
    "auth.jwt.kid@unknown": probe_kid_unknown,
    "auth.jwt.jku": probe_jku,
    "auth.jwt.jku@x5u": probe_x5u,
    "auth.jwt.jku@fetch": probe_jku_fetch,
}
