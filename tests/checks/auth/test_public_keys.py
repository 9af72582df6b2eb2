"""The keys of the asymmetric-token checks: the target's public keys read from a key set, the HMAC
secrets a confused server may take, the kit's own keys, the signing key, and the loopback key server."""

from __future__ import annotations

import json
import ssl
from pathlib import Path
from typing import Any

import httpx
import pytest
import trustme

from sergio_kit.checks.auth.key_server import KeyServer
from sergio_kit.checks.auth.public_keys import (
    hmac_secrets,
    kit_key,
    read_key_set,
    require_asymmetric,
    signing_key,
)
from sergio_kit.checks.context import CheckContext
from sergio_kit.reports.findings import CheckSkipped, CheckUndecided
from sergio_kit.server.security.keys import load_token_keys, thumbprint
from sergio_kit.target.target import Account, Target


def _jwks_response(body: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=body, request=httpx.Request("GET", "https://t.example/jwks"))


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_the_servers_confusion_secrets_are_among_the_kits_forms(tmp_path: Path, algorithm: str) -> None:
    """Read from the key set as the server publishes it, the kit's HMAC secrets include the exact
    bytes the key_confusion faults use: the server's PEM and its JWK's compact JSON."""
    keys = load_token_keys(tmp_path, algorithm)
    (key,) = read_key_set(_jwks_response(json.loads(json.dumps(keys.jwks()))), "the key set")
    forms = dict((secret, name) for name, secret in hmac_secrets(key))
    assert forms[keys.public_pem or b""] == "its PEM"
    assert forms[json.dumps(keys.public_jwk, separators=(",", ":")).encode()] == "its JWK's JSON as published"
    assert key.kid == keys.kid
    assert len(forms) == len(hmac_secrets(key)), "every form is a distinct secret"


def test_a_key_set_keeps_only_public_signing_keys_and_says_when_it_cannot_be_read() -> None:
    """Symmetric and encryption keys are left out; a key set without a usable key, a non-200 answer and
    a body that is no key set leave the check undecided, naming where it looked."""
    rsa_jwk = kit_key("RS256").jwk
    kept = read_key_set(
        _jwks_response({"keys": [{"kty": "oct", "k": "c2VjcmV0"}, {**rsa_jwk, "use": "enc"}, rsa_jwk]}), "set"
    )
    assert [key.kid for key in kept] == [rsa_jwk["kid"]]
    for response, words in (
        (_jwks_response({"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}), "holds no public signing key"),
        (_jwks_response({"error": "no"}, status=404), "answered 404"),
        (_jwks_response(["not", "a", "set"]), "is not a JSON Web Key Set"),
    ):
        with pytest.raises(CheckUndecided, match=words):
            read_key_set(response, "the key set at https://t.example/jwks")


@pytest.mark.parametrize("algorithm", ["RS256", "PS384", "ES256", "ES384", "EdDSA"])
def test_the_kits_key_fits_the_algorithm_and_is_named_by_its_thumbprint(algorithm: str) -> None:
    """One key pair per key family (made once), named by its RFC 7638 thumbprint, with a certificate."""
    own = kit_key(algorithm)
    assert kit_key(algorithm) is own
    if own.jwk["kty"] != "OKP":
        assert own.kid == thumbprint(own.jwk)
    assert b"PRIVATE KEY" in own.private_pem and own.certificate_pem.startswith(b"-----BEGIN CERTIFICATE")
    assert "d" not in own.jwk, "the private member never leaves the key"


def _context(**target: Any) -> CheckContext:
    return CheckContext(Target(base_url="https://t.example", account=Account("a@t.example", "pw"), **target))


def test_without_a_public_key_or_a_signing_key_the_checks_say_what_to_set() -> None:
    """HS256 tokens: the key checks skip, naming the algorithm; an RS256 target without its private key
    skips the forged-claim checks naming SERGIO_JWT_PRIVATE_KEY; the HS256 secret is used as given."""
    with pytest.raises(CheckSkipped, match="signs its tokens HS256, with a shared secret"):
        require_asymmetric("HS256", "so nothing")
    assert require_asymmetric("ES256", "so nothing") == "ES256"
    context = _context(jwt_secret=b"s3cret")
    try:
        assert signing_key(context, "HS256") == b"s3cret"
        with pytest.raises(CheckSkipped, match="the target signs RS256; set SERGIO_JWT_PRIVATE_KEY"):
            signing_key(context, "RS256")
    finally:
        context.close()


def test_the_key_server_serves_what_it_publishes_and_records_every_request(tmp_path: Path) -> None:
    """Over HTTPS, a published document is 200, anything else 404; every path asked for is recorded."""
    ca = trustme.CA()
    ca.issue_cert("127.0.0.1").private_key_and_cert_chain_pem.write_to_path(str(tmp_path / "server.pem"))
    trust = ssl.create_default_context()
    ca.configure_trust(trust)
    with KeyServer(tmp_path / "server.pem") as server:
        url = server.publish("/jku/1/jwks.json", b'{"keys": []}', "application/json")
        assert url.startswith("https://127.0.0.1:")
        found = httpx.get(url, verify=trust)
        missing = httpx.get(server.url("/nothing?x=1"), verify=trust)
        assert (found.status_code, found.json(), missing.status_code) == (200, {"keys": []}, 404)
        assert server.requests == ["/jku/1/jwks.json", "/nothing?x=1"]
