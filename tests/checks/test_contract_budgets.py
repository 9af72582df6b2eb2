"""The contract cases in a live run (``sergio_kit.checks.contract.wiring``): each goes as the user with
the least load of its tier (sent so far plus what the plan expects of the user's other checks), and an
operation's live budget leaves its extra cases unsent, though a case Hypothesis replays is sent again.

Stand-ins take the place of the sessions, the generated cases and the target; nothing leaves the
process (a stand-in case answers its own call).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest

from sergio_kit.checks.contract.wiring import (
    SHORT_WAIT,
    admin_cases_left,
    allowed_callers,
    call_and_validate,
    user_for_case,
)
from sergio_kit.contract.document import Contract
from sergio_kit.target.pacing import MARGIN, Pacer
from sergio_kit.target.session import TokenSession
from sergio_kit.target.target import Target
from sergio_kit.target.throttling import Throttle
from tests.support.fake_clock import FakeClock

PRIMARY = "user usr_primary"
OTHER = "user usr_other"
LABEL = "POST /v1/jobs"


@dataclass
class StandInSession:
    """What ``user_for_case`` reads of a session: the principal its requests are charged to, its role."""

    principal: str
    role: str = "primary"


def sessions(*principals: str) -> Sequence[TokenSession]:
    """Stand-in sessions of ``principals``, in order."""
    return cast(Sequence[TokenSession], [StandInSession(principal) for principal in principals])


@pytest.fixture
def paced() -> Throttle:
    """A live-target throttle whose pacer (on a fake clock) knows both users by their roles."""
    clock = FakeClock()
    pacer = Pacer({"write": 100, "read": 100}, clock=clock, sleep=clock.sleep, announce=lambda line: None)
    throttle = Throttle(None, pacer=pacer, announce=lambda line: None)
    throttle.roles.update({PRIMARY: "primary", OTHER: "other"})
    return throttle


def spend(throttle: Throttle, tier: str, principal: str, requests: int) -> None:
    """Count ``requests`` of ``tier`` as ``principal`` in the throttle's pacer."""
    assert throttle.pacer is not None
    for _ in range(requests):
        throttle.pacer.admit(tier, principal, "a test's request")


def test_the_user_with_fewer_requests_of_the_tier_is_picked(paced: Throttle) -> None:
    """With nothing expected of the users' checks, the user who sent fewer requests of the tier goes."""
    spend(paced, "write", PRIMARY, 3)
    spend(paced, "write", OTHER, 1)
    spend(paced, "read", OTHER, 10)  # another tier's load does not count
    users = sessions(PRIMARY, OTHER)
    assert user_for_case(users, "write", paced).principal == OTHER
    assert user_for_case(users, "read", paced).principal == PRIMARY


def test_what_the_plan_expects_of_a_users_checks_counts_as_load(paced: Throttle) -> None:
    """The checks' expected requests (per tier and role) are added to what each user sent."""
    spend(paced, "write", PRIMARY, 3)
    spend(paced, "write", OTHER, 1)
    paced.expected[("write", "other")] = 5  # 1 + 5 against 3
    users = sessions(PRIMARY, OTHER)
    assert user_for_case(users, "write", paced).principal == PRIMARY
    paced.expected[("write", "primary")] = 4  # 3 + 4 against 6
    assert user_for_case(users, "write", paced).principal == OTHER


def test_a_user_whose_later_checks_need_its_room_is_passed_over(paced: Throttle) -> None:
    """The primary user has room now, but its later checks need the rest of its window: the case goes
    to the other user, who has less room now but nothing more to send; once the primary's checks sent
    what the plan expected of them, the primary's room counts again."""
    spend(paced, "write", PRIMARY, 10)
    spend(paced, "write", OTHER, 95)
    paced.expected[("write", "primary")] = 90  # 10 sent + 90 later fill its window: one more waits
    users = sessions(PRIMARY, OTHER)
    assert user_for_case(users, "write", paced).principal == OTHER
    paced.current = "apikey.scope"  # a check of the primary's sends 40 of the 90
    spend(paced, "write", PRIMARY, 40)
    paced.count("write", PRIMARY, 40)
    assert paced.still_expected("write", PRIMARY, besides="contract.schemathesis") == 50
    assert user_for_case(users, "write", paced).principal == OTHER
    paced.current = "contract.schemathesis"  # the contract cases are not what its checks owe
    paced.count("write", PRIMARY, 40)
    assert paced.still_expected("write", PRIMARY, besides="contract.schemathesis") == 50
    paced.expected[("write", "primary")] = 40  # the plan expected only what was sent: room counts
    spend(paced, "write", OTHER, 5)  # the other's window is full now, the primary's is not
    assert user_for_case(users, "write", paced).principal == PRIMARY


