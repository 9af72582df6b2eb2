"""No check fails on a deployment that made another choice the published docs allow.

Each variant of the reference server (``sergio-kit serve --list-variants``) takes one such choice;
with it on, every check of the groups it touches passes, warns (a recommended rule it breaks) or skips
(naming what the variant took away), exactly as :mod:`tests.support.variant_outcomes` says. With all
variants on together, every check does the same. The contract group (Schemathesis, run by pytest, not
by the registry) is proven with all variants on in ``tests/cli/test_check_variants.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import all_checks
from sergio_kit.target.embedded import RunningServer, embedded_target
from tests.support.fault_servers import FaultServers, server_key
from tests.support.variant_outcomes import EVERY_VARIANT, expected_outcome, outcome_of, touches

#: Checks of the kit itself or of the committed cassettes: a server variant cannot change them.
NOT_OF_THE_SERVER = {"transport.tls_verified", "webhook.verifier", "cassette.replay", "cassette.redaction"}
SERVER_CHECKS = [spec for spec in all_checks() if spec.check_id not in NOT_OF_THE_SERVER]

PER_VARIANT = [
    pytest.param(server_key(variants=(variant,)), spec.check_id, id=f"{variant}-{spec.check_id}")
    for variant in EVERY_VARIANT
    for spec in SERVER_CHECKS
    if touches(variant, spec.check_id)
]
ALL_TOGETHER = [
    pytest.param(server_key(variants=EVERY_VARIANT), spec.check_id, id=f"every-variant-{spec.check_id}")
    for spec in SERVER_CHECKS
]
BY_ID = {spec.check_id: spec for spec in SERVER_CHECKS}


class SharedContext:
    """One check context per server, shared by the tests of that server in turn (as a run shares
    one: the rate-limit rules of a tier judge one probe); closed after the server's last test."""

    def __init__(self) -> None:
        self._key: str | None = None
        self._context: CheckContext | None = None

    def for_server(self, key: str, server: RunningServer) -> CheckContext:
        """The context on ``server`` (named ``key``), made on its first test."""
        if self._key != key or self._context is None:
            self.close()
            self._key, self._context = key, CheckContext(embedded_target(server), max_examples=10)
        return self._context

    def close(self) -> None:
        """Remove what the context made, while its server still runs."""
        if self._context is not None:
            self._context.close()
            self._context.target.close()
        self._key, self._context = None, None


@pytest.fixture(scope="module")
def shared_context() -> Iterator[SharedContext]:
    """The module's :class:`SharedContext`."""
    contexts = SharedContext()
    yield contexts
    contexts.close()


@pytest.mark.parametrize(("server_key", "check_id"), PER_VARIANT + ALL_TOGETHER)
def test_check_reports_no_failure_with_the_variants(
    server_key: str, check_id: str, variant_server: FaultServers, shared_context: SharedContext
) -> None:
    """The check's status with the variants on is the expected one (passed unless listed), and a
    warning or a skip says why."""
    variants = tuple(server_key.partition("|")[2].split(","))
    with variant_server.use(server_key) as server:
        try:
            status, detail = outcome_of(check_id, shared_context.for_server(server_key, server))
        finally:
            if variant_server.last_use(server_key):
                shared_context.close()
    expected_status, expected_word = expected_outcome(check_id, variants)
    assert status == expected_status, f"{check_id} with {', '.join(variants)}: {status}: {detail}"
    assert expected_word.lower() in detail.lower(), detail
