"""``/v1/auth``: login, refresh with rotation and reuse detection, logout.

Variants: ``refresh-without-rotation`` (refresh answers ``{token, expires_at}`` and the refresh token
lives on), ``cacheable-login`` (no ``Cache-Control: no-store`` on token responses),
``company-from-database`` (refresh takes the company from the user's record).
"""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

from starlette.responses import JSONResponse, Response

from sergio_kit.server.http_errors import ApiError
from sergio_kit.server.routing import Call, Handler
from sergio_kit.server.security.passwords import verify_password
from sergio_kit.server.security.tokens import (
    InvalidTokenError,
    issue_access_token,
    issue_refresh_token,
    verify_refresh_token,
)
from sergio_kit.server.settings import ACCESS_TOKEN_SECONDS, AUDIENCE
from sergio_kit.server.timefmt import rfc3339

_BAD_LOGIN = "email or password is incorrect"


async def login(call: Call) -> Response:
    """Exchange email and password for an access token and a refresh token."""
    if "auth.login.bad_input" in call.faults:
        import json

        json.loads(await call.request.body())  # the bug: malformed JSON escapes as a 500
    body = await call.body()
    db = call.state.db
    user = db.user_by_email(body["email"])
    if not verify_password(body["password"], user.password_hash if user else None) or user is None:
        if user is None and "auth.login.enumeration" in call.faults:
            raise ApiError(401, "no account with that email")
        raise ApiError(401, _BAD_LOGIN)
    family_id = "fam_" + secrets.token_hex(10)
    tokens = _issue_pair(call, user.id, user.company_id, family_id)
    db.start_family(family_id, user.id, tokens["_refresh_jti"])
    return _token_response(call, tokens)


async def _refresh_claims(call: Call) -> dict[str, Any]:
    """The validated body's refresh token, verified (signature, kind, expiry); 401 otherwise."""
    body = await call.body()
    state = call.state
    try:
        return verify_refresh_token(
            body["refresh_token"], keys=state.token_keys, now=state.clock.now(), faults=call.faults
        )
    except InvalidTokenError as error:
        raise ApiError(401, f"invalid refresh token: {error}") from None


async def refresh(call: Call) -> Response:
    """Rotate a refresh token: the old one dies; presenting a dead one kills its whole family.

    With ``refresh-without-rotation`` only a new access token is issued and the refresh token stays
    valid until it expires or its family is logged out.
    """
    claims = await _refresh_claims(call)
    state = call.state
    jti, family_id = str(claims["jti"]), str(claims["fam"])
    known = state.db.refresh_state(jti)
    if known is None or known[0] != family_id:
        raise ApiError(401, "invalid refresh token: unknown")
    _, used, family_revoked = known
    if family_revoked:
        raise ApiError(401, "refresh token family was revoked; log in again")
    user_id, company_id = str(claims["sub"]), _company_of(call, claims)
    if "refresh.claims@identity" in call.faults:  # the bug: the token goes to the wrong user
        someone_else = state.db.other_user(user_id)
        if someone_else is not None:
            user_id, company_id = someone_else.id, someone_else.company_id
    audience = "sergio-refresh" if "refresh.rotation" in call.faults else AUDIENCE
    if "refresh-without-rotation" in call.state.settings.variants:
        return _token_response(call, _access_fields(call, user_id, company_id, audience=audience))
    if used and "refresh.reuse" not in call.faults:
        state.db.revoke_family(family_id)
        raise ApiError(401, "refresh token was already used; the session is revoked, log in again")
    if "refresh.race" in call.faults:
        await asyncio.sleep(0.05)  # the bug: checked above, rotated below, other requests in between
    tokens = _issue_pair(call, user_id, company_id, family_id, audience=audience)
    state.db.rotate_refresh(jti, tokens["_refresh_jti"], family_id)
    return _token_response(call, tokens)


def _company_of(call: Call, claims: dict[str, Any]) -> str:
    """The company of a refresh token's user: its ``cid`` claim, or (``company-from-database``) the
    user's record."""
    if "company-from-database" in call.state.settings.variants:
        user = call.state.db.user_by_id(str(claims["sub"]))
        if user is None:
            raise ApiError(401, "invalid refresh token: unknown user")
        return user.company_id
    return str(claims["cid"])


async def logout(call: Call) -> Response:
    """Revoke the refresh-token family named by ``refresh_token``; 204 whatever its state."""
    try:
        claims = await _refresh_claims(call)
    except ApiError as error:
        if error.status != 401:
            raise
        return Response(status_code=204)
    state = call.state
    family_id = str(claims["fam"])
    if state.db.family_owner(family_id) != call.principal.id:
        return Response(status_code=204)
    if "refresh.property" in call.faults:
        state.db.revoke_user_families(call.principal.id)
    elif "refresh.logout" not in call.faults:
        state.db.revoke_family(family_id)
    return Response(status_code=204)


def _access_fields(call: Call, user_id: str, company_id: str, audience: str = AUDIENCE) -> dict[str, Any]:
    """A new access token and its ``expires_at``: the published refresh response."""
    faults, refreshing = call.faults, call.operation.operation_id == "refreshToken"
    long_lived = refreshing and "refresh.claims" in faults  # the bug: refreshed tokens live 2 hours
    access = issue_access_token(
        call.state.token_keys,
        user_id=user_id,
        company_id=company_id,
        now=call.state.clock.now(),
        audience=audience,
        lifetime=ACCESS_TOKEN_SECONDS * (2 if long_lived else 1),
    )
    early = "auth.login.lifetime" in faults or (refreshing and "refresh.claims@expires_at" in faults)
    expires_at = access.claims["exp"] - (300 if early else 0)
    return {"token": access.token, "expires_at": rfc3339(expires_at)}


def _issue_pair(
    call: Call, user_id: str, company_id: str, family_id: str, audience: str = AUDIENCE
) -> dict[str, Any]:
    """An access token and a refresh token of ``family_id`` (``_refresh_jti``: its id, not sent)."""
    refresh_token = issue_refresh_token(
        call.state.token_keys,
        user_id=user_id,
        company_id=company_id,
        family_id=family_id,
        now=call.state.clock.now(),
    )
    access = _access_fields(call, user_id, company_id, audience)
    return {
        "token": access["token"],
        "refresh_token": refresh_token.token,
        "expires_at": access["expires_at"],
        "_refresh_jti": refresh_token.claims["jti"],
    }


def _token_response(call: Call, tokens: dict[str, Any]) -> Response:
    body = {key: value for key, value in tokens.items() if not key.startswith("_")}
    if "auth.login.shape" in call.faults and call.operation.operation_id == "login":
        del body["refresh_token"]
    cacheable = "cacheable-login" in call.state.settings.variants
    return JSONResponse(body, headers={} if cacheable else {"Cache-Control": "no-store"})


HANDLERS: dict[str, Handler] = {"login": login, "refreshToken": refresh, "logout": logout}
