"""Probes of the ``auth`` faults: login, the bearer header, JWT verification, token kinds and expiry.

Forged tokens are built with the kit's token plumbing (:mod:`sergio_kit.checks.auth.strategies`:
``sign``, ``segment``, ``split_token``, ``unverified_claims``); each probe picks its own attack.
"""

from __future__ import annotations

import json
import secrets
from calendar import timegm
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from time import strptime
from typing import Any

import httpx
import jwt

from sergio_kit.checks.auth.strategies import (
    ALG_NONE_SPELLINGS,
    b64url,
    segment,
    sign,
    split_token,
    unverified_claims,
)
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.server.fault_probes.plumbing import (
    Probe,
    accepted,
    expect,
    expect_error,
    frozen,
    json_of,
    refused,
    session_of,
    shown,
    token_of,
)
from tests.support.api import client_for, login, seeded_accounts

TOKEN_LIFETIME = 3600  # seconds an access token lives


# -- login -----------------------------------------------------------------------------------------


def probe_auth_login_shape(server: RunningServer, clock: TestClock) -> None:
    """Login answers 200 with token (a JWT), refresh_token and expires_at, not cached."""
    with client_for(server) as client:
        user = seeded_accounts(server)["acme"]["member"]
        response = client.post("/v1/auth/login", json={"email": user["email"], "password": user["password"]})
        expect(response, 200, "login")
        body = json_of(response, "login")
        for name in ("token", "refresh_token", "expires_at"):
            assert isinstance(body.get(name), str) and body[name], f"login response lacks {name!r}: {body}"
        assert body["token"].count(".") == 2, f"token is not a JWT: {body['token'][:20]}..."
        assert "no-store" in response.headers.get("Cache-Control", ""), "login response may be cached"


def probe_auth_login_lifetime(server: RunningServer, clock: TestClock) -> None:
    """A login's token lives exactly 3600 s from now, and expires_at equals its exp."""
    with client_for(server) as client, frozen(clock) as now:
        data = login(client, seeded_accounts(server)["acme"]["member"])
        assert isinstance(data.get("token"), str) and isinstance(data.get("expires_at"), str), data
        claims = unverified_claims(data["token"])
        lifetime = claims["exp"] - claims["iat"]
        assert lifetime == TOKEN_LIFETIME, f"exp - iat = {lifetime}, not {TOKEN_LIFETIME}"
        assert abs(claims["exp"] - (now + TOKEN_LIFETIME)) <= 2, (
            f"exp {claims['exp']} is not server now+{TOKEN_LIFETIME} ({now})"
        )
        expires_at = timegm(strptime(data["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
        assert expires_at == claims["exp"], (
            f"expires_at {data['expires_at']} ({expires_at}) != exp {claims['exp']}"
        )


def probe_auth_login_enumeration(server: RunningServer, clock: TestClock) -> None:
    """An unknown email and a wrong password get the same status and the same body."""
    with client_for(server) as client:
        user = seeded_accounts(server)["acme"]["member"]
        unknown = client.post(
            "/v1/auth/login", json={"email": f"nobody-{secrets.token_hex(4)}@acme.test", "password": "x" * 12}
        )
        wrong = client.post("/v1/auth/login", json={"email": user["email"], "password": "wrong-password-123"})
        expect_error(unknown, 401, "unauthorized", "login with an unknown email")
        expect_error(wrong, 401, "unauthorized", "login with a wrong password")
        assert unknown.json() == wrong.json(), (
            f"bodies differ: unknown {unknown.text!r} vs wrong {wrong.text!r}"
        )


def probe_auth_login_bad_input(server: RunningServer, clock: TestClock) -> None:
    """Malformed JSON, wrong types and missing fields at login are 4xx with the error shape, never 5xx."""
    with client_for(server) as client:
        bad_bodies: list[bytes] = [b"{not json", b'{"email": ', b"\xff\xfe", b"[1, 2", b"{}", b"[]"]
        bad_bodies.append(json.dumps({"email": 5, "password": ["x"]}).encode())
        for raw in bad_bodies:
            response = client.post(
                "/v1/auth/login", content=raw, headers={"Content-Type": "application/json"}
            )
            assert 400 <= response.status_code < 500, (
                f"login body {raw!r}: expected 4xx, got {shown(response)}"
            )
            body = json_of(response, f"login body {raw!r}")
            assert isinstance(body.get("error"), dict), f"login body {raw!r}: no error shape: {body}"


# -- the bearer header -----------------------------------------------------------------------------


def probe_auth_bearer_missing(server: RunningServer, clock: TestClock) -> None:
    """A request without Authorization is 401 with a Bearer challenge."""
    with client_for(server) as client:
        response = client.get("/v1/jobs")
        expect_error(response, 401, "unauthorized", "GET /v1/jobs without Authorization")
        challenge = response.headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Bearer"), f"401 without a Bearer challenge: {challenge!r}"


def probe_auth_bearer_malformed(server: RunningServer, clock: TestClock) -> None:
    """Only 'Bearer <jwt>' authenticates: other schemes, a bare JWT or trailing data are 400/401."""
    with client_for(server) as client:
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "setup")
        for header in (f"Basic {token}", token, f"Token {token}", f"Bearer:{token}", f"Bearer {token} x"):
            response = client.get("/v1/jobs", headers={"Authorization": header})
            expect(response, (400, 401), f"Authorization: {header[:12]}... (malformed)")
        accepted(client, token, "the same token sent as 'Bearer <jwt>'")


def probe_auth_bearer_malformed_tab(server: RunningServer, clock: TestClock) -> None:
    """A tab is not the space of 'Bearer <jwt>' (RFC 7235 ``1*SP``): 'Bearer<TAB><jwt>' is 400/401."""
    with client_for(server) as client:
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "setup")
        response = client.get("/v1/jobs", headers={"Authorization": f"Bearer\t{token}"})
        expect(response, (400, 401), "Authorization: Bearer<TAB><jwt>")
        accepted(client, token, "the same token sent as 'Bearer <jwt>'")


def probe_auth_bearer_placement(server: RunningServer, clock: TestClock) -> None:
    """A valid token in the query string (?access_token=) is not a credential: 401."""
    with client_for(server) as client:
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "setup")
        response = client.get("/v1/jobs", params={"access_token": token})
        expect_error(response, 401, "unauthorized", "GET /v1/jobs?access_token=<jwt>")


