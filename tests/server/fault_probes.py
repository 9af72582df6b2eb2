"""One probe per reference-server fault: each exercises exactly one rule over real HTTPS.

A probe is ``probe(server, clock)``: it returns when ``server`` keeps the rule and raises
``AssertionError`` (saying what was sent and what came back) when the rule is broken. ``PROBES``
maps every fault id (= check id) to its probe; the five rate-limit rules share one probe function
each, parametrised by tier. Probes freeze the server clock where timing matters and never sleep.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import secrets
import tempfile
from calendar import timegm
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from time import strptime
from typing import Any

import httpx

from sergio_kit.contract.document import TIERS, Operation, operations
from sergio_kit.server.tls import issue_receiver_cert
from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from sergio_kit.webhooks.receiver import Delivery, WebhookReceiver
from sergio_kit.webhooks.signatures import SignatureError, verify
from tests.conftest import JOB, bearer, login

Probe = Callable[[RunningServer, TestClock], None]

WINDOW = 61  # seconds that start every rate-limit window afresh
UNREACHABLE_HOOK = "https://127.0.0.1:9/sergio-kit-probe"  # loopback discard port: nothing listens
DELIVERY_TIMEOUT = 5.0


# -- plumbing ----------------------------------------------------------------------------------


def _client(server: RunningServer) -> httpx.Client:
    """A keep-alive HTTPS client for ``server``."""
    return httpx.Client(base_url=server.base_url, verify=server.ssl_context(), timeout=15.0)


def _accounts(server: RunningServer) -> dict[str, Any]:
    """Seeded credentials shaped like the ``accounts`` fixture: ``["acme"]["member"]``, ``["keys"]``."""
    found: dict[str, Any] = {}
    for company in server.credentials()["companies"]:
        entry: dict[str, Any] = {"id": company["id"], "keys": {}}
        for user in company["users"]:
            entry[user["role"]] = user
        for key in company["api_keys"]:
            entry["keys"][",".join(key["scopes"])] = key["key"]
        found[company["id"].removeprefix("cmp_")] = entry
    return found


@contextmanager
def _frozen(clock: TestClock) -> Iterator[float]:
    """Freeze the server clock for the block; yield the frozen instant."""
    now = clock.freeze()
    try:
        yield now
    finally:
        clock.unfreeze()


def _shown(response: httpx.Response) -> str:
    request = response.request
    return f"{request.method} {request.url.path} -> {response.status_code} {response.text[:300]!r}"


def _expect(response: httpx.Response, status: int | tuple[int, ...], what: str) -> None:
    allowed = (status,) if isinstance(status, int) else status
    assert response.status_code in allowed, (
        f"{what}: expected {'/'.join(map(str, allowed))}, got {_shown(response)}"
    )


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{what}: the body is not JSON: {_shown(response)}") from None


def _expect_error(response: httpx.Response, status: int, code: str, what: str) -> None:
    _expect(response, status, what)
    body = _json(response, what)
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and error.get("code") == code and isinstance(error.get("message"), str), (
        f"{what}: expected the error shape with code {code!r}, got {_shown(response)}"
    )


def _session(client: httpx.Client, user: dict[str, Any], what: str) -> dict[str, Any]:
    """Log in; assert the response has token, refresh_token and expires_at, and return it."""
    data = login(client, user)
    for name in ("token", "refresh_token", "expires_at"):
        assert isinstance(data.get(name), str), f"{what}: login response lacks {name!r}: {sorted(data)}"
    return data


def _token(client: httpx.Client, user: dict[str, Any], what: str) -> str:
    """Log in; return the access token."""
    data = login(client, user)
    assert isinstance(data.get("token"), str), f"{what}: login response lacks 'token': {sorted(data)}"
    return str(data["token"])


def _list_jobs(client: httpx.Client, token: str) -> httpx.Response:
    return client.get("/v1/jobs", params={"limit": 1}, headers=bearer(token))


def _accepted(client: httpx.Client, token: str, what: str) -> None:
    _expect(_list_jobs(client, token), 200, f"{what} (GET /v1/jobs)")


def _refused(client: httpx.Client, token: str, what: str) -> None:
    response = _list_jobs(client, token)
    _expect_error(response, 401, "unauthorized", f"{what} (GET /v1/jobs)")
    challenge = response.headers.get("WWW-Authenticate", "")
    assert 'error="invalid_token"' in challenge, (
        f"{what}: 401 without an invalid_token challenge: {challenge!r}"
    )


# -- tokens --------------------------------------------------------------------------------------


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _forge(claims: dict[str, Any], key: bytes, header: dict[str, Any] | None = None) -> str:
    """An HS256 JWT of ``claims`` signed with ``key`` (no library: any key, any header)."""
    signing_input = f"{_segment(header or {'alg': 'HS256', 'typ': 'JWT'})}.{_segment(claims)}"
    signature = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{_b64(signature)}"


def _claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    claims: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    return claims


@dataclass
class _Forgery:
    """A real member token, its claims and the server's key, with a control that re-signing works."""

    client: httpx.Client
    token: str
    claims: dict[str, Any]
    secret: bytes

    def signed(self, **changes: Any) -> str:
        return _forge({**self.claims, **changes}, self.secret)


@contextmanager
def _forgery(server: RunningServer) -> Iterator[_Forgery]:
    with _client(server) as client:
        token = _token(client, _accounts(server)["acme"]["member"], "forgery setup")
        forgery = _Forgery(client, token, _claims_of(token), server.jwt_secret())
        _accepted(client, forgery.signed(), "control: the login's own claims re-signed with the server key")
        yield forgery


# -- contract ----------------------------------------------------------------------------------


def probe_contract_schemathesis(server: RunningServer, clock: TestClock) -> None:
    """GET /v1/jobs honours every documented page size 1..100 and refuses 0 and 101 with 422."""
    with _client(server) as client:
        token = _token(client, _accounts(server)["acme"]["member"], "setup")
        for limit in (1, 20, 50, 51, 99, 100):
            response = client.get("/v1/jobs", params={"limit": limit}, headers=bearer(token))
            _expect(response, 200, f"GET /v1/jobs?limit={limit} (documented range 1..100)")
            body = _json(response, f"limit={limit}")
            assert isinstance(body.get("data"), list) and len(body["data"]) <= limit, f"limit={limit}: {body}"
            assert body.get("next_cursor") is None or isinstance(body["next_cursor"], str), body
        for limit in (0, 101):
            response = client.get("/v1/jobs", params={"limit": limit}, headers=bearer(token))
            _expect_error(response, 422, "validation_error", f"GET /v1/jobs?limit={limit} (outside 1..100)")


