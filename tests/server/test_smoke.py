"""The reference server answers over HTTPS with the seeded accounts."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.api import JOB, bearer, login


def test_login_then_create_and_read_a_job(api: httpx.Client, accounts: dict[str, Any]) -> None:
    """A seeded admin logs in, creates a job and reads it back."""
    token = login(api, accounts["acme"]["admin"])["token"]
    created = api.post("/v1/jobs", json=JOB, headers=bearer(token))
    assert created.status_code == 201
    fetched = api.get(f"/v1/jobs/{created.json()['id']}", headers=bearer(token))
    assert fetched.json() == created.json()
