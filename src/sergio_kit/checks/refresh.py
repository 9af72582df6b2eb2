"""``refresh.*``: refresh-token rotation, reuse detection, races, logout, and a stateful model.

Every family these checks revoke comes from its own fresh login (``ctx.login()``), never from the
context's long-lived session, so ``ctx.token()`` keeps working for the other checks.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx
from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    precondition,
    rule,
    run_state_machine_as_test,
)

from sergio_kit.checks.connections import open_clients
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import check
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.reports.redaction import mask_text

REFRESH = "/v1/auth/refresh"
LOGOUT = "/v1/auth/logout"
PROBE = "/v1/jobs"  # a bearer operation that shows whether an access token is accepted
RACERS = 10


def send_refresh(ctx: CheckContext, refresh_token: str) -> httpx.Response:
    """``POST /v1/auth/refresh`` with ``refresh_token``."""
    return ctx.send("POST", REFRESH, json={"refresh_token": refresh_token})


def send_logout(ctx: CheckContext, access_token: str, refresh_token: str) -> httpx.Response:
    """``POST /v1/auth/logout`` of ``refresh_token``'s family, authenticated by ``access_token``."""
    return ctx.send("POST", LOGOUT, token=access_token, json={"refresh_token": refresh_token})


def refreshed(ctx: CheckContext, response: httpx.Response, what: str) -> dict[str, Any]:
    """The token response of a successful refresh, checked as published: 200, a JSON object, a JWT."""
    expected = "200 with a new token and a rotated refresh_token"
    ctx.expect(response, {200}, what, expected, basis="documented")
    body: Any = response.json()
    if not isinstance(body, dict):
        ctx.fail(
            f"{what}: the response is not a JSON object", response, "{token, expires_at}", basis="documented"
        )
    token = body.get("token")
    if not isinstance(token, str) or token.count(".") != 2:
        ctx.fail(f"{what}: no JWT in 'token'", response, "a new access token (a JWT)", basis="documented")
    return body


def expect_rotated(
    ctx: CheckContext, response: httpx.Response, body: dict[str, Any], old_refresh: str, what: str
) -> None:
    """The refresh's ``body`` carries a new refresh token (rotation, recommended by RFC 9700)."""
    new_refresh = body.get("refresh_token")
    if not isinstance(new_refresh, str) or not new_refresh:
        ctx.fail(
            f"{what}: no rotated refresh_token",
            response,
            "a new refresh_token (rotation)",
            basis="recommended",
        )
    if new_refresh == old_refresh:
        ctx.fail(
            f"{what}: the refresh_token did not change",
            response,
            "a new refresh_token (rotation)",
            basis="recommended",
        )


def rotated_pair(ctx: CheckContext, response: httpx.Response, old_refresh: str, what: str) -> dict[str, Any]:
    """The token response of a successful refresh, checked: :func:`refreshed` (the published refresh),
    then :func:`expect_rotated` (a new refresh token)."""
    body = refreshed(ctx, response, what)
    expect_rotated(ctx, response, body, old_refresh, what)
    return body


def expect_refused(ctx: CheckContext, refresh_token: str, what: str) -> None:
    """Refreshing with ``refresh_token`` must be 401."""
    ctx.expect(send_refresh(ctx, refresh_token), {401}, what, "401: the refresh token is dead")


@check("refresh.rotation", basis="recommended")
def rotation(ctx: CheckContext) -> None:
    """Refresh returns a new access token and a new refresh token, and the new token works."""
    first = ctx.login()
    response = send_refresh(ctx, first["refresh_token"])
    second = refreshed(ctx, response, "refresh")
    probe = ctx.send("GET", PROBE, token=second["token"])  # published: before the recommended rotation
    what = f"the access token issued by refresh was refused on GET {PROBE}"
    ctx.expect(probe, {200}, what, "200", basis="documented")
    expect_rotated(ctx, response, second, first["refresh_token"], "refresh")
    if second["token"] == first["token"]:
        ctx.fail("refresh returned the same access token as the login", expected="a new access token")
    send_logout(ctx, second["token"], second["refresh_token"])  # tidy up the family (best effort)


@check("refresh.reuse", basis="recommended")
def reuse(ctx: CheckContext) -> None:
    """A spent refresh token is 401, and presenting it kills the newest token of its family too."""
    first = ctx.login()
    second = rotated_pair(
        ctx, send_refresh(ctx, first["refresh_token"]), first["refresh_token"], "first refresh"
    )
    expect_refused(ctx, first["refresh_token"], "the spent refresh token was accepted a second time")
    expect_refused(
        ctx,
        second["refresh_token"],
        "after reuse of a spent token, the family's newest refresh token still works (no reuse detection)",
    )


