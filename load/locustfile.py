"""Locust scenarios for the Sergio API: one user class per rate-limit tier, a realistic day, profiles.

Run by ``sergio-kit load`` (or by hand: ``locust -f load/locustfile.py --headless --host URL``).
Settings come from the environment (never argv, so passwords stay out of ``ps``):

- ``SERGIO_CA_BUNDLE``: PEM CA bundle that signed the target's certificate (TLS is always verified).
- ``SERGIO_LOAD_ACCOUNTS``: JSON list of ``{"email", "password"}``; else ``SERGIO_EMAIL``/``SERGIO_PASSWORD``.
- ``SERGIO_LOAD_PROFILE``: ``conformance`` (each tier at 1.5x its limit for two windows) or ``capacity``.
- ``SERGIO_LOAD_WINDOW``: seconds over which a conformance user sends 1.5x its tier's limit (default 60).
- ``SERGIO_LOAD_DURATION``: run length in seconds (default: two windows; capacity 120).
- ``SERGIO_LOAD_USERS``: capacity users (default 20); conformance users per tier (default 1).
- ``SERGIO_TIER_LIMITS``: the target's ``tier=N,...`` over the published limits (the kit's setting).
- ``SERGIO_LOAD_WEIGHTS``: realistic-day task weights, ``read=80,write=15,webhook=1,bulk=4``.
- ``SERGIO_SAMPLE_*``: the customer id, service type, address and webhook sink of what the users create
  (the kit's settings); jobs are scheduled a few days after the target's today, from its ``Date`` header.

Every response is classified (see ``sergio_kit.load.ledger``) and reported under ``"<tier> [<class>]"``:
a failure class as a Locust failure, a passing or warning class (a recommended rule) as a success.
In conformance runs the master writes ``load_plan.json`` next to ``--json-file``: which principals
carried each tier at what rate, for the end-of-run totals (see ``sergio_kit.load.plan``).
"""

from __future__ import annotations

import json
import math
import os
from typing import Any, ClassVar

import gevent
import gevent.ssl
from locust import FastHttpUser, LoadTestShape, between, constant_throughput, events, task
from locust.runners import MasterRunner, WorkerRunner
from token_pool import Account, TokenPool

# plain modules of the kit, no heavy imports
from sergio_kit.config import samples_from_environment, tier_limits_from_environment
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.contract.samples import local_today, today_from_http_date
from sergio_kit.errors import SergioKitError
from sergio_kit.load.ledger import Ledger
from sergio_kit.load.plan import build_plan, write_plan


def _accounts() -> list[Account]:
    raw = os.environ.get("SERGIO_LOAD_ACCOUNTS")
    if raw:
        return [Account(item["email"], item["password"]) for item in json.loads(raw)]
    found = []
    for prefix in ("SERGIO_", "SERGIO_OTHER_"):
        email, password = os.environ.get(prefix + "EMAIL"), os.environ.get(prefix + "PASSWORD")
        if email and password:
            found.append(Account(email, password))
    if not found:
        raise SystemExit("sergio load: set SERGIO_LOAD_ACCOUNTS or SERGIO_EMAIL and SERGIO_PASSWORD")
    return found


def _weights(text: str | None) -> dict[str, int]:
    weights = {"read": 80, "write": 15, "webhook": 1, "bulk": 4}
    for part in (text or "").split(","):
        if part.strip():
            name, _, value = part.partition("=")
            weights[name.strip()] = int(value)
    return weights


ACCOUNTS = _accounts()
CA_BUNDLE = os.environ.get("SERGIO_CA_BUNDLE") or None
PROFILE = os.environ.get("SERGIO_LOAD_PROFILE", "conformance")
WINDOW = float(os.environ.get("SERGIO_LOAD_WINDOW") or WINDOW_SECONDS)  # pacing only; the server's is fixed
try:
    LIMITS = dict(tier_limits_from_environment(os.environ))
    SAMPLES = samples_from_environment(os.environ)
except SergioKitError as error:
    raise SystemExit(f"sergio load: {error}") from None
WEBHOOK = SAMPLES.webhook(["job.deleted"])  # nothing need listen: job.deleted is never sent
WEIGHTS = _weights(os.environ.get("SERGIO_LOAD_WEIGHTS"))
_users_env = os.environ.get("SERGIO_LOAD_USERS")
USERS = int(_users_env) if _users_env else (1 if PROFILE == "conformance" else 20)
DURATION = float(os.environ.get("SERGIO_LOAD_DURATION") or (2 * WINDOW if PROFILE == "conformance" else 120))
if PROFILE not in ("conformance", "capacity"):
    raise SystemExit(f"SERGIO_LOAD_PROFILE is {PROFILE!r}: expected conformance or capacity")