def test_room_now_goes_first_when_the_case_ends_nobodys_work_later(paced: Throttle) -> None:
    """Both admins owe 50 admin-only cases; the other's window is full (the case would wait a minute),
    the primary has room. Either way both users' work ends in the next window: the case goes to the
    primary now rather than idling every user's room for a minute. Room the primary's own later checks
    need is no room for a case."""
    assert paced.pacer is not None
    for _ in range(100):
        paced.pacer.note("write", OTHER)
    for _ in range(50):
        paced.pacer.note("write", PRIMARY)
    users = sessions(PRIMARY, OTHER)
    assert user_for_case(users, "write", paced, admins_owe=50).principal == PRIMARY
    paced.pacer.release("write", OTHER)  # the other has room for one now
    paced.expected[("write", "primary")] = 50  # the primary's checks will need all its room
    assert user_for_case(users, "write", paced).principal == OTHER


def test_when_no_user_has_room_the_one_whose_room_comes_first_goes(paced: Throttle) -> None:
    """Both windows are full: the case goes to the user whose requests age out first, though it sent
    more over the run."""
    assert paced.pacer is not None
    clock = cast(FakeClock, paced.pacer._clock)
    for _ in range(100):
        paced.pacer.note("write", OTHER)
    clock.sleep(30)
    for _ in range(100):
        paced.pacer.note("write", PRIMARY)
    assert user_for_case(sessions(PRIMARY, OTHER), "write", paced).principal == OTHER
    clock.sleep(10)
    for _ in range(100):  # a window more: the other's room now comes after the primary's
        paced.pacer.note("write", OTHER)
    assert user_for_case(sessions(PRIMARY, OTHER), "write", paced).principal == PRIMARY


def test_room_the_auth_lane_still_needs_is_no_room_for_a_case(paced: Throttle) -> None:
    """The lane's checks (running beside the contract) still need 5 of the primary's writes: with 5 of
    room left the primary counts as full, and the case goes to the other user although the primary's
    work would end sooner. Once the lane's checks sent them, the primary's room counts again."""
    spend(paced, "write", PRIMARY, 95)
    spend(paced, "write", OTHER, 97)
    paced.lane_groups = ("auth",)
    paced.lane_expected[("write", "primary")] = 5
    assert paced.lane_owed("write", PRIMARY) == 5
    users = sessions(PRIMARY, OTHER)
    assert user_for_case(users, "write", paced).principal == OTHER
    paced.current = "auth.bearer.missing"
    paced.count("write", PRIMARY, 5)
    assert paced.lane_owed("write", PRIMARY) == 0
    assert user_for_case(users, "write", paced).principal == PRIMARY


def test_a_user_with_room_goes_before_one_whose_work_ends_sooner(paced: Throttle) -> None:
    """The other user's window is full until 30 s from now, and then its work is done; the primary has
    room now but owes a window more. The other's work ends sooner, yet the case goes to the primary:
    the run's one thread would wait 30 s. Once the other's room is SHORT_WAIT away or nearer, the
    sooner end wins again."""
    assert paced.pacer is not None
    clock = cast(FakeClock, paced.pacer._clock)
    spend(paced, "write", OTHER, 100)
    clock.sleep(30)  # the other's window: full until 30 s (plus the margin) from now
    spend(paced, "write", PRIMARY, 60)
    paced.expected[("write", "primary")] = 60  # 60 sent + 60 owed: its last one waits a window
    users = sessions(PRIMARY, OTHER)
    assert user_for_case(users, "write", paced).principal == PRIMARY
    clock.sleep(30 - SHORT_WAIT + MARGIN)  # the other's room comes in SHORT_WAIT now
    assert user_for_case(users, "write", paced).principal == OTHER


