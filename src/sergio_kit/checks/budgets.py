"""What a live run may spend where the target's quotas are small.

On the embedded server the test clock makes every window instant, so the checks send as many
generated examples as ``--max-examples`` asks. Against a live target every request of the auth tier
(10 per minute for the whole client), of webhook registration and of bulk (10 per minute per user)
costs real time, so in live mode the generated traffic there follows the tier: each contract operation
gets the cases that fit in its share of a window, and the checks that generate auth-tier requests
(bad logins, the refresh model, the refresh race) spend a fixed, small budget. ``--max-examples``
given by the user still wins for the contract cases.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sergio_kit.config import KitConfig
from sergio_kit.contract.document import Contract

#: The share of a window of a small tier the contract group's cases may take (the other checks need
#: the rest): a third.
CONTRACT_SHARE = 3


@dataclass(frozen=True)
class LiveBudget:
    """What the auth-tier-heavy checks spend in live mode."""

    bad_logins: int = 1  # auth.login.bad_input: known bad bodies sent (the likeliest crasher), none generated
    refresh_examples: int = 1  # refresh.property: Hypothesis runs of the refresh model
    refresh_steps: int = 1  # refresh.property: steps per run (each login or refresh spends the tier)
    racers: int = 2  # refresh.race: simultaneous refreshes of one token (two prove a double spend)
    race_rounds: int = 1  # refresh.race: rounds, each with a fresh family
    contract_walks: int = 1  # contract.stateful: runs of Schemathesis's state machine (no auth operations)
    contract_steps: int = 4  # contract.stateful: steps per run


LIVE = LiveBudget()


def live_budgets_apply(paced: bool, settings: KitConfig) -> bool:
    """Whether the live budgets are in force: the target has no test clock (its quotas are real, the
    run is ``paced``) and the user did not set ``max_examples`` (which then holds everywhere)."""
    return paced and "max_examples" not in settings.sources


def case_budgets(contract: Contract, limits: Mapping[str, int], max_examples: int) -> dict[str, int]:
    """The most contract cases each operation (``METHOD /path``) may send in live mode: for a tier whose
    quota is smaller than ``max_examples`` (auth, webhook registration, bulk), an equal share of a third
    of its window; otherwise ``max_examples`` (Schemathesis's coverage phase would send many more)."""
    by_tier: dict[str, int] = {}
    for operation in contract.operations:
        by_tier[operation.tier] = by_tier.get(operation.tier, 0) + 1
    budgets: dict[str, int] = {}
    for operation in contract.operations:
        limit = limits.get(operation.tier)
        if limit is None or limit >= max_examples:  # read, write: the default
            budgets[operation.label] = max_examples
            continue
        budgets[operation.label] = max(1, limit // (CONTRACT_SHARE * by_tier[operation.tier]))
    return budgets
