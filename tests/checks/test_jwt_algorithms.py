"""The ``auth.jwt`` checks against each token algorithm the reference server offers (``--jwt-alg``).

The proofs in ``test_check_proofs.py`` run on the default RS256 server. Here: on ES256 every
``auth.jwt`` check passes (the forged-claim ones re-sign with the private key, the key checks use
its key set); on HS256 the three key checks skip, saying the target has no public key, every other
one passes; the faults whose bug depends on the algorithm are caught on HS256 (the shared secret)
and the key checks' faults on ES256.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import all_checks, get_check
from sergio_kit.reports.findings import CheckFailed, CheckSkipped
from sergio_kit.server.faults import caught_by
from sergio_kit.target.embedded import embedded_target, start_server
from tests.checks.fault_symptoms import assert_symptom
from tests.support.clock import clock_of, start_fresh_windows

JWT_CHECKS = [spec.check_id for spec in all_checks() if spec.check_id.startswith("auth.jwt.")]
KEY_CHECKS = {"auth.jwt.key_confusion", "auth.jwt.kid", "auth.jwt.jku"}
#: Faults whose branch depends on the server's algorithm, proven under the algorithm named.
FAULTS_BY_ALGORITHM = [
    ("HS256", "auth.jwt.truncated_signature"),
    ("HS256", "auth.jwt.null_signature"),
    ("HS256", "auth.jwt.alg_confusion"),
    ("HS256", "auth.jwt.header_injection"),
    ("ES256", "auth.jwt.key_confusion@jwk"),
    ("ES256", "auth.jwt.jku"),
    ("ES256", "auth.jwt.header_injection@asymmetric-jwk"),
]


@pytest.fixture(scope="module", params=["ES256", "HS256"])
def algorithm_context(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, server_template: Path
) -> Iterator[CheckContext]:
    """A check context on a clean server signing with the parameter's algorithm."""
    server = start_server(
        tmp_path_factory.mktemp(request.param), template=server_template, jwt_alg=request.param
    )
    context = CheckContext(embedded_target(server), max_examples=5)
    try:
        yield context
    finally:
        context.close()
        context.target.close()
        server.stop()


def test_every_jwt_check_passes_or_says_why_it_cannot_run(algorithm_context: CheckContext) -> None:
    """ES256: every auth.jwt check passes. HS256: the key checks skip, naming the algorithm and that
    there is no public key; the rest pass. The HS256 target's contract has no key-set operation."""
    hs256 = not algorithm_context.offers("GET /.well-known/jwks.json")
    outcomes: dict[str, str] = {}
    for check_id in JWT_CHECKS:
        assert algorithm_context.target.clock is not None
        start_fresh_windows(algorithm_context.target.clock)
        try:
            get_check(check_id).run(algorithm_context)
            outcomes[check_id] = "passed"
        except CheckSkipped as skip:
            outcomes[check_id] = f"skipped: {skip}"
    expected_skips = KEY_CHECKS if hs256 else set()
    assert {check_id for check_id, outcome in outcomes.items() if outcome != "passed"} == expected_skips
    for check_id in expected_skips:
        assert "signs its tokens HS256, with a shared secret: it has no public key" in outcomes[check_id]


@pytest.mark.parametrize(("algorithm", "fault_id"), FAULTS_BY_ALGORITHM)
def test_the_fault_is_caught_under_that_algorithm(
    algorithm: str, fault_id: str, tmp_path: Path, server_template: Path
) -> None:
    """The fault's check fails, for that fault, on a server signing with ``algorithm``."""
    server = start_server(tmp_path, faults=[fault_id], template=server_template, jwt_alg=algorithm)
    context = CheckContext(embedded_target(server), max_examples=5)
    try:
        with clock_of(server) as clock:
            start_fresh_windows(clock)
        with pytest.raises(CheckFailed) as failure:
            get_check(caught_by(fault_id)).run(context)
        assert_symptom(fault_id, failure.value)
    finally:
        context.close()
        context.target.close()
        server.stop()