def probe_auth_bearer_placement_form(server: RunningServer, clock: TestClock) -> None:
    """A valid token in a form-encoded body (access_token=) is not a credential: 401."""
    with client_for(server) as client:
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "setup")
        response = client.post("/v1/jobs", data={"access_token": token})
        expect_error(response, 401, "unauthorized", "POST /v1/jobs with the form body access_token=<jwt>")


# -- JWT verification ------------------------------------------------------------------------------


@dataclass
class Forgery:
    """A real member token, its claims and the server's key (HS256 secret or PEM private key), to
    forge tokens from."""

    client: httpx.Client
    token: str
    claims: dict[str, Any]
    secret: bytes
    algorithm: str = "HS256"
    header: dict[str, Any] | None = None  # the real token's header parameters (its kid)

    def signed(self, **changes: Any) -> str:
        """The token's claims with ``changes``, validly signed with the server's key."""
        return sign({**self.claims, **changes}, self.secret, algorithm=self.algorithm, header=self.header)


@contextmanager
def forgery_on(server: RunningServer) -> Iterator[Forgery]:
    """A :class:`Forgery` of Acme's member, after a control that re-signing with the key works."""
    with client_for(server) as client:
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "forgery setup")
        kid = jwt.get_unverified_header(token).get("kid")
        forgery = Forgery(
            client,
            token,
            unverified_claims(token),
            server.signing_key(),
            server.jwt_algorithm,
            {"kid": kid} if kid else None,
        )
        accepted(client, forgery.signed(), "control: the login's own claims re-signed with the server key")
        yield forgery


