"""The sergio-kit pytest plugin: the ``sergio`` option group and the target fixtures.

Registered through the ``pytest11`` entry point, so any test repository that installs sergio-kit
gets these options and fixtures. Without ``--sergio-base-url`` the fixtures start the embedded
reference server (TLS on loopback, test clock on) for the session. Heavy imports (schemathesis,
locust) stay off this module's import path.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from sergio_kit.clock_client import TestClock
from sergio_kit.embedded import RunningServer, start_server
from sergio_kit.errors import SergioKitError
from sergio_kit.session import TokenSession
from sergio_kit.target import Account, Target
from sergio_kit.throttling import Throttle

EMBEDDED_SERVER_KEY = pytest.StashKey[RunningServer]()
CHECK_MARKER = "sergio_check"
MAX_EXAMPLES_ENV = "SERGIO_MAX_EXAMPLES"
DEFAULT_MAX_EXAMPLES = 25


def max_examples() -> int:
    """Hypothesis examples per operation: ``--sergio-max-examples`` or ``SERGIO_MAX_EXAMPLES``, else 25."""
    value = os.environ.get(MAX_EXAMPLES_ENV, "")
    return int(value) if value.isdigit() and int(value) > 0 else DEFAULT_MAX_EXAMPLES


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``sergio`` option group; every option defaults to ``None`` (not given)."""
    group = parser.getgroup("sergio", "sergio-kit: the Sergio API target")
    group.addoption(
        "--sergio-base-url",
        default=None,
        help="HTTPS base URL of the Sergio target (default: SERGIO_BASE_URL, else start the embedded "
        "reference server on loopback).",
    )
    group.addoption(
        "--sergio-ca-bundle",
        default=None,
        help="PEM file of the CA that signed the target's certificate (default: SERGIO_CA_BUNDLE, "
        "else the system trust store). Certificates are always verified.",
    )
    group.addoption("--sergio-email", default=None, help="login email (default: SERGIO_EMAIL).")
    group.addoption("--sergio-password", default=None, help="login password (default: SERGIO_PASSWORD).")
    group.addoption(
        "--sergio-max-examples",
        type=int,
        default=None,
        help="Hypothesis examples per operation in the contract run (default: SERGIO_MAX_EXAMPLES, else 25).",
    )
    group.addoption(
        "--sergio-embedded-fault",
        action="append",
        default=None,
        metavar="CHECK_ID",
        help="start the embedded server with this fault, to watch a check fail (repeatable).",
    )


def pytest_configure(config: pytest.Config) -> None:
    """Declare the marker that names the check a test implements; pass on the example budget."""
    config.addinivalue_line("markers", f"{CHECK_MARKER}(check_id): the sergio-kit check id a test implements")
    max_examples = config.getoption("sergio_max_examples", None)
    if max_examples is not None:
        os.environ[MAX_EXAMPLES_ENV] = str(max_examples)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Record each test's check id as a user property (it reaches reports and JUnit XML)."""
    for item in items:
        marker = item.get_closest_marker(CHECK_MARKER)
        if marker is not None:
            item.user_properties.append(("check_id", marker.args[0]))


def pytest_report_header(config: pytest.Config) -> str:
    """Show the target in pytest's header."""
    base_url = _option(config, "base_url", "SERGIO_BASE_URL")
    return f"sergio-kit target: {base_url or 'embedded reference server'}"


def pytest_unconfigure(config: pytest.Config) -> None:
    """Stop the embedded server if this session started one."""
    server = config.stash.get(EMBEDDED_SERVER_KEY, None)
    if server is not None:
        server.stop()


def _option(config: pytest.Config, name: str, env: str) -> Any:
    value = config.getoption(f"sergio_{name}")
    return value if value is not None else os.environ.get(env)


@pytest.fixture(scope="session")
def sergio_target(request: pytest.FixtureRequest) -> Iterator[Target]:
    """The target under test: a live deployment, or the embedded reference server."""
    config = request.config
    base_url = _option(config, "base_url", "SERGIO_BASE_URL")
    if base_url:
        yield _live_target(config, base_url)
        return
    data_dir = Path(tempfile.mkdtemp(prefix="sergio-embedded-"))
    server = start_server(data_dir, faults=config.getoption("sergio_embedded_fault") or ())
    config.stash[EMBEDDED_SERVER_KEY] = server
    admin = server.credentials()["companies"][0]["users"][0]
    assert server.clock_url and server.clock_token
    clock = TestClock(server.clock_url, server.clock_token, server.ssl_context())
    clock.now()
    yield Target(
        base_url=server.base_url,
        account=Account(admin["email"], admin["password"]),
        ca_bundle=server.ca_cert,
        http_url=server.http_url,
        clock=clock,
        embedded=True,
    )
    clock.close()


def _live_target(config: pytest.Config, base_url: str) -> Target:
    if not base_url.startswith("https://"):
        raise SergioKitError(f"base URL {base_url!r} is not https://: the Sergio API is HTTPS only")
    email = _option(config, "email", "SERGIO_EMAIL")
    password = _option(config, "password", "SERGIO_PASSWORD")
    if not email or not password:
        raise SergioKitError("a live target needs credentials: set SERGIO_EMAIL and SERGIO_PASSWORD")
    ca_bundle = _option(config, "ca_bundle", "SERGIO_CA_BUNDLE")
    if ca_bundle and not Path(ca_bundle).is_file():
        raise SergioKitError(f"CA bundle {ca_bundle!r} does not exist: pass a PEM file")
    return Target(
        base_url=base_url.rstrip("/"),
        account=Account(email, password),
        ca_bundle=Path(ca_bundle) if ca_bundle else None,
    )


@pytest.fixture(scope="session")
def sergio_throttle(sergio_target: Target) -> Throttle:
    """Retry-on-429 for the kit's own traffic, with per-operation throttled counts."""
    return Throttle(sergio_target.clock)


@pytest.fixture(scope="session")
def sergio_session(sergio_target: Target, sergio_throttle: Throttle) -> Iterator[TokenSession]:
    """A logged-in session of the target's primary account (one login, then refreshes)."""
    session = TokenSession(sergio_target, sergio_target.account, sergio_throttle)
    yield session
    session.close()
