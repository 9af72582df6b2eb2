"""``auth.bearer.*``: the ``Authorization: Bearer`` header missing or malformed."""

from __future__ import annotations

from sergio_kit.checks.auth.forgeries import (
    REFUSED,
    bearer_calls,
    expect_accepted,
    expect_refused,
    send_call,
)
from sergio_kit.checks.auth.strategies import known_malformed_authorization, malformed_authorization
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check


@check("auth.bearer.missing", basis="documented")
def bearer_missing(ctx: CheckContext) -> None:
    """Every bearer-protected operation without Authorization is 401 with a Bearer challenge."""
    for call in bearer_calls(ctx):
        response = send_call(ctx, call, None)
        ctx.expect(response, REFUSED, f"{call.label} without Authorization", "401 unauthorized")
        challenge = response.headers.get("WWW-Authenticate", "")
        if not challenge.lower().startswith("bearer"):
            ctx.fail(
                f"{call.label} without Authorization: 401 without a Bearer challenge ({challenge!r})",
                response,
                "WWW-Authenticate: Bearer ... (RFC 6750 §3)",
                basis="standard",  # a 401 MUST carry a challenge (RFC 9110 §15.5.2)
            )


@check("auth.bearer.malformed", basis="recommended")
def bearer_malformed(ctx: CheckContext) -> None:
    """A valid token in a malformed Authorization header ('Basic <t>', a bare token, ...) is 400/401."""
    token = ctx.token()
    known = known_malformed_authorization(token)
    expect_refused(
        ctx,
        known,
        malformed_authorization(token),
        raw_header=True,
        statuses={400, 401},
        expected="400 or 401",
    )
    expect_accepted(ctx, token, "the same token as 'Bearer <token>'")
