"""Contract checks: Schemathesis over every operation, the stateful links, health, coverage."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import hypothesis
import pytest

from sergio_kit.checks.budgets import LIVE, live_budgets_apply
from sergio_kit.checks.budgets import case_budgets as budgets_of
from sergio_kit.checks.contract.leftovers import LEDGER_NAME, Leftovers
from sergio_kit.checks.contract.wiring import aim, call_and_validate, load_contract, stateful_machine
from sergio_kit.checks.lanes import generating
from sergio_kit.config import KitConfig
from sergio_kit.contract.document import Contract
from sergio_kit.plugin import max_examples, run_contract
from sergio_kit.target.session import TokenSession
from sergio_kit.target.target import Target
from sergio_kit.target.throttling import Throttle

pytestmark = pytest.mark.contract
schema = load_contract(run_contract())  # the contract in force, needed at collection
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
UNTESTED_LIMIT = 0.10
BASIS = "contract"  # what these tests judge is what the contract declares: a breach fails


@pytest.fixture(autouse=True)
def contract_basis(record_property: Any) -> None:
    """Record the rule's basis, ``contract``, on every contract test, for the reports."""
    record_property("basis", BASIS)


@pytest.fixture(scope="session")
def case_sessions(
    sergio_session: TokenSession, sergio_check_context: Any, sergio_throttle: Throttle
) -> list[TokenSession]:
    """The users the contract cases are sent as: the primary user, and, when the run is paced (a live
    target), the other tenant's admin and the first tenant's member the run has (each case goes to the
    one with the most room of those who may call its operation)."""
    sessions = [sergio_session]
    if sergio_throttle.pacer is not None:
        target = sergio_check_context.target
        if target.other_account is not None:
            sessions.append(sergio_check_context.session("other"))
        if target.member_account is not None and any(
            operation.members_may_call for operation in target.contract.operations
        ):
            sessions.append(sergio_check_context.session("member"))
    return sessions


@pytest.fixture(scope="module", autouse=True)
def aimed_contract(
    sergio_target: Target,
    sergio_client: httpx.Client,
    case_sessions: list[TokenSession],
    sergio_throttle: Throttle,
    sergio_auth_lane: Any,
    sergio_check_context: Any,
) -> Iterator[Any]:
    """The module's contract, pointed at the target for this run; the webhooks and API keys the
    fuzzing registers (as any of the case users) are deleted afterwards (not those the checks' context
    made meanwhile: it removes its own). In live mode the auth lane
    starts here, beside the contract run (the rate-limit plan, if any, is over)."""
    if sergio_auth_lane is not None:
        sergio_auth_lane.start()
    aim(schema, sergio_target)
    everyone = [  # a member's company is the primary user's: the primary's listings cover it
        Leftovers(sergio_client, session, sergio_throttle, sergio_target.contract)
        for session in case_sessions
        if session.role != "member"
    ]
    for leftovers in everyone:
        leftovers.snapshot()
    yield schema
    sergio_throttle.current = LEDGER_NAME
    with sergio_throttle.cleaning_up():
        for leftovers in everyone:
            leftovers.remove_new(keep=sergio_check_context.made())


@pytest.fixture(autouse=True)
def alone_among_generators() -> Iterator[None]:
    """Each contract test generates alone: not beside the auth lane's Hypothesis runs (live mode),
    except while it waits for a quota (:func:`sergio_kit.checks.lanes.paused_generating`)."""
    with generating():
        yield


@pytest.fixture(scope="session")
def case_budgets(sergio_target: Target, sergio_config: KitConfig) -> dict[str, int]:
    """The most cases each operation sends: against a target without a test clock, its tier's share
    (:func:`sergio_kit.checks.budgets.case_budgets`), unless the user set ``max_examples``; else none."""
    if not live_budgets_apply(sergio_target.clock is None, sergio_config):
        return {}
    return budgets_of(sergio_target.contract, sergio_target.tier_limits, sergio_config.max_examples)


