"""The live plan: on a target without a test clock, every ``ratelimit`` probe runs at once, each with a
principal of its own, so the whole group takes about one window instead of one per check.

The first ``ratelimit`` check to run starts the plan; the others read its verdicts.

1. Prelude (in order, about a second). The auth tier's probe logs in as the primary user (its token
   serves the primary user's probes) and as the other tenant's admin (its token makes the API keys,
   in the other company, and serves the re-login probe). With a member of the first company
   (``SERGIO_MEMBER_EMAIL``) it logs in as the member too (for ``isolation.users``, and the run's
   contract cases); when the contract opens operations to members, the primary admin makes the key of
   the API-key probes and the member deletes the jobs its write probe makes, so the other admin's write
   quota is free when the plan ends. The other admin spends the bulk quota (webhook registration
   without bulk) and logs in again (the auth probe's third login): that fresh token must still be
   refused (``relogin_bypass``), while the same admin's read quota is untouched (``isolation.tiers``).
2. Then, in parallel threads: the rest of the auth probe; one probe per other tier on the primary user;
   the read and write probes per API key; two keys for ``isolation.keys`` / ``isolation.tiers``; two
   fresh keys for the two ``concurrency`` rounds of reads, then N + N/2 webhook registrations at once
   as the other admin; two keys for the ``window``'s offset probes (``window.py``); and the member,
   who waits until the primary admin's probe has spent the bulk tier (webhook registration without
   bulk), then sends N + N/2 of it at once: some admitted (``isolation.users``), exactly N
   (``concurrency``).
3. Last, the verdicts that read several probes: the pairs of tiers the primary user's probes, run at
   once, allow (``isolation.tiers``: one tier spent before another ran out), the window against the
   quota the key read probe saw. A rule the plan cannot judge cheaply (the write tier's burst, the
   auth tier's pairs) is named in the check's detail, never passed silently.

Every quota a probe spends belongs to it, so no probe waits for a window. The kit must not have
logged in during the minute before the plan (the auth probe owns the address's quota): the plugin
runs the ``ratelimit`` group first against live targets, and the plan waits when it has to. What the
probes create is deleted during the plan by a user whose write quota the plan leaves idle (the
member: the key probe's jobs; the other admin: its own bulk jobs and webhooks), the rest as soon as
the plan ends (which may wait for write quota).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field

import httpx

from sergio_kit.checks.context import MEMBER, OTHER, PRIMARY, SUCCESS, CheckContext
from sergio_kit.checks.ratelimit.calls import (
    ADMITTED,
    ADMITTED_TEXT,
    CREATE_JOB,
    SPENDABLE_TIERS,
    TierCaller,
    bearer_caller,
    is_admitted,
    key_caller,
    member_tier,
    note_sent,
    scarce_tier,
    surfaces,
    tier_limit,
    unprobed,
)
from sergio_kit.checks.ratelimit.crosstalk import bearer_tiers, judge_parallel_probes
from sergio_kit.checks.ratelimit.probe import (
    TierRun,
    burst_size,
    bursts,
    judge_bursts,
    judge_member,
    probe_tier,
)
from sergio_kit.checks.ratelimit.window import OffsetProbe, judge_window, probe_window
from sergio_kit.contract.document import TIERS
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS, WINDOW_SECONDS
from sergio_kit.errors import OutOfTime, SergioKitError
from sergio_kit.reports.findings import CheckFailed, CheckSkipped, Finding
from sergio_kit.target.pacing import principal_of
from sergio_kit.target.session import LOGIN_SETTINGS, unreachable

PLAN = "ratelimit.live"  # ctx.memo key: the plan, or None when it cannot run
KEYS = {  # the API keys the plan makes in the other company, and their scopes
    "probe": ("jobs:read", "jobs:write"),
    "isolation_a": ("jobs:read", "jobs:write"),
    "isolation_b": ("jobs:read",),
    "burst_1": ("jobs:read",),
    "burst_2": ("jobs:read",),
    "window": ("jobs:read",),
    "window_2": ("jobs:read",),
}
CROSS_CHECKS = (
    "ratelimit.isolation.keys",
    "ratelimit.isolation.users",
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
    details: dict[str, str] = field(default_factory=dict)  # what a passing cross-tier check judged

    def tier_runs(self, tier: str) -> list[TierRun | CheckSkipped]:
        """``tier``'s probes, one per surface."""
        return [self.runs[(tier, surface)] for surface in surfaces(tier)]

    def verdict(self, check_id: str) -> str | None:
        """Raise the finding (or skip) the plan recorded for ``check_id``; if it passed, return what it
        judged (and what it could not, live), when the plan says."""
        outcome = self.outcomes[check_id]
        if outcome is not None:
            raise outcome
        return self.details.get(check_id)


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
        #: who owns the probe key and deletes the jobs its write probe makes: the other admin, or,
        #: when the run has a member, the member of the first company (idle while the plan runs, so
        #: the other admin's write quota stays free for the contract cases that follow)
        self.key_owner = (OTHER, OTHER)  # (tenant who makes the key, tenant who deletes its jobs)
        #: the tier the member bursts once the primary admin has spent it (``isolation.users``), or why
        #: there is none (no member, or none of the tiers is a member's)
        self.member_tier: str | CheckSkipped = CheckSkipped("no member of the first company logged in")
        self.admin_spent = threading.Event()  # the primary admin has spent the member's tier
        self.member_go = threading.Event()  # ... or that probe is over, whatever it saw
        #: ``ratelimit.concurrency`` per tier burst: None (passed), the finding, or why it was not judged
        self.bursts: dict[str, CheckFailed | str | None] = {}
        self.window_probes: tuple[OffsetProbe, ...] = ()
        self.tokens: dict[str, str] = {}  # the prelude's tokens, by tenant

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
        self._judge_tier_pairs()
        self._judge_concurrency()
        self._judge_window()
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
        member_login = []
        if ctx.target.member_account is not None:  # one of the auth probe's logins: it costs nothing
            member_login = [self._login(auth, MEMBER)]
            ctx.adopt_login(MEMBER, member_login[0].json())
            tokens[MEMBER] = member_login[0].json()["token"]
            try:
                self.member_tier = member_tier(ctx)
            except CheckSkipped as reason:
                self.member_tier = reason
            if any(operation.members_may_call for operation in ctx.contract.operations):
                self.key_owner = (PRIMARY, MEMBER)  # the contract cases' third user, who may delete jobs
        else:
            self.member_tier = _no_member(ctx)
        for name, scopes in KEYS.items():
            maker = self.key_owner[0] if name == "probe" else OTHER
            self.keys[name] = self._make_key(client, tokens[maker], name, scopes, maker)
        if unprobed(ctx, "write", 0) is None:
            self.job = self._make_job(client, tokens[PRIMARY])
        relogin = self._relogin_probe(client, auth, tokens[OTHER])
        self.tokens = tokens
        return tokens, [primary_login, other_login, *member_login, *relogin]

    def _login(self, auth: TierCaller, tenant: str) -> httpx.Response:
        account = self.ctx.account(tenant)
        auth.body = {"email": account.email, "password": account.password}
        response = auth.call()
        if response.status_code in (400, 401, 403, 422):  # a user mistake, as in TokenSession
            raise SergioKitError(
                f"login as {account.email} at {self.ctx.target.base_url} was refused "
                f"({response.status_code}): check {LOGIN_SETTINGS[tenant]}"
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

    def _make_key(
        self, client: httpx.Client, token: str, name: str, scopes: tuple[str, ...], tenant: str
    ) -> str:
        body = {"name": f"sergio-kit ratelimit {name}", "scopes": list(scopes)}
        response = client.post("/v1/api-keys", json=body, headers=_bearer(token))
        note_sent(self.ctx, "write", _bearer(token), response.status_code)
        if response.status_code in (403, 404, 405):
            raise CheckSkipped(f"the {tenant} admin cannot make API keys ({response.status_code})")
        self.ctx.expect(response, SUCCESS, "could not create an API key for the live plan", "2xx")
        created = response.json()
        self.ctx.remove_later(tenant, f"/v1/api-keys/{created['id']}")
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
        finally:  # now, while the other admin's write quota is idle, not in the run's first window
            _delete_while_quota_lasts(ctx, client, spent, token)
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
                    tasks[(tier, 1)] = self._key_task(tier, tokens[self.key_owner[1]])
                elif tier == "write" and isinstance(self.job, CheckSkipped):
                    self.plan.runs[(tier, 0)] = self.job
                elif tier != "auth":  # the auth probe continues the prelude's logins (above)
                    tasks[(tier, 0)] = self._tier_task(tier, tokens)
        tasks["ratelimit.isolation.keys"] = self._isolation_task
        tasks["ratelimit.concurrency"] = self._concurrency_task
        tasks["ratelimit.window"] = self._window_task
        if isinstance(self.member_tier, CheckSkipped):
            self.plan.outcomes["ratelimit.isolation.users"] = self.member_tier
        else:
            tasks["ratelimit.isolation.users"] = self._member_task(tokens[MEMBER])
            if (self.member_tier, 0) not in tasks:  # no admin probe of that tier to wait for
                self.member_go.set()
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
            spent = 0
            if tier == "write":  # making the job, and the probe key when the primary admin made it
                spent = 1 + (self.key_owner[0] == PRIMARY)

            def admin_spent() -> None:  # the member's turn (``isolation.users``)
                self.admin_spent.set()
                self.member_go.set()

            try:
                waiting = admin_spent if tier == self.member_tier else None
                self._probe((tier, 0), caller, spent_before=spent, while_waiting=waiting)
            finally:
                if tier == self.member_tier:  # whatever the probe saw, the member waits no longer
                    self.member_go.set()
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
            self._remove_later(caller, self.key_owner[1])

        return task

    def _probe(
        self,
        key: tuple[str, int],
        caller: TierCaller,
        spent_before: int = 0,
        admitted_before: list[httpx.Response] | None = None,
        while_waiting: Callable[[], None] | None = None,
    ) -> None:
        quota = tier_limit(self.ctx, caller.tier)
        self.plan.runs[key] = probe_tier(
            self.ctx, caller, quota, spent_before, admitted_before or [], while_waiting
        )

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
        """Two rounds of 3N simultaneous reads, each round with a fresh key (a fresh window); then, unless
        the member bursts that tier, N + N/2 webhook registrations at once as the other admin (whose
        webhook quota the plan does not spend otherwise, unless the re-login probe spent it)."""
        ctx = self.ctx
        limit = tier_limit(ctx, "read")
        caller = key_caller(ctx, "read", self.keys["burst_1"])
        rounds = [{"X-API-Key": self.keys[name]} for name in ("burst_1", "burst_2")]
        results = asyncio.run(bursts(ctx, caller, rounds, 3 * limit, lambda _number: None))
        self._burst_verdict("read", lambda: judge_bursts(ctx, caller, limit, results))
        if self.member_tier == "webhook":
            return
        if scarce_tier(ctx) == "webhook":  # the re-login probe spent the other admin's webhook quota
            self.bursts["webhook"] = (
                "not judged live: the other admin spent the webhook quota in the re-login probe (the "
                "contract has no bulk operation) and no member of the first company is configured"
            )
            return
        if (missing := unprobed(ctx, "webhook", 0)) is not None:
            self.bursts["webhook"] = str(missing)
            return
        burst = bearer_caller(ctx, "webhook", self.tokens[OTHER], OTHER)
        quota = tier_limit(ctx, "webhook")
        try:
            results = asyncio.run(
                bursts(ctx, burst, [burst.headers], burst_size(quota), lambda _number: None)
            )
        finally:
            _delete_while_quota_lasts(ctx, client, burst, self.tokens[OTHER])
            self._remove_later(burst, OTHER)
        self._burst_verdict("webhook", lambda: judge_bursts(ctx, burst, quota, results))

    def _member_task(self, token: str) -> Callable[[httpx.Client], None]:
        """Once the primary admin has spent the member's tier (bulk, else webhook registration), the
        member of the same company sends N + N/2 of that tier at once: any admitted shows a quota of its
        own (``isolation.users``), exactly N admitted shows no overshoot (``concurrency``)."""

        def task(client: httpx.Client) -> None:
            ctx, tier = self.ctx, str(self.member_tier)
            caller = bearer_caller(ctx, tier, token, MEMBER)
            self.member_go.wait(timeout=PLAN_TIMEOUT / 2)
            quota = tier_limit(ctx, tier)
            try:
                results = asyncio.run(
                    bursts(ctx, caller, [caller.headers], burst_size(quota), lambda _n: None)
                )
            finally:  # the admin deletes, unless the contract lets the member (who has the room)
                self._remove_later(caller, MEMBER if self.key_owner[1] == MEMBER else PRIMARY)
            responses = results[0]
            if any(map(is_admitted, responses)):
                self._burst_verdict(tier, lambda: judge_bursts(ctx, caller, quota, results))
            else:
                self.bursts[tier] = "the member's burst was refused whole: see ratelimit.isolation.users"
            if not self.admin_spent.is_set():
                raise CheckSkipped(
                    f"the primary admin's {tier}-tier probe did not spend the tier's quota (its boundary "
                    "check tells why): nothing to compare the member's quota with"
                )
            admitted = [response for response in responses if is_admitted(response)]

            def verdict() -> str:
                judge_member(ctx, caller, admitted[0] if admitted else responses[0])
                return (
                    f"{ctx.account(MEMBER).email} sent {len(responses)} {caller.label} requests at once "
                    f"after {ctx.account(PRIMARY).email} had spent the tier's quota: {len(admitted)} admitted"
                )

            self._record("ratelimit.isolation.users", verdict)

        return task

    def _window_task(self, client: httpx.Client) -> None:
        """Two fresh keys' offset probes of the read tier, 2.5 s apart (``window.py``); judged once the
        key read probe has shown the quota the tier keeps (:meth:`_judge_window`)."""
        callers = (
            key_caller(self.ctx, "read", self.keys["window"]),
            key_caller(self.ctx, "read", self.keys["window_2"]),
        )
        for caller in callers:
            caller.client = client
        self.window_probes = probe_window(self.ctx, callers)

    # -- verdicts after the probes ----------------------------------------------------------------
    def _judge_window(self) -> None:
        if not self.window_probes:
            return  # the probes stopped: their task's outcome says why
        run = self.plan.runs.get(("read", 1))  # the key read probe: the quota the tier keeps per key
        kept = tier_limit(self.ctx, "read")  # the offset probes' keys held that many in a window
        if isinstance(run, TierRun) and run.problem is None:
            kept = max(kept, run.spent_before + len(run.admitted))
        self._record("ratelimit.window", lambda: judge_window(self.window_probes, kept))

    def _judge_concurrency(self) -> None:
        """The bursts' verdicts: the first finding, else a pass saying what was judged and what not."""
        if self.plan.outcomes.get("ratelimit.concurrency") is not None:
            return  # the task stopped: its outcome says why
        tiers = [name for name in ("read", "webhook", "bulk") if name in self.bursts]
        for tier in tiers:
            if isinstance(outcome := self.bursts[tier], CheckFailed):
                self.plan.outcomes["ratelimit.concurrency"] = outcome
                return
        if "bulk" not in self.bursts and unprobed(self.ctx, "bulk", 0) is None:
            reason = (
                self.member_tier if isinstance(self.member_tier, CheckSkipped) else "not the member's tier"
            )
            self.bursts["bulk"] = f"needs a member of the first company with a fresh bulk quota: {reason}"
        judged = [tier for tier in tiers if self.bursts[tier] is None]
        skipped = [f"{tier} ({why})" for tier, why in self.bursts.items() if isinstance(why, str)]
        skipped.append(
            "write (a burst of N + N/2 writes needs a write quota no principal of the plan has free, or an "
            "API key's, whose N jobs would cost a window to delete)"
        )
        self.plan.outcomes["ratelimit.concurrency"] = None
        self.plan.details["ratelimit.concurrency"] = (
            f"judged live: {', '.join(judged) or 'none'}; not judged live: {'; '.join(skipped)}"
        )

    def _judge_tier_pairs(self) -> None:
        """``isolation.tiers``: the pairs the primary user's parallel probes allow, besides the other
        admin's (the scarcest tier, then a read) and the API key's (reads, then a write)."""
        if self.plan.outcomes.get("ratelimit.isolation.tiers") is not None:
            return
        ctx = self.ctx
        runs = {
            tier: run for tier in SPENDABLE_TIERS if isinstance(run := self.plan.runs.get((tier, 0)), TierRun)
        }
        judged: list[str] = []

        def verdict() -> str:
            judged.extend(judge_parallel_probes(ctx, runs))
            others = [f"{scarce_tier(ctx)}->read", "read->write"]  # the other admin's, the API key's
            every = [f"{a}->{b}" for a in bearer_tiers(ctx) for b in bearer_tiers(ctx) if a != b]
            left = [pair for pair in every if pair not in [*judged, *others]]
            return (
                f"judged live: {others[0]} as the other admin, {others[1]} as an API key, "
                f"{', '.join(judged) or 'no pair'} as the primary user (one tier spent before another ran "
                f"out); not judged live: {', '.join(left) or 'none'} (one user's probes run at once; the "
                "auth probe's logins are the client address's, not a user's)"
            )

        self._record("ratelimit.isolation.tiers", verdict)

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

    def _record(self, check_id: str, verdict: Callable[[], str | None]) -> None:
        """``verdict``'s finding or skip becomes ``check_id``'s outcome; a pass keeps what it says."""
        try:
            detail = verdict()
        except (CheckFailed, CheckSkipped) as outcome:
            self.plan.outcomes[check_id] = outcome
        else:
            self.plan.outcomes.setdefault(check_id, None)
            if detail:
                self.plan.details[check_id] = detail

    def _burst_verdict(self, tier: str, judge: Callable[[], None]) -> None:
        """Keep ``judge``'s verdict on ``tier``'s burst for :meth:`_judge_concurrency`."""
        try:
            judge()
        except CheckFailed as finding:
            self.bursts[tier] = finding
        else:
            self.bursts[tier] = None

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
    """Delete what ``caller`` created, as the user of ``token`` (the owner of its key, or the user who
    made it), while that user's write quota lasts (the rest is deleted when the plan ends): the write
    quotas of the member and the other admin are not probed, and what they have left during the plan
    would otherwise sit idle while the run's first window after it has to carry the deletes.
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


def _no_member(ctx: CheckContext) -> CheckSkipped:
    """Why the plan has no member of the first company (``ctx.account`` says what to set)."""
    try:
        ctx.account(MEMBER)
    except CheckSkipped as reason:
        return reason
    return CheckSkipped("the member did not log in")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
