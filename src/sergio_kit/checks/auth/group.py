"""``auth.*``: the login, the bearer header and JWT verification.

Forged tokens start from a real token of the primary tenant: its claims and header decoded without
verification, one thing changed (see :mod:`sergio_kit.checks.auth.strategies`). The first forgery of a check
goes to every operation the contract protects with ``bearerAuth`` (one forgotten guard is the
classic bug), the others to one read operation, and after them the real token must still work.
Checks that re-sign claims need the target's signing secret; checks about time need its test clock.
"""

from __future__ import annotations

import secrets
import statistics
import time
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import httpx
import jwt
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sergio_kit.checks.auth.strategies import (
    ClaimSet,
    Forged,
    LoginBody,
    claim_sets,
    injected_headers,
    known_alg_none,
    known_claim_sets,
    known_header_injections,
    known_login_bodies,
    known_malformed_authorization,
    known_null_signatures,
    known_tamperings,
    known_truncations,
    known_weak_keys,
    login_bodies,
    malformed_authorization,
    sign,
    split_token,
    tampered_claims,
    truncated_signatures,
    unverified_claims,
    unverified_header,
)
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check

LOGIN = "/v1/auth/login"
REFRESH = "/v1/auth/refresh"
LIFETIME = 3600
ACCEPTED = range(200, 300)
REFUSED = frozenset({401})
CLIENT_ERROR = range(400, 500)
LOGIN_BAD_INPUT_BUDGET = 10  # generated bad logins beyond the known ones: each spends the auth tier
TIMING_BASELINE = 5  # plain bad-signature requests timed for auth.jwt.header_injection
VOLATILE_KEYS = frozenset({"request_id", "requestId", "trace_id", "traceId", "timestamp"})


@dataclass(frozen=True)
class _Call:
    """A valid request of one protected operation: only its credentials can be wrong."""

    label: str
    method: str
    path: str
    body: Any


@dataclass(frozen=True)
class _Real:
    """The primary tenant's current token, its header and claims."""

    token: str
    header: dict[str, Any]
    claims: dict[str, Any]


# -- plumbing -----------------------------------------------------------------------------------


def _budget(max_examples: int) -> settings:
    """Hypothesis settings for a check: no database, no deadline, no shrinking (every replay is a request)."""
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


def _bearer_calls(ctx: CheckContext) -> list[_Call]:
    """A valid request of every operation protected by ``bearerAuth`` (real ids, valid bodies)."""
    calls = []
    for operation in ctx.protected("bearerAuth"):
        method, path, body = ctx.request_for(operation)
        calls.append(_Call(operation.label, method, path, body))
    return calls


def _probe(ctx: CheckContext) -> _Call:
    """The read operation forgeries after the first are sent to: a protected GET without path ids."""
    operations = [op for op in ctx.protected("bearerAuth") if op.method == "GET"]
    operation = next((op for op in operations if "{" not in op.path), operations[0])
    method, path, body = ctx.request_for(operation)
    return _Call(operation.label, method, path, body)


def _send(ctx: CheckContext, call: _Call, authorization: str | None) -> httpx.Response:
    headers = {} if authorization is None else {"Authorization": authorization}
    return ctx.send(call.method, call.path, headers=headers, json=call.body)


def _real(ctx: CheckContext) -> _Real:
    token = ctx.token()
    return _Real(token, unverified_header(token), unverified_claims(token))


def _works(ctx: CheckContext, token: str, what: str) -> None:
    """``token`` is accepted by the probe operation."""
    call = _probe(ctx)
    response = _send(ctx, call, f"Bearer {token}")
    ctx.expect(response, ACCEPTED, f"{what} was refused at {call.label}", "2xx")