def probe_auth_jwt_tampered_claims(server: RunningServer, clock: TestClock) -> None:
    """A token whose payload was changed (member -> admin) under the old signature is 401."""
    with forgery_on(server) as forgery:
        admin_id = seeded_accounts(server)["acme"]["admin"]["id"]
        header, _, signature = split_token(forgery.token)
        tampered = f"{header}.{segment({**forgery.claims, 'sub': admin_id})}.{signature}"
        refused(forgery.client, tampered, "payload changed to the admin, signature kept")


def probe_auth_jwt_truncated_signature(server: RunningServer, clock: TestClock) -> None:
    """Tokens with a shortened signature are 401, and the untouched token still works.

    Cuts at whole bytes (a multiple of 4 base64 characters) matter: PyJWT already rejects other
    lengths as non-canonical base64, so only those reach a signature comparison.
    """
    with forgery_on(server) as forgery:
        header, payload, signature = split_token(forgery.token)
        for keep in (40, 20, 4, len(signature) - 1, 1):
            refused(
                forgery.client, f"{header}.{payload}.{signature[:keep]}", f"signature cut to {keep} chars"
            )
        accepted(forgery.client, forgery.token, "the untouched token after the truncated ones")


def probe_auth_jwt_null_signature(server: RunningServer, clock: TestClock) -> None:
    """A token with an empty signature is 401, and the untouched token still works."""
    with forgery_on(server) as forgery:
        header, payload, _ = split_token(forgery.token)
        refused(forgery.client, f"{header}.{payload}.", "the token with an empty signature")
        accepted(forgery.client, forgery.token, "the untouched token after the unsigned one")


def probe_auth_jwt_alg_none(server: RunningServer, clock: TestClock) -> None:
    """Unsigned tokens with alg none, None, NONE or nOnE are 401."""
    with forgery_on(server) as forgery:
        _, payload, _ = split_token(forgery.token)
        for alg in ALG_NONE_SPELLINGS:
            refused(
                forgery.client, f"{segment({'alg': alg, 'typ': 'JWT'})}.{payload}.", f"alg {alg!r}, unsigned"
            )


def probe_auth_jwt_alg_confusion(server: RunningServer, clock: TestClock) -> None:
    """HS256 tokens signed with the empty key or the guessable 'secret' are 401."""
    with forgery_on(server) as forgery:
        for weak in (b"", b"secret"):
            refused(forgery.client, sign(forgery.claims, weak), f"HS256 signed with the key {weak!r}")


def probe_auth_jwt_header_injection(server: RunningServer, clock: TestClock) -> None:
    """A token signed with a key embedded in its own 'jwk' header is 401."""
    with forgery_on(server) as forgery:
        key = secrets.token_bytes(32)
        injected = sign(forgery.claims, key, header={"jwk": {"kty": "oct", "k": b64url(key)}})
        refused(forgery.client, injected, "signed with its own embedded jwk")