LEDGER = Ledger(LIMITS)
_state: dict[str, Any] = {"pool": None, "worker": 0, "distributed": False, "date": None, "today": None}


def _note_date(header: str | None) -> None:
    """Learn the target's today from a response's ``Date`` header (parsed only when it changed)."""
    if header and header != _state["date"]:
        _state["date"], _state["today"] = header, today_from_http_date(header) or _state["today"]


def _job() -> dict[str, Any]:
    """A job body scheduled a few days after the target's today (this machine's before any answer)."""
    return SAMPLES.job(_state["today"] or local_today(), notes="sergio-kit load")


@events.test_start.add_listener
def _on_test_start(environment: Any, **_: Any) -> None:
    """Learn which worker this process is, so each worker loads with its own account."""
    runner = environment.runner
    distributed = isinstance(runner, WorkerRunner)
    index = int(getattr(runner, "worker_index", 0) or 0)
    _state.update(worker=index, distributed=distributed)
    if distributed:
        # Other workers' pool logins share the per-address auth bucket this process cannot see.
        LEDGER.slack["auth"] = len(ACCOUNTS) + 1


TIER_OF_CLASS = {
    "ReadUser": "read",
    "WriteUser": "write",
    "WebhookUser": "webhook",
    "BulkUser": "bulk",
    "AuthUser": "auth",
}


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    _state["environment"] = environment


@events.spawning_complete.add_listener
def _on_spawning_complete(**_: Any) -> None:
    """Master (or lone process) of a conformance run: write ``load_plan.json``
    (see :mod:`sergio_kit.load.plan`)."""
    environment = _state.get("environment")
    runner = getattr(environment, "runner", None)
    json_file = getattr(getattr(environment, "parsed_options", None), "json_file", None)
    if PROFILE != "conformance" or not json_file or runner is None or isinstance(runner, WorkerRunner):
        return
    if isinstance(runner, MasterRunner):
        nodes = [
            (runner.get_worker_index(node.id), node.id.rsplit("_", 1)[0], dict(node.user_classes_count))
            for node in runner.clients.values()
        ]
    else:
        nodes = [(0, "", dict(runner.user_classes_count))]
    plan = build_plan(
        nodes,
        tier_of_class=TIER_OF_CLASS,
        accounts=len(ACCOUNTS),
        rate_per_user=_rate,
        limits=LIMITS,
        duration=DURATION,
        server_window=WINDOW_SECONDS,
    )
    write_plan(json_file, plan)


def _ca_context(cafile: str | None = None) -> gevent.ssl.SSLContext:
    """A verifying TLS context that trusts the configured CA bundle (else ``cafile``, the default store).

    geventhttpclient passes its own default bundle as ``cafile``; the configured one wins over it.
    """
    return gevent.ssl.create_default_context(cafile=CA_BUNDLE or cafile)


class SergioUser(FastHttpUser):
    """Base class: verified TLS, a shared token pool, and a classified ``call``."""

    abstract = True
    insecure = False
    ssl_context_factory = staticmethod(_ca_context)
    account_offset = 0

    def on_start(self) -> None:
        """Pick this user's account: the worker's own in conformance runs, round-robin in capacity."""
        if _state["pool"] is None:
            _state["pool"] = TokenPool(f"worker {_state['worker']}")
        worker = int(_state["worker"])
        if PROFILE == "capacity":
            SergioUser.account_offset += 1
            self.account = ACCOUNTS[(worker + SergioUser.account_offset) % len(ACCOUNTS)]
        else:
            self.account = ACCOUNTS[worker % len(ACCOUNTS)]

    def _post_for_pool(self, path: str, body: dict[str, Any], name: str) -> tuple[int, Any, dict[str, str]]:
        status, data, headers = 0, None, {}
        LEDGER.begin("address", "auth")
        with self.client.post(path, json=body, name=name, catch_response=True) as response:
            status = response.status_code or 0
            headers = {k.lower(): v for k, v in (response.headers or {}).items()}
            _note_date(headers.get("date"))
            kind, problem = LEDGER.classify(
                "address", "auth", status, headers.get("retry-after"), headers.get("date")
            )
            if problem and kind != "throttled":
                response.failure(problem)
            else:
                response.success()
            if status == 200:
                data = response.json()
        return status, data, headers

    def call(self, tier: str, method: str, path: str, body: Any = None, *, bearer: bool = True) -> None:
        """Send one request and report it as ``"<tier> [<class>]"``; failure classes fail it."""
        headers = {}
        principal = "address"
        if bearer:
            pool: TokenPool = _state["pool"]
            headers["Authorization"] = "Bearer " + pool.token(self.account, self._post_for_pool)
            principal = self.account.email
        LEDGER.begin(principal, tier)
        with self.client.request(
            method, path, json=body, headers=headers, name=tier, catch_response=True
        ) as response:
            status = response.status_code or 0
            got = response.headers or {}
            _note_date(got.get("date"))
            kind, problem = LEDGER.classify(principal, tier, status, got.get("retry-after"), got.get("date"))
            response.request_meta["name"] = f"{tier} [{kind}]"
            if problem:
                response.failure(problem)
            else:
                response.success()


