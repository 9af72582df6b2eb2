"""``load_plan.json``: which principals carried each tier of a conformance run, and at what rate.

Written by the Locust master (or the only Locust process) once its users are spawned, next to
``--json-file``; ``sergio-kit load`` reads it to check each tier's admitted total against the
contract (``sergio_kit.load.totals``). Only the master knows how Locust spread the tier users over
the workers, and so how many principals each tier had: a worker loads bearer tiers with account
``index % accounts``; the auth tier is bucketed by client address, one per host.
Plain Python (no locust import).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

PLAN_FILE = "load_plan.json"

# (worker index, host, {user class name: users}) for each Locust process that runs users.
Node = tuple[int, str, Mapping[str, int]]


def build_plan(
    nodes: Iterable[Node],
    *,
    tier_of_class: Mapping[str, str],
    accounts: int,
    rate_per_user: Callable[[str], float],
    limits: Mapping[str, int],
    duration: float,
    server_window: float,
) -> dict[str, object]:
    """The plan: per tier, the request rate of each principal (summed over its users), and the settings."""
    rates: dict[str, dict[object, float]] = {tier: {} for tier in tier_of_class.values()}
    auth_hosts: set[str] = set()
    hosts: list[str] = []
    for index, host, counts in nodes:
        hosts.append(host)
        for name, users in counts.items():
            tier = tier_of_class.get(name)
            if tier is None or users <= 0:
                continue
            principal: object = host if tier == "auth" else index % max(accounts, 1)
            rates[tier][principal] = rates[tier].get(principal, 0.0) + users * rate_per_user(tier)
            if tier == "auth":
                auth_hosts.add(host)
    return {
        "limits": dict(limits),
        "duration": duration,
        "server_window": server_window,
        "principal_rates": {tier: sorted(by_principal.values()) for tier, by_principal in rates.items()},
        # Worker processes on hosts without the auth user: their pool logins use another address.
        "workers": sum(1 for host in hosts if host not in auth_hosts),
        "written_at": time.time(),
    }


def write_plan(json_file: str, plan: Mapping[str, object]) -> None:
    """Write ``plan`` as ``load_plan.json`` in the folder of Locust's ``--json-file``."""
    Path(json_file).with_name(PLAN_FILE).write_text(json.dumps(plan, indent=2))
