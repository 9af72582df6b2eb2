"""``refresh.*``: refresh-token rotation, reuse detection, races, logout, and a stateful model.

Every family these checks revoke comes from its own fresh login (``ctx.login()``), never from the
context's long-lived session, so ``ctx.token()`` keeps working for the other checks.

The published refresh answers ``{token, expires_at}``; rotation (a new ``refresh_token`` each time,
RFC 9700) is recommended, not published. On a target that does not rotate, ``refresh.rotation`` warns,
the checks that need rotation (``refresh.reuse``, ``refresh.race``) skip saying so, and the others
(``refresh.logout``, ``refresh.property``) keep presenting the same refresh token. Without a logout
operation in the contract, ``refresh.logout`` skips and ``refresh.property`` leaves logout out;
without the refresh operation every refresh check skips naming it. An access token is tried on
``GET /v1/jobs``, or on another bearer ``GET`` without path parameters when the contract lacks it.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from typing import Any, NoReturn

import httpx
import jwt
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

from sergio_kit.checks.auth.login import expect_lifetime
from sergio_kit.checks.auth.strategies import unverified_claims
from sergio_kit.checks.connections import open_clients
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.lanes import generating
from sergio_kit.checks.registry import check
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.reports.redaction import mask_text
from sergio_kit.target.pacing import CLIENT

REFRESH = "/v1/auth/refresh"
REFRESH_OPERATION = f"POST {REFRESH}"
LOGOUT = "/v1/auth/logout"
LOGOUT_OPERATION = f"POST {LOGOUT}"
ROTATION_MEMO = "refresh.rotation_gap"  # ctx.memo: why the target does not rotate ("" when it does)
PROBE_OPERATION = "GET /v1/jobs"  # the bearer operation that shows best whether an access token works
RACERS = 10
ROTATED_FAMILY = "refresh.rotated_family"  # ctx.memo: (spent refresh token, the refresh's body), live
REFRESHED = "refresh.refreshed"  # ctx.memo: (a login's body, the response of its first refresh)
#: The claims a refreshed access token shares with its login's: the user, and the company.
IDENTITY_CLAIMS = {"sub": "user", "cid": "company"}


def require_refresh(ctx: CheckContext) -> None:
    """Skip, naming it, unless the contract in force declares the refresh operation."""
    ctx.require(REFRESH_OPERATION, "to refresh a token")


def probe_path(ctx: CheckContext) -> str:
    """The path of a bearer ``GET`` without path parameters, to try an access token on:
    ``/v1/jobs``, else the contract's first such operation; skips, naming ``GET /v1/jobs``, without one."""
    if not ctx.offers(PROBE_OPERATION):
        for operation in ctx.protected("bearerAuth"):
            if operation.method == "GET" and "{" not in operation.path:
                return operation.path
    why = "nor any bearer GET without path parameters, to try an access token on"
    return ctx.require(PROBE_OPERATION, why).path


def send_refresh(ctx: CheckContext, refresh_token: str) -> httpx.Response:
    """``POST /v1/auth/refresh`` with ``refresh_token`` (skips when the contract does not declare it)."""
    require_refresh(ctx)
    return ctx.send("POST", REFRESH, json={"refresh_token": refresh_token})


def send_logout(ctx: CheckContext, access_token: str, refresh_token: str) -> httpx.Response:
    """``POST /v1/auth/logout`` of ``refresh_token``'s family, authenticated by ``access_token``."""
    return ctx.send("POST", LOGOUT, token=access_token, json={"refresh_token": refresh_token})


def tidy_up(ctx: CheckContext, access_token: Any, refresh_token: Any) -> None:
    """Best effort: log a family this check made out, when the target offers logout."""
    if ctx.offers(LOGOUT_OPERATION) and isinstance(access_token, str) and isinstance(refresh_token, str):
        send_logout(ctx, access_token, refresh_token)


