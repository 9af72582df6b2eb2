"""The throttle against a live target: paced by the contract tier of each request (on a fake clock),
counted per check in its ledger, refused credentials uncounted, early 429s noted, clean-up past the
deadline."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import jwt
import pytest

from sergio_kit.contract.document import packaged_contract
from sergio_kit.errors import OutOfTime
from sergio_kit.target.pacing import MARGIN, Pacer
from sergio_kit.target.throttling import Throttle
from tests.support.fake_clock import FakeClock

WINDOW = 60.0
TOKEN = jwt.encode({"sub": "usr_1"}, "a-signing-key-long-enough-for-hs256-0123456789", algorithm="HS256")
BEARER = {"Authorization": f"Bearer {TOKEN}"}


class Answer:
    """What a fake request returns: a status and headers."""

    def __init__(self, status: int, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.headers = dict(headers or {})


def answering(*statuses: int) -> Callable[[], Answer]:
    """A request that answers ``statuses`` one after the other (a 429 with Retry-After: 2)."""
    answers: Iterator[Answer] = iter(Answer(s, {"Retry-After": "2"} if s == 429 else None) for s in statuses)
    return lambda: next(answers)


def status_and_headers(answer: Answer) -> tuple[int, Mapping[str, str]]:
    """The status and headers of a fake answer."""
    return answer.status, answer.headers


@pytest.fixture
def clock() -> FakeClock:
    """The pacer's clock: it moves only when the pacer sleeps."""
    return FakeClock()


def throttle_on(clock: FakeClock, limits: dict[str, int], deadline: float | None = None) -> Throttle:
    """A live-target throttle (no test clock) pacing to ``limits`` on ``clock``, resolving tiers in the
    packaged contract, running the check ``check.under_test``."""
    pacer = Pacer(
        limits, window=WINDOW, clock=clock, sleep=clock.sleep, announce=lambda line: None, deadline=deadline
    )
    throttle = Throttle(None, pacer=pacer, contract=packaged_contract(), announce=lambda line: None)
    throttle.current = "check.under_test"
    return throttle


def test_a_concrete_path_is_paced_by_its_operations_tier(clock: FakeClock) -> None:
    """``GET /v1/jobs/job_123`` counts against the read tier: the third read of two per window waits,
    a write does not."""
    throttle = throttle_on(clock, {"read": 2, "write": 2})
    throttle.send("GET /v1/jobs/job_123", answering(200), status_and_headers, headers=BEARER)
    throttle.send("GET /v1/jobs", answering(200), status_and_headers, headers=BEARER)
    throttle.send("POST /v1/jobs", answering(201), status_and_headers, headers=BEARER)
    assert clock.slept == []
    throttle.send("GET /v1/jobs/job_456", answering(200), status_and_headers, headers=BEARER)
    assert clock.slept == [WINDOW + MARGIN]
    assert throttle.ledger == {
        ("check.under_test", "read", "user"): 3,
        ("check.under_test", "write", "user"): 1,
    }


def test_the_ledger_names_a_sessions_user_by_its_role(clock: FakeClock) -> None:
    """A principal the sessions named (``roles``) is counted under that role, per running check."""
    throttle = throttle_on(clock, {"bulk": 10})
    throttle.roles["user usr_1"] = "primary"
    throttle.send("POST /v1/jobs/bulk", answering(202), status_and_headers, headers=BEARER)
    throttle.current = "check.next"
    throttle.send("POST /v1/jobs/bulk", answering(202), status_and_headers, headers=BEARER)
    assert throttle.ledger == {
        ("check.under_test", "bulk", "primary"): 1,
        ("check.next", "bulk", "primary"): 1,
    }


def test_an_explicit_tier_wins_over_the_contracts(clock: FakeClock) -> None:
    """``tier=`` names the bucket, whatever the label's operation."""
    throttle = throttle_on(clock, {"auth": 1, "read": 10})
    throttle.send("GET /v1/jobs", answering(200), status_and_headers, headers=BEARER, tier="auth")
    assert throttle.ledger == {("check.under_test", "auth", "user"): 1}


def test_a_label_outside_the_contract_is_neither_paced_nor_counted(clock: FakeClock) -> None:
    """A request the contract does not declare has no tier: it goes at once and stays out of the ledger."""
    throttle = throttle_on(clock, {"read": 1, "write": 1})
    for _ in range(3):
        throttle.send("GET /v1/not-declared", answering(404), status_and_headers, headers=BEARER)
    assert clock.slept == []
    assert throttle.ledger == {}
    assert throttle.sent["GET /v1/not-declared"] == 3


def test_a_refused_bearer_token_is_uncounted(clock: FakeClock) -> None:
    """A 401 to a request with a bearer token charged no principal: out of the ledger and the pacer."""
    throttle = throttle_on(clock, {"read": 1})
    throttle.send("GET /v1/jobs", answering(401), status_and_headers, headers=BEARER)
    assert sum(throttle.ledger.values()) == 0
    throttle.send("GET /v1/jobs", answering(200), status_and_headers, headers=BEARER)
    assert clock.slept == []
    assert throttle.ledger[("check.under_test", "read", "user")] == 1


def test_a_refused_login_counts_against_the_client(clock: FakeClock) -> None:
    """A 401 to an unauthenticated login (a wrong password) still spends the client's auth quota."""
    throttle = throttle_on(clock, {"auth": 1})
    throttle.send("POST /v1/auth/login", answering(401), status_and_headers)
    assert throttle.ledger == {("check.under_test", "auth", "client"): 1}
    throttle.send("POST /v1/auth/login", answering(200), status_and_headers)
    assert clock.slept == [WINDOW + MARGIN]
    assert throttle.ledger == {("check.under_test", "auth", "client"): 2}


def test_a_429_after_pacing_is_the_targets_early_429(
    clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A 429 although the pacer made room is counted as early, waited out (Retry-After) and retried."""
    retry_waits: list[float] = []
    monkeypatch.setattr("sergio_kit.target.throttling.time.sleep", retry_waits.append)  # Retry-After waits
    throttle = throttle_on(clock, {"read": 10})
    answer = throttle.send("GET /v1/jobs", answering(429, 200), status_and_headers, headers=BEARER)
    assert answer.status == 200
    assert throttle.pacer is not None
    assert throttle.pacer.early == {"GET /v1/jobs": 1}
    assert throttle.throttled["GET /v1/jobs"] == 1
    assert retry_waits == [2]
    assert throttle.ledger == {("check.under_test", "read", "user"): 2}


def test_cleaning_up_lifts_the_deadline_only_inside_the_block(clock: FakeClock) -> None:
    """Past the deadline a paced request is out of time, except within ``cleaning_up()``."""
    deadline = clock.now + 10
    throttle = throttle_on(clock, {"write": 1}, deadline=deadline)
    throttle.send("DELETE /v1/jobs/job_1", answering(204), status_and_headers, headers=BEARER)
    with pytest.raises(OutOfTime):
        throttle.send("DELETE /v1/jobs/job_2", answering(204), status_and_headers, headers=BEARER)
    with throttle.cleaning_up():
        throttle.send("DELETE /v1/jobs/job_2", answering(204), status_and_headers, headers=BEARER)
    assert clock.slept == [WINDOW + MARGIN]
    assert throttle.pacer is not None
    assert throttle.pacer.deadline == deadline
    with pytest.raises(OutOfTime):
        throttle.send("DELETE /v1/jobs/job_3", answering(204), status_and_headers, headers=BEARER)
    assert throttle.ledger == {("check.under_test", "write", "user"): 2}
