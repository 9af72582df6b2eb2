"""``ratelimit.<tier>.headers`` when a deployment sends only some of the rate-limit fields: whatever it
sends must agree with the tier (the quota and window it names, what remains counting down), and what it
leaves out is not asked for; a form that says neither the quota nor what remains is a finding.

The responses are made up here (a probe's recording of a tier with a quota of 3); the reference
server's partial forms (the ``ratelimit-policy-only`` variant, the ``@quota-only`` and
``@remaining-only`` faults) are proven in ``test_variants.py`` and ``test_check_proofs.py``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import httpx
import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.ratelimit.calls import TierCaller
from sergio_kit.checks.ratelimit.probe import TierRun, judge_headers
from sergio_kit.reports.findings import CheckFailed
from sergio_kit.target.target import Account, Target

QUOTA = 3
#: the fields of one response, from what remains after it
Fields = Callable[[int], dict[str, str]]


@pytest.fixture
def context() -> Iterator[CheckContext]:
    """A context on a stand-in target (nothing is sent: the recording is made up)."""
    ctx = CheckContext(Target("https://sergio.test", Account("qa@sergio.test", "not-a-real-password")))
    yield ctx
    ctx.close()


def _run(ctx: CheckContext, fields: Fields) -> TierRun:
    """A read probe's recording: ``QUOTA`` admitted, then a 429, each with ``fields(remaining)``."""
    caller = TierCaller(ctx, "read", ctx.require("GET /v1/jobs"), {"Authorization": "Bearer t"}, None)
    sent = httpx.Request("GET", "https://sergio.test/v1/jobs")
    admitted = [httpx.Response(200, headers=fields(QUOTA - n), request=sent) for n in range(1, QUOTA + 1)]
    throttled = httpx.Response(429, headers=fields(0), request=sent)
    return TierRun(caller, QUOTA, admitted=admitted, first_429=throttled)


PASSING: dict[str, Fields] = {
    "only RateLimit-Policy": lambda left: {"RateLimit-Policy": f'"read";q={QUOTA};w=60'},
    "only RateLimit": lambda left: {"RateLimit": f'"read";r={left};t=30'},
    "both structured fields": lambda left: {
        "RateLimit-Policy": f'"read";q={QUOTA};w=60',
        "RateLimit": f'"read";r={left};t=30',
    },
    "only RateLimit-Limit": lambda left: {"RateLimit-Limit": str(QUOTA)},
    "only X-RateLimit-Remaining and -Reset": lambda left: {
        "X-RateLimit-Remaining": str(left),
        "X-RateLimit-Reset": "30",
    },
}

FAILING: dict[str, tuple[Fields, str]] = {
    "only RateLimit-Policy, the wrong quota": (
        lambda left: {"RateLimit-Policy": f'"read";q={2 * QUOTA};w=60'},
        "says a quota of 6",
    ),
    "only RateLimit-Policy, another tier's name": (
        lambda left: {"RateLimit-Policy": f'"write";q={QUOTA};w=60'},
        "not named after the tier",
    ),
    "only RateLimit, not counting down": (
        lambda left: {"RateLimit": f'"read";r={QUOTA};t=30'},
        "says 3 remain",
    ),
    "only RateLimit, without its reset": (
        lambda left: {"RateLimit": f'"read";r={left}'},
        "when the quota resets",
    ),
    "only RateLimit-Remaining, not counting down": (
        lambda left: {"RateLimit-Remaining": str(QUOTA)},
        "says 3 remain",
    ),
    "only RateLimit-Reset": (
        lambda left: {"RateLimit-Reset": "30"},
        "says neither the quota nor what remains",
    ),
}


@pytest.mark.parametrize("sent", sorted(PASSING))
def test_some_fields_that_agree_pass(context: CheckContext, sent: str) -> None:
    """A deployment may send a form's quota without what remains, or the reverse."""
    judge_headers(context, _run(context, PASSING[sent]))


@pytest.mark.parametrize("sent", sorted(FAILING))
def test_a_field_sent_wrong_is_a_finding(context: CheckContext, sent: str) -> None:
    """Whatever is sent is held to the tier, however few fields it is."""
    fields, said = FAILING[sent]
    with pytest.raises(CheckFailed, match=said):
        judge_headers(context, _run(context, fields))
