"""``auth.token_kind`` and ``auth.expiry.live``: each token used only as its kind, and only while it lives."""

from __future__ import annotations

from typing import Any

from sergio_kit.checks.auth.forgeries import (
    ACCEPTED,
    CLIENT_ERROR,
    LIFETIME,
    REFUSED,
    expect_refused,
    fresh_login,
    log_out,
    probe_call,
    send_call,
)
from sergio_kit.checks.auth.strategies import Forged
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check

REFRESH = "/v1/auth/refresh"


@check("auth.token_kind", basis="recommended")
def token_kind(ctx: CheckContext) -> None:
    """A refresh token is refused as a bearer token (401), and an access token at /refresh (4xx)."""
    ctx.require("POST /v1/auth/refresh", "to send it an access token as a refresh token")
    _, login = fresh_login(ctx)
    refresh_token = login.get("refresh_token")
    if not isinstance(refresh_token, str) or not isinstance(login.get("token"), str):
        ctx.fail("the login response has no token and refresh_token to test with", expected="both")
    try:
        expect_refused(ctx, [Forged("the refresh token as a bearer token", refresh_token)])
        response = ctx.send("POST", REFRESH, json={"refresh_token": login["token"]})
        ctx.expect(
            response, CLIENT_ERROR, "the access token sent as a refresh token to /v1/auth/refresh", "4xx"
        )
    finally:
        log_out(ctx, login)


@check("auth.expiry.live", basis="recommended")
def expiry_live(ctx: CheckContext) -> None:
    """With the target's clock frozen at login, the token works at +3599 s and is 401 at +3601 s."""
    clock = ctx.clock()
    clock.freeze()
    login: dict[str, Any] = {}
    try:
        _, login = fresh_login(ctx)
        token = str(login.get("token"))
        probe = probe_call(ctx)
        clock.advance(LIFETIME - 1)
        response = send_call(ctx, probe, f"Bearer {token}")
        what = f"{probe.label} with a token {LIFETIME - 1} s after its login"
        ctx.expect(response, ACCEPTED, what, "2xx", basis="documented")  # the published one-hour lifetime
        # Refused at once after exp: RFC 7519 allows a few minutes' leeway, hence the check's basis.
        clock.advance(2)
        response = send_call(ctx, probe, f"Bearer {token}")
        ctx.expect(
            response,
            REFUSED,
            f"{probe.label} with a token {LIFETIME + 1} s after its login",
            "401 unauthorized",
        )
    finally:
        clock.unfreeze()
        if login:
            log_out(ctx, login)
