"""Fixtures of the conformance suite that are not part of the public plugin (yet)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.plugin import max_examples
from sergio_kit.target import Target
from sergio_kit.throttling import Throttle


@pytest.fixture(scope="session")
def sergio_check_context(sergio_target: Target, sergio_throttle: Throttle) -> Iterator[CheckContext]:
    """The context every kit check runs in; what it created is removed at the end of the run."""
    context = CheckContext(sergio_target, sergio_throttle, max_examples=max_examples())
    yield context
    context.close()
