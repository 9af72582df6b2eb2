"""The kit's own checks (auth, refresh, apikey, transport, webhook, ...), one test per check id.

Each test records the ``basis`` of the rule it judged (the check's, or on a breach the broken rule's)
and the ``level`` the user set, as properties. A breach fails the test, or, when the verdict is a
warning (:mod:`sergio_kit.checks.verdict`), the test passes with ``verdict=warned`` and the
``finding``, which the results collector turns into a ``warned`` result.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from sergio_kit.checks.registry import CheckSpec, all_checks
from sergio_kit.checks.verdict import level_of, verdict
from sergio_kit.config import KitConfig
from sergio_kit.reports.findings import CheckFailed, CheckSkipped


def _params() -> list[object]:
    return [
        pytest.param(
            spec,
            id=spec.check_id,
            marks=[getattr(pytest.mark, spec.group), pytest.mark.sergio_check(spec.check_id)],
        )
        for spec in all_checks()
    ]


@pytest.mark.parametrize("spec", _params())
def test_check(
    spec: CheckSpec,
    sergio_config: KitConfig,
    request: pytest.FixtureRequest,
    record_property: Callable[[str, object], None],
    sergio_auth_lane: Any,
) -> None:
    """Run one registered check against the target; a missing capability is a skip with its reason,
    a breach of a recommended rule (or of a check whose level is ``warn``) a warning. In live mode the
    ``auth`` and ``refresh`` checks run in the auth lane: this test reports what the lane saw."""
    level = level_of(spec.check_id, sergio_config.check_levels)
    if level is not None:
        record_property("level", level)
    basis = spec.basis  # a breach names its own rule's basis when the check enforces rules of several
    try:
        if level == "ignore":
            source = sergio_config.sources.get("check_levels", "settings")
            pytest.skip(f"ignored: its level is 'ignore' ({source})")
        lane = sergio_auth_lane
        if lane is not None and lane.runs(spec.check_id):
            detail = lane.outcome(spec.check_id)
        else:
            if lane is not None and spec.group != "ratelimit":
                lane.start()  # the rate-limit plan is over: the lane runs beside this check
            detail = spec.run(request.getfixturevalue("sergio_check_context"))
        if detail:
            record_property("detail", detail)
    except CheckSkipped as reason:
        pytest.skip(str(reason))
    except CheckFailed as failure:
        basis = failure.basis or basis
        if verdict(basis, level) == "failed":
            raise
        record_property("verdict", "warned")
        record_property("finding", json.dumps(failure.finding.as_dict()))
    finally:
        record_property("basis", basis)  # the rule judged: the check's, or the broken one's
