"""What the ``auth.*`` checks share: sending real and forged tokens to the bearer-protected operations.

A forgery's first copy goes to every operation the contract protects with ``bearerAuth``, the rest
to one read operation (the probe); :func:`expect_refused` does both and explores a Hypothesis
strategy within :func:`hypothesis_budget`; :func:`expect_accepted` is the control that a real token
still works. :func:`fresh_login` and :func:`log_out` give a check a login of its own.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from sergio_kit.checks.auth.strategies import Forged
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.lanes import generating
from sergio_kit.reports.findings import CheckSkipped

LOGIN = "/v1/auth/login"
LOGIN_OPERATION = f"POST {LOGIN}"
LIFETIME = 3600  # seconds an access token lives, from its login
ACCEPTED = range(200, 300)
REFUSED = frozenset({401})
CLIENT_ERROR = range(400, 500)


@dataclass(frozen=True)
class ProtectedCall:
    """A valid request of one protected operation: only its credentials can be wrong."""

    label: str
    method: str
    path: str
    body: Any


def hypothesis_budget(max_examples: int) -> settings:
    """Hypothesis settings for a check: no database, no deadline, no shrinking (every replay is a request)."""
    return settings(
        max_examples=max_examples,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )


# -- calls to the protected operations ----------------------------------------------------------


def bearer_calls(ctx: CheckContext) -> list[ProtectedCall]:
    """A valid request of every operation protected by ``bearerAuth`` (real ids, valid bodies)."""
    calls = []
    for operation in ctx.protected("bearerAuth"):
        method, path, body = ctx.request_for(operation)
        calls.append(ProtectedCall(operation.label, method, path, body))
    return calls


def probe_call(ctx: CheckContext) -> ProtectedCall:
    """The read operation forgeries after the first are sent to: a protected GET without path ids."""
    operations = [op for op in ctx.protected("bearerAuth") if op.method == "GET"]
    if not operations:
        raise CheckSkipped("the contract declares no GET operation secured by bearerAuth to probe tokens on")
    operation = next((op for op in operations if "{" not in op.path), operations[0])
    method, path, body = ctx.request_for(operation)
    return ProtectedCall(operation.label, method, path, body)


def send_call(ctx: CheckContext, call: ProtectedCall, authorization: str | None) -> httpx.Response:
    """Send ``call`` with ``authorization`` as its whole ``Authorization`` header (none for ``None``)."""
    headers = {} if authorization is None else {"Authorization": authorization}
    return ctx.send(call.method, call.path, headers=headers, json=call.body)


# -- real and forged tokens ---------------------------------------------------------------------


def expect_accepted(ctx: CheckContext, token: str, what: str) -> None:
    """``token`` is accepted by the probe operation (``what`` names it in the finding)."""
    call = probe_call(ctx)
    response = send_call(ctx, call, f"Bearer {token}")
    ctx.expect(response, ACCEPTED, f"{what} was refused at {call.label}", "2xx")


def expect_refused(
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
    calls, probe = bearer_calls(ctx), probe_call(ctx)
    timings: list[float] = []

    def attempt(forged: Forged, targets: Iterable[ProtectedCall]) -> None:
        header = forged.token if raw_header else f"Bearer {forged.token}"
        for call in targets:
            started = time.perf_counter()
            response = send_call(ctx, call, header)
            if call is probe:
                timings.append(time.perf_counter() - started)
            ctx.expect(response, statuses, f"{call.label} with {forged.note}", expected)

    for index, forged in enumerate(known):
        attempt(forged, calls if index == 0 else [probe])
    if strategy is not None:

        @hypothesis_budget(ctx.max_examples)
        @given(strategy)
        def explore(forged: Forged) -> None:
            attempt(forged, [probe])

        with generating():
            explore()
    return timings


def with_wrong_signature(token: str) -> str:
    """``token`` with the first character of its signature changed: the same shape, never valid."""
    head, dot, signature = token.rpartition(".")
    return f"{head}{dot}{'B' if signature[:1] == 'A' else 'A'}{signature[1:]}"


# -- logins of a check's own --------------------------------------------------------------------


def fresh_login(ctx: CheckContext) -> tuple[httpx.Response, dict[str, Any]]:
    """A fresh login of the primary tenant (a spare one of the run's, else a new one, which spends the
    auth tier): the response and its JSON body."""
    ctx.require(LOGIN_OPERATION, "to log in")
    response = ctx.login_response()
    ctx.expect(response, {200}, f"login as {ctx.account().email} failed", "200")
    try:
        body = response.json()
    except ValueError:
        ctx.fail("the login response is not JSON", response, "a JSON object")
    if not isinstance(body, dict):
        ctx.fail("the login response is not a JSON object", response, "a JSON object")
    return response, body


def log_out(ctx: CheckContext, login: dict[str, Any]) -> None:
    """Best effort: revoke the refresh-token family of a login this check made (when the target
    offers logout)."""
    refresh_token = login.get("refresh_token")
    if isinstance(refresh_token, str) and ctx.offers("POST /v1/auth/logout"):
        ctx.send("POST", "/v1/auth/logout", token=ctx.token(), json={"refresh_token": refresh_token})
