"""What a check can use: the target, logged-in tenants, throttled requests, and the extras a
target may or may not offer (test clock, signing secret, key management, webhook receiver).

Asking for an extra the target lacks raises :class:`CheckSkipped` with the reason, so a check
never passes silently. Resources the context creates (jobs, webhooks, API keys) are removed when
it closes.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any, NoReturn

import httpx

from sergio_kit.checks.budgets import LiveBudget
from sergio_kit.contract.document import Contract, Operation, packaged_contract
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS, read_rate_limit
from sergio_kit.errors import SergioKitError
from sergio_kit.reports.findings import (
    CheckFailed,
    CheckSkipped,
    CheckUndecided,
    Finding,
    finding_from_response,
)
from sergio_kit.target.clock import TestClock
from sergio_kit.target.session import TokenSession, unreachable
from sergio_kit.target.target import Account, Target
from sergio_kit.target.throttling import Throttle
from sergio_kit.target.traffic import TrafficLog
from sergio_kit.webhooks.receiver import WebhookReceiver

CLEAN_UP = "clean-up"  # the ledger's name for what the context's close sends
SPARE_LOGIN = "spare login"  # the ledger's name for a login taken from the run's spare ones
PRIMARY = "primary"
OTHER = "other"
MEMBER = "member"  # a non-admin user of the primary company
LOOPBACK = "127.0.0.1"
NO_RECEIVER = (
    "needs a webhook receiver the target can reach: set SERGIO_RECEIVER_URL (the https URL the target "
    "should deliver to, e.g. a tunnel to SERGIO_RECEIVER_BIND on this machine), or SERGIO_RECEIVER_CERT "
    "when the target can reach this machine's loopback and trusts that certificate"
)
#: What a setup step (a job, webhook or key to test with, its removal) accepts: any 2xx, since the
#: documentation publishes no status for them; the checks of those operations judge the status.
SUCCESS = range(200, 300)
KEY_MANAGEMENT = "POST /v1/api-keys"
#: The keys a user supplies when the target has no key management: scopes -> (Target field, variable).
SUPPLIED_KEYS = {
    ("jobs:read", "jobs:write"): ("api_key", "SERGIO_API_KEY"),
    ("jobs:read",): ("read_only_api_key", "SERGIO_READ_ONLY_API_KEY"),
}


class CheckContext:
    """One target, shared by every check of a run."""

    def __init__(
        self,
        target: Target,
        throttle: Throttle | None = None,
        *,
        max_examples: int = 25,
        live_budget: LiveBudget | None = None,
    ) -> None:
        self.target = target
        self.throttle = throttle or Throttle(target.clock)
        self.max_examples = max_examples
        self.live_budget = live_budget  # live mode: the small budgets of the auth-tier-heavy checks
        self.client = httpx.Client(base_url=target.base_url, verify=target.ssl_context(), timeout=30.0)
        self.contract: Contract = target.contract  # the contract in force: what the checks may send
        self.operations: list[Operation] = list(self.contract.operations)
        self._sessions: dict[str, TokenSession] = {}
        self._spare_logins: dict[str, list[httpx.Response]] = {}  # fresh families nobody used yet
        self._resources: dict[tuple[str, str], str] = {}
        self._keys: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
        self._cleanup: list[tuple[str, str, str]] = []
        # every object a POST through send() made (``/v1/webhooks/whk_1``); a list: appending and
        # copying it are atomic, and lanes append while the contract run's clean-up reads it
        self._made: list[str] = []
        self._quota: dict[str, tuple[int, float]] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="sergio-kit-"))
        self.traffic = TrafficLog()  # what the rate-limit probes sent, for the report's timelines
        self.memo: dict[str, Any] = {}  # what a group of checks shares within the run (probes, plans)

    # -- identities ----------------------------------------------------------------------------
    def account(self, tenant: str = PRIMARY) -> Account:
        """The login of ``tenant`` (``primary``, ``other`` or ``member``); skips when it is not configured."""
        if tenant == PRIMARY:
            return self.target.account
        if tenant == MEMBER:
            if self.target.member_account is None:
                raise CheckSkipped(
                    "needs a member (not an admin) of the first company: set SERGIO_MEMBER_EMAIL and "
                    "SERGIO_MEMBER_PASSWORD"
                )
            return self.target.member_account
        if self.target.other_account is None:
            raise CheckSkipped(
                "needs a second company's admin: set SERGIO_OTHER_EMAIL and SERGIO_OTHER_PASSWORD"
            )
        return self.target.other_account

    def session(self, tenant: str = PRIMARY) -> TokenSession:
        """The long-lived session of ``tenant`` (one login, then refreshes)."""
        if tenant not in self._sessions:
            self.require("POST /v1/auth/login", "to log in")
            self._sessions[tenant] = TokenSession(self.target, self.account(tenant), self.throttle, tenant)
        return self._sessions[tenant]

    def token(self, tenant: str = PRIMARY) -> str:
        """A valid bearer token of ``tenant``."""
        return self.session(tenant).token()

    def offer_login(self, tenant: str, login: httpx.Response) -> None:
        """Keep a login response of ``tenant`` that nobody used (the rate-limit probe's) for the next
        check that needs a fresh login: its family is as fresh as a new one, and the auth tier is scarce."""
        self._spare_logins.setdefault(tenant, []).append(login)

    def adopt_login(self, tenant: str, login: dict[str, Any]) -> None:
        """Make a login response of ``tenant`` the first of its long-lived session."""
        self.session(tenant).adopt(login)

    def login(self, tenant: str = PRIMARY) -> dict[str, Any]:
        """A fresh login of ``tenant``: the token response of a family nobody else uses (a spare one
        when the run has it, else a new login, which spends the auth tier)."""
        response = self.login_response(tenant)
        self.expect(response, {200}, f"login as {self.account(tenant).email} failed", expected="200")
        body: dict[str, Any] = response.json()
        return body

    def login_response(self, tenant: str = PRIMARY) -> httpx.Response:
        """The response of a fresh login of ``tenant`` (see :meth:`login`), whatever its status."""
        self.require("POST /v1/auth/login", "to log in")
        spare = self._spare_logins.get(tenant)
        if spare:
            self.throttle.count("auth", SPARE_LOGIN)
            return spare.pop(0)
        account = self.account(tenant)
        return self.send(
            "POST", "/v1/auth/login", json={"email": account.email, "password": account.password}
        )

    # -- requests --------------------------------------------------------------------------------
    def send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = None,
        api_key: str | None = None,
        headers: dict[str, str] | None = None,
        json: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        """One request to the target; a 429 is waited out (test clock or Retry-After) and retried."""
        all_headers = dict(headers or {})
        if token is not None:
            all_headers["Authorization"] = f"Bearer {token}"
        if api_key is not None:
            all_headers["X-API-Key"] = api_key
        if path.startswith("/v1/auth/"):
            self.target.note_auth_call()
        try:
            response = self.throttle.send(
                f"{method} {path}",
                lambda: self.client.request(method, path, headers=all_headers, json=json, content=content),
                lambda response: (response.status_code, response.headers),
                headers=all_headers,
            )
        except httpx.ConnectError as error:
            raise unreachable(self.target.base_url, error) from None
        self.target.note_date(response.headers.get("Date"))
        self._remember_quota(method, path, response)
        self._note_made(method, path, response)
        return response

    def _note_made(self, method: str, path: str, response: httpx.Response) -> None:
        """Remember the object a successful POST to a collection made (its ``id``), for :meth:`made`."""
        if method != "POST" or not 200 <= response.status_code < 300:
            return
        with contextlib.suppress(ValueError, AttributeError, KeyError, TypeError):
            self._made.append(f"{path.rstrip('/')}/{response.json()['id']}")

    def _remember_quota(self, method: str, path: str, response: httpx.Response) -> None:
        """Note what the response's rate-limit fields (any published form) say remains of its tier:
        the tier they name, else the tier of the contract operation at ``method`` ``path``."""
        reading = read_rate_limit(response.headers, self.target.now())
        if reading is None or reading.remaining is None or reading.reset is None:
            return
        operation = self.contract.operation_for(method, path)
        tier = reading.policy or (operation.tier if operation is not None else None)
        if tier is not None:
            self._quota[tier] = (reading.remaining, time.monotonic() + reading.reset)

    def wait_for_quota(self, tier: str, needed: int, reason: str) -> None:
        """Make sure ``needed`` requests of ``tier`` will be admitted: wait only if the target's last
        rate-limit fields say too few remain. Without them, wait out a whole window since the kit's
        own last auth call (auth tier, live target) or a whole window (any other case)."""
        remaining, reset_at = self._quota.get(tier, (-1, 0.0))
        if remaining >= needed:
            return
        wait = max(int(reset_at - time.monotonic()) + 1, 1) if remaining >= 0 else FRESH_WINDOW_SECONDS
        last_login = self.target.last_auth_call
        if remaining < 0 and tier == "auth" and self.target.clock is None and last_login:
            wait = int(FRESH_WINDOW_SECONDS - (time.monotonic() - last_login)) + 1
        if wait > 0:
            self.throttle.wait(min(wait, FRESH_WINDOW_SECONDS), reason)
        self._quota.pop(tier, None)

    def offers(self, label: str) -> bool:
        """Whether the contract in force declares ``label`` (``"METHOD /path"``)."""
        return any(operation.label == label for operation in self.operations)

    def require(self, label: str, why: str = "") -> Operation:
        """The contract's operation ``label`` (``"METHOD /path"``); skips, naming it, when the contract
        in force does not declare it (``why``: what the check needed it for)."""
        for operation in self.operations:
            if operation.label == label:
                return operation
        reason = f"the contract does not declare {label}"
        raise CheckSkipped(reason + (f" ({why})" if why else ""))

    def protected(self, scheme: str) -> list[Operation]:
        """Every contract operation secured by ``scheme`` (``bearerAuth`` or ``apiKeyAuth``)."""
        return [op for op in self.operations if scheme in op.security]

    def request_for(self, operation: Operation, tenant: str = PRIMARY) -> tuple[str, str, Any]:
        """``(method, path, body)`` for a valid call of ``operation``: real ids, a valid body. A call
        that may destroy its object (a DELETE, a key rotation) gets an expendable object of its own, so
        a call a check expects refused but the target (rightly or not) serves, from another thread too,
        never takes away the object the other checks share."""
        path = operation.path
        expendable = operation.method == "DELETE" or path.endswith("/rotate")
        for name in ("job_id", "webhook_id", "key_id"):
            if "{" + name + "}" in path:
                path = path.replace("{" + name + "}", self.resource(name, tenant, expendable=expendable))
        return operation.method, path, self.sample_body(operation)

    def sample_body(self, operation: Operation) -> Any:
        """A valid request body for ``operation`` (``None`` when it takes none): the kit's sample for
        the packaged operation of the same method and path, whatever the contract in force calls it."""
        samples, today = self.target.samples, self.target.today()
        body = samples.body(operation.operation_id, today)
        if body is None and operation.request_schema is not None:
            packaged = packaged_contract().operation(operation.label)
            body = samples.body(packaged.operation_id, today) if packaged is not None else None
        return body

    def job(self, **changes: Any) -> dict[str, Any]:
        """A valid ``JobCreate`` body of the user's sample data, scheduled a few days after the
        target's today, with ``changes`` applied on top."""
        return self.target.samples.job(self.target.today(), **changes)

    def resource(self, name: str, tenant: str = PRIMARY, *, expendable: bool = False) -> str:
        """The id of a job, webhook or API key of ``tenant`` made for this run (removed at close); an
        ``expendable`` one is another object, for calls that may destroy it."""
        slot = f"{name} (expendable)" if expendable else name
        if (tenant, slot) not in self._resources:
            if name == "key_id":  # skips, as for every key the kit makes, when key management is refused
                response = self.create_api_key(["jobs:read"], "sergio-kit resource", tenant)
                collection = "/v1/api-keys"
            else:
                collection = {"job_id": "/v1/jobs", "webhook_id": "/v1/webhooks"}[name]
                self.require(f"POST {collection}", f"to create a {name.removesuffix('_id')} to test with")
                if name == "job_id":
                    body = self.job(notes="sergio-kit")
                else:
                    body = self.target.samples.webhook(["job.created"])
                response = self.send("POST", collection, token=self.token(tenant), json=body)
                self.setup_step(
                    response, SUCCESS, f"could not create a {name.removesuffix('_id')} to test with"
                )
            resource_id = str(response.json()["id"])
            self._resources[(tenant, slot)] = resource_id
            self._cleanup.append((tenant, "DELETE", f"{collection}/{resource_id}"))
        return self._resources[(tenant, slot)]

    # -- what a target may offer -------------------------------------------------------------
    def clock(self) -> TestClock:
        """The target's test clock; skips when it has none."""
        if self.target.clock is None:
            raise CheckSkipped(
                "needs the target's test clock (sergio-kit serve --test-clock, or SERGIO_CLOCK_URL)"
            )
        return self.target.clock

    def now(self) -> float:
        """The target's time: read from its test clock when it has one (``Target.now`` only estimates
        it from the last read, which is stale when anyone else moved the clock), else the local clock."""
        if self.target.clock is not None:
            return self.target.clock.now()
        return self.target.now()

    def jwt_secret(self) -> bytes:
        """The target's JWT signing secret; skips when it is not configured."""
        if self.target.jwt_secret is None:
            raise CheckSkipped("needs the signing secret to forge valid tokens: set SERGIO_JWT_SECRET")
        return self.target.jwt_secret

    def api_key(self, scopes: Collection[str], tenant: str = PRIMARY) -> tuple[str, str]:
        """``(key id, key)`` with exactly ``scopes`` for ``tenant``: created through key management
        and revoked at close, or, when the target has none (not in the contract, or refused), the key
        the user supplied with those scopes (:data:`SUPPLIED_KEYS`; its id is unknown: ``""``).
        Skips, naming what is missing, when neither is available."""
        wanted = tuple(sorted(scopes))
        if (tenant, wanted) not in self._keys:
            try:
                created = self.create_api_key(wanted, "sergio-kit " + "+".join(wanted), tenant).json()
            except CheckSkipped as no_management:
                self._keys[(tenant, wanted)] = ("", self.supplied_api_key(wanted, tenant, str(no_management)))
            else:
                self._keys[(tenant, wanted)] = (str(created["id"]), str(created["key"]))
                self._cleanup.append((tenant, "DELETE", f"/v1/api-keys/{created['id']}"))
        return self._keys[(tenant, wanted)]

    def supplied_api_key(self, scopes: Collection[str], tenant: str = PRIMARY, why: str = "") -> str:
        """The key the user supplied with exactly ``scopes`` (``SERGIO_API_KEY``: jobs:read and
        jobs:write; ``SERGIO_READ_ONLY_API_KEY``: jobs:read; the primary company's only); skips,
        naming the setting, when there is none (``why``: why the kit could not make one)."""
        wanted = tuple(sorted(scopes))
        reason = f"needs an API key with exactly {' + '.join(wanted)}" + (f": {why}" if why else "")
        if tenant != PRIMARY:
            raise CheckSkipped(f"{reason}; supplied keys are the first company's only")
        if wanted not in SUPPLIED_KEYS:
            supplied = "; ".join(f"{variable}: {' + '.join(k)}" for k, (_, variable) in SUPPLIED_KEYS.items())
            raise CheckSkipped(f"{reason}; no supplied key has those scopes ({supplied})")
        field, variable = SUPPLIED_KEYS[wanted]
        key: str | None = getattr(self.target, field)
        if key is None:
            raise CheckSkipped(f"{reason}; set {variable} to such a key")
        return key

    def create_api_key(self, scopes: Collection[str], name: str, tenant: str = PRIMARY) -> httpx.Response:
        """``POST /v1/api-keys`` as ``tenant``: the 2xx response (the caller revokes the key); skips
        when the contract does not declare key management or the target refuses it to us."""
        self.require(KEY_MANAGEMENT, "the kit makes its test keys there")
        body = {"name": name, "scopes": list(scopes)}
        response = self.send("POST", "/v1/api-keys", token=self.token(tenant), json=body)
        if response.status_code in (403, 404, 405):
            raise CheckSkipped(
                f"needs API-key management ({KEY_MANAGEMENT} answered {response.status_code}): "
                "log in as a company admin"
            )
        self.setup_step(response, SUCCESS, "could not create an API key to test with")
        return response

    def remove_later(self, tenant: str, path: str) -> None:
        """Delete ``path`` as ``tenant`` when the context closes (for resources made outside ``send``)."""
        self._cleanup.append((tenant, "DELETE", path))

    def receiver(self) -> WebhookReceiver:
        """A started webhook receiver the target can reach: at the receiver URL the user set (plain
        HTTP behind their TLS proxy, or HTTPS with the receiver certificate), else on loopback with a
        certificate the target trusts; skips when there is neither (a live target, nothing set)."""
        target = self.target
        if target.receiver_cert is None and target.receiver_url is None:
            raise CheckSkipped(NO_RECEIVER)
        cert = None
        if target.receiver_cert is not None:
            cert = target.receiver_cert(self._scratch / f"receiver-{len(list(self._scratch.iterdir()))}.pem")
        host, port = target.receiver_bind or (LOOPBACK, 0)
        receiver = WebhookReceiver(cert, host=host, port=port, public_url=target.receiver_url)
        try:
            return receiver.start()
        except OSError as error:
            raise SergioKitError(
                f"the webhook receiver cannot listen on {host}:{port}: {error.strerror or error}; "
                "set SERGIO_RECEIVER_BIND (--receiver-bind) to a free HOST:PORT"
            ) from None

    # -- verdicts --------------------------------------------------------------------------------
    def fail(
        self,
        message: str,
        response: httpx.Response | None = None,
        expected: str = "",
        *,
        basis: str | None = None,
    ) -> NoReturn:
        """Fail the check with a finding built from ``response`` (masked); ``basis`` names the broken
        rule's basis when it is not the check's own (see :class:`CheckFailed`)."""
        if response is None:
            raise CheckFailed(Finding(message=message, expected=expected), basis=basis)
        raise CheckFailed(finding_from_response(message, response, expected=expected), basis=basis)

    def expect(
        self,
        response: httpx.Response,
        statuses: Collection[int],
        message: str,
        expected: str,
        *,
        basis: str | None = None,
    ) -> None:
        """Fail unless ``response``'s status is one of ``statuses`` (``basis`` as for :meth:`fail`)."""
        if response.status_code not in statuses:
            self.fail(f"{message}: got {response.status_code}", response, expected, basis=basis)

    def made(self) -> set[str]:
        """The paths of the objects the checks made through this context (``/v1/webhooks/whk_1``),
        those it will remove and those a check removes itself: the contract run's clean-up leaves them
        to the checks (a lane may still be using them)."""
        return {path for _, _, path in self._cleanup[:]} | set(self._made[:])

    def setup_step(self, response: httpx.Response, statuses: Collection[int], what: str) -> None:
        """End the check as undecided (``error``, not ``failed``) unless ``response``'s status is one
        of ``statuses``: a step that only prepares the check (an object to test with) broke, so the
        rule the check is about was never judged; ``what`` says which step."""
        if response.status_code not in statuses:
            request = response.request
            raise CheckUndecided(
                f"{what}: got {response.status_code} from {request.method} {request.url.path}; "
                "the check's rule was not judged"
            )

    def cleanup_mark(self) -> int:
        """A mark for :meth:`clean_up_since`: how many removals are pending now."""
        return len(self._cleanup)

    def clean_up_since(self, mark: int) -> None:
        """Remove now what was made since ``mark`` (rather than when the context closes): a live run's
        writes at its end would need a window more, while those right after the rate-limit plan fit."""
        pending, self._cleanup = self._cleanup[mark:], self._cleanup[:mark]
        self._remove(pending)

    def _remove(self, pending: list[tuple[str, str, str]]) -> None:
        with self.throttle.cleaning_up():
            for tenant, method, path in reversed(pending):
                with contextlib.suppress(httpx.HTTPError, CheckSkipped, CheckFailed, SergioKitError):
                    self.send(method, path, token=self.token(tenant))

    def close(self) -> None:
        """Remove what this context created (past the run's deadline too: nothing is left behind) and
        close its connections."""
        self.throttle.current = CLEAN_UP
        self._remove(self._cleanup)
        for session in self._sessions.values():
            session.close()
        self.client.close()