def _refuses(
    ctx: CheckContext,
    known: Sequence[Forged],
    strategy: st.SearchStrategy[Forged] | None = None,
    *,
    raw_header: bool = False,
    statuses: Collection[int] = REFUSED,
    expected: str = "401 unauthorized",
) -> list[float]:
    """Send ``known`` (the first to every protected operation, the rest to the probe), then up to
    ``ctx.max_examples`` draws of ``strategy`` to the probe; each must get one of ``statuses``.

    ``raw_header``: a forgery is the whole ``Authorization`` value rather than a bearer token.
    Returns the probe's response times.
    """
    calls, probe = _bearer_calls(ctx), _probe(ctx)
    timings: list[float] = []

    def attempt(forged: Forged, targets: Iterable[_Call]) -> None:
        header = forged.token if raw_header else f"Bearer {forged.token}"
        for call in targets:
            started = time.perf_counter()
            response = _send(ctx, call, header)
            if call is probe:
                timings.append(time.perf_counter() - started)
            ctx.expect(response, statuses, f"{call.label} with {forged.note}", expected)

    for index, forged in enumerate(known):
        attempt(forged, calls if index == 0 else [probe])
    if strategy is not None:

        @_budget(ctx.max_examples)
        @given(strategy)
        def explore(forged: Forged) -> None:
            attempt(forged, [probe])

        explore()
    return timings


def _resign(
    ctx: CheckContext, real: _Real, claims: dict[str, Any], header: dict[str, Any] | None = None
) -> str:
    """``claims`` signed with the target's own key and algorithm (skips when the key is not configured)."""
    secret = ctx.jwt_secret()
    extra = {name: value for name, value in real.header.items() if name != "alg"}
    return sign(
        claims, secret, algorithm=str(real.header.get("alg", "HS256")), header={**extra, **(header or {})}
    )


def _resigning(ctx: CheckContext) -> _Real:
    """The real token, after checking that its claims re-signed with the configured key are accepted."""
    real = _real(ctx)
    _works(
        ctx,
        _resign(ctx, real, real.claims),
        "control: the real token's claims re-signed with the configured secret (is SERGIO_JWT_SECRET right?)",
    )
    return real


def _fresh_login(ctx: CheckContext) -> tuple[httpx.Response, dict[str, Any]]:
    """A fresh login of the primary tenant (spends the auth tier): the response and its JSON body."""
    account = ctx.account()
    response = ctx.send("POST", LOGIN, json={"email": account.email, "password": account.password})
    ctx.expect(response, {200}, f"login as {account.email} failed", "200")
    try:
        body = response.json()
    except ValueError:
        ctx.fail("the login response is not JSON", response, "a JSON object")
    if not isinstance(body, dict):
        ctx.fail("the login response is not a JSON object", response, "a JSON object")
    return response, body


def _log_out(ctx: CheckContext, login: dict[str, Any]) -> None:
    """Best effort: revoke the refresh-token family of a login this check made."""
    refresh_token = login.get("refresh_token")
    if isinstance(refresh_token, str):
        ctx.send("POST", "/v1/auth/logout", token=ctx.token(), json={"refresh_token": refresh_token})


def _jwt_problem(token: str) -> str | None:
    """Why ``token`` is not a signed JWT, or ``None``."""
    try:
        split_token(token)
        header = unverified_header(token)
        claims = unverified_claims(token)
    except (ValueError, jwt.PyJWTError) as error:
        return f"it does not decode as a JWT ({type(error).__name__})"
    if not isinstance(header.get("alg"), str) or header["alg"].lower() == "none":
        return f"its header has no signing algorithm (alg {header.get('alg')!r})"
    if not isinstance(claims, dict):
        return "its payload is not a JSON object"
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _rfc3339(value: Any) -> float | None:
    """Epoch seconds of an RFC 3339 timestamp with an offset, or ``None``."""
    if not isinstance(value, str) or "T" not in value.upper():
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment.timestamp() if moment.tzinfo is not None else None