def probe_contract_stateful(server: RunningServer, clock: TestClock) -> None:
    """A created job can be fetched, and after DELETE answers 204 it is gone (404)."""
    with _client(server) as client:
        headers = bearer(_token(client, _accounts(server)["acme"]["member"], "setup"))
        created = client.post("/v1/jobs", json=JOB, headers=headers)
        _expect(created, 201, "create job")
        job = _json(created, "create job")
        fetched = client.get(f"/v1/jobs/{job['id']}", headers=headers)
        _expect(fetched, 200, "fetch the new job")
        assert _json(fetched, "fetch") == job, f"fetched job differs from the created one: {fetched.text}"
        _expect(client.delete(f"/v1/jobs/{job['id']}", headers=headers), 204, "delete the job")
        gone = client.get(f"/v1/jobs/{job['id']}", headers=headers)
        _expect_error(gone, 404, "not_found", "fetch the job after DELETE answered 204")


_RFC3339_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def probe_contract_health(server: RunningServer, clock: TestClock) -> None:
    """GET /v1/health reports ok, 1.0.0 and the server time as RFC 3339 UTC with a trailing Z."""
    with _client(server) as client, _frozen(clock) as now:
        response = client.get("/v1/health")
        _expect(response, 200, "GET /v1/health")
        body = _json(response, "health")
        assert body.get("status") == "ok" and body.get("version") == "1.0.0", f"health body: {body}"
        stamp = body.get("timestamp")
        assert isinstance(stamp, str) and _RFC3339_Z.match(stamp), f"health timestamp {stamp!r} is not ...Z"
        seconds = timegm(strptime(stamp[:19], "%Y-%m-%dT%H:%M:%S"))
        assert abs(seconds - now) < 2, f"health timestamp {stamp} is not the server time {now}"


# -- auth: login ---------------------------------------------------------------------------------


def probe_auth_login_shape(server: RunningServer, clock: TestClock) -> None:
    """Login answers 200 with token (a JWT), refresh_token and expires_at, not cached."""
    with _client(server) as client:
        user = _accounts(server)["acme"]["member"]
        response = client.post("/v1/auth/login", json={"email": user["email"], "password": user["password"]})
        _expect(response, 200, "login")
        body = _json(response, "login")
        for name in ("token", "refresh_token", "expires_at"):
            assert isinstance(body.get(name), str) and body[name], f"login response lacks {name!r}: {body}"
        assert body["token"].count(".") == 2, f"token is not a JWT: {body['token'][:20]}..."
        assert "no-store" in response.headers.get("Cache-Control", ""), "login response may be cached"


def probe_auth_login_lifetime(server: RunningServer, clock: TestClock) -> None:
    """A login's token lives exactly 3600 s from now, and expires_at equals its exp."""
    with _client(server) as client, _frozen(clock) as now:
        data = login(client, _accounts(server)["acme"]["member"])
        assert isinstance(data.get("token"), str) and isinstance(data.get("expires_at"), str), data
        claims = _claims_of(data["token"])
        assert claims["exp"] - claims["iat"] == 3600, f"exp - iat = {claims['exp'] - claims['iat']}, not 3600"
        assert abs(claims["exp"] - (now + 3600)) <= 2, f"exp {claims['exp']} is not server now+3600 ({now})"
        expires_at = timegm(strptime(data["expires_at"], "%Y-%m-%dT%H:%M:%SZ"))
        assert expires_at == claims["exp"], (
            f"expires_at {data['expires_at']} ({expires_at}) != exp {claims['exp']}"
        )


def probe_auth_login_enumeration(server: RunningServer, clock: TestClock) -> None:
    """An unknown email and a wrong password get the same status and the same body."""
    with _client(server) as client:
        user = _accounts(server)["acme"]["member"]
        unknown = client.post(
            "/v1/auth/login", json={"email": f"nobody-{secrets.token_hex(4)}@acme.test", "password": "x" * 12}
        )
        wrong = client.post("/v1/auth/login", json={"email": user["email"], "password": "wrong-password-123"})
        _expect_error(unknown, 401, "unauthorized", "login with an unknown email")
        _expect_error(wrong, 401, "unauthorized", "login with a wrong password")
        assert unknown.json() == wrong.json(), (
            f"bodies differ: unknown {unknown.text!r} vs wrong {wrong.text!r}"
        )


def probe_auth_login_bad_input(server: RunningServer, clock: TestClock) -> None:
    """Malformed JSON, wrong types and missing fields at login are 4xx with the error shape, never 5xx."""
    with _client(server) as client:
        bad_bodies: list[bytes] = [b"{not json", b'{"email": ', b"\xff\xfe", b"[1, 2", b"{}", b"[]"]
        bad_bodies.append(json.dumps({"email": 5, "password": ["x"]}).encode())
        for raw in bad_bodies:
            response = client.post(
                "/v1/auth/login", content=raw, headers={"Content-Type": "application/json"}
            )
            assert 400 <= response.status_code < 500, (
                f"login body {raw!r}: expected 4xx, got {_shown(response)}"
            )
            body = _json(response, f"login body {raw!r}")
            assert isinstance(body.get("error"), dict), f"login body {raw!r}: no error shape: {body}"


# -- auth: bearer header and JWT verification -----------------------------------------------------


def probe_auth_bearer_missing(server: RunningServer, clock: TestClock) -> None:
    """A request without Authorization is 401 with a Bearer challenge."""
    with _client(server) as client:
        response = client.get("/v1/jobs")
        _expect_error(response, 401, "unauthorized", "GET /v1/jobs without Authorization")
        challenge = response.headers.get("WWW-Authenticate", "")
        assert challenge.startswith("Bearer"), f"401 without a Bearer challenge: {challenge!r}"