def rotation_gap(body: dict[str, Any], old_refresh: str) -> str:
    """Why a successful refresh's ``body`` shows no rotation of ``old_refresh``; empty when it rotated."""
    new_refresh = body.get("refresh_token")
    if not isinstance(new_refresh, str) or not new_refresh:
        answered = "{" + ", ".join(body) + "}"
        return f"the target does not rotate refresh tokens: refresh answered {answered}"
    if new_refresh == old_refresh:
        return "the target does not rotate refresh tokens: refresh answered the same refresh_token"
    return ""


def noted_rotation(ctx: CheckContext, body: dict[str, Any], old_refresh: str) -> str:
    """:func:`rotation_gap`, remembered for the run's other refresh checks."""
    gap = rotation_gap(body, old_refresh)
    ctx.memo[ROTATION_MEMO] = gap
    return gap


def rotation_of(ctx: CheckContext) -> str:
    """Why the target does not rotate refresh tokens, empty when it does: what an earlier check of the
    run saw, else one login and one refresh of its own."""
    if ROTATION_MEMO not in ctx.memo:
        first = ctx.login()
        response = send_refresh(ctx, first["refresh_token"])
        body = refreshed(ctx, response, "refresh")
        noted_rotation(ctx, body, first["refresh_token"])
        tidy_up(ctx, body["token"], body.get("refresh_token") or first["refresh_token"])
    return str(ctx.memo[ROTATION_MEMO])


def require_rotation(ctx: CheckContext) -> None:
    """Skip, saying why, unless the target rotates refresh tokens."""
    gap = rotation_of(ctx)
    if gap:
        raise CheckSkipped(gap)


def refreshed(ctx: CheckContext, response: httpx.Response, what: str) -> dict[str, Any]:
    """The token response of a successful refresh, checked as published: 200, a JSON object, a JWT."""
    ctx.expect(response, {200}, what, "200 with a new token and its expires_at", basis="documented")
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
    gap = noted_rotation(ctx, body, old_refresh)
    if gap:
        expected = "a new refresh_token (rotation, RFC 9700)"
        ctx.fail(f"{what}: {gap}", response, expected, basis="recommended")


def expect_refused(ctx: CheckContext, refresh_token: str, what: str) -> None:
    """Refreshing with ``refresh_token`` must be 401."""
    ctx.expect(send_refresh(ctx, refresh_token), {401}, what, "401: the refresh token is dead")


@check("refresh.rotation", basis="recommended")
def rotation(ctx: CheckContext) -> None:
    """Refresh returns a new access token that works (published), and a new refresh token (RFC 9700)."""
    require_refresh(ctx)
    probe_at = probe_path(ctx)
    first = ctx.login()
    response = send_refresh(ctx, first["refresh_token"])
    second = refreshed(ctx, response, "refresh")
    handed_on = False
    try:
        ctx.memo[REFRESHED] = (first, response)  # refresh.claims judges this refresh's token
        probe = ctx.send("GET", probe_at, token=second["token"])  # published: judged before the rotation
        what = f"the access token issued by refresh was refused on GET {probe_at}"
        ctx.expect(probe, {200}, what, "200", basis="documented")
        if second["token"] == first["token"]:
            ctx.fail("refresh returned the same access token as the login", expected="a new access token")
        expect_rotated(ctx, response, second, first["refresh_token"], "refresh")
        if ctx.live_budget is not None:  # live: refresh.reuse goes on with this family (one refresh less)
            ctx.memo[ROTATED_FAMILY] = (first["refresh_token"], second)
            handed_on = True
    finally:
        if not handed_on:
            tidy_up(ctx, second["token"], second.get("refresh_token") or first["refresh_token"])


