"""The checks read the contract in force: what it lacks is a skip naming the operation, never a request
and never a failure; ``contract.declared`` judges what it declares; the embedded server's variants that
drop operations hand the kit the packaged contract without them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sergio_kit.cassettes.tour import flows_for
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.registry import get_check
from sergio_kit.contract.document import load_contract, packaged_contract
from sergio_kit.contract.resources import example_contract_path
from sergio_kit.reports.findings import CheckSkipped
from sergio_kit.target.contract import REDUCED_CONTRACT_FILE
from sergio_kit.target.embedded import embedded_server, embedded_target
from sergio_kit.target.target import Account, Target

NOWHERE = "https://127.0.0.1:9"  # nothing listens: a check that sent anything would fail to connect
REDUCED = packaged_contract().without(
    ["POST /v1/auth/login", "POST /v1/auth/refresh", "POST /v1/auth/logout", "POST /v1/webhooks"], "test"
)


@pytest.fixture
def reduced_context() -> Iterator[CheckContext]:
    """A context on a target that is never reached, held to a contract without login, refresh,
    logout and webhook registration."""
    target = Target(base_url=NOWHERE, account=Account("qa@example.com", "unused"), contract=REDUCED)
    context = CheckContext(target)
    yield context
    context.close()


@pytest.mark.parametrize(
    ("check_id", "missing"),
    [
        ("auth.login.enumeration", "POST /v1/auth/login"),
        ("auth.login.bad_input", "POST /v1/auth/login"),
        ("auth.login.shape", "POST /v1/auth/login"),
        ("auth.bearer.missing", "POST /v1/auth/login"),  # a job to call on needs a login first
        ("auth.token_kind", "POST /v1/auth/refresh"),
        ("refresh.logout", "POST /v1/auth/logout"),
        ("webhook.registration", "POST /v1/webhooks"),
        ("webhook.signature", "POST /v1/webhooks"),
        ("webhook.https_only", "POST /v1/webhooks"),
    ],
)
def test_a_check_skips_naming_the_operation_the_contract_lacks(
    reduced_context: CheckContext, check_id: str, missing: str
) -> None:
    """Before it sends anything, the check skips with "the contract does not declare <operation>"."""
    with pytest.raises(CheckSkipped, match=f"the contract does not declare {missing}"):
        get_check(check_id).run(reduced_context)


def test_the_recording_tour_leaves_out_flows_the_contract_lacks() -> None:
    """Against the documented-only contract only the health flow and the errors flow stay; each
    left-out flow names the operations it misses."""
    flows, left_out = flows_for(load_contract(example_contract_path()))
    assert [name for name, _ in flows] == ["health", "errors"]
    assert "POST /v1/auth/logout" in left_out["auth"]
    assert left_out["bulk"] == ["POST /v1/jobs/bulk", "DELETE /v1/jobs/{job_id}"]


def test_a_variant_that_drops_operations_reduces_the_contract_in_force(tmp_path: Path) -> None:
    """With no-logout the embedded target's contract lacks logout (written to the server's data
    folder): contract.declared passes (nothing declared is unrouted), refresh.logout skips naming it."""
    with embedded_server(tmp_path, variants=["no-logout"]) as server:
        target = embedded_target(server)
        assert not target.contract.offers("POST /v1/auth/logout")
        assert (tmp_path / REDUCED_CONTRACT_FILE).is_file()
        context = CheckContext(target, max_examples=5)
        try:
            get_check("contract.declared").run(context)
            with pytest.raises(CheckSkipped, match="the contract does not declare POST /v1/auth/logout"):
                get_check("refresh.logout").run(context)
        finally:
            context.close()
            target.close()
