"""``contract.stateful``, walked deterministically: every flow the contract's links describe.

The Hypothesis state machine in ``test_contract.py`` explores link sequences at random and can miss
one; these flows walk each link once, validate every response against the contract, and check the
state the link promises (a deleted job is gone, a rotated refresh token is new and works, ...).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from sergio_kit.checks.contract.wiring import load_contract
from sergio_kit.contract.samples import example_job
from sergio_kit.suite.test_contract import contract_basis  # noqa: F401  (autouse: basis "contract")
from sergio_kit.target.session import TokenSession
from sergio_kit.target.target import Target
from sergio_kit.target.throttling import Throttle

pytestmark = pytest.mark.contract
JOB = example_job()


class Flow:
    """Sends one request per step, waits out 429s, and validates each response against the contract."""

    def __init__(self, target: Target, throttle: Throttle, session: TokenSession) -> None:
        self._client = httpx.Client(base_url=target.base_url, verify=target.ssl_context(), timeout=30.0)
        self._throttle = throttle
        self._session = session
        self._schema = load_contract()

    def step(
        self, operation_id: str, path: str, *, json: Any = None, token: str | None = None
    ) -> httpx.Response:
        """Call ``operation_id`` at ``path`` and check the response against the contract."""
        operation = self._schema.find_operation_by_id(operation_id)
        headers = {"Authorization": f"Bearer {token or self._session.token()}"}
        if "security" in operation.definition.raw and not operation.definition.raw["security"]:
            headers = {}
        response = self._throttle.send(
            operation.label,
            lambda: self._client.request(operation.method.upper(), path, json=json, headers=headers),
            lambda r: (r.status_code, r.headers),
        )
        operation.validate_response(response)
        return response

    def close(self) -> None:
        """Close the HTTP connection."""
        self._client.close()


@pytest.fixture
def flow(sergio_target: Target, sergio_throttle: Throttle, sergio_session: TokenSession) -> Iterator[Flow]:
    """A :class:`Flow` against the target."""
    walker = Flow(sergio_target, sergio_throttle, sergio_session)
    yield walker
    walker.close()


@pytest.mark.sergio_check("contract.stateful")
def test_links_job_lifecycle(flow: Flow) -> None:
    """create job → GetJob, UpdateJob, DeleteJob links → GetDeletedJob is 404."""
    created = flow.step("createJob", "/v1/jobs", json=JOB)
    assert created.status_code == 201, f"createJob answered {created.status_code}"
    job_id = created.json()["id"]
    fetched = flow.step("getJob", f"/v1/jobs/{job_id}")
    assert fetched.status_code == 200 and fetched.json()["id"] == job_id, "GetJob link: the created job"
    updated = flow.step("updateJob", f"/v1/jobs/{job_id}", json={"status": "completed"})
    assert updated.status_code == 200 and updated.json()["status"] == "completed", "UpdateJob link"
    deleted = flow.step("deleteJob", f"/v1/jobs/{job_id}")
    assert deleted.status_code == 204, f"DeleteJob link answered {deleted.status_code}"
    gone = flow.step("getJob", f"/v1/jobs/{job_id}")
    assert gone.status_code == 404, f"GetDeletedJob: a deleted job answered {gone.status_code}, expected 404"


@pytest.mark.sergio_check("contract.stateful")
def test_links_login_refresh(flow: Flow, sergio_target: Target) -> None:
    """login → RefreshWithToken → RefreshAgain: each refresh rotates the token and the new one works."""
    account = sergio_target.account
    login = flow.step("login", "/v1/auth/login", json={"email": account.email, "password": account.password})
    assert login.status_code == 200, f"login answered {login.status_code}"
    pair = login.json()
    refreshed = flow.step("refreshToken", "/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 200, f"RefreshWithToken answered {refreshed.status_code}"
    rotated = refreshed.json()
    assert rotated["refresh_token"] != pair["refresh_token"], "refresh did not rotate the refresh token"
    used = flow.step("listJobs", "/v1/jobs", token=rotated["token"])
    assert used.status_code == 200, f"the refreshed token was refused ({used.status_code})"
    again = flow.step("refreshToken", "/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]})
    assert again.status_code == 200, f"RefreshAgain answered {again.status_code}"
    logout = flow.step("logout", "/v1/auth/logout", json={"refresh_token": again.json()["refresh_token"]})
    assert logout.status_code == 204, f"LogoutWithToken answered {logout.status_code}"


@pytest.mark.sergio_check("contract.stateful")
def test_links_webhook_and_api_key(flow: Flow) -> None:
    """Webhook → DeleteWebhook; API key → RotateApiKey, RevokeApiKey → RotateRevokedApiKey is 404."""
    webhook = flow.step(
        "createWebhook", "/v1/webhooks", json={"url": "https://127.0.0.1:9/sergio", "events": ["job.created"]}
    )
    assert webhook.status_code == 201, f"createWebhook answered {webhook.status_code}"
    removed = flow.step("deleteWebhook", f"/v1/webhooks/{webhook.json()['id']}")
    assert removed.status_code == 204, f"DeleteWebhook link answered {removed.status_code}"
    key = flow.step(
        "createApiKey", "/v1/api-keys", json={"name": "sergio-kit links", "scopes": ["jobs:read"]}
    )
    assert key.status_code == 201, f"createApiKey answered {key.status_code}"
    key_id = key.json()["id"]
    rotated = flow.step("rotateApiKey", f"/v1/api-keys/{key_id}/rotate")
    assert rotated.status_code == 200, f"RotateApiKey link answered {rotated.status_code}"
    revoked = flow.step("revokeApiKey", f"/v1/api-keys/{key_id}")
    assert revoked.status_code == 204, f"RevokeApiKey link answered {revoked.status_code}"
    gone = flow.step("rotateApiKey", f"/v1/api-keys/{key_id}/rotate")
    assert gone.status_code == 404, f"RotateRevokedApiKey: a revoked key answered {gone.status_code}"
