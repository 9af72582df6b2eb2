"""The run plan: before the first request, what the whole run will send per tier and principal, and
the shortest time the target's quotas allow.

The count comes from two sources. The contract cases are counted from the contract in force: each
operation sends its case budget (:func:`sergio_kit.checks.budgets.case_budgets`, live) as the
principal its security names (a bearer operation's cases go to the least loaded user, as the contract
run sends them). Every other check's requests, and the clean-ups (``clean-up``: what the run's close
deletes; ``contract.leftovers``: what the contract cases made), come from ``costs.json``: what each
sent, per tier and principal, in a live run against the clean reference server with the documented
tiers (``bench/live_run.py --write-costs``; ``tests/cli/test_check_live.py`` keeps it honest by
comparing the plan with what a live run sends). Logins a check takes from the rate-limit probe's spare
ones cost nothing when the ``ratelimit`` group runs, and a login of the client's otherwise.

The floor: a bucket (tier, principal) that must carry ``n`` requests at ``limit`` per rolling window
needs ``ceil(n / limit)`` windows, the last of which starts ``(ceil(n / limit) - 1)`` windows after the
first request; the run cannot end before its busiest bucket does.
"""

from __future__ import annotations

import json
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from sergio_kit.checks.context import CLEAN_UP, MEMBER, SPARE_LOGIN
from sergio_kit.checks.contract.leftovers import LEDGER_NAME as LEFTOVERS
from sergio_kit.checks.lanes import LANE_GROUPS
from sergio_kit.contract.document import Contract
from sergio_kit.contract.ratelimit import WINDOW_SECONDS

COSTS_FILE = Path(__file__).with_name("costs.json")
SCHEMATHESIS = "contract.schemathesis"
#: What one request takes apart from waiting (TLS round trip and checking on loopback or a nearby
#: staging), for the estimate; the run's own work is measured in ``bench/live_run.py``.
SECONDS_PER_REQUEST = 0.02
#: How principals are named to the user.
SHOWN = {
    "client": "this client's address",
    "primary": "the primary user",
    "other": "the other tenant's admin",
    "member": "the first tenant's member",
}


@dataclass(frozen=True)
class Bucket:
    """The requests the run plans for one (tier, principal) and what the quota makes of them."""

    tier: str
    principal: str
    requests: int
    limit: int

    @property
    def windows(self) -> int:
        """The windows the requests need at ``limit`` per window."""
        return max(1, math.ceil(self.requests / self.limit))

    @property
    def floor_seconds(self) -> float:
        """From the bucket's first request to its last, at the least."""
        return (self.windows - 1) * WINDOW_SECONDS


@dataclass
class RunPlan:
    """What the run will send, and the time its quotas allow at the least."""

    live: bool
    buckets: list[Bucket] = field(default_factory=list)
    #: (tier, principal) -> requests the checks other than the contract cases and the rate-limit plan
    #: will send (the clean-up included): what the contract cases balance the users' loads against
    later: dict[tuple[str, str], int] = field(default_factory=dict)
    #: of ``later``, what the checks of the auth lane send (``checks.lanes.LANE_GROUPS``): they run
    #: beside the contract cases, which leave them room
    lane: dict[tuple[str, str], int] = field(default_factory=dict)
    #: the buckets the rate-limit plan (run first) sends in: their windows start with the run; the
    #: others' start only when the plan's window ends
    ratelimit_buckets: frozenset[tuple[str, str]] = frozenset()

    @property
    def floor_seconds(self) -> float:
        """The busiest bucket's floor: no run of these requests ends sooner (live mode; the embedded
        server's test clock makes every window instant)."""
        if not self.live:
            return 0.0
        return max((bucket.floor_seconds for bucket in self.buckets), default=0.0)

    @property
    def estimate_seconds(self) -> float:
        """When the busiest bucket's last window starts (a bucket the rate-limit plan does not send in
        starts when the plan's window ends, if it runs), plus the time the requests take to send one
        after another."""
        requests = sum(bucket.requests for bucket in self.buckets)
        if not self.live:
            return SECONDS_PER_REQUEST * requests
        after_plan = WINDOW_SECONDS if self.ratelimit_buckets else 0
        last = max(
            (
                bucket.floor_seconds
                + (0 if (bucket.tier, bucket.principal) in self.ratelimit_buckets else after_plan)
                for bucket in self.buckets
            ),
            default=0.0,
        )
        return last + SECONDS_PER_REQUEST * requests

    def busiest(self) -> Bucket | None:
        """The bucket that sets the floor."""
        return max(self.buckets, key=lambda bucket: (bucket.floor_seconds, bucket.requests), default=None)

    def tiers(self) -> dict[str, list[Bucket]]:
        """The buckets by tier, in the order of the tier table."""
        grouped: dict[str, list[Bucket]] = {}
        for bucket in self.buckets:
            grouped.setdefault(bucket.tier, []).append(bucket)
        return grouped

    def lines(self) -> list[str]:
        """The plan as printed before the first request."""
        if not self.live:
            return ["plan: the target has a test clock, every window is instant: nothing to pace"]
        lines = [f"plan (live: paced to the target's quotas, windows of {WINDOW_SECONDS} s):"]
        lines.append(f"  {'tier':<8} {'requests':>8} {'principals':>10} {'windows':>7}  busiest principal")
        for tier, buckets in self.tiers().items():
            top = max(buckets, key=lambda bucket: bucket.requests)
            windows = max(bucket.windows for bucket in buckets)
            lines.append(
                f"  {tier:<8} {sum(b.requests for b in buckets):>8} {len(buckets):>10} {windows:>7}  "
                f"{shown(top.principal)}: {top.requests} at {top.limit} per window"
            )
        busiest = self.busiest()
        if self.live and busiest is not None:
            lines.append(
                f"  floor {self.floor_seconds:.0f} s ({busiest.tier} tier, {shown(busiest.principal)}: "
                f"{busiest.requests} requests need {busiest.windows} windows); "
                f"estimate {self.estimate_seconds:.0f} s"
            )
        return lines

    def as_dict(self) -> dict[str, Any]:
        """The plan for ``report.json``."""
        return {
            "live": self.live,
            "window_seconds": WINDOW_SECONDS,
            "floor_seconds": round(self.floor_seconds, 1),
            "estimate_seconds": round(self.estimate_seconds, 1),
            "buckets": [
                {
                    "tier": bucket.tier,
                    "principal": bucket.principal,
                    "requests": bucket.requests,
                    "limit": bucket.limit,
                    "windows": bucket.windows,
                }
                for bucket in self.buckets
            ],
        }