@check("refresh.logout", basis="recommended")
def logout_kills_family(ctx: CheckContext) -> None:
    """After logout (204) the family's refresh tokens are dead, the current one included."""
    first = ctx.login()
    second = rotated_pair(ctx, send_refresh(ctx, first["refresh_token"]), first["refresh_token"], "refresh")
    response = send_logout(ctx, second["token"], second["refresh_token"])
    ctx.expect(response, {204}, "logout was refused", "204")
    expect_refused(
        ctx, second["refresh_token"], "the family's current refresh token still works after logout"
    )
    expect_refused(ctx, first["refresh_token"], "the family's first refresh token works after logout")


# -- refresh.race ----------------------------------------------------------------------------------


def fresh_auth_window(ctx: CheckContext, reason: str) -> None:
    """Make sure the auth tier admits all racers: wait (test clock, or real time on a live target)
    only when the target's RateLimit header says too few requests remain."""
    ctx.wait_for_quota("auth", RACERS, reason)


async def simultaneous_refreshes(ctx: CheckContext, refresh_token: str, count: int) -> list[httpx.Response]:
    """``count`` refreshes of one token, each on its own already-open connection, sent at once."""
    async with AsyncExitStack() as stack:
        clients = await open_clients(stack, ctx, count)
        body = {"refresh_token": refresh_token}
        return list(await asyncio.gather(*(client.post(REFRESH, json=body) for client in clients)))


@check("refresh.race", basis="recommended")
def race(ctx: CheckContext) -> None:
    """The same refresh token sent 10 times at once: at most one refresh succeeds (2-3 rounds)."""
    rounds = 3 if ctx.target.clock is not None else 2
    families = [ctx.login() for _ in range(rounds)]
    provoked = 0
    for number, family in enumerate(families, start=1):
        fresh_auth_window(ctx, f"refresh.race round {number} needs {RACERS} free auth-tier requests")
        responses = asyncio.run(simultaneous_refreshes(ctx, family["refresh_token"], RACERS))
        statuses = [response.status_code for response in responses]
        winners = [response for response in responses if response.status_code == 200]
        if len(winners) > 1:
            ctx.fail(
                f"round {number}: {len(winners)} of {RACERS} simultaneous refreshes of one refresh token "
                f"succeeded (statuses {statuses})",
                winners[1],
                "at most one 200; the others 401",
            )
        for response in responses:
            if response.status_code not in (200, 401, 429):
                ctx.fail(
                    f"round {number}: a concurrent refresh answered {response.status_code}",
                    response,
                    "200 or 401",
                )
        if len([status for status in statuses if status != 429]) >= 2:
            provoked += 1
    if provoked == 0:
        raise CheckSkipped(
            f"could not provoke a race: the auth tier let fewer than 2 of {RACERS} simultaneous refreshes in"
        )


# -- refresh.property ---------------------------------------------------------------------------

MAX_FAMILIES = 3


@dataclass
class Family:
    """The model of one refresh-token family (one login): its tokens, and whether it must be alive."""

    name: str
    access: str = field(repr=False)
    current: str = field(repr=False)
    stale: list[str] = field(default_factory=list, repr=False)
    alive: bool = True


