"""The scripted tour that ``sergio-kit record`` records: every operation of the contract, flow by flow.

Each flow is a fixed sequence of requests with deterministic bodies (no random data), so recording
twice differs only in ids, timestamps and tokens. Every step states the statuses it expects; any
other answer stops the tour with a :class:`TourError`. Whatever a flow creates (jobs, webhooks, API
keys) is deleted before the flow ends, by its own last steps or, if a step failed, by
:meth:`Tour.cleanup`. A flow needs every operation of :data:`FLOW_OPERATIONS`: :func:`flows_for` leaves
out those the contract in force lacks.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import httpx

from sergio_kit.contract.document import Contract
from sergio_kit.contract.ratelimit import FRESH_WINDOW_SECONDS, retry_after_or_none
from sergio_kit.contract.samples import DEFAULT_SAMPLES, Samples, local_today, today_from_http_date
from sergio_kit.errors import SergioKitError
from sergio_kit.target.clock import TestClock
from sergio_kit.target.session import unreachable
from sergio_kit.target.target import Account
from sergio_kit.webhooks.receiver import Delivery, WebhookReceiver

__all__ = ["FLOWS", "FLOW_OPERATIONS", "Flow", "Tour", "TourError", "flows_for"]

WRONG_PASSWORD = "not-the-password-sergio-kit-tour"
#: What a step accepts where the documentation publishes no success status (the packaged contract marks
#: it ``x-sergio-assumed``: creates, deletes, bulk, key rotation, the single-job and Zapier endpoints).
SUCCESS = frozenset(range(200, 300))
DELIVERY_TIMEOUT = 20.0  # seconds to wait for the webhook delivery to reach the receiver


class TourError(SergioKitError):
    """A step of the tour got an answer the script does not expect (the target, not the user)."""

    exit_code = 1


@dataclass
class Tour:
    """What the flows share: one HTTPS client, the logged-in tenants, and the target's extras.

    ``token`` (and ``other_token``, when a second tenant is configured) come from logins made
    before any cassette is open. ``record_delivery`` is set by the recorder for each cassette.
    """

    client: httpx.Client
    account: Account
    token: str
    other_token: str | None = None
    clock: TestClock | None = None
    bulk_limit: int = 10
    receiver: WebhookReceiver | None = None
    samples: Samples = DEFAULT_SAMPLES  # the test data of the jobs and webhooks the tour creates
    served_on: date | None = None  # the target's date, from the Date header of its last answer
    complete_contract: bool = True  # the contract in force declares every method served (not a user's)
    record_delivery: Callable[[Delivery], None] = lambda _delivery: None
    flow: str = ""
    _created: list[str] = field(default_factory=list, init=False)  # paths to DELETE at cleanup

    # -- requests ------------------------------------------------------------------------------
    def call(
        self,
        step: str,
        method: str,
        path: str,
        expect: Collection[int],
        *,
        token: str | None = None,
        api_key: str | None = None,
        json: Any = None,
        content: bytes | None = None,
        params: dict[str, str] | None = None,
    ) -> httpx.Response:
        """Send one request; raise :class:`TourError` unless its status is in ``expect``."""
        headers = {}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        if api_key is not None:
            headers["X-API-Key"] = api_key
        if content is not None:
            headers["Content-Type"] = "application/json"
        try:
            response = self.client.request(
                method, path, headers=headers, json=json, content=content, params=params
            )
        except httpx.ConnectError as error:
            raise unreachable(str(self.client.base_url), error) from None
        except httpx.HTTPError as error:
            raise TourError(f"{self.flow} flow, {step}: {method} {path} failed: {error}") from None
        self.served_on = today_from_http_date(response.headers.get("Date")) or self.served_on
        if response.status_code not in expect:
            raise TourError(self._unexpected(step, method, path, response, expect))
        return response

    def _unexpected(
        self, step: str, method: str, path: str, response: httpx.Response, expect: Collection[int]
    ) -> str:
        wanted = "2xx" if set(expect) == SUCCESS else " or ".join(str(status) for status in sorted(expect))
        message = (
            f"{self.flow} flow, {step}: {method} {path} answered {response.status_code}, expected {wanted}"
        )
        if response.status_code == 429:
            wait = response.headers.get("Retry-After", "?")
            message += f"; the target's quota is spent: wait {wait} s (or a minute) and record again"
        return message

    def bearer(
        self, step: str, method: str, path: str, expect: Collection[int], **kwargs: Any
    ) -> httpx.Response:
        """:meth:`call` as the primary tenant's admin."""
        return self.call(step, method, path, expect, token=self.token, **kwargs)

    def job(self, **changes: Any) -> dict[str, Any]:
        """A sample ``JobCreate`` body scheduled a few days after the target's today (as its last
        answer dated it; this machine's UTC date before any), with ``changes`` on top."""
        return self.samples.job(self.served_on or local_today(), **changes)

    def create(self, step: str, path: str, body: Any, delete_path: str) -> dict[str, Any]:
        """POST ``body`` as the admin (expects a 2xx), and remember to DELETE ``delete_path`` + id."""
        created: dict[str, Any] = self.bearer(step, "POST", path, SUCCESS, json=body).json()
        self.remember(f"{delete_path}/{created['id']}")
        return created

    def delete(self, step: str, path: str) -> None:
        """DELETE ``path`` as the admin (expects a 2xx) and forget it."""
        self.bearer(step, "DELETE", path, SUCCESS)
        self._created = [created for created in self._created if created != path]

    def remember(self, path: str) -> None:
        """Delete ``path`` at :meth:`cleanup` unless the flow deletes it itself."""
        self._created.append(path)

    def cleanup(self) -> None:
        """Delete what the flow created and did not delete itself (after a failed step)."""
        for path in reversed(self._created):
            with contextlib.suppress(SergioKitError):
                self.bearer("cleanup", "DELETE", path, SUCCESS | {404})
        self._created.clear()