def probe_auth_jwt_expired(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token whose exp passed an hour ago is 401."""
    with forgery_on(server) as forgery:
        iat = forgery.claims["iat"] - 2 * TOKEN_LIFETIME
        refused(
            forgery.client, forgery.signed(iat=iat, nbf=iat, exp=iat + TOKEN_LIFETIME), "exp one hour ago"
        )


def probe_auth_jwt_not_yet_valid(server: RunningServer, clock: TestClock) -> None:
    """Validly signed tokens with nbf or iat ten minutes in the future are 401."""
    with forgery_on(server) as forgery:
        future = forgery.claims["iat"] + 600
        refused(forgery.client, forgery.signed(nbf=future), "nbf 10 min in the future")
        refused(forgery.client, forgery.signed(iat=future), "iat 10 min in the future")


def probe_auth_jwt_wrong_audience(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token for another audience is 401."""
    with forgery_on(server) as forgery:
        refused(forgery.client, forgery.signed(aud="https://other.example"), "aud of another service")


def probe_auth_jwt_wrong_issuer(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token from another issuer is 401."""
    with forgery_on(server) as forgery:
        refused(forgery.client, forgery.signed(iss="https://evil.example"), "iss of another issuer")


def probe_auth_jwt_missing_exp(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token without exp is 401."""
    with forgery_on(server) as forgery:
        claims = {name: value for name, value in forgery.claims.items() if name != "exp"}
        refused(
            forgery.client,
            sign(claims, forgery.secret, algorithm=forgery.algorithm, header=forgery.header),
            "no exp claim",
        )


def probe_auth_jwt_claim_fuzz(server: RunningServer, clock: TestClock) -> None:
    """Validly signed tokens with odd claim types are 401, never 5xx."""
    with forgery_on(server) as forgery:
        odd: list[dict[str, Any]] = [
            {"cid": 123},
            {"cid": None},
            {"cid": ["cmp_acme"]},
            {"cid": {"id": "cmp_acme"}},
            {"sub": 7},
            {"exp": "never"},
            {"iat": True},
        ]
        for change in odd:
            refused(forgery.client, forgery.signed(**change), f"re-signed with {change}")


def probe_auth_jwt_claim_fuzz_cid_trusted(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token whose cid names another company is 401: the company is not taken from it."""
    with forgery_on(server) as forgery:
        other = seeded_accounts(server)["brite"]["id"]
        refused(forgery.client, forgery.signed(cid=other), "re-signed with another company's cid")


# -- token kinds and expiry ------------------------------------------------------------------------


def probe_auth_token_kind(server: RunningServer, clock: TestClock) -> None:
    """A refresh token is no bearer token, and an access token is no refresh token."""
    with client_for(server) as client:
        data = session_of(client, seeded_accounts(server)["acme"]["member"], "setup")
        refused(client, data["refresh_token"], "the refresh token sent as a bearer token")
        response = client.post("/v1/auth/refresh", json={"refresh_token": data["token"]})
        expect(response, (400, 401, 422), "the access token sent to /v1/auth/refresh")


def probe_auth_expiry_live(server: RunningServer, clock: TestClock) -> None:
    """With the server clock moved on, a token works at +3599 s and is 401 at +3601 s."""
    with client_for(server) as client, frozen(clock):
        token = token_of(client, seeded_accounts(server)["acme"]["member"], "login")
        clock.advance(TOKEN_LIFETIME - 1)
        accepted(client, token, "the token 3599 s after login")
        clock.advance(2)
        refused(client, token, "the token 3601 s after login (1 h lifetime)")


PROBES: dict[str, Probe] = {
    "auth.login.shape": probe_auth_login_shape,
    "auth.login.lifetime": probe_auth_login_lifetime,
    "auth.login.enumeration": probe_auth_login_enumeration,
    "auth.login.bad_input": probe_auth_login_bad_input,
    "auth.bearer.missing": probe_auth_bearer_missing,
    "auth.bearer.malformed": probe_auth_bearer_malformed,
    "auth.bearer.malformed@tab": probe_auth_bearer_malformed_tab,
    "auth.bearer.placement": probe_auth_bearer_placement,
    "auth.bearer.placement@form": probe_auth_bearer_placement_form,
    "auth.jwt.tampered_claims": probe_auth_jwt_tampered_claims,
    "auth.jwt.truncated_signature": probe_auth_jwt_truncated_signature,
    "auth.jwt.null_signature": probe_auth_jwt_null_signature,
    "auth.jwt.alg_none": probe_auth_jwt_alg_none,
    "auth.jwt.alg_confusion": probe_auth_jwt_alg_confusion,
    "auth.jwt.header_injection": probe_auth_jwt_header_injection,
    "auth.jwt.expired": probe_auth_jwt_expired,
    "auth.jwt.not_yet_valid": probe_auth_jwt_not_yet_valid,
    "auth.jwt.wrong_audience": probe_auth_jwt_wrong_audience,
    "auth.jwt.wrong_issuer": probe_auth_jwt_wrong_issuer,
    "auth.jwt.missing_exp": probe_auth_jwt_missing_exp,
    "auth.jwt.claim_fuzz": probe_auth_jwt_claim_fuzz,
    "auth.jwt.claim_fuzz@cid-trusted": probe_auth_jwt_claim_fuzz_cid_trusted,
    "auth.token_kind": probe_auth_token_kind,
    "auth.expiry.live": probe_auth_expiry_live,
}
