"""``contract.stateful``, walked deterministically: every flow the contract's links describe.

The Hypothesis state machine in ``test_contract.py`` explores link sequences at random and can miss
one; these flows walk each link once, validate every response against the contract, and check the
state the link promises (a deleted job is gone, a rotated refresh token is new and works, ...). A
flow needs every operation it walks: when the contract in force lacks one, it is skipped naming it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sergio_kit.checks.contract.wiring import load_contract
from sergio_kit.suite.test_contract import (  # noqa: F401  (contract_basis: autouse, basis "contract")
    contract_basis,
    skip_unless_declared,
)
from sergio_kit.target.session import TokenSession
from sergio_kit.target.target import Target
from sergio_kit.target.throttling import Throttle

pytestmark = pytest.mark.contract
GET_JOB, UPDATE_JOB, DELETE_JOB = (f"{method} /v1/jobs/{{job_id}}" for method in ("GET", "PATCH", "DELETE"))
LOGIN, REFRESH, LOGOUT = (f"POST /v1/auth/{name}" for name in ("login", "refresh", "logout"))
ROTATE_KEY, REVOKE_KEY = "POST /v1/api-keys/{key_id}/rotate", "DELETE /v1/api-keys/{key_id}"


class Flow:
    """Sends one request per step, waits out 429s, and validates each response against the contract."""

    def __init__(self, target: Target, throttle: Throttle, session: TokenSession, context: Any) -> None:
        self._client = httpx.Client(base_url=target.base_url, verify=target.ssl_context(), timeout=30.0)
        self._throttle = throttle
        self._session = session
        self._context = context  # the checks' context: the run's spare logins
        self.contract = target.contract
        self._schema = load_contract(target.contract)

    def step(self, label: str, path: str, *, json: Any = None, token: str | None = None) -> httpx.Response:
        """Call the operation ``label`` (``"METHOD /template"``) at ``path`` and check the response
        against the contract."""
        method, _, template = label.partition(" ")
        operation = self._schema[template][method]
        headers = {"Authorization": f"Bearer {token or self._session.token()}"}
        if "security" in operation.definition.raw and not operation.definition.raw["security"]:
            headers = {}
        response = self._throttle.send(
            operation.label,
            lambda: self._client.request(operation.method.upper(), path, json=json, headers=headers),
            lambda r: (r.status_code, r.headers),
            headers=headers,
        )
        operation.validate_response(response)
        return response

    def login(self) -> httpx.Response:
        """The login step (the start of a refresh-token family): a spare login of the run when it has
        one, else a new one, checked against the contract like any step."""
        response: httpx.Response = self._context.login_response()
        self._schema["/v1/auth/login"]["POST"].validate_response(response)
        return response

    def close(self) -> None:
        """Close the HTTP connection."""
        self._client.close()


@pytest.fixture
def flow(
    sergio_target: Target, sergio_throttle: Throttle, sergio_session: TokenSession, sergio_check_context: Any
) -> Iterator[Flow]:
    """A :class:`Flow` against the target."""
    walker = Flow(sergio_target, sergio_throttle, sergio_session, sergio_check_context)
    yield walker
    walker.close()


@pytest.mark.sergio_check("contract.stateful")
def test_links_job_lifecycle(flow: Flow, sergio_target: Target) -> None:
    """create job → GetJob, UpdateJob, DeleteJob links → GetDeletedJob is 404."""
    skip_unless_declared(flow.contract, "POST /v1/jobs", GET_JOB, UPDATE_JOB, DELETE_JOB)
    job = sergio_target.samples.job(sergio_target.today())
    created = flow.step("POST /v1/jobs", "/v1/jobs", json=job)
    assert created.status_code == 201, f"createJob answered {created.status_code}"
    job_id = created.json()["id"]
    fetched = flow.step(GET_JOB, f"/v1/jobs/{job_id}")
    assert fetched.status_code == 200 and fetched.json()["id"] == job_id, "GetJob link: the created job"
    updated = flow.step(UPDATE_JOB, f"/v1/jobs/{job_id}", json={"status": "completed"})
    assert updated.status_code == 200 and updated.json()["status"] == "completed", "UpdateJob link"
    deleted = flow.step(DELETE_JOB, f"/v1/jobs/{job_id}")
    assert deleted.status_code == 204, f"DeleteJob link answered {deleted.status_code}"
    gone = flow.step(GET_JOB, f"/v1/jobs/{job_id}")
    assert gone.status_code == 404, f"GetDeletedJob: a deleted job answered {gone.status_code}, expected 404"


@pytest.mark.sergio_check("contract.stateful")
def test_links_login_refresh(flow: Flow, sergio_target: Target) -> None:
    """login → RefreshWithToken → RefreshAgain → LogoutWithToken (when declared): each refresh
    answers a token that works. Whether the refresh token rotates is ``refresh.rotation``'s rule."""
    skip_unless_declared(flow.contract, LOGIN, REFRESH, "GET /v1/jobs")
    login = flow.login()
    assert login.status_code == 200, f"login answered {login.status_code}"
    refresh_token = login.json()["refresh_token"]
    refreshed = flow.step(REFRESH, "/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert refreshed.status_code == 200, f"RefreshWithToken answered {refreshed.status_code}"
    refresh_token = refreshed.json().get("refresh_token", refresh_token)  # rotated, or still the same
    used = flow.step("GET /v1/jobs", "/v1/jobs", token=refreshed.json()["token"])
    assert used.status_code == 200, f"the refreshed token was refused ({used.status_code})"
    again = flow.step(REFRESH, "/v1/auth/refresh", json={"refresh_token": refresh_token})
    assert again.status_code == 200, f"RefreshAgain answered {again.status_code}"
    if flow.contract.offers(LOGOUT):
        body = {"refresh_token": again.json().get("refresh_token", refresh_token)}
        logout = flow.step(LOGOUT, "/v1/auth/logout", json=body)
        assert logout.status_code == 204, f"LogoutWithToken answered {logout.status_code}"


@pytest.mark.sergio_check("contract.stateful")
def test_links_webhook(flow: Flow, sergio_target: Target) -> None:
    """Webhook → DeleteWebhook."""
    skip_unless_declared(flow.contract, "POST /v1/webhooks", "DELETE /v1/webhooks/{webhook_id}")
    body = sergio_target.samples.webhook(["job.created"])
    webhook = flow.step("POST /v1/webhooks", "/v1/webhooks", json=body)
    assert webhook.status_code == 201, f"createWebhook answered {webhook.status_code}"
    removed = flow.step("DELETE /v1/webhooks/{webhook_id}", f"/v1/webhooks/{webhook.json()['id']}")
    assert removed.status_code == 204, f"DeleteWebhook link answered {removed.status_code}"


@pytest.mark.sergio_check("contract.stateful")
def test_links_api_key(flow: Flow) -> None:
    """API key → RotateApiKey, RevokeApiKey → RotateRevokedApiKey is 404."""
    skip_unless_declared(flow.contract, "POST /v1/api-keys", ROTATE_KEY, REVOKE_KEY)
    body = {"name": "sergio-kit links", "scopes": ["jobs:read"]}
    key = flow.step("POST /v1/api-keys", "/v1/api-keys", json=body)
    assert key.status_code == 201, f"createApiKey answered {key.status_code}"
    key_id = key.json()["id"]
    rotated = flow.step(ROTATE_KEY, f"/v1/api-keys/{key_id}/rotate")
    assert rotated.status_code in (200, 201), f"RotateApiKey link answered {rotated.status_code}"
    revoked = flow.step(REVOKE_KEY, f"/v1/api-keys/{key_id}")
    assert revoked.status_code == 204, f"RevokeApiKey link answered {revoked.status_code}"
    gone = flow.step(ROTATE_KEY, f"/v1/api-keys/{key_id}/rotate")
    assert gone.status_code == 404, f"RotateRevokedApiKey: a revoked key answered {gone.status_code}"
