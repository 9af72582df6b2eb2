"""Example: your own pytest checks against Sergio, using the sergio-kit plugin's fixtures.

Run: ``pytest examples/test_my_sergio_checks.py`` (embedded server) or add
``--sergio-base-url https://staging.example --sergio-ca-bundle ca.pem`` with SERGIO_EMAIL and
SERGIO_PASSWORD set to check a real deployment.
"""

from __future__ import annotations

import httpx

from sergio_kit import Target, TokenSession


def test_jobs_list_is_a_page(sergio_target: Target, sergio_session: TokenSession) -> None:
    """GET /v1/jobs answers a page: a data array and a next_cursor."""
    with httpx.Client(base_url=sergio_target.base_url, verify=sergio_target.ssl_context()) as client:
        response = client.get("/v1/jobs", headers={"Authorization": f"Bearer {sergio_session.token()}"})
    assert response.status_code == 200
    page = response.json()
    assert isinstance(page["data"], list)
    assert "next_cursor" in page


def test_health_needs_no_token(sergio_target: Target) -> None:
    """GET /v1/health answers without a bearer token."""
    with httpx.Client(base_url=sergio_target.base_url, verify=sergio_target.ssl_context()) as client:
        assert client.get("/v1/health").json()["status"] == "ok"