def _comparable(response: httpx.Response) -> Any:
    """The body as compared for enumeration: JSON without per-request fields, else the text."""
    try:
        return _without_volatile(response.json())
    except ValueError:
        return response.text


def _without_volatile(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_volatile(v) for k, v in value.items() if k not in VOLATILE_KEYS}
    if isinstance(value, list):
        return [_without_volatile(v) for v in value]
    return value


# -- login ---------------------------------------------------------------------------------------


@check("auth.login.shape")
def login_shape(ctx: CheckContext) -> None:
    """Login answers 200 with token (a JWT), refresh_token and expires_at, and forbids caching."""
    response, body = _fresh_login(ctx)
    for name in ("token", "refresh_token", "expires_at"):
        if not isinstance(body.get(name), str) or not body[name]:
            ctx.fail(
                f"the login response has no {name!r} (keys: {', '.join(sorted(body)) or 'none'})",
                response,
                "token, refresh_token and expires_at as non-empty strings",
            )
    problem = _jwt_problem(body["token"])
    if problem:
        ctx.fail(f"the login's token is not a JWT: {problem}", response, "a signed JWT")
    if "no-store" not in response.headers.get("Cache-Control", ""):
        ctx.fail(
            "the login response may be cached (no Cache-Control: no-store)",
            response,
            "no-store (RFC 6749 §5.1)",
        )
    _log_out(ctx, body)


@check("auth.login.lifetime")
def login_lifetime(ctx: CheckContext) -> None:
    """A login's token has exp - iat == 3600, expires_at == exp, and exp is about now + 1 h."""
    response, body = _fresh_login(ctx)
    now = ctx.now()
    problem = _jwt_problem(str(body.get("token", "")))
    if problem:
        ctx.fail(f"the login's token is not a JWT: {problem}", response, "a signed JWT")
    claims = unverified_claims(body["token"])
    exp: Any = claims.get("exp")
    iat: Any = claims.get("iat")
    if not _is_number(exp) or not _is_number(iat):
        ctx.fail(
            f"the token's exp/iat are not numbers (exp {exp!r}, iat {iat!r})",
            response,
            "NumericDate exp and iat",
        )
    if exp - iat != LIFETIME:
        ctx.fail(f"the token lives {exp - iat} s (exp - iat)", response, f"exp - iat == {LIFETIME}")
    expires_at = _rfc3339(body.get("expires_at"))
    if expires_at is None:
        ctx.fail(
            f"expires_at {body.get('expires_at')!r} is not an RFC 3339 timestamp",
            response,
            "RFC 3339 with offset",
        )
    if abs(expires_at - exp) >= 1:
        ctx.fail(
            f"expires_at {body['expires_at']} is {expires_at - exp:+.0f} s from the token's exp",
            response,
            "expires_at == exp",
        )
    tolerance = 5 if ctx.target.clock is not None else 30
    if abs(exp - (now + LIFETIME)) > tolerance:
        ctx.fail(
            f"the token's exp is {exp - now:.0f} s after the target's now",
            response,
            f"{LIFETIME} s (within {tolerance} s)",
        )
    _log_out(ctx, body)


@check("auth.login.enumeration")
def login_enumeration(ctx: CheckContext) -> None:
    """An unknown email and a wrong password get the same status and the same body."""
    account = ctx.account()
    domain = account.email.rpartition("@")[2] or "example.com"
    nobody = f"sergio-kit-nobody-{secrets.token_hex(4)}@{domain}"
    unknown = ctx.send("POST", LOGIN, json={"email": nobody, "password": "Sergio-kit-not-a-password-1"})
    wrong = ctx.send("POST", LOGIN, json={"email": account.email, "password": "Sergio-kit-wrong-password-1"})
    ctx.expect(unknown, CLIENT_ERROR, "login with an unknown email was not refused", "401")
    ctx.expect(wrong, CLIENT_ERROR, "login with a wrong password was not refused", "401")
    if unknown.status_code != wrong.status_code:
        ctx.fail(
            f"an unknown email gets {unknown.status_code}, a wrong password {wrong.status_code}",
            wrong,
            "the same status for both",
        )
    if _comparable(unknown) != _comparable(wrong):
        ctx.fail(
            f"an unknown email and a wrong password get different bodies ({unknown.text[:120]!r} vs below)",
            wrong,
            "the same body for both",
        )