@pytest.mark.sergio_check("contract.schemathesis")
@schema.parametrize()  # type: ignore[untyped-decorator]
@hypothesis.settings(max_examples=max_examples(), deadline=None)
def test_contract_schemathesis(
    case: Any,
    sergio_target: Target,
    sergio_throttle: Throttle,
    case_sessions: list[TokenSession],
    case_budgets: dict[str, int],
) -> None:
    """Every operation, every Schemathesis check, with a live bearer token."""
    call_and_validate(case, sergio_target, sergio_throttle, case_sessions, case_budgets)


@pytest.mark.sergio_check("contract.stateful")
def test_contract_stateful(
    sergio_throttle: Throttle,
    sergio_session: TokenSession,
    sergio_target: Target,
    case_budgets: dict[str, int],
) -> None:
    """Sequences that follow the contract's links: login → refresh, create job → get/patch/delete, ...
    In live mode (:func:`case_budgets` in force) the auth operations stay out (their links are walked
    once each by the deterministic flows of ``test_links``) and the walk is short."""
    from schemathesis.core.errors import NoLinksFound

    walked, examples, steps = schema, max_examples(), 6
    if case_budgets:
        auth_ids = [op.operation_id for op in sergio_target.contract.operations if op.tier == "auth"]
        walked, examples, steps = (
            schema.exclude(operation_id=auth_ids),
            LIVE.contract_walks,
            LIVE.contract_steps,
        )
    machine = stateful_machine(walked, sergio_throttle, sergio_session)
    try:
        machine.run(
            settings=hypothesis.settings(
                max_examples=examples,
                stateful_step_count=steps,
                deadline=None,
                suppress_health_check=list(hypothesis.HealthCheck),
                database=None,
            )
        )
    except NoLinksFound:
        pytest.skip("the contract declares no links (OpenAPI links) to follow")


@pytest.mark.sergio_check("contract.health")
def test_contract_health(sergio_target: Target, sergio_throttle: Throttle) -> None:
    """GET /v1/health is {status: ok, version, timestamp} with an RFC 3339 UTC 'Z' timestamp."""
    skip_unless_declared(sergio_target.contract, "GET /v1/health")
    with httpx.Client(base_url=sergio_target.base_url, verify=sergio_target.ssl_context()) as client:
        response = sergio_throttle.send(
            "GET /v1/health", lambda: client.get("/v1/health"), lambda r: (r.status_code, r.headers)
        )
    assert response.status_code == 200, f"GET /v1/health answered {response.status_code}"
    body = response.json()
    assert body.get("status") == "ok", f"status is {body.get('status')!r}, expected 'ok'"
    assert isinstance(body.get("version"), str) and body["version"], "version missing"
    timestamp = body.get("timestamp")
    assert isinstance(timestamp, str) and TIMESTAMP.match(timestamp), (
        f"timestamp {timestamp!r} is not of the form 2026-01-30T12:00:00Z"
    )


def skip_unless_declared(contract: Contract, *labels: str) -> None:
    """Skip, naming the first of ``labels`` (``"METHOD /path"``) the contract in force lacks."""
    for label in labels:
        if not contract.offers(label):
            pytest.skip(f"the contract does not declare {label}")


@pytest.mark.sergio_check("contract.coverage")
def test_contract_coverage(sergio_throttle: Throttle, record_property: Any) -> None:
    """No operation had more than 10% of its cases left throttled (429) and therefore untested."""
    assert sergio_throttle.sent, "the contract run sent no requests"
    waited = sum(sergio_throttle.throttled.values())
    busiest = ", ".join(f"{op} {n}" for op, n in sergio_throttle.throttled.most_common(3))
    unsent = sum(sergio_throttle.unsent.values())
    repeated = sum(sergio_throttle.repeated.values())
    record_property(
        "detail",
        f"{sum(sergio_throttle.sent.values())} cases; {waited} throttled first attempts waited out"
        + (f" ({busiest})" if busiest else "")
        + (f"; {unsent} generated cases left unsent (live budgets)" if unsent else "")
        + (f"; {repeated} generated again after passing, not sent again" if repeated else ""),
    )
    untested = {
        operation: share
        for operation in sergio_throttle.sent
        if (share := sergio_throttle.untested_share(operation)) > UNTESTED_LIMIT
    }
    assert not untested, "throttled and never tested: " + ", ".join(
        f"{operation} {share:.0%}" for operation, share in sorted(untested.items())
    )
