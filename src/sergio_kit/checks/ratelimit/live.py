"""The live plan: on a target without a test clock, every ``ratelimit`` probe runs at once, each with a
principal of its own, so the whole group takes about one window instead of one per check.

The first ``ratelimit`` check to run starts the plan; the others read its verdicts.

1. Prelude (in order, about a second). The auth tier's probe logs in as the primary user (its token
   serves the primary user's probes) and as the other tenant's admin (its token makes the API keys,
   in the other company, and serves the re-login probe). The other admin spends the bulk quota
   (webhook registration without bulk) and logs in again (the auth probe's third login): that fresh
   token must still be refused
   (``relogin_bypass``), while the same admin's read quota is untouched (``isolation.tiers``).
2. Then, in parallel threads: the rest of the auth probe; one probe per other tier on the primary user;
   the read and write probes per API key; two keys for ``isolation.keys`` / ``isolation.tiers``; two
   fresh keys for the two ``concurrency`` rounds; one key for ``window``.

Every quota a probe spends belongs to it, so no probe waits for a window. The kit must not have
logged in during the minute before the plan (the auth probe owns the address's quota): the plugin
runs the ``ratelimit`` group first against live targets, and the plan waits when it has to. What the
probes create is deleted when the run's context closes (which may wait for write quota).
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

import httpx

from sergio_kit.checks.context import OTHER, PRIMARY, SUCCESS, CheckContext
from sergio_kit.checks.ratelimit.calls import (
    ADMITTED,
    ADMITTED_TEXT,
    CREATE_JOB,
    TierCaller,
    bearer_caller,
    key_caller,
    note_sent,
    scarce_tier,
    surfaces,
    tier_limit,
    unprobed,
)
from sergio_kit.checks.ratelimit.probe import TierRun, bursts, judge_bursts, probe_tier
from sergio_kit.contract.document import TIERS
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS, WINDOW_SECONDS
from sergio_kit.errors import OutOfTime, SergioKitError
from sergio_kit.reports.findings import CheckFailed, CheckSkipped, Finding
from sergio_kit.target.pacing import principal_of
from sergio_kit.target.session import unreachable

PLAN = "ratelimit.live"  # ctx.memo key: the plan, or None when it cannot run
KEYS = {  # the API keys the plan makes in the other company, and their scopes
    "probe": ("jobs:read", "jobs:write"),
    "isolation_a": ("jobs:read", "jobs:write"),
    "isolation_b": ("jobs:read",),
    "burst_1": ("jobs:read",),
    "burst_2": ("jobs:read",),
    "window": ("jobs:read",),
}
CROSS_CHECKS = (
    "ratelimit.isolation.keys",
    "ratelimit.isolation.tiers",
    "ratelimit.relogin_bypass",
    "ratelimit.concurrency",
    "ratelimit.window",
)
PLAN_TIMEOUT = 4 * WINDOW_SECONDS  # a probe still running by then is reported as stuck
PLAN_SECONDS = WINDOW_SECONDS + 15  # what the plan takes: one window, and the probes around it


@dataclass
class LivePlan:
    """The probes' recordings and the cross-tier checks' verdicts of one live run."""

    runs: dict[tuple[str, int], TierRun | CheckSkipped] = field(default_factory=dict)
    outcomes: dict[str, BaseException | None] = field(default_factory=dict)

    def tier_runs(self, tier: str) -> list[TierRun | CheckSkipped]:
        """``tier``'s probes, one per surface."""
        return [self.runs[(tier, surface)] for surface in surfaces(tier)]

    def verdict(self, check_id: str) -> None:
        """Raise the finding (or skip) the plan recorded for ``check_id``; return if it passed."""
        outcome = self.outcomes[check_id]
        if outcome is not None:
            raise outcome


