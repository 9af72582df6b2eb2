"""The pacer: a rolling-window ledger per (tier, principal) that waits for room (on a fake clock), and
the principal a request's credentials name."""

from __future__ import annotations

import re
import threading

import jwt
import pytest

from sergio_kit.errors import OutOfTime
from sergio_kit.target.pacing import CLIENT, MARGIN, VISIBLE_WAIT, Pacer, principal_of
from tests.support.fake_clock import FakeClock

WINDOW = 60.0
SIGNING_KEY = "a-signing-key-long-enough-for-hs256-0123456789"


@pytest.fixture
def clock() -> FakeClock:
    """A clock that moves only when the pacer sleeps (or a test does)."""
    return FakeClock()


@pytest.fixture
def announced() -> list[str]:
    """The lines the pacer announces."""
    return []


def pacer_on(
    clock: FakeClock, announced: list[str], limits: dict[str, int], deadline: float | None = None
) -> Pacer:
    """A pacer with ``limits`` per window of 60 s, on ``clock``, announcing into ``announced``."""
    return Pacer(
        limits, window=WINDOW, clock=clock, sleep=clock.sleep, announce=announced.append, deadline=deadline
    )


def test_requests_within_the_limit_do_not_wait(clock: FakeClock, announced: list[str]) -> None:
    """N admits into a bucket of N per window go at once."""
    pacer = pacer_on(clock, announced, {"auth": 3})
    for _ in range(3):
        pacer.admit("auth", CLIENT, "a login")
    assert clock.slept == []
    assert clock.now == 1000.0


def test_one_past_the_limit_waits_until_the_first_ages_out(clock: FakeClock, announced: list[str]) -> None:
    """The N+1th request waits until the first of the window ages out, plus the margin."""
    pacer = pacer_on(clock, announced, {"auth": 3})
    pacer.admit("auth", CLIENT, "a login")
    clock.sleep(10)
    pacer.admit("auth", CLIENT, "a login")
    pacer.admit("auth", CLIENT, "a login")
    pacer.admit("auth", CLIENT, "the fourth login")
    assert clock.slept == [10, WINDOW + MARGIN - 10]
    assert clock.now == 1000.0 + WINDOW + MARGIN
    assert pacer.waited == {"auth": WINDOW + MARGIN - 10}


def test_kept_room_makes_a_request_wait_that_would_fit(clock: FakeClock, announced: list[str]) -> None:
    """``keep=2`` leaves two of the window's three requests to another thread's checks: the first
    request goes at once, the second waits for the first to age out (announced at the full quota);
    a request without ``keep`` still takes the room kept."""
    pacer = pacer_on(clock, announced, {"write": 3})
    start = clock.now
    pacer.admit("write", "user a", "a contract case", keep=2)
    assert clock.now == start
    pacer.admit("write", "user a", "a contract case", keep=2)
    assert clock.now == pytest.approx(start + WINDOW + MARGIN)
    assert "3 per 60 s" in announced[0]
    pacer.admit("write", "user a", "a lane check's request")
    pacer.admit("write", "user a", "a lane check's request")
    assert clock.now == pytest.approx(start + WINDOW + MARGIN)
    assert pacer.room("write", "user a") == 0


def test_the_next_request_waits_for_the_next_oldest(clock: FakeClock, announced: list[str]) -> None:
    """Once the first ages out, the window still holds the others: the one after waits for the second."""
    pacer = pacer_on(clock, announced, {"bulk": 2})
    pacer.admit("bulk", "user u1", "a bulk create")
    clock.sleep(20)
    pacer.admit("bulk", "user u1", "a bulk create")
    pacer.admit("bulk", "user u1", "a bulk create")  # waits for the first: 1061
    pacer.admit("bulk", "user u1", "a bulk create")  # waits for the second: 1081
    assert clock.now == 1020.0 + WINDOW + MARGIN


