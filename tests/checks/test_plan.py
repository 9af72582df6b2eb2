"""The run plan (``checks/plan.py``) and the live case budgets (``checks/budgets.py``): what a run will
send per tier and principal, and the shortest time the quotas allow."""

from __future__ import annotations

from typing import Any

import pytest

from sergio_kit.checks import plan
from sergio_kit.checks.budgets import case_budgets
from sergio_kit.checks.context import SPARE_LOGIN
from sergio_kit.checks.plan import Bucket, RunPlan, costs_table, plan_run
from sergio_kit.contract.document import Contract, packaged_contract
from sergio_kit.contract.ratelimit import DEFAULT_TIER_LIMITS, WINDOW_SECONDS

LIMITS = dict(DEFAULT_TIER_LIMITS)  # auth 10, read 120, write 60, webhook 10, bulk 10

#: The contract cases of a small contract: a login (no security), a bearer read, a bearer bulk create
#: and an API-key read.
SMALL_CONTRACT = Contract.of(
    {
        "openapi": "3.1.0",
        "security": [{"bearerAuth": []}],
        "paths": {
            "/v1/auth/login": {"post": {"security": [], "responses": {"200": {"description": "ok"}}}},
            "/v1/jobs": {"get": {"responses": {"200": {"description": "ok"}}}},
            "/v1/jobs/bulk": {"post": {"responses": {"202": {"description": "ok"}}}},
            "/zapier/v1/me": {
                "get": {"security": [{"apiKeyAuth": []}], "responses": {"200": {"description": "ok"}}}
            },
        },
    },
    "a small test contract",
)


def use_costs(monkeypatch: pytest.MonkeyPatch, costs: dict[str, dict[str, dict[str, int]]]) -> None:
    """Make ``costs`` the measured costs table for the test."""
    monkeypatch.setattr(plan, "measured_costs", lambda: costs)


def requests_of(run_plan: RunPlan) -> dict[tuple[str, str], int]:
    """The planned requests per (tier, principal)."""
    return {(bucket.tier, bucket.principal): bucket.requests for bucket in run_plan.buckets}


@pytest.mark.parametrize(
    ("requests", "limit", "windows"),
    [(0, 10, 1), (1, 10, 1), (10, 10, 1), (11, 10, 2), (25, 10, 3), (120, 120, 1), (121, 120, 2)],
)
def test_a_bucket_needs_a_window_per_limit_of_requests(requests: int, limit: int, windows: int) -> None:
    """windows = ceil(requests / limit), at least one; the floor is the windows after the first."""
    bucket = Bucket("auth", "client", requests, limit)
    assert bucket.windows == windows
    assert bucket.floor_seconds == (windows - 1) * WINDOW_SECONDS


