"""Login, bearer-token verification and admin-only key management on the reference server."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from sergio_kit.checks.auth.strategies import sign as sign_with
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.support.api import bearer, login

AUDIENCE = "sergio-api"
ISSUER = "https://api.sergio.app"
REQUIRED_CLAIMS = ("iss", "aud", "sub", "cid", "iat", "nbf", "exp", "jti")
HS256 = {"alg": "HS256", "typ": "JWT"}


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def sign(header: dict[str, Any], claims: dict[str, Any], key: bytes) -> str:
    """A compact JWS of ``claims``, HMAC-SHA256-signed with ``key`` whatever ``header["alg"]`` says."""
    signing_input = f"{_segment(header)}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A token with an empty signature segment."""
    return f"{_segment(header)}.{_segment(claims)}."


def assert_invalid_token(response: httpx.Response) -> None:
    """The response is the 401 for a bad bearer token: error shape plus the RFC 6750 challenge."""
    assert response.status_code == 401, response.text
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.json()["error"]["message"]
    challenge = response.headers.get("www-authenticate", "")
    assert challenge.startswith("Bearer"), challenge
    assert 'error="invalid_token"' in challenge


@dataclass(frozen=True)
class Session:
    """A logged-in admin: the login response, its verified claims and what forging needs: the
    server's signing key (HS256 secret or PEM private key), algorithm and key id."""

    token: str
    refresh_token: str
    claims: dict[str, Any]
    secret: bytes
    now: int
    algorithm: str = "HS256"
    kid: str | None = None

    def resign(self, claims: dict[str, Any]) -> str:
        """``claims`` signed with the server's own key, algorithm and ``kid``."""
        header = {"kid": self.kid} if self.kid else None
        return sign_with(claims, self.secret, algorithm=self.algorithm, header=header)


def verification_key(server: RunningServer) -> Any:
    """What verifies the server's tokens: its HS256 secret, or the public half of its private key."""
    secret = server.jwt_secret()
    if secret is not None:
        return secret
    return serialization.load_pem_private_key(server.signing_key(), password=None).public_key()


def decode_verified(token: str, server: RunningServer) -> dict[str, Any]:
    """Verify signature, audience, issuer and required claims (not time: the server clock moves)."""
    claims: dict[str, Any] = jwt.decode(
        token,
        verification_key(server),
        algorithms=[server.jwt_algorithm],
        audience=AUDIENCE,
        issuer=ISSUER,
        options={
            "require": list(REQUIRED_CLAIMS),
            "verify_exp": False,
            "verify_nbf": False,
            "verify_iat": False,
        },
    )
    return claims


@pytest.fixture
def session(api: httpx.Client, accounts: dict[str, Any], server: RunningServer, clock: TestClock) -> Session:
    """A fresh Acme admin login with the server's signing key and the server's current time."""
    data = login(api, accounts["acme"]["admin"])
    claims = decode_verified(data["token"], server)
    kid = jwt.get_unverified_header(data["token"]).get("kid")
    return Session(
        data["token"],
        data["refresh_token"],
        claims,
        server.signing_key(),
        int(clock.now()),
        server.jwt_algorithm,
        kid,
    )


# -- login ------------------------------------------------------------------------------------


def test_login_issues_a_one_hour_jwt_whose_expiry_matches_expires_at(
    api: httpx.Client, accounts: dict[str, Any], server: RunningServer, clock: TestClock
) -> None:
    """Login returns token/refresh_token/expires_at; the token is a JWT of the server's algorithm (RS256
    by default, naming its key by kid) with every required claim, exp - iat == 3600 and expires_at == exp."""
    before = clock.now()
    response = api.post(
        "/v1/auth/login", json={k: accounts["acme"]["admin"][k] for k in ("email", "password")}
    )
    after = clock.now()
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"token", "refresh_token", "expires_at"}
    assert jwt.get_unverified_header(body["token"])["alg"] == server.jwt_algorithm == "RS256"
    assert jwt.get_unverified_header(body["token"])["kid"]
    claims = decode_verified(body["token"], server)
    assert set(REQUIRED_CLAIMS) <= set(claims)
    assert claims["iss"] == ISSUER and claims["aud"] == AUDIENCE
    assert claims["sub"] == accounts["acme"]["admin"]["id"]
    assert claims["cid"] == accounts["acme"]["id"]
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["nbf"] <= claims["iat"]
    assert int(before) <= claims["iat"] <= after
    assert body["expires_at"].endswith("Z")
    assert datetime.fromisoformat(body["expires_at"]).timestamp() == claims["exp"]
    assert body["refresh_token"] != body["token"]


def test_unknown_email_and_wrong_password_are_indistinguishable(
    api: httpx.Client, accounts: dict[str, Any]
) -> None:
    """An unknown email and a known email with a wrong password get the same 401 status and body."""
    admin = accounts["acme"]["admin"]
    unknown = api.post("/v1/auth/login", json={"email": "nobody@acme.test", "password": admin["password"]})
    wrong = api.post("/v1/auth/login", json={"email": admin["email"], "password": admin["password"] + "x"})
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.content == wrong.content
    assert unknown.json()["error"]["code"] == "unauthorized"
    assert "token" not in unknown.json() and "token" not in wrong.json()