def probe_auth_bearer_malformed(server: RunningServer, clock: TestClock) -> None:
    """Only 'Bearer <jwt>' authenticates: other schemes, a bare JWT or extra spaces are 400/401."""
    with _client(server) as client:
        token = _token(client, _accounts(server)["acme"]["member"], "setup")
        for header in (f"Basic {token}", token, f"Token {token}", f"Bearer  {token}", f"Bearer {token} x"):
            response = client.get("/v1/jobs", headers={"Authorization": header})
            _expect(response, (400, 401), f"Authorization: {header[:12]}... (malformed)")
        _accepted(client, token, "the same token sent as 'Bearer <jwt>'")


def probe_auth_jwt_tampered_claims(server: RunningServer, clock: TestClock) -> None:
    """A token whose payload was changed (member -> admin) under the old signature is 401."""
    with _forgery(server) as forgery:
        admin_id = _accounts(server)["acme"]["admin"]["id"]
        header, _, signature = forgery.token.split(".")
        tampered = f"{header}.{_segment({**forgery.claims, 'sub': admin_id})}.{signature}"
        _refused(forgery.client, tampered, "payload changed to the admin, signature kept")


def probe_auth_jwt_truncated_signature(server: RunningServer, clock: TestClock) -> None:
    """Tokens with a shortened signature are 401, and the untouched token still works.

    Cuts at whole bytes (a multiple of 4 base64 characters) matter: PyJWT already rejects other
    lengths as non-canonical base64, so only those reach a signature comparison.
    """
    with _forgery(server) as forgery:
        signing_input, _, signature = forgery.token.rpartition(".")
        for keep in (40, 20, 4, len(signature) - 1, 1):
            _refused(forgery.client, f"{signing_input}.{signature[:keep]}", f"signature cut to {keep} chars")
        _accepted(forgery.client, forgery.token, "the untouched token after the truncated ones")


def probe_auth_jwt_null_signature(server: RunningServer, clock: TestClock) -> None:
    """An HS256 token with an empty signature is 401, and the untouched token still works."""
    with _forgery(server) as forgery:
        signing_input, _, _ = forgery.token.rpartition(".")
        _refused(forgery.client, f"{signing_input}.", "HS256 token with an empty signature")
        _accepted(forgery.client, forgery.token, "the untouched token after the unsigned one")


def probe_auth_jwt_alg_none(server: RunningServer, clock: TestClock) -> None:
    """Unsigned tokens with alg none, None, NONE or nOnE are 401."""
    with _forgery(server) as forgery:
        for alg in ("none", "None", "NONE", "nOnE"):
            token = f"{_segment({'alg': alg, 'typ': 'JWT'})}.{_segment(forgery.claims)}."
            _refused(forgery.client, token, f"alg {alg!r}, empty signature")


def probe_auth_jwt_alg_confusion(server: RunningServer, clock: TestClock) -> None:
    """HS256 tokens signed with the empty key or the guessable 'secret' are 401."""
    with _forgery(server) as forgery:
        for weak in (b"", b"secret"):
            _refused(forgery.client, _forge(forgery.claims, weak), f"HS256 signed with the key {weak!r}")


def probe_auth_jwt_header_injection(server: RunningServer, clock: TestClock) -> None:
    """A token signed with a key embedded in its own 'jwk' header is 401."""
    with _forgery(server) as forgery:
        key = secrets.token_bytes(32)
        header = {"alg": "HS256", "typ": "JWT", "jwk": {"kty": "oct", "k": _b64(key)}}
        _refused(forgery.client, _forge(forgery.claims, key, header), "signed with its own embedded jwk")


