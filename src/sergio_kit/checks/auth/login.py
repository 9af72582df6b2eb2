"""``auth.login.*``: the login's response, its token's lifetime, enumeration and bad input."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

import httpx
import jwt
from hypothesis import given

from sergio_kit.checks.auth.forgeries import (
    CLIENT_ERROR,
    LIFETIME,
    LOGIN,
    fresh_login,
    hypothesis_budget,
    log_out,
)
from sergio_kit.checks.auth.strategies import (
    LoginBody,
    known_login_bodies,
    login_bodies,
    split_token,
    unverified_claims,
    unverified_header,
)
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.lanes import generating
from sergio_kit.checks.registry import check
from sergio_kit.contract.samples import timestamp_from_http_date

LOGIN_BAD_INPUT_BUDGET = 10  # generated bad logins beyond the known ones: each spends the auth tier
#: The known bad bodies a live run sends first: broken JSON and type confusion, the commonest 500s.
LIVE_FIRST = ("JSON cut short", "wrong types")
VOLATILE_KEYS = frozenset({"request_id", "requestId", "trace_id", "traceId", "timestamp"})


@check("auth.login.shape", basis="documented")
def login_shape(ctx: CheckContext) -> None:
    """Login answers 200 with token (a JWT), refresh_token and expires_at, and forbids caching."""
    response, body = fresh_login(ctx)
    for name in ("token", "refresh_token", "expires_at"):
        if not isinstance(body.get(name), str) or not body[name]:
            ctx.fail(
                f"the login response has no {name!r} (keys: {', '.join(sorted(body)) or 'none'})",
                response,
                "token, refresh_token and expires_at as non-empty strings",
            )
    log_out(ctx, body)
    problem = _jwt_problem(body["token"])
    if problem:
        ctx.fail(f"the login's token is not a JWT: {problem}", response, "a signed JWT")
    if "no-store" not in response.headers.get("Cache-Control", ""):
        ctx.fail(
            "the login response may be cached (no Cache-Control: no-store)",
            response,
            "no-store (RFC 6749 §5.1)",
            basis="recommended",  # the published documentation does not ask for it
        )


@check("auth.login.lifetime", basis="documented")
def login_lifetime(ctx: CheckContext) -> None:
    """A login's token has exp - iat == 3600, expires_at == exp, and exp is about now + 1 h."""
    response, body = fresh_login(ctx)
    expect_lifetime(ctx, response, body, "login")
    log_out(ctx, body)


def expect_lifetime(ctx: CheckContext, response: httpx.Response, body: dict[str, Any], source: str) -> None:
    """The token of ``body`` (the response of a ``source``: login or refresh) lives the published hour:
    exp is about the target's now + 3600 and exp - iat == 3600; iat is a number and expires_at an RFC
    3339 timestamp equal to exp (recommended: the kit's assumptions). A refresh's findings start with
    ``refresh: ``."""
    prefix = "" if source == "login" else f"{source}: "
    # the target's time when it answered (a spare login of the run may be a minute old)
    now = timestamp_from_http_date(response.headers.get("Date")) or ctx.now()
    problem = _jwt_problem(str(body.get("token", "")))
    if problem:
        ctx.fail(f"the {source}'s token is not a JWT: {problem}", response, "a signed JWT")
    claims = unverified_claims(body["token"])
    exp: Any = claims.get("exp")
    iat: Any = claims.get("iat")
    if not _is_number(exp):
        ctx.fail(f"{prefix}the token's exp is not a number ({exp!r})", response, "a NumericDate exp")
    tolerance = 5 if ctx.target.clock is not None else 30
    if abs(exp - (now + LIFETIME)) > tolerance:
        ctx.fail(
            f"{prefix}the token's exp is {exp - now:.0f} s after the target's now",
            response,
            f"{LIFETIME} s (within {tolerance} s)",
        )
    # The one-hour lifetime is published; iat (optional in RFC 7519) and expires_at's form and
    # equality with exp are the kit's assumptions.
    if not _is_number(iat):
        ctx.fail(
            f"{prefix}the token's iat is not a number ({iat!r})",
            response,
            "a NumericDate iat",
            basis="recommended",
        )
    if exp - iat != LIFETIME:
        ctx.fail(f"{prefix}the token lives {exp - iat} s (exp - iat)", response, f"exp - iat == {LIFETIME}")
    expires_at = _rfc3339(body.get("expires_at"))
    if expires_at is None:
        ctx.fail(
            f"{prefix}expires_at {body.get('expires_at')!r} is not an RFC 3339 timestamp",
            response,
            "RFC 3339 with offset",
            basis="recommended",
        )
    if abs(expires_at - exp) >= 1:
        ctx.fail(
            f"{prefix}expires_at {body['expires_at']} is {expires_at - exp:+.0f} s from the token's exp",
            response,
            "expires_at == exp",
            basis="recommended",
        )


@check("auth.login.enumeration", basis="recommended")
def login_enumeration(ctx: CheckContext) -> None:
    """An unknown email and a wrong password get the same status and the same body."""
    ctx.require("POST /v1/auth/login", "to log in with bad credentials")
    account = ctx.account()
    domain = account.email.rpartition("@")[2] or "example.com"
    nobody = f"sergio-kit-nobody-{secrets.token_hex(4)}@{domain}"
    unknown = ctx.send("POST", LOGIN, json={"email": nobody, "password": "Sergio-kit-not-a-password-1"})
    wrong = ctx.send("POST", LOGIN, json={"email": account.email, "password": "Sergio-kit-wrong-password-1"})
    # Refusing bad credentials is the published login's job; answering both alike is the recommendation.
    ctx.expect(
        unknown, CLIENT_ERROR, "login with an unknown email was not refused", "401", basis="documented"
    )
    ctx.expect(wrong, CLIENT_ERROR, "login with a wrong password was not refused", "401", basis="documented")
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


# No RFC MUST forbids a 5xx for a bad request (RFC 9110 §15.6 only says a 5xx means the server erred),
# and the 400/422 answers are the kit's assumption (sergio-api.md, Assumed): a recommended rule.
@check("auth.login.bad_input", basis="recommended")
def login_bad_input(ctx: CheckContext) -> None:
    """Malformed JSON, wrong types, missing fields, huge and odd-unicode login bodies: 4xx, never 5xx."""
    ctx.require("POST /v1/auth/login", "to send it bad login bodies")

    def attempt(body: LoginBody) -> None:
        headers = {} if body.content_type is None else {"Content-Type": body.content_type}
        response = ctx.send("POST", LOGIN, headers=headers, content=body.content)
        ctx.expect(response, CLIENT_ERROR, f"login with {body.note}", "a 4xx refusal, never 5xx")

    known = known_login_bodies()
    if ctx.live_budget is not None:  # live: the likeliest crashers first, each spends the auth tier
        likeliest = sorted(known, key=lambda body: body.note not in LIVE_FIRST)
        for body in likeliest[: ctx.live_budget.bad_logins]:
            attempt(body)
        return
    for body in known:
        attempt(body)

    @hypothesis_budget(min(ctx.max_examples, LOGIN_BAD_INPUT_BUDGET))
    @given(login_bodies())
    def explore(body: LoginBody) -> None:
        attempt(body)

    with generating():
        explore()


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