def shown(principal: str) -> str:
    """A principal as the user reads it."""
    return SHOWN.get(principal, principal)


@cache
def measured_costs() -> dict[str, dict[str, dict[str, int]]]:
    """``costs.json``'s requests per check, tier and principal."""
    data: dict[str, Any] = json.loads(COSTS_FILE.read_text(encoding="utf-8"))
    checks: dict[str, dict[str, dict[str, int]]] = data["checks"]
    return checks


def plan_run(
    check_ids: Collection[str],
    contract: Contract,
    limits: Mapping[str, int],
    case_budgets: Mapping[str, int],
    *,
    live: bool,
    max_examples: int,
    users: Sequence[str] = ("primary",),
) -> RunPlan:
    """The plan of a run of ``check_ids`` (the contract group's included) against a target held to
    ``contract`` with ``limits`` per window; ``case_budgets`` per contract operation (empty: every
    operation sends ``max_examples``), a bearer operation's cases spread evenly over those of ``users``
    who may call it (``member`` only where the contract opens it to members); the member's login is
    the rate-limit plan's (free) when the ``ratelimit`` group runs, else one of the client's."""
    requests: dict[tuple[str, str], int] = {}

    def add(tier: str, principal: str, count: int) -> None:
        if tier in limits and count > 0:
            requests[(tier, principal)] = requests.get((tier, principal), 0) + count

    later: dict[tuple[str, str], int] = {}
    lane: dict[tuple[str, str], int] = {}
    first: set[tuple[str, str]] = set()  # the buckets the rate-limit plan sends in
    spares_free = any(check_id.startswith("ratelimit.") for check_id in check_ids)
    clean_ups = [CLEAN_UP, *([LEFTOVERS] if SCHEMATHESIS in check_ids else [])]
    for check_id, tier, principal, count in _check_costs([*check_ids, *clean_ups]):
        if principal == SPARE_LOGIN:
            if spares_free:
                continue
            principal = "client"
        add(tier, principal, count)
        if check_id.startswith("ratelimit."):
            first.add((tier, principal))
        else:
            later[(tier, principal)] = later.get((tier, principal), 0) + count
        if check_id.split(".")[0] in LANE_GROUPS:
            lane[(tier, principal)] = lane.get((tier, principal), 0) + count
    if SCHEMATHESIS in check_ids:
        for operation in contract.operations:
            count = case_budgets.get(operation.label, max_examples)
            if not operation.security:
                add(operation.tier, "client", count)
            elif "bearerAuth" in operation.security:
                callers = [user for user in users if user != MEMBER or operation.members_may_call]
                for _ in range(count):  # each case to the least loaded user, as the contract run does
                    user = min(callers, key=lambda name: requests.get((operation.tier, name), 0))
                    add(operation.tier, user, 1)
        if MEMBER in users and not spares_free and any(op.members_may_call for op in contract.operations):
            add("auth", "client", 1)
    order = {tier: index for index, tier in enumerate(limits)}
    buckets = [
        Bucket(tier, principal, count, limits[tier])
        for (tier, principal), count in sorted(
            requests.items(), key=lambda item: (order[item[0][0]], -item[1])
        )
    ]
    return RunPlan(live=live, buckets=buckets, later=later, lane=lane, ratelimit_buckets=frozenset(first))


def _check_costs(check_ids: Iterable[str]) -> Iterable[tuple[str, str, str, int]]:
    """(check, tier, principal, requests) of each of the checks the costs table knows (``clean-up``:
    what the run's close sends)."""
    costs = measured_costs()
    for check_id in sorted(set(check_ids)):
        if check_id == SCHEMATHESIS:
            continue  # counted from the contract and the case budgets
        for tier, principals in costs.get(check_id, {}).items():
            for principal, count in principals.items():
                yield check_id, tier, principal, count


def costs_table(sent: Mapping[str, Mapping[str, Mapping[str, int]]], command: str) -> dict[str, Any]:
    """``costs.json`` from a live run's ``report.json`` ``plan.sent``: API keys renamed ``key 1``,
    ``key 2``, ... in order of first use (a run's keys are its own), contract cases left out."""
    names: dict[str, str] = {}
    checks: dict[str, dict[str, dict[str, int]]] = {}
    for check_id in sorted(sent):
        if check_id == SCHEMATHESIS:
            continue
        for tier, principals in sent[check_id].items():
            for principal, count in principals.items():
                if count <= 0:
                    continue
                if principal.startswith("key "):
                    principal = names.setdefault(principal, f"key {len(names) + 1}")
                checks.setdefault(check_id, {}).setdefault(tier, {})[principal] = count
    return {"measured_with": command, "checks": checks}