# -- the flows, in recording order ----------------------------------------------------------------


def auth_flow(tour: Tour) -> None:
    """Login, a wrong password, a refresh (rotating the refresh token or not: the published refresh
    answers {token, expires_at}), the refreshed token at work, logout, a dead refresh."""
    account = tour.account
    login = tour.call(
        "log in", "POST", "/v1/auth/login", {200}, json={"email": account.email, "password": account.password}
    ).json()
    tour.call(
        "log in with a wrong password",
        "POST",
        "/v1/auth/login",
        {401},
        json={"email": account.email, "password": WRONG_PASSWORD},
    )
    rotated = tour.call(
        "refresh",
        "POST",
        "/v1/auth/refresh",
        {200},
        json={"refresh_token": login["refresh_token"]},
    ).json()
    tour.call(
        "use the refreshed token", "GET", "/v1/jobs", {200}, token=rotated["token"], params={"limit": "1"}
    )
    body = {"refresh_token": rotated.get("refresh_token") or login["refresh_token"]}  # rotated, or kept
    tour.call("log out", "POST", "/v1/auth/logout", SUCCESS, token=rotated["token"], json=body)
    tour.call("refresh after logout", "POST", "/v1/auth/refresh", {401}, json=body)


def jobs_flow(tour: Tour) -> None:
    """Create two jobs, page through the list with a cursor, get, patch, 422, 404s, delete."""
    first = tour.create("create a job", "/v1/jobs", tour.job(notes="sergio-kit tour: first"), "/v1/jobs")
    second = tour.create(
        "create a 2nd job", "/v1/jobs", tour.job(notes="sergio-kit tour: second"), "/v1/jobs"
    )
    page = tour.bearer("list jobs", "GET", "/v1/jobs", {200}, params={"limit": "1"}).json()
    if not page.get("next_cursor"):
        raise TourError("jobs flow, list jobs: limit=1 with two jobs gave no next_cursor")
    tour.bearer(
        "list the next page", "GET", "/v1/jobs", {200}, params={"limit": "1", "cursor": page["next_cursor"]}
    )
    path = f"/v1/jobs/{first['id']}"
    tour.bearer("get a job", "GET", path, SUCCESS)
    tour.bearer("patch a job", "PATCH", path, SUCCESS, json={"notes": "sergio-kit tour: rescheduled"})
    tour.bearer("create an invalid job", "POST", "/v1/jobs", {422}, json={"customer_id": "cust_def456"})
    if tour.other_token is not None:
        tour.call("get it as the other company", "GET", path, {403, 404}, token=tour.other_token)
    tour.delete("delete a job", path)
    tour.delete("delete the 2nd job", f"/v1/jobs/{second['id']}")
    tour.bearer("get a deleted job", "GET", path, {404})


def bulk_flow(tour: Tour) -> None:
    """One bulk create: two valid jobs and one invalid item reported by index; then delete both."""
    jobs = [tour.job(notes="sergio-kit tour: bulk 1"), tour.job(notes="sergio-kit tour: bulk 2")]
    body = {"jobs": [*jobs, {"customer_id": "cust_def456"}]}
    result = tour.bearer("bulk create", "POST", "/v1/jobs/bulk", SUCCESS, json=body).json()
    for job in result["created"]:
        tour.remember(f"/v1/jobs/{job['id']}")
    for number, job in enumerate(result["created"], start=1):
        tour.delete(f"delete bulk job {number}", f"/v1/jobs/{job['id']}")