def live_plan(ctx: CheckContext) -> LivePlan | None:
    """The live plan of this run, run the first time it is asked for; ``None`` on a target with a test
    clock (each check then takes fresh windows of its own) or without a second tenant to set up with."""
    if ctx.target.clock is not None or ctx.target.other_account is None:
        return None
    if PLAN not in ctx.memo:
        try:
            ctx.memo[PLAN] = _Runner(ctx).run()
        except httpx.ConnectError as error:
            raise unreachable(ctx.target.base_url, error) from None
    plan: LivePlan | None = ctx.memo[PLAN]
    return plan


class _Runner:
    """Runs the plan once: the prelude in order, then every probe in a thread of its own."""

    def __init__(self, ctx: CheckContext) -> None:
        self.ctx = ctx
        self.check_id = ctx.throttle.current  # the check that runs the plan: the ledger's name for it
        self.plan = LivePlan()
        self.keys: dict[str, str] = {}
        self.job: str | CheckSkipped = CheckSkipped("no job was made")  # see _make_job

    def run(self) -> LivePlan | None:
        _refuse_past_deadline(self.ctx)
        _wait_for_quiet_auth(self.ctx)
        mark = self.ctx.cleanup_mark()
        with self._client() as client:
            auth = bearer_caller(self.ctx, "auth", None, PRIMARY)
            auth.client = client
            try:
                tokens, logins = self._prelude(client, auth)
            except CheckFailed as failure:
                self._fail_all(failure)
                return self.plan
            except CheckSkipped:
                return None  # no key management for the other tenant: each check on its own
            tasks = self._tasks(auth, logins, tokens)
            with ThreadPoolExecutor(max_workers=len(tasks)) as pool:
                futures = [pool.submit(self._guarded, name, task) for name, task in tasks.items()]
                for future in futures:
                    future.result(timeout=PLAN_TIMEOUT)
        self._judge_user_isolation()
        self.ctx.clean_up_since(mark)  # the probes' objects go now, not in the run's last window
        return self.plan

    # -- the prelude ------------------------------------------------------------------------------
    def _prelude(self, client: httpx.Client, auth: TierCaller) -> tuple[dict[str, str], list[httpx.Response]]:
        """Logins, keys, the job the write probe updates, and the re-login probe."""
        ctx = self.ctx
        primary_login = self._login(auth, PRIMARY)
        other_login = self._login(auth, OTHER)
        ctx.adopt_login(PRIMARY, primary_login.json())  # the run's sessions log in no more
        ctx.adopt_login(OTHER, other_login.json())
        tokens = {PRIMARY: primary_login.json()["token"], OTHER: other_login.json()["token"]}
        for name, scopes in KEYS.items():
            self.keys[name] = self._make_key(client, tokens[OTHER], name, scopes)
        if unprobed(ctx, "write", 0) is None:
            self.job = self._make_job(client, tokens[PRIMARY])
        relogin = self._relogin_probe(client, auth, tokens[OTHER])
        return tokens, [primary_login, other_login, *relogin]

    def _login(self, auth: TierCaller, tenant: str) -> httpx.Response:
        account = self.ctx.account(tenant)
        auth.body = {"email": account.email, "password": account.password}
        response = auth.call()
        if response.status_code in (400, 401, 403, 422):  # a user mistake, as in TokenSession
            prefix = "SERGIO_" if tenant == PRIMARY else "SERGIO_OTHER_"
            variables = f"{prefix}EMAIL / {prefix}PASSWORD"
            raise SergioKitError(
                f"login as {account.email} at {self.ctx.target.base_url} was refused "
                f"({response.status_code}): check {variables}"
            )
        self.ctx.expect(
            response,
            ADMITTED,
            f"the live plan's login as {account.email} (the auth probe's own) failed",
            ADMITTED_TEXT,
        )
        return response

    def _make_job(self, client: httpx.Client, token: str) -> str | CheckSkipped:
        """The job the write tier's bearer probe updates (its id), made as the primary user; or why
        it cannot be made (the contract in force lacks ``POST /v1/jobs``)."""
        try:
            create = self.ctx.require(CREATE_JOB[0], "the write tier's probe updates a job made there")
        except CheckSkipped as reason:
            return reason
        body = self.ctx.job(notes="sergio-kit ratelimit")
        job = client.post(create.path, json=body, headers=_bearer(token))
        note_sent(self.ctx, create.tier, _bearer(token), job.status_code)
        self.ctx.expect(job, SUCCESS, "could not create a job for the write probe to update", "2xx")
        self.ctx.remove_later(PRIMARY, f"/v1/jobs/{job.json()['id']}")
        return str(job.json()["id"])

    def _make_key(self, client: httpx.Client, token: str, name: str, scopes: tuple[str, ...]) -> str:
        body = {"name": f"sergio-kit ratelimit {name}", "scopes": list(scopes)}
        response = client.post("/v1/api-keys", json=body, headers=_bearer(token))
        note_sent(self.ctx, "write", _bearer(token), response.status_code)
        if response.status_code in (403, 404, 405):
            raise CheckSkipped(f"the other tenant cannot make API keys ({response.status_code})")
        self.ctx.expect(response, SUCCESS, "could not create an API key for the live plan", "2xx")
        created = response.json()
        self.ctx.remove_later(OTHER, f"/v1/api-keys/{created['id']}")
        return str(created["key"])

    def _relogin_probe(self, client: httpx.Client, auth: TierCaller, token: str) -> list[httpx.Response]:
        """The other admin spends the scarcest tier (bulk, else webhook registration), then logs in
        again; returns that login."""
        ctx = self.ctx
        spent = bearer_caller(ctx, scarce_tier(ctx), token, OTHER)
        spent.client = client
        try:
            spent.exhaust(tier_limit(ctx, spent.tier))
        except CheckFailed as failure:
            self.plan.outcomes["ratelimit.relogin_bypass"] = failure
            self.plan.outcomes["ratelimit.isolation.tiers"] = failure
            return []
        finally:
            self._remove_later(spent, OTHER)
        login = self._login(auth, OTHER)
        spent.headers = _bearer(login.json()["token"])
        self._record(
            "ratelimit.relogin_bypass",
            lambda: ctx.expect(
                spent.call(),
                {429},
                f"{spent.label} with a fresh login's token, after the user spent the tier's quota, "
                "was admitted",
                "429: the quota belongs to the user, not to the token",
            ),
        )
        read = bearer_caller(ctx, "read", token, OTHER)
        read.client = client
        self._record(
            "ratelimit.isolation.tiers",
            lambda: ctx.expect(
                read.call(),
                ADMITTED,
                f"{read.label} was refused after the same user spent the {spent.tier} tier",
                f"{ADMITTED_TEXT}: each tier has a quota of its own",
            ),
        )
        return [login]

    # -- the parallel probes ----------------------------------------------------------------------
    def _tasks(
        self, auth: TierCaller, logins: list[httpx.Response], tokens: dict[str, str]
    ) -> dict[str | tuple[str, int], Callable[[httpx.Client], None]]:
        """What runs in parallel, by the check id or the (tier, surface) probe it decides."""
        tasks: dict[str | tuple[str, int], Callable[[httpx.Client], None]] = {
            ("auth", 0): lambda client: self._auth_task(auth, logins)
        }
        for tier in TIERS:
            for surface in surfaces(tier):  # 1: the tier has a Zapier (API-key) surface
                if (missing := unprobed(self.ctx, tier, surface)) is not None:
                    self.plan.runs[(tier, surface)] = missing
                elif surface == 1:
                    tasks[(tier, 1)] = self._key_task(tier, tokens[OTHER])
                elif tier == "write" and isinstance(self.job, CheckSkipped):
                    self.plan.runs[(tier, 0)] = self.job
                elif tier != "auth":  # the auth probe continues the prelude's logins (above)
                    tasks[(tier, 0)] = self._tier_task(tier, tokens)
        tasks["ratelimit.isolation.keys"] = self._isolation_task
        tasks["ratelimit.concurrency"] = self._concurrency_task
        tasks["ratelimit.window"] = self._window_task
        return tasks

    def _auth_task(self, auth: TierCaller, logins: list[httpx.Response]) -> None:
        """The rest of the auth probe, logging in as the primary user: each admitted login is a fresh
        family the run's other checks take instead of logging in again (``ctx.login``)."""
        account = self.ctx.account(PRIMARY)
        auth.body = {"email": account.email, "password": account.password}
        self._probe(("auth", 0), auth, admitted_before=logins)
        run = self.plan.runs[("auth", 0)]
        if isinstance(run, TierRun):
            for response in [*run.admitted[len(logins) :], run.after_room]:
                if response is not None and response.status_code == 200:
                    self.ctx.offer_login(PRIMARY, response)

    def _tier_task(self, tier: str, tokens: dict[str, str]) -> Callable[[httpx.Client], None]:
        def task(client: httpx.Client) -> None:
            path = f"/v1/jobs/{self.job}" if tier == "write" else None
            caller = bearer_caller(self.ctx, tier, tokens[PRIMARY], PRIMARY, path=path)
            caller.client = client
            self._probe((tier, 0), caller, spent_before=1 if tier == "write" else 0)  # 1: making the job
            self._remove_later(caller, PRIMARY)

        return task

    def _key_task(self, tier: str, owner_token: str) -> Callable[[httpx.Client], None]:
        def task(client: httpx.Client) -> None:
            caller = key_caller(self.ctx, tier, self.keys["probe"])
            caller.client = client

            def delete_early() -> None:
                _delete_while_quota_lasts(self.ctx, client, caller, owner_token)

            quota = tier_limit(self.ctx, tier)
            self.plan.runs[(tier, 1)] = probe_tier(self.ctx, caller, quota, while_waiting=delete_early)
            self._remove_later(caller, OTHER)

        return task

    def _probe(
        self,
        key: tuple[str, int],
        caller: TierCaller,
        spent_before: int = 0,
        admitted_before: list[httpx.Response] | None = None,
    ) -> None:
        quota = tier_limit(self.ctx, caller.tier)
        self.plan.runs[key] = probe_tier(self.ctx, caller, quota, spent_before, admitted_before or [])

    def _isolation_task(self, client: httpx.Client) -> None:
        """Key A spends its read quota: key B still reads, key A still writes."""
        ctx = self.ctx
        first = key_caller(ctx, "read", self.keys["isolation_a"])
        second = key_caller(ctx, "read", self.keys["isolation_b"])
        writer = key_caller(ctx, "write", self.keys["isolation_a"])
        for caller in (first, second, writer):
            caller.client = client
        try:
            first.exhaust(tier_limit(ctx, "read"))
        except CheckFailed as failure:
            self.plan.outcomes["ratelimit.isolation.keys"] = failure
            self.plan.outcomes.setdefault("ratelimit.isolation.tiers", failure)
            return
        self._record(
            "ratelimit.isolation.keys",
            lambda: ctx.expect(
                second.call(),
                ADMITTED,
                f"{second.label} with a second key of the same company, after the first key spent the "
                "tier's quota, was refused",
                f"{ADMITTED_TEXT}: each API key has a quota of its own",
            ),
        )
        if self.plan.outcomes.get("ratelimit.isolation.tiers") is None:
            self._record(
                "ratelimit.isolation.tiers",
                lambda: ctx.expect(
                    writer.call(),
                    ADMITTED,
                    f"{writer.label} was refused after the same key spent the read tier",
                    f"{ADMITTED_TEXT}: each tier has a quota of its own",
                ),
            )
        self._remove_later(writer, OTHER)

    def _concurrency_task(self, client: httpx.Client) -> None:
        """Two rounds of 3N simultaneous reads, each round with a fresh key (a fresh window)."""
        ctx = self.ctx
        limit = tier_limit(ctx, "read")
        caller = key_caller(ctx, "read", self.keys["burst_1"])
        rounds = [{"X-API-Key": self.keys[name]} for name in ("burst_1", "burst_2")]
        results = asyncio.run(bursts(ctx, caller, rounds, 3 * limit, lambda _number: None))
        self._record("ratelimit.concurrency", lambda: judge_bursts(ctx, caller, limit, results))

    def _window_task(self, client: httpx.Client) -> None:
        """Spend a key's read quota early in a minute of the target's clock; 1 s into the next minute
        (under 60 s after the first admission) the key must still be refused."""
        ctx = self.ctx
        limit = tier_limit(ctx, "read")
        caller = key_caller(ctx, "read", self.keys["window"])
        caller.client = client
        too_slow = (
            f"spending {limit} reads took past a minute boundary of the target's clock: the window "
            "probe needs a faster path to the target"
        )
        second = _served_second(client.get("/v1/health"))
        if second < 3:
            time.sleep(3 - second)
        elif second > 45:
            time.sleep(WINDOW_SECONDS - second + 3)
        started = _served_minute(client.get("/v1/health"))
        try:
            admitted, _ = caller.exhaust(limit)
        except CheckFailed:
            # a window aligned to the minute turned over while the quota was being spent: this probe
            # cannot tell that from an overshoot (the tier's boundary check judges the quota)
            if _served_minute(client.get("/v1/health")) != started:
                raise CheckSkipped(too_slow) from None
            raise
        first, last = _served_minute(admitted[0]), _served_minute(admitted[-1])
        if first != last:
            raise CheckSkipped(too_slow)
        time.sleep(WINDOW_SECONDS + 1.3 - _served_second(admitted[-1]))
        response = caller.call()
        ctx.expect(
            response,
            {429},
            f"{caller.label}: {limit} admitted early in one minute, and another admitted 1 s into the next, "
            f"less than {WINDOW_SECONDS} s after the first",
            f"429 until {WINDOW_SECONDS} s after the first of the {limit}",
        )

    def _judge_user_isolation(self) -> None:
        """The other admin spent the scarcest tier's quota in the prelude; the primary user's probe of
        that tier that followed must have been admitted at first (the user part of ``isolation.keys``)."""
        run = self.plan.runs.get((scarce_tier(self.ctx), 0))
        if not isinstance(run, TierRun) or run.problem is not None or run.admitted:
            return  # admitted at first, or the probe's own failure is reported by the bulk checks
        if self.plan.outcomes.get("ratelimit.isolation.keys") is None and run.first_429 is not None:
            self._record(
                "ratelimit.isolation.keys",
                lambda: self.ctx.fail(
                    f"{run.caller.label} as {self.ctx.account(PRIMARY).email} was refused at once, after "
                    f"{self.ctx.account(OTHER).email} spent the tier's quota",
                    run.first_429,
                    f"{ADMITTED_TEXT}: each user has a quota of their own",
                ),
            )

    # -- bookkeeping ------------------------------------------------------------------------------
    def _guarded(self, name: str | tuple[str, int], task: Callable[[httpx.Client], None]) -> None:
        """Run ``task`` with a client of its own. Whatever it raises (a finding, a skip, an error)
        becomes the verdict of the check it is named after, or the problem of its tier probe."""
        self.ctx.throttle.current = self.check_id
        try:
            with self._client() as client:
                task(client)
        except Exception as error:
            if isinstance(name, str):
                self.plan.outcomes[name] = error
                return
            failure = (
                error
                if isinstance(error, CheckFailed)
                else CheckFailed(
                    Finding(
                        message=f"the {name[0]} tier's live probe stopped: {type(error).__name__}: {error}"
                    )
                )
            )
            self.plan.runs[name] = self._failed_run(name[0], failure)
        else:
            if isinstance(name, str):
                self.plan.outcomes.setdefault(name, None)

    def _record(self, check_id: str, verdict: Callable[[], None]) -> None:
        try:
            verdict()
        except (CheckFailed, CheckSkipped) as outcome:
            self.plan.outcomes[check_id] = outcome
        else:
            self.plan.outcomes.setdefault(check_id, None)

    def _fail_all(self, failure: CheckFailed) -> None:
        for tier in TIERS:
            for surface in surfaces(tier):
                missing = unprobed(self.ctx, tier, surface)
                self.plan.runs[(tier, surface)] = missing or self._failed_run(tier, failure)
        for check_id in CROSS_CHECKS:
            self.plan.outcomes[check_id] = failure

    def _failed_run(self, tier: str, failure: CheckFailed) -> TierRun:
        """A probe of ``tier`` that could not run: each of its rules reports ``failure``."""
        caller = bearer_caller(self.ctx, tier, None, PRIMARY, path="/")
        return TierRun(caller, tier_limit(self.ctx, tier), problem=failure)

    def _remove_later(self, caller: TierCaller, tenant: str) -> None:
        for path in caller.created:
            self.ctx.remove_later(tenant, path)
        caller.created.clear()

    @contextmanager
    def _client(self) -> Iterator[httpx.Client]:
        target = self.ctx.target
        with httpx.Client(base_url=target.base_url, verify=target.ssl_context(), timeout=30.0) as client:
            yield client