class RefreshModel(RuleBasedStateMachine):
    """Login, refresh, reuse, logout and API calls against the target, checked against a model.

    Model: a login starts a live family; refreshing a live family's current token rotates it;
    presenting a stale token, or logging out, kills that family and no other; a dead family's
    tokens never refresh; a live family's current access token is accepted.
    """

    ctx: CheckContext

    def __init__(self) -> None:
        super().__init__()
        self.families: list[Family] = []
        self.steps: list[str] = []
        self.failed = False

    # -- helpers ---------------------------------------------------------------------------------
    def disagree(self, message: str, response: httpx.Response, expected: str) -> NoReturn:
        """Fail: the server and the model disagree (the steps so far are in the message)."""
        self.failed = True
        history = "; ".join(self.steps)
        self.ctx.fail(f"{message} (steps: {history})", response, expected)

    def check(self, response: httpx.Response, statuses: set[int], message: str, expected: str) -> None:
        """Fail unless ``response``'s status is one the model allows."""
        if response.status_code not in statuses:
            self.disagree(f"{message}: got {response.status_code}", response, expected)

    def pick(self, data: st.DataObject, families: list[Family]) -> Family:
        """One of ``families``, drawn by name: Hypothesis prints what it draws, so never a token."""
        name = data.draw(st.sampled_from([family.name for family in families]), label="family")
        return next(family for family in families if family.name == name)

    def start_family(self) -> None:
        """Log in: a new live family."""
        data = self.ctx.login()
        family = Family(chr(ord("A") + len(self.families)), data["token"], data["refresh_token"])
        self.families.append(family)
        self.steps.append(f"login {family.name}")

    def refresh_family(self, family: Family, token: str, why: str) -> None:
        """Present ``token`` of ``family`` to /refresh and compare with the model."""
        stale = token != family.current
        self.steps.append(f"{why} {family.name} ({'stale' if stale else 'current'} token)")
        response = send_refresh(self.ctx, token)
        if stale:
            self.check(response, {401}, f"a stale refresh token of {family.name} was accepted", "401")
            family.alive = False  # reuse detection revokes the family
        elif not family.alive:
            self.check(response, {401}, f"{family.name} is dead in the model but its refresh worked", "401")
        else:
            self.check(
                response, {200}, f"{family.name} is alive in the model but its refresh was refused", "200"
            )
            body = response.json()
            if not isinstance(body, dict) or not isinstance(body.get("refresh_token"), str):
                self.disagree(
                    f"refresh of {family.name} returned no refresh_token", response, "a rotated pair"
                )
            if body["refresh_token"] == family.current or body["refresh_token"] in family.stale:
                self.disagree(
                    f"refresh of {family.name} did not rotate its refresh token", response, "a new one"
                )
            family.stale.append(family.current)
            family.current, family.access = body["refresh_token"], body["token"]

    # -- rules -----------------------------------------------------------------------------------
    @initialize()
    def two_sessions(self) -> None:
        """Every run starts with two sessions of the same user."""
        self.start_family()
        self.start_family()

    @precondition(lambda self: len(self.families) < MAX_FAMILIES)
    @rule()
    def login(self) -> None:
        """Another session."""
        self.start_family()

    @rule(data=st.data())
    def refresh(self, data: st.DataObject) -> None:
        """Refresh a family with its current token, or with one of its stale ones."""
        family = self.pick(data, self.families)
        tokens = [family.current, *family.stale]  # drawn by index: Hypothesis prints what it draws
        index = data.draw(st.integers(0, len(tokens) - 1), label="token (0 = current)")
        self.refresh_family(family, tokens[index], "refresh")

    @precondition(lambda self: any(family.stale for family in self.families))
    @rule(data=st.data())
    def reuse(self, data: st.DataObject) -> None:
        """Present a refresh token that was already spent."""
        family = self.pick(data, [f for f in self.families if f.stale])
        index = data.draw(st.integers(0, len(family.stale) - 1), label="stale token")
        self.refresh_family(family, family.stale[index], "reuse")

    @rule(data=st.data())
    def logout(self, data: st.DataObject) -> None:
        """Log a family out; every other live family must stay alive."""
        family = self.pick(data, self.families)
        self.logout_family(family)

    def logout_family(self, family: Family, why: str = "logout") -> None:
        """Log ``family`` out, then show that each other live family still refreshes."""
        self.steps.append(f"{why} {family.name}")
        response = send_logout(self.ctx, family.access, family.current)
        # A dead family's access token may or may not still be accepted by the target.
        self.check(response, {204} if family.alive else {204, 401}, f"logout of {family.name}", "204")
        family.alive = False
        for other in self.families:
            if other is not family and other.alive:
                self.refresh_family(other, other.current, f"after logout of {family.name}: refresh")

    @rule(data=st.data())
    def api_call(self, data: st.DataObject) -> None:
        """Call the API with a family's current access token."""
        family = self.pick(data, self.families)
        self.steps.append(f"GET {PROBE} as {family.name}")
        response = self.ctx.send("GET", PROBE, token=family.access)
        # Access tokens are self-contained JWTs: one of a dead family may live on until its exp.
        allowed = {200} if family.alive else {200, 401}
        self.check(response, allowed, f"the current access token of {family.name} on GET {PROBE}", "200")

    def teardown(self) -> None:
        """Log out the families still alive, one by one, checking that the others survive each logout."""
        if self.failed:
            return
        for family in self.families:
            if family.alive:
                self.logout_family(family, "final logout of")


@check("refresh.property", basis="recommended")
def stateful_property(ctx: CheckContext) -> None:
    """Any interleaving of login, refresh, reuse, logout and API calls keeps model and server in agreement."""
    machine = type("RefreshModelRun", (RefreshModel,), {"ctx": ctx})
    budget = settings(
        max_examples=ctx.max_examples // 5 or 2,
        stateful_step_count=8,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),  # no shrinking: every replay spends the auth tier
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    try:
        run_state_machine_as_test(machine, settings=budget)
    except CheckFailed as failure:
        notes = getattr(failure, "__notes__", None)
        if notes:  # the steps Hypothesis attached: keep them, masked
            failure.__notes__ = [mask_text(note) for note in notes]
        raise
    except Flaky as error:
        ctx.fail(
            f"server and model disagreed once but not on replay: {type(error).__name__}",
            expected="a stable answer",
        )