def webhooks_flow(tour: Tour) -> None:
    """Register the kit's receiver, list, create a job, record its signed delivery, delete both."""
    url = tour.receiver.url if tour.receiver is not None else tour.samples.webhook_sink
    body = {"url": url, "events": ["job.created"]}
    webhook = tour.create("register a webhook", "/v1/webhooks", body, "/v1/webhooks")
    tour.bearer("list webhooks", "GET", "/v1/webhooks", SUCCESS)
    if tour.receiver is not None:
        tour.receiver.clear()
    job = tour.create(
        "create a job (event)", "/v1/jobs", tour.job(notes="sergio-kit tour: webhook"), "/v1/jobs"
    )
    if tour.receiver is not None:
        try:
            delivery = next(d for d in tour.receiver.wait_for(1, DELIVERY_TIMEOUT) if d.accepted)
        except (TimeoutError, StopIteration):
            raise TourError(
                f"webhooks flow: no job.created delivery reached the receiver within {DELIVERY_TIMEOUT:.0f} s"
            ) from None
        tour.record_delivery(delivery)
    tour.delete("delete the job", f"/v1/jobs/{job['id']}")
    tour.delete("delete the webhook", f"/v1/webhooks/{webhook['id']}")


def api_keys_flow(tour: Tour) -> None:
    """Create a key, list keys, rotate it, revoke it."""
    body = {"name": "sergio-kit tour key", "scopes": ["jobs:read"]}
    key = tour.create("create an API key", "/v1/api-keys", body, "/v1/api-keys")
    tour.bearer("list API keys", "GET", "/v1/api-keys", SUCCESS)
    tour.bearer("rotate the key", "POST", f"/v1/api-keys/{key['id']}/rotate", SUCCESS)
    tour.delete("revoke the key", f"/v1/api-keys/{key['id']}")


def zapier_flow(tour: Tour) -> None:
    """Zapier with a read+write key: me, create-job, new-job trigger; 401 without a key, 403 read-only."""
    full = tour.create(
        "create a read+write key",
        "/v1/api-keys",
        {"name": "sergio-kit tour zapier", "scopes": ["jobs:read", "jobs:write"]},
        "/v1/api-keys",
    )
    read_only = tour.create(
        "create a read-only key",
        "/v1/api-keys",
        {"name": "sergio-kit tour read-only", "scopes": ["jobs:read"]},
        "/v1/api-keys",
    )
    tour.call("connection test", "GET", "/zapier/v1/me", SUCCESS, api_key=full["key"])
    body = tour.job(notes="sergio-kit tour: zapier")
    job = tour.call(
        "create-job action", "POST", "/zapier/v1/actions/create-job", SUCCESS, api_key=full["key"], json=body
    )
    tour.remember(f"/v1/jobs/{job.json()['id']}")
    tour.call("new-job trigger", "GET", "/zapier/v1/triggers/new-job", SUCCESS, api_key=full["key"])
    tour.call("connection test without a key", "GET", "/zapier/v1/me", {401})
    tour.call(
        "create-job with a read-only key",
        "POST",
        "/zapier/v1/actions/create-job",
        {403},
        api_key=read_only["key"],
        json=body,
    )
    tour.delete("delete the job", f"/v1/jobs/{job.json()['id']}")
    tour.delete("revoke the read-only key", f"/v1/api-keys/{read_only['id']}")
    tour.delete("revoke the read+write key", f"/v1/api-keys/{full['id']}")


def ratelimit_flow(tour: Tour) -> None:
    """Spend the bulk tier (one job per request) until a 429 with Retry-After; then delete the jobs.

    With a test clock the window is made fresh first and the Retry-After wait is skipped by moving
    the clock; the clock calls are not recorded.
    """
    if tour.clock is not None:
        tour.clock.advance(FRESH_WINDOW_SECONDS)
    throttled, created = None, []
    for number in range(1, tour.bulk_limit + 2):
        body = {"jobs": [tour.job(notes=f"sergio-kit tour: quota {number}")]}
        response = tour.bearer(f"bulk request {number}", "POST", "/v1/jobs/bulk", SUCCESS | {429}, json=body)
        if response.status_code == 429:
            throttled = response
            break
        for job in response.json()["created"]:
            created.append(f"/v1/jobs/{job['id']}")
            tour.remember(created[-1])
    if throttled is None:
        raise TourError(
            f"ratelimit flow: {tour.bulk_limit + 1} bulk requests in a row were admitted, expected a 429 "
            f"after {tour.bulk_limit}; if the target's bulk quota differs, set SERGIO_TIER_LIMITS=bulk=N"
        )
    retry_after = throttled.headers.get("Retry-After")
    wait = retry_after_or_none(retry_after, throttled.headers.get("Date"))
    if wait is None:
        raise TourError(f"ratelimit flow: the 429 has no usable Retry-After (got {retry_after!r})")
    if tour.clock is not None:
        tour.clock.advance(max(math.ceil(wait), 0))
    for number, path in enumerate(created, start=1):
        tour.delete(f"delete quota job {number}", path)