def _rate(tier: str) -> float:
    """Requests per second of one user of ``tier``: its users together send 1.5x its limit per window."""
    return 1.5 * LIMITS[tier] / WINDOW / max(USERS, 1)


def _pace(tier: str) -> Any:
    """Wait time so the tier's users together send 1.5x its limit per window."""
    return constant_throughput(_rate(tier))


class ReadUser(SergioUser):
    """Read tier: list jobs and webhooks."""

    wait_time = _pace("read")

    @task
    def list_jobs(self) -> None:
        """GET /v1/jobs."""
        self.call("read", "GET", "/v1/jobs?limit=5")


class WriteUser(SergioUser):
    """Write tier: create jobs."""

    wait_time = _pace("write")

    @task
    def create_job(self) -> None:
        """POST /v1/jobs."""
        self.call("write", "POST", "/v1/jobs", _job())


class WebhookUser(SergioUser):
    """Webhook-registration tier: register endpoints (for job.deleted only, which the load never emits)."""

    wait_time = _pace("webhook")

    @task
    def register(self) -> None:
        """POST /v1/webhooks."""
        self.call("webhook", "POST", "/v1/webhooks", WEBHOOK)


class BulkUser(SergioUser):
    """Bulk tier: create one job per bulk call."""

    wait_time = _pace("bulk")

    @task
    def bulk_create(self) -> None:
        """POST /v1/jobs/bulk."""
        self.call("bulk", "POST", "/v1/jobs/bulk", {"jobs": [_job()]})


class AuthUser(SergioUser):
    """Auth tier: the one user that logs in on purpose (bucketed by client address)."""

    wait_time = _pace("auth")

    def on_start(self) -> None:
        """Let the token pool log the other users in before the login storm starts."""
        super().on_start()
        gevent.sleep(2.0)

    @task
    def login(self) -> None:
        """POST /v1/auth/login."""
        body = {"email": self.account.email, "password": self.account.password}
        self.call("auth", "POST", "/v1/auth/login", body, bearer=False)


class RealisticDayUser(SergioUser):
    """A mixed day: mostly reads, some writes, rare bulk imports and webhook registrations."""

    wait_time = between(0.05, 0.5)

    def read(self) -> None:
        """GET /v1/jobs."""
        self.call("read", "GET", "/v1/jobs?limit=20")

    def write(self) -> None:
        """POST /v1/jobs."""
        self.call("write", "POST", "/v1/jobs", _job())

    def webhook(self) -> None:
        """POST /v1/webhooks."""
        self.call("webhook", "POST", "/v1/webhooks", WEBHOOK)

    def bulk(self) -> None:
        """POST /v1/jobs/bulk."""
        self.call("bulk", "POST", "/v1/jobs/bulk", {"jobs": [_job(), _job()]})

    tasks: ClassVar[dict[Any, int]] = {
        read: WEIGHTS["read"],
        write: WEIGHTS["write"],
        webhook: WEIGHTS["webhook"],
        bulk: WEIGHTS["bulk"],
    }


class ProfileShape(LoadTestShape):
    """``conformance``: every tier user at once for the whole run; ``capacity``: ramp, then plateau."""

    def tick(self) -> tuple[int, float, list[type[SergioUser]]] | None:
        """Users, spawn rate and classes for the current second, or ``None`` to stop."""
        elapsed = self.get_run_time()
        if elapsed >= DURATION:
            return None
        if PROFILE == "conformance":
            classes: list[type[SergioUser]] = [ReadUser, WriteUser, WebhookUser, BulkUser, AuthUser]
            total = len(classes) * USERS
            return total, float(total), classes
        ramp = DURATION / 3
        users = max(1, math.ceil(USERS * min(1.0, elapsed / ramp)))
        return users, max(1.0, USERS / ramp), [RealisticDayUser]