def test_admins_owing_admin_only_cases_leave_a_shared_case_to_the_member(paced: Throttle) -> None:
    """An operation both roles may call: with nothing owed the least loaded admin takes it; when the
    admin-only cases still to come fill the admins' windows, the member takes it (its room is of no use
    to those)."""
    member = "user usr_member"
    paced.roles[member] = "member"
    spend(paced, "write", member, 50)
    users = cast(
        Sequence[TokenSession],
        [StandInSession(PRIMARY), StandInSession(OTHER, "other"), StandInSession(member, "member")],
    )
    assert user_for_case(users, "write", paced).role != "member"
    assert user_for_case(users, "write", paced, admins_owe=100).principal == member


def test_admin_cases_left_counts_the_budgets_of_admin_only_operations_not_yet_sent() -> None:
    """Budgets of the admin-only operations of the tier, less the distinct cases each sent."""
    throttle = Throttle(None, announce=lambda line: None)
    budgets = {"GET /v1/jobs": 25, "GET /v1/api-keys": 25}
    assert admin_cases_left(ROLES_CONTRACT, "read", budgets, throttle) == 25
    throttle.case_prints["GET /v1/api-keys"] = {"case 1", "case 2"}
    throttle.case_prints["GET /v1/jobs"] = {"case 1"}
    assert admin_cases_left(ROLES_CONTRACT, "read", budgets, throttle) == 23
    assert admin_cases_left(ROLES_CONTRACT, "write", budgets, throttle) == 0


def test_the_first_session_goes_when_nothing_is_paced_or_there_is_one(paced: Throttle) -> None:
    """Without a pacer (the embedded server) the first session goes; with one session, that one."""
    unpaced = Throttle(None, announce=lambda line: None)
    unpaced.expected[("write", "primary")] = 50
    assert user_for_case(sessions(PRIMARY, OTHER), "write", unpaced).principal == PRIMARY
    spend(paced, "write", OTHER, 7)
    assert user_for_case(sessions(OTHER), "write", paced).principal == OTHER


#: A contract that opens job reads to members and keeps key management to admins.
ROLES_CONTRACT = Contract.of(
    {
        "openapi": "3.1.0",
        "security": [{"bearerAuth": []}],
        "paths": {
            "/v1/jobs": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/v1/api-keys": {
                "get": {"x-sergio-admin-only": True, "responses": {"200": {"description": "ok"}}}
            },
        },
    },
    "a contract with roles",
)


def test_a_member_takes_only_the_operations_the_contract_opens_to_members() -> None:
    """The member is a caller of an operation the contract opens to members, never of an admin's one,
    nor of any operation of a contract that says nothing of roles."""
    users = [StandInSession(PRIMARY), StandInSession(OTHER, "other"), StandInSession("user m", "member")]
    everyone = cast(Sequence[TokenSession], users)
    jobs, keys = ROLES_CONTRACT.operation("GET /v1/jobs"), ROLES_CONTRACT.operation("GET /v1/api-keys")
    assert [session.role for session in allowed_callers(everyone, jobs)] == ["primary", "other", "member"]
    assert [session.role for session in allowed_callers(everyone, keys)] == ["primary", "other"]
    silent = Contract.of(
        {"openapi": "3.1.0", "paths": {"/v1/jobs": {"get": {"responses": {"200": {"description": "ok"}}}}}},
        "a contract without roles",
    )
    assert [session.role for session in allowed_callers(everyone, silent.operation("GET /v1/jobs"))] == [
        "primary",
        "other",
    ]


@dataclass
class StandInCase:
    """A generated case of an unsecured operation: what ``call_and_validate`` reads, and a call that
    answers 200 without leaving the process."""

    query: dict[str, Any]
    label: str = LABEL
    method: str = "GET"
    path_parameters: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, Any] = field(default_factory=dict)
    cookies: dict[str, Any] = field(default_factory=dict)
    media_type: str | None = None
    body: Any = None
    meta: Any = None
    calls: int = 0
    validated: int = 0
    fails: bool = False

    @property
    def operation(self) -> Any:
        """The case's operation: its label, tier and (no) security."""
        return SimpleNamespace(
            label=self.label,
            definition=SimpleNamespace(raw={"x-sergio-rate-tier": "write", "security": []}),
            schema=SimpleNamespace(raw_schema={}),
        )

    def call(self, **options: Any) -> Any:
        """Answer 200 at once (counted)."""
        self.calls += 1
        return SimpleNamespace(status_code=200, headers={})

    def validate_response(self, response: Any, **options: Any) -> None:
        """Count the validation; fail it when the case is made to."""
        self.validated += 1
        if self.fails:
            raise AssertionError("the stand-in check failed")