def health_flow(tour: Tour) -> None:
    """The health check, without credentials."""
    tour.call("health", "GET", "/v1/health", {200})


def keys_flow(tour: Tour) -> None:
    """The public key set that verifies access tokens, without credentials."""
    tour.call("key set", "GET", "/.well-known/jwks.json", {200})


def errors_flow(tour: Tour) -> None:
    """An undeclared method (405 with Allow; only when the contract in force is complete: a user's
    contract may leave out methods the deployment serves), malformed JSON (400), no bearer token (401)."""
    if tour.complete_contract:
        response = tour.bearer("undeclared method", "PUT", "/v1/jobs", {405})
        if not response.headers.get("Allow"):
            raise TourError("errors flow, undeclared method: the 405 has no Allow header")
    tour.bearer("malformed JSON", "POST", "/v1/jobs", {400}, content=b'{"customer_id": "cust_def456",')
    tour.call("no bearer token", "GET", "/v1/jobs", {401})


Flow = Callable[[Tour], None]

#: The flows in recording order; each one is recorded into ``<name>.yaml``.
FLOWS: tuple[tuple[str, Flow], ...] = (
    ("auth", auth_flow),
    ("jobs", jobs_flow),
    ("bulk", bulk_flow),
    ("webhooks", webhooks_flow),
    ("api-keys", api_keys_flow),
    ("zapier", zapier_flow),
    ("ratelimit", ratelimit_flow),
    ("health", health_flow),
    ("keys", keys_flow),
    ("errors", errors_flow),
)

_JOB_ITEM = ("GET /v1/jobs/{job_id}", "PATCH /v1/jobs/{job_id}", "DELETE /v1/jobs/{job_id}")
_KEY_ITEM = ("POST /v1/api-keys/{key_id}/rotate", "DELETE /v1/api-keys/{key_id}")

#: Every operation each flow sends (``METHOD /path``); a flow runs only when the contract declares all.
FLOW_OPERATIONS: dict[str, tuple[str, ...]] = {
    "auth": ("POST /v1/auth/login", "POST /v1/auth/refresh", "GET /v1/jobs", "POST /v1/auth/logout"),
    "jobs": ("POST /v1/jobs", "GET /v1/jobs", *_JOB_ITEM),
    "bulk": ("POST /v1/jobs/bulk", "DELETE /v1/jobs/{job_id}"),
    "webhooks": (
        "POST /v1/webhooks",
        "GET /v1/webhooks",
        "POST /v1/jobs",
        "DELETE /v1/jobs/{job_id}",
        "DELETE /v1/webhooks/{webhook_id}",
    ),
    "api-keys": ("POST /v1/api-keys", "GET /v1/api-keys", *_KEY_ITEM),
    "zapier": (
        "POST /v1/api-keys",
        "DELETE /v1/api-keys/{key_id}",
        "GET /zapier/v1/me",
        "POST /zapier/v1/actions/create-job",
        "GET /zapier/v1/triggers/new-job",
        "DELETE /v1/jobs/{job_id}",
    ),
    "ratelimit": ("POST /v1/jobs/bulk", "DELETE /v1/jobs/{job_id}"),
    "health": ("GET /v1/health",),
    "keys": ("GET /.well-known/jwks.json",),
    "errors": ("GET /v1/jobs", "POST /v1/jobs"),
}


def flows_for(contract: Contract) -> tuple[list[tuple[str, Flow]], dict[str, list[str]]]:
    """The flows ``contract`` allows, in recording order, and each left-out flow's missing operations."""
    kept: list[tuple[str, Flow]] = []
    left_out: dict[str, list[str]] = {}
    for name, flow in FLOWS:
        missing = [label for label in FLOW_OPERATIONS[name] if not contract.offers(label)]
        if missing:
            left_out[name] = missing
        else:
            kept.append((name, flow))
    return kept, left_out