@check("auth.login.bad_input")
def login_bad_input(ctx: CheckContext) -> None:
    """Malformed JSON, wrong types, missing fields, huge and odd-unicode login bodies: 4xx, never 5xx."""

    def attempt(body: LoginBody) -> None:
        headers = {} if body.content_type is None else {"Content-Type": body.content_type}
        response = ctx.send("POST", LOGIN, headers=headers, content=body.content)
        ctx.expect(response, CLIENT_ERROR, f"login with {body.note}", "a 4xx refusal, never 5xx")

    for body in known_login_bodies():
        attempt(body)

    @_budget(min(ctx.max_examples, LOGIN_BAD_INPUT_BUDGET))
    @given(login_bodies())
    def explore(body: LoginBody) -> None:
        attempt(body)

    explore()


# -- the bearer header -------------------------------------------------------------------------


@check("auth.bearer.missing")
def bearer_missing(ctx: CheckContext) -> None:
    """Every bearer-protected operation without Authorization is 401 with a Bearer challenge."""
    for call in _bearer_calls(ctx):
        response = _send(ctx, call, None)
        ctx.expect(response, REFUSED, f"{call.label} without Authorization", "401 unauthorized")
        challenge = response.headers.get("WWW-Authenticate", "")
        if not challenge.lower().startswith("bearer"):
            ctx.fail(
                f"{call.label} without Authorization: 401 without a Bearer challenge ({challenge!r})",
                response,
                "WWW-Authenticate: Bearer ... (RFC 6750 §3)",
            )


@check("auth.bearer.malformed")
def bearer_malformed(ctx: CheckContext) -> None:
    """A valid token in a malformed Authorization header ('Basic <t>', a bare token, ...) is 400/401."""
    token = ctx.token()
    known = known_malformed_authorization(token)
    _refuses(
        ctx,
        known,
        malformed_authorization(token),
        raw_header=True,
        statuses={400, 401},
        expected="400 or 401",
    )
    _works(ctx, token, "the same token as 'Bearer <token>'")


# -- signature attacks --------------------------------------------------------------------------


def _signature_attack(ctx: CheckContext, what: str, forge: Callable[[str], tuple[Any, ...]]) -> None:
    """The real token works; every forgery ``forge(token)`` makes is 401; the real token still works."""
    real = _real(ctx)
    _works(ctx, real.token, "control: the real token")
    _refuses(ctx, *forge(real.token))
    _works(ctx, real.token, f"the real token after the {what} ones")


@check("auth.jwt.tampered_claims")
def jwt_tampered_claims(ctx: CheckContext) -> None:
    """A real token whose payload was changed under its old signature is 401."""
    _signature_attack(ctx, "tampered", lambda token: (known_tamperings(token), tampered_claims(token)))


@check("auth.jwt.truncated_signature")
def jwt_truncated_signature(ctx: CheckContext) -> None:
    """A real token with its signature cut short is 401; the untouched token still works after."""
    _signature_attack(ctx, "truncated", lambda token: (known_truncations(token), truncated_signatures(token)))


@check("auth.jwt.null_signature")
def jwt_null_signature(ctx: CheckContext) -> None:
    """A real token with an empty, zeroed or missing signature is 401; the untouched token still works."""
    _signature_attack(ctx, "unsigned", lambda token: (known_null_signatures(token),))


@check("auth.jwt.alg_none")
def jwt_alg_none(ctx: CheckContext) -> None:
    """The real claims under alg none/None/NONE/nOnE with an empty signature are 401."""
    real = _real(ctx)
    _refuses(ctx, known_alg_none(real.token))
    _works(ctx, real.token, "the real token after the unsigned ones")