def stand_in_target() -> Target:
    """What ``call_and_validate`` reads of the target: its base URL and CA bundle."""
    return cast(
        Target,
        SimpleNamespace(
            base_url="https://sergio.invalid",
            ca_bundle=Path("ca.pem"),
            contract=SimpleNamespace(operation=lambda label: None),
        ),
    )


def send(case: StandInCase, throttle: Throttle, budget: int | None) -> Any:
    """``call_and_validate`` of ``case`` as the primary user, within ``budget``."""
    budgets = {case.label: budget} if budget is not None else None
    return call_and_validate(case, stand_in_target(), throttle, sessions(PRIMARY), budgets)


def test_cases_past_the_budget_are_left_unsent_and_counted() -> None:
    """With a budget of 2, the third distinct case of the operation is not sent: ``None``, counted in
    ``unsent``; the first two were sent and validated."""
    throttle = Throttle(None, announce=lambda line: None)
    first, second, third = (StandInCase(query={"page": page}) for page in (1, 2, 3))
    assert send(first, throttle, 2) is not None and send(second, throttle, 2) is not None
    assert send(third, throttle, 2) is None
    assert (first.calls, second.calls, third.calls) == (1, 1, 0)
    assert (first.validated, second.validated, third.validated) == (1, 1, 0)
    assert throttle.unsent == {LABEL: 1}
    assert throttle.sent[LABEL] == 2


def test_a_replayed_failure_is_sent_again_within_the_budget() -> None:
    """A case equal to one that failed (Hypothesis replaying it to confirm the failure) is sent again
    and uses no more of the budget; a new case still finds it spent."""
    throttle = Throttle(None, announce=lambda line: None)
    with pytest.raises(AssertionError):
        send(StandInCase(query={"page": 1}, fails=True), throttle, 2)
    send(StandInCase(query={"page": 2}), throttle, 2)
    replay = StandInCase(query={"page": 1}, fails=True)
    with pytest.raises(AssertionError):
        send(replay, throttle, 2)
    assert replay.calls == 1
    assert send(StandInCase(query={"page": 3}), throttle, 2) is None
    assert throttle.unsent == {LABEL: 1}
    assert throttle.repeated == {}
    assert throttle.sent[LABEL] == 3


def test_a_passed_case_generated_again_is_not_sent_again_live() -> None:
    """Live (with budgets), a case equal to one sent and passed is not sent again: counted in
    ``repeated``, not in the budget. Without budgets (a test clock) it is sent as before."""
    throttle = Throttle(None, announce=lambda line: None)
    send(StandInCase(query={"page": 1}), throttle, 2)
    again = StandInCase(query={"page": 1})
    assert send(again, throttle, 2) is None
    assert again.calls == 0 and throttle.repeated == {LABEL: 1}
    assert send(StandInCase(query={"page": 2}), throttle, 2) is not None
    unpaced = Throttle(None, announce=lambda line: None)
    send(StandInCase(query={"page": 1}), unpaced, None)
    assert send(StandInCase(query={"page": 1}), unpaced, None) is not None
    assert unpaced.sent[LABEL] == 2


def test_a_case_with_another_method_is_another_case() -> None:
    """Schemathesis's coverage phase sends an operation's path with undeclared methods too: same
    parameters, another method, another request, counted in the budget like any case."""
    throttle = Throttle(None, announce=lambda line: None)
    send(StandInCase(query={"page": 1}), throttle, 2)
    other_method = StandInCase(query={"page": 1}, method="PUT")
    assert send(other_method, throttle, 2) is not None and other_method.calls == 1
    assert send(StandInCase(query={"page": 2}), throttle, 2) is None
    assert throttle.unsent == {LABEL: 1} and throttle.repeated == {}


def test_each_operation_has_a_budget_of_its_own_and_none_means_no_limit() -> None:
    """Another operation's cases do not spend this one's budget; without a budget every case goes."""
    throttle = Throttle(None, announce=lambda line: None)
    send(StandInCase(query={"page": 1}), throttle, 1)
    other = StandInCase(query={"page": 2}, label="GET /v1/jobs")
    assert send(other, throttle, 1) is not None and other.calls == 1
    unlimited = [StandInCase(query={"page": page}) for page in range(5)]
    assert all(send(case, throttle, None) is not None for case in unlimited)
    assert throttle.unsent == {}
    assert throttle.sent == {LABEL: 6, "GET /v1/jobs": 1}
