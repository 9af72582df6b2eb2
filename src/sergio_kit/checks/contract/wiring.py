"""Schemathesis wiring: the contract aimed at a target, bearer tokens on secured operations, 429s.

The contract in force (the user's ``--contract``, else the packaged one) is loaded into
Schemathesis at import (``@schema.parametrize()`` needs it at collection); the target is applied at
run time by :func:`aim`. Tokens are put on each case by :func:`authorize`
rather than by a Schemathesis auth provider, so the kit's session (one login, then refreshes,
by the target's clock) decides when to renew.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Mapping, Sequence
from typing import Any

import schemathesis
from schemathesis.config import InferenceAlgorithm

from sergio_kit.checks.plan import SCHEMATHESIS
from sergio_kit.contract.document import Contract, Operation, packaged_contract
from sergio_kit.contract.samples import schedule_ahead
from sergio_kit.target.session import TokenSession
from sergio_kit.target.target import Target
from sergio_kit.target.throttling import Throttle

#: Schemathesis checks that want every undeclared method refused (405, exact Allow): they hold only
#: for a complete contract (:attr:`Contract.complete`).
UNDECLARED_METHOD_CHECKS = ("unsupported_method", "allow_header_conformance")


def load_contract(contract: Contract | None = None) -> Any:
    """``contract`` (default: the packaged one) as a Schemathesis schema, not yet aimed at a target.

    Security parameters are not generated: the kit supplies real credentials, and Schemathesis's
    ``ignored_auth`` check probes missing and invalid ones on its own. Against a user's contract, which
    may declare less than the target serves, undeclared methods are not judged.
    """
    contract = contract or packaged_contract()
    schema = schemathesis.openapi.from_dict(copy.deepcopy(dict(contract.document)))
    if not contract.complete:  # the target may serve more than a user's contract declares
        schema.config.checks.update(excluded_check_names=list(UNDECLARED_METHOD_CHECKS))
    schema.config.generation.update(with_security_parameters=False)
    # Links only from the contract and from Location headers: Schemathesis's dependency analysis infers
    # list -> delete links (GET /v1/jobs -> DELETE /v1/jobs/{job_id}) that would destroy objects the
    # run did not create (the team's own staging data, the other checks' objects)
    schema.config.phases.stateful.inference.algorithms = [InferenceAlgorithm.LOCATION_HEADERS]
    return schema


def aim(schema: Any, target: Target) -> None:
    """Point ``schema`` at ``target``, verifying TLS with the target's CA bundle."""
    schema.config.update(
        base_url=target.base_url,
        tls_verify=str(target.ca_bundle) if target.ca_bundle else True,
        request_timeout=30,
    )


def auth_headers(operation: Any, session: TokenSession) -> dict[str, str]:
    """The session's bearer token as headers, if ``operation`` is secured by ``bearerAuth``.

    Passed to Schemathesis as explicit headers (not written into the generated case), so its
    ``ignored_auth`` check knows the credentials are real and probes without them.
    """
    if "bearerAuth" in security_schemes(operation):
        return {"Authorization": f"Bearer {session.token()}"}
    return {}


def security_schemes(operation: Any) -> list[str]:
    """The names of the security schemes an operation accepts."""
    raw = operation.definition.raw
    requirements = raw.get("security", operation.schema.raw_schema.get("security", []))
    return [name for requirement in requirements for name in requirement]


def flat_headers(response: Any) -> Mapping[str, str]:
    """A Schemathesis response's headers as a flat mapping (first value of each)."""
    return {name: values[0] for name, values in response.headers.items() if values}


def transport_options(target: Target) -> dict[str, Any]:
    """``case.call`` keyword arguments that aim a case at ``target`` and verify its certificate."""
    return {"base_url": target.base_url, "verify": str(target.ca_bundle) if target.ca_bundle else True}


def allowed_callers(sessions: Sequence[TokenSession], operation: Operation | None) -> list[TokenSession]:
    """Of ``sessions``, those who may call ``operation``: the admins always, a member (role ``member``)
    only where the contract says members may call it (``x-sergio-admin-only: false`` or absent in a
    contract that marks its admin operations)."""
    may_members = operation is not None and operation.members_may_call
    return [session for session in sessions if session.role != "member" or may_members]


#: The longest wait for a user's room that a contract case may take to go as that user (whose work
#: ends sooner) rather than as one with room now: a short wait keeps the other user's room for its
#: own later checks, a window's wait would idle every user's room.
SHORT_WAIT = 10.0


def user_for_case(
    sessions: Sequence[TokenSession], tier: str, throttle: Throttle, *, admins_owe: int = 0
) -> TokenSession:
    """Of ``sessions`` (users of the target), the one to send this case as: one with room now or
    within :data:`SHORT_WAIT` (else the run's one thread would sit out a window while another user's
    room stands idle; a user's room is counted less what the auth lane's checks, running beside, still
    need of it: ``Throttle.lane_owed``); among those, the one whose work ends soonest with this case.

    A user's work is what it still owes, sent as soon as its rolling window allows: what the plan
    expects its other checks and clean-ups still to send (``Throttle.still_expected``: the primary
    user's later checks keep their room) and, for an admin, ``admins_owe`` (its share of the
    admin-only cases still to come, which a member's room cannot take). Among equals, the least loaded
    (sent so far plus the plan's expectation). The first session when nothing is paced."""
    pacer = throttle.pacer
    if pacer is None or len(sessions) == 1:
        return sessions[0]

    def wait_finish_load(session: TokenSession) -> tuple[bool, int, int]:
        principal = session.principal
        owed = throttle.still_expected(tier, principal, besides=SCHEMATHESIS)
        owed += admins_owe if session.role != "member" else 0
        finish = pacer.seconds_to_send(tier, principal, owed + 1)
        role = throttle.roles.get(principal, "")
        load = pacer.totals[(tier, principal)] + throttle.expected.get((tier, role), 0)
        wait = pacer.seconds_to_send(tier, principal, throttle.lane_owed(tier, principal) + 1)
        return wait > SHORT_WAIT, round(finish), load

    return min(sessions, key=wait_finish_load)