# -- the Authorization header ---------------------------------------------------------------


def test_missing_bearer_token_gets_401_with_a_challenge(api: httpx.Client) -> None:
    """No Authorization header → 401 with the error shape and a Bearer WWW-Authenticate challenge."""
    response = api.get("/v1/jobs")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert response.headers["www-authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "header",
    [
        pytest.param(lambda token: "Basic x", id="basic-x"),
        pytest.param(lambda token: f"Basic {token}", id="basic-jwt"),
        pytest.param(lambda token: token, id="bare-token"),
        pytest.param(lambda token: "Bearer", id="bearer-alone"),
        pytest.param(lambda token: f"Bearer,{token}", id="comma-separator"),
        pytest.param(lambda token: f"Bearer {token} {token}", id="two-tokens"),
        pytest.param(lambda token: f"Token {token}", id="token-scheme"),
        pytest.param(lambda token: f"Bearer {token}!", id="bad-char"),
    ],
)
def test_malformed_authorization_header_gets_401(
    api: httpx.Client, session: Session, header: Callable[[str], str]
) -> None:
    """A malformed Authorization header (wrong scheme, no scheme, no token) → 401 with a challenge,
    even when it carries a valid token."""
    response = api.get("/v1/jobs", headers={"Authorization": header(session.token)})
    assert_invalid_token(response)
    assert api.get("/v1/jobs", headers=bearer(session.token)).status_code == 200


# -- forged and broken tokens ---------------------------------------------------------------


def _parts(token: str) -> tuple[str, str, str]:
    header, payload, signature = token.split(".")
    return header, payload, signature


def _tampered_payload(s: Session) -> str:
    header, _, signature = _parts(s.token)
    return f"{header}.{_segment({**s.claims, 'sub': 'usr_acme1'})}.{signature}"


def _tampered_signature(s: Session) -> str:
    header, payload, signature = _parts(s.token)
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    return f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"


def _signature_prefix(length: int) -> Callable[[Session], str]:
    """The genuine signature cut to ``length`` characters (lengths that are still valid base64url)."""

    def forge(s: Session) -> str:
        header, payload, signature = _parts(s.token)
        return f"{header}.{payload}.{signature[:length]}"

    return forge


def _empty_signature(s: Session) -> str:
    header, payload, _ = _parts(s.token)
    return f"{header}.{payload}."


def _two_segments(s: Session) -> str:
    header, payload, _ = _parts(s.token)
    return f"{header}.{payload}"


def _alg_none(alg: str) -> Callable[[Session], str]:
    def forge(s: Session) -> str:
        return unsigned({"alg": alg, "typ": "JWT"}, s.claims)

    return forge


def _alg_none_keeping_signature(s: Session) -> str:
    _, payload, signature = _parts(s.token)
    return f"{_segment({'alg': 'none', 'typ': 'JWT'})}.{payload}.{signature}"


def _wrong_key(key: bytes) -> Callable[[Session], str]:
    def forge(s: Session) -> str:
        return sign(HS256, s.claims, key)

    return forge


def _other_hash_with_real_key(s: Session) -> str:
    """The real key under the same family's other hash: not the server's one algorithm."""
    other = {"HS256": "HS512", "RS256": "RS512", "ES256": "HS512"}[s.algorithm]
    return sign_with(s.claims, s.secret, algorithm=other, header={"kid": s.kid} if s.kid else None)


def _embedded_jwk(s: Session) -> str:
    attacker = secrets.token_bytes(32)
    header = {**HS256, "jwk": {"kty": "oct", "k": _b64(attacker)}}
    return sign(header, s.claims, attacker)


def _kid_path_traversal(s: Session) -> str:
    return sign({**HS256, "kid": "../../../../dev/null"}, s.claims, b"")


def _resigned(**changes: Any) -> Callable[[Session], str]:
    """Claims changed (``None`` removes one), re-signed with the server's real secret."""

    def forge(s: Session) -> str:
        claims = {**s.claims, **{k: v for k, v in changes.items() if v is not None}}
        for name in [k for k, v in changes.items() if v is None]:
            claims.pop(name)
        return s.resign(claims)

    return forge


def _relative(**offsets: int) -> Callable[[Session], str]:
    """Time claims set relative to the server's now, re-signed with the real secret."""

    def forge(s: Session) -> str:
        return s.resign({**s.claims, **{k: s.now + v for k, v in offsets.items()}})

    return forge