@check("refresh.claims", basis="documented")
def claims(ctx: CheckContext) -> None:
    """A refreshed access token belongs to the login's user and company (sub and cid as the login's)
    and lives the published hour like a login's (exp - iat == 3600, exp about now + 1 h; expires_at
    == exp, recommended). Judges refresh.rotation's refresh when the run has it, else one of its own."""
    require_refresh(ctx)
    own = REFRESHED not in ctx.memo
    if own:
        first = ctx.login()
        response = send_refresh(ctx, first["refresh_token"])
    else:
        first, response = ctx.memo.pop(REFRESHED)
    second = refreshed(ctx, response, "refresh")
    try:
        try:
            before, after = unverified_claims(first["token"]), unverified_claims(second["token"])
        except (ValueError, jwt.PyJWTError):
            ctx.fail("refresh: the token's payload does not decode", response, "a JWT", basis="documented")
        for name, whose in IDENTITY_CLAIMS.items():
            if after.get(name) != before.get(name):
                ctx.fail(
                    f"refresh issued a token of another {whose}: its {name} differs from the login's",
                    response,
                    f"the {name} of the login's token (a refresh renews the same {whose}'s access)",
                )
        expect_lifetime(ctx, response, second, "refresh")
    finally:
        if own:
            tidy_up(ctx, second["token"], second.get("refresh_token") or first["refresh_token"])


@check("refresh.reuse", basis="recommended")
def reuse(ctx: CheckContext) -> None:
    """A spent refresh token is 401, and presenting it kills the newest token of its family too
    (skipped when the target does not rotate refresh tokens: none is ever spent)."""
    require_refresh(ctx)
    if ROTATED_FAMILY in ctx.memo:  # live: the family refresh.rotation refreshed once, its first token spent
        spent, second = ctx.memo.pop(ROTATED_FAMILY)
    else:
        first = ctx.login()
        spent = first["refresh_token"]
        second = refreshed(ctx, send_refresh(ctx, spent), "first refresh")
        gap = noted_rotation(ctx, second, spent)
        if gap:
            tidy_up(ctx, second["token"], spent)
            raise CheckSkipped(gap)
    expect_refused(ctx, spent, "the spent refresh token was accepted a second time")
    expect_refused(
        ctx,
        second["refresh_token"],
        "after reuse of a spent token, the family's newest refresh token still works (no reuse detection)",
    )


@check("refresh.logout", basis="recommended")
def logout_kills_family(ctx: CheckContext) -> None:
    """After logout (204) the family's refresh tokens are dead, the current one included (the same
    one throughout on a target that does not rotate them)."""
    ctx.require(LOGOUT_OPERATION, "to log a refresh-token family out")
    require_refresh(ctx)
    first = ctx.login()
    second = refreshed(ctx, send_refresh(ctx, first["refresh_token"]), "refresh")
    rotated = not noted_rotation(ctx, second, first["refresh_token"])
    current = second["refresh_token"] if rotated else first["refresh_token"]
    response = send_logout(ctx, second["token"], current)
    ctx.expect(response, {204}, "logout was refused", "204")
    expect_refused(ctx, current, "the family's current refresh token still works after logout")
    if rotated:
        expect_refused(ctx, first["refresh_token"], "the family's first refresh token works after logout")


# -- refresh.race ----------------------------------------------------------------------------------


def fresh_auth_window(ctx: CheckContext, racers: int, reason: str) -> None:
    """Make sure the auth tier admits all ``racers``: on a paced (live) target, wait until the kit's
    own ledger has room for them (and count them); else wait (test clock) only when the target's
    RateLimit header says too few requests remain."""
    pacer = ctx.throttle.pacer
    if pacer is not None:
        for _ in range(racers):
            pacer.admit("auth", CLIENT, reason)
        ctx.throttle.count("auth", CLIENT, racers)
        return
    ctx.wait_for_quota("auth", racers, reason)


async def simultaneous_refreshes(ctx: CheckContext, refresh_token: str, count: int) -> list[httpx.Response]:
    """``count`` refreshes of one token, each on its own already-open connection, sent at once."""
    async with AsyncExitStack() as stack:
        clients = await open_clients(stack, ctx, count)
        body = {"refresh_token": refresh_token}
        return list(await asyncio.gather(*(client.post(REFRESH, json=body) for client in clients)))


