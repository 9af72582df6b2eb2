"""The sergio-kit pytest plugin: command-line options and target fixtures.

Registered through the ``pytest11`` entry point, so any test repository that installs sergio-kit
gets the ``sergio`` option group. Heavy imports (schemathesis, locust) stay off this module's import
path.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register the ``sergio`` option group; every option defaults to ``None`` (not given)."""
    group = parser.getgroup("sergio", "sergio-kit: the Sergio API target")
    group.addoption(
        "--sergio-base-url",
        default=None,
        help="HTTPS base URL of the Sergio target (default: start the embedded reference server).",
    )
    group.addoption(
        "--sergio-ca-bundle",
        default=None,
        help="PEM file of the CA that signed the target's certificate (default: system trust store).",
    )
