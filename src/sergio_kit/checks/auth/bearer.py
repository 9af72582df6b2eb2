"""``auth.bearer.*``: the ``Authorization: Bearer`` header missing or malformed, and the token sent
anywhere else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from sergio_kit.checks.auth.forgeries import (
    REFUSED,
    ProtectedCall,
    bearer_calls,
    expect_accepted,
    expect_refused,
    probe_call,
    send_call,
    with_wrong_signature,
)
from sergio_kit.checks.auth.strategies import known_malformed_authorization, malformed_authorization
from sergio_kit.checks.context import PRIMARY, CheckContext
from sergio_kit.checks.registry import check

PARAMETER = "access_token"  # RFC 6750 §2.2 and §2.3
FORM_OPERATION = "POST /v1/jobs"  # a bearer write with a body, of the roomy write tier
IN_QUERY = f"the query string (?{PARAMETER}=)"
IN_FORM = f"a form-encoded body ({PARAMETER}=)"


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


@check("auth.bearer.placement", basis="recommended")
def bearer_placement(ctx: CheckContext) -> None:
    """A valid token outside the Authorization header does not authenticate: not in the query string
    (?access_token=), not in a form-encoded body (access_token=).

    Recommended, not standard: RFC 6750 lets a resource server accept both (§2.2 the form body, §2.3
    the query parameter: "MAY"; clients "SHOULD NOT" use the query), the published documentation names
    only the header, and the contract's ``bearerAuth`` (type http, scheme bearer) says where a client
    sends the token, not what else a server may take: a correct deployment may accept them. A token in
    a URL ends up in logs, histories and Referer headers (RFC 6750 §5.3), hence the warning. A token
    counts as accepted when the request is answered otherwise than the same request with a wrong token,
    so a server that refuses it first for another reason (an unknown query parameter, a form body) is
    not blamed. The scheme's case is not judged: RFC 9110 §11.1 makes it case-insensitive, so
    ``bearer <token>`` is valid; a tab for the space is ``auth.bearer.malformed``'s.
    """
    probe = probe_call(ctx)
    token = ctx.token()
    _expect_ignored(ctx, probe, token, IN_QUERY, lambda value: {"params": {PARAMETER: value}})
    form_call = _form_call(ctx)
    if form_call is not None:
        _expect_ignored(ctx, form_call, token, IN_FORM, lambda value: {"data": {PARAMETER: value}})


def _form_call(ctx: CheckContext) -> ProtectedCall | None:
    """The bearer operation a form body goes to: ``POST /v1/jobs``, else another bearer write without
    path parameters outside /v1/auth/ (RFC 6750 §2.2: never GET); ``None`` when the contract has none."""
    writes = [
        operation
        for operation in ctx.protected("bearerAuth")
        if operation.method in ("POST", "PUT", "PATCH")
        and "{" not in operation.path
        and not operation.path.startswith("/v1/auth/")
    ]
    if not writes:
        return None
    operation = next((op for op in writes if op.label == FORM_OPERATION), writes[0])
    return ProtectedCall(operation.label, operation.method, operation.path, None)


def _expect_ignored(
    ctx: CheckContext, call: ProtectedCall, token: str, where: str, carrying: Callable[[str], dict[str, Any]]
) -> None:
    """``call`` with ``token`` only in ``where`` (``carrying(token)``: the request's params or data)
    must be answered 401, or as the same request with a wrong token is (the token made no difference)."""
    response = _send_without_header(ctx, call, carrying(token))
    if response.status_code in REFUSED:
        return
    control = _send_without_header(ctx, call, carrying(with_wrong_signature(token)))
    if control.status_code == response.status_code:
        return
    ctx.fail(
        f"{call.label} with a valid token in {where} was not refused: got {response.status_code} "
        f"(a wrong token there gets {control.status_code})",
        response,
        "401, as without a token: the token only in the Authorization header",
    )


def _send_without_header(ctx: CheckContext, call: ProtectedCall, options: dict[str, Any]) -> httpx.Response:
    """``call`` without an Authorization header, with ``options`` (query params or form data), paced
    as its operation; a resource it made after all is removed when the context closes."""
    response = ctx.throttle.send(
        f"{call.method} {call.path}",
        lambda: ctx.client.request(call.method, call.path, **options),
        lambda answer: (answer.status_code, answer.headers),
        headers={},
    )
    if call.method == "POST" and 200 <= response.status_code < 300:
        try:
            made = response.json().get("id")
        except (ValueError, AttributeError):
            made = None
        if isinstance(made, str) and made:
            ctx.remove_later(PRIMARY, f"{call.path}/{made}")
    return response