def admin_cases_left(contract: Contract, tier: str, budgets: Mapping[str, int], throttle: Throttle) -> int:
    """The contract cases of ``tier``'s admin-only operations not sent yet: each operation's budget
    less the distinct cases it sent (``Throttle.case_prints``)."""
    return sum(
        max(0, budgets.get(operation.label, 0) - len(throttle.case_prints.get(operation.label, ())))
        for operation in contract.operations
        if operation.tier == tier and operation.admin_only
    )


def call_and_validate(
    case: Any,
    target: Target,
    throttle: Throttle,
    sessions: Sequence[TokenSession],
    budgets: Mapping[str, int] | None = None,
) -> Any:
    """Send a generated case with real credentials (those of the user in ``sessions`` that
    :func:`user_for_case` picks) and wait out a 429, then run every check. ``budgets``: the
    most distinct cases of each operation (:func:`case_fingerprint`; a live run's; none when empty or
    absent); once its operation sent its budget, the case is left unsent (counted in
    ``throttle.unsent``) and ``None`` returned. With budgets, a case equal to one sent and passed is not
    sent again (``throttle.repeated``); one that failed is (Hypothesis replays it). The admins keep
    room for the admin-only cases still to come."""
    label = case.operation.label
    budget = budgets.get(label) if budgets else None
    sent = throttle.case_prints.setdefault(label, set())
    fingerprint = case_fingerprint(case)
    if fingerprint in sent:
        # a case Hypothesis replays to confirm a failure is sent again; a live run does not send again
        # a request already sent and passed (Schemathesis's phases generate some twice)
        if budgets and (label, fingerprint) not in throttle.failed_prints:
            throttle.repeated[label] += 1
            return None
    else:
        if budget is not None and len(sent) >= budget:
            throttle.unsent[label] += 1
            return None
        sent.add(fingerprint)
    options = transport_options(target)
    tier = case.operation.definition.raw.get("x-sergio-rate-tier", "")
    callers = allowed_callers(sessions, target.contract.operation(label))
    owed = 0
    if budgets and len(callers) > 1:
        admins = sum(session.role != "member" for session in callers)
        owed = math.ceil(admin_cases_left(target.contract, tier, budgets, throttle) / max(admins, 1))
    user = user_for_case(callers, tier, throttle, admins_owe=owed)
    headers = auth_headers(case.operation, user)
    schedule_ahead_of(case, target)
    response = throttle.send(
        label,
        lambda: case.call(headers=headers, **options),
        lambda response: (response.status_code, flat_headers(response)),
        headers=headers,
        keep=throttle.lane_owed(tier, user.principal) if headers else 0,
    )
    try:
        case.validate_response(response, headers=headers, transport_kwargs={**options, "headers": headers})
    except BaseException:
        throttle.failed_prints.add((label, fingerprint))
        raise
    return response


def case_fingerprint(case: Any) -> str:
    """What makes two generated cases the same request: the method (Schemathesis's coverage phase
    sends an operation's path with other methods too), path parameters, query, headers, cookies, and
    the body with its media type."""
    request = (case.method, case.path_parameters, case.query, case.headers, case.cookies)
    return repr((*request, case.media_type, case.body))


def schedule_ahead_of(case: Any, target: Target) -> None:
    """Give a valid (positive) generated job body a ``scheduled_date`` safely after ``target``'s today,
    when its own is not: a deployment may refuse a visit in the past, and valid data must be
    accepted. Negative cases keep their bodies (they are meant to be refused)."""
    meta = case.meta
    if meta is not None and not meta.generation.mode.is_positive:
        return
    if not isinstance(case.body, dict):
        return
    moved = schedule_ahead(copy.deepcopy(case.body), target.today())
    if moved != case.body:
        case.body = moved  # Schemathesis revalidates the case: a valid date keeps it positive


def stateful_machine(schema: Any, throttle: Throttle, session: TokenSession) -> Any:
    """The contract's state machine (OpenAPI links), each call authorized and throttle-aware."""
    base = schema.as_state_machine()

    class SergioStateMachine(base):  # type: ignore[misc,valid-type]
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"headers": auth_headers(case.operation, session)}

        def call(self, case: Any, **kwargs: Any) -> Any:
            schedule_ahead_of(case, session.target)
            return throttle.send(
                case.operation.label,
                lambda: base.call(self, case, **kwargs),
                lambda response: (response.status_code, flat_headers(response)),
                headers=kwargs.get("headers"),
            )

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(
                response,
                additional_checks=additional_checks,
                headers=kwargs.get("headers"),
                transport_kwargs=kwargs or None,
                recorder=self.recorder,
            )

    return SergioStateMachine
