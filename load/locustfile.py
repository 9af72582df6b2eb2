"""Locust scenarios for the Sergio API: one user class per rate-limit tier, a realistic day, profiles.

Run by ``sergio-kit load`` (or by hand: ``locust -f load/locustfile.py --headless --host URL``).
Settings come from the environment (never argv, so passwords stay out of ``ps``):

- ``SERGIO_CA_BUNDLE``: PEM CA bundle that signed the target's certificate (TLS is always verified).
- ``SERGIO_LOAD_ACCOUNTS``: JSON list of ``{"email", "password"}``; else ``SERGIO_EMAIL``/``SERGIO_PASSWORD``.
- ``SERGIO_LOAD_PROFILE``: ``conformance`` (each tier at 1.5x its limit for two windows) or ``capacity``
  (a step load of the realistic mix up to its knee, see ``sergio_kit.load.steps``).
- ``SERGIO_LOAD_WINDOW``: seconds over which a conformance user sends 1.5x its tier's limit (default 60).
- ``SERGIO_LOAD_DURATION``: run length in seconds (default: two windows; capacity: every step).
- ``SERGIO_LOAD_USERS``: capacity: users of the last step (default 256); conformance: users per tier
  (default 1).
- ``SERGIO_LOAD_START_USERS``, ``SERGIO_LOAD_STEP_DURATION``: capacity: users of the first step
  (default 1) and seconds each step is held (default 10).
- ``SERGIO_LOAD_THRESHOLDS``: ``read:p95<300ms,...`` (the kit's ``load_thresholds`` setting); the step
  load stops at a step that breaks one, and ``SERGIO_LOAD_ABORT_ON_FAIL=1`` stops any run at a breach.
- ``SERGIO_TIER_LIMITS``: the target's ``tier=N,...`` over the published limits (the kit's setting).
- ``SERGIO_LOAD_WEIGHTS``: realistic-day task weights, ``read=80,write=15,webhook=1,bulk=4``.
- ``SERGIO_SAMPLE_*``: the customer id, service type, address and webhook sink of what the users create
  (the kit's settings); jobs are scheduled a few days after the target's today, from its ``Date`` header.

Every response is classified (see ``sergio_kit.load.ledger``) and reported under ``"<tier> [<class>]"``
with its operation (``GET /v1/jobs``) as the request type: a failure class as a Locust failure, a
passing or warning class (a recommended rule) as a success. When it quits, the master writes
``figures.json`` next to ``--json-file``: per tier and operation, whole run and per step, from
Locust's own statistics (see ``measure.py``); a worker prints how many requests it sent.
In conformance runs the master writes ``load_plan.json`` next to ``--json-file``: which principals
carried each tier at what rate, for the end-of-run totals (see ``sergio_kit.load.plan``).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, ClassVar

import gevent
import gevent.ssl
from locust import FastHttpUser, LoadTestShape, between, constant_throughput, events, task
from locust.runners import MasterRunner, WorkerRunner
from measure import Recorder
from token_pool import Account, TokenPool

# plain modules of the kit, no heavy imports
from sergio_kit.config import (
    samples_from_environment,
    thresholds_from_environment,
    tier_limits_from_environment,
)
from sergio_kit.contract.ratelimit import WINDOW_SECONDS
from sergio_kit.contract.samples import local_today, today_from_http_date
from sergio_kit.errors import SergioKitError
from sergio_kit.load.figures import FIGURES_FILE
from sergio_kit.load.ledger import Ledger
from sergio_kit.load.plan import build_plan, write_plan
from sergio_kit.load.steps import (
    DEFAULT_START_USERS,
    DEFAULT_STEP_SECONDS,
    DEFAULT_TOP_USERS,
    run_length,
    step_users,
)


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
    THRESHOLDS = thresholds_from_environment(os.environ)
except SergioKitError as error:
    raise SystemExit(f"sergio load: {error}") from None
WEBHOOK = SAMPLES.webhook(["job.deleted"])  # nothing need listen: job.deleted is never sent
WEIGHTS = _weights(os.environ.get("SERGIO_LOAD_WEIGHTS"))
_users_env = os.environ.get("SERGIO_LOAD_USERS")
USERS = int(_users_env) if _users_env else (1 if PROFILE == "conformance" else DEFAULT_TOP_USERS)
START_USERS = min(int(os.environ.get("SERGIO_LOAD_START_USERS") or DEFAULT_START_USERS), USERS)
STEP_SECONDS = float(os.environ.get("SERGIO_LOAD_STEP_DURATION") or DEFAULT_STEP_SECONDS)
STEP_USERS = step_users(START_USERS, USERS)
# capacity: the steps end the run; the default is a backstop a step later than the last step's end
_default_duration = (
    2 * WINDOW if PROFILE == "conformance" else run_length(START_USERS, USERS, STEP_SECONDS) + STEP_SECONDS
)
DURATION = float(os.environ.get("SERGIO_LOAD_DURATION") or _default_duration)
ABORT_ON_FAIL = os.environ.get("SERGIO_LOAD_ABORT_ON_FAIL", "") in ("1", "true", "yes")
ABORT_GRACE = 5.0  # seconds before --abort-on-fail judges: the first few responses decide nothing
if PROFILE not in ("conformance", "capacity"):
    raise SystemExit(f"SERGIO_LOAD_PROFILE is {PROFILE!r}: expected conformance or capacity")

LEDGER = Ledger(LIMITS)
_state: dict[str, Any] = {"pool": None, "worker": 0, "distributed": False, "date": None, "today": None}
_sent = {"requests": 0}  # what this process sent (a worker prints it when it quits)


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
    elif _state.get("recorder") is not None:
        _state["recorder"].begin()


@events.request.add_listener
def _on_request(**_: Any) -> None:
    _sent["requests"] += 1


@events.quitting.add_listener
def _on_quitting(environment: Any, **_: Any) -> None:
    """Master (or lone process): write ``figures.json``; a worker: say how many requests it sent, so
    its traffic can be found in the master's totals."""
    if isinstance(environment.runner, WorkerRunner):
        print(f"sergio-kit load worker {_state['worker']}: sent {_sent['requests']} requests", flush=True)
        return
    recorder: Recorder | None = _state.get("recorder")
    json_file = getattr(environment.parsed_options, "json_file", None)
    if recorder is None or not json_file:
        return
    users = len(TIER_CLASSES) * USERS if PROFILE == "conformance" else USERS
    recorder.write(Path(json_file).with_name(FIGURES_FILE), profile=PROFILE, users=users)