def test_seconds_to_send_agrees_with_the_waits_admit_makes(clock: FakeClock, announced: list[str]) -> None:
    """What fits now takes no time; past the limit, the last request goes when the one ``limit`` before
    it ages out: the figure is the time a run of ``admit`` calls then takes."""
    pacer = pacer_on(clock, announced, {"bulk": 2})
    assert pacer.seconds_to_send("bulk", "user u1", 2) == 0.0
    pacer.admit("bulk", "user u1", "a bulk create")
    clock.sleep(20)
    pacer.admit("bulk", "user u1", "a bulk create")
    predicted = pacer.seconds_to_send("bulk", "user u1", 3)  # 1061 and 1081, then 1122
    assert predicted == 2 * (WINDOW + MARGIN) - 20
    started = clock.now
    for _ in range(3):
        pacer.admit("bulk", "user u1", "a bulk create")
    assert clock.now - started == predicted
    assert pacer.seconds_to_send("read", "user u1", 500) == 0.0  # no limit: never a wait


def test_buckets_per_tier_and_principal_are_independent(clock: FakeClock, announced: list[str]) -> None:
    """A full bucket holds back neither another principal in its tier nor its principal in another tier."""
    pacer = pacer_on(clock, announced, {"auth": 1, "bulk": 1})
    pacer.admit("auth", CLIENT, "a login")
    pacer.admit("auth", "user u1", "a logout")
    pacer.admit("bulk", CLIENT, "a bulk create")
    pacer.admit("bulk", "user u1", "a bulk create")
    assert clock.slept == []
    pacer.admit("auth", CLIENT, "another login")
    assert clock.slept == [WINDOW + MARGIN]


def test_noted_requests_count(clock: FakeClock, announced: list[str]) -> None:
    """Requests sent without pacing (a probe's), once noted, make later ones wait."""
    pacer = pacer_on(clock, announced, {"webhook": 2})
    pacer.note("webhook", "user u1")
    pacer.note("webhook", "user u1")
    pacer.admit("webhook", "user u1", "a webhook registration")
    assert clock.slept == [WINDOW + MARGIN]


def test_a_released_request_no_longer_counts(clock: FakeClock, announced: list[str]) -> None:
    """Released requests (credentials refused) leave room for the next."""
    pacer = pacer_on(clock, announced, {"read": 2})
    pacer.admit("read", "user u1", "a list")
    pacer.admit("read", "user u1", "a list")
    pacer.release("read", "user u1")
    pacer.admit("read", "user u1", "a list")
    assert clock.slept == []
    pacer.admit("read", "user u1", "a list")
    assert clock.slept == [WINDOW + MARGIN]


def test_a_tier_without_a_limit_is_never_paced(clock: FakeClock, announced: list[str]) -> None:
    """Admits and notes of a tier the limits do not name neither wait nor count."""
    pacer = pacer_on(clock, announced, {"auth": 1})
    for _ in range(50):
        pacer.note("read", "user u1")
        pacer.admit("read", "user u1", "a list")
    assert clock.slept == []
    assert announced == []


def test_a_long_wait_is_announced(clock: FakeClock, announced: list[str]) -> None:
    """A wait past VISIBLE_WAIT gets one line: the tier, the principal, why, until when, the time left."""
    pacer = pacer_on(clock, announced, {"auth": 1})
    pacer.remaining = lambda: 95.0
    pacer.admit("auth", CLIENT, "POST /v1/auth/login")
    pacer.admit("auth", CLIENT, "POST /v1/auth/login")
    assert WINDOW + MARGIN > VISIBLE_WAIT
    assert len(announced) == 1
    line = announced[0]
    assert "\n" not in line
    assert "auth tier" in line
    assert CLIENT in line
    assert "POST /v1/auth/login" in line
    assert re.search(r"until \d\d:\d\d:\d\d UTC", line)
    assert "about 95 s of the plan left" in line


def test_a_short_wait_is_not_announced(clock: FakeClock, announced: list[str]) -> None:
    """A wait of VISIBLE_WAIT or less is slept quietly."""
    pacer = pacer_on(clock, announced, {"auth": 1})
    pacer.admit("auth", CLIENT, "a login")
    clock.sleep(WINDOW + MARGIN - 2)
    pacer.admit("auth", CLIENT, "a login")
    assert clock.slept[-1] == 2 < VISIBLE_WAIT
    assert announced == []


def test_a_wait_past_the_deadline_is_out_of_time(clock: FakeClock, announced: list[str]) -> None:
    """A wait that would end after the deadline raises OutOfTime (saying so) instead of sleeping."""
    pacer = pacer_on(clock, announced, {"bulk": 1}, deadline=clock.now + 30)
    pacer.admit("bulk", "user u1", "POST /v1/jobs/bulk")
    with pytest.raises(OutOfTime, match=r"out of time: POST /v1/jobs/bulk needs the bulk tier"):
        pacer.admit("bulk", "user u1", "POST /v1/jobs/bulk")
    assert clock.slept == []


