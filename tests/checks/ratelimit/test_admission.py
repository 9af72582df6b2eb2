"""What the ``ratelimit`` checks count as admitted: any 2xx, whatever success status the deployment
chose (201 on webhook registration is the kit's assumption; a deployment answering 200 is correct)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from sergio_kit.checks.context import CheckContext
from sergio_kit.checks.ratelimit.calls import WEBHOOKS, TierCaller, is_admitted
from sergio_kit.reports.findings import CheckFailed
from sergio_kit.target.target import Account, Target
from sergio_kit.target.traffic import ADMITTED, FAILED, THROTTLED

QUOTA = 3
BASE_URL = "https://sergio.test"


def _webhook_tier(success_status: int) -> httpx.MockTransport:
    """A webhook registration endpoint that answers ``success_status`` for ``QUOTA`` requests, then 429."""
    served = 0

    def answer(request: httpx.Request) -> httpx.Response:
        nonlocal served
        served += 1
        if served > QUOTA:
            return httpx.Response(
                429, headers={"Retry-After": "30"}, json={"error": {"code": "rate_limited"}}
            )
        return httpx.Response(success_status, json={"id": f"wh_{served}"})

    return httpx.MockTransport(answer)


@pytest.fixture
def context() -> Iterator[CheckContext]:
    """A check context on a stand-in target (no network: each test gives it a mock transport)."""
    ctx = CheckContext(Target(BASE_URL, Account("admin@sergio.test", "not-a-real-password")))
    yield ctx
    ctx.close()


def _webhook_caller(ctx: CheckContext, success_status: int) -> TierCaller:
    ctx.client = httpx.Client(base_url=BASE_URL, transport=_webhook_tier(success_status))
    operation = ctx.require(WEBHOOKS)
    return TierCaller(ctx, "webhook", operation, {"Authorization": "Bearer t"}, {"url": "https://x.test"})


@pytest.mark.parametrize("status", [200, 201, 202, 204])
def test_any_2xx_is_admitted(status: int) -> None:
    """Every 2xx counts as admitted; 429 and errors do not."""
    assert is_admitted(httpx.Response(status))
    assert not is_admitted(httpx.Response(429))
    assert not is_admitted(httpx.Response(404))


@pytest.mark.parametrize("status", [200, 201])
def test_webhook_tier_answering_200_is_admitted(context: CheckContext, status: int) -> None:
    """A deployment registering webhooks with 200 (not the assumed 201) has its quota counted, not a
    "neither admitted nor throttled" failure; the created webhooks are still noted for cleanup."""
    caller = _webhook_caller(context, status)
    admitted, throttled = caller.exhaust(QUOTA)
    assert [response.status_code for response in admitted] == [status] * QUOTA
    assert throttled.status_code == 429
    assert caller.created == [f"/v1/webhooks/wh_{n}" for n in range(1, QUOTA + 1)]
    outcomes = [outcome for _, outcome in context.traffic.events["webhook"]]
    assert outcomes == [ADMITTED] * QUOTA + [THROTTLED]


def test_webhook_tier_answering_an_error_fails(context: CheckContext) -> None:
    """An error status is still neither admitted nor throttled."""
    caller = _webhook_caller(context, 500)
    with pytest.raises(CheckFailed, match="neither admitted nor throttled"):
        caller.exhaust(QUOTA)
    assert [outcome for _, outcome in context.traffic.events["webhook"]] == [FAILED]