@check("refresh.race", basis="recommended")
def race(ctx: CheckContext) -> None:
    """The same refresh token sent 10 times at once: at most one refresh succeeds (2-3 rounds; skipped
    when the target does not rotate refresh tokens, so that every refresh may succeed)."""
    require_refresh(ctx)
    require_rotation(ctx)
    racers, rounds = RACERS, 3 if ctx.target.clock is not None else 2
    if ctx.live_budget is not None:
        racers, rounds = ctx.live_budget.racers, ctx.live_budget.race_rounds
    families = [ctx.login() for _ in range(rounds)]
    provoked = 0
    for number, family in enumerate(families, start=1):
        fresh_auth_window(ctx, racers, f"refresh.race round {number} needs {racers} free auth-tier requests")
        responses = asyncio.run(simultaneous_refreshes(ctx, family["refresh_token"], racers))
        statuses = [response.status_code for response in responses]
        winners = [response for response in responses if response.status_code == 200]
        if len(winners) > 1:
            ctx.fail(
                f"round {number}: {len(winners)} of {racers} simultaneous refreshes of one refresh token "
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
            f"could not provoke a race: the auth tier let fewer than 2 of {racers} simultaneous refreshes in"
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

    Model: a login starts a live family; refreshing a live family's current token rotates it (when
    the target rotates: ``rotates``; else the token stays current); presenting a stale token, or
    logging out, kills that family and no other; a dead family's tokens never refresh; a live
    family's current access token is accepted. Without ``can_logout`` there is no logout step.
    """

    ctx: CheckContext
    rotates: bool = True
    can_logout: bool = True
    probe_path: str = "/v1/jobs"

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
            self.follow_refresh(family, response)

    def follow_refresh(self, family: Family, response: httpx.Response) -> None:
        """Take the new tokens of a successful refresh of ``family`` into the model."""
        body = response.json()
        if not isinstance(body, dict) or not isinstance(body.get("token"), str):
            self.disagree(f"refresh of {family.name} returned no token", response, "a new access token")
        new_refresh = body.get("refresh_token")
        if self.rotates:
            if not isinstance(new_refresh, str):
                self.disagree(
                    f"refresh of {family.name} returned no refresh_token", response, "a rotated pair"
                )
            if new_refresh == family.current or new_refresh in family.stale:
                self.disagree(
                    f"refresh of {family.name} did not rotate its refresh token", response, "a new one"
                )
            family.stale.append(family.current)
            family.current = new_refresh
        elif new_refresh not in (None, family.current):
            self.disagree(
                f"refresh of {family.name} rotated its refresh token, which an earlier refresh did not",
                response,
                "the same refresh token kept",
            )
        family.access = body["token"]

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

    @precondition(lambda self: self.can_logout)
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
        self.steps.append(f"GET {self.probe_path} as {family.name}")
        response = self.ctx.send("GET", self.probe_path, token=family.access)
        # Access tokens are self-contained JWTs: one of a dead family may live on until its exp.
        allowed = {200} if family.alive else {200, 401}
        what = f"the current access token of {family.name} on GET {self.probe_path}"
        self.check(response, allowed, what, "200")

    def teardown(self) -> None:
        """Log out the families still alive, one by one, checking that the others survive each logout."""
        if self.failed or not self.can_logout:
            return
        for family in self.families:
            if family.alive:
                self.logout_family(family, "final logout of")


@check("refresh.property", basis="recommended")
def stateful_property(ctx: CheckContext) -> None:
    """Any interleaving of login, refresh, reuse, logout and API calls keeps model and server in agreement
    (without rotation the refresh token stays current; without a logout operation, no logout step)."""
    require_refresh(ctx)
    probe_at = probe_path(ctx)
    can_logout = ctx.offers(LOGOUT_OPERATION)
    model = {"ctx": ctx, "rotates": not rotation_of(ctx), "can_logout": can_logout, "probe_path": probe_at}
    machine = type("RefreshModelRun", (RefreshModel,), model)
    live = ctx.live_budget
    budget = settings(
        max_examples=live.refresh_examples if live is not None else ctx.max_examples // 5 or 2,
        stateful_step_count=live.refresh_steps if live is not None else 8,
        database=None,
        deadline=None,
        phases=(Phase.explicit, Phase.generate),  # no shrinking: every replay spends the auth tier
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
        print_blob=False,
    )
    try:
        with generating():
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
