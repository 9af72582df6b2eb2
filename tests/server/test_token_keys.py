"""The server's token algorithm (``--jwt-alg RS256|ES256|HS256``), its keys and its JSON Web Key Set.

Unit tests of :mod:`sergio_kit.server.security.keys` and of verification with each algorithm, then the
three modes on running servers: RS256 (the default, the session's ``server``), ES256 and HS256.
"""

from __future__ import annotations

import argparse
import json
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from sergio_kit.checks.auth.strategies import sign
from sergio_kit.cli import serve
from sergio_kit.server.faults import Faults
from sergio_kit.server.security.keys import (
    ALGORITHMS,
    DEFAULT_ALGORITHM,
    PRIVATE_KEY_FILES,
    SECRET_FILE,
    load_token_keys,
    thumbprint,
)
from sergio_kit.server.security.tokens import InvalidTokenError, issue_access_token, verify_access_token
from sergio_kit.server.settings import Settings
from sergio_kit.target.embedded import RunningServer, start_server
from tests.support.api import bearer, client_for, login, seeded_accounts

NOW = 1_800_000_000.0
JWKS = "/.well-known/jwks.json"
UNTIMED: Any = {"verify_exp": False, "verify_nbf": False, "verify_iat": False}  # the test clock runs ahead


def _token(keys: Any) -> str:
    return issue_access_token(keys, user_id="usr_1", company_id="cmp_1", now=NOW).token


# -- the keys ---------------------------------------------------------------------------------------


def test_rs256_is_the_default_and_the_algorithms_are_the_three() -> None:
    """RS256 unless --jwt-alg says otherwise; an unknown algorithm is refused in one line."""
    assert DEFAULT_ALGORITHM == "RS256" and ALGORITHMS == ("RS256", "ES256", "HS256")
    assert Settings(data_dir=Path("unused")).jwt_alg == "RS256"
    with pytest.raises(ValueError, match="--jwt-alg 'RS512': expected one of RS256, ES256, HS256"):
        Settings(data_dir=Path("unused"), jwt_alg="RS512")


def test_serve_offers_exactly_the_servers_algorithms() -> None:
    """``sergio-kit serve --jwt-alg`` takes the three algorithms, RS256 when not given."""
    parser = argparse.ArgumentParser()
    serve.add_arguments(parser)
    (option,) = [action for action in parser._actions if action.dest == "jwt_alg"]
    assert tuple(option.choices or ()) == ALGORITHMS and option.default == DEFAULT_ALGORITHM


@pytest.mark.parametrize("algorithm", ["RS256", "ES256"])
def test_an_asymmetric_key_is_kept_private_and_published_by_its_thumbprint(
    tmp_path: Path, algorithm: str
) -> None:
    """The private key is a 0600 PEM in the data folder, the same on every load; the key set holds its
    public half only, named by its RFC 7638 thumbprint, with alg and use."""
    keys = load_token_keys(tmp_path, algorithm)
    path = tmp_path / PRIVATE_KEY_FILES[algorithm]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert b"PRIVATE KEY" in path.read_bytes()
    assert load_token_keys(tmp_path, algorithm).kid == keys.kid == thumbprint(keys.public_jwk or {})
    (published,) = keys.jwks()["keys"]
    assert published["kid"] == keys.kid and published["alg"] == algorithm and published["use"] == "sig"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(published), "a private member is published"
    assert keys.public_pem is not None and keys.public_pem.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert jwt.get_unverified_header(_token(keys)) == {"alg": algorithm, "kid": keys.kid, "typ": "JWT"}


def test_hs256_keeps_a_secret_and_publishes_no_key(tmp_path: Path) -> None:
    """HS256: a 0600 shared secret, no kid, an empty key set."""
    keys = load_token_keys(tmp_path, "HS256")
    assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
    assert keys.kid is None and not keys.asymmetric and keys.jwks() == {"keys": []}
    assert jwt.get_unverified_header(_token(keys)) == {"alg": "HS256", "typ": "JWT"}


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_a_token_verifies_only_under_the_servers_one_key(tmp_path: Path, algorithm: str) -> None:
    """Each algorithm's own token verifies; one from another data folder's key, or naming another kid,
    does not."""
    for folder in ("ours", "theirs"):
        (tmp_path / folder).mkdir()
    keys = load_token_keys(tmp_path / "ours", algorithm)
    token = _token(keys)
    assert verify_access_token(token, keys=keys, now=NOW + 1, faults=Faults())["sub"] == "usr_1"
    theirs = _token(load_token_keys(tmp_path / "theirs", algorithm))
    with pytest.raises(InvalidTokenError):
        verify_access_token(theirs, keys=keys, now=NOW + 1, faults=Faults())
    if keys.kid is not None:
        claims = jwt.decode(token, options={"verify_signature": False})
        renamed = jwt.encode(claims, keys.signing_key, algorithm=algorithm, headers={"kid": "other"})
        with pytest.raises(InvalidTokenError, match="kid names no key"):
            verify_access_token(renamed, keys=keys, now=NOW + 1, faults=Faults())


