"""What every group of fault probes shares: warm async clients, a frozen clock, and assertions that
say what was sent and what came back (the HTTPS client is :func:`tests.support.api.client_for`)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from contextlib import AsyncExitStack, contextmanager
from typing import Any

import httpx

from sergio_kit.target.clock import TestClock
from sergio_kit.target.embedded import RunningServer
from tests.support.api import bearer, login

#: ``probe(server, clock)``: returns when ``server`` keeps the rule, raises ``AssertionError`` when not.
Probe = Callable[[RunningServer, TestClock], None]

UNREACHABLE_HOOK = "https://127.0.0.1:9/sergio-kit-probe"  # loopback discard port: nothing listens


@contextmanager
def frozen(clock: TestClock) -> Iterator[float]:
    """Freeze the server clock for the block; yield the frozen instant."""
    now = clock.freeze()
    try:
        yield now
    finally:
        clock.unfreeze()


def shown(response: httpx.Response) -> str:
    """``METHOD /path -> status 'body...'``, for assertion messages."""
    request = response.request
    return f"{request.method} {request.url.path} -> {response.status_code} {response.text[:300]!r}"


def expect(response: httpx.Response, status: int | tuple[int, ...], what: str) -> None:
    """Assert that ``response`` has ``status`` (or one of them)."""
    allowed = (status,) if isinstance(status, int) else status
    assert response.status_code in allowed, (
        f"{what}: expected {'/'.join(map(str, allowed))}, got {shown(response)}"
    )


def json_of(response: httpx.Response, what: str) -> Any:
    """The JSON body of ``response``; an assertion error when it is not JSON."""
    try:
        return response.json()
    except ValueError:
        raise AssertionError(f"{what}: the body is not JSON: {shown(response)}") from None


def expect_error(response: httpx.Response, status: int, code: str, what: str) -> None:
    """Assert ``status`` and the API's error shape with ``code`` and a message."""
    expect(response, status, what)
    body = json_of(response, what)
    error = body.get("error") if isinstance(body, dict) else None
    assert isinstance(error, dict) and error.get("code") == code and isinstance(error.get("message"), str), (
        f"{what}: expected the error shape with code {code!r}, got {shown(response)}"
    )


def session_of(client: httpx.Client, user: dict[str, Any], what: str) -> dict[str, Any]:
    """Log in; assert the response has token, refresh_token and expires_at, and return it."""
    data = login(client, user)
    for name in ("token", "refresh_token", "expires_at"):
        assert isinstance(data.get(name), str), f"{what}: login response lacks {name!r}: {sorted(data)}"
    return data


def token_of(client: httpx.Client, user: dict[str, Any], what: str) -> str:
    """Log in; return the access token."""
    data = login(client, user)
    assert isinstance(data.get("token"), str), f"{what}: login response lacks 'token': {sorted(data)}"
    return str(data["token"])


def _list_jobs(client: httpx.Client, token: str) -> httpx.Response:
    return client.get("/v1/jobs", params={"limit": 1}, headers=bearer(token))


def accepted(client: httpx.Client, token: str, what: str) -> None:
    """Assert that ``token`` is accepted as a bearer token (GET /v1/jobs answers 200)."""
    expect(_list_jobs(client, token), 200, f"{what} (GET /v1/jobs)")


def refused(client: httpx.Client, token: str, what: str) -> None:
    """Assert that ``token`` is refused as a bearer token: 401 with an invalid_token challenge."""
    response = _list_jobs(client, token)
    expect_error(response, 401, "unauthorized", f"{what} (GET /v1/jobs)")
    challenge = response.headers.get("WWW-Authenticate", "")
    assert 'error="invalid_token"' in challenge, (
        f"{what}: 401 without an invalid_token challenge: {challenge!r}"
    )


async def warm_clients(server: RunningServer, stack: AsyncExitStack, count: int) -> list[httpx.AsyncClient]:
    """``count`` async clients, each with its own open connection, so a burst needs no handshakes."""
    context = server.ssl_context()
    clients = [
        await stack.enter_async_context(
            httpx.AsyncClient(base_url=server.base_url, verify=context, timeout=30.0)
        )
        for _ in range(count)
    ]
    # OPTIONS is answered 405 before authentication and rate limiting: it only opens the connection.
    await asyncio.gather(*(client.options("/v1/health") for client in clients))
    return clients