TIER_OF_CLASS = {
    "ReadUser": "read",
    "WriteUser": "write",
    "WebhookUser": "webhook",
    "BulkUser": "bulk",
    "AuthUser": "auth",
}


@events.init.add_listener
def _on_init(environment: Any, **_: Any) -> None:
    """Remember the environment; the master (or lone process) records the run's figures."""
    _state["environment"] = environment
    if not isinstance(environment.runner, WorkerRunner):
        _state["recorder"] = Recorder(environment.stats, THRESHOLDS, STEP_USERS, STEP_SECONDS)


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
            response.request_meta["request_type"] = f"POST {path}"
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
            response.request_meta["request_type"] = f"{method} {path.partition('?')[0]}"
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


TIER_CLASSES: list[type[SergioUser]] = [ReadUser, WriteUser, WebhookUser, BulkUser, AuthUser]


class ProfileShape(LoadTestShape):
    """``conformance``: every tier user at once for the whole run; ``capacity``: the step load of the
    realistic mix (see ``sergio_kit.load.steps``), each step's new users spawned within a second.
    With ``SERGIO_LOAD_ABORT_ON_FAIL``, a run stops at the first threshold its figures so far break."""

    def tick(self) -> tuple[int, float, list[type[SergioUser]]] | None:
        """Users, spawn rate and classes for the current second, or ``None`` to stop."""
        elapsed = self.get_run_time()
        recorder: Recorder | None = _state.get("recorder")
        if recorder is None:
            return None
        if elapsed >= DURATION:
            recorder.stopped = recorder.stopped or f"the run's duration ({DURATION:g} s)"
            return None
        if ABORT_ON_FAIL and elapsed >= ABORT_GRACE and recorder.breach(elapsed):
            print(
                f"sergio-kit load: threshold broken {recorder.aborted}; stopping (--abort-on-fail)",
                flush=True,
            )
            return None
        if PROFILE == "conformance":
            total = len(TIER_CLASSES) * USERS
            return total, float(total), TIER_CLASSES
        users = recorder.step_users(elapsed)
        if users is None:
            print(f"sergio-kit load: step load stopped at {recorder.stopped}", flush=True)
            return None
        return users, float(max(users, 1)), [RealisticDayUser]