@check("auth.jwt.alg_confusion")
def jwt_alg_confusion(ctx: CheckContext) -> None:
    """The real claims signed HS256 with the empty key or a common secret are 401."""
    real = _real(ctx)
    _refuses(ctx, known_weak_keys(real.claims))
    _works(ctx, real.token, "the real token after the weak-key ones")


@check("auth.jwt.header_injection")
def jwt_header_injection(ctx: CheckContext) -> None:
    """jwk, jku, x5u and kid-injection headers are 401, and answered no slower than a plain bad signature."""
    real = _real(ctx)
    probe = _probe(ctx)
    baseline: list[float] = []
    for _ in range(TIMING_BASELINE):
        forged = sign(real.claims, secrets.token_bytes(32), algorithm="HS256")
        started = time.perf_counter()
        response = _send(ctx, probe, f"Bearer {forged}")
        baseline.append(time.perf_counter() - started)
        ctx.expect(
            response, REFUSED, f"{probe.label} with a token signed by a random key", "401 unauthorized"
        )
    timings = _refuses(ctx, known_header_injections(real.claims), injected_headers(real.claims))
    injected, normal = statistics.median(timings), statistics.median(baseline)
    if injected > 3 * normal and injected - normal > 0.5:
        ctx.fail(
            f"tokens with injected headers took a median {injected:.2f} s to refuse, "
            f"a bad signature {normal:.2f} s: the target may be fetching jku/x5u URLs or resolving kid",
            expected="no slower than a normal 401",
        )
    _works(ctx, real.token, "the real token after the injected ones")


# -- claims, re-signed with the target's key ------------------------------------------------------


@check("auth.jwt.expired")
def jwt_expired(ctx: CheckContext) -> None:
    """A validly signed token whose exp has passed is 401 (needs the signing key)."""
    real = _resigning(ctx)
    now = int(ctx.now())
    forged = []
    for ago, what in ((3600, "an hour"), (600, "ten minutes")):
        issued = now - ago - LIFETIME
        claims = {**real.claims, "iat": issued, "exp": issued + LIFETIME}
        if "nbf" in real.claims:
            claims["nbf"] = issued
        forged.append(Forged(f"exp {what} ago (re-signed)", _resign(ctx, real, claims)))
    _refuses(ctx, forged)


@check("auth.jwt.not_yet_valid")
def jwt_not_yet_valid(ctx: CheckContext) -> None:
    """Validly signed tokens with nbf or iat ten minutes in the future are 401 (needs the signing key)."""
    real = _resigning(ctx)
    future = int(ctx.now()) + 600
    forged = [
        Forged(
            "nbf ten minutes in the future (re-signed)", _resign(ctx, real, {**real.claims, "nbf": future})
        ),
        Forged(
            "iat ten minutes in the future (re-signed)", _resign(ctx, real, {**real.claims, "iat": future})
        ),
    ]
    _refuses(ctx, forged)


@check("auth.jwt.wrong_audience")
def jwt_wrong_audience(ctx: CheckContext) -> None:
    """A validly signed token for another audience is 401 (needs the signing key)."""
    real = _resigning(ctx)
    other = "https://other-service.example"
    forged = [
        Forged("aud of another service (re-signed)", _resign(ctx, real, {**real.claims, "aud": other})),
        Forged(
            "aud listing only another service (re-signed)",
            _resign(ctx, real, {**real.claims, "aud": [other]}),
        ),
    ]
    _refuses(ctx, forged)


@check("auth.jwt.wrong_issuer")
def jwt_wrong_issuer(ctx: CheckContext) -> None:
    """A validly signed token from another issuer is 401 (needs the signing key)."""
    real = _resigning(ctx)
    forged = [
        Forged(
            "iss of another issuer (re-signed)",
            _resign(ctx, real, {**real.claims, "iss": "https://evil.example"}),
        )
    ]
    _refuses(ctx, forged)