@pytest.fixture
def rs256(tmp_path: Path) -> Any:
    """RS256 keys in a fresh folder."""
    return load_token_keys(tmp_path, "RS256")


def test_hmac_with_the_public_key_is_refused_unless_the_fault_is_on(rs256: Any) -> None:
    """HS256 keyed with the public PEM or the published JWK's JSON: refused by the clean verifier,
    accepted by the key_confusion faults (the proof that those faults do what they say)."""
    claims = jwt.decode(_token(rs256), options={"verify_signature": False})
    by_pem = sign(claims, rs256.public_pem, algorithm="HS256")
    by_jwk = sign(claims, json.dumps(rs256.public_jwk, separators=(",", ":")).encode(), algorithm="HS256")
    for forged in (by_pem, by_jwk):
        with pytest.raises(InvalidTokenError):
            verify_access_token(forged, keys=rs256, now=NOW + 1, faults=Faults())
    assert verify_access_token(by_pem, keys=rs256, now=NOW + 1, faults=Faults(["auth.jwt.key_confusion"]))
    assert verify_access_token(by_jwk, keys=rs256, now=NOW + 1, faults=Faults(["auth.jwt.key_confusion@jwk"]))
    with pytest.raises(InvalidTokenError):
        verify_access_token(by_jwk, keys=rs256, now=NOW + 1, faults=Faults(["auth.jwt.key_confusion"]))


def test_the_kid_file_fault_reads_a_traversal_to_dev_null(rs256: Any) -> None:
    """With auth.jwt.kid, an HS256 token keyed with nothing and a kid traversing to /dev/null verifies;
    with another fault on (the faulty verifier, without this bug), it does not."""
    claims = jwt.decode(_token(rs256), options={"verify_signature": False})
    forged = sign(claims, b"", algorithm="HS256", header={"kid": "../" * 16 + "dev/null"})
    with pytest.raises(InvalidTokenError):
        verify_access_token(forged, keys=rs256, now=NOW + 1, faults=Faults(["auth.jwt.alg_none"]))
    assert verify_access_token(forged, keys=rs256, now=NOW + 1, faults=Faults(["auth.jwt.kid"]))


# -- running servers ----------------------------------------------------------------------------------


def test_the_default_server_publishes_the_key_its_tokens_name(
    server: RunningServer, api: httpx.Client
) -> None:
    """RS256: the key set is public (no credentials), and its key, found by the token's kid, verifies
    the token."""
    token = login(api, seeded_accounts(server)["acme"]["admin"])["token"]
    response = api.get(JWKS)
    assert response.status_code == 200 and response.headers["content-type"] == "application/json"
    header = jwt.get_unverified_header(token)
    (jwk,) = [key for key in response.json()["keys"] if key["kid"] == header["kid"]]
    claims = jwt.decode(
        token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience="sergio-api", options=UNTIMED
    )
    assert claims["sub"] == seeded_accounts(server)["acme"]["admin"]["id"]
    assert server.jwt_algorithm == "RS256" and server.jwt_secret() is None
    assert b"PRIVATE KEY" in server.signing_key()


@pytest.fixture(scope="module", params=["ES256", "HS256"])
def other_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_template: Path
) -> Iterator[RunningServer]:
    """A reference server started with ``--jwt-alg ES256`` or ``HS256``."""
    running = start_server(
        tmp_path_factory.mktemp(request.param.lower()), template=server_template, jwt_alg=request.param
    )
    yield running
    running.stop()


def test_the_other_algorithms_sign_and_publish_as_they_should(other_server: RunningServer) -> None:
    """ES256 tokens name their key, which the key set publishes; HS256 tokens name none, and there is
    no key set (404, the operation is not routed). Both work as bearer tokens; the ready file names the
    signing key the kit is given."""
    algorithm = other_server.jwt_algorithm
    with client_for(other_server) as client:
        token = login(client, seeded_accounts(other_server)["acme"]["admin"])["token"]
        assert client.get("/v1/jobs", headers=bearer(token)).status_code == 200
        header = jwt.get_unverified_header(token)
        assert header["alg"] == algorithm
        response = client.get(JWKS)
    if algorithm == "HS256":
        assert "kid" not in header and response.status_code == 404
        assert other_server.jwt_secret() and other_server.jwt_private_key() is None
        assert "SERGIO_JWT_SECRET" in other_server.deployment_settings()
    else:
        assert response.status_code == 200
        assert [key["kid"] for key in response.json()["keys"]] == [header["kid"]]
        assert other_server.jwt_secret() is None and other_server.jwt_private_key()
        assert other_server.deployment_settings()["SERGIO_JWT_PRIVATE_KEY"].endswith(
            PRIVATE_KEY_FILES["ES256"]
        )
