"""HTTPS only: the plain-HTTP listener refuses everything, and TLS is verified against the test CA."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from sergio_kit.contract.document import Operation, operations
from sergio_kit.target.embedded import RunningServer
from tests.support.api import JOB, bearer, login

PATH_VALUES = {
    "job_id": "job_0123456789abcdef",
    "webhook_id": "whk_0123456789abcdef",
    "key_id": "key_0123456789ab",
}
BODIES: dict[str, Any] = {
    "createJob": JOB,
    "zapierCreateJob": JOB,
    "bulkCreateJobs": {"jobs": [JOB]},
    "updateJob": {"status": "completed"},
    "createWebhook": {"url": "https://hooks.example.com/sergio", "events": ["job.created"]},
    "createApiKey": {"name": "zap", "scopes": ["jobs:read"]},
}
OPERATIONS = operations()


@pytest.fixture
def plain(server: RunningServer) -> Iterator[httpx.Client]:
    """A client of the clean server's plain-HTTP listener (redirects are not followed)."""
    assert server.http_url, "the session server must open its plain-HTTP listener"
    with httpx.Client(base_url=server.http_url, timeout=15.0, follow_redirects=False) as client:
        yield client


def assert_https_required(response: httpx.Response) -> None:
    """403 https_required with the error shape: no success, no redirect, no token, no data."""
    assert response.status_code == 403, response.text
    assert "location" not in response.headers
    assert response.json() == {
        "error": {"code": "https_required", "message": response.json()["error"]["message"]}
    }
    assert "eyJ" not in response.text  # no JWT anywhere


@pytest.mark.parametrize("operation", OPERATIONS, ids=[op.operation_id for op in OPERATIONS])
def test_every_operation_over_plain_http_is_refused(
    plain: httpx.Client, api: httpx.Client, accounts: dict[str, Any], operation: Operation
) -> None:
    """Each contract operation over plain HTTP, with valid credentials and body → 403 https_required."""
    token = login(api, accounts["acme"]["admin"])
    headers = {**bearer(token["token"]), "X-API-Key": accounts["acme"]["keys"]["jobs:read,jobs:write"]}
    body = BODIES.get(operation.operation_id)
    if operation.operation_id == "login":
        body = {k: accounts["acme"]["admin"][k] for k in ("email", "password")}
    elif operation.operation_id in ("refreshToken", "logout"):
        body = {"refresh_token": token["refresh_token"]}
    path = operation.path.format(**PATH_VALUES)
    response = plain.request(operation.method, path, json=body, headers=headers)
    assert_https_required(response)


def test_valid_login_over_plain_http_issues_no_token(plain: httpx.Client, accounts: dict[str, Any]) -> None:
    """The right email and password over plain HTTP → 403 with no token, refresh token or expiry."""
    response = plain.post(
        "/v1/auth/login", json={k: accounts["acme"]["admin"][k] for k in ("email", "password")}
    )
    assert_https_required(response)
    assert not {"token", "refresh_token", "expires_at"} & set(response.json())
    assert "set-cookie" not in response.headers


@pytest.mark.parametrize("path", ["/", "/v1/nothing", "/v1/jobs/", "/_sergio/clock"])
def test_any_path_over_plain_http_is_refused(plain: httpx.Client, path: str) -> None:
    """Paths outside the contract (and the test clock) are refused the same way over plain HTTP."""
    assert_https_required(plain.get(path))


def test_plain_http_to_the_https_port_fails(server: RunningServer) -> None:
    """A plain-HTTP request sent to the HTTPS port gets no HTTP answer: the connection fails."""
    url = server.base_url.replace("https://", "http://", 1)
    with pytest.raises(httpx.TransportError):
        httpx.get(url + "/v1/health", timeout=5.0)


def test_client_without_the_test_ca_fails_the_handshake(server: RunningServer) -> None:
    """A client trusting only the system CAs refuses the server's certificate (httpx and raw ssl)."""
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(server.base_url + "/v1/health", verify=ssl.create_default_context(), timeout=5.0)
    address = urlsplit(server.base_url)
    assert address.hostname and address.port
    context = ssl.create_default_context()
    with (
        socket.create_connection((address.hostname, address.port), timeout=5.0) as raw,
        pytest.raises(ssl.SSLCertVerificationError),
    ):
        context.wrap_socket(raw, server_hostname=address.hostname)


def test_client_with_the_test_ca_verifies_host_and_chain(server: RunningServer) -> None:
    """Control: with the test CA the handshake verifies for the server's address, not for another name."""
    address = urlsplit(server.base_url)
    assert address.hostname and address.port
    with (
        socket.create_connection((address.hostname, address.port), timeout=5.0) as raw,
        server.ssl_context().wrap_socket(raw, server_hostname=address.hostname) as tls,
    ):
        assert tls.version() in ("TLSv1.2", "TLSv1.3")
        assert tls.getpeercert()
    with (
        socket.create_connection((address.hostname, address.port), timeout=5.0) as raw,
        pytest.raises(ssl.SSLCertVerificationError, match="mismatch"),
    ):
        server.ssl_context().wrap_socket(raw, server_hostname="api.sergio.app")