def test_the_floor_is_the_busiest_buckets(monkeypatch: pytest.MonkeyPatch) -> None:
    """The run's floor is that of the bucket needing the most windows, whatever the others carry."""
    use_costs(
        monkeypatch,
        {
            "auth.login": {"auth": {"client": 25}},  # 3 windows of 10
            "jobs.list": {"read": {"primary": 130}},  # 2 windows of 120: more requests, fewer windows
        },
    )
    run_plan = plan_run(["auth.login", "jobs.list"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    assert requests_of(run_plan) == {("auth", "client"): 25, ("read", "primary"): 130}
    assert run_plan.floor_seconds == 2 * WINDOW_SECONDS
    assert run_plan.busiest() == Bucket("auth", "client", 25, 10)
    assert run_plan.estimate_seconds > run_plan.floor_seconds
    assert run_plan.as_dict()["floor_seconds"] == 2 * WINDOW_SECONDS


def test_the_estimate_starts_the_buckets_the_rate_limit_plan_leaves_after_its_window(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The rate-limit plan's buckets count their windows from the run's start (its requests are in
    them); another bucket's windows start when the plan's window ends: the estimate is the later of
    the two last windows, plus the requests' own time."""
    use_costs(
        monkeypatch,
        {
            "ratelimit.auth.boundary": {"auth": {"client": 11}},  # with auth.login's 9: 2 windows from 0
            "auth.login": {"auth": {"client": 9}},
            "jobs.list": {"read": {"primary": 130}},  # 2 windows after the plan's: its last at 60 + 60 s
        },
    )
    checks = ["ratelimit.auth.boundary", "auth.login"]
    run_plan = plan_run(checks, SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    assert run_plan.ratelimit_buckets == {("auth", "client")}
    assert run_plan.estimate_seconds == pytest.approx(WINDOW_SECONDS + 20 * plan.SECONDS_PER_REQUEST)
    run_plan = plan_run([*checks, "jobs.list"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    assert run_plan.floor_seconds == WINDOW_SECONDS
    assert run_plan.estimate_seconds == pytest.approx(2 * WINDOW_SECONDS + 150 * plan.SECONDS_PER_REQUEST)
    without_plan = plan_run(
        ["auth.login", "jobs.list"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25
    )
    assert without_plan.estimate_seconds == pytest.approx(WINDOW_SECONDS + 139 * plan.SECONDS_PER_REQUEST)


def test_not_live_the_floor_is_zero_and_the_plan_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a test clock every window is instant: no floor, and the plan says so in one line."""
    use_costs(monkeypatch, {"auth.login": {"auth": {"client": 25}}})
    run_plan = plan_run(["auth.login"], SMALL_CONTRACT, LIMITS, {}, live=False, max_examples=25)
    assert run_plan.floor_seconds == 0.0
    lines = run_plan.lines()
    assert len(lines) == 1
    assert "test clock" in lines[0]


def test_only_selected_checks_and_limited_tiers_count(monkeypatch: pytest.MonkeyPatch) -> None:
    """Costs of checks not selected, of tiers without a limit and non-positive counts are left out."""
    use_costs(
        monkeypatch,
        {
            "auth.login": {"auth": {"client": 2}, "unlimited": {"client": 50}, "write": {"primary": 0}},
            "not.selected": {"auth": {"client": 99}},
        },
    )
    run_plan = plan_run(["auth.login"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    assert requests_of(run_plan) == {("auth", "client"): 2}


def test_the_lane_part_of_the_later_requests_is_the_auth_and_refresh_checks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``later`` holds what every check but the rate-limit plan sends; ``lane`` only what the auth lane's
    checks (groups auth and refresh) send: the room the contract cases leave them."""
    use_costs(
        monkeypatch,
        {
            "auth.member.admin_only": {"write": {"member": 3}},
            "refresh.race": {"auth": {"client": 2}},
            "apikey.scope": {"write": {"primary": 3}},
            "ratelimit.isolation.keys": {"write": {"primary": 60}},
        },
    )
    checks = ["auth.member.admin_only", "refresh.race", "apikey.scope", "ratelimit.isolation.keys"]
    run_plan = plan_run(checks, SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    assert run_plan.lane == {("write", "member"): 3, ("auth", "client"): 2}
    assert run_plan.later == {**run_plan.lane, ("write", "primary"): 3}


def test_contract_cases_count_per_operation_as_client_or_primary(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each operation sends its case budget (else ``max_examples``): without security as the client, with
    a bearer token as the primary user; the measured costs of ``contract.schemathesis`` are not used."""
    use_costs(monkeypatch, {"contract.schemathesis": {"read": {"primary": 1000}}})
    budgets = {"POST /v1/auth/login": 2, "POST /v1/jobs/bulk": 3}
    run_plan = plan_run(
        ["contract.schemathesis"], SMALL_CONTRACT, LIMITS, budgets, live=True, max_examples=25
    )
    assert requests_of(run_plan) == {("auth", "client"): 2, ("read", "primary"): 25, ("bulk", "primary"): 3}


def test_a_member_shares_only_the_operations_the_contract_opens_to_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With a member among the users, the packaged contract's key-management cases stay with the two
    admins and the job cases spread over all three; the member's login is free with the rate-limit
    probe and one of the client's without it."""
    use_costs(monkeypatch, {"ratelimit.auth": {"auth": {"client": 10}}})
    contract = packaged_contract()
    users = ("primary", "other", "member")

    def member_cases(run_plan: RunPlan) -> dict[str, int]:
        return {tier: n for (tier, principal), n in requests_of(run_plan).items() if principal == "member"}

    alone = plan_run(["contract.schemathesis"], contract, LIMITS, {}, live=True, max_examples=3, users=users)
    bearer_writes = [op for op in contract.operations if "bearerAuth" in op.security and op.tier == "write"]
    jobs_for_members = sum(3 for operation in bearer_writes if operation.members_may_call)
    admin_writes = sum(3 for operation in bearer_writes if operation.admin_only)
    assert admin_writes > 0 and member_cases(alone)["write"] > 0
    writes = requests_of(alone)
    assert writes[("write", "primary")] + writes[("write", "other")] + writes[("write", "member")] == (
        jobs_for_members + admin_writes
    )
    assert writes[("write", "member")] <= jobs_for_members
    client_logins = requests_of(alone)[("auth", "client")]
    with_probe = plan_run(
        ["contract.schemathesis", "ratelimit.auth"],
        contract,
        LIMITS,
        {},
        live=True,
        max_examples=3,
        users=users,
    )
    assert requests_of(with_probe)[("auth", "client")] == client_logins - 1 + 10


def test_the_buckets_follow_the_tier_table(monkeypatch: pytest.MonkeyPatch) -> None:
    """Buckets come in the order of the tier table, the busiest principal of a tier first."""
    use_costs(
        monkeypatch,
        {"a.check": {"bulk": {"primary": 1}, "auth": {"primary": 1, "client": 5}, "read": {"other": 3}}},
    )
    run_plan = plan_run(["a.check"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    assert [(bucket.tier, bucket.principal) for bucket in run_plan.buckets] == [
        ("auth", "client"),
        ("auth", "primary"),
        ("read", "other"),
        ("bulk", "primary"),
    ]


def test_spare_logins_cost_a_client_login_only_without_the_ratelimit_group(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Logins taken from the rate-limit probe's spares are free when a ratelimit check runs (the probe
    pays for them), and a login of the client's otherwise."""
    use_costs(
        monkeypatch,
        {
            "refresh.rotation": {"auth": {SPARE_LOGIN: 2, "client": 1}},
            "ratelimit.auth": {"auth": {"client": 10}},
        },
    )
    alone = plan_run(["refresh.rotation"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    assert requests_of(alone) == {("auth", "client"): 3}
    with_probe = plan_run(
        ["refresh.rotation", "ratelimit.auth"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25
    )
    assert requests_of(with_probe) == {("auth", "client"): 11}


def test_small_tiers_share_a_third_of_their_window() -> None:
    """Auth, webhook and bulk operations get max(1, limit // (3 * operations of the tier)); read and
    write operations ``max_examples``."""
    contract = packaged_contract()
    budgets = case_budgets(contract, LIMITS, 25)
    per_tier: dict[str, int] = {}
    for operation in contract.operations:
        per_tier[operation.tier] = per_tier.get(operation.tier, 0) + 1
    assert set(budgets) == {operation.label for operation in contract.operations}
    for operation in contract.operations:
        if operation.tier in ("auth", "webhook", "bulk"):
            share = max(1, LIMITS[operation.tier] // (3 * per_tier[operation.tier]))
            assert budgets[operation.label] == share, operation.label
        else:
            assert budgets[operation.label] == 25, operation.label
    assert budgets["POST /v1/auth/login"] == 1  # 10 // (3 * 3 auth operations)
    assert budgets["POST /v1/webhooks"] == 3  # 10 // (3 * 1)
    assert budgets["POST /v1/jobs/bulk"] == 3


def test_a_tiny_quota_still_leaves_one_case() -> None:
    """However small the tier's quota, each of its operations sends at least one case."""
    budgets = case_budgets(packaged_contract(), {**LIMITS, "auth": 2, "bulk": 1}, 25)
    assert budgets["POST /v1/auth/refresh"] == 1
    assert budgets["POST /v1/jobs/bulk"] == 1


def test_a_tier_without_a_limit_gets_max_examples() -> None:
    """A tier the limits do not name is not held to a share."""
    budgets = case_budgets(packaged_contract(), {"read": 120}, 40)
    assert budgets["POST /v1/auth/login"] == 40
    assert budgets["POST /v1/jobs/bulk"] == 40


def test_the_costs_table_renames_keys_in_order_of_first_use() -> None:
    """API keys become ``key 1``, ``key 2``... in order of first use (checks in order); the contract cases
    and non-positive counts are dropped."""
    sent: dict[str, Any] = {
        "apikey.rotation": {
            "read": {"key 9f00aa11": 0, "key 0bad0bad": 3},
            "write": {"primary": 2, "key 9f00aa11": 1},
        },
        "apikey.scopes": {"read": {"key 9f00aa11": 4, "key 0bad0bad": 1}},
        "auth.login": {"auth": {"client": 0}},
        "contract.schemathesis": {"read": {"primary": 100}},
    }
    table = costs_table(sent, "python bench/live_run.py --write-costs")
    assert table == {
        "measured_with": "python bench/live_run.py --write-costs",
        "checks": {
            "apikey.rotation": {"read": {"key 1": 3}, "write": {"primary": 2, "key 2": 1}},
            "apikey.scopes": {"read": {"key 2": 4, "key 1": 1}},
        },
    }


def test_a_live_plan_names_every_tier_and_the_floor(monkeypatch: pytest.MonkeyPatch) -> None:
    """The printed plan has a line per tier (requests, principals, windows) and the floor with its bucket."""
    use_costs(
        monkeypatch,
        {
            "a.check": {
                "auth": {"client": 25, "primary": 2},
                "read": {"primary": 40},
                "webhook": {"primary": 3},
            }
        },
    )
    run_plan = plan_run(["a.check"], SMALL_CONTRACT, LIMITS, {}, live=True, max_examples=25)
    lines = run_plan.lines()
    for tier in ("auth", "read", "webhook"):
        assert any(line.split()[:1] == [tier] for line in lines), tier
    auth_line = next(line for line in lines if line.split()[:1] == ["auth"])
    assert auth_line.split()[1:4] == ["27", "2", "3"]  # requests, principals, windows
    assert "this client's address: 25 at 10 per window" in auth_line
    floor_line = lines[-1]
    assert "floor 120 s" in floor_line
    assert "auth tier" in floor_line
    assert "3 windows" in floor_line