def probe_auth_jwt_expired(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token whose exp passed an hour ago is 401."""
    with _forgery(server) as forgery:
        iat = forgery.claims["iat"] - 7200
        _refused(forgery.client, forgery.signed(iat=iat, nbf=iat, exp=iat + 3600), "exp one hour ago")


def probe_auth_jwt_not_yet_valid(server: RunningServer, clock: TestClock) -> None:
    """Validly signed tokens with nbf or iat ten minutes in the future are 401."""
    with _forgery(server) as forgery:
        future = forgery.claims["iat"] + 600
        _refused(forgery.client, forgery.signed(nbf=future), "nbf 10 min in the future")
        _refused(forgery.client, forgery.signed(iat=future), "iat 10 min in the future")


def probe_auth_jwt_wrong_audience(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token for another audience is 401."""
    with _forgery(server) as forgery:
        _refused(forgery.client, forgery.signed(aud="https://other.example"), "aud of another service")


def probe_auth_jwt_wrong_issuer(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token from another issuer is 401."""
    with _forgery(server) as forgery:
        _refused(forgery.client, forgery.signed(iss="https://evil.example"), "iss of another issuer")


def probe_auth_jwt_missing_exp(server: RunningServer, clock: TestClock) -> None:
    """A validly signed token without exp is 401."""
    with _forgery(server) as forgery:
        claims = {name: value for name, value in forgery.claims.items() if name != "exp"}
        _refused(forgery.client, _forge(claims, forgery.secret), "no exp claim")


def probe_auth_jwt_claim_fuzz(server: RunningServer, clock: TestClock) -> None:
    """Validly signed tokens with odd claim types are 401, never 5xx."""
    with _forgery(server) as forgery:
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
            _refused(forgery.client, forgery.signed(**change), f"re-signed with {change}")


def probe_auth_token_kind(server: RunningServer, clock: TestClock) -> None:
    """A refresh token is no bearer token, and an access token is no refresh token."""
    with _client(server) as client:
        data = _session(client, _accounts(server)["acme"]["member"], "setup")
        _refused(client, data["refresh_token"], "the refresh token sent as a bearer token")
        response = client.post("/v1/auth/refresh", json={"refresh_token": data["token"]})
        _expect(response, (400, 401, 422), "the access token sent to /v1/auth/refresh")


def probe_auth_expiry_live(server: RunningServer, clock: TestClock) -> None:
    """With the server clock moved on, a token works at +3599 s and is 401 at +3601 s."""
    with _client(server) as client, _frozen(clock):
        token = _token(client, _accounts(server)["acme"]["member"], "login")
        clock.advance(3599)
        _accepted(client, token, "the token 3599 s after login")
        clock.advance(2)
        _refused(client, token, "the token 3601 s after login (1 h lifetime)")


# -- refresh -------------------------------------------------------------------------------------


def _refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/v1/auth/refresh", json={"refresh_token": refresh_token})


def probe_refresh_rotation(server: RunningServer, clock: TestClock) -> None:
    """Refresh returns a new token and a new refresh token, and the new token works."""
    with _client(server) as client:
        first = _session(client, _accounts(server)["acme"]["member"], "login")
        response = _refresh(client, first["refresh_token"])
        _expect(response, 200, "refresh")
        second = _json(response, "refresh")
        assert isinstance(second.get("token"), str) and isinstance(second.get("refresh_token"), str), second
        assert second["refresh_token"] != first["refresh_token"], "refresh did not rotate the refresh token"
        _accepted(client, second["token"], "the access token issued by refresh")


def probe_refresh_reuse(server: RunningServer, clock: TestClock) -> None:
    """Reusing a spent refresh token is 401 and kills the newest token of its family too."""
    with _client(server) as client:
        first = _session(client, _accounts(server)["acme"]["member"], "login")
        rotated = _refresh(client, first["refresh_token"])
        _expect(rotated, 200, "first refresh")
        newest = _json(rotated, "first refresh")["refresh_token"]
        _expect_error(
            _refresh(client, first["refresh_token"]), 401, "unauthorized", "reuse of the spent token"
        )
        _expect_error(_refresh(client, newest), 401, "unauthorized", "the family's newest token after reuse")


async def _warm_clients(server: RunningServer, stack: AsyncExitStack, count: int) -> list[httpx.AsyncClient]:
    """``count`` async clients, each with its own open connection, so a burst needs no handshakes."""
    context = server.ssl_context()
    clients = [
        await stack.enter_async_context(
            httpx.AsyncClient(base_url=server.base_url, verify=context, timeout=30.0)
        )
        for _ in range(count)
    ]
    # OPTIONS is answered 405 before authentication and rate limiting: it only opens the connection.
    await asyncio.gather(*(client.options("/v1/health") for client in clients))
    return clients


async def _simultaneous_refreshes(server: RunningServer, refresh_token: str, count: int) -> list[int]:
    """``count`` refreshes of one token, each on its own already-open connection, sent at once."""
    async with AsyncExitStack() as stack:
        clients = await _warm_clients(server, stack, count)
        body = {"refresh_token": refresh_token}
        responses = await asyncio.gather(*(c.post("/v1/auth/refresh", json=body) for c in clients))
    return [response.status_code for response in responses]


def probe_refresh_race(server: RunningServer, clock: TestClock) -> None:
    """Ten simultaneous refreshes of one refresh token: at most one succeeds, the rest are 401."""
    with _client(server) as client, _frozen(clock):
        refresh_token = _session(client, _accounts(server)["acme"]["member"], "login")["refresh_token"]
        clock.advance(WINDOW)  # a fresh auth window for the ten refreshes
        statuses = asyncio.run(_simultaneous_refreshes(server, refresh_token, 10))
    assert set(statuses) <= {200, 401}, f"simultaneous refreshes answered {statuses}"
    assert statuses.count(200) <= 1, (
        f"{statuses.count(200)} of 10 simultaneous refreshes succeeded: {statuses}"
    )


def probe_refresh_logout(server: RunningServer, clock: TestClock) -> None:
    """After logout (204) the logged-out refresh token is 401."""
    with _client(server) as client:
        data = _session(client, _accounts(server)["acme"]["member"], "login")
        logout = client.post(
            "/v1/auth/logout", json={"refresh_token": data["refresh_token"]}, headers=bearer(data["token"])
        )
        _expect(logout, 204, "logout")
        _expect_error(_refresh(client, data["refresh_token"]), 401, "unauthorized", "refresh after logout")


def probe_refresh_property(server: RunningServer, clock: TestClock) -> None:
    """Logging out one session leaves the user's other session alive.

    That the logged-out session itself dies is ``refresh.logout``'s rule, so it is not asserted here.
    """
    with _client(server) as client:
        user = _accounts(server)["acme"]["member"]
        first = _session(client, user, "first login")
        second = _session(client, user, "second login")
        logout = client.post(
            "/v1/auth/logout", json={"refresh_token": first["refresh_token"]}, headers=bearer(first["token"])
        )
        _expect(logout, 204, "logout of the first session")
        _expect(_refresh(client, second["refresh_token"]), 200, "refresh of the other, still open session")


# -- apikey --------------------------------------------------------------------------------------


def _me(client: httpx.Client, key: str | None) -> httpx.Response:
    return client.get("/zapier/v1/me", headers={} if key is None else {"X-API-Key": key})


def probe_apikey_missing(server: RunningServer, clock: TestClock) -> None:
    """A Zapier request without X-API-Key is 401."""
    with _client(server) as client:
        _expect_error(_me(client, None), 401, "unauthorized", "GET /zapier/v1/me without X-API-Key")


def probe_apikey_unknown(server: RunningServer, clock: TestClock) -> None:
    """A key with a real prefix but a wrong secret, or a made-up key, is 401."""
    with _client(server) as client:
        real = _accounts(server)["acme"]["keys"]["jobs:read"]
        _expect(_me(client, real), 200, "control: the real key")
        secret_part = real[-32:]
        forged_secret = "0" * 32 if secret_part != "0" * 32 else "1" * 32
        _expect_error(
            _me(client, real[:-32] + forged_secret), 401, "unauthorized", "real prefix, wrong secret"
        )
        made_up = "sk_live_" + "Zz9" * 13 + "Z"
        _expect_error(_me(client, made_up), 401, "unauthorized", "a well-formed made-up key")


def probe_apikey_malformed(server: RunningServer, clock: TestClock) -> None:
    """Malformed keys (too short, wrong prefix, wrong alphabet) are 401, never 5xx."""
    with _client(server) as client:
        for key in (
            "abc",
            "sk",
            "sk_live",
            "sk_live_",
            "sk_live_short",
            "pk_live_" + "a" * 40,
            "sk_live_" + "!" * 40,
        ):
            _expect_error(_me(client, key), 401, "unauthorized", f"X-API-Key {key!r}")


def probe_apikey_surface_separation(server: RunningServer, clock: TestClock) -> None:
    """A JWT is no API key on /zapier/v1, and an API key is no bearer token on /v1."""
    with _client(server) as client:
        accounts = _accounts(server)
        token = _token(client, accounts["acme"]["admin"], "setup")
        _expect_error(_me(client, token), 401, "unauthorized", "a JWT in X-API-Key")
        _refused(client, accounts["acme"]["keys"]["jobs:read,jobs:write"], "an API key as a bearer token")


def probe_apikey_scope(server: RunningServer, clock: TestClock) -> None:
    """A jobs:read key cannot create a job (403); a jobs:write key can."""
    with _client(server) as client:
        keys = _accounts(server)["acme"]["keys"]
        path = "/zapier/v1/actions/create-job"
        _expect(client.post(path, json=JOB, headers={"X-API-Key": keys["jobs:write"]}), 201, "jobs:write key")
        refused = client.post(path, json=JOB, headers={"X-API-Key": keys["jobs:read"]})
        _expect_error(refused, 403, "forbidden", "create-job with a jobs:read key")


def probe_apikey_tenant(server: RunningServer, clock: TestClock) -> None:
    """The new-job trigger lists the key's own company's jobs only."""
    with _client(server) as client:
        accounts = _accounts(server)
        ids = {}
        for company in ("acme", "brite"):
            key = accounts[company]["keys"]["jobs:read,jobs:write"]
            created = client.post("/zapier/v1/actions/create-job", json=JOB, headers={"X-API-Key": key})
            _expect(created, 201, f"create a {company} job")
            ids[company] = _json(created, "create")["id"]
        listed = client.get(
            "/zapier/v1/triggers/new-job", headers={"X-API-Key": accounts["acme"]["keys"]["jobs:read"]}
        )
        _expect(listed, 200, "Acme's new-job trigger")
        seen = {job["id"] for job in _json(listed, "trigger")}
        assert ids["acme"] in seen, f"Acme's own new job {ids['acme']} is missing from its trigger"
        assert ids["brite"] not in seen, f"Acme's trigger lists Brite's job {ids['brite']}"


def _new_key(client: httpx.Client, admin_token: str) -> dict[str, Any]:
    response = client.post(
        "/v1/api-keys", json={"name": "fault-probe", "scopes": ["jobs:read"]}, headers=bearer(admin_token)
    )
    _expect(response, 201, "create an API key")
    created: dict[str, Any] = _json(response, "create an API key")
    _expect(_me(client, created["key"]), 200, "the new key")
    return created


def probe_apikey_revoked(server: RunningServer, clock: TestClock) -> None:
    """A revoked key is 401 at once."""
    with _client(server) as client:
        admin_token = _token(client, _accounts(server)["acme"]["admin"], "setup")
        created = _new_key(client, admin_token)
        revoked = client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(admin_token))
        _expect(revoked, 204, "revoke the key")
        _expect_error(_me(client, created["key"]), 401, "unauthorized", "the revoked key")


def probe_apikey_rotated(server: RunningServer, clock: TestClock) -> None:
    """After rotation the old key is 401 and the new key works."""
    with _client(server) as client:
        admin_token = _token(client, _accounts(server)["acme"]["admin"], "setup")
        created = _new_key(client, admin_token)
        try:
            rotated = client.post(f"/v1/api-keys/{created['id']}/rotate", headers=bearer(admin_token))
            _expect(rotated, 200, "rotate the key")
            new_key = _json(rotated, "rotate")["key"]
            _expect_error(_me(client, created["key"]), 401, "unauthorized", "the old key after rotation")
            _expect(_me(client, new_key), 200, "the new key after rotation")
        finally:
            client.delete(f"/v1/api-keys/{created['id']}", headers=bearer(admin_token))


def probe_apikey_no_echo(server: RunningServer, clock: TestClock) -> None:
    """GET /zapier/v1/me never shows the presented key, in its body or its headers."""
    with _client(server) as client:
        key = _accounts(server)["acme"]["keys"]["jobs:read"]
        response = _me(client, key)
        _expect(response, 200, "GET /zapier/v1/me")
        for secret in (key, key[-32:]):
            assert secret not in response.text, "GET /zapier/v1/me echoes the API key in its body"
            assert not any(secret in value for value in response.headers.values()), "key echoed in a header"


# -- transport -----------------------------------------------------------------------------------


def probe_transport_https_only(server: RunningServer, clock: TestClock) -> None:
    """Over plain HTTP nothing is served: 403 https_required, no token for a valid login, no data."""
    assert server.http_url, "the server has no plain-HTTP listener to probe"
    user = _accounts(server)["acme"]["member"]
    with httpx.Client(base_url=server.http_url, verify=server.ssl_context(), timeout=15.0) as plain:
        responses = [
            plain.post("/v1/auth/login", json={"email": user["email"], "password": user["password"]}),
            plain.get("/v1/health"),
            plain.get("/v1/jobs"),
        ]
        for response in responses:
            _expect_error(response, 403, "https_required", "plain HTTP")
            assert "token" not in response.text and "Location" not in response.headers, _shown(response)


# -- ratelimit: the per-tier rules -------------------------------------------------------------

TIER_OPERATIONS = {
    "auth": "login",
    "read": "listJobs",
    "write": "createJob",
    "webhook": "createWebhook",
    "bulk": "bulkCreateJobs",
}
_SUCCESS = {"login": 200, "listJobs": 200, "createJob": 201, "createWebhook": 201, "bulkCreateJobs": 200}


def tier_operation(tier: str) -> Operation:
    """The contract operation a tier's probes spend their quota on."""
    (operation,) = [op for op in operations() if op.operation_id == TIER_OPERATIONS[tier]]
    assert operation.tier == tier, f"{operation.operation_id} is in tier {operation.tier}, not {tier}"
    return operation


@dataclass
class _TierCaller:
    """Sends one tier's representative request as one principal (Brite's member, or the client address)."""

    client: httpx.Client
    operation: Operation
    headers: dict[str, str]
    body: dict[str, Any] | None
    webhooks: list[str] = field(default_factory=list)

    @property
    def expected(self) -> int:
        return _SUCCESS[self.operation.operation_id]

    def call(self) -> httpx.Response:
        op = self.operation
        params = {"limit": 1} if op.method == "GET" else None
        response = self.client.request(
            op.method, op.path, json=self.body, params=params, headers=self.headers
        )
        if op.operation_id == "createWebhook" and response.status_code == 201:
            self.webhooks.append(response.json()["id"])
        return response

    def exhaust(self, limit: int, what: str) -> tuple[list[httpx.Response], httpx.Response]:
        """Send until the first 429 (at most ``limit + 3`` requests); return the admitted ones and it.

        How many are admitted is the boundary probe's business; the other probes only need a 429.
        """
        admitted: list[httpx.Response] = []
        for index in range(limit + 3):
            response = self.call()
            if response.status_code == 429:
                return admitted, response
            _expect(response, self.expected, f"{what}: request {index + 1} in one window")
            admitted.append(response)
        raise AssertionError(f"{what}: {limit + 3} requests in one window, no 429 (limit {limit})")

    def cleanup(self) -> None:
        for webhook_id in self.webhooks:  # best effort: write tier, not the one spent
            self.client.delete(f"/v1/webhooks/{webhook_id}", headers=self.headers)


@contextmanager
def _tier_caller(client: httpx.Client, server: RunningServer, tier: str) -> Iterator[_TierCaller]:
    operation = tier_operation(tier)
    user = _accounts(server)["brite"]["member"]
    bodies: dict[str, dict[str, Any] | None] = {
        "login": {"email": user["email"], "password": user["password"]},
        "listJobs": None,
        "createJob": JOB,
        "createWebhook": {"url": UNREACHABLE_HOOK, "events": ["job.deleted"]},
        "bulkCreateJobs": {"jobs": [JOB]},
    }
    headers = {} if tier == "auth" else bearer(_token(client, user, "setup"))
    caller = _TierCaller(client, operation, headers, bodies[operation.operation_id])
    try:
        yield caller
    finally:
        caller.cleanup()


def _limit(server: RunningServer, tier: str) -> int:
    return int(server.info["limits"][tier])


def _throttled(caller: _TierCaller, tier: str) -> httpx.Response:
    response = caller.call()
    _expect(response, 429, f"{tier} tier: another request after the first 429 of the window")
    return response


def probe_tier_boundary(server: RunningServer, clock: TestClock, tier: str) -> None:
    """Exactly the tier's limit is admitted in one window; the next request is 429."""
    limit = _limit(server, tier)
    with _client(server) as client, _frozen(clock), _tier_caller(client, server, tier) as caller:
        admitted, _ = caller.exhaust(limit, f"{tier} tier")
        assert len(admitted) == limit, f"{tier} tier admitted {len(admitted)} in one window, not {limit}"


def _retry_after(response: httpx.Response, what: str) -> int:
    value = response.headers.get("Retry-After")
    assert value is not None, f"{what}: 429 without Retry-After"
    assert value.isascii() and value.isdigit() and 1 <= int(value) <= 60, f"{what}: Retry-After {value!r}"
    return int(value)


def probe_tier_retry_after(server: RunningServer, clock: TestClock, tier: str) -> None:
    """Every 429 carries Retry-After in whole seconds, from 1 to 60."""
    limit = _limit(server, tier)
    with _client(server) as client, _frozen(clock), _tier_caller(client, server, tier) as caller:
        _, first = caller.exhaust(limit, f"{tier} tier")
        _retry_after(first, f"{tier} tier, the first 429")
        _retry_after(_throttled(caller, tier), f"{tier} tier, the second 429")


def probe_tier_retry_after_honest(server: RunningServer, clock: TestClock, tier: str) -> None:
    """Just before Retry-After elapses the tier still answers 429; once it has, it admits again."""
    limit = _limit(server, tier)
    with _client(server) as client, _frozen(clock), _tier_caller(client, server, tier) as caller:
        _, throttled = caller.exhaust(limit, f"{tier} tier")
        wait = _retry_after(throttled, f"{tier} tier")
        clock.advance(wait - 1)
        _expect(caller.call(), 429, f"{tier} tier: {wait - 1} s into a Retry-After of {wait} s")
        clock.advance(1)
        _expect(caller.call(), caller.expected, f"{tier} tier: once the Retry-After of {wait} s elapsed")


_RATELIMIT = re.compile(r'^"(?P<tier>[a-z]+)";r=(?P<r>\d+);t=(?P<t>\d+)$')


def _rate_fields(response: httpx.Response, tier: str, limit: int, what: str) -> int:
    policy = response.headers.get("RateLimit-Policy")
    assert policy == f'"{tier}";q={limit};w=60', f"{what}: RateLimit-Policy {policy!r}"
    match = _RATELIMIT.match(response.headers.get("RateLimit", ""))
    assert match and match["tier"] == tier, f"{what}: RateLimit {response.headers.get('RateLimit')!r}"
    assert 1 <= int(match["t"]) <= 60, f"{what}: RateLimit t={match['t']} is not 1..60"
    return int(match["r"])


def probe_tier_headers(server: RunningServer, clock: TestClock, tier: str) -> None:
    """RateLimit-Policy names the tier's quota and RateLimit's remaining counts down to 0."""
    limit = _limit(server, tier)
    with _client(server) as client, _frozen(clock), _tier_caller(client, server, tier) as caller:
        admitted, throttled = caller.exhaust(limit, f"{tier} tier")
        for index, response in enumerate(admitted, start=1):
            remaining = _rate_fields(response, tier, limit, f"{tier} tier, request {index}")
            assert remaining == limit - index, (
                f"{tier} tier: after {index} requests r={remaining}, not {limit - index}"
            )
        remaining = _rate_fields(throttled, tier, limit, f"{tier} tier, the 429")
        assert remaining == 0, f"{tier} tier: the 429 says r={remaining}, not 0"


def probe_tier_body(server: RunningServer, clock: TestClock, tier: str) -> None:
    """A 429 has the JSON error shape with code rate_limited and Cache-Control: no-store."""
    limit = _limit(server, tier)
    with _client(server) as client, _frozen(clock), _tier_caller(client, server, tier) as caller:
        _, response = caller.exhaust(limit, f"{tier} tier")
        _expect_error(response, 429, "rate_limited", f"{tier} tier 429")
        assert response.headers.get("Content-Type", "").startswith("application/json"), _shown(response)
        assert "no-store" in response.headers.get("Cache-Control", ""), f"{tier} tier 429 may be cached"


_TIER_RULES: dict[str, Callable[[RunningServer, TestClock, str], None]] = {
    "boundary": probe_tier_boundary,
    "retry_after": probe_tier_retry_after,
    "retry_after_honest": probe_tier_retry_after_honest,
    "headers": probe_tier_headers,
    "body": probe_tier_body,
}


# -- ratelimit: the cross-tier rules -----------------------------------------------------------


def probe_ratelimit_isolation_keys(server: RunningServer, clock: TestClock) -> None:
    """Exhausting one user's bulk quota leaves another user's bulk quota untouched."""
    limit = _limit(server, "bulk")
    accounts = _accounts(server)
    with _client(server) as client, _frozen(clock):
        first = bearer(_token(client, accounts["acme"]["member"], "first user"))
        second = bearer(_token(client, accounts["brite"]["member"], "second user"))
        _TierCaller(client, tier_operation("bulk"), first, {"jobs": [JOB]}).exhaust(limit, "first user")
        other = client.post("/v1/jobs/bulk", json={"jobs": [JOB]}, headers=second)
        _expect(other, 200, "another user's first bulk request after the first user ran out")


def probe_ratelimit_isolation_keys_apikey(server: RunningServer, clock: TestClock) -> None:
    """Exhausting one API key's read quota leaves another key of the same company untouched."""
    limit = _limit(server, "read")
    keys = _accounts(server)["brite"]["keys"]
    with _client(server) as client, _frozen(clock):
        _key_exhausts(client, "GET", "/zapier/v1/triggers/new-job", keys["jobs:read"], limit)
        other = client.get("/zapier/v1/triggers/new-job", headers={"X-API-Key": keys["jobs:read,jobs:write"]})
        _expect(other, 200, "another key's first trigger poll after the first key ran out")


def _key_exhausts(client: httpx.Client, method: str, path: str, key: str, limit: int) -> None:
    """Spend ``key``'s quota on ``method path``: exactly ``limit`` admitted, then 429."""
    body = JOB if method == "POST" else None
    for index in range(limit):
        response = client.request(method, path, json=body, headers={"X-API-Key": key})
        _expect(response, (200, 201), f"API-key request {index + 1} of {limit}")
    _expect(client.request(method, path, json=body, headers={"X-API-Key": key}), 429, f"request {limit + 1}")


def _key_boundary(tier: str, method: str, path: str, scopes: str) -> Probe:
    def probe(server: RunningServer, clock: TestClock) -> None:
        with _client(server) as client, _frozen(clock):
            key = _accounts(server)["brite"]["keys"][scopes]
            _key_exhausts(client, method, path, key, _limit(server, tier))

    probe.__doc__ = f"{tier} tier per API key: exactly the quota is admitted on {method} {path}, then 429."
    return probe


def probe_ratelimit_isolation_tiers(server: RunningServer, clock: TestClock) -> None:
    """Exhausting a user's bulk quota leaves the user's webhook, write and read quotas untouched."""
    limit = _limit(server, "bulk")
    with _client(server) as client, _frozen(clock), _tier_caller(client, server, "bulk") as bulk:
        bulk.exhaust(limit, "bulk tier")
        for tier in ("webhook", "write", "read"):
            other = _TierCaller(client, tier_operation(tier), bulk.headers, _tier_body(tier))
            try:
                _expect(other.call(), other.expected, f"the {tier} tier after the bulk tier ran out")
            finally:
                other.cleanup()


def _tier_body(tier: str) -> dict[str, Any] | None:
    bodies: dict[str, dict[str, Any]] = {
        "webhook": {"url": UNREACHABLE_HOOK, "events": ["job.deleted"]},
        "write": JOB,
    }
    return bodies.get(tier)


def probe_ratelimit_relogin_bypass(server: RunningServer, clock: TestClock) -> None:
    """A fresh login does not reset the user's quota: the new token is still 429."""
    limit = _limit(server, "bulk")
    user = _accounts(server)["brite"]["member"]
    with _client(server) as client, _frozen(clock), _tier_caller(client, server, "bulk") as bulk:
        bulk.exhaust(limit, "bulk tier")
        fresh = bearer(_token(client, user, "second login"))
        again = client.post("/v1/jobs/bulk", json={"jobs": [JOB]}, headers=fresh)
        _expect(again, 429, "bulk request with a fresh login's token after the quota ran out")


async def _bursts(
    server: RunningServer, clock: TestClock, token: str, count: int, rounds: int
) -> list[list[int]]:
    """``rounds`` times: a fresh window, then ``count`` GET /v1/jobs sent at once on warm connections."""
    async with AsyncExitStack() as stack:
        clients = await _warm_clients(server, stack, count)
        results = []
        for _ in range(rounds):
            clock.advance(WINDOW)
            requests = (c.get("/v1/jobs", params={"limit": 1}, headers=bearer(token)) for c in clients)
            results.append([response.status_code for response in await asyncio.gather(*requests)])
    return results


def probe_ratelimit_concurrency(server: RunningServer, clock: TestClock) -> None:
    """3N simultaneous reads at a fresh window admit exactly N, twice in a row."""
    limit = _limit(server, "read")
    with _client(server) as client, _frozen(clock):
        token = _token(client, _accounts(server)["brite"]["member"], "login")
        results = asyncio.run(_bursts(server, clock, token, 3 * limit, rounds=2))
    for round_number, statuses in enumerate(results, start=1):
        admitted, refused = statuses.count(200), statuses.count(429)
        assert (admitted, refused) == (limit, 2 * limit), (
            f"round {round_number}: {3 * limit} simultaneous reads at a fresh window: "
            f"{admitted} admitted, {refused} refused, {len(statuses) - admitted - refused} other; "
            f"expected exactly {limit} admitted"
        )


def probe_ratelimit_window(server: RunningServer, clock: TestClock) -> None:
    """No 60-second span admits more than N: a burst at :59 and another at :01 is refused."""
    limit = _limit(server, "bulk")
    with _client(server) as client, _frozen(clock) as now, _tier_caller(client, server, "bulk") as bulk:
        clock.advance((59 - now % 60) % 60)  # 59 s past a whole minute of server time
        bulk.exhaust(limit, "bulk tier at :59")
        clock.advance(2)
        again = bulk.call()
        _expect(again, 429, "a bulk request 2 s after the quota ran out at :59 (1 s into the next minute)")


# -- webhook -----------------------------------------------------------------------------------


def probe_webhook_registration(server: RunningServer, clock: TestClock) -> None:
    """Registration shows the signing secret once; listing the endpoints never shows it again."""
    with _client(server) as client:
        headers = bearer(_token(client, _accounts(server)["brite"]["admin"], "setup"))
        created = client.post(
            "/v1/webhooks", json={"url": UNREACHABLE_HOOK, "events": ["job.deleted"]}, headers=headers
        )
        _expect(created, 201, "register a webhook")
        hook = _json(created, "register")
        try:
            assert str(hook.get("secret", "")).startswith("whsec_"), f"registration shows no secret: {hook}"
            assert "no-store" in created.headers.get("Cache-Control", ""), (
                "the secret's response may be cached"
            )
            listed = client.get("/v1/webhooks", headers=headers)
            _expect(listed, 200, "list webhooks")
            entries = [entry for entry in _json(listed, "list")["data"] if entry["id"] == hook["id"]]
            assert entries, f"the new webhook {hook['id']} is not listed"
            assert "secret" not in entries[0], f"the listing shows a secret field: {entries[0]}"
            assert hook["secret"] not in listed.text, "the listing shows the signing secret again"
        finally:
            client.delete(f"/v1/webhooks/{hook['id']}", headers=headers)


def probe_webhook_https_only(server: RunningServer, clock: TestClock) -> None:
    """Registering an http:// webhook URL is refused with 422."""
    with _client(server) as client:
        headers = bearer(_token(client, _accounts(server)["brite"]["admin"], "setup"))
        body = {"url": "http://127.0.0.1:9/sergio-kit-probe", "events": ["job.deleted"]}
        response = client.post("/v1/webhooks", json=body, headers=headers)
        if response.status_code == 201:
            client.delete(f"/v1/webhooks/{response.json()['id']}", headers=headers)
        _expect_error(response, 422, "validation_error", "register an http:// webhook URL")


def _delivery_about(receiver: WebhookReceiver, job_id: str) -> Delivery:
    try:
        deliveries = receiver.wait_for(1, timeout=DELIVERY_TIMEOUT)
    except TimeoutError as error:
        raise AssertionError(f"no webhook delivery arrived: {error}") from None
    for delivery in deliveries:
        if job_id.encode() in delivery.body:
            return delivery
    raise AssertionError(f"the deliveries that arrived are not about job {job_id}")


def probe_webhook_signature(server: RunningServer, clock: TestClock) -> None:
    """A delivery's X-Sergio-Signature verifies over the raw body it came with."""
    with tempfile.TemporaryDirectory() as folder, _client(server) as client:
        cert = issue_receiver_cert(server.data_dir, Path(folder) / "receiver.pem")
        with WebhookReceiver(cert, path=f"/hooks/{secrets.token_hex(6)}") as receiver:
            headers = bearer(_token(client, _accounts(server)["brite"]["admin"], "setup"))
            created = client.post(
                "/v1/webhooks", json={"url": receiver.url, "events": ["job.created"]}, headers=headers
            )
            _expect(created, 201, "register the receiver")
            hook = _json(created, "register")
            try:
                job = client.post("/v1/jobs", json=JOB, headers=headers)
                _expect(job, 201, "create a job")
                delivery = _delivery_about(receiver, _json(job, "create")["id"])
                try:
                    verify(
                        delivery.header("X-Sergio-Signature"), delivery.body, hook["secret"], now=clock.now()
                    )
                except SignatureError as error:
                    raise AssertionError(
                        f"the job.created delivery does not verify: {error.reason}"
                    ) from None
            finally:
                client.delete(f"/v1/webhooks/{hook['id']}", headers=headers)


# -- the table ---------------------------------------------------------------------------------


def _for_tier(rule: Callable[[RunningServer, TestClock, str], None], tier: str) -> Probe:
    """The probe of one tier's rule."""

    def probe(server: RunningServer, clock: TestClock) -> None:
        rule(server, clock, tier)

    probe.__doc__ = f"{tier} tier: {rule.__doc__}"
    return probe


def _build_probes() -> dict[str, Probe]:
    probes: dict[str, Probe] = {
        "contract.schemathesis": probe_contract_schemathesis,
        "contract.stateful": probe_contract_stateful,
        "contract.health": probe_contract_health,
        "auth.login.shape": probe_auth_login_shape,
        "auth.login.lifetime": probe_auth_login_lifetime,
        "auth.login.enumeration": probe_auth_login_enumeration,
        "auth.login.bad_input": probe_auth_login_bad_input,
        "auth.bearer.missing": probe_auth_bearer_missing,
        "auth.bearer.malformed": probe_auth_bearer_malformed,
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
        "auth.token_kind": probe_auth_token_kind,
        "auth.expiry.live": probe_auth_expiry_live,
        "refresh.rotation": probe_refresh_rotation,
        "refresh.reuse": probe_refresh_reuse,
        "refresh.race": probe_refresh_race,
        "refresh.logout": probe_refresh_logout,
        "refresh.property": probe_refresh_property,
        "apikey.missing": probe_apikey_missing,
        "apikey.unknown": probe_apikey_unknown,
        "apikey.malformed": probe_apikey_malformed,
        "apikey.surface_separation": probe_apikey_surface_separation,
        "apikey.scope": probe_apikey_scope,
        "apikey.tenant": probe_apikey_tenant,
        "apikey.revoked": probe_apikey_revoked,
        "apikey.rotated": probe_apikey_rotated,
        "apikey.no_echo": probe_apikey_no_echo,
        "transport.https_only": probe_transport_https_only,
        "ratelimit.isolation.keys": probe_ratelimit_isolation_keys,
        "ratelimit.isolation.tiers": probe_ratelimit_isolation_tiers,
        "ratelimit.relogin_bypass": probe_ratelimit_relogin_bypass,
        "ratelimit.concurrency": probe_ratelimit_concurrency,
        "ratelimit.window": probe_ratelimit_window,
        "ratelimit.isolation.keys@apikey": probe_ratelimit_isolation_keys_apikey,
        "ratelimit.read.boundary@apikey": _key_boundary(
            "read", "GET", "/zapier/v1/triggers/new-job", "jobs:read"
        ),
        "ratelimit.write.boundary@apikey": _key_boundary(
            "write", "POST", "/zapier/v1/actions/create-job", "jobs:write"
        ),
        "webhook.registration": probe_webhook_registration,
        "webhook.signature": probe_webhook_signature,
        "webhook.https_only": probe_webhook_https_only,
    }
    for tier in TIERS:
        for rule, probe in _TIER_RULES.items():
            probes[f"ratelimit.{tier}.{rule}"] = _for_tier(probe, tier)
    return probes


PROBES: dict[str, Probe] = _build_probes()