@check("auth.jwt.missing_exp")
def jwt_missing_exp(ctx: CheckContext) -> None:
    """A validly signed token without exp is 401 (needs the signing key)."""
    real = _resigning(ctx)
    claims = {name: value for name, value in real.claims.items() if name != "exp"}
    _refuses(ctx, [Forged("no exp claim (re-signed)", _resign(ctx, real, claims))])


@check("auth.jwt.claim_fuzz")
def jwt_claim_fuzz(ctx: CheckContext) -> None:
    """Generated header and claim values, re-signed: 401 or 2xx as the claim set is valid, never 5xx."""
    real = _resigning(ctx)
    issued = int(ctx.now()) - 30
    base = {**real.claims, "iat": issued, "exp": issued + LIFETIME}
    if "nbf" in base:
        base["nbf"] = issued
    probe = _probe(ctx)

    def attempt(claim_set: ClaimSet) -> None:
        token = _resign(ctx, real, claim_set.claims, claim_set.header)
        response = _send(ctx, probe, f"Bearer {token}")
        what = f"{probe.label} with a re-signed token whose {claim_set.note}"
        if response.status_code >= 500:
            ctx.fail(f"{what}: got {response.status_code}", response, "401 or 2xx, never 5xx")
        if claim_set.valid is True:
            ctx.expect(response, ACCEPTED, f"{what} (a valid claim set)", "2xx")
        elif claim_set.valid is False:
            ctx.expect(response, REFUSED, f"{what} (an invalid claim set)", "401 unauthorized")
        else:
            ctx.expect(response, {*ACCEPTED, *REFUSED}, what, "401 or 2xx")

    for claim_set in known_claim_sets(base):
        attempt(claim_set)

    @_budget(ctx.max_examples)
    @given(claim_sets(base, reference=issued))
    def explore(claim_set: ClaimSet) -> None:
        attempt(claim_set)

    explore()


# -- token kinds and live expiry ----------------------------------------------------------------


@check("auth.token_kind")
def token_kind(ctx: CheckContext) -> None:
    """A refresh token is refused as a bearer token (401), and an access token at /refresh (4xx)."""
    _, login = _fresh_login(ctx)
    refresh_token = login.get("refresh_token")
    if not isinstance(refresh_token, str) or not isinstance(login.get("token"), str):
        ctx.fail("the login response has no token and refresh_token to test with", expected="both")
    try:
        _refuses(ctx, [Forged("the refresh token as a bearer token", refresh_token)])
        response = ctx.send("POST", REFRESH, json={"refresh_token": login["token"]})
        ctx.expect(
            response, CLIENT_ERROR, "the access token sent as a refresh token to /v1/auth/refresh", "4xx"
        )
    finally:
        _log_out(ctx, login)


@check("auth.expiry.live")
def expiry_live(ctx: CheckContext) -> None:
    """With the target's clock frozen at login, the token works at +3599 s and is 401 at +3601 s."""
    clock = ctx.clock()
    clock.freeze()
    login: dict[str, Any] = {}
    try:
        _, login = _fresh_login(ctx)
        token = str(login.get("token"))
        probe = _probe(ctx)
        clock.advance(LIFETIME - 1)
        response = _send(ctx, probe, f"Bearer {token}")
        ctx.expect(response, ACCEPTED, f"{probe.label} with a token {LIFETIME - 1} s after its login", "2xx")
        clock.advance(2)
        response = _send(ctx, probe, f"Bearer {token}")
        ctx.expect(
            response,
            REFUSED,
            f"{probe.label} with a token {LIFETIME + 1} s after its login",
            "401 unauthorized",
        )
    finally:
        clock.unfreeze()
        if login:
            _log_out(ctx, login)
