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

from sergio_kit.contract.document import Operation, operations
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS, parse_rate_limit
from sergio_kit.contract.samples import WEBHOOK_SINK, example_job, sample_body
from sergio_kit.errors import SergioKitError
from sergio_kit.reports.findings import CheckFailed, CheckSkipped, Finding, finding_from_response
from sergio_kit.target.clock import TestClock
from sergio_kit.target.session import TokenSession, unreachable
from sergio_kit.target.target import Account, Target
from sergio_kit.target.throttling import Throttle
from sergio_kit.target.traffic import TrafficLog
from sergio_kit.webhooks.receiver import WebhookReceiver

PRIMARY = "primary"
OTHER = "other"


class CheckContext:
    """One target, shared by every check of a run."""

    def __init__(self, target: Target, throttle: Throttle | None = None, *, max_examples: int = 25) -> None:
        self.target = target
        self.throttle = throttle or Throttle(target.clock)
        self.max_examples = max_examples
        self.client = httpx.Client(base_url=target.base_url, verify=target.ssl_context(), timeout=30.0)
        self.operations: list[Operation] = operations()
        self._sessions: dict[str, TokenSession] = {}
        self._resources: dict[tuple[str, str], str] = {}
        self._keys: dict[tuple[str, tuple[str, ...]], tuple[str, str]] = {}
        self._cleanup: list[tuple[str, str, str]] = []
        self._quota: dict[str, tuple[int, float]] = {}
        self._scratch = Path(tempfile.mkdtemp(prefix="sergio-kit-"))
        self.traffic = TrafficLog()  # what the rate-limit probes sent, for the report's timelines
        self.memo: dict[str, Any] = {}  # what a group of checks shares within the run (probes, plans)

    # -- identities ----------------------------------------------------------------------------
    def account(self, tenant: str = PRIMARY) -> Account:
        """The login of ``tenant`` (``primary`` or ``other``); skips when the other is not configured."""
        if tenant == PRIMARY:
            return self.target.account
        if self.target.other_account is None:
            raise CheckSkipped(
                "needs a second company's admin: set SERGIO_OTHER_EMAIL and SERGIO_OTHER_PASSWORD"
            )
        return self.target.other_account

    def session(self, tenant: str = PRIMARY) -> TokenSession:
        """The long-lived session of ``tenant`` (one login, then refreshes)."""
        if tenant not in self._sessions:
            self._sessions[tenant] = TokenSession(self.target, self.account(tenant), self.throttle)
        return self._sessions[tenant]

    def token(self, tenant: str = PRIMARY) -> str:
        """A valid bearer token of ``tenant``."""
        return self.session(tenant).token()

    def login(self, tenant: str = PRIMARY) -> dict[str, Any]:
        """A fresh login of ``tenant`` (spends the auth tier): the token response."""
        account = self.account(tenant)
        response = self.send(
            "POST", "/v1/auth/login", json={"email": account.email, "password": account.password}
        )
        self.expect(response, {200}, f"login as {account.email} failed", expected="200")
        body: dict[str, Any] = response.json()
        return body

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
            )
        except httpx.ConnectError as error:
            raise unreachable(self.target.base_url, error) from None
        self._remember_quota(response)
        return response

    def _remember_quota(self, response: httpx.Response) -> None:
        item = parse_rate_limit(response.headers.get("RateLimit"))
        if item is None:
            return
        remaining, reset = item.integer("r"), item.integer("t")
        if remaining is not None and reset is not None:
            self._quota[item.name] = (remaining, time.monotonic() + reset)

    def wait_for_quota(self, tier: str, needed: int, reason: str) -> None:
        """Make sure ``needed`` requests of ``tier`` will be admitted: wait only if the target's last
        ``RateLimit`` header says too few remain (a whole window when it sent none)."""
        remaining, reset_at = self._quota.get(tier, (-1, 0.0))
        if remaining >= needed:
            return
        wait = max(int(reset_at - time.monotonic()) + 1, 1) if remaining >= 0 else FRESH_WINDOW_SECONDS
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
        """``(method, path, body)`` for a valid call of ``operation``: real ids, a valid body."""
        path = operation.path
        for name in ("job_id", "webhook_id", "key_id"):
            if "{" + name + "}" in path:
                path = path.replace("{" + name + "}", self.resource(name, tenant))
        return operation.method, path, sample_body(operation.operation_id)

    def resource(self, name: str, tenant: str = PRIMARY) -> str:
        """The id of a job, webhook or API key of ``tenant`` made for this run (removed at close)."""
        if (tenant, name) not in self._resources:
            token = self.token(tenant)
            if name == "job_id":
                response = self.send("POST", "/v1/jobs", token=token, json=example_job(notes="sergio-kit"))
                cleanup = ("DELETE", "/v1/jobs/{}")
            elif name == "webhook_id":
                body = {"url": WEBHOOK_SINK, "events": ["job.created"]}
                response = self.send("POST", "/v1/webhooks", token=token, json=body)
                cleanup = ("DELETE", "/v1/webhooks/{}")
            else:
                body = {"name": "sergio-kit resource", "scopes": ["jobs:read"]}
                response = self.send("POST", "/v1/api-keys", token=token, json=body)
                cleanup = ("DELETE", "/v1/api-keys/{}")
            self.expect(response, {201}, f"could not create a {name.removesuffix('_id')} to test with", "201")
            resource_id = str(response.json()["id"])
            self._resources[(tenant, name)] = resource_id
            self._cleanup.append((tenant, cleanup[0], cleanup[1].format(resource_id)))
        return self._resources[(tenant, name)]

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
        """``(key id, key)`` with exactly ``scopes`` for ``tenant``, created through key management
        and revoked at close; skips when the target's key endpoints are not available to us."""
        wanted = tuple(sorted(scopes))
        if (tenant, wanted) not in self._keys:
            created = self.create_api_key(wanted, "sergio-kit " + "+".join(wanted), tenant).json()
            self._keys[(tenant, wanted)] = (str(created["id"]), str(created["key"]))
            self._cleanup.append((tenant, "DELETE", f"/v1/api-keys/{created['id']}"))
        return self._keys[(tenant, wanted)]

    def create_api_key(self, scopes: Collection[str], name: str, tenant: str = PRIMARY) -> httpx.Response:
        """``POST /v1/api-keys`` as ``tenant``: the 201 response (the caller revokes the key); skips
        when the target's key endpoints are not available to us."""
        body = {"name": name, "scopes": list(scopes)}
        response = self.send("POST", "/v1/api-keys", token=self.token(tenant), json=body)
        if response.status_code in (403, 404, 405):
            raise CheckSkipped(
                f"needs API-key management (POST /v1/api-keys answered {response.status_code}): "
                "log in as a company admin"
            )
        self.expect(response, {201}, "could not create an API key to test with", "201")
        return response

    def remove_later(self, tenant: str, path: str) -> None:
        """Delete ``path`` as ``tenant`` when the context closes (for resources made outside ``send``)."""
        self._cleanup.append((tenant, "DELETE", path))

    def receiver(self) -> WebhookReceiver:
        """A started HTTPS webhook receiver the target trusts; skips when the kit cannot issue one."""
        if self.target.receiver_cert is None:
            raise CheckSkipped(
                "needs a webhook receiver the target can reach and trust (embedded server only)"
            )
        cert = self.target.receiver_cert(self._scratch / f"receiver-{len(list(self._scratch.iterdir()))}.pem")
        return WebhookReceiver(cert).start()

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

    def close(self) -> None:
        """Remove what this context created and close its connections."""
        for tenant, method, path in reversed(self._cleanup):
            with contextlib.suppress(httpx.HTTPError, CheckSkipped, CheckFailed, SergioKitError):
                self.send(method, path, token=self.token(tenant))
        for session in self._sessions.values():
            session.close()
        self.client.close()