def _delete_while_quota_lasts(
    ctx: CheckContext, client: httpx.Client, caller: TierCaller, token: str
) -> None:
    """Delete what ``caller`` created, as the owner of its key, while the owner's write quota lasts
    (the rest is deleted when the context closes): the other tenant's write quota is not probed,
    and what it has left during the plan would otherwise sit idle while the close waits for more.
    Paced (live), it stops where the pacer's ledger has no room left, so nothing later meets a 429."""
    pacer, owner = ctx.throttle.pacer, principal_of(_bearer(token))
    while caller.created and (pacer is None or pacer.room("write", owner) > 0):
        response = client.delete(caller.created[-1], headers=_bearer(token))
        if response.status_code == 429:
            return
        note_sent(ctx, "write", _bearer(token), response.status_code)
        caller.created.pop()


def _refuse_past_deadline(ctx: CheckContext) -> None:
    """The plan spends its quotas at once and waits out one window; it does not start when the run's
    ``max_duration`` leaves too little time for that (its probes wait by the target's Retry-After,
    not through the pacer, so nothing would stop them in time)."""
    left = ctx.throttle.pacer.seconds_left() if ctx.throttle.pacer is not None else None
    if left is not None and left < PLAN_SECONDS:
        raise OutOfTime(
            f"out of time: the rate-limit plan takes about {PLAN_SECONDS} s and max_duration leaves "
            f"{max(left, 0):.0f} s"
        )


def _wait_for_quiet_auth(ctx: CheckContext) -> None:
    """The auth probe owns the client address's auth quota: wait out the kit's own recent logins."""
    last = ctx.target.last_auth_call
    if last:
        quiet = FRESH_WINDOW_SECONDS - (time.monotonic() - last)
        if quiet > 0:
            ctx.throttle.wait(
                math.ceil(quiet), "ratelimit live plan: the kit's own logins leave the auth window"
            )


def _served_second(response: httpx.Response) -> int:
    """The second of the minute of the target's ``Date`` header."""
    return _served(response).second


def _served_minute(response: httpx.Response) -> tuple[int, int]:
    served = _served(response)
    return served.hour, served.minute


def _served(response: httpx.Response) -> datetime:
    return datetime.strptime(response.headers["Date"], "%a, %d %b %Y %H:%M:%S GMT")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
