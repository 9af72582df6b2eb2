"""The checks read the contract in force: what it lacks is a skip naming the operation, never a request
and never a failure; ``contract.declared`` judges what it declares; the embedded server's variants that
drop operations hand the kit the packaged contract without them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from sergio_kit.cassettes.tour import flows_for
from sergio_kit.checks.apikey import listed_job_ids
from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.refresh import probe_path
from sergio_kit.checks.registry import get_check
from sergio_kit.contract.document import Contract, load_contract, packaged_contract
from sergio_kit.contract.resources import example_contract_path
from sergio_kit.reports.findings import CheckSkipped
from sergio_kit.target.contract import REDUCED_CONTRACT_FILE
from sergio_kit.target.embedded import embedded_server, embedded_target
from sergio_kit.target.target import Account, Target
from tests.support.fault_servers import FaultServers, server_key
from tests.support.variant_outcomes import outcome_of

NOWHERE = "https://127.0.0.1:9"  # nothing listens: a check that sent anything would fail to connect
REDUCED = packaged_contract().without(
    ["POST /v1/auth/login", "POST /v1/auth/refresh", "POST /v1/auth/logout", "POST /v1/webhooks"], "test"
)


NO_KEY_MANAGEMENT = server_key(variants=("no-key-management",))


@contextmanager
def unreached_context(contract: Contract) -> Iterator[CheckContext]:
    """A context on a target that is never reached, held to ``contract``."""
    target = Target(base_url=NOWHERE, account=Account("qa@example.com", "unused"), contract=contract)
    context = CheckContext(target)
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def reduced_context() -> Iterator[CheckContext]:
    """A context on a target that is never reached, held to a contract without login, refresh,
    logout and webhook registration."""
    with unreached_context(REDUCED) as context:
        yield context


@pytest.mark.parametrize(
    ("check_id", "missing"),
    [
        ("auth.login.enumeration", "POST /v1/auth/login"),
        ("auth.login.bad_input", "POST /v1/auth/login"),
        ("auth.login.shape", "POST /v1/auth/login"),
        ("auth.bearer.missing", "POST /v1/auth/login"),  # a job to call on needs a login first
        ("auth.bearer.placement", "POST /v1/auth/login"),  # the token to place needs a login
        ("auth.token_kind", "POST /v1/auth/refresh"),
        ("refresh.logout", "POST /v1/auth/logout"),
        ("webhook.registration", "POST /v1/webhooks"),
        ("webhook.signature", "POST /v1/webhooks"),
        ("webhook.https_only", "POST /v1/webhooks"),
        ("webhook.secret_once", "POST /v1/webhooks"),
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


@pytest.mark.parametrize(
    "check_id",
    [
        "refresh.rotation",
        "refresh.claims",
        "refresh.reuse",
        "refresh.logout",
        "refresh.race",
        "refresh.property",
    ],
)
def test_every_refresh_check_skips_naming_the_refresh_operation(check_id: str) -> None:
    """With login and logout but no refresh in the contract, each refresh check skips naming
    POST /v1/auth/refresh before it logs in."""
    without_refresh = packaged_contract().without(["POST /v1/auth/refresh"], "test")
    refused = pytest.raises(CheckSkipped, match="the contract does not declare POST /v1/auth/refresh")
    with unreached_context(without_refresh) as context, refused:
        get_check(check_id).run(context)


def test_an_access_token_is_tried_on_another_bearer_get_without_the_jobs_list() -> None:
    """Without GET /v1/jobs the refresh checks try an access token on another bearer GET without
    path parameters; without any, they skip naming GET /v1/jobs."""
    packaged = packaged_contract()
    with unreached_context(packaged.without(["GET /v1/jobs"], "test")) as context:
        path = probe_path(context)
    assert path != "/v1/jobs" and "{" not in path
    bearer_gets = [
        op.label for op in packaged.operations if "bearerAuth" in op.security and op.method == "GET"
    ]
    refused = pytest.raises(CheckSkipped, match="the contract does not declare GET /v1/jobs")
    with unreached_context(packaged.without(bearer_gets, "test")) as context, refused:
        probe_path(context)


def test_the_api_key_checks_skip_when_the_contract_secures_nothing_with_an_api_key() -> None:
    """A contract without apiKeyAuth operations is a skip saying so, not a failure."""
    packaged = packaged_contract()
    zapier = [op.label for op in packaged.operations if "apiKeyAuth" in op.security]
    refused = pytest.raises(CheckSkipped, match="secures no operation with apiKeyAuth")
    with unreached_context(packaged.without(zapier, "test")) as context, refused:
        get_check("apikey.missing").run(context)


@pytest.mark.parametrize(
    ("body", "ids"),
    [
        ([{"id": "job_1"}, {"id": "job_2"}], {"job_1", "job_2"}),
        ({"data": [{"id": "job_1"}], "has_more": False}, {"job_1"}),
        ({"jobs": [{"id": "job_1"}]}, None),
        ("job_1", None),
    ],
)
def test_the_new_job_trigger_may_list_its_jobs_bare_or_in_data(body: object, ids: set[str] | None) -> None:
    """A bare array and ``{data: [...]}`` are read; any other shape is unrecognised (``None``)."""
    assert listed_job_ids(httpx.Response(200, json=body)) == ids


@pytest.mark.parametrize("server_key", [NO_KEY_MANAGEMENT])
def test_a_key_resource_skips_when_key_management_is_refused(
    server_key: str, variant_server: FaultServers
) -> None:
    """The contract declares key management but the target has none: an operation that needs a
    key id skips as every key the kit makes does, never fails."""
    with variant_server.use(server_key) as server:
        target = embedded_target(server)
        target.contract = packaged_contract()  # the server's no-key-management, unknown to the contract
        context = CheckContext(target, max_examples=5)
        try:
            with pytest.raises(CheckSkipped, match="needs API-key management"):
                context.resource("key_id")
        finally:
            context.close()
            target.close()


@pytest.mark.parametrize("server_key", [NO_KEY_MANAGEMENT])
def test_without_listing_or_deleting_webhooks_only_the_once_only_rule_skips(
    server_key: str, variant_server: FaultServers
) -> None:
    """Without listing and deleting webhooks in the contract, webhook.registration judges the delivery
    and the secret's form and passes; webhook.secret_once skips, naming where it would have looked."""
    lacking = ["GET /v1/webhooks", "DELETE /v1/webhooks/{webhook_id}"]
    with variant_server.use(server_key) as server:
        target = embedded_target(server)
        target.contract = target.contract.without(lacking, "test")
        context = CheckContext(target, max_examples=5)
        try:
            registration = outcome_of("webhook.registration", context)
            once = outcome_of("webhook.secret_once", context)
        finally:
            context.close()
            target.close()
    assert registration == ("passed", ""), registration
    assert once[0] == "skipped", once
    assert "does not declare GET /v1/webhooks or GET /v1/webhooks/{webhook_id}" in once[1], once