def test_a_wait_ending_before_the_deadline_is_slept(clock: FakeClock, announced: list[str]) -> None:
    """A deadline later than the wait's end changes nothing."""
    pacer = pacer_on(clock, announced, {"bulk": 1}, deadline=clock.now + 100)
    pacer.admit("bulk", "user u1", "a bulk create")
    pacer.admit("bulk", "user u1", "a bulk create")
    assert clock.slept == [WINDOW + MARGIN]


def test_without_deadline_lets_a_wait_pass_the_deadline(clock: FakeClock, announced: list[str]) -> None:
    """Within ``without_deadline()`` a wait may end after the deadline; after it the deadline is back."""
    deadline = clock.now + 30
    pacer = pacer_on(clock, announced, {"write": 1}, deadline=deadline)
    pacer.admit("write", "user u1", "a clean-up")
    with pacer.without_deadline():
        pacer.admit("write", "user u1", "a clean-up")
    assert clock.slept == [WINDOW + MARGIN]
    assert pacer.deadline == deadline
    with pytest.raises(OutOfTime):
        pacer.admit("write", "user u1", "a check")


def test_threads_sharing_a_bucket_never_exceed_its_limit(clock: FakeClock, announced: list[str]) -> None:
    """Several threads admitting into one bucket: no window holds more than the limit, none is lost."""
    limit, threads, each = 3, 4, 5
    pacer = pacer_on(clock, announced, {"bulk": limit})
    admitted: list[float] = []
    guard = threading.Lock()

    def admit_some() -> None:
        for _ in range(each):
            pacer.admit("bulk", "user u1", "a bulk create")
            with guard:
                admitted.append(clock.last_read())  # when the pacer counted it

    workers = [threading.Thread(target=admit_some) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)
    times = sorted(admitted)
    assert len(times) == threads * each
    assert all(later - first >= WINDOW for first, later in zip(times, times[limit:], strict=False))
    windows = -(-len(times) // limit)
    assert times[-1] - times[0] >= (windows - 1) * WINDOW


def test_a_bearer_jwt_names_its_user() -> None:
    """A bearer JWT (read, not verified) names ``user <sub>``."""
    token = jwt.encode({"sub": "usr_42"}, SIGNING_KEY, algorithm="HS256")
    assert principal_of({"Authorization": f"Bearer {token}"}) == "user usr_42"


def test_a_bearer_token_that_is_no_jwt_is_named_by_a_digest() -> None:
    """An opaque bearer token is ``token <digest>``, never the token itself."""
    token = "opaque-bearer-token-value-1234"
    principal = principal_of({"Authorization": f"Bearer {token}"})
    assert re.fullmatch(r"token [0-9a-f]{8}", principal)
    assert token not in principal
    assert principal != principal_of({"Authorization": "Bearer another-opaque-token"})


def test_an_api_key_is_named_by_a_digest() -> None:
    """An X-API-Key is ``key <8 hex>``, never the key; two keys are two principals."""
    key = "sk_test_0123456789abcdef"
    principal = principal_of({"X-API-Key": key})
    assert re.fullmatch(r"key [0-9a-f]{8}", principal)
    assert key not in principal
    assert principal != principal_of({"X-API-Key": "sk_test_another"})


@pytest.mark.parametrize("headers", [None, {}, {"Accept": "application/json"}, {"Authorization": "Bearer "}])
def test_no_credentials_name_the_client(headers: dict[str, str] | None) -> None:
    """Without credentials the principal is this client's address."""
    assert principal_of(headers) == CLIENT


def test_header_names_and_the_scheme_are_case_insensitive() -> None:
    """Header names in any case, and the scheme ``bearer`` in any case, name the same principal."""
    token = jwt.encode({"sub": "usr_7"}, SIGNING_KEY, algorithm="HS256")
    assert principal_of({"AUTHORIZATION": f"bearer {token}"}) == "user usr_7"
    key = "sk_test_case"
    assert (
        principal_of({"x-api-key": key})
        == principal_of({"X-API-KEY": key})
        == principal_of({"X-Api-Key": key})
    )