FORGERIES: dict[str, Callable[[Session], str]] = {
    "tampered-payload": _tampered_payload,
    "tampered-signature": _tampered_signature,
    "signature-minus-3-chars": _signature_prefix(40),
    "half-signature": _signature_prefix(22),
    "two-char-signature": _signature_prefix(2),
    "empty-signature": _empty_signature,
    "two-segments": _two_segments,
    "alg-none": _alg_none("none"),
    "alg-None": _alg_none("None"),
    "alg-NONE": _alg_none("NONE"),
    "alg-nOnE": _alg_none("nOnE"),
    "alg-none-old-signature": _alg_none_keeping_signature,
    "wrong-key": _wrong_key(secrets.token_bytes(64)),
    "empty-key": _wrong_key(b""),
    "common-secret": _wrong_key(b"secret"),
    "jwt-io-secret": _wrong_key(b"your-256-bit-secret"),
    "other-hash-real-key": _other_hash_with_real_key,
    "embedded-jwk": _embedded_jwk,
    "kid-path-traversal": _kid_path_traversal,
    "expired": _relative(iat=-3601, nbf=-3601, exp=-1),
    "nbf-in-future": _relative(nbf=600),
    "iat-in-future": _relative(iat=600, nbf=600, exp=4200),
    "wrong-audience": _resigned(aud="sergio-admin"),
    "audience-list-without-ours": _resigned(aud=["other-api"]),
    "wrong-issuer": _resigned(iss="https://evil.example"),
    "missing-exp": _resigned(exp=None),
    "missing-iat": _resigned(iat=None),
    "missing-sub": _resigned(sub=None),
    "missing-aud": _resigned(aud=None),
    "missing-iss": _resigned(iss=None),
    "exp-as-string": _resigned(exp="9999999999"),
    "cid-not-a-string": _resigned(cid=123),
    "cid-of-other-company": _resigned(cid="cmp_brite"),
    "unknown-user": _resigned(sub="usr_nobody"),
    "refresh-kind": _resigned(typ="refresh"),
}


def test_resigned_unchanged_claims_are_accepted(api: httpx.Client, session: Session) -> None:
    """Control for the forgeries: the same claims re-signed with the real secret are accepted, so each
    401 below is caused by its one change."""
    forged = session.resign(session.claims)
    assert api.get("/v1/jobs", headers=bearer(forged)).status_code == 200


@pytest.mark.parametrize("forge", list(FORGERIES.values()), ids=list(FORGERIES))
def test_forged_or_broken_token_gets_401(
    api: httpx.Client, session: Session, forge: Callable[[Session], str]
) -> None:
    """A tampered, unsigned, wrongly signed or wrongly claimed token → 401 invalid_token; the genuine
    token still works afterwards."""
    assert_invalid_token(api.get("/v1/jobs", headers=bearer(forge(session))))
    assert api.get("/v1/jobs", headers=bearer(session.token)).status_code == 200


def test_token_works_until_3599_s_and_fails_at_3601_s(
    api: httpx.Client, accounts: dict[str, Any], clock: TestClock
) -> None:
    """With the server clock frozen at login, the token is accepted 3599 s later and refused 3601 s later."""
    clock.freeze()
    try:
        token = login(api, accounts["acme"]["admin"])["token"]
        clock.advance(3599)
        assert api.get("/v1/jobs", headers=bearer(token)).status_code == 200
        clock.advance(2)
        assert_invalid_token(api.get("/v1/jobs", headers=bearer(token)))
    finally:
        clock.unfreeze()


# -- token kinds -----------------------------------------------------------------------------


def test_refresh_token_is_not_a_bearer_token(api: httpx.Client, session: Session) -> None:
    """The refresh token from login, sent as a bearer token → 401."""
    assert_invalid_token(api.get("/v1/jobs", headers=bearer(session.refresh_token)))


def test_access_token_is_not_a_refresh_token(api: httpx.Client, session: Session) -> None:
    """The access token sent to /v1/auth/refresh → 401 and no new tokens."""
    response = api.post("/v1/auth/refresh", json={"refresh_token": session.token})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"
    assert "token" not in response.json()


# -- roles -----------------------------------------------------------------------------------


def test_member_cannot_manage_api_keys(
    api: httpx.Client, accounts: dict[str, Any], server: RunningServer
) -> None:
    """A company member (not admin) gets 403 on every /v1/api-keys operation, and nothing changes."""
    token = login(api, accounts["acme"]["member"])["token"]
    key_id = next(c for c in server.credentials()["companies"] if c["id"] == "cmp_acme")["api_keys"][0]["id"]
    attempts = [
        api.get("/v1/api-keys", headers=bearer(token)),
        api.post("/v1/api-keys", json={"name": "mine", "scopes": ["jobs:read"]}, headers=bearer(token)),
        api.post(f"/v1/api-keys/{key_id}/rotate", headers=bearer(token)),
        api.delete(f"/v1/api-keys/{key_id}", headers=bearer(token)),
    ]
    for response in attempts:
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "forbidden"
        assert "key" not in response.json()
    seeded = accounts["acme"]["keys"]["jobs:read"]
    assert api.get("/zapier/v1/me", headers={"X-API-Key": seeded}).status_code == 200
